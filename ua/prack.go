package ua

import (
	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// sendReliable sends a provisional response reliably (RFC 3262 §3): Require
// 100rel and the next RSeq; retransmitted, T1 doubling, until its PRACK, on
// every transport; a description in it is an offer or the answer to the
// INVITE's offer.
func (u *UA) sendReliable(now effects.Time, s *session, resp *message.Message, body []byte, out []effects.Effect) ([]effects.Effect, error) {
	if s.rseq == 0 {
		s.rseq = uint32(u.random(1, 1<<31-1)) // RFC 3262 §3: a random first RSeq
	} else {
		s.rseq++
	}
	if err := message.Set(resp, header.Require("100rel")); err != nil {
		return out, err
	}
	if err := message.Set(resp, header.RSeq(s.rseq)); err != nil {
		return out, err
	}
	var events []effects.Effect
	switch {
	case len(body) > 0 && s.oa == oaRemoteOffer:
		events = s.answered(true, body, s.c.invite, nil)
	case len(body) > 0 && s.oa == oaNone:
		s.offered(true, body) // the PRACK answers
	}
	out, err := u.respond(now, s.c.inviteTxn, resp, out)
	if err != nil {
		return out, err
	}
	s.rel, s.relSDP = resp, len(body) > 0
	t1 := u.txns.Config().T1
	s.relInterval = t1
	// The retransmissions are the UAS core's and end to end, as for a 2xx
	// (RFC 3261 §13.3.1.4), whatever the transport of this hop: a hop
	// further on may be UDP, or the connection that carried the response
	// may break.
	s.tRel, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerRel1xx}, t1, out)
	s.tRelGiveUp, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerRel1xxGiveUp}, 64*t1, out)
	return append(out, events...), nil
}

func (u *UA) retransmitReliable(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	s.tRel = 0
	if s.rel == nil || s.c.state != stIncoming {
		return out
	}
	out, _ = u.respond(now, s.c.inviteTxn, s.rel, out)
	s.relInterval *= 2
	s.tRel, out = u.setTimer(timerRole{call: s.c, s: s, kind: timerRel1xx}, s.relInterval, out)
	return out
}

// reliableGiveUp rejects the INVITE whose reliable provisional response was
// not acknowledged within 64·T1 (RFC 3262 §3: a 5xx).
func (u *UA) reliableGiveUp(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	c := s.c
	out = u.cancelReliable(s, out)
	if c.state != stIncoming {
		return out
	}
	resp, err := message.NewResponse(c.invite, 504, "", message.ResponseOptions{ToTag: c.localTag})
	if err == nil {
		out, _ = u.respond(now, c.inviteTxn, resp, out)
	}
	out = u.endCall(now, c, out)
	return deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Code: 504, Err: ErrTimeout})
}

func (u *UA) cancelReliable(s *session, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&s.tRel, out)
	out = u.cancelTimer(&s.tRelGiveUp, out)
	s.rel, s.relSDP = nil, false
	return out
}

// prackReceived handles a PRACK (RFC 3262 §3): one that acknowledges our
// reliable provisional response stops its retransmissions and gets 200; an
// answer in it completes the offer/answer exchange; any other gets 481.
func (u *UA) prackReceived(now effects.Time, s *session, ev effects.Event, out []effects.Effect) []effects.Effect {
	m, local := ev.Msg, s.d.ID.LocalTag
	rack, ok, err := message.First[header.RAck](m)
	if err != nil || !ok || s.rel == nil || rack.RSeq != s.rseq || rack.CSeq != s.c.invite.CSeq().Seq || rack.Method != "INVITE" {
		return u.reply(now, ev.ID, m, 481, local, nil, out)
	}
	out = u.cancelReliable(s, out)
	out = u.reply(now, ev.ID, m, 200, local, nil, out)
	if body := m.Body(); s.oa == oaLocalOffer && len(body) > 0 {
		out = s.answered(false, []byte(body), m, out)
	}
	if c := s.c; c.answerWanted && c.state == stIncoming {
		c.answerWanted = false
		out, _ = u.Answer(now, c.id, c.answerBody, out)
		c.answerBody = nil
	}
	return out
}

// prack acknowledges a reliable provisional response (RFC 3262 §4): in
// order, once; an answer in it settles our offer, an offer in it is
// answered in the PRACK. It reports false for a retransmission or one out
// of order, which is discarded.
func (u *UA) prack(now effects.Time, s *session, m *message.Message, out []effects.Effect) ([]effects.Effect, bool) {
	rseq, _ := rseqOf(m)
	if s.lastRSeq != 0 && (rseq <= s.lastRSeq || rseq != s.lastRSeq+1) {
		return out, false
	}
	s.lastRSeq = rseq
	var answer []byte
	body := []byte(m.Body())
	switch {
	case len(body) > 0 && s.oa == oaLocalOffer:
		out = s.answered(false, body, m, out)
	case len(body) > 0 && s.oa == oaNone && s.c.lateAnswer != nil:
		s.offered(false, body)
		answer = s.c.lateAnswer
	}
	ct := ""
	if len(answer) > 0 {
		ct = "application/sdp"
	}
	pr, next, err := s.d.Request("PRACK", dialog.RequestOptions{Via: u.via(s.peer), ContentType: ct, Body: answer})
	if err != nil {
		return out, true
	}
	if err := message.Set(pr, header.RAck{RSeq: rseq, CSeq: m.CSeq().Seq, Method: m.CSeq().Method}); err != nil {
		return out, true
	}
	_, out, _ = u.newClient(now, pr, nextHop(next, s.peer), txnRole{call: s.c, s: s, kind: rolePrack}, out)
	if answer != nil {
		out = s.answered(true, answer, m, out)
	}
	return out, true
}
