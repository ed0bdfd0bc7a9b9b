package sim_test

import (
	"testing"
	"time"

	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// scenarios are the scenarios of this part, for the tests that run them
// all.
var scenarios = []struct {
	name string
	run  func(tally) scenario
}{
	{"basic", basicCall},
	{"basic over TCP", basicCallTCP},
	{"two proxies", twoProxies},
	{"parallel forking", parallelForking},
	{"serial forking", serialForking},
	{"register", registerScenario},
	{"subscribe", subscribeScenario},
	{"transfer", transferScenario},
	{"b2bua", b2buaScenario},
	{"CANCEL crossing a 200", cancelRace},
	{"CANCEL crossing a 200, proxied", cancelRaceProxied},
	{"re-INVITE glare", reinviteGlare},
	{"lost ACK", lostAck},
	{"PRACK", prackUDP},
	{"PRACK over TCP", prackTCP},
	{"session timer refreshed", sessionTimerRefresh},
	{"session timer expired", sessionTimerExpiry},
	{"programmable server", dispatchLossy},
	{"outbound with STUN keep-alives", outboundSTUN},
}

// TestDeterminism: the same seed gives the same run, message for message
// and timer for timer (the same Digest, the same trace), though each run
// builds its cores anew and Go randomises map iteration; different seeds
// give different runs.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			seen := map[uint64]uint64{}
			for seed := uint64(1); seed <= 20; seed++ {
				a, errA := sc.run(nil)(seed)
				b, errB := sc.run(nil)(seed)
				if errA != nil || errB != nil {
					t.Fatalf("seed %d: %v, %v", seed, errA, errB)
				}
				if a.Digest() != b.Digest() || a.Trace() != b.Trace() {
					t.Fatalf("seed %d ran two ways:\n%s\n----\n%s", seed, a.TraceAll(), b.TraceAll())
				}
				if other, dup := seen[a.Digest()]; dup {
					t.Errorf("seeds %d and %d ran the same way", other, seed)
				}
				seen[a.Digest()] = seed
			}
		})
	}
}

// TestRunsStopAndGo: running in steps (Run to intermediate times) gives the
// same run as running at once: the clock and queue do not depend on how
// the run is cut.
func TestRunsStopAndGo(t *testing.T) {
	build := func() (*sim.Sim, *sim.UANode) {
		s := sim.New(42)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		s.SetDefaultLink(sim.Link{Loss: 0.2, Dup: 0.1, Jitter: 30 * time.Millisecond})
		bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(3 * time.Second)
		return s, alice
	}
	s1, a1 := build()
	s2, a2 := build()
	for _, a := range []*sim.UANode{a1, a2} {
		if _, err := a.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s1.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	for s2.Pending() > 0 {
		if err := s2.RunFor(137 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if s1.Digest() != s2.Digest() {
		t.Errorf("stepped run differs:\n%s\n----\n%s", s1.Trace(), s2.Trace())
	}
}
