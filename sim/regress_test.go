package sim_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// Regressions: bugs of the cores the scenarios found, each reduced to a
// deterministic run.

// TestEarlyByeReleasesInvite: Bob's 180 reaches Alice but every one of his
// 2xx is lost; after 64·T1 without an ACK Bob ends the call with a BYE
// (RFC 3261 §13.3.1.4), which arrives in what is for Alice the early
// dialog, and ends her call. No final response will ever end her INVITE
// client transaction, which waits in Proceeding (§17.1.1.2 has no timer
// there): the UA must let it go with the call, not hold it for ever.
// (Found by TestTwoProxies, seed 3017.)
func TestEarlyByeReleasesInvite(t *testing.T) {
	s := sim.New(1)
	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
	bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
	s.Filter(func(r *sim.Record) bool { return r.Node == bob.Node && r.Summary() == "200 INVITE" })
	if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(s.Report(err))
	}
	if ev, ok := alice.Last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrRemoteBye) {
		t.Errorf("Alice's call: %+v", ev)
	}
	if ev, ok := bob.Last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrNoAck) {
		t.Errorf("Bob's call: %+v", ev)
	}
	if err := s.CheckQuiet(); err != nil {
		t.Fatal(s.Report(err))
	}
	if !strings.Contains(s.Trace(), "bob      send       -> alice    UDP BYE") {
		t.Errorf("no BYE from Bob:\n%s", s.Trace())
	}
}

// TestResolveKeepsPort: a proxy forwards to sip:bob@biloxi.example.com:5070,
// a host name with an explicit port. RFC 3263 §4.2: the client looks up
// the name's addresses (A, AAAA) and contacts each at the URI's port; the
// Resolve effect carries it (To.Addr's port, as drivers/loop hands it to
// drivers/dns). Bob listens on 5070 only; the name's records say 5060.
func TestResolveKeepsPort(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(map[bool]string{false: "stateful", true: "stateless"}[stateless], func(t *testing.T) {
			s := sim.New(1)
			alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
			bob := sim.Must(s.AddUA("bob", "192.0.2.2:5070", ua.Config{}))
			var proxy *sim.Node
			if stateless {
				proxy = sim.Must(s.AddStateless("proxy", "192.0.2.10:5060", proxycore.Config{})).Node
			} else {
				proxy = sim.Must(s.AddProxy("proxy", "192.0.2.10:5060", proxycore.Config{})).Node
			}
			s.SetDNS("biloxi.example.com", effects.Target{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP})
			bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
			alice.HangupAfter(time.Second)
			if _, err := alice.Call("sip:bob@biloxi.example.com:5070", ua.CallOptions{Dest: proxy.Peer(), Body: []byte(sdpOffer)}); err != nil {
				t.Fatal(err)
			}
			if err := s.RunUntilQuiet(time.Hour); err != nil {
				t.Fatal(s.Report(err))
			}
			if _, ok := alice.Last(effects.CallAnswered); !ok {
				t.Fatalf("the call did not reach Bob:\n%s", s.Trace())
			}
			if err := s.CheckQuiet(); err != nil {
				t.Fatal(s.Report(err))
			}
		})
	}
}

// TestTCP2xxRetransmitted: Bob answers over TCP, and the connection breaks
// while his 200 is in flight. RFC 3261 §13.3.1.4: the UAS core retransmits
// the 2xx, T1 doubling up to T2, until the ACK, "independent of whatever
// transport protocols are used to send the response" (a hop further on may
// be UDP; here, the connection that carried it broke). The next one goes
// on a new connection, Alice acknowledges it, and the call is established
// rather than torn down by Bob for want of an ACK. (Found by
// TestBasicCallTCP, seed 83.)
func TestTCP2xxRetransmitted(t *testing.T) {
	tcpResponseLost(t, ua.Config{}, sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)},
		1015*time.Millisecond, "200") // the 200 left at 1.01 s
}

