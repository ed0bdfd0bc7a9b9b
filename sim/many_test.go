package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestManyCalls runs 300 calls at once through one record-routing proxy
// on a lossy network (thousands of events queued at a time), for a few
// seeds: every call ends once on both sides (or, its BYE lost, is hung up
// by the user), and then nothing is left in any node.
func TestManyCalls(t *testing.T) {
	t.Parallel()
	seeds := 5
	if *flagSeed != 0 || testing.Short() {
		seeds = 1
	}
	for i := range seeds {
		seed := uint64(i) + 1
		if *flagSeed != 0 {
			seed = *flagSeed
		}
		if err := manyCalls(seed, 300); err != nil {
			t.Fatalf("seed %d: %v\nreplay: go test ./sim -run '^TestManyCalls$' -seed %d", seed, err, seed)
		}
	}
}

// manyCalls runs n calls from n callers to n callees through a proxy,
// starting within a minute.
func manyCalls(seed uint64, n int) error {
	s := sim.New(seed, sim.WithTraceLimit(-1))
	proxy := sim.Must(s.AddProxy("proxy", "192.0.2.10:5060", proxycore.Config{Domains: []string{"example.com"}, RecordRoute: true,
		Router: func(m *message.Message) proxycore.Decision {
			user := m.RequestURI().User
			var k int
			if _, err := fmt.Sscanf(user, "callee%d", &k); err != nil || k >= n {
				return proxycore.Reply(404)
			}
			return proxycore.ProxyTo(proxycore.Target{URI: mustURI(fmt.Sprintf("sip:%s@10.1.%d.%d:5060", user, k/256, k%256))})
		}}))
	s.SetDefaultLink(lossy(s))
	r := s.Rand()
	var nodes []*sim.UANode
	for k := range n {
		caller := sim.Must(s.AddUA(fmt.Sprintf("caller%d", k), fmt.Sprintf("10.0.%d.%d:5060", k/256, k%256), ua.Config{}))
		callee := sim.Must(s.AddUA(fmt.Sprintf("callee%d", k), fmt.Sprintf("10.1.%d.%d:5060", k/256, k%256), ua.Config{}))
		callee.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		caller.HangupAfter(time.Duration(1000+r.IntN(20000)) * time.Millisecond)
		target := fmt.Sprintf("sip:callee%d@example.com", k)
		s.At(effects.Time(r.Int64N(int64(time.Minute))), func() {
			_, _ = caller.Call(target, ua.CallOptions{Dest: proxy.Peer(), Body: []byte(sdpOffer), Expires: giveUp})
		})
		nodes = append(nodes, caller, callee)
	}
	if err := s.Run(effects.Time(time.Minute + callPhase)); err != nil {
		return err
	}
	for _, u := range nodes {
		if err := wellFormed(u.Node, true); err != nil {
			return err
		}
		for _, c := range calls(u.Node) {
			if terminal(c.last().Kind) {
				continue
			}
			if _, ok := c.has(effects.CallAnswered); !ok {
				return fmt.Errorf("%s still holds %s", u.Name(), c)
			}
			if err := u.Hangup(c.id); err != nil { // its peer's BYE was lost
				return err
			}
		}
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		return err
	}
	if err := s.CheckQuiet(); err != nil {
		return err
	}
	for _, u := range nodes {
		if strings.HasPrefix(u.Name(), "caller") && len(calls(u.Node)) != 1 {
			return fmt.Errorf("%s placed %d calls", u.Name(), len(calls(u.Node)))
		}
	}
	return nil
}
