package sim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestReinviteGlare: once Alice's call to Bob is established (Bob got the
// ACK), both offer a new session description in a re-INVITE at the same
// moment (RFC 3261 §14.1), on a network that loses up to 30% of the
// datagrams, duplicates and reorders them. Whatever the network did:
//
//   - Glare is answered 491 (§14.2): a UA that receives a re-INVITE while
//     its own re-INVITE on the dialog is in progress (sent, and no final
//     response arrived) answers it 491.
//   - A UA that gets a 491 retries after §14.1's random delay: 2.1 to 4 s
//     for the owner of the Call-ID (Alice, who chose it), 0 to 2 s for the
//     other; its next re-INVITE leaves no sooner.
//   - Both modifications succeed: each UA's offer is answered by a 2xx
//     (SessionModified). Only when the network made it impossible does the
//     call end instead: a re-INVITE that got no response in 64·T1 (Timer
//     B) ends the call with a BYE (§12.2.1.2, §8.1.3.1: a timeout counts
//     as 408), and a 2xx to a re-INVITE never acknowledged in 64·T1 does
//     (§13.3.1.4); the peer, should that BYE be lost, learns it from the
//     481 its next request gets (RFC 5057 §5.1), and ends its call too.
//   - Each UA's requests in the dialog have strictly increasing CSeq
//     numbers (§12.2.1.1), a retry after a 491 included.
//   - Then one of them hangs up, and the call ends (expect.check).
func TestReinviteGlare(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, reinviteGlare(tl))
}

// Each side's second description, with its next version (RFC 3264 §8).
var (
	sdpOffer2  = strings.NewReplacer("2890844526 2890844526", "2890844526 2890844527", "49170", "49172").Replace(sdpOffer)
	sdpAnswer2 = strings.NewReplacer("2808844564 2808844564", "2808844564 2808844565", "3456", "3458").Replace(sdpAnswer)
)

// glareRun is one run of TestReinviteGlare.
type glareRun struct {
	s          *sim.Sim
	w          *wire
	alice, bob *sim.UANode
	ids        map[*sim.UANode]ua.CallID
	// glareAt is when both re-INVITEd (0: never; the call did not get so
	// far); modified when each UA's offer was answered.
	glareAt  effects.Time
	modified map[*sim.UANode]effects.Time
	// timers are the UA timers set (to find the glare retry's).
	timers []sim.Record
	errs   []error
}

func reinviteGlare(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		g := &glareRun{s: s, w: watch(s), ids: map[*sim.UANode]ua.CallID{}, modified: map[*sim.UANode]effects.Time{}}
		s.Observe(func(r *sim.Record) {
			if r.Op == sim.OpSet && r.Timer&(1<<63) != 0 { // the UA's own timers (ua's uaTimerBit)
				g.timers = append(g.timers, *r)
			}
		})
		g.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		g.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		after := time.Duration(200+r.IntN(1800)) * time.Millisecond
		wait := time.Duration(r.IntN(1000)) * time.Millisecond
		hangup := []*sim.UANode{g.alice, g.bob}[r.IntN(2)]
		hangAfter := time.Duration(500+r.IntN(2500)) * time.Millisecond
		current := map[*sim.UANode]string{g.alice: sdpOffer, g.bob: sdpAnswer}
		next := map[*sim.UANode]string{g.alice: sdpOffer2, g.bob: sdpAnswer2}
		for _, u := range []*sim.UANode{g.alice, g.bob} {
			u.On(func(ev effects.Event) {
				switch ev.Kind {
				case effects.CallIncoming:
					g.ids[u] = ev.ID
					_ = u.Ring(ev.ID, ua.RingOptions{Code: 180})
					s.After(after, func() { _ = u.Answer(ev.ID, []byte(sdpAnswer)) })
				case effects.CallAnswered:
					if u != g.bob || g.glareAt != 0 {
						return
					}
					// Both re-INVITE at the same moment.
					g.glareAt = s.Now().Add(wait)
					s.At(g.glareAt, func() {
						for _, v := range []*sim.UANode{g.alice, g.bob} {
							err := v.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
								return v.UA.Update(now, g.ids[v], []byte(next[v]), ua.UpdateOptions{}, out)
							})
							if err != nil && !errors.Is(err, ua.ErrNoCall) {
								g.errs = append(g.errs, err)
							}
						}
					})
					// A backstop, should the modifications hang.
					s.At(g.glareAt.Add(4*time.Minute), func() { _ = g.alice.Hangup(g.ids[g.alice]) })
				case effects.CallReinvite:
					_ = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return u.UA.Accept(now, ev.ID, []byte(current[u]), out)
					})
				case effects.SessionModified:
					if !ev.Msg.IsResponse() || g.modified[u] != 0 {
						return // our answer to the peer's offer
					}
					g.modified[u] = s.Now()
					current[u] = next[u]
					if g.modified[g.alice] != 0 && g.modified[g.bob] != 0 {
						s.After(hangAfter, func() { _ = hangup.Hangup(g.ids[hangup]) })
					}
				}
			})
		}
		id, err := g.alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer)})
		if err != nil {
			return s, err
		}
		g.ids[g.alice] = id
		e := expect{tally: tl, caller: g.alice, callees: []*sim.UANode{g.bob}, ends: []error{ua.ErrTimeout, ua.ErrNoAck, ua.ErrDialogGone}}
		if err := e.check(s, g.w); err != nil {
			return s, err
		}
		if len(g.errs) > 0 {
			return s, fmt.Errorf("re-INVITE refused: %v", g.errs)
		}
		return s, g.rules(tl)
	}
}

