package sim_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestTwoProxies runs RFC 3665 §3.2's call through two record-routing
// stateful proxies, for every seed, on a network that loses up to 30% of the
// datagrams, duplicates and reorders them: Alice (atlanta.example.com) sends
// her INVITE for sip:bob@biloxi.example.com to her proxy, atlanta; atlanta,
// not responsible for biloxi.example.com, resolves it (RFC 3263, the Sim's
// DNS) and forwards to biloxi, which routes it to Bob's contact. Both
// record-route (RFC 3261 §16.6 step 4). Bob rings and answers; then Alice
// or Bob (the seed decides) hangs up.
//
// Besides the outcome of any call (expect.check), the in-dialog requests
// must follow the route set (RFC 3261 §12.2.1.1, §16.12): every ACK for a
// 2xx and every BYE Alice sends goes to atlanta with Route: atlanta,
// biloxi; every one Bob sends goes to biloxi with Route: biloxi, atlanta;
// atlanta forwards Alice's to biloxi and biloxi to Bob, and back the other
// way; Alice and Bob never exchange a message directly.
func TestTwoProxies(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, twoProxies(tl))
}

// twoProxies is TestTwoProxies's scenario.
func twoProxies(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{AOR: mustURI("sip:alice@atlanta.example.com")}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{AOR: mustURI("sip:bob@biloxi.example.com")}))
		atlanta := sim.Must(s.AddProxy("atlanta", "192.0.2.10:5060", proxycore.Config{Domains: []string{"atlanta.example.com"}, RecordRoute: true}))
		biloxi := sim.Must(s.AddProxy("biloxi", "192.0.2.20:5060", proxycore.Config{Domains: []string{"biloxi.example.com"}, RecordRoute: true,
			Router: func(m *message.Message) proxycore.Decision {
				if m.RequestURI().User != "bob" {
					return proxycore.Reply(404)
				}
				return proxycore.ProxyTo(proxycore.Target{URI: mustURI("sip:bob@192.0.2.2:5060")})
			}}))
		s.SetDNSNode("biloxi.example.com", biloxi.Node)
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		hangup := alice
		if r.IntN(2) == 0 {
			hangup = bob
		}
		hangup.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := alice.Call("sip:bob@biloxi.example.com", ua.CallOptions{Dest: atlanta.Peer(), Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		if err := (expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}, proxied: true}).check(s, w); err != nil {
			return s, err
		}
		if err := routeSet(w, alice.Node, atlanta.Node, []*sim.Node{atlanta.Node, biloxi.Node}); err != nil {
			return s, err
		}
		if err := routeSet(w, bob.Node, biloxi.Node, []*sim.Node{biloxi.Node, atlanta.Node}); err != nil {
			return s, err
		}
		for _, r := range w.recs {
			if r.Node == alice.Node && r.Peer == bob.Node || r.Node == bob.Node && r.Peer == alice.Node {
				return s, fmt.Errorf("Alice and Bob talk directly: %s", r)
			}
		}
		// The proxies relay the in-dialog requests hop by hop.
		if err := relayed(w, atlanta.Node, alice.Node, biloxi.Node); err != nil {
			return s, err
		}
		return s, relayed(w, biloxi.Node, bob.Node, atlanta.Node)
	}
}

// routeSet checks that the in-dialog requests a UA sent (those with a To
// tag, but the ACKs of non-2xx responses, which are hop by hop and carry
// the INVITE's route) went to first with the route set route (RFC 3261
// §12.2.1.1: the Route header fields are the Record-Route values, in
// order for the callee and reversed for the caller, each a loose route to
// the proxy's address).
func routeSet(w *wire, u, first *sim.Node, route []*sim.Node) error {
	for _, r := range w.recs {
		if r.Node != u || r.Op != sim.OpSend && r.Op != sim.OpDrop {
			continue
		}
		m := parse(r)
		if !m.IsRequest() || m.ToTag() == "" || m.Method() == "CANCEL" || m.Method() == "ACK" && !ackFor2xx(w, u, m) {
			continue
		}
		if r.Addr != first.Addr() {
			return fmt.Errorf("%s sent %s to %v, not to %s", u.Name(), r.Summary(), r.Addr, first.Name())
		}
		routes, err := message.All[header.Route](m)
		if err != nil || len(routes) != len(route) {
			return fmt.Errorf("%s sent %s with routes %v (%v)", u.Name(), r.Summary(), routes, err)
		}
		for i, rt := range routes {
			a, ok := rt.URI.Addr()
			if !ok || netip.AddrPortFrom(a, rt.URI.Port) != route[i].Addr() || !rt.URI.Params.Has("lr") {
				return fmt.Errorf("%s sent %s with route %d %s, not %s's loose route", u.Name(), r.Summary(), i, rt.URI, route[i].Name())
			}
		}
	}
	return nil
}

// ackFor2xx reports whether an ACK acknowledges a 2xx: one arrived at u
// for the same dialog (To tag).
func ackFor2xx(w *wire, u *sim.Node, ack *message.Message) bool {
	for _, r := range w.find(sim.OpRecv, u, nil, "2") {
		if m := parse(r); m.CSeq().Method == "INVITE" && m.ToTag() == ack.ToTag() && m.CallID() == ack.CallID() {
			return true
		}
	}
	return false
}

// relayed checks that each in-dialog request (other than an ACK of a
// non-2xx, or a CANCEL) that proxy p received from one side it sent on to
// the other, and only there: from a to b and from b to a.
func relayed(w *wire, p, a, b *sim.Node) error {
	for _, r := range w.recs {
		if r.Node != p || r.Op != sim.OpSend && r.Op != sim.OpDrop {
			continue
		}
		m := parse(r)
		if !m.IsRequest() || m.ToTag() == "" || m.Method() == "CANCEL" {
			continue
		}
		if r.Peer != a && r.Peer != b {
			return fmt.Errorf("%s sent %s to %v", p.Name(), r.Summary(), r.Addr)
		}
	}
	return nil
}
