package proxycore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
)

const (
	instA = "urn:uuid:00000000-0000-1000-8000-00000000000a"
	instB = "urn:uuid:00000000-0000-1000-8000-00000000000b"
)

// gruuProxy makes a stateful proxy that is the registrar of example.com,
// assigning GRUUs, and routes by its bindings.
func gruuProxy(t *testing.T, n *network, name, addr string) (*node, *registrar.Memory) {
	t.Helper()
	mem, err := registrar.NewMemory(registrar.Config{
		Domains: []string{"example.com"}, Gen: ident.Seeded(43),
		GRUUKey: []byte("0123456789abcdef-gruu-key"),
	}, &location.Store{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := n.addProxy(name, addr, proxycore.Config{
		Domains: []string{"example.com"}, RecordRoute: true,
		Registrar: mem, Location: mem.Lookup,
	})
	return p, mem
}

// bobInstance places one of Bob's devices (AOR sip:bob@example.com) at
// addr, and registers it with its instance id, asking for GRUUs.
func bobInstance(t *testing.T, n *network, p *node, name, addr, instance string, seed uint64) (*node, uint64) {
	t.Helper()
	nd := n.place(name, addr)
	ap := nd.addr.Addr
	u, err := ua.New(ua.Config{Gen: ident.Seeded(seed), Host: ap.Addr().String(), Port: ap.Port(),
		Contact: mustURI(fmt.Sprintf("sip:bob@%s", ap)), AOR: mustURI("sip:bob@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	nd.ua = u
	var reg uint64
	nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		reg, out, err = u.Register(now, ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: p.addr,
			Expires: time.Hour, GRUU: true, Instance: instance}, out)
		return out, err
	})
	return nd, reg
}

// RFC 5627 §6.1: Bob registers two devices; a call to the pub-gruu of
// one reaches that one only, a call to the temp-gruu of the other that
// other; once the first unregisters, its pub-gruu gets 480; a temp-gruu
// the registrar never made gets 404.
func TestGRUURouting(t *testing.T) {
	n := newNetwork(t)
	p, _ := gruuProxy(t, n, "p", "192.0.2.10:5060")
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	bobA, regA := bobInstance(t, n, p, "bobA", "192.0.2.2:5060", instA, 2)
	bobB, regB := bobInstance(t, n, p, "bobB", "192.0.2.3:5060", instB, 3)
	n.run(2 * time.Second)
	pubA, okA := bobA.ua.GRUU()
	pubB, okB := bobB.ua.GRUU()
	if !okA || !okB {
		t.Fatalf("no GRUU: %v %v (%v)", okA, okB, n.log())
	}
	if pubB.String() != "sip:bob@example.com;gr="+instB {
		t.Fatalf("Bob B's GRUU %s: want his pub-gruu", pubB)
	}
	infoA, _ := bobA.ua.Registration(regA)
	if infoA.PubGRUU != pubA || infoA.TempGRUU.User != "" || infoA.TempGRUU.Scheme == 0 {
		t.Fatalf("Bob A's registration: %+v", infoA)
	}
	bobA.on = callee(200, time.Second)
	bobB.on = callee(200, time.Second)

	// The pub-gruu of B reaches B only, at his registered contact.
	n.wire = nil
	alice.on = hangupAfter(time.Second)
	alice.callTo(pubB.String(), p)
	n.run(8 * time.Second)
	if ev, ok := alice.last(effects.CallAnswered); !ok || ev.Msg.StatusCode() != 200 {
		t.Fatalf("call to B's pub-gruu not answered: %v", n.log())
	}
	for _, w := range n.wire {
		if w.to == "bobA" && w.msg.IsRequest() {
			t.Errorf("B's pub-gruu reached A: %s", w)
		}
	}
	if inv := firstTo(n, "bobB", "INVITE"); inv == nil || inv.RequestURI().String() != "sip:bob@192.0.2.3:5060" {
		t.Errorf("forwarded to B: %v", inv)
	}
	// B answered with his GRUU as Contact (§4.3): Alice's in-dialog
	// requests go to it.
	if ok := answeredFrom(n, "bobB", pubB.String()); !ok {
		t.Errorf("B's 200 does not carry his GRUU as Contact: %v", n.log())
	}

	// The temp-gruu of A reaches A only.
	n.wire = nil
	alice.events = nil
	alice.callTo(infoA.TempGRUU.String(), p)
	n.run(14 * time.Second)
	if _, ok := alice.last(effects.CallAnswered); !ok {
		t.Fatalf("call to A's temp-gruu not answered: %v", n.log())
	}
	if inv := firstTo(n, "bobA", "INVITE"); inv == nil || firstTo(n, "bobB", "INVITE") != nil {
		t.Errorf("A's temp-gruu: %v", n.log())
	}

	// B unregisters: his pub-gruu is valid but names no binding: 480.
	bobB.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return bobB.ua.Unregister(now, regB, out)
	})
	n.run(16 * time.Second)
	if _, ok := bobB.ua.GRUU(); ok {
		t.Error("B still uses his GRUU after unregistering")
	}
	n.wire = nil
	alice.events, alice.on = nil, nil
	alice.callTo(pubB.String(), p)
	n.run(18 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 480 {
		t.Errorf("call to B's pub-gruu once B left: %+v %v (%v)", ev, ok, n.log())
	}
	if firstTo(n, "bobA", "INVITE") != nil {
		t.Error("B's pub-gruu reached A once B left")
	}

	// A temp-gruu that does not open: 404.
	alice.events = nil
	alice.callTo("sip:example.com;gr="+strings.Repeat("A", 80), p)
	n.run(20 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 404 {
		t.Errorf("call to a forged temp-gruu: %+v %v", ev, ok)
	}
	bobA.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return bobA.ua.Unregister(now, regA, out)
	})
	n.quiesce()
}

