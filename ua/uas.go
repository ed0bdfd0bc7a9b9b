package ua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// request handles a request that created a server transaction.
func (u *UA) request(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	if m.ToTag() != "" {
		return u.inDialog(now, ev, out)
	}
	method := m.Method()
	if code, fill := u.inspect(m); code != 0 {
		return u.reply(now, ev.ID, m, code, "", fill, out)
	}
	switch method {
	case "INVITE":
		return u.incoming(now, ev, out)
	case "OPTIONS":
		return u.reply(now, ev.ID, m, 200, "", u.capabilities, out)
	case "SUBSCRIBE", "REFER":
		return u.subscribeIncoming(now, ev, nil, nil, out)
	case "BYE", "UPDATE", "PRACK", "INFO", "NOTIFY":
		// Requests that only exist in a dialog, outside any: no such
		// dialog (§12.2.2, RFC 6086 §4.2.1).
		return u.reply(now, ev.ID, m, 481, "", nil, out)
	}
	return u.appRequest(now, ev, nil, out)
}

// inspect applies the checks of RFC 3261 §8.2 to a request outside a
// dialog, and returns the response code when the request must be
// rejected, with what to add to the response.
func (u *UA) inspect(m *message.Message) (int, func(*message.Message) error) {
	method := m.Method()
	// §8.2.1: a method this UA does not accept.
	if !slices.Contains(u.cfg.Allow, method) {
		if message.StandardMethod(method) {
			return 405, u.allowField
		}
		return 501, u.allowField
	}
	// §8.2.2.2: the same request arriving again by another path.
	if method != "ACK" && method != "CANCEL" {
		k := mergeKey{fromTag: m.FromTag(), callID: m.CallID(), seq: m.CSeq().Seq, method: method}
		if id, ok := u.merged[k]; ok {
			if c := u.calls[id]; c != nil && c.invite.Branch() != m.Branch() {
				return 482, nil
			}
		}
	}
	// §8.2.2.1: a Request-URI scheme this UA cannot handle.
	switch m.RequestURI().Scheme {
	case uri.SIP, uri.SIPS, uri.Tel:
	default:
		return 416, nil
	}
	// §8.2.2.3: extensions the request requires that this UA lacks.
	if req, err := message.All[header.Require](m); err == nil {
		var missing []header.Unsupported
		for _, r := range req {
			if !slices.Contains(u.cfg.Supported, string(r)) {
				missing = append(missing, header.Unsupported(r))
			}
		}
		if len(missing) > 0 {
			return 420, func(resp *message.Message) error { return message.Set(resp, missing...) }
		}
	}
	// §8.2.3: a body this UA cannot read. The session methods carry
	// session descriptions; the bodies of the requests the application
	// answers are checked against Config.AcceptOther (inspectOther).
	if len(m.Body()) > 0 && sessionMethod(method) {
		ct, ok, err := message.First[header.ContentType](m)
		if err != nil || !ok || !slices.ContainsFunc(u.cfg.Accept, func(a string) bool {
			return strings.EqualFold(a, ct.Type+"/"+ct.Subtype)
		}) {
			return 415, u.acceptField
		}
		if enc, _ := message.All[header.ContentEncoding](m); len(enc) > 0 && !(len(enc) == 1 && strings.EqualFold(string(enc[0]), "identity")) {
			return 415, func(resp *message.Message) error {
				if err := u.acceptField(resp); err != nil {
					return err
				}
				return resp.Set("Accept-Encoding", "identity")
			}
		}
	}
	// §21.4.7: an INVITE whose Accept rules out the session description
	// this UA would answer with (RFC 4475 §3.3.15).
	if method == "INVITE" && m.Has("Accept") {
		acc, err := message.All[header.Accept](m)
		sdpType := header.MediaType{Type: "application", Subtype: "sdp"}
		if err == nil && !slices.ContainsFunc(acc, func(a header.Accept) bool {
			q, ok := a.Q()
			return a.Accepts(sdpType) && (!ok || q > 0)
		}) {
			return 406, func(resp *message.Message) error {
				agent := u.cfg.Host
				if strings.Contains(agent, ":") && !strings.HasPrefix(agent, "[") {
					agent = "[" + agent + "]"
				}
				// The Warning is a courtesy: a 406 without it is still right.
				_ = message.Set(resp, header.Warning{Code: 399, Agent: agent, Text: "Accept rules out application/sdp"})
				return nil
			}
		}
	}
	return 0, nil
}

