package sim_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestTransfer: Alice calls Bob, who answers; then Bob transfers her to
// Carol, for half of the seeds blindly (RFC 5589 §6: a REFER with
// Refer-To: Carol, RFC 3515), for the other half attended (RFC 5589 §7:
// Bob first calls Carol, then REFERs Alice with a Refer-To carrying the
// Replaces of his call with Carol, RFC 3891). Alice accepts the REFER (202,
// then a NOTIFY with "SIP/2.0 100 Trying", RFC 3515 §2.4.5), calls Carol
// with Referred-By (RFC 3892) and, attended, Replaces, and reports her
// call's progress to Bob in NOTIFYs of message/sipfrag, the last
// terminating the implicit subscription. Carol answers (in a blind
// transfer she refuses, 486, for a quarter of the seeds); an INVITE with
// Replaces takes the place of her call with Bob, which she ends with a BYE
// (RFC 3891 §3). Bob hangs up on Alice once he hears the final status,
// or, when the transfer failed or he heard nothing, a little later (he
// took the call back). Alice hangs up on Carol 2 s to 10 s after the
// answer. The network loses up to 30% of the datagrams, duplicates and
// reorders them. Whatever it did:
//
//	| rule                                                          | RFC                        |
//	|---------------------------------------------------------------|----------------------------|
//	| every call ends once, is answered at most once (or, its peer's  | RFC 3261 §15, §13.3.1.4    |
//	| BYEs all lost, is hung up by its user)                          |                            |
//	| Alice's INVITE to Carol carries Referred-By: Bob and,           | RFC 3892 §3; RFC 3891 §3,  |
//	| attended, the Replaces of Bob's dialog with Carol as Carol      | §6.1                       |
//	| knows it                                                        |                            |
//	| the progress Bob hears comes in NOTIFY CSeq order, is what      | RFC 3515 §2.4.4, §2.4.5    |
//	| Alice's call heard (100, provisional, its final response), the  |                            |
//	| final status once and last                                      |                            |
//	| Bob hears the final status if its NOTIFY reached him while his  | RFC 3515 §2.4.5            |
//	| subscription lasted; it says 200 only if Carol answered Alice,  |                            |
//	| and 486 only if she refused                                     |                            |
//	| transferred: Alice–Carol established, Alice–Bob ended (by Bob's | RFC 5589 §6.1, §7.1        |
//	| BYE); attended, Carol's call with Bob ended, replaced           | RFC 3891 §3                |
//	| Bob's implicit subscription ends once: the final NOTIFY         | RFC 3515 §2.4.5, §2.4.7;   |
//	| (noresource), or the REFER refused or unanswered, or no NOTIFY  | RFC 6665 §4.1.2.4          |
//	| (Timer N), or its expiry                                        |                            |
//
// or a clean failure: the transfer did not happen, every call still ends,
// and afterwards no node holds a call, dialog, subscription, transaction
// or timer.
func TestTransfer(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, transferScenario(tl))
}

// xferWorld is TestTransfer's network and what happened.
type xferWorld struct {
	s                 *sim.Sim
	w                 *wire
	alice, bob, carol *sim.UANode
	attended, refuse  bool
	ab, bc, ac        ua.CallID // Alice's call with Bob, Bob's with Carol, Alice's with Carol
	abAtBob           ua.CallID
	referSub          uint64 // Bob's implicit subscription
	referAt           effects.Time
	bad               error
}

func (x *xferWorld) fail(err error) {
	if x.bad == nil {
		x.bad = fmt.Errorf("at %v: %w", time.Duration(x.s.Now()), err)
	}
}

