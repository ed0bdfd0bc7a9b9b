package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// TestB2BUANode runs calls from Alice to Bob through a B2BUA whose two legs
// are two UAs at two addresses (RFC 7092 §3.1's signalling-only B2BUA), on
// a lossy network, for a third of the seeds (the B2BUA's own scenarios come
// later): the node routes each UA's
// messages, timers and events to the right leg and the legs' events to the
// B2BUA. The call comes out as any call through a middle element does
// (expect.check), Bob's INVITE comes from the outside leg's address, and
// nothing is left in the B2BUA or its UAs.
func TestB2BUANode(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeedsN(t, *flagSeeds/3, func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		b2b := sim.Must(s.AddB2BUA("b2bua", "192.0.2.10:5060", "192.0.2.11:5060", ua.Config{}, ua.Config{}, b2bua.Config{
			Route: func(*ua.UA, effects.Event) b2bua.Decision {
				return b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: bob.Peer()}}
			}}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := alice.Call("sip:bob@192.0.2.10", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		if err := (expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}, proxied: true}).check(s, w); err != nil {
			return s, err
		}
		for _, r := range w.find(sim.OpRecv, bob.Node, nil, "INVITE") {
			if r.Addr != b2b.Addrs()[1] {
				return s, fmt.Errorf("Bob's INVITE came from %v", r.Addr)
			}
		}
		reached := func(n *sim.Node) bool { return len(w.find(sim.OpRecv, n, nil, "INVITE")) > 0 }
		if reached(b2b.Node) && len(b2b.LegEvents(b2b.Inside)) == 0 || reached(bob.Node) && len(b2b.LegEvents(b2b.Outside)) == 0 {
			return s, fmt.Errorf("leg events: %d inside, %d outside", len(b2b.LegEvents(b2b.Inside)), len(b2b.LegEvents(b2b.Outside)))
		}
		return s, nil
	})
}

// TestB2BUAConnect: without a Route, the B2BUA asks the application
// (BridgeRoute), which answers with Connect; a B2BUA with one UA serves
// both sides.
func TestB2BUAConnect(t *testing.T) {
	s := sim.New(1)
	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
	b2b := sim.Must(s.AddB2BUA("b2bua", "192.0.2.10:5060", "", ua.Config{}, ua.Config{}, b2bua.Config{}))
	b2b.On(func(ev effects.Event) {
		if ev.Kind == effects.BridgeRoute {
			id := ev.ID
			s.After(100*time.Millisecond, func() {
				if err := b2b.Connect(id, b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: bob.Peer()}}); err != nil {
					t.Error(err)
				}
			})
		}
	})
	bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
	alice.HangupAfter(2 * time.Second)
	if _, err := alice.Call("sip:bob@192.0.2.10", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(s.Report(err))
	}
	if b2b.Count(effects.BridgeAnswered) != 1 || b2b.Count(effects.BridgeEnded) != 1 || bob.Count(effects.CallEnded) != 1 {
		t.Errorf("events:\n%s", s.Trace())
	}
	if b2b.Inside != b2b.Outside {
		t.Error("one UA expected")
	}
	if err := s.CheckQuiet(); err != nil {
		t.Fatal(s.Report(err))
	}
}

// TestStatelessNode runs calls through a stateless proxy (RFC 3261 §16.11)
// on a lossy network, for a third of the seeds: it adds nothing to wait for, so the call comes out as
// a direct one does (expect.check), and it holds nothing after.
func TestStatelessNode(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeedsN(t, *flagSeeds/3, func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		sl := sim.Must(s.AddStateless("sl", "192.0.2.10:5060", proxycore.Config{}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Dest: sl.Peer(), Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		return s, expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}}.check(s, w)
	})
}
