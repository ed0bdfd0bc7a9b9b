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

// TestSessionTimerRefresh: Alice calls Bob with session timers (RFC 4028)
// of 90 or 120 s; the seed picks the refresher (Alice, when both support
// timers, §9; Bob, when Alice does not, §9) and whether it refreshes with
// re-INVITE or UPDATE (§10). One of them hangs up after three to five
// intervals, on a network that loses up to 30% of the datagrams,
// duplicates and reorders them. Whatever the network did:
//
//   - The refresher sends a refresh half an interval after its session
//     timer last (re)started (§10: at each 2xx to a refresh, sent or
//     received, the initial INVITE's included), and never at another
//     time; the other side sends none.
//   - The other side ends the call for the session's expiry (a BYE,
//     ErrSessionExpired) only, and exactly, the smaller of 32 s and a
//     third of the interval before the session expires, the interval
//     counted from its timer's last restart (§10).
//   - The refresher ends the call for want of a response to its refresh
//     when the refresh transaction timed out, 64·T1 after it left without
//     any response (§10: a timeout, 408 or 481 ends the session with a
//     BYE), or else at the session's expiration, never sooner: while its
//     refresh is in progress, the session lives (the peer may have
//     accepted it, its 2xx still on the way).
//   - The refreshes keep the call up until the hang-up: it ends sooner
//     only when the network made it impossible (one of the ends above,
//     or a 2xx to a re-INVITE never acknowledged, RFC 3261 §13.3.1.4),
//     and then cleanly (expect.check).
func TestSessionTimerRefresh(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, sessionTimerRefresh(tl))
}

// TestSessionTimerExpiry: as TestSessionTimerRefresh, but nobody hangs
// up: the refresher's refreshes after the first n (0 to 2) are lost (a
// Filter drops them), or, for half of the seeds, a partition cuts Alice
// from Bob at a moment of the call's first two intervals, for longer than
// the interval. The call must end by the session timer: the side that is
// not the refresher sends a BYE exactly the smaller of 32 s and a third
// of the interval before the session expires, unless the refresher's BYE
// came first, for a refresh that got no response in 64·T1 (§10); the
// rules of TestSessionTimerRefresh hold too.
func TestSessionTimerExpiry(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, sessionTimerExpiry(tl))
}

func sessionTimerRefresh(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) { return runSessionTimer(seed, tl, false) }
}

func sessionTimerExpiry(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) { return runSessionTimer(seed, tl, true) }
}

// stRun is one run of a session timer scenario.
type stRun struct {
	w *wire
	// refresher and other are the two sides; se the session interval.
	refresher, other *sim.UANode
	se               time.Duration
	// hangAt is when the user hangs up (0: never).
	hangAt effects.Time
}

func runSessionTimer(seed uint64, tl tally, lose bool) (*sim.Sim, error) {
	s := sim.New(seed)
	x := &stRun{w: watch(s)}
	r := s.Rand()
	x.se = []time.Duration{90 * time.Second, 120 * time.Second}[r.IntN(2)]
	update := r.IntN(2) == 0
	acfg, bcfg := ua.Config{SessionExpires: x.se}, ua.Config{}
	aliceRefreshes := r.IntN(2) == 0
	if aliceRefreshes {
		acfg.RefreshWithUpdate = update
		if r.IntN(2) == 0 {
			bcfg.SessionExpires = x.se
		}
	} else {
		// Alice knows no session timers (§9: the UAS refreshes then); Bob
		// asks for them.
		acfg = ua.Config{Supported: []string{"100rel", "replaces"}}
		bcfg = ua.Config{SessionExpires: x.se, RefreshWithUpdate: update}
	}
	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", acfg))
	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", bcfg))
	x.refresher, x.other = alice, bob
	if !aliceRefreshes {
		x.refresher, x.other = bob, alice
	}
	s.SetDefaultLink(lossy(s))
	bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(2000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
	if !lose {
		// One of them hangs up after three to five intervals.
		hangup := []*sim.UANode{alice, bob}[r.IntN(2)]
		after := time.Duration(3*x.se + time.Duration(r.Int64N(int64(min(2*x.se, 480*time.Second-3*x.se)))))
		hangup.On(func(ev effects.Event) {
			if ev.Kind == effects.CallAnswered {
				x.hangAt = s.Now().Add(after)
				s.At(x.hangAt, func() { _ = hangup.Hangup(ev.ID) })
			}
		})
	} else if r.IntN(2) == 0 {
		// Every refresh after the first n is lost.
		n := r.IntN(3)
		passed := map[string]bool{}
		s.Filter(func(rec *sim.Record) bool {
			sum := rec.Summary()
			if rec.Node != x.refresher.Node || !strings.HasPrefix(sum, "INVITE ") && !strings.HasPrefix(sum, "UPDATE ") {
				return false
			}
			m, err := rec.Message()
			if err != nil || m.ToTag() == "" {
				return false // Alice's initial INVITE
			}
			if passed[m.Branch()] {
				return false
			}
			if len(passed) < n {
				passed[m.Branch()] = true
				return false
			}
			return true
		})
	} else {
		// A partition from a moment of the first two intervals, for
		// longer than the interval.
		from := time.Duration(r.Int64N(int64(2 * x.se)))
		span := x.se + time.Duration(r.Int64N(int64(x.se)))
		bob.On(func(ev effects.Event) {
			if ev.Kind == effects.CallAnswered {
				at := s.Now().Add(from)
				s.Partition([]*sim.Node{alice.Node}, []*sim.Node{bob.Node}, at, at.Add(span))
			}
		})
	}
	if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
		return s, err
	}
	e := expect{tally: tl, caller: alice, callees: []*sim.UANode{bob},
		ends: []error{ua.ErrSessionExpired, ua.ErrTimeout, ua.ErrDialogGone, ua.ErrNoAck}}
	if err := e.check(s, x.w); err != nil {
		return s, err
	}
	return s, x.rules(tl, lose)
}

