package dns

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/locate"
)

// fakeDNS answers questions from a table, on 127.0.0.1 over UDP and TCP.
type fakeDNS struct {
	t        *testing.T
	udp      net.PacketConn
	tcp      net.Listener
	records  map[string][]dnsmessage.Resource // "name TYPE"
	truncate map[string]bool                  // answer truncated over UDP
	mu       sync.Mutex
	asked    []string
	wg       sync.WaitGroup
}

func newFakeDNS(t *testing.T) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	if err != nil {
		pc.Close()
		t.Skipf("no TCP on the UDP port: %v", err)
	}
	f := &fakeDNS{t: t, udp: pc, tcp: ln, records: map[string][]dnsmessage.Resource{}, truncate: map[string]bool{}}
	f.wg.Add(2)
	go f.serveUDP()
	go f.serveTCP()
	t.Cleanup(func() { pc.Close(); ln.Close(); f.wg.Wait() })
	return f
}

func itoa(n int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[len("0.0.0.0:"):]
}

func (f *fakeDNS) addr() string { return f.udp.LocalAddr().String() }

func name(s string) dnsmessage.Name { return dnsmessage.MustNewName(s + ".") }

func (f *fakeDNS) add(n string, typ dnsmessage.Type, body dnsmessage.ResourceBody) {
	key := strings.ToLower(n) + " " + typ.String()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[key] = append(f.records[key], dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: name(n), Type: typ, Class: dnsmessage.ClassINET, TTL: 60},
		Body:   body,
	})
}

func naptrData(order, pref uint16, flags, service, replacement string) []byte {
	b := binary.BigEndian.AppendUint16(nil, order)
	b = binary.BigEndian.AppendUint16(b, pref)
	for _, s := range []string{flags, service, ""} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	for _, l := range strings.Split(replacement, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func (f *fakeDNS) answer(req []byte, udp bool) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(req); err != nil || len(m.Questions) != 1 {
		return nil
	}
	q := m.Questions[0]
	key := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".") + " " + q.Type.String()
	f.mu.Lock()
	f.asked = append(f.asked, key)
	recs, ok := f.records[key]
	truncated := f.truncate[key]
	f.mu.Unlock()
	resp := dnsmessage.Message{Header: dnsmessage.Header{ID: m.Header.ID, Response: true, Authoritative: true}, Questions: m.Questions}
	switch {
	case udp && truncated:
		resp.Header.Truncated = true
	case !ok:
		resp.Header.RCode = dnsmessage.RCodeNameError
	default:
		resp.Answers = recs
	}
	b, err := resp.Pack()
	if err != nil {
		f.t.Errorf("pack: %v", err)
	}
	return b
}

func (f *fakeDNS) serveUDP() {
	defer f.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := f.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if b := f.answer(buf[:n], true); b != nil {
			f.udp.WriteTo(b, from)
		}
	}
}

func (f *fakeDNS) serveTCP() {
	defer f.wg.Done()
	for {
		c, err := f.tcp.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		var l [2]byte
		if _, err := readFull(c, l[:]); err == nil {
			req := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := readFull(c, req); err == nil {
				b := f.answer(req, false)
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...))
			}
		}
		c.Close()
	}
}

func target(s string, tr effects.Transport, prio, weight uint16) effects.Target {
	return effects.Target{Addr: netip.MustParseAddrPort(s), Transport: tr, Priority: prio, Weight: weight}
}

var cmpAddr = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

