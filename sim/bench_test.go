package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// BenchmarkBasicCall measures simulated calls per wall-clock second: each
// iteration builds a Sim, runs one whole call of TestBasicCall between two
// UA cores (INVITE to BYE, every retransmission and timer, until the
// network is quiet) and checks it. "perfect" is a network that loses
// nothing; "lossy" draws each seed's network as the scenario does (loss up
// to 30%, duplication, jitter).
//
//	go test ./sim -run '^$' -bench BasicCall
func BenchmarkBasicCall(b *testing.B) {
	b.Run("perfect", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s := sim.New(uint64(i) + 1)
			alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
			bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
			bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: []byte(sdpAnswer)})
			alice.HangupAfter(5 * time.Second)
			if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)}); err != nil {
				b.Fatal(err)
			}
			if err := s.RunUntilQuiet(time.Hour); err != nil {
				b.Fatal(err)
			}
			if alice.Count(effects.CallEnded) != 1 {
				b.Fatal(s.Report(nil))
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
	b.Run("lossy", func(b *testing.B) {
		b.ReportAllocs()
		run := basicCall(nil)
		for i := 0; b.Loop(); i++ {
			if s, err := run(uint64(i) + 1); err != nil {
				b.Fatal(s.Report(err))
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

// BenchmarkManyCalls measures one Sim carrying many calls at once: n UAs
// call n others through a stateful proxy, the calls starting within a
// minute, on a lossy network; the queue holds thousands of events.
func BenchmarkManyCalls(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := manyCalls(uint64(i)+1, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
