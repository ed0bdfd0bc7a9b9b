package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/stun"
	"github.com/sansip/sansip/ua"
)

// TestOutboundSTUN: Bob's phone registers with RFC 5626 outbound over UDP
// through the proxy that is example.com's registrar; its keep-alives are
// STUN Binding requests (§4.4.2), which the proxy's "driver" answers as
// drivers/transport does (§8). Half of the seeds run on a lossy network,
// half of them cut the phone off for 80 s to 200 s (longer than a
// keep-alive interval plus the 39.5 s STUN transaction).
//
//	| rule                                                          | RFC                       |
//	|---------------------------------------------------------------|---------------------------|
//	| the proxy answers every Binding request that reaches it with   | RFC 5626 §8, RFC 5389     |
//	| the phone's address in XOR-MAPPED-ADDRESS                      | §15.2                     |
//	| on a clean network the flow never fails, and the phone knows    | §4.4.2                    |
//	| its address as the proxy sees it                               |                           |
//	| a cut-off phone notices that its flow failed, during the cut   | §4.4.2 (no response)      |
//	| or within 40 s of its end, and registers again after the cut   | §4.5                      |
//	| after any flow failure the phone registers again               | §4.5                      |
//
// and once the phone unregisters no node holds a timer or registration.
func TestOutboundSTUN(t *testing.T) {
	t.Parallel()
	forSeedsN(t, 100, outboundSTUN(nil))
}

func outboundSTUN(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		proxy := sim.Must(s.AddRegistrarProxy("proxy", "192.0.2.10:5060", proxycore.Config{},
			registrar.Config{Domains: []string{"example.com"}}, nil))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{AOR: mustURI("sip:bob@example.com")}))
		rnd := s.Rand()
		lossless := rnd.IntN(2) == 0
		if !lossless {
			s.SetDefaultLink(lossy(s))
		}
		var cutFrom, cutUntil effects.Time
		if rnd.IntN(2) == 0 {
			cutFrom = effects.Time(time.Duration(100+rnd.IntN(300)) * time.Second)
			cutUntil = cutFrom.Add(time.Duration(80+rnd.IntN(121)) * time.Second)
			s.Partition([]*sim.Node{bob.Node}, []*sim.Node{proxy.Node}, cutFrom, cutUntil)
		}
		requests, answers := 0, 0
		var bad error
		s.Observe(func(r *sim.Record) {
			if r.Op != sim.OpSend || !stun.IsSTUN(r.Data) {
				return
			}
			m, err := stun.Parse(r.Data)
			switch {
			case err != nil:
				bad = fmt.Errorf("%s sent bad STUN: %v", r.Node.Name(), err)
			case r.Node == bob.Node && m.Type == stun.BindingRequest:
				requests++
			case r.Node == proxy.Node && m.Type == stun.BindingSuccess:
				answers++
				if a, err := m.XORMappedAddress(); err != nil || a != bob.Addr() {
					bad = fmt.Errorf("the proxy reported %v, %v", a, err)
				}
			default:
				bad = fmt.Errorf("%s sent a STUN %v", r.Node.Name(), m.Type)
			}
		})
		id, err := bob.Register(ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: proxy.Peer(), Expires: 10 * time.Minute,
			Outbound: &ua.OutboundOptions{Instance: "urn:uuid:00000000-0000-1000-8000-000a95a0e128", RegID: 1}})
		if err != nil {
			return s, err
		}
		end := effects.Time(20 * time.Minute)
		if err := s.Run(end); err != nil {
			return s, err
		}
		if bad != nil {
			return s, bad
		}
		if requests == 0 || answers == 0 {
			return s, fmt.Errorf("%d Binding requests, %d answers", requests, answers)
		}
		var failures, registered []effects.Time
		for _, ev := range bob.Events() {
			switch ev.Kind {
			case effects.RegistrationFlowFailed:
				failures = append(failures, ev.At)
			case effects.Registered:
				registered = append(registered, ev.At)
			}
		}
		after := func(t effects.Time) bool {
			for _, r := range registered {
				if r > t {
					return true
				}
			}
			return false
		}
		for _, f := range failures {
			if f < end.Add(-5*time.Minute) && !after(f) {
				return s, fmt.Errorf("the flow failed at %v and the phone never registered again", time.Duration(f))
			}
		}
		info, _ := bob.UA.Registration(id)
		switch {
		case cutFrom != 0:
			tl.add("cut off")
			noticed := false
			for _, f := range failures {
				noticed = noticed || f >= cutFrom && f <= cutUntil.Add(40*time.Second)
			}
			if !noticed {
				return s, fmt.Errorf("cut off from %v to %v, flow failures at %v", time.Duration(cutFrom), time.Duration(cutUntil), failures)
			}
			if !after(cutUntil) {
				return s, fmt.Errorf("not registered again after the cut")
			}
		case lossless:
			tl.add("clean")
			if len(failures) > 0 || !info.FlowUp || info.Mapped != bob.Addr() {
				return s, fmt.Errorf("flow failures at %v, info %+v", failures, info)
			}
		default:
			tl.add(fmt.Sprintf("lossy, %d flow failures", min(len(failures), 1)))
		}
		if err := bob.Unregister(id); err != nil {
			return s, err
		}
		if err := s.RunUntilQuiet(time.Hour); err != nil {
			return s, err
		}
		if bob.UA.Registrations() != 0 || bob.Timers() != 0 {
			return s, fmt.Errorf("the phone holds %d registrations, %d timers", bob.UA.Registrations(), bob.Timers())
		}
		return s, nil
	}
}
