package ua

import (
	"bytes"
	"errors"
	"time"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
)

// inDialog handles a request inside a dialog (§12.2.2).
func (u *UA) inDialog(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	s := u.byDialog[dialog.IDOf(m, true)]
	if s == nil {
		return u.subDialogRequest(now, ev, out)
	}
	local := s.d.ID.LocalTag
	if err := s.d.Receive(m); err != nil {
		if errors.Is(err, dialog.ErrOutOfOrder) {
			return u.reply(now, ev.ID, m, 500, local, nil, out)
		}
		return u.reply(now, ev.ID, m, 481, local, nil, out)
	}
	switch m.Method() {
	case "BYE":
		return u.byeReceived(now, s, ev, out)
	case "INVITE", "UPDATE":
		return u.modifyReceived(now, s, ev, out)
	case "PRACK":
		return u.prackReceived(now, s, ev, out)
	case "OPTIONS":
		return u.reply(now, ev.ID, m, 200, local, u.capabilities, out)
	case "SUBSCRIBE", "NOTIFY", "REFER":
		// Subscriptions may share the call's dialog (RFC 5057).
		return u.subRequest(now, s.d, s, ev, out)
	}
	if code, fill := u.inspect(m); code != 0 {
		return u.reply(now, ev.ID, m, code, local, fill, out)
	}
	return u.appRequest(now, ev, s, out)
}

// byeReceived ends the call the peer hung up (§15.1.2): the BYE gets 200,
// and a re-INVITE or UPDATE still waiting gets 487.
func (u *UA) byeReceived(now effects.Time, s *session, ev effects.Event, out []effects.Effect) []effects.Effect {
	out = u.reply(now, ev.ID, ev.Msg, 200, s.d.ID.LocalTag, nil, out)
	c := s.c
	if c.state == stIncoming {
		// The caller hung up before we answered (its CANCEL was lost or it
		// got a 2xx elsewhere): the INVITE gets 487.
		resp, err := message.NewResponse(c.invite, 487, "", message.ResponseOptions{ToTag: c.localTag})
		if err == nil {
			out, _ = u.respond(now, c.inviteTxn, resp, out)
		}
	}
	out = u.dropSession(now, s, out)
	if c.kept == s || len(liveSessions(c)) == 0 {
		out = u.endCall(now, c, out)
		out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Msg: ev.Msg, Err: ErrRemoteBye})
	}
	return out
}

// modifyReceived handles a re-INVITE or UPDATE (§14.2, RFC 3311 §5.2): glare
// gets 491, a second re-INVITE while one waits gets 500 with Retry-After; a
// session refresh that changes nothing is answered at once; an offer waits
// for the application (CallReinvite).
func (u *UA) modifyReceived(now effects.Time, s *session, ev effects.Event, out []effects.Effect) []effects.Effect {
	m, local := ev.Msg, s.d.ID.LocalTag
	isInvite := m.Method() == "INVITE"
	body := []byte(m.Body())
	switch {
	case isInvite && (s.serverReq != 0 || s.c.state == stIncoming):
		// A second INVITE before we answered the first (§14.2).
		return u.reply(now, ev.ID, m, 500, local, func(r *message.Message) error {
			return message.Set(r, header.RetryAfter{Delta: uint32(u.random(0, 10000) / 1000)})
		}, out)
	case isInvite && (s.clientInvite != 0 || s.c.state == stCalling || s.ok != nil),
		s.oa == oaLocalOffer && len(body) > 0, s.clientUpdate != 0 && len(body) > 0, s.serverReq != 0:
		// Glare: both sides offered at once, or an INVITE of ours is in
		// progress on the dialog: the initial one still unanswered, or our
		// 2xx still unacknowledged (§14.2, RFC 3311 §5.2, RFC 5407 §3.1.4).
		return u.reply(now, ev.ID, m, 491, local, nil, out)
	case !isInvite && s.oa == oaRemoteOffer && len(body) > 0:
		// An UPDATE offering while the peer's earlier offer is unanswered.
		return u.reply(now, ev.ID, m, 500, local, func(r *message.Message) error {
			return message.Set(r, header.RetryAfter{Delta: uint32(u.random(0, 10000) / 1000)})
		}, out)
	}
	if len(body) == 0 || s.unchanged(body) {
		// A refresh (RFC 4028) or an offerless re-INVITE: answer with our
		// current description, unchanged.
		return u.acceptModify(now, s, ev.ID, m, s.local, out)
	}
	s.offered(false, body)
	s.serverReq, s.serverMsg = ev.ID, m
	return sessionEvent(out, s, effects.CallReinvite, m)
}

