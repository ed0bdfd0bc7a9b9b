package sim_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// forkWorld is Alice, a record-routing proxy that is the registrar of
// example.com (as `sansip serve` runs), and three phones of Bob's.
type forkWorld struct {
	s      *sim.Sim
	w      *wire
	alice  *sim.UANode
	proxy  *sim.ProxyNode
	phones []*sim.UANode
	regs   []uint64
}

func newForkWorld(seed uint64) *forkWorld {
	s := sim.New(seed)
	f := &forkWorld{s: s, w: watch(s)}
	f.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	f.proxy = sim.Must(s.AddRegistrarProxy("proxy", "192.0.2.10:5060", proxycore.Config{RecordRoute: true},
		registrar.Config{Domains: []string{"example.com"}}, nil))
	for i := range 3 {
		f.phones = append(f.phones, sim.Must(s.AddUA(fmt.Sprintf("phone%d", i+1), fmt.Sprintf("192.0.2.%d:5060", 21+i),
			ua.Config{AOR: mustURI("sip:bob@example.com")})))
	}
	return f
}

// register has the phones register their contacts for sip:bob@example.com
// (RFC 3261 §10.2) on a perfect network.
func (f *forkWorld) register() error {
	for _, ph := range f.phones {
		id, err := ph.Register(ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: f.proxy.Peer(), Expires: time.Hour})
		if err != nil {
			return err
		}
		f.regs = append(f.regs, id)
	}
	if err := f.s.RunFor(5 * time.Second); err != nil {
		return err
	}
	for _, ph := range f.phones {
		if _, ok := ph.Last(effects.Registered); !ok {
			return fmt.Errorf("%s is not registered", ph.Name())
		}
	}
	return nil
}

