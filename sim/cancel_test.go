package sim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestCancelRace: Alice calls Bob, who rings at once and answers 0.3 to 3 s
// later; Alice hangs up at a moment the seed draws within 100 ms a hop of
// Bob's answer, so that her CANCEL and his 200 cross on the wire (RFC 3261 §9.1,
// §9.2, §15; the race RFC 5407 describes), on a network that loses up to
// 30% of the datagrams, duplicates and reorders them. Whatever the network
// did, one of these, never both:
//
//   - the CANCEL wins (§9.2): Bob answers it 200, the INVITE 487, and ends
//     his call cancelled; Alice's call fails with 487, when the 487 arrives
//     or 64·T1 after her CANCEL without it (§9.1);
//   - the 200 wins: the CANCEL has no effect on the INVITE (§9.2: Bob
//     answers it 200, or 481 once the INVITE transaction is gone); Alice
//     acknowledges the 2xx (§13.2.2.4) and tears the call down with a BYE
//     (§15), at once when she had already hung up;
//
// or, as for any call (expect.check), no response at all before Timer B
// (408), or every 2xx lost and Bob's BYE for want of an ACK (§13.3.1.4).
// Besides: Bob never sends both a 2xx and a 487 for the INVITE, Alice never
// receives both, and her first CANCEL leaves after her hang-up, after a
// provisional response (§9.1) and before any final response.
func TestCancelRace(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, cancelRace(tl))
}

// TestCancelRaceProxied is TestCancelRace through a record-routing
// stateful proxy: the proxy answers Alice's CANCEL 200 itself and cancels
// Bob's branch once it had a provisional response from it (§16.10, §9.1);
// its 487 (§16.7 step 6, §16.10) or Bob's relayed one fails Alice's call,
// unless Bob's 2xx, which the proxy always forwards (§16.7 step 5), won.
// The call may also fail with 408 when the branch timed out (§16.8).
func TestCancelRaceProxied(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, cancelRaceProxied(tl))
}

func cancelRace(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) { return runCancelRace(seed, tl, false) }
}

func cancelRaceProxied(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) { return runCancelRace(seed, tl, true) }
}

// cancelRun is one run of the CANCEL race.
type cancelRun struct {
	s          *sim.Sim
	w          *wire
	alice, bob *sim.UANode
	proxy      *sim.ProxyNode
	// hangAt is when Alice hung up (0: she did not, the INVITE never
	// reached Bob).
	hangAt effects.Time
}

func runCancelRace(seed uint64, tl tally, proxied bool) (*sim.Sim, error) {
	s := sim.New(seed)
	x := &cancelRun{s: s, w: watch(s)}
	x.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	x.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
	opts := ua.CallOptions{Body: []byte(sdpOffer)}
	if proxied {
		x.proxy = sim.Must(s.AddProxy("proxy", "192.0.2.10:5060", proxycore.Config{Domains: []string{"example.com"}, RecordRoute: true,
			Router: func(m *message.Message) proxycore.Decision {
				return proxycore.ProxyTo(proxycore.Target{URI: mustURI("sip:bob@192.0.2.2:5060")})
			}}))
		opts.Dest = x.proxy.Peer()
	}
	s.SetDefaultLink(lossy(s))
	r := s.Rand()
	answer := time.Duration(300+r.IntN(2700)) * time.Millisecond
	// The CANCEL crosses the 200 when it leaves less than the 200's
	// transit before, or after, Bob's answer: up to 100 ms a hop.
	hops := 1
	if proxied {
		hops = 2
	}
	offset := time.Duration(r.IntN(100*hops+101)-100*hops) * time.Millisecond
	x.bob.Answering(sim.Callee{Ring: 180, After: answer, Answer: []byte(sdpAnswer)})
	var id ua.CallID
	x.bob.On(func(ev effects.Event) {
		if ev.Kind != effects.CallIncoming || x.hangAt != 0 {
			return
		}
		// Bob answers at now+answer: Alice hangs up within 100 ms of it.
		x.hangAt = s.Now().Add(answer + offset)
		s.At(x.hangAt, func() { _ = x.alice.Hangup(id) })
	})
	target := "sip:bob@192.0.2.2"
	if proxied {
		target = "sip:bob@example.com"
	}
	id, err := x.alice.Call(target, opts)
	if err != nil {
		return s, err
	}
	e := expect{tally: tl, caller: x.alice, callees: []*sim.UANode{x.bob}, proxied: proxied, outcome: x.outcome}
	if err := e.check(s, x.w); err != nil {
		return s, err
	}
	return s, x.neverBoth()
}

