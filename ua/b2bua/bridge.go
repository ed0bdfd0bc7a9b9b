package b2bua

import (
	"errors"
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
)

// errNoAnswer ends a late offer bridge whose caller acknowledged the 2xx's
// offer without an answer (RFC 3261 §13.2.1 requires one in the ACK).
var errNoAnswer = errors.New("b2bua: the ACK carried no answer to the 2xx's offer")

// callLeg is one call of a bridge.
type callLeg struct {
	ua *ua.UA
	id ua.CallID
	// up: answered (its 2xx sent or received); acked: the incoming leg's
	// ACK arrived; established: its first offer/answer exchange completed;
	// done: it ended.
	up, acked, established, done bool
}

// unsure reports whether the leg's peer may not know its dialog yet: an
// incoming leg whose 2xx is not acknowledged. No request goes in it then
// (RFC 3261 §15 says so of BYE; a request that crosses the 2xx gets 481,
// which ends the dialog, RFC 5057 §5.1).
func (l *callLeg) unsure(br *bridge) bool { return l == &br.a && l.up && !l.acked }

// modify is a re-INVITE or UPDATE relayed from one leg to the other.
type modify struct{ from, to *callLeg }

// bridge is an incoming call (a) and the outgoing call (b) it was joined to.
type bridge struct {
	id   uint64
	a, b callLeg
	// offer and offerType are the incoming INVITE's description; late is
	// set when the outgoing INVITE went without one.
	offer     []byte
	offerType string
	late      bool
	// early is b's last early description, the answer a's 2xx repeats when
	// b's 2xx has none.
	early []byte
	// ackWait: b's 2xx offered (late offer), a's 2xx carried the offer,
	// and a's ACK's answer goes to b.
	ackWait bool
	modify  *modify
	// code and err say how the bridge ended: the response relayed to the
	// caller, and why the first leg ended.
	code     int
	err      error
	finished bool
}

// leg returns the bridge's leg for the call id on u, and the other one.
func (br *bridge) leg(u *ua.UA, id ua.CallID) (this, other *callLeg) {
	switch {
	case br.a.ua == u && br.a.id == id:
		return &br.a, &br.b
	case br.b.ua == u && br.b.id == id:
		return &br.b, &br.a
	}
	return nil, nil
}

// other returns the leg that is not the call id on u.
func (br *bridge) other(u *ua.UA, id ua.CallID) *callLeg {
	_, o := br.leg(u, id)
	return o
}

// connect carries out a routing decision.
func (br *bridge) connect(now effects.Time, b *B2BUA, d Decision, out []Effect) ([]Effect, error) {
	if d.Reject != 0 {
		br.code = failureCode(d.Reject)
		return b.run(now, br.a.ua, func(o []effects.Effect) ([]effects.Effect, error) {
			return br.a.ua.Reject(now, br.a.id, br.code, o)
		}, out)
	}
	opts := d.Options
	if opts.Body == nil && len(br.offer) > 0 {
		opts.Body, opts.ContentType = br.offer, br.offerType
	}
	br.late = len(opts.Body) == 0
	if opts.Expires <= 0 {
		opts.Expires = b.cfg.NoAnswer
	}
	u := b.otherUA(br.a.ua)
	var id ua.CallID
	out, err := b.run(now, u, func(o []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, o, err = u.Call(now, d.Target, opts, o)
		return o, err
	}, out)
	if err != nil {
		err = fmt.Errorf("%w: to %s: %w", ErrRoute, d.Target, err)
		br.err, br.code = err, 500
		out, _ = b.run(now, br.a.ua, func(o []effects.Effect) ([]effects.Effect, error) {
			return br.a.ua.Reject(now, br.a.id, 500, o)
		}, out)
		return out, err
	}
	br.b = callLeg{ua: u, id: id}
	b.legs[legKey{u, id}] = br
	return out, nil
}