// Accept answers the re-INVITE or UPDATE waiting on a call (in its
// confirmed dialog, or an UPDATE in an early one) with a 2xx carrying body,
// the answer to its offer.
func (u *UA) Accept(now effects.Time, id CallID, body []byte, out []effects.Effect) ([]effects.Effect, error) {
	if s, err := u.established(id); err == nil && s.noAck {
		// The 2xx to our offerless INVITE offered: the ACK answers.
		s.noAck = false
		ok := s.waitOK
		s.waitOK = nil
		out = u.sendACK(s, ok, body, out)
		out = s.answered(true, body, ok, out)
		return u.startSessionTimerUAC(s, ok, out), nil
	}
	s, err := u.waiting(id)
	if err != nil {
		return out, err
	}
	req, tid := s.serverMsg, s.serverReq
	s.serverReq, s.serverMsg = 0, nil
	return u.acceptModify(now, s, tid, req, body, out), nil
}

// acceptModify answers a re-INVITE or UPDATE with 200 and body, completing
// the offer/answer exchange it started (or starting one, when it had no
// offer and body is ours).
func (u *UA) acceptModify(now effects.Time, s *session, id txn.ID, req *message.Message, body []byte, out []effects.Effect) []effects.Effect {
	resp, err := u.dialogResponse(s, req, 200, body, false)
	if err != nil {
		return out
	}
	u.grantSessionTimer(s, req, resp)
	s.d.RefreshTarget(req) // the peer's new Contact counts from our 2xx (RFC 6141 §4)
	reqBody := []byte(req.Body())
	var events []effects.Effect
	switch {
	case len(reqBody) > 0 && s.unchanged(reqBody) && s.oa != oaRemoteOffer:
		// A refresh: nothing changes.
	case s.oa == oaRemoteOffer:
		events = s.answered(true, body, req, nil)
	case len(reqBody) == 0 && req.Method() == "INVITE" && len(body) > 0:
		s.offered(true, body) // the ACK answers
	}
	if req.Method() == "INVITE" {
		out, _ = u.send2xx(now, s, id, resp, out)
	} else {
		out, _ = u.respond(now, id, resp, out)
	}
	out = append(out, events...)
	return u.startSessionTimerUAS(s, resp, out)
}

// Decline refuses the re-INVITE or UPDATE waiting on an established call
// (488 Not Acceptable Here by default); the session stays as it was.
func (u *UA) Decline(now effects.Time, id CallID, code int, out []effects.Effect) ([]effects.Effect, error) {
	s, err := u.waiting(id)
	if err != nil {
		return out, err
	}
	if code == 0 {
		code = 488
	}
	if code < 300 || code > 699 {
		return out, ErrState
	}
	req, tid := s.serverMsg, s.serverReq
	s.serverReq, s.serverMsg = 0, nil
	s.rollback()
	return u.reply(now, tid, req, code, s.d.ID.LocalTag, nil, out), nil
}

// UpdateOptions tune Update.
type UpdateOptions struct {
	// UseUpdate sends an UPDATE (RFC 3311) instead of a re-INVITE.
	UseUpdate bool
}

// Update offers a new session description on an established call: a
// re-INVITE (§14.1), or an UPDATE, which may also go in the call's early
// dialog once its first offer is answered (RFC 3311 §5.1). SessionModified
// follows when the peer answers; a glare (491) is retried after §14.1's
// random delay.
func (u *UA) Update(now effects.Time, id CallID, body []byte, o UpdateOptions, out []effects.Effect) ([]effects.Effect, error) {
	s, err := u.established(id)
	if err != nil && o.UseUpdate {
		s, err = u.early(id)
	}
	if err != nil {
		return out, err
	}
	if s.clientUpdate != 0 || s.oa == oaLocalOffer || s.oa == oaRemoteOffer || s.tGlare != 0 ||
		!o.UseUpdate && s.inviteInProgress() {
		return out, ErrPending
	}
	out, err = u.sendModify(now, s, body, o.UseUpdate, out)
	if err == nil && len(body) > 0 && s.oa != oaLocalOffer {
		// The application offers its current description again (a B2BUA
		// relaying a peer's unchanged offer): still an offer, whose answer
		// the application waits for (RFC 3264 §8).
		s.offered(true, body)
	}
	return out, err
}

