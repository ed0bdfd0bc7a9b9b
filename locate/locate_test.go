package locate

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/uri"
)

func mustURI(t *testing.T, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPlanFor(t *testing.T) {
	all := []effects.Transport{effects.UDP, effects.TCP, effects.TLS, effects.WS}
	tests := []struct {
		name, uri string
		want      Plan
		first     Lookup
		err       error
	}{
		{"§4.1: a name alone: NAPTR decides", "sip:biloxi.example.com", Plan{Host: "biloxi.example.com"}, NAPTR, nil},
		{"§4.1: transport parameter: SRV for it", "sip:biloxi.example.com;transport=tcp", Plan{Host: "biloxi.example.com", Transport: effects.TCP}, SRV, nil},
		{"§4.1: sips with transport=tcp is TLS", "sips:biloxi.example.com;transport=tcp", Plan{Host: "biloxi.example.com", Transport: effects.TLS, Secure: true}, SRV, nil},
		{"§4.2: explicit port: A/AAAA over UDP", "sip:biloxi.example.com:5070", Plan{Host: "biloxi.example.com", Port: 5070, Transport: effects.UDP}, Addr, nil},
		{"§4.2: explicit port, sips: TLS", "sips:biloxi.example.com:5071", Plan{Host: "biloxi.example.com", Port: 5071, Transport: effects.TLS, Secure: true}, Addr, nil},
		{"§4.2: numeric host: no lookup, default port", "sip:192.0.2.4", Plan{Host: "192.0.2.4", Port: 5060, Transport: effects.UDP,
			Direct: []effects.Target{{Addr: netip.MustParseAddrPort("192.0.2.4:5060"), Transport: effects.UDP}}}, None, nil},
		{"§4.2: numeric IPv6 host with transport", "sip:[2001:db8::1]:5080;transport=tcp", Plan{Host: "2001:db8::1", Port: 5080, Transport: effects.TCP,
			Direct: []effects.Target{{Addr: netip.MustParseAddrPort("[2001:db8::1]:5080"), Transport: effects.TCP}}}, None, nil},
		{"§4.1: numeric sips host: TLS on 5061", "sips:192.0.2.4", Plan{Host: "192.0.2.4", Port: 5061, Transport: effects.TLS, Secure: true,
			Direct: []effects.Target{{Addr: netip.MustParseAddrPort("192.0.2.4:5061"), Transport: effects.TLS}}}, None, nil},
		{"§4: maddr replaces the host", "sip:bob@biloxi.example.com;maddr=192.0.2.9", Plan{Host: "192.0.2.9", Port: 5060, Transport: effects.UDP,
			Direct: []effects.Target{{Addr: netip.MustParseAddrPort("192.0.2.9:5060"), Transport: effects.UDP}}}, None, nil},
		{"unsupported transport", "sip:biloxi.example.com;transport=sctp", Plan{}, 0, ErrNoTransport},
		{"unknown transport", "sip:biloxi.example.com;transport=carrier-pigeon", Plan{}, 0, ErrNoTransport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlanFor(mustURI(t, tc.uri), all)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if got.First() != tc.first {
				t.Errorf("first lookup %v, want %v", got.First(), tc.first)
			}
		})
	}
	if _, err := PlanFor(mustURI(t, "sips:biloxi.example.com:5061"), []effects.Transport{effects.UDP}); !errors.Is(err, ErrNoTransport) {
		t.Errorf("sips without TLS: %v", err)
	}
	if _, err := PlanFor(mustURI(t, "tel:+15551234"), nil); err == nil {
		t.Error("a tel URI was planned")
	}
}