func firstTo(n *network, to, method string) *message.Message {
	for _, w := range n.wire {
		if w.to == to && w.msg.IsRequest() && w.msg.Method() == method {
			return w.msg
		}
	}
	return nil
}

// answeredFrom reports whether from sent a 2xx to an INVITE whose Contact
// is contact.
func answeredFrom(n *network, from, contact string) bool {
	for _, w := range n.wire {
		if w.from != from || w.msg.IsRequest() || w.msg.StatusCode() != 200 || w.msg.CSeq().Method != "INVITE" {
			continue
		}
		c, ok, err := message.First[header.Contact](w.msg)
		return ok && err == nil && c.URI.String() == contact
	}
	return false
}

// TestGRUUAOR checks Proxy.AOR and Located for GRUUs (RFC 5627 §6.1), as
// the service runtime calls them: the AOR a GRUU names is looked up, and
// only the bindings of its instance are targets.
func TestGRUUAOR(t *testing.T) {
	n := newNetwork(t)
	p, mem := gruuProxy(t, n, "p", "192.0.2.10:5060")
	px := p.proxy
	keys := mem.GRUUs()
	aor := mustURI("sip:bob@example.com")
	tmpA, err := keys.Temporary(aor, instA, "call-a")
	if err != nil {
		t.Fatal(err)
	}
	bindings := []location.Binding{
		{AOR: aor, Contact: header.Contact{URI: mustURI("sip:bob@192.0.2.2")}, Q: 1000, Instance: instA, CallID: "call-a"},
		{AOR: aor, Contact: header.Contact{URI: mustURI("sip:bob@192.0.2.3")}, Q: 1000, Instance: instB, CallID: "call-b"},
		{AOR: aor, Contact: header.Contact{URI: mustURI("sip:bob@192.0.2.4")}, Q: 1000},
	}
	tests := []struct {
		name, ruri, aor string
		bindings        []location.Binding
		code            int
		targets         []string
	}{
		{"AOR: every binding", "sip:bob@example.com", "sip:bob@example.com", bindings, 0,
			[]string{"sip:bob@192.0.2.2", "sip:bob@192.0.2.3", "sip:bob@192.0.2.4"}},
		{"pub-gruu: its instance only", "sip:bob@example.com;gr=" + instB, "sip:bob@example.com", bindings, 0,
			[]string{"sip:bob@192.0.2.3"}},
		{"pub-gruu on our port", "sip:bob@example.com:5060;gr=" + instB, "sip:bob@example.com", bindings, 0,
			[]string{"sip:bob@192.0.2.3"}},
		{"temp-gruu: its instance only", tmpA.String(), "sip:bob@example.com", bindings, 0,
			[]string{"sip:bob@192.0.2.2"}},
		{"pub-gruu of an instance with no binding: 480", "sip:bob@example.com;gr=urn:uuid:00000000-0000-1000-8000-0000000000ff",
			"sip:bob@example.com", bindings, 480, nil},
		{"pub-gruu, no binding at all: 480", "sip:bob@example.com;gr=" + instA, "sip:bob@example.com", nil, 480, nil},
		{"temp-gruu whose instance registered with another Call-ID: 404", tmpA.String(), "sip:bob@example.com",
			[]location.Binding{{AOR: aor, Contact: header.Contact{URI: mustURI("sip:bob@192.0.2.2")}, Instance: instA, CallID: "call-a2"}}, 404, nil},
		{"forged temp-gruu: 404", "sip:example.com;gr=" + strings.Repeat("A", 80), "sip:example.com", nil, 404, nil},
		{"another domain's GRUU is not ours", "sip:bob@example.org;gr=" + instB, "sip:bob@example.org;gr=" + instB, nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ruri := mustURI(tc.ruri)
			if got := px.AOR(ruri).String(); got != tc.aor {
				t.Errorf("AOR %s, want %s", got, tc.aor)
			}
			d := px.Located(ruri, tc.bindings)
			if d.Code != tc.code {
				t.Fatalf("code %d %s, want %d", d.Code, d.Reason, tc.code)
			}
			var got []string
			for _, tg := range d.Targets {
				got = append(got, tg.URI.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.targets, " ") {
				t.Errorf("targets %v, want %v", got, tc.targets)
			}
		})
	}
}