// outcome judges Alice's call (see TestCancelRace): the 487 of a CANCEL
// that won, or a 2xx that crossed the CANCEL and was hung up at once; an
// answered call, a Timer B timeout or Bob's BYE for want of an ACK are
// left to the usual rules.
func (x *cancelRun) outcome(w *wire, c call) (string, error) {
	end := c.last()
	_, answered := c.has(effects.CallAnswered)
	if answered {
		return "", nil
	}
	received := func(prefix string) *sim.Record {
		for _, r := range w.find(sim.OpRecv, x.alice.Node, nil, prefix) {
			if m := x.w.msg(r); m.CSeq().Method == "INVITE" && r.At <= end.At {
				return &r
			}
		}
		return nil
	}
	switch {
	case end.Kind == effects.CallFailed && end.Code == 487:
		if !errors.Is(end.Err, ua.ErrCancelled) && x.proxy == nil {
			return "", fmt.Errorf("487 without Alice's CANCEL: %s", c)
		}
		if x.hangAt == 0 || end.At < x.hangAt {
			return "", fmt.Errorf("call cancelled at %v, before Alice hung up at %v: %s", time.Duration(end.At), time.Duration(x.hangAt), c)
		}
		if ok := received("2"); ok != nil {
			return "", fmt.Errorf("call cancelled though a 2xx arrived at %v: %s", time.Duration(ok.At), c)
		}
		// §9.1: the INVITE's 487, or 64·T1 after the CANCEL without it.
		cancels := x.w.allFrom(x.alice.Node, nil, "CANCEL")
		if r := received("487"); r == nil && (len(cancels) == 0 || end.At != cancels[0].At+effects.Time(T1x4)) {
			return "", fmt.Errorf("call failed with 487 but no 487 arrived, and not 64·T1 after the CANCEL: %s", c)
		}
		return "cancelled: 487", nil
	case end.Kind == effects.CallEnded && errors.Is(end.Err, ua.ErrHangup):
		// The 2xx came after the hang-up: the call is up, and torn down at
		// once with a BYE (§15).
		ok := received("2")
		if ok == nil || ok.At != end.At || end.At < x.hangAt {
			return "", fmt.Errorf("call hung up unanswered, not at a 2xx after the hang-up: %s", c)
		}
		if len(x.w.allFrom(x.alice.Node, nil, "BYE")) == 0 {
			return "", fmt.Errorf("Alice sent no BYE for the 2xx that crossed her CANCEL: %s", c)
		}
		if len(x.w.allFrom(x.alice.Node, nil, "CANCEL")) == 0 {
			return "2xx before any provisional: BYE", nil
		}
		return "2xx crossed the CANCEL: BYE", nil
	}
	return "", nil
}