// unregister ends the phones' registrations on a perfect network, so that
// the network can fall quiet.
func (f *forkWorld) unregister() error {
	f.s.SetDefaultLink(sim.Link{})
	for i, ph := range f.phones {
		if i < len(f.regs) {
			if err := ph.Unregister(f.regs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestParallelForking: three phones registered for sip:bob@example.com
// ring at once when Alice calls it through the proxy (RFC 3261 §16.5, §16.6:
// equal q-values, one group tried in parallel), on a network that loses up
// to 30% of the datagrams, duplicates and reorders them. Each phone answers
// after its own delay. Besides the outcome of any call (expect.check):
//
//   - The first 2xx wins (§16.7 step 5): every 2xx is forwarded upstream,
//     but once the proxy has one, no final response of 300 or more goes
//     upstream (§16.7 step 10: only when no 2xx came).
//   - The others are cancelled (§16.7 step 10, §16.10, §9.1): the proxy
//     sends CANCEL on every other branch that had a provisional response
//     and no final one, as soon as it has both the 2xx and that
//     provisional; a phone that gets it before it answers ends its call
//     with 487 (§9.2); one whose 2xx crossed the CANCEL gets Alice's BYE
//     (§13.2.2.4), or, if every 2xx of its was lost, ends for want of an
//     ACK.
//   - Alice's established call is with one phone, whose 2xx reached her
//     first.
func TestParallelForking(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, parallelForking(tl))
}

// parallelForking is TestParallelForking's scenario.
func parallelForking(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		f := newForkWorld(seed)
		s := f.s
		if err := f.register(); err != nil {
			return s, err
		}
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		start := s.Now()
		for _, ph := range f.phones {
			ph.Answering(sim.Callee{Ring: 180, After: time.Duration(500+r.IntN(3500)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		}
		f.alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := f.alice.Call("sip:bob@example.com", ua.CallOptions{Dest: f.proxy.Peer(), Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		x := expect{tally: tl, caller: f.alice, callees: f.phones, proxied: true, start: start, cleanup: f.unregister}
		if err := x.check(s, f.w); err != nil {
			return s, err
		}
		return s, f.firstWins()
	}
}

// firstWins checks the proxy's CANCELs and what it sent upstream (see
// TestParallelForking).
func (f *forkWorld) firstWins() error {
	w, p := f.w, f.proxy.Node
	var first *sim.Record // the first 2xx for the INVITE at the proxy
	for _, r := range w.find(sim.OpRecv, p, nil, "2") {
		if strings.HasSuffix(r.Summary(), " INVITE") {
			first = &r
			break
		}
	}
	if first == nil {
		return nil
	}
	for _, r := range w.find(sim.OpSend, p, f.alice.Node, "") {
		if m := parse(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.StatusCode() >= 300 && r.At >= first.At {
			return fmt.Errorf("the proxy sent %s upstream after a 2xx", r.Summary())
		}
	}
	for _, ph := range f.phones {
		if ph.Node == first.Peer {
			continue
		}
		prov, final := firstResponses(w, p, ph.Node)
		if prov == nil || final != nil && final.At <= max(prov.At, first.At) {
			continue // nothing to cancel, or done before
		}
		due := max(prov.At, first.At)
		cancels := w.allFrom(p, ph.Node, "CANCEL")
		if len(cancels) == 0 || cancels[0].At != due {
			return fmt.Errorf("the proxy did not cancel %s's branch at %v (provisional %v, 2xx %v): %v",
				ph.Name(), time.Duration(due), time.Duration(prov.At), time.Duration(first.At), cancels)
		}
	}
	// Alice's call is with the phone whose 2xx reached her first.
	c := calls(f.alice.Node)[0]
	if ev, ok := c.has(effects.CallAnswered); ok {
		oks := w.find(sim.OpRecv, f.alice.Node, nil, "200 INVITE")
		if len(oks) == 0 || parse(oks[0]).ToTag() != ev.Msg.ToTag() {
			return fmt.Errorf("Alice's call is not with the first 2xx she got")
		}
	}
	return nil
}

// firstResponses returns the first provisional response (not 100, which is
// hop by hop) and the first final response that arrived at p from n for an
// INVITE, or nil.
func firstResponses(w *wire, p, n *sim.Node) (prov, final *sim.Record) {
	for _, r := range w.find(sim.OpRecv, p, n, "") {
		m := parse(r)
		if !m.IsResponse() || m.CSeq().Method != "INVITE" || m.StatusCode() == 100 {
			continue
		}
		if m.StatusCode() < 200 && prov == nil {
			prov = &r
		}
		if m.StatusCode() >= 200 && final == nil {
			final = &r
		}
	}
	return prov, final
}

// TestSerialForking: three phones of Bob's are bound to sip:bob@example.com
// with q-values 1.0, 0.7 and 0.4 (as a provisioned location database holds
// them); the proxy tries them one after the other, highest q first (RFC
// 3261 §16.6: the targets of equal q form a group, and the next group is
// tried only when the current one failed, §16.7 step 10's "best response"
// waiting for every branch). The first phone is busy (486), the second
// unavailable (480); the third answers, or, for half of the seeds, is busy
// too. On a network that loses up to 30% of the datagrams, duplicates and
// reorders them, besides the outcome of any call (expect.check; the call
// may also fail with 480 or 486, the best of the phones' responses):
//
//   - the proxy sends its first INVITE to the first phone;
//   - it sends the first INVITE to each next phone only once the previous
//     phone's branch is over: its final response arrived, or the branch
//     timed out (64·T1 after its INVITE at the least);
//   - an established call is with the third phone.
func TestSerialForking(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, serialForking(tl))
}

// serialForking is TestSerialForking's scenario.
func serialForking(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		f := newForkWorld(seed)
		s := f.s
		for i, q := range []string{"1.0", "0.7", "0.4"} {
			ph := f.phones[i]
			if err := f.proxy.Bind("sip:bob@example.com", fmt.Sprintf("<sip:%s@%s>;q=%s", ph.Name(), ph.Addr(), q), 24*time.Hour); err != nil {
				return s, err
			}
		}
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		after := func() time.Duration { return time.Duration(100+r.IntN(2000)) * time.Millisecond }
		f.phones[0].Answering(sim.Callee{Ring: 180, After: after(), Reject: 486})
		f.phones[1].Answering(sim.Callee{Ring: 180, After: after(), Reject: 480})
		last := sim.Callee{Ring: 180, After: after(), Answer: []byte(sdpAnswer)}
		if r.IntN(2) == 0 {
			last.Reject = 486
		}
		f.phones[2].Answering(last)
		f.alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := f.alice.Call("sip:bob@example.com", ua.CallOptions{Dest: f.proxy.Peer(), Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		x := expect{tally: tl, caller: f.alice, callees: f.phones, proxied: true, codes: []int{480, 486}}
		if err := x.check(s, f.w); err != nil {
			return s, err
		}
		return s, f.inTurn()
	}
}

// inTurn checks the serial order of the proxy's branches (see
// TestSerialForking).
func (f *forkWorld) inTurn() error {
	w, p := f.w, f.proxy.Node
	var invites []sim.Record
	for _, r := range w.allFrom(p, nil, "INVITE") {
		invites = append(invites, r)
	}
	if len(invites) > 0 && invites[0].Peer != f.phones[0].Node {
		return fmt.Errorf("the proxy tried %s first", invites[0].Peer.Name())
	}
	for k := 1; k < len(f.phones); k++ {
		next := f.w.allFrom(p, f.phones[k].Node, "INVITE")
		if len(next) == 0 {
			continue
		}
		prev := f.w.allFrom(p, f.phones[k-1].Node, "INVITE")
		if len(prev) == 0 {
			return fmt.Errorf("the proxy tried %s before %s", f.phones[k].Name(), f.phones[k-1].Name())
		}
		_, final := firstResponses(w, p, f.phones[k-1].Node)
		over := final != nil && final.At <= next[0].At || next[0].At >= prev[0].At+effects.Time(T1x4)
		if !over {
			return fmt.Errorf("the proxy tried %s at %v, while %s's branch (from %v) was pending",
				f.phones[k].Name(), time.Duration(next[0].At), f.phones[k-1].Name(), time.Duration(prev[0].At))
		}
	}
	c := calls(f.alice.Node)[0]
	if ev, ok := c.has(effects.CallAnswered); ok {
		if contact, _ := ev.Msg.Get("Contact"); !strings.Contains(contact, "phone3@") {
			return fmt.Errorf("Alice's call is with %s", contact)
		}
	}
	return nil
}

var _ = slices.Contains[[]int]