func (u *UA) established(id CallID) (*session, error) {
	c := u.calls[id]
	if c == nil {
		return nil, ErrNoCall
	}
	if c.state != stEstablished || c.kept == nil {
		return nil, ErrState
	}
	return c.kept, nil
}

// early returns the call's one early dialog in which an offer/answer
// exchange has completed, where an UPDATE may offer (RFC 3311 §5.1).
func (u *UA) early(id CallID) (*session, error) {
	c := u.calls[id]
	if c == nil {
		return nil, ErrNoCall
	}
	live := liveSessions(c)
	if c.state == stEstablished || len(live) != 1 || !live[0].established || live[0].d.State != dialog.Early {
		return nil, ErrState
	}
	if live[0].rel != nil {
		// The callee waits for the PRACK of its reliable answer.
		return nil, ErrPending
	}
	return live[0], nil
}

// waiting returns the session whose re-INVITE or UPDATE from the peer
// waits for Accept or Decline: the call's confirmed one, or an early one.
func (u *UA) waiting(id CallID) (*session, error) {
	c := u.calls[id]
	if c == nil {
		return nil, ErrNoCall
	}
	if c.kept != nil && c.kept.serverReq != 0 {
		return c.kept, nil
	}
	for _, s := range liveSessions(c) {
		if s.serverReq != 0 {
			return s, nil
		}
	}
	return nil, ErrState
}

// sendModify sends a re-INVITE or UPDATE with body (an offer; none for a
// bare session refresh).
func (u *UA) sendModify(now effects.Time, s *session, body []byte, update bool, out []effects.Effect) ([]effects.Effect, error) {
	method, kind := "INVITE", roleReinvite
	if update {
		method, kind = "UPDATE", roleUpdate
	}
	ct := ""
	if len(body) > 0 {
		ct = "application/sdp"
	}
	req, next, err := s.d.Request(method, dialog.RequestOptions{Via: u.via(s.peer), Contact: true, ContentType: ct, Body: body})
	if err != nil {
		return out, err
	}
	u.askSessionTimer(s, req)
	id, out, err := u.newClient(now, req, nextHop(next, s.peer), txnRole{call: s.c, s: s, kind: kind}, out)
	if err != nil {
		return out, err
	}
	if update {
		s.clientUpdate = id
	} else {
		s.clientInvite = id
	}
	if len(body) > 0 && !bytes.Equal(body, s.local) {
		s.offered(true, body)
	}
	s.glareBody, s.glareUpdate = body, update
	return out, nil
}

