package sim_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// A call between two UA cores on a perfect network (10 ms each way): Bob
// rings at once and answers a second later; Alice hangs up two seconds
// after the answer. The network then falls quiet, with nothing left in
// either core.
func Example() {
	s := sim.New(1)
	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
	bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
	alice.HangupAfter(2 * time.Second)
	if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range s.Records() {
		if r.Op == sim.OpSend {
			fmt.Printf("%-6v %s -> %s %s\n", time.Duration(r.At), r.Node.Name(), r.Peer.Name(), r.Summary())
		}
	}
	ended, _ := alice.Last(effects.CallEnded)
	fmt.Println("Alice's call ended:", ended.Err)
	fmt.Println("quiet at", time.Duration(s.Now()), s.CheckQuiet())
	// Output:
	// 0s     alice -> bob INVITE sip:bob@192.0.2.2
	// 10ms   bob -> alice 180 INVITE
	// 1.01s  bob -> alice 200 INVITE
	// 1.02s  alice -> bob ACK sip:bob@192.0.2.2:5060
	// 3.02s  alice -> bob BYE sip:bob@192.0.2.2:5060
	// 3.03s  bob -> alice 200 BYE
	// Alice's call ended: ua: hung up here
	// quiet at 35.03s <nil>
}

// The same seed runs the same way, whatever the network does: a lossy,
// duplicating, reordering link is drawn from the seed's PRNG like
// everything else.
func Example_replay() {
	run := func(seed uint64) uint64 {
		s := sim.New(seed)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		s.SetDefaultLink(sim.Link{Loss: 0.3, Dup: 0.1, Delay: 20 * time.Millisecond, Jitter: 30 * time.Millisecond})
		bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(2 * time.Second)
		_, _ = alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)})
		_ = s.RunUntilQuiet(time.Hour)
		return s.Digest()
	}
	fmt.Println(run(7) == run(7), run(7) == run(8))
	// Output:
	// true false
}