// rules checks the glare's outcome (see TestReinviteGlare).
func (g *glareRun) rules(tl tally) error {
	for _, u := range []*sim.UANode{g.alice, g.bob} {
		if err := g.timedOut(u); err != nil {
			return err
		}
		if err := g.gone(u); err != nil {
			return err
		}
		if err := increasingCSeq(g.w, u.Node); err != nil {
			return err
		}
	}
	if g.glareAt == 0 {
		return nil
	}
	ended := ""
	for _, u := range []*sim.UANode{g.alice, g.bob} {
		if c := calls(u.Node); len(c) == 1 {
			if e := c[0].last(); oneOf(e.Err, ua.ErrTimeout, ua.ErrNoAck) && e.At >= g.glareAt && ended == "" {
				ended = u.Name()
			}
		}
	}
	outcome := "both modified"
	switch {
	case g.modified[g.alice] != 0 && g.modified[g.bob] != 0:
	case ended != "":
		outcome = "ended by " + ended + " during the glare"
	default:
		return fmt.Errorf("the modifications did not both succeed (Alice's at %v, Bob's at %v), yet the call did not end for the network",
			time.Duration(g.modified[g.alice]), time.Duration(g.modified[g.bob]))
	}
	for _, u := range []*sim.UANode{g.alice, g.bob} {
		peer := g.bob
		if u == g.bob {
			peer = g.alice
		}
		if err := g.answers491(u, peer); err != nil {
			return err
		}
		if err := g.retries(u); err != nil {
			return err
		}
	}
	return reached(tl, outcome)
}

// reinvites returns the re-INVITEs (INVITEs with a To tag) from n: each
// transaction's first send, in order.
func reinvites(w *wire, n *sim.Node) []sim.Record {
	var out []sim.Record
	seen := map[string]bool{}
	for _, r := range w.allFrom(n, nil, "INVITE") {
		m := w.msg(r)
		if m.ToTag() == "" || seen[m.Branch()] {
			continue
		}
		seen[m.Branch()] = true
		out = append(out, r)
	}
	return out
}