// restarts returns when u's session timer was (re)started (RFC 4028 §10:
// at each 2xx to a session refresh request, sent or received, the initial
// INVITE's included): the first send of each 2xx u sent to an INVITE or
// UPDATE in the dialog, and the first arrival of each 2xx to u's INVITEs
// and UPDATEs; in order.
func (x *stRun) restarts(u *sim.UANode) []effects.Time {
	var out []effects.Time
	seen := map[string]bool{}
	add := func(r sim.Record, dir string) {
		m := x.w.msg(r)
		method := m.CSeq().Method
		if !m.IsResponse() || m.StatusCode() < 200 || m.StatusCode() >= 300 || method != "INVITE" && method != "UPDATE" {
			return
		}
		k := fmt.Sprint(dir, m.CSeq())
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, r.At)
	}
	for _, r := range x.w.recs {
		switch {
		case r.Node == u.Node && (r.Op == sim.OpSend || r.Op == sim.OpDrop && r.Detail != "connection closed"):
			add(r, "sent")
		case r.Node == u.Node && r.Op == sim.OpRecv:
			add(r, "received")
		}
	}
	return out
}

// lastBefore returns the last of ts at or before t (0 if none).
func lastBefore(ts []effects.Time, t effects.Time) effects.Time {
	var last effects.Time
	for _, a := range ts {
		if a <= t {
			last = a
		}
	}
	return last
}

// refreshes returns the first send of each session refresh request u sent
// (an INVITE or UPDATE in the dialog).
func (x *stRun) refreshes(u *sim.UANode) []sim.Record {
	var out []sim.Record
	seen := map[string]bool{}
	for _, r := range x.w.allFrom(u.Node, nil, "") {
		m := x.w.msg(r)
		if !m.IsRequest() || m.ToTag() == "" || m.Method() != "INVITE" && m.Method() != "UPDATE" || seen[m.Branch()] {
			continue
		}
		seen[m.Branch()] = true
		out = append(out, r)
	}
	return out
}