// transferScenario is TestTransfer's scenario.
func transferScenario(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		x := &xferWorld{s: s, w: watch(s)}
		x.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		x.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
		x.carol = sim.Must(s.AddUA("carol", "192.0.2.3:5060", ua.Config{}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		x.attended = r.IntN(2) == 0
		x.refuse = !x.attended && r.IntN(4) == 0
		dur := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo)) * time.Millisecond }
		bobAnswer, referDelay, retrieve, acHangup := dur(0, 2000), dur(1000, 3000), dur(2000, 5000), dur(2000, 10000)
		carol := sim.Callee{Ring: 180, After: dur(500, 3000), Answer: []byte(sdpAnswer)}
		if x.refuse {
			carol.Reject = 486
		}
		x.carol.Answering(carol)
		x.bob.Answering(sim.Callee{Ring: 180, After: bobAnswer, Answer: []byte(sdpAnswer)})
		refer := func() {
			o := ua.ReferOptions{}
			if x.attended {
				o.Replaces = x.bc
			}
			x.referAt = s.Now()
			err := x.bob.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				var err error
				x.referSub, out, err = x.bob.UA.Refer(now, x.abAtBob, mustURI("sip:carol@192.0.2.3"), o, out)
				return out, err
			})
			if err != nil {
				// A call ended meanwhile: no transfer; Bob hangs up.
				x.referAt = 0
				_ = x.bob.Hangup(x.abAtBob)
				if x.bc != 0 {
					_ = x.bob.Hangup(x.bc)
				}
			}
		}
		// Bob: transfer once the call with Alice is up (attended: once his
		// call with Carol is up too), and hang up when it is over.
		finalHeard := false
		x.bob.On(func(ev effects.Event) {
			switch {
			case ev.Kind == effects.CallAnswered && ev.ID == x.abAtBob:
				if !x.attended {
					s.After(referDelay, refer)
					return
				}
				id, err := x.bob.Call("sip:carol@192.0.2.3", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp})
				if err != nil {
					x.fail(err)
				}
				x.bc = id
			case ev.Kind == effects.CallAnswered && ev.ID == x.bc && x.bc != 0:
				s.After(referDelay, refer)
			case (ev.Kind == effects.CallFailed || ev.Kind == effects.CallEnded) && ev.ID == x.bc && x.referAt == 0:
				// The consultation failed: no transfer.
				_ = x.bob.Hangup(x.abAtBob)
			case ev.Kind == effects.TransferProgress && ev.Code >= 200:
				finalHeard = true
				if ev.Code < 300 {
					_ = x.bob.Hangup(x.abAtBob)
					return
				}
				s.After(retrieve, func() { x.bobHangsUp() })
			case ev.Kind == effects.SubscriptionEnded && ev.ID == x.referSub && !finalHeard:
				s.After(retrieve, func() { x.bobHangsUp() })
			}
		})
		x.bob.On(func(ev effects.Event) {
			if ev.Kind == effects.CallIncoming && x.abAtBob == 0 {
				x.abAtBob = ev.ID
			}
		})
		// Alice: carry out the REFER; hang up on Carol after a while.
		x.alice.On(func(ev effects.Event) {
			switch {
			case ev.Kind == effects.ReferIncoming:
				if x.ac != 0 {
					x.fail(errors.New("a second ReferIncoming at Alice"))
					return
				}
				err := x.alice.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return x.alice.UA.AcceptRefer(now, ev.ID, out)
				})
				if err != nil {
					return
				}
				target, err := x.alice.UA.ReferTarget(ev.ID)
				if err != nil {
					x.fail(err)
					return
				}
				err = x.alice.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					var err error
					x.ac, out, err = x.alice.UA.Call(now, target, ua.CallOptions{Refer: ev.ID, Body: []byte(sdpOffer), Dest: x.carol.Peer(), Expires: giveUp}, out)
					return out, err
				})
				if err != nil {
					x.fail(err)
				}
			case ev.Kind == effects.CallAnswered && ev.ID == x.ac && x.ac != 0:
				s.After(acHangup, func() { _ = x.alice.Hangup(x.ac) })
			}
		})
		var err error
		if x.ab, err = x.alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		if err := s.Run(effects.Time(callPhase)); err != nil {
			return s, err
		}
		if x.bad != nil {
			return s, x.bad
		}
		outcome, err := x.verify()
		if err != nil {
			return s, err
		}
		tl.add(outcome)
		if err := stopAtOutcome(outcome); err != nil {
			return s, err
		}
		if err := hangUpOpenCalls(x.w, x.alice, x.bob, x.carol); err != nil {
			return s, err
		}
		if err := s.RunUntilQuiet(time.Hour); err != nil {
			return s, err
		}
		return s, s.CheckQuiet()
	}
}

// bobHangsUp ends Bob's calls after a failed transfer: he took Alice's
// call back, and hangs up.
func (x *xferWorld) bobHangsUp() {
	_ = x.bob.Hangup(x.abAtBob)
	if x.bc != 0 {
		_ = x.bob.Hangup(x.bc)
	}
}

// callCallID returns the Call-ID of a call, from the first of its events
// that carries a message.
func callCallID(c call) string {
	for _, e := range c.events {
		if e.Msg != nil {
			return e.Msg.CallID()
		}
	}
	return ""
}