// RFC 3263 §4.1: NAPTR records in order then preference, only "s"
// records of supported services, only secure ones for sips; the RFC's
// example (§4.1) gives TCP before UDP when it ranks them so.
func TestSRVQueries(t *testing.T) {
	recs := []NAPTRRecord{
		{Order: 90, Preference: 50, Flags: "s", Service: "SIP+D2T", Replacement: "_sip._tcp.example.com."},
		{Order: 100, Preference: 50, Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.example.com."},
		{Order: 50, Preference: 50, Flags: "s", Service: "SIPS+D2T", Replacement: "_sips._tcp.example.com."},
		{Order: 50, Preference: 10, Flags: "u", Service: "SIP+D2U", Replacement: "ignored.example.com."},
		{Order: 60, Preference: 10, Flags: "s", Service: "SIP+D2S", Replacement: "_sip._sctp.example.com."},
	}
	p := Plan{Host: "example.com"}
	got := SRVQueries(p, recs, []effects.Transport{effects.UDP, effects.TCP, effects.TLS})
	want := []SRVQuery{
		{"_sips._tcp.example.com", effects.TLS},
		{"_sip._tcp.example.com", effects.TCP},
		{"_sip._udp.example.com", effects.UDP},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	p.Secure = true
	if got := SRVQueries(p, recs, nil); len(got) != 1 || got[0].Transport != effects.TLS {
		t.Errorf("sips: %v", got)
	}
	// No NAPTR: every supported transport's SRV name (§4.1).
	got = SRVQueries(Plan{Host: "example.com"}, nil, []effects.Transport{effects.UDP, effects.TCP})
	want = []SRVQuery{{"_sip._udp.example.com", effects.UDP}, {"_sip._tcp.example.com", effects.TCP}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fallback (-want +got):\n%s", diff)
	}
}

// RFC 2782: priority first; within a priority the running-sum choice with
// a uniform number in [0, sum]; "." means no service.
func TestOrderSRV(t *testing.T) {
	recs := []SRVRecord{
		{Target: "b.example.com", Port: 5060, Priority: 10, Weight: 60},
		{Target: "c.example.com", Port: 5060, Priority: 20, Weight: 0},
		{Target: "a.example.com", Port: 5060, Priority: 10, Weight: 20},
		{Target: ".", Port: 0, Priority: 5, Weight: 0},
		{Target: "z.example.com", Port: 5060, Priority: 10, Weight: 0},
	}
	names := func(rs []SRVRecord) []string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Target)
		}
		return s
	}
	tests := []struct {
		picks []uint32
		want  []string
	}{
		// sum 80, z (weight 0) sorted first: pick 0 takes z.
		{[]uint32{0, 0, 0}, []string{"z.example.com", "b.example.com", "a.example.com", "c.example.com"}},
		// pick 61..80 passes b (60) and takes a; then sum 60: pick 1 takes b.
		{[]uint32{70, 1, 0}, []string{"a.example.com", "b.example.com", "z.example.com", "c.example.com"}},
		// pick 1..60 takes b; then a with pick 20 (z is passed: run 0 < 20).
		{[]uint32{30, 20, 0}, []string{"b.example.com", "a.example.com", "z.example.com", "c.example.com"}},
	}
	for _, tc := range tests {
		i := 0
		rnd := func(n uint32) uint32 {
			v := tc.picks[i%len(tc.picks)] % n
			i++
			return v
		}
		if diff := cmp.Diff(tc.want, names(OrderSRV(recs, rnd))); diff != "" {
			t.Errorf("picks %v (-want +got):\n%s", tc.picks, diff)
		}
	}
}

// For any targets and any random source, Order returns a permutation with
// non-decreasing priority.
func TestPropOrder(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(2)
	params.MinSuccessfulTests = 500
	properties := gopter.NewProperties(params)
	properties.Property("permutation by priority", prop.ForAll(
		func(prios, weights []uint8, seed uint32) bool {
			n := min(len(prios), len(weights))
			ts := make([]effects.Target, n)
			for i := range n {
				ts[i] = effects.Target{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 5060),
					Transport: effects.UDP, Priority: uint16(prios[i] % 4), Weight: uint16(weights[i] % 5)}
			}
			x := seed
			rnd := func(n uint32) uint32 { x = x*1664525 + 1013904223; return x % n }
			got := Order(ts, rnd)
			if len(got) != n {
				return false
			}
			for i := 1; i < n; i++ {
				if got[i].Priority < got[i-1].Priority {
					return false
				}
			}
			for _, t := range ts {
				if !slices.Contains(got, t) {
					return false
				}
			}
			return true
		},
		gen.SliceOf(gen.UInt8()), gen.SliceOf(gen.UInt8()), gen.UInt32(),
	))
	properties.TestingRun(t)
}