// finalAt returns when the first final response to the INVITE with CSeq
// number seq arrived at n (0: none did), and its code.
func finalAt(w *wire, n *sim.Node, seq uint32) (effects.Time, int) {
	for _, r := range w.find(sim.OpRecv, n, nil, "") {
		if m := w.msg(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.CSeq().Seq == seq && m.StatusCode() >= 200 {
			return r.At, m.StatusCode()
		}
	}
	return 0, 0
}

// answers491 checks §14.2: every re-INVITE from peer that reached u while
// u's own re-INVITE was in progress got 491.
func (g *glareRun) answers491(u, peer *sim.UANode) error {
	mine := reinvites(g.w, u.Node)
	end := callEnd(u)
	seen := map[uint32]bool{}
	for _, r := range g.w.find(sim.OpRecv, u.Node, peer.Node, "INVITE") {
		in := g.w.msg(r)
		if in.ToTag() == "" || seen[in.CSeq().Seq] {
			continue
		}
		seen[in.CSeq().Seq] = true
		pending := false
		for _, o := range mine {
			// In progress: sent, and neither answered nor timed out (Timer
			// B), while the call lasts.
			at, _ := finalAt(g.w, u.Node, g.w.msg(o).CSeq().Seq)
			if o.At < r.At && (at == 0 || at > r.At) && r.At < o.At.Add(T1x4) && r.At < end {
				pending = true
			}
		}
		if !pending {
			continue
		}
		code := 0
		for _, resp := range g.w.allFrom(u.Node, peer.Node, "") {
			if m := g.w.msg(resp); m.IsResponse() && m.CSeq() == in.CSeq() && resp.At >= r.At {
				code = m.StatusCode()
				break
			}
		}
		if code != 491 {
			return fmt.Errorf("%s answered %d, not 491, to a re-INVITE (CSeq %d at %v) that met its own (§14.2)",
				u.Name(), code, in.CSeq().Seq, time.Duration(r.At))
		}
	}
	return nil
}

// retries checks §14.1's delays: at each 491 that arrives for one of u's
// re-INVITEs while the call lasts, u sets a timer of 2.1 to 4 s (Alice, the Call-ID's owner) or
// up to 2 s (Bob), and its next re-INVITE leaves no sooner.
func (g *glareRun) retries(u *sim.UANode) error {
	lo, hi := time.Duration(0), 2*time.Second
	if u == g.alice {
		lo, hi = 2100*time.Millisecond, 4*time.Second
	}
	mine := reinvites(g.w, u.Node)
	end := callEnd(u)
	for i, o := range mine {
		at, code := finalAt(g.w, u.Node, g.w.msg(o).CSeq().Seq)
		if code != 491 || at > end {
			continue // no 491, or one that came after the call
		}
		var set []time.Duration
		for _, t := range g.timers {
			if t.Node == u.Node && t.At == at {
				set = append(set, t.After)
			}
		}
		if len(set) != 1 || set[0] < lo || set[0] > hi {
			return fmt.Errorf("%s got 491 at %v and set the timers %v, not one of %v to %v (§14.1)", u.Name(), time.Duration(at), set, lo, hi)
		}
		if i+1 < len(mine) && mine[i+1].At < at.Add(set[0]) {
			return fmt.Errorf("%s re-INVITEd again at %v, before its retry timer (%v after the 491 at %v)",
				u.Name(), time.Duration(mine[i+1].At), set[0], time.Duration(at))
		}
	}
	return nil
}

// timedOut checks that a call u ended with ErrTimeout ended 64·T1 after
// one of u's re-INVITEs, which no response reached (Timer B).
func (g *glareRun) timedOut(u *sim.UANode) error {
	c := calls(u.Node)
	if len(c) != 1 {
		return nil
	}
	end := c[0].last()
	if end.Kind != effects.CallEnded || !errors.Is(end.Err, ua.ErrTimeout) {
		return nil // the INVITE's own timeout is expect.check's
	}
	for _, o := range reinvites(g.w, u.Node) {
		seq := g.w.msg(o).CSeq().Seq
		answered := false
		for _, r := range g.w.find(sim.OpRecv, u.Node, nil, "") {
			if m := g.w.msg(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.CSeq().Seq == seq && r.At <= end.At {
				answered = true
			}
		}
		if !answered && end.At == o.At+effects.Time(T1x4) {
			return nil
		}
	}
	return fmt.Errorf("%s's call ended with a timeout, not 64·T1 after a re-INVITE without response: %s", u.Name(), c[0])
}

// gone checks that a call u ended for a 481 to one of its requests
// (RFC 5057 §5.1: the peer no longer knows the dialog) did so once its
// peer's call had ended (its BYE lost).
func (g *glareRun) gone(u *sim.UANode) error {
	c := calls(u.Node)
	if len(c) != 1 || !errors.Is(c[0].last().Err, ua.ErrDialogGone) {
		return nil
	}
	peer := g.alice
	if u == g.alice {
		peer = g.bob
	}
	if pc := calls(peer.Node); len(pc) != 1 || !terminal(pc[0].last().Kind) || pc[0].last().At > c[0].last().At {
		return fmt.Errorf("%s's call ended with 481 while %s's went on: %s", u.Name(), peer.Name(), c[0])
	}
	return nil
}

// increasingCSeq checks §12.2.1.1: the requests n sends in a dialog (but
// ACK and CANCEL, which take their INVITE's) have strictly increasing CSeq
// numbers, in the order they are first sent.
func increasingCSeq(w *wire, n *sim.Node) error {
	last := map[string]uint32{} // by Call-ID
	seen := map[string]bool{}   // branches
	for _, r := range w.allFrom(n, nil, "") {
		m := w.msg(r)
		if !m.IsRequest() || m.ToTag() == "" || m.Method() == "ACK" || m.Method() == "CANCEL" || seen[m.Branch()] {
			continue
		}
		seen[m.Branch()] = true
		seq := m.CSeq().Seq
		if prev, ok := last[m.CallID()]; ok && seq <= prev {
			return fmt.Errorf("%s sent %s with CSeq %d after %d", n.Name(), r.Summary(), seq, prev)
		}
		last[m.CallID()] = seq
	}
	return nil
}