// sessionMethod reports whether the UA core itself reads the bodies of
// requests of method: session descriptions.
func sessionMethod(method string) bool {
	switch method {
	case "INVITE", "ACK", "UPDATE", "PRACK", "BYE", "OPTIONS", "CANCEL":
		return true
	}
	return false
}

func (u *UA) allowField(resp *message.Message) error {
	return resp.Set("Allow", strings.Join(u.cfg.Allow, ", "))
}

func (u *UA) acceptField(resp *message.Message) error {
	return resp.Set("Accept", strings.Join(u.cfg.Accept, ", "))
}

// capabilities fills an answer to OPTIONS (§11.2).
func (u *UA) capabilities(resp *message.Message) error {
	if err := u.allowField(resp); err != nil {
		return err
	}
	if err := u.acceptField(resp); err != nil {
		return err
	}
	if err := resp.Set("Supported", strings.Join(u.cfg.Supported, ", ")); err != nil {
		return err
	}
	return u.allowEvents(resp)
}

// incoming handles a new INVITE: a call rings in the application.
func (u *UA) incoming(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	// RFC 4028 §8.2: a session interval below our minimum gets 422.
	if se, ok, err := message.First[header.SessionExpires](m); err == nil && ok && u.cfg.SessionExpires > 0 && int64(se.Delta) < int64(u.cfg.MinSE.Seconds()) {
		return u.reply(now, ev.ID, m, 422, "", func(resp *message.Message) error {
			return message.Set(resp, header.MinSE{Delta: uint32(u.cfg.MinSE.Seconds())})
		}, out)
	}
	var replaces CallID
	if m.Has("Replaces") {
		var code int
		if replaces, code = u.replaced(m); code != 0 {
			return u.reply(now, ev.ID, m, code, "", nil, out)
		}
	}
	c := u.newCall(false, m, ev.From)
	c.state, c.inviteTxn, c.localTag, c.replaces = stIncoming, ev.ID, u.cfg.Gen.Tag(), replaces
	c.merge = mergeKey{fromTag: m.FromTag(), callID: m.CallID(), seq: m.CSeq().Seq, method: "INVITE"}
	u.merged[c.merge] = c.id
	u.byTxn[ev.ID] = txnRole{call: c, kind: roleInvite}
	d, err := dialog.NewUAS(m, c.localTag, u.localContact(), ev.From.Transport.Secure())
	if err != nil {
		// No usable Contact: no dialog can come of it.
		delete(u.calls, c.id)
		delete(u.merged, c.merge)
		return u.reply(now, ev.ID, m, 400, "", nil, out)
	}
	s := u.addSession(c, d, ev.From)
	s.peerAllowsUpdate = allows(m, "UPDATE")
	if len(m.Body()) > 0 {
		s.offered(false, []byte(m.Body()))
	}
	// Ref: the call this one would replace (RFC 3891), ended once this one
	// is answered.
	return deliver(out, effects.Event{Kind: effects.CallIncoming, ID: c.id, Ref: c.replaces, Msg: m, From: ev.From})
}

// RingOptions tune a provisional response.
type RingOptions struct {
	// Code is the status, default 180 (Ringing); 183 (Session Progress)
	// with a Body is early media.
	Code int
	// Body is a session description: the answer to the INVITE's offer (in a
	// reliable provisional response it settles the offer/answer exchange,
	// RFC 3262 §5).
	Body []byte
	// Reliable sends the response reliably (RFC 3262) when the caller
	// supports 100rel; Config.Reliable does so for every one.
	Reliable bool
}

// Ring sends a provisional response for an incoming call.
func (u *UA) Ring(now effects.Time, id CallID, o RingOptions, out []effects.Effect) ([]effects.Effect, error) {
	c := u.calls[id]
	if c == nil {
		return out, ErrNoCall
	}
	if c.uac || c.state != stIncoming {
		return out, ErrState
	}
	s := c.sessions[0]
	code := o.Code
	if code == 0 {
		code = 180
	}
	if code <= 100 || code >= 200 {
		return out, ErrState
	}
	reliable := (o.Reliable || u.cfg.Reliable) && supports(c.invite, "100rel") || requires(c.invite, "100rel")
	if reliable && s.rel != nil {
		return out, ErrPending // RFC 3262 §3: one unacknowledged at a time
	}
	resp, err := u.dialogResponse(s, c.invite, code, o.Body, true)
	if err != nil {
		return out, err
	}
	if reliable {
		return u.sendReliable(now, s, resp, o.Body, out)
	}
	return u.respond(now, c.inviteTxn, resp, out)
}