// neverBoth checks the rules of the race beyond the call's outcome (see
// TestCancelRace).
func (x *cancelRun) neverBoth() error {
	w := x.w
	var oks, n487 int
	for _, r := range w.allFrom(x.bob.Node, nil, "") {
		if m := x.w.msg(r); m.IsResponse() && m.CSeq().Method == "INVITE" {
			switch code := m.StatusCode(); {
			case code >= 200 && code < 300:
				oks++
			case code == 487:
				n487++
			}
		}
	}
	if oks > 0 && n487 > 0 {
		return fmt.Errorf("Bob sent both a 2xx and a 487 for the INVITE")
	}
	if len(inviteResponses(w, x.alice.Node, 200, 299)) > 0 && len(inviteResponses(w, x.alice.Node, 487, 487)) > 0 {
		return fmt.Errorf("Alice received both a 2xx and a 487 for her INVITE")
	}
	if c := calls(x.bob.Node); len(c) == 1 {
		end := c[0].last()
		cancelled := end.Code == 487 && errors.Is(end.Err, ua.ErrCancelled)
		if cancelled != (n487 > 0) {
			return fmt.Errorf("Bob's call ended so: %s, with %d 487s sent", c[0], n487)
		}
	}
	// Who sends a CANCEL sends it after a provisional response and after
	// its user hung up (§9.1), and never after a final response.
	up := x.alice.Node
	if x.proxy != nil {
		up = x.proxy.Node
		if err := cancelAfterProvisional(w, x.proxy.Node, x.bob.Node, 0); err != nil {
			return err
		}
	}
	if err := cancelAfterProvisional(w, x.alice.Node, up, x.hangAt); err != nil {
		return err
	}
	// §9.2, §16.10: the CANCEL is answered 200 while the INVITE's
	// transaction lives, 481 after.
	if err := cancelAnswers(w, up, x.alice.Node); err != nil {
		return err
	}
	if x.proxy != nil {
		return cancelAnswers(w, x.bob.Node, x.proxy.Node)
	}
	return nil
}

// cancelAfterProvisional checks the first CANCEL from n to peer: sent no
// earlier than not, after a provisional response from peer for the INVITE,
// and not after a final one (§9.1).
func cancelAfterProvisional(w *wire, n, peer *sim.Node, notBefore effects.Time) error {
	cancels := w.allFrom(n, peer, "CANCEL")
	if len(cancels) == 0 {
		return nil
	}
	first := cancels[0]
	if first.At < notBefore {
		return fmt.Errorf("%s sent CANCEL at %v, before its user hung up", n.Name(), time.Duration(first.At))
	}
	prov := false
	for _, r := range w.find(sim.OpRecv, n, peer, "") {
		m := w.msg(r)
		if !m.IsResponse() || m.CSeq().Method != "INVITE" || r.At > first.At {
			continue
		}
		if m.StatusCode() >= 200 && r.At < first.At {
			return fmt.Errorf("%s sent CANCEL at %v, after a final response (%s at %v)", n.Name(), time.Duration(first.At), r.Summary(), time.Duration(r.At))
		}
		prov = prov || m.StatusCode() < 200
	}
	if !prov {
		return fmt.Errorf("%s sent CANCEL at %v before any provisional response", n.Name(), time.Duration(first.At))
	}
	return nil
}

// cancelAnswers checks the responses n sent to the CANCELs from peer:
// the first 200, every one 200 or 481.
func cancelAnswers(w *wire, n, peer *sim.Node) error {
	first := true
	for _, r := range w.allFrom(n, peer, "") {
		m := w.msg(r)
		if !m.IsResponse() || m.CSeq().Method != "CANCEL" {
			continue
		}
		if code := m.StatusCode(); code != 200 && (code != 481 || first) {
			return fmt.Errorf("%s answered a CANCEL with %d at %v", n.Name(), code, time.Duration(r.At))
		}
		first = false
	}
	return nil
}

// inviteResponses returns the responses to an INVITE with a code from lo
// to hi that arrived at n.
func inviteResponses(w *wire, n *sim.Node, lo, hi int) []sim.Record {
	var out []sim.Record
	for _, r := range w.find(sim.OpRecv, n, nil, "") {
		if m := w.msg(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.StatusCode() >= lo && m.StatusCode() <= hi {
			out = append(out, r)
		}
	}
	return out
}