// TestTCPReliable1xxRetransmitted: Bob sends his 183 reliably (RFC 3262)
// over TCP, and the connection breaks while it is in flight. RFC 3262 §3:
// the UAS core retransmits a reliable provisional response, the interval
// starting at T1 and doubling, until its PRACK, end to end as for a 2xx
// (RFC 3261 §13.3.1.4), whatever the transport: the next one goes on a new
// connection, Alice PRACKs it, and Bob's 2xx, held for that PRACK, goes;
// the call is established rather than failed by Bob with a 5xx after
// 64·T1. (Found reading ua/prack.go; TestPrackTCP checks the
// retransmissions.)
func TestTCPReliable1xxRetransmitted(t *testing.T) {
	tcpResponseLost(t, ua.Config{Reliable: true}, sim.Callee{Ring: 183, RingBody: []byte(sdpAnswer), After: time.Second, Answer: []byte(sdpAnswer)},
		15*time.Millisecond, "183") // the 183 left at 10 ms
}

// tcpResponseLost runs a call over TCP in which Alice's connection to Bob
// (Bob configured with cfg, answering as callee) breaks at breakAt, while
// Bob's response code is in flight: the response must be lost with the
// connection, retransmitted on a new one, and the call established, then
// ended by Alice's BYE, with nothing left.
func tcpResponseLost(t *testing.T, cfg ua.Config, callee sim.Callee, breakAt time.Duration, code string) {
	t.Helper()
	s := sim.New(1)
	alice := sim.Must(s.AddUA("alice", "TCP:192.0.2.1:5060", ua.Config{}))
	bob := sim.Must(s.AddUA("bob", "TCP:192.0.2.2:5060", cfg))
	bob.Answering(callee)
	alice.HangupAfter(time.Second)
	s.At(effects.Time(breakAt), func() {
		if err := s.BreakConn(alice.Node, bob.Node); err != nil {
			t.Error(err)
		}
	})
	if _, err := alice.Call("sip:bob@192.0.2.2;transport=tcp", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(s.Report(err))
	}
	if !strings.Contains(s.Trace(), "drop       <- bob      TCP "+code+" INVITE (connection closed)") {
		t.Fatalf("the %s was not lost with the connection:\n%s", code, s.Trace())
	}
	if _, ok := alice.Last(effects.CallAnswered); !ok {
		t.Errorf("the call was not established:\n%s", s.Trace())
	}
	if ev, ok := bob.Last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrRemoteBye) {
		t.Errorf("Bob's call ended so: %+v\n%s", ev, s.Trace())
	}
	if err := s.CheckQuiet(); err != nil {
		t.Fatal(s.Report(err))
	}
}

// TestRefresherWaitsForRefresh: a call with a 90 s session interval (RFC
// 4028), Alice the refresher. Her refresh at 45 s reaches Bob, who accepts
// it and restarts his session timer, but his 2xx are lost until 61.5 s,
// after the moment (60 s, the interval less min(32 s, a third of it)) at
// which the side that is not the refresher gives up (§10). The refresher
// waits for its refresh's outcome: the 2xx, or a timeout, 408 or 481,
// which end the session; it does not end the session Bob has just
// refreshed. (Found by TestSessionTimerRefresh, seed 13.)
func TestRefresherWaitsForRefresh(t *testing.T) {
	s := sim.New(1)
	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{SessionExpires: 90 * time.Second}))
	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{SessionExpires: 90 * time.Second}))
	bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
	s.Filter(func(r *sim.Record) bool {
		return r.Node == bob.Node && r.Summary() == "200 INVITE" && s.Now() > effects.Time(40*time.Second) && s.Now() < effects.Time(61*time.Second)
	})
	id, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)})
	if err != nil {
		t.Fatal(err)
	}
	s.At(effects.Time(70*time.Second), func() { _ = alice.Hangup(id) })
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(s.Report(err))
	}
	for _, u := range []*sim.UANode{alice, bob} {
		if ev, ok := u.Last(effects.CallEnded); !ok || ev.At != effects.Time(70*time.Second) && ev.At != effects.Time(70010*time.Millisecond) {
			t.Fatalf("%s's call ended at %v (%v), not by Alice's hang-up at 70 s:\n%s", u.Name(), time.Duration(ev.At), ev.Err, s.Trace())
		}
	}
	if !strings.Contains(s.Trace(), "61.530000s bob      send       -> alice    UDP 200 INVITE") {
		t.Fatalf("the refresh's 2xx did not come through at 61.53 s:\n%s", s.Trace())
	}
	if err := s.CheckQuiet(); err != nil {
		t.Fatal(s.Report(err))
	}
}