// dialogResponse builds a response to req in s's dialog: our To tag and
// Contact, and for the dialog-creating INVITE its Record-Route (§12.1.1),
// our Allow and Supported, and the body.
func (u *UA) dialogResponse(s *session, req *message.Message, code int, body []byte, initial bool) (*message.Message, error) {
	resp, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: s.d.ID.LocalTag})
	if err != nil {
		return nil, err
	}
	if initial {
		for _, rr := range req.Values("Record-Route") {
			if err := resp.Add("Record-Route", rr); err != nil {
				return nil, err
			}
		}
	}
	if err := message.Set(resp, header.Contact{URI: s.d.LocalTarget}); err != nil {
		return nil, err
	}
	if err := u.allowField(resp); err != nil {
		return nil, err
	}
	if err := resp.Set("Supported", strings.Join(u.cfg.Supported, ", ")); err != nil {
		return nil, err
	}
	if u.cfg.UserAgent != "" {
		message.Set(resp, header.Server(u.cfg.UserAgent))
	}
	if len(body) > 0 {
		if err := resp.SetBody("application/sdp", body); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// Answer answers an incoming call with a 2xx carrying body: the answer to
// the INVITE's offer, or the offer when it had none (then the ACK carries
// the answer). The 2xx is retransmitted until the ACK arrives (§13.3.1.4).
// While a reliable provisional response with a description waits for its
// PRACK, the 2xx waits too and goes when the PRACK arrives (RFC 3262 §3).
// For an established call with a re-INVITE or UPDATE waiting, Answer is
// Accept.
func (u *UA) Answer(now effects.Time, id CallID, body []byte, out []effects.Effect) ([]effects.Effect, error) {
	c := u.calls[id]
	if c == nil {
		return out, ErrNoCall
	}
	if c.state == stEstablished {
		return u.Accept(now, id, body, out)
	}
	if c.uac || c.state != stIncoming {
		return out, ErrState
	}
	s := c.sessions[0]
	if s.rel != nil && s.relSDP {
		// RFC 3262 §3: a 2xx waits for the PRACK of a reliable provisional
		// response that carried a session description.
		c.answerWanted, c.answerBody = true, body
		return out, nil
	}
	resp, err := u.dialogResponse(s, c.invite, 200, body, true)
	if err != nil {
		return out, err
	}
	u.grantSessionTimer(s, c.invite, resp)
	out = u.cancelReliable(s, out)
	var oaEvents []effects.Effect
	switch {
	case s.oa == oaRemoteOffer && len(body) > 0:
		oaEvents = s.answered(true, body, c.invite, nil)
	case s.oa == oaNone && len(body) > 0:
		s.offered(true, body)
	}
	c.answered, c.state, c.kept = true, stEstablished, s
	s.d.Confirm(resp, false)
	out, err = u.send2xx(now, s, c.inviteTxn, resp, out)
	out = append(out, oaEvents...)
	out = u.startSessionTimerUAS(s, resp, out)
	if c.replaces != 0 {
		out = u.endReplaced(now, c, out)
	}
	return out, err
}

// send2xx sends a 2xx to an INVITE and keeps retransmitting it, T1
// doubling up to T2, until the ACK; 64·T1 without one ends the session
// (§13.3.1.4). The retransmissions are "independent of whatever transport
// protocols are used to send the response": a hop further on may be UDP,
// or the connection that carried it may break.
func (u *UA) send2xx(now effects.Time, s *session, id txn.ID, resp *message.Message, out []effects.Effect) ([]effects.Effect, error) {
	out, err := u.respond(now, id, resp, out)
	if err != nil {
		return out, err
	}
	out = u.cancelTimer(&s.t2xx, out)
	out = u.cancelTimer(&s.tNoAck, out)
	s.ok, s.okTxn = resp, id
	t1 := u.txns.Config().T1
	s.okInterval = t1
	s.t2xx, out = u.setTimer(timerRole{call: s.c, s: s, kind: timer2xx}, t1, out)
	s.tNoAck, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerNoAck}, 64*t1, out)
	return out, nil
}

func (u *UA) retransmit2xx(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	s.t2xx = 0
	if s.ok == nil {
		return out
	}
	if _, _, live := u.txns.State(s.okTxn); live {
		out, _ = u.respond(now, s.okTxn, s.ok, out)
	} else {
		out = u.sendDirect(s.ok, s.peer, out)
	}
	s.okInterval = min(2*s.okInterval, u.txns.Config().T2)
	s.t2xx, out = u.setTimer(timerRole{call: s.c, s: s, kind: timer2xx}, s.okInterval, out)
	return out
}

