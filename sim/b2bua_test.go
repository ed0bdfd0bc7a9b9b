package sim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// TestB2BUA: Alice calls the B2BUA (RFC 7092 §3.1's signalling-only
// B2BUA: two UAs, the inside one at 192.0.2.10 and the outside one at
// 192.0.2.11), which places the outside leg to Carol with Alice's offer
// (RFC 3261 §13.2.1, RFC 3264) and relays Carol's responses back. For two
// thirds of the seeds Carol answers within 3 s, and then Alice or Carol
// (the seed decides) hangs up 1 s to 10 s later; a quarter of those calls
// offer late (Alice's INVITE has no body: Carol offers in her 2xx, Alice
// answers in her ACK, §13.2.1). For the other third Carol would answer
// only after 30 s to 60 s, and Alice gives up after 2 s to 10 s
// (CallOptions.Expires, §13.2.1): a CANCEL (§9.1). The network loses up to
// 30% of the datagrams, duplicates and reorders them. Whatever it did:
//
//	| rule                                                          | RFC                       |
//	|---------------------------------------------------------------|---------------------------|
//	| each leg's call comes out as any call does (expect.check: Timer | RFC 3261 §13, §15, §17     |
//	| B, a failure relayed, a BYE lost and the user hanging up...)   |                           |
//	| the offer crosses the B2BUA unchanged: Carol's INVITE carries   | RFC 3264 §5, §6; RFC 7092 |
//	| Alice's, Alice's 2xx Carol's answer; late: Alice's 2xx carries  | §3.1; RFC 3261 §13.2.1    |
//	| Carol's offer and Carol's ACK Alice's answer                    |                           |
//	| Alice's call is answered only once Carol's leg is: the B2BUA    | RFC 7092 §3.1             |
//	| answered (BridgeAnswered) after Carol's 2xx                     |                           |
//	| a BYE on either side tears down the other: the other end hears  | RFC 3261 §15.1.2          |
//	| the B2BUA's BYE (or, every one lost, its user hangs up)         |                           |
//	| Alice's CANCEL ends her call with 487 and cancels the outside   | RFC 3261 §9.1, §9.2       |
//	| leg: the B2BUA sends CANCEL to Carol, whose call ends with 487  |                           |
//	| (or, her 2xx having crossed it, with the B2BUA's BYE)           |                           |
//	| the bridge ends once, after both legs                          |                           |
//
// and afterwards the B2BUA holds no bridge, relay, call, dialog,
// transaction or timer, nor do Alice and Carol.
func TestB2BUA(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, b2buaScenario(tl))
}