// modifyResponse handles a response to our re-INVITE or UPDATE.
func (u *UA) modifyResponse(now effects.Time, r txnRole, m *message.Message, out []effects.Effect) []effects.Effect {
	s, code := r.s, m.StatusCode()
	if s == nil || s.d.State == dialog.Terminated || code < 200 {
		return out
	}
	if r.kind == roleReinvite {
		if ack := s.acks[m.CSeq().Seq]; ack != nil && code < 300 {
			return u.sendDirect(ack, s.ackTo, out) // a retransmitted 2xx
		}
		s.clientInvite = 0
	} else {
		s.clientUpdate = 0
	}
	switch {
	case code < 300:
		s.d.RefreshTarget(m)
		body := []byte(m.Body())
		var ackBody []byte
		answerInAck := false
		switch {
		case s.oa == oaLocalOffer && len(body) > 0:
			out = s.answered(false, body, m, out)
		case s.oa == oaLocalOffer:
			// A 2xx without the answer it owes (RFC 3261 §13.2.1, RFC 3311
			// §5.2): the offer failed; the session stays as it was.
			s.rollback()
			out = deliver(out, effects.Event{Kind: effects.CallUpdateFailed, ID: s.c.id, Msg: m, Code: code})
		case s.oa == oaStable && len(body) > 0 && r.kind == roleReinvite && r.req != nil && len(r.req.Body()) == 0:
			// Our re-INVITE had no offer: the 2xx offers and the ACK
			// answers with our current description (§14.1).
			ackBody = s.local
			if !s.unchanged(body) {
				s.offered(false, body)
				answerInAck = true
			}
		}
		if r.kind == roleReinvite {
			out = u.sendACK(s, m, ackBody, out)
		}
		if answerInAck {
			out = s.answered(true, ackBody, m, out)
		}
		return u.startSessionTimerUAC(s, m, out)
	case code == 491:
		// §14.1: retry after a random delay; the Call-ID's owner waits
		// 2.1 to 4 s, the other side up to 2 s.
		s.rollback()
		delay := u.random(0, 2000)
		if s.c.uac {
			delay = u.random(2100, 4000)
		}
		s.tGlare, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerGlare}, time.Duration(delay)*time.Millisecond, out)
		return out
	case code == 422 && s.interval > 0:
		if mse, ok, _ := message.First[header.MinSE](m); ok {
			s.interval = time.Duration(mse.Delta) * time.Second
			out, _ = u.sendModify(now, s, s.glareBody, r.kind == roleUpdate, out)
			return out
		}
	}
	s.rollback()
	if dialog.Impact(code) != dialog.TransactionOnly {
		// RFC 5057 §5.1: the peer no longer has the dialog or the usage.
		return u.dialogGone(now, s, m, out)
	}
	return deliver(out, effects.Event{Kind: effects.CallUpdateFailed, ID: s.c.id, Msg: m, Code: code})
}

// glareRetry sends again the re-INVITE or UPDATE that met a 491.
func (u *UA) glareRetry(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	if s.d.State == dialog.Terminated || s.clientInvite != 0 || s.clientUpdate != 0 {
		return out
	}
	if s.oa == oaRemoteOffer || !s.glareUpdate && s.inviteInProgress() {
		// The peer's offer won; ours waits for the next chance.
		s.tGlare, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerGlare}, time.Duration(u.random(0, 2000))*time.Millisecond, out)
		return out
	}
	out, _ = u.sendModify(now, s, s.glareBody, s.glareUpdate, out)
	return out
}

// random returns a number in [lo, hi] from the UA's generator.
func (u *UA) random(lo, hi uint64) uint64 {
	var n uint64
	if r, ok := u.cfg.Gen.(interface{ Uint64() uint64 }); ok {
		n = r.Uint64()
	} else {
		for _, c := range []byte(u.cfg.Gen.Tag()) {
			n = n*131 + uint64(c)
		}
	}
	return lo + n%(hi-lo+1)
}

// dialogGone ends a session whose peer answered an in-dialog request with
// a response that ends the dialog or its INVITE usage (RFC 5057 §5.1):
// BYE, and CallEnded with ErrDialogGone when the call ends with it (see
// byeEnding). A callee whose 2xx is not yet acknowledged waits for the ACK
// (or for 64·T1 without one) before its BYE, as RFC 3261 §15 requires.
func (u *UA) dialogGone(now effects.Time, s *session, m *message.Message, out []effects.Effect) []effects.Effect {
	end := effects.Event{Kind: effects.CallEnded, ID: s.c.id, Msg: m, Code: m.StatusCode(), Err: ErrDialogGone}
	if !s.c.uac && s.ok != nil && s.c.answered {
		s.byeWanted, s.byeEvent = true, end
		return out
	}
	return u.byeEnding(now, s, end, out)
}

// byeEnding ends the session s with a BYE (sendBye) and delivers end, the
// call's CallEnded, only if the call ended with it: a caller's early
// dialog may go while the call lives on in the early dialogs of other
// forks (RFC 3261 §13.2.2.4), one of which may still answer.
func (u *UA) byeEnding(now effects.Time, s *session, end effects.Event, out []effects.Effect) []effects.Effect {
	c := s.c
	out = u.sendBye(now, s, out)
	if !u.live(c) {
		out = deliver(out, end)
	}
	return out
}
