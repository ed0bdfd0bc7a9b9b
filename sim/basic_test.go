package sim_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestBasicCall runs RFC 3665 §3.1's call between two UAs, Alice and Bob,
// directly over UDP (RFC 3261 §13: INVITE, 180, 200, ACK; §15: BYE, 200),
// for every seed, on a network that loses up to 30% of the datagrams,
// duplicates and reorders them. Bob rings at once and answers after up to
// 3 s; Alice hangs up 1 to 10 s after the answer, and gives up on a call
// unanswered after a minute (CallOptions.Expires, §13.2.1). See expect.check
// for what must come of it whatever the network did.
func TestBasicCall(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, basicCall(tl))
}

// basicCall is TestBasicCall's scenario.
func basicCall(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		return s, expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}}.check(s, w)
	}
}

// TestBasicCallTCP runs TestBasicCall's call over TCP (RFC 3261 §18: one
// connection, reused both ways), with the delays and jitter of a lossy
// network but no loss, which a stream never has; instead, for most seeds,
// the connection breaks at a random moment of the call (a NAT rebinding, a
// crash of the peer's transport), losing what was in flight, and both
// cores hear ConnClosed as from the drivers. Whatever the moment, the
// outcome is one of TestBasicCall's, or a failure of the INVITE on the
// broken connection with 503 (§8.1.3.1: a transport error counts as 503);
// requests sent after the break open a new connection (§18.2.2).
func TestBasicCallTCP(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, basicCallTCP(tl))
}

// basicCallTCP is TestBasicCallTCP's scenario.
func basicCallTCP(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "TCP:192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", "TCP:192.0.2.2:5060", ua.Config{}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if r.IntN(4) != 0 {
			at := effects.Time(r.Int64N(int64(12 * time.Second)))
			s.At(at, func() { _ = s.BreakConn(alice.Node, bob.Node) })
		}
		if _, err := alice.Call("sip:bob@192.0.2.2;transport=tcp", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		return s, expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}, stream: true}.check(s, w)
	}
}

// giveUp is how long a caller waits for an answer before it cancels
// (CallOptions.Expires, RFC 3261 §13.2.1): the user hanging up. Every
// callee answers well before, so only a call whose 2xx never arrived while
// a provisional did reaches it.
const giveUp = time.Minute

// timerC is proxycore's default Timer C (RFC 3261 §16.6 step 11).
const timerC = 3*time.Minute + 30*time.Second

// expect is what a call may come to; check verifies it.
type expect struct {
	caller  *sim.UANode
	callees []*sim.UANode
	// proxied: the call goes through proxies, which answer 100 at once and
	// may fail it themselves (408 when a branch timed out).
	proxied bool
	// stream: the call runs over a stream transport whose connection may
	// break: the INVITE may fail with 503 (a transport error, §8.1.3.1).
	stream bool
	// codes are more final responses the call may fail with (a callee
	// that refuses, through a proxy).
	codes []int
	// start is when the call was placed (time 0 by default).
	start effects.Time
	// tally, when set, counts the outcomes (for the test's log).
	tally tally
	// cleanup, when set, runs once the call is over, before the network
	// must fall quiet: the phones unregister, say.
	cleanup func() error
	// ends are more reasons a call may end with, on either side, besides
	// a hang-up, the peer's BYE and a missing ACK: a request in the dialog
	// that timed out (ErrTimeout, RFC 3261 §12.2.1.2 and §8.1.3.1), a 481
	// to one (ErrDialogGone, RFC 5057 §5.1), a session timer that expired
	// (ErrSessionExpired, RFC 4028 §10). The scenario checks when they
	// may happen.
	ends []error
	// outcome, when set, judges the caller's ended call before the rules
	// of callerOutcome: it returns the outcome's name when it accepts how
	// the call ended (a 487 after the caller's own CANCEL, a 5xx for a
	// PRACK that never came), an error when it refuses it, or "" to leave
	// the call to the usual rules.
	outcome func(w *wire, c call) (string, error)
}

// callPhase is how long a call may keep the network busy: Timer C and
// 64·T1 per hop for a call that fails, the caller's giveUp and 64·T1 after
// its CANCEL, the transactions' last timers (Timer D, H, I, J, K, L, M),
// with room to spare.
const callPhase = 10 * time.Minute