// rules checks RFC 4028 §10 as TestSessionTimerRefresh says, and how the
// call ended: by the hang-up, or, when the network made that impossible,
// by a session timer, a refresh's timeout, a missing ACK (RFC 3261
// §13.3.1.4) or the 481 that follows one of those (RFC 5057 §5.1); in
// TestSessionTimerExpiry, never by a hang-up.
func (x *stRun) rules(tl tally, lose bool) error {
	margin := min(32*time.Second, x.se/3)
	oc := calls(x.other.Node)
	rc := calls(x.refresher.Node)
	if len(oc) != 1 || len(rc) != 1 {
		return nil // the call never reached Bob
	}
	if _, ok := rc[0].has(effects.CallAnswered); !ok {
		return nil
	}
	if _, ok := oc[0].has(effects.CallAnswered); !ok {
		return nil // Bob never got the ACK: the call ended for it
	}
	if n := len(x.refreshes(x.other)); n > 0 {
		return fmt.Errorf("%s, not the refresher, sent %d refreshes", x.other.Name(), n)
	}
	// The refresher refreshes half an interval after each restart.
	rs := x.restarts(x.refresher)
	rend := rc[0].last().At
	if !terminal(rc[0].last().Kind) {
		rend = effects.Time(1<<63 - 1)
	}
	refreshes := x.refreshes(x.refresher)
	for i, t := range rs {
		due := t.Add(x.se / 2)
		if i+1 < len(rs) && rs[i+1] < due || due >= rend {
			continue // restarted again, or ended, before it was due
		}
		found := false
		for _, q := range refreshes {
			if q.At == due {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s sent no refresh at %v, half an interval after its timer's restart at %v (refreshes at %v)",
				x.refresher.Name(), time.Duration(due), time.Duration(t), recTimes(refreshes))
		}
	}
	for _, q := range refreshes {
		if last := lastBefore(rs, q.At); q.At != last.Add(x.se/2) {
			return fmt.Errorf("%s refreshed at %v; its timer last restarted at %v", x.refresher.Name(), time.Duration(q.At), time.Duration(last))
		}
	}
	// How each side's call ended.
	outcome := ""
	if end := oc[0].last(); errors.Is(end.Err, ua.ErrSessionExpired) {
		last := lastBefore(x.restarts(x.other), end.At)
		if end.At != last.Add(x.se-margin) {
			return fmt.Errorf("%s ended the call as expired at %v; its timer last restarted at %v (§10: expiry at the interval less %v)",
				x.other.Name(), time.Duration(end.At), time.Duration(last), margin)
		}
		byes := x.w.allFrom(x.other.Node, x.refresher.Node, "BYE")
		if len(byes) == 0 || byes[0].At != end.At {
			return fmt.Errorf("%s sent no BYE when the session expired", x.other.Name())
		}
		outcome = "expired: " + x.other.Name() + "'s BYE"
	}
	switch end := rc[0].last(); {
	case errors.Is(end.Err, ua.ErrSessionExpired):
		if last := lastBefore(rs, end.At); end.At < last.Add(x.se) {
			return fmt.Errorf("%s, the refresher, ended the call as expired at %v, before the session expired (%v, its timer's restart at %v, plus the interval) (§10)",
				x.refresher.Name(), time.Duration(end.At), time.Duration(last.Add(x.se)), time.Duration(last))
		}
		outcome += "; expired: " + x.refresher.Name() + "'s BYE"
	case errors.Is(end.Err, ua.ErrTimeout):
		timedOut := false
		for _, q := range refreshes {
			m := x.w.msg(q)
			if end.At != q.At.Add(T1x4) {
				continue
			}
			answered := false
			for _, a := range x.w.find(sim.OpRecv, x.refresher.Node, nil, "") {
				if am := x.w.msg(a); am.IsResponse() && am.CSeq() == m.CSeq() && a.At <= end.At {
					answered = true
				}
			}
			timedOut = timedOut || !answered
		}
		if !timedOut {
			return fmt.Errorf("%s's call ended with a timeout, not 64·T1 after a refresh without response: %s", x.refresher.Name(), rc[0])
		}
		outcome += "; refresh timed out: " + x.refresher.Name() + "'s BYE"
	}
	for _, pair := range [][2]*sim.UANode{{x.other, x.refresher}, {x.refresher, x.other}} {
		u, peer := pair[0], pair[1]
		c := calls(u.Node)[0]
		switch end := c.last(); {
		case errors.Is(end.Err, ua.ErrNoAck):
			if err := noAck(x.w, u, peer, end.At); err != nil {
				return err
			}
			outcome += "; no ACK: " + u.Name() + "'s BYE"
		case errors.Is(end.Err, ua.ErrDialogGone):
			// A 481 to a refresh (RFC 5057 §5.1): the peer's call ended
			// before, its BYE lost.
			if pe := calls(peer.Node)[0].last(); !terminal(pe.Kind) || pe.At > end.At {
				return fmt.Errorf("%s's call ended with 481 while %s's went on: %s", u.Name(), peer.Name(), c)
			}
		}
	}
	outcome = strings.TrimPrefix(outcome, "; ")
	if outcome == "" {
		outcome = fmt.Sprintf("ended otherwise after %d refreshes", len(refreshes))
		if x.hangAt != 0 {
			outcome = fmt.Sprintf("hung up after %d refreshes", len(refreshes))
		}
	}
	if lose {
		// Nobody hangs up: the session timer ends the call.
		for _, c := range []call{oc[0], rc[0]} {
			if end := c.last(); oneOf(end.Err, ua.ErrHangup) {
				return fmt.Errorf("the call was hung up, with nobody hanging up: %s", c)
			}
		}
		if !strings.Contains(outcome, "expired") && !strings.Contains(outcome, "refresh timed out") && !strings.Contains(outcome, "no ACK") {
			return fmt.Errorf("the call did not end by the session timer: %s; %s", oc[0], rc[0])
		}
	} else if x.hangAt != 0 {
		// The refreshes kept the call up, unless the network prevented
		// them (the cases above).
		for _, c := range []call{oc[0], rc[0]} {
			if end := c.last(); terminal(end.Kind) && end.At < x.hangAt && strings.HasPrefix(outcome, "hung up") {
				return fmt.Errorf("the call ended at %v, before the hang-up at %v: %s", time.Duration(end.At), time.Duration(x.hangAt), c)
			}
		}
	}
	return reached(tl, outcome)
}

func recTimes(rs []sim.Record) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = time.Duration(r.At)
	}
	return out
}

// noAck checks that u ended its call for want of an ACK at end exactly
// 64·T1 after it first sent a 2xx to an INVITE of peer's that no ACK
// acknowledged before (RFC 3261 §13.3.1.4).
func noAck(w *wire, u, peer *sim.UANode, end effects.Time) error {
	for _, r := range w.allFrom(u.Node, peer.Node, "2") {
		m := w.msg(r)
		if m.CSeq().Method != "INVITE" || r.At.Add(T1x4) != end {
			continue
		}
		acked := false
		for _, a := range w.find(sim.OpRecv, u.Node, peer.Node, "ACK") {
			acked = acked || w.msg(a).CSeq().Seq == m.CSeq().Seq && a.At < end
		}
		if !acked {
			return nil
		}
	}
	return fmt.Errorf("%s ended the call for want of an ACK at %v, not 64·T1 after a 2xx left unacknowledged", u.Name(), time.Duration(end))
}
