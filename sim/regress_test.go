package sim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
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