// event handles an event of one of the bridge's calls.
func (br *bridge) event(now effects.Time, b *B2BUA, u *ua.UA, ev effects.Event, out []Effect) []Effect {
	l, o := br.leg(u, ev.ID)
	if l == nil || l.done {
		return out
	}
	switch ev.Kind {
	case effects.CallRinging:
		if l == &br.b {
			return br.ringing(now, b, ev.Msg, out)
		}
	case effects.CallAnswered:
		if l == &br.b {
			return br.answered(now, b, ev.Msg, out)
		}
		l.acked = true
		if br.ackWait {
			// a's ACK came without the answer b waits for.
			br.ackWait = false
			br.err = errNoAnswer
			out = b.hangup(now, &br.b, out)
			return b.hangup(now, &br.a, out)
		}
	case effects.SessionEstablished:
		l.established = true
		if l == &br.a && br.ackWait && ev.Msg != nil && len(ev.Msg.Body()) > 0 {
			br.ackWait = false
			out, _ = b.run(now, br.b.ua, func(out []effects.Effect) ([]effects.Effect, error) {
				return br.b.ua.Accept(now, br.b.id, []byte(ev.Msg.Body()), out)
			}, out)
		}
	case effects.CallFailed, effects.CallEnded:
		return br.ended(now, b, l, o, ev, out)
	case effects.CallReinvite:
		return br.reinvite(now, b, l, o, ev.Msg, out)
	case effects.SessionModified:
		if md := br.modify; md != nil && md.to == l && ev.Msg != nil && ev.Msg.IsResponse() {
			br.modify = nil
			out, _ = b.run(now, md.from.ua, func(out []effects.Effect) ([]effects.Effect, error) {
				return md.from.ua.Accept(now, md.from.id, []byte(ev.Msg.Body()), out)
			}, out)
		}
	case effects.CallUpdateFailed:
		if md := br.modify; md != nil && md.to == l {
			br.modify = nil
			out = b.decline(now, md.from, declineCode(ev.Code), out)
		}
	}
	return out
}

// ringing relays a provisional response of b to a (RFC 3261 §16.7 step 5
// does the same in a proxy): its code, and its description but in the late
// offer case.
func (br *bridge) ringing(now effects.Time, b *B2BUA, m *message.Message, out []Effect) []Effect {
	if br.a.done || br.a.up || m == nil {
		return out
	}
	o := ua.RingOptions{Code: m.StatusCode(), Reliable: b.cfg.Reliable}
	if body := m.Body(); len(body) > 0 && !br.late {
		o.Body = []byte(body)
		br.early = o.Body
	}
	// A refusal (a reliable provisional response still unacknowledged on
	// a, RFC 3262 §3) drops this one; the 2xx carries the answer anyway.
	out, _ = b.run(now, br.a.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return br.a.ua.Ring(now, br.a.id, o, out)
	}, out)
	return out
}

// answered relays b's 2xx to a: a is answered with b's description (the
// answer, or in the late offer case b's offer).
func (br *bridge) answered(now effects.Time, b *B2BUA, m *message.Message, out []Effect) []Effect {
	br.b.up = true
	if br.a.done {
		return b.hangup(now, &br.b, out)
	}
	var body []byte
	if m != nil {
		body = []byte(m.Body())
	}
	switch {
	case br.late:
		br.ackWait = len(body) > 0
	case br.a.established:
		body = nil // a's reliable provisional response carried the answer
	case len(body) == 0:
		body = br.early
	}
	out, err := b.run(now, br.a.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return br.a.ua.Answer(now, br.a.id, body, out)
	}, out)
	if err != nil {
		br.ackWait = false
		if br.err == nil {
			br.err = fmt.Errorf("b2bua: answering the incoming leg: %w", err)
		}
		out = b.hangup(now, &br.b, out)
		return b.hangup(now, &br.a, out)
	}
	if br.a.done {
		return out
	}
	br.a.up = true
	return append(out, bridgeEvent(effects.Event{Kind: effects.BridgeAnswered, ID: br.id, Ref: br.b.id, Msg: m}))
}

// ended handles the end of leg l: the other leg o ends too, with the
// failure relayed when it is the unanswered incoming call.
func (br *bridge) ended(now effects.Time, b *B2BUA, l, o *callLeg, ev effects.Event, out []Effect) []Effect {
	l.done = true
	br.modify, br.ackWait = nil, false
	if br.err == nil {
		br.err = ev.Err
	}
	switch {
	case o.ua == nil || o.done:
	case o == &br.a && !br.a.up:
		code := failureCode(ev.Code)
		if br.code == 0 {
			br.code = code
		}
		out, _ = b.run(now, o.ua, func(out []effects.Effect) ([]effects.Effect, error) {
			return o.ua.Reject(now, o.id, code, out)
		}, out)
		if !o.done {
			out = b.hangup(now, o, out)
		}
	default:
		out = b.hangup(now, o, out)
	}
	return br.finish(b, out)
}