// b2bLateAnswer is Alice's answer in her ACK to Carol's offer.
const b2bLateAnswer = "v=0\r\no=alice 2890844527 2890844527 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// b2buaScenario is TestB2BUA's scenario.
func b2buaScenario(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		carol := sim.Must(s.AddUA("carol", "192.0.2.3:5060", ua.Config{}))
		b2b := sim.Must(s.AddB2BUA("b2bua", "192.0.2.10:5060", "192.0.2.11:5060", ua.Config{}, ua.Config{}, b2bua.Config{
			Route: func(*ua.UA, effects.Event) b2bua.Decision {
				return b2bua.Decision{Target: mustURI("sip:carol@192.0.2.3"), Options: ua.CallOptions{Dest: carol.Peer()}}
			}}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		cancel := r.IntN(3) == 0
		late := !cancel && r.IntN(4) == 0
		opts := ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}
		if late {
			opts = ua.CallOptions{LateAnswer: []byte(b2bLateAnswer), Expires: giveUp}
		}
		if cancel {
			carol.Answering(sim.Callee{Ring: 180, After: time.Duration(30000+r.IntN(30000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
			opts.Expires = time.Duration(2+r.IntN(9)) * time.Second
		} else {
			carol.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
			hangup := alice
			if r.IntN(2) == 0 {
				hangup = carol
			}
			hangup.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		}
		if _, err := alice.Call("sip:carol@192.0.2.10", opts); err != nil {
			return s, err
		}
		bw := &b2bWorld{s: s, w: w, alice: alice, carol: carol, b2b: b2b, late: late}
		var outcome string
		if cancel {
			var err error
			if outcome, err = bw.cancelled(opts.Expires); err != nil {
				return s, err
			}
			tl.add("cancel: " + outcome)
			if err := stopAtOutcome("cancel: " + outcome); err != nil {
				return s, err
			}
		} else if err := (expect{tally: tl, caller: alice, callees: []*sim.UANode{carol}, proxied: true}).check(s, w); err != nil {
			return s, err
		}
		return s, bw.verify()
	}
}

// b2bWorld is TestB2BUA's network.
type b2bWorld struct {
	s     *sim.Sim
	w     *wire
	alice *sim.UANode
	carol *sim.UANode
	b2b   *sim.B2BUANode
	late  bool
}

// cancelled runs the cancel variant's call, checks its outcome and
// returns its name; then the network falls quiet.
func (x *b2bWorld) cancelled(expires time.Duration) (string, error) {
	s, w := x.s, x.w
	if err := s.Run(effects.Time(callPhase)); err != nil {
		return "", err
	}
	ac := calls(x.alice.Node)
	if len(ac) != 1 {
		return "", fmt.Errorf("Alice has %d calls", len(ac))
	}
	a := ac[0]
	end := a.last()
	var outcome string
	_, answered := a.has(effects.CallAnswered)
	gotProvisional := false
	for _, r := range w.find(sim.OpRecv, x.alice.Node, nil, "1") {
		if r.At <= end.At {
			gotProvisional = true
		}
	}
	switch {
	case answered:
		// Carol's 2xx crossed the CANCEL: Alice hangs up at once.
		outcome = "the 2xx crossed the CANCEL"
		if end.Kind != effects.CallEnded || !oneOf(end.Err, ua.ErrHangup, ua.ErrRemoteBye) {
			return "", fmt.Errorf("Alice's call: %s", a)
		}
	case end.Kind == effects.CallEnded && errors.Is(end.Err, ua.ErrHangup) && gotProvisional:
		// She cancelled, every CANCEL (or its answer) was lost, and
		// Carol's 2xx came through before the B2BUA could cancel her: the
		// 2xx wins (§9.1: CANCEL has no effect once a final response was
		// sent), Alice acknowledges it and hangs up with a BYE (§15).
		outcome = "the 2xx came after her unanswered CANCEL"
		if len(w.allFrom(x.alice.Node, nil, "CANCEL")) == 0 || len(w.find(sim.OpRecv, x.alice.Node, nil, "487")) > 0 ||
			len(w.find(sim.OpRecv, x.alice.Node, nil, "200 INVITE")) == 0 || len(w.allFrom(x.alice.Node, nil, "BYE")) == 0 {
			return "", fmt.Errorf("Alice's call: %s", a)
		}
	case end.Kind == effects.CallEnded && errors.Is(end.Err, ua.ErrHangup):
		// She gave up before any provisional response, so no CANCEL could
		// go (§9.1); the 2xx came: she acknowledges it and hangs up with a
		// BYE (§13.2.2.4, §15).
		outcome = "the 2xx came after she gave up, before any provisional"
		if gotProvisional || len(w.find(sim.OpRecv, x.alice.Node, nil, "200 INVITE")) == 0 || len(w.allFrom(x.alice.Node, nil, "BYE")) == 0 {
			return "", fmt.Errorf("Alice's call: %s", a)
		}
	case end.Kind == effects.CallFailed && end.Code == 487 && errors.Is(end.Err, ua.ErrCancelled):
		outcome = "cancelled"
		if !gotProvisional || end.At < effects.Time(expires) {
			return "", fmt.Errorf("Alice's call cancelled early, or without a provisional response: %s", a)
		}
	case end.Kind == effects.CallFailed && end.Code == 408 && !gotProvisional && end.At == effects.Time(T1x4):
		outcome = "no response: Timer B"
	default:
		return "", fmt.Errorf("Alice's call: %s", a)
	}
	// The B2BUA cancelled the outside leg as soon as the inside one was
	// cancelled, if Carol's provisional response had come (§9.1), else as
	// soon as it came; Carol's call ended with 487, or answered, with the
	// B2BUA's BYE.
	// Carol's call (as any callee's, calleeEnd) ended with 487, or
	// answered: by the B2BUA's BYE, her 2xx having crossed its CANCEL; or,
	// no response of hers having reached the B2BUA before its Timer B
	// (§9.1: no CANCEL before a provisional response), for want of an ACK
	// (§13.3.1.4; the B2BUA discards the stray 2xx, §18.1.2).
	if cc := calls(x.carol.Node); len(cc) > 0 && terminal(cc[0].last().Kind) {
		if err := calleeEnd(x.carol, cc[0]); err != nil {
			return "", err
		}
		if e := cc[0].last(); e.Code != 487 {
			outcome += ", Carol's answer came too late: " + e.Err.Error()
		}
	}
	if in := x.legEnd(x.b2b.Inside); in != nil && errors.Is(in.Err, ua.ErrCancelled) {
		prov := w.find(sim.OpRecv, x.b2b.Node, x.carol.Node, "1")
		due := effects.Time(-1)
		if len(prov) > 0 {
			due = max(prov[0].At, in.At)
		}
		oks := w.find(sim.OpRecv, x.b2b.Node, x.carol.Node, "200 INVITE")
		crossed := len(oks) > 0 && (due < 0 || oks[0].At <= due)
		cancels := w.allFrom(x.b2b.Node, x.carol.Node, "CANCEL")
		if !crossed && due >= 0 && (len(cancels) == 0 || cancels[0].At != due) {
			return "", fmt.Errorf("the inside leg was cancelled at %v, the outside leg's CANCEL went at %v", time.Duration(in.At), cancels)
		}
	}
	if err := hangUpOpenCalls(w, x.alice, x.carol); err != nil {
		return "", err
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		return "", err
	}
	return outcome, s.CheckQuiet()
}

// legEnd returns the end (CallFailed or CallEnded) of the B2BUA's call on
// leg, or nil.
func (x *b2bWorld) legEnd(leg *ua.UA) *sim.Event {
	for _, e := range x.b2b.LegEvents(leg) {
		if terminal(e.Kind) {
			return &sim.Event{Event: e, At: x.legEventAt(leg, e)}
		}
	}
	return nil
}

// legEventAt returns when a leg's event happened: the node records every
// event, its legs' among them, in order.
func (x *b2bWorld) legEventAt(leg *ua.UA, ev effects.Event) effects.Time {
	for _, e := range x.b2b.Events() {
		if e.Kind == ev.Kind && e.ID == ev.ID && e.Err == ev.Err && e.Code == ev.Code {
			return e.At
		}
	}
	return -1
}

// verify checks what crosses the B2BUA (see TestB2BUA), once all is
// quiet.
func (x *b2bWorld) verify() error {
	w := x.w
	// The offer and answer.
	for _, r := range w.find(sim.OpRecv, x.carol.Node, x.b2b.Node, "INVITE") {
		want := sdpOffer
		if x.late {
			want = ""
		}
		if got := parse(r).Body(); got != want {
			return fmt.Errorf("Carol's INVITE carries %q, not Alice's offer", got)
		}
	}
	a := calls(x.alice.Node)[0]
	if ev, ok := a.has(effects.CallAnswered); ok {
		if got := ev.Msg.Body(); got != sdpAnswer {
			return fmt.Errorf("Alice's 2xx carries %q, not Carol's description", got)
		}
		// The B2BUA answered Alice once Carol's 2xx had come.
		oks := w.find(sim.OpRecv, x.b2b.Node, x.carol.Node, "200 INVITE")
		aOKs := w.allFrom(x.b2b.Node, x.alice.Node, "200 INVITE")
		if len(oks) == 0 || len(aOKs) == 0 || aOKs[0].At < oks[0].At {
			return errors.New("the B2BUA answered Alice before Carol answered it")
		}
		if x.b2b.Count(effects.BridgeAnswered) != 1 {
			return fmt.Errorf("%d BridgeAnswered", x.b2b.Count(effects.BridgeAnswered))
		}
		if x.late {
			// Alice's answer, in her ACK, reached Carol in the B2BUA's ACK.
			acks := w.find(sim.OpRecv, x.carol.Node, x.b2b.Node, "ACK")
			for _, r := range acks {
				if got := parse(r).Body(); got != b2bLateAnswer {
					return fmt.Errorf("Carol's ACK carries %q, not Alice's answer", got)
				}
			}
		}
	}
	// A BYE on one side tore down the other.
	for _, pair := range [][2]*sim.UANode{{x.alice, x.carol}, {x.carol, x.alice}} {
		from, to := pair[0], pair[1]
		cs := calls(from.Node)
		if len(cs) == 0 || !errors.Is(cs[0].last().Err, ua.ErrHangup) {
			continue
		}
		if _, answered := cs[0].has(effects.CallAnswered); !answered {
			continue
		}
		tc := calls(to.Node)
		if len(tc) == 0 {
			return fmt.Errorf("%s hung up; %s had no call", from.Name(), to.Name())
		}
		if e := tc[0].last(); !oneOf(e.Err, ua.ErrRemoteBye, ua.ErrHangup, ua.ErrNoAck) {
			return fmt.Errorf("%s hung up, and %s's call ended so: %s", from.Name(), to.Name(), tc[0])
		}
		if len(w.allFrom(x.b2b.Node, to.Node, "BYE")) == 0 && len(w.allFrom(to.Node, x.b2b.Node, "BYE")) == 0 {
			return fmt.Errorf("%s hung up, and no BYE went between the B2BUA and %s", from.Name(), to.Name())
		}
	}
	// The bridge ended once.
	if len(w.find(sim.OpRecv, x.b2b.Node, x.alice.Node, "INVITE")) > 0 {
		if n := x.b2b.Count(effects.BridgeEnded); n != 1 {
			return fmt.Errorf("the bridge ended %d times", n)
		}
	}
	return nil
}