// RFC 3263 §4.1 and §4.2 against a DNS server on loopback: NAPTR to SRV to
// A/AAAA; SRV alone for an explicit transport; A alone for an explicit
// port; no DNS for a numeric host; TCP when the UDP answer is truncated.
func TestResolve(t *testing.T) {
	f := newFakeDNS(t)
	f.add("example.com", typeNAPTR, &dnsmessage.UnknownResource{Type: typeNAPTR, Data: naptrData(50, 50, "s", "SIP+D2T", "_sip._tcp.example.com")})
	f.add("example.com", typeNAPTR, &dnsmessage.UnknownResource{Type: typeNAPTR, Data: naptrData(90, 50, "s", "SIP+D2U", "_sip._udp.example.com")})
	f.add("_sip._tcp.example.com", dnsmessage.TypeSRV, &dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: 5060, Target: name("tcp1.example.com")})
	f.add("_sip._udp.example.com", dnsmessage.TypeSRV, &dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: 5062, Target: name("udp1.example.com")})
	f.add("_sip._udp.example.com", dnsmessage.TypeSRV, &dnsmessage.SRVResource{Priority: 10, Weight: 1, Port: 5064, Target: name("udp2.example.com")})
	f.add("tcp1.example.com", dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 11}})
	f.add("udp1.example.com", dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 12}})
	f.add("udp1.example.com", dnsmessage.TypeAAAA, &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("::1").As16()})
	f.add("udp2.example.com", dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 13}})
	f.add("host.example.com", dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 14}})
	f.add("big.example.com", dnsmessage.TypeA, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 15}})
	f.mu.Lock()
	f.truncate["big.example.com A"] = true
	f.mu.Unlock()
	// No NAPTR for other.example.com: SRV for each transport (§4.1).
	f.add("_sip._tcp.other.example.com", dnsmessage.TypeSRV, &dnsmessage.SRVResource{Port: 5070, Target: name("host.example.com")})

	r, err := New(Config{Server: f.addr(), Timeout: time.Second, Supported: []effects.Transport{effects.UDP, effects.TCP}, Rand: func(n uint32) uint32 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		host      string
		service   string
		transport effects.Transport
		port      uint16
		want      []effects.Target
	}{
		{"§4.1 NAPTR then SRV then A/AAAA, NAPTR order kept", "example.com", "sip", 0, 0, []effects.Target{
			target("127.0.0.11:5060", effects.TCP, 0, 1),
			target("127.0.0.12:5062", effects.UDP, 0, 1),
			target("[::1]:5062", effects.UDP, 0, 1),
			target("127.0.0.13:5064", effects.UDP, 10, 1),
		}},
		{"§4.1 transport given: its SRV only", "example.com", "sip", effects.UDP, 0, []effects.Target{
			target("127.0.0.12:5062", effects.UDP, 0, 1),
			target("[::1]:5062", effects.UDP, 0, 1),
			target("127.0.0.13:5064", effects.UDP, 10, 1),
		}},
		{"§4.2 port given: A/AAAA only", "host.example.com", "sip", 0, 5080, []effects.Target{target("127.0.0.14:5080", effects.UDP, 0, 0)}},
		{"§4.2 numeric host: no lookup", "127.0.0.99", "sip", effects.TCP, 5099, []effects.Target{target("127.0.0.99:5099", effects.TCP, 0, 0)}},
		{"§4.1 no NAPTR: SRV per transport", "other.example.com", "sip", 0, 0, []effects.Target{target("127.0.0.14:5070", effects.TCP, 0, 0)}},
		{"§4.2 no SRV: A with the default port", "host.example.com", "sip", 0, 0, []effects.Target{target("127.0.0.14:5060", effects.UDP, 0, 0)}},
		{"truncated over UDP: asked again over TCP", "big.example.com", "sip", 0, 5060, []effects.Target{target("127.0.0.15:5060", effects.UDP, 0, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve(context.Background(), tc.host, tc.service, tc.transport, tc.port)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpAddr); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := r.Resolve(context.Background(), "nowhere.example.com", "sip", 0, 0); err == nil {
		t.Error("a name with no records resolved")
	}
}

func TestParseNAPTR(t *testing.T) {
	rec, err := ParseNAPTR(naptrData(10, 20, "S", "SIPS+D2T", "_sips._tcp.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	want := locate.NAPTRRecord{Order: 10, Preference: 20, Flags: "S", Service: "SIPS+D2T", Replacement: "_sips._tcp.example.com"}
	if rec != want {
		t.Errorf("got %+v", rec)
	}
	for _, bad := range [][]byte{nil, {0, 1}, {0, 1, 0, 2, 5, 'a'}, {0, 1, 0, 2, 0, 0, 0, 3, 'a', 'b'}} {
		if _, err := ParseNAPTR(bad); err == nil {
			t.Errorf("parsed %v", bad)
		}
	}
}

func FuzzParseNAPTR(f *testing.F) {
	f.Add(naptrData(10, 20, "s", "SIP+D2U", "_sip._udp.example.com"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseNAPTR(data)
	})
}

func TestSystemServer(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/resolv.conf"
	if err := os.WriteFile(path, []byte("# comment\nsearch example.com\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := systemServer(path)
	if err != nil || got != "192.0.2.53:53" {
		t.Errorf("got %q, %v", got, err)
	}
}