// noAck ends a session whose 2xx was never acknowledged: the dialog is
// confirmed, but the session ends with a BYE (§13.3.1.4).
func (u *UA) noAck(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	s.tNoAck = 0
	out = u.cancelTimer(&s.t2xx, out)
	s.ok = nil
	out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: s.c.id, Err: ErrNoAck})
	return u.sendBye(now, s, out)
}

// ack handles an ACK for a 2xx: the retransmissions stop, and an answer in
// it completes the offer/answer exchange.
func (u *UA) ack(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	s := u.byDialog[dialog.IDOf(m, true)]
	if s == nil || s.ok == nil || m.CSeq().Seq != s.ok.CSeq().Seq {
		return out // a retransmitted ACK, or one for nothing we know
	}
	out = u.cancelTimer(&s.t2xx, out)
	out = u.cancelTimer(&s.tNoAck, out)
	s.ok = nil
	if body := m.Body(); s.oa == oaLocalOffer && len(body) > 0 {
		out = s.answered(false, []byte(body), m, out)
	}
	if !s.c.uac && m.CSeq().Seq == s.c.invite.CSeq().Seq {
		out = sessionEvent(out, s, effects.CallAnswered, m)
	}
	if s.byeWanted {
		end := s.byeEvent
		if end.Kind == 0 {
			end = effects.Event{Kind: effects.CallEnded, ID: s.c.id, Err: ErrHangup}
		}
		out = deliver(out, end)
		return u.sendBye(now, s, out)
	}
	return out
}

// Reject answers an incoming call with a final non-2xx response (486 Busy
// Here, 603 Decline, ...), which ends it: CallEnded follows, with the code
// and ErrHangup, as for every way a call ends.
func (u *UA) Reject(now effects.Time, id CallID, code int, out []effects.Effect) ([]effects.Effect, error) {
	return u.RejectWith(now, id, code, RejectOptions{}, out)
}

// RejectOptions are the parts of a final non-2xx response to a call.
type RejectOptions struct {
	// Reason is the reason phrase; empty: the code's usual one.
	Reason string
	// Contacts are the response's Contact values: where a 3xx sends the
	// caller (RFC 3261 §8.3, §21.3), the alternatives of a 485.
	Contacts []header.Contact
	// Fields are more header fields, written as given (name, value).
	Fields [][2]string
}

// RejectWith is Reject with a reason phrase, Contacts and more header
// fields: a redirection (302 Moved Temporarily with the new target) or a
// refusal that says why (RFC 3261 §8.2.6, §21).
func (u *UA) RejectWith(now effects.Time, id CallID, code int, o RejectOptions, out []effects.Effect) ([]effects.Effect, error) {
	c := u.calls[id]
	if c == nil {
		return out, ErrNoCall
	}
	if c.uac || c.state != stIncoming {
		return out, ErrState
	}
	if code < 300 || code > 699 {
		return out, ErrState
	}
	s := c.sessions[0]
	resp, err := message.NewResponse(c.invite, code, o.Reason, message.ResponseOptions{ToTag: s.d.ID.LocalTag})
	if err != nil {
		return out, err
	}
	if len(o.Contacts) > 0 {
		if err := message.Set(resp, o.Contacts...); err != nil {
			return out, fmt.Errorf("ua: reject: %w", err)
		}
	}
	if u.cfg.UserAgent != "" {
		message.Set(resp, header.Server(u.cfg.UserAgent))
	}
	for _, f := range o.Fields {
		if err := resp.Add(f[0], f[1]); err != nil {
			return out, fmt.Errorf("ua: reject: field %s: %w", f[0], err)
		}
	}
	out, err = u.respond(now, c.inviteTxn, resp, out)
	c.answered = true
	out = u.endCall(now, c, out)
	return deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Code: code, Err: ErrHangup}), err
}

// cancelled handles a CANCEL (§9.2): it is answered 200; if the INVITE it
// cancels has no final response yet, that gets 487 and the call ends.
func (u *UA) cancelled(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	if ev.Ref == 0 {
		return u.reply(now, ev.ID, ev.Msg, 481, "", nil, out)
	}
	out = u.reply(now, ev.ID, ev.Msg, 200, "", nil, out)
	r, ok := u.byTxn[ev.Ref]
	if !ok || !u.live(r.call) || r.call.state != stIncoming {
		return out
	}
	c := r.call
	resp, err := message.NewResponse(c.invite, 487, "", message.ResponseOptions{ToTag: c.localTag})
	if err == nil {
		out, _ = u.respond(now, c.inviteTxn, resp, out)
	}
	c.answered = true
	out = u.endCall(now, c, out)
	return deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Msg: ev.Msg, Code: 487, Err: ErrCancelled})
}