// hangUpOpenCalls checks the calls of the UAs still open, which is allowed only
// for an established call whose peer's BYEs were all lost (RFC 3261 accepts
// it), and has their users hang them up.
func hangUpOpenCalls(w *wire, uas ...*sim.UANode) error {
	for _, u := range uas {
		if err := wellFormed(u.Node, true); err != nil {
			return err
		}
		for _, c := range calls(u.Node) {
			if terminal(c.last().Kind) {
				continue
			}
			_, answered := c.has(effects.CallAnswered)
			id := callCallID(c)
			sent, got := 0, 0
			for _, r := range w.allSent("BYE") {
				if r.Peer == u.Node && parse(r).CallID() == id {
					sent++
				}
			}
			for _, r := range w.find(sim.OpRecv, u.Node, nil, "BYE") {
				if parse(r).CallID() == id {
					got++
				}
			}
			if !answered || sent == 0 || got != 0 {
				return fmt.Errorf("%s still holds %s", u.Name(), c)
			}
			if err := u.Hangup(c.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// xferCall returns a node's call id's events.
func xferCall(n *sim.Node, id ua.CallID) (call, bool) {
	for _, c := range calls(n) {
		if c.id == id {
			return c, true
		}
	}
	return call{}, false
}

// verify checks TestTransfer's rules once the calls are over, and names
// the outcome.
func (x *xferWorld) verify() (string, error) {
	w := x.w
	if n := len(calls(x.alice.Node)); n > 2 || n == 2 && x.ac == 0 {
		return "", fmt.Errorf("Alice has %d calls", n)
	}
	if n := len(calls(x.bob.Node)); n > 2 || !x.attended && n > 1 {
		return "", fmt.Errorf("Bob has %d calls", n)
	}
	// The INVITE for the REFER.
	for _, r := range w.allFrom(x.alice.Node, x.carol.Node, "INVITE") {
		m := parse(r)
		if rb, _ := m.Get("Referred-By"); rb != "<sip:bob@example.com>" {
			return "", fmt.Errorf("Alice's INVITE to Carol has Referred-By %q", rb)
		}
		rep, ok, err := message.First[header.Replaces](m)
		if x.attended != ok || err != nil {
			return "", fmt.Errorf("Alice's INVITE to Carol: Replaces %v, %v", ok, err)
		}
		if ok {
			if err := x.replacesBC(rep); err != nil {
				return "", err
			}
		}
	}
	// The progress Bob heard.
	ac, _ := xferCall(x.alice.Node, x.ac)
	var acCodes []int // the statuses Alice's call heard, 100 for the accept
	if x.ac != 0 {
		acCodes = append(acCodes, 100)
		for _, r := range w.find(sim.OpRecv, x.alice.Node, x.carol.Node, "") {
			if m := parse(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.StatusCode() > 100 {
				acCodes = append(acCodes, m.StatusCode())
			}
		}
	}
	var last uint32
	final := 0
	for _, e := range x.bob.Events() {
		if e.Kind != effects.TransferProgress {
			continue
		}
		if final != 0 {
			return "", fmt.Errorf("Bob heard progress %d after the final %d", e.Code, final)
		}
		seq := e.Msg.CSeq().Seq
		if seq <= last {
			return "", fmt.Errorf("Bob heard NOTIFY CSeq %d after %d", seq, last)
		}
		last = seq
		if !slices.Contains(acCodes, e.Code) && !((e.Code == 408 || e.Code == 487) && x.ac != 0) {
			return "", fmt.Errorf("Bob heard %d; Alice's call heard %v", e.Code, acCodes)
		}
		if e.Code >= 200 {
			final = e.Code
		}
	}
	_, acAnswered := ac.has(effects.CallAnswered)
	switch {
	case final >= 200 && final < 300 && !acAnswered:
		return "", errors.New("Bob heard 200, but Carol did not answer Alice")
	case final >= 300 && acAnswered:
		return "", fmt.Errorf("Bob heard %d, but Carol answered Alice", final)
	case final == 486 && !x.refuse:
		return "", errors.New("Bob heard 486, though Carol does not refuse")
	}
	// The final NOTIFY reached Bob while his subscription lasted: he heard
	// it.
	if final == 0 && x.referSub != 0 {
		end, _ := subEnd(x.bob.Node, x.referSub)
		for _, r := range w.find(sim.OpRecv, x.bob.Node, x.alice.Node, "NOTIFY") {
			m := parse(r)
			if code, _ := fragCode(m.Body()); code >= 200 && (end == nil || r.At < end.At) {
				return "", fmt.Errorf("the final NOTIFY (%d) reached Bob, unheard", code)
			}
		}
	}
	if err := x.referEnd(final); err != nil {
		return "", err
	}
	// The calls.
	ab, _ := xferCall(x.alice.Node, x.ab)
	if !acAnswered {
		switch {
		case x.referAt == 0:
			return "no transfer: a call failed", nil
		case x.ac == 0:
			return "no transfer: the REFER did not reach Alice", nil
		case x.refuse:
			return "transfer refused by Carol", nil
		}
		return "transfer failed", nil
	}
	// Transferred: Alice–Bob ended by Bob (or open, his BYEs lost).
	if e := ab.last(); terminal(e.Kind) && !errors.Is(e.Err, ua.ErrRemoteBye) {
		return "", fmt.Errorf("transferred, and Alice's call with Bob ended so: %s", ab)
	}
	if x.attended {
		// Carol's call with Bob ended, replaced (or hung up by her UA
		// once its ACK came, RFC 3261 §15).
		cc := calls(x.carol.Node)
		if len(cc) != 2 {
			return "", fmt.Errorf("Carol has %d calls", len(cc))
		}
		e := cc[0].last()
		// Or, when every ACK of Bob's was lost, ended by its 2xx never
		// acknowledged (§13.3.1.4): her UA hangs up a replaced call only
		// once its ACK came (§15).
		noAck := errors.Is(e.Err, ua.ErrNoAck) && len(x.w.find(sim.OpRecv, x.carol.Node, x.bob.Node, "ACK")) == 0
		if !oneOf(e.Err, ua.ErrReplaced, ua.ErrHangup) && !noAck {
			return "", fmt.Errorf("Carol's call with Bob ended so: %s", cc[0])
		}
		if in, _ := cc[1].has(effects.CallIncoming); in.Ref != cc[0].id {
			return "", fmt.Errorf("Carol's call from Alice replaces call %d, not %d", in.Ref, cc[0].id)
		}
		return "attended transfer done", nil
	}
	return "blind transfer done", nil
}

// replacesBC checks that a Replaces names Bob's call with Carol as Carol
// knows it (RFC 3891 §6.1: to-tag hers, from-tag Bob's).
func (x *xferWorld) replacesBC(rep header.Replaces) error {
	for _, r := range x.w.allFrom(x.bob.Node, x.carol.Node, "INVITE") {
		inv := parse(r)
		if rep.CallID != inv.CallID() || rep.FromTag() != inv.FromTag() {
			break
		}
		for _, r := range x.w.allFrom(x.carol.Node, x.bob.Node, "200 INVITE") {
			if ok := parse(r); ok.CallID() == inv.CallID() && ok.ToTag() == rep.ToTag() {
				return nil
			}
		}
	}
	return fmt.Errorf("Replaces %s names no dialog of Bob's with Carol", header.String(&rep))
}

// referEnd checks how Bob's implicit subscription ended.
func (x *xferWorld) referEnd(final int) error {
	if x.referSub == 0 {
		return nil
	}
	end, n := subEnd(x.bob.Node, x.referSub)
	switch {
	case n != 1:
		return fmt.Errorf("Bob's REFER subscription ended %d times", n)
	case final != 0 && !errors.Is(end.Err, ua.ErrNoResource):
		return fmt.Errorf("Bob heard the final status, and his subscription ended so: %v", end.Err)
	case final == 0 && !oneOf(end.Err, ua.ErrSubscribeFailed, ua.ErrNoNotify, ua.ErrSubTimeout, ua.ErrDialogGone):
		return fmt.Errorf("Bob's subscription ended so: %d %v", end.Code, end.Err)
	case errors.Is(end.Err, ua.ErrSubscribeFailed) && (end.Code != 408 || len(x.w.find(sim.OpRecv, x.bob.Node, x.alice.Node, "202 REFER")) > 0):
		return fmt.Errorf("Bob's REFER failed with %d", end.Code)
	}
	return nil
}

// subEnd returns a node's SubscriptionEnded for subscription id, and how
// many it had.
func subEnd(n *sim.Node, id uint64) (*sim.Event, int) {
	var end *sim.Event
	count := 0
	for _, e := range n.Events() {
		if e.Kind == effects.SubscriptionEnded && e.ID == id {
			end = &e
			count++
		}
	}
	return end, count
}

// fragCode reads the status code of a message/sipfrag body.
func fragCode(body string) (int, bool) {
	f := strings.Fields(body)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, false
	}
	var code int
	_, err := fmt.Sscanf(f[1], "%d", &code)
	return code, err == nil
}