// check runs the call for callPhase, and checks the outcome RFC 3261
// requires whatever the network did:
//
//   - Every call of every UA ends exactly once (CallFailed or CallEnded, its
//     last event) and is answered at most once, before; each callee gets at
//     most one call: retransmitted and duplicated INVITEs are the same
//     transaction (§17.2.3), not new calls.
//   - The caller's call is either established (CallAnswered by a 2xx, then
//     CallEnded: by a hang-up of its own, or by a callee's BYE: the
//     callee's user hung up, or the callee never got the ACK, §13.3.1.4);
//     or it failed:
//   - with 408 (Timeout) exactly 64·T1 after the INVITE, by Timer B
//     (§17.1.1.2), which needs that no response at all reached the
//     caller: once one did, the transaction waits in Proceeding for a
//     final response;
//   - through proxies, with a final response a proxy sent or relayed:
//     408 when a branch timed out (§16.7 step 6, §16.8), or one of the
//     scenario's codes, no later than Timer C plus 64·T1 per hop;
//   - with 487 (ErrCancelled) once the caller gave up, when a provisional
//     arrived and, for giveUp, no final response did (§13.2.1, §9.1: the
//     CANCEL; the INVITE's 487, or 64·T1 without it);
//     or, a third outcome, a provisional reached the caller, every 2xx was
//     lost, and a callee, never acknowledged, hung up with a BYE in what
//     is, for the caller, an early dialog (§13.3.1.4, §15): the call ends
//     (CallEnded) unanswered.
//   - A callee's call ends cancelled before it was answered (487), or
//     established and then by a BYE or for want of an ACK (§13.3.1.4).
//   - One exception, which RFC 3261 accepts (RFC 4028 session timers exist
//     to cure it): when every retransmission of a BYE was lost, its
//     recipient still holds the call once all is quiet. Its user then hangs
//     up, and the network must become quiet again.
//   - Afterwards no node holds a call, dialog, transaction, context or
//     timer.
//
// A scenario widens these rules with ends (more reasons an established
// call may end with) and outcome (its own judgement of the caller's end),
// and checks those cases itself.
func (x expect) check(s *sim.Sim, w *wire) error {
	if err := s.Run(x.start + effects.Time(callPhase)); err != nil {
		return err
	}
	cc := calls(x.caller.Node)
	if len(cc) != 1 {
		return fmt.Errorf("the caller has %d calls", len(cc))
	}
	c := cc[0]
	if err := x.callerOutcome(w, c); err != nil {
		return err
	}
	var open []*sim.UANode
	for _, u := range append([]*sim.UANode{x.caller}, x.callees...) {
		if err := wellFormed(u.Node, true); err != nil {
			return err
		}
		uc := calls(u.Node)
		if u != x.caller && len(uc) > 1 {
			return fmt.Errorf("%s has %d calls", u.Name(), len(uc))
		}
		if len(uc) == 0 {
			continue
		}
		last := uc[0].last()
		if !terminal(last.Kind) {
			// Still open: only an established call whose peer's BYEs
			// were all lost.
			_, answered := uc[0].has(effects.CallAnswered)
			if !answered || len(w.find(sim.OpRecv, u.Node, nil, "BYE")) != 0 || len(w.allSent("BYE")) == 0 {
				return fmt.Errorf("%s still holds %s", u.Name(), uc[0])
			}
			open = append(open, u)
			x.tally.add("BYE lost: " + u.Name() + " hangs up")
			continue
		}
		if u != x.caller {
			if err := calleeEnd(u, uc[0], x.ends...); err != nil {
				return err
			}
		}
	}
	for _, u := range open {
		if err := u.Hangup(calls(u.Node)[0].id); err != nil {
			return err
		}
	}
	if x.cleanup != nil {
		if err := x.cleanup(); err != nil {
			return err
		}
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		return err
	}
	return s.CheckQuiet()
}