// finish removes the bridge once both legs ended.
func (br *bridge) finish(b *B2BUA, out []Effect) []Effect {
	if br.finished || !br.a.done || br.b.ua != nil && !br.b.done {
		return out
	}
	br.finished = true
	delete(b.bridges, br.id)
	delete(b.legs, legKey{br.a.ua, br.a.id})
	if br.b.ua != nil {
		delete(b.legs, legKey{br.b.ua, br.b.id})
	}
	return append(out, bridgeEvent(effects.Event{Kind: effects.BridgeEnded, ID: br.id, Code: br.code, Err: br.err}))
}

// reinvite relays a re-INVITE or UPDATE (m) of leg l's peer to leg o's
// peer, in the same method (RFC 3311 §5.1 allows UPDATE in an early dialog
// too); a refusal here declines it at once, 491 when an offer is already
// pending (RFC 3261 §14.2, RFC 3311 §5.2).
func (br *bridge) reinvite(now effects.Time, b *B2BUA, l, o *callLeg, m *message.Message, out []Effect) []Effect {
	if m == nil || br.modify != nil || o.ua == nil || o.done || o.unsure(br) {
		return b.decline(now, l, 491, out)
	}
	opts := ua.UpdateOptions{UseUpdate: m.Method() == "UPDATE"}
	out, err := b.run(now, o.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return o.ua.Update(now, o.id, []byte(m.Body()), opts, out)
	}, out)
	if err != nil {
		code := 488
		if errors.Is(err, ua.ErrPending) {
			code = 491
		}
		return b.decline(now, l, code, out)
	}
	if !l.done && !o.done {
		br.modify = &modify{from: l, to: o}
	}
	return out
}

// decline refuses the re-INVITE or UPDATE waiting on leg l.
func (b *B2BUA) decline(now effects.Time, l *callLeg, code int, out []Effect) []Effect {
	out, _ = b.run(now, l.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return l.ua.Decline(now, l.id, code, out)
	}, out)
	return out
}

// hangup ends leg l (CANCEL, BYE or a 603, as its state asks). A UA that no
// longer knows the call has ended it already.
func (b *B2BUA) hangup(now effects.Time, l *callLeg, out []Effect) []Effect {
	if l.ua == nil || l.done {
		return out
	}
	out, err := b.run(now, l.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return l.ua.Hangup(now, l.id, out)
	}, out)
	if errors.Is(err, ua.ErrNoCall) && !l.done {
		l.done = true
		if br := b.legs[legKey{l.ua, l.id}]; br != nil {
			out = br.finish(b, out)
		}
	}
	return out
}

// failureCode maps the final response that ended the outgoing leg to the
// one the incoming leg is rejected with: 4xx, 5xx and 6xx pass unchanged
// (6xx keeps its global meaning, RFC 3261 §21.6), but for those that would
// mislead the caller: a 3xx (the B2BUA follows no redirection and Reject
// carries no Contact) becomes 480; a 401 or 407 (a challenge for the B2BUA's
// own credentials) becomes 403; a 503 (the callee's overload, not ours; RFC
// 3261 §16.7 step 6 does the same in a proxy) becomes 500. Anything else
// (no response, a 1xx or 2xx) becomes 500.
func failureCode(code int) int {
	switch {
	case code >= 300 && code < 400:
		return 480
	case code == 401 || code == 407:
		return 403
	case code == 503:
		return 500
	case code >= 400 && code <= 699:
		return code
	}
	return 500
}

// declineCode maps the refusal of a relayed re-INVITE or UPDATE to the
// code the original one is declined with: the same, but for those that
// would mislead (a challenge, an overload, anything not 4xx to 6xx), which
// become 488 (Not Acceptable Here).
func declineCode(code int) int {
	if code < 400 || code > 699 || code == 401 || code == 407 || code == 503 {
		return 488
	}
	return code
}