// callerOutcome checks how the caller's call c ended (see check).
func (x expect) callerOutcome(w *wire, c call) error {
	end := c.last()
	if !terminal(end.Kind) {
		return nil // checked with the open calls
	}
	if x.outcome != nil {
		outcome, err := x.outcome(w, c)
		if err != nil {
			return err
		}
		if outcome != "" {
			return x.stopAt(outcome)
		}
	}
	_, answered := c.has(effects.CallAnswered)
	_, ringing := c.has(effects.CallRinging)
	gotResponse, gotProvisional := false, false
	for _, r := range w.find(sim.OpRecv, x.caller.Node, nil, "") {
		if m := parse(r); m.IsResponse() && m.CSeq().Method == "INVITE" && r.At <= end.At {
			gotResponse = true
			gotProvisional = gotProvisional || m.StatusCode() < 200
		}
	}
	outcome := "failed " + fmt.Sprint(end.Code)
	switch {
	case answered:
		outcome = "established"
		if end.Kind != effects.CallEnded || !oneOf(end.Err, append([]error{ua.ErrHangup, ua.ErrRemoteBye}, x.ends...)...) {
			return fmt.Errorf("established call ended by %s: %s", end.Kind, c)
		}
	case end.Kind == effects.CallFailed && end.Code == 503 && x.stream:
		outcome = "failed 503 on the broken connection"
		if !errors.Is(end.Err, ua.ErrTransport) {
			return fmt.Errorf("call failed with 503 but no transport error: %s", c)
		}
	case end.Kind == effects.CallFailed && !gotResponse:
		outcome = "failed 408 by Timer B"
		if end.Code != 408 || !errors.Is(end.Err, ua.ErrTimeout) || end.At != x.start+effects.Time(T1x4) {
			return fmt.Errorf("call failed with no response, not by Timer B at 64·T1: %s", c)
		}
	case end.Kind == effects.CallFailed && end.Code == 487:
		if !errors.Is(end.Err, ua.ErrCancelled) && !x.proxied || !gotProvisional || end.At < x.start+effects.Time(giveUp) {
			return fmt.Errorf("call cancelled, though the caller did not give up: %s", c)
		}
	case end.Kind == effects.CallFailed:
		if !x.proxied || end.Code != 408 && !slices.Contains(x.codes, end.Code) {
			return fmt.Errorf("call failed with %d: %s", end.Code, c)
		}
		if bound := x.start + effects.Time(timerC+3*T1x4); end.At > bound {
			return fmt.Errorf("call failed at %v, after %v: %s", time.Duration(end.At), time.Duration(bound), c)
		}
	default: // CallEnded unanswered
		outcome = "ended unanswered by the callee's BYE"
		if !ringing || !errors.Is(end.Err, ua.ErrRemoteBye) || !anyEnded(x.callees, ua.ErrNoAck) {
			return fmt.Errorf("unanswered call ended, but no callee missed the ACK: %s", c)
		}
	}
	return x.stopAt(outcome)
}

// stopAt counts the caller's outcome (see reached).
func (x expect) stopAt(outcome string) error { return reached(x.tally, outcome) }

// reached counts an outcome of a scenario, and stops at the first seed
// that has the outcome SIM_STOP names.
func reached(tl tally, outcome string) error {
	tl.add(outcome)
	if os.Getenv("SIM_STOP") == outcome {
		return fmt.Errorf("stop at %q (SIM_STOP)", outcome)
	}
	return nil
}

// calleeEnd checks how a callee's call ended: cancelled before it was
// answered (487), or established and ended by a BYE (either side's), for
// want of an ACK, or for one of the reasons ends.
func calleeEnd(b *sim.UANode, c call, ends ...error) error {
	end := c.last()
	_, answered := c.has(effects.CallAnswered)
	switch {
	case end.Kind != effects.CallEnded:
		return fmt.Errorf("%s: %s", b.Name(), c)
	case end.Code == 487 && errors.Is(end.Err, ua.ErrCancelled) && !answered:
	case oneOf(end.Err, ua.ErrRemoteBye, ua.ErrNoAck, ua.ErrHangup):
	case len(ends) > 0 && oneOf(end.Err, ends...):
	default:
		return fmt.Errorf("%s: call ended so: %s", b.Name(), c)
	}
	return nil
}

// anyEnded reports whether a callee's call ended with reason err.
func anyEnded(callees []*sim.UANode, err error) bool {
	for _, b := range callees {
		for _, c := range calls(b.Node) {
			if e := c.last(); e.Kind == effects.CallEnded && errors.Is(e.Err, err) {
				return true
			}
		}
	}
	return false
}
