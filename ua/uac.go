package ua

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// CallOptions are the parts of an outgoing call.
type CallOptions struct {
	// From is the caller; by default Config.AOR.
	From header.From
	// To is the callee; by default the target.
	To header.To
	// Dest is where the INVITE goes first: the outbound proxy, or the
	// callee's address (RFC 3263 resolution is the driver's).
	Dest effects.Peer
	// Routes is a preloaded route set (an outbound proxy, §8.1.2).
	Routes []header.Route
	// Body is the session description offered; ContentType defaults to
	// application/sdp. Without a Body the callee offers in its 2xx, and
	// LateAnswer (or a later Accept) answers in the ACK (RFC 3261 §13.2.1).
	Body        []byte
	ContentType string
	LateAnswer  []byte
	// Expires, when set, cancels the call if it is not answered in time
	// (§13.2.1).
	Expires time.Duration
	// Replaces, when set, is the INVITE's Replaces (RFC 3891): the call is
	// to take the place of that dialog of the callee's.
	Replaces *header.Replaces
	// ReferredBy, when set, is the INVITE's Referred-By (RFC 3892).
	ReferredBy *header.ReferredBy
	// Refer, when set, is the implicit subscription of a REFER
	// (ReferIncoming, accepted with AcceptRefer) that this call carries
	// out: the INVITE takes the REFER's Referred-By and the Replaces of its
	// Refer-To, unless set above, and the UA reports the call's progress to
	// the referrer in NOTIFYs until its final response (RFC 3515 §2.4.5).
	Refer uint64
}

// Call places a call to target: it sends an INVITE (§8.1.1, §13.2.1) and
// returns the call's id. Events follow: CallRinging for each provisional
// response with a dialog, then CallAnswered or CallFailed.
func (u *UA) Call(now effects.Time, target uri.URI, o CallOptions, out []effects.Effect) (CallID, []effects.Effect, error) {
	from := o.From
	if from.URI.Host == "" && from.URI.Opaque == "" && from.URI.User == "" {
		from = header.From{URI: u.cfg.AOR}
	}
	to := o.To
	if to.URI.Scheme == 0 && to.URI.Opaque == "" {
		to = header.To{URI: target}
	}
	ct := o.ContentType
	if ct == "" && len(o.Body) > 0 {
		ct = "application/sdp"
	}
	var require []string
	if u.cfg.Reliable {
		require = []string{"100rel"}
	}
	inv, err := message.NewRequest("INVITE", target, message.RequestOptions{
		From:        from,
		To:          to,
		Via:         u.via(o.Dest),
		Contact:     &header.Contact{URI: u.localContact()},
		Routes:      o.Routes,
		Supported:   u.cfg.Supported,
		Require:     require,
		Allow:       u.cfg.Allow,
		ContentType: ct,
		Body:        o.Body,
		Gen:         u.cfg.Gen,
	})
	if err != nil {
		return 0, out, err
	}
	if o.Expires > 0 {
		message.Set(inv, header.Expires(uint32(o.Expires/time.Second)))
	}
	if u.cfg.SessionExpires > 0 {
		message.Set(inv, header.SessionExpires{Delta: uint32(u.cfg.SessionExpires / time.Second)})
		message.Set(inv, header.MinSE{Delta: uint32(u.cfg.MinSE / time.Second)})
	}
	if u.cfg.UserAgent != "" {
		message.Set(inv, header.UserAgent(u.cfg.UserAgent))
	}
	if err := u.transferFields(inv, &o); err != nil {
		return 0, out, err
	}
	c := u.newCall(true, inv, o.Dest)
	c.state, c.lateAnswer, c.refer = stCalling, o.LateAnswer, o.Refer
	id, out, err := u.newClient(now, inv, o.Dest, txnRole{call: c, kind: roleInvite}, out)
	if err != nil {
		delete(u.calls, c.id)
		return 0, out, err
	}
	c.inviteTxn = id
	if o.Expires > 0 {
		c.tExpires, out = u.setTimer(timerRole{call: c, kind: timerExpires}, o.Expires, out)
	}
	return c.id, out, nil
}

// transferFields sets the Replaces and Referred-By of an INVITE, taking
// those of the REFER it carries out when the options have none.
func (u *UA) transferFields(inv *message.Message, o *CallOptions) error {
	if o.Refer != 0 {
		rb, rep, err := u.referHeaders(o.Refer)
		if err != nil {
			return err
		}
		if o.ReferredBy == nil {
			o.ReferredBy = rb
		}
		if o.Replaces == nil {
			o.Replaces = rep
		}
	}
	if o.Replaces != nil {
		if err := message.Set(inv, *o.Replaces); err != nil {
			return fmt.Errorf("ua: Replaces: %w", err)
		}
	}
	if o.ReferredBy != nil {
		if err := message.Set(inv, *o.ReferredBy); err != nil {
			return fmt.Errorf("ua: Referred-By: %w", err)
		}
	}
	return nil
}

// response handles a response to a client transaction of the UA.
func (u *UA) response(now effects.Time, r txnRole, m *message.Message, out []effects.Effect) []effects.Effect {
	if code := m.StatusCode(); code == 401 || code == 407 {
		if out, ok := u.authRetry(now, r, m, out); ok {
			return out
		}
	}
	if r.kind == roleOwned {
		return r.owner.clientResponse(now, r, m, out)
	}
	if !u.live(r.call) {
		// A 2xx for a call already gone still gets its ACK.
		if r.kind == roleInvite && m.StatusCode() >= 200 && m.StatusCode() < 300 {
			return u.stray(now, m, out)
		}
		return out
	}
	switch r.kind {
	case roleInvite:
		return u.inviteResponse(now, r.call, m, out)
	case roleReinvite, roleUpdate:
		return u.modifyResponse(now, r, m, out)
	case rolePrack:
		// Nothing to do: a PRACK's failure (a 481 from a callee that
		// already sent its final response) changes nothing while the
		// INVITE, whose final response decides the early dialog's fate, is
		// in progress.
		return out
	}
	return out
}

// inviteResponse handles a response to the call's INVITE (§13.2.2).
func (u *UA) inviteResponse(now effects.Time, c *call, m *message.Message, out []effects.Effect) []effects.Effect {
	code := m.StatusCode()
	if code < 200 {
		// Any provisional response, 100 included, lets a CANCEL go (§9.1).
		c.provisional = true
		if c.hangupWanted && !c.cancelled {
			out = u.sendCancel(now, c, out)
		}
	}
	switch {
	case code == 100:
		return out
	case code < 200:
		if c.refer != 0 {
			out = u.referProgress(now, c, code, m.Reason(), out)
		}
		s := u.uacSession(c, m)
		if s == nil {
			return out
		}
		if _, reliable := rseqOf(m); reliable && requires(m, "100rel") {
			var fresh bool
			if out, fresh = u.prack(now, s, m, out); !fresh {
				return out // RFC 3262 §4: a retransmission is discarded
			}
		}
		return sessionEvent(out, s, effects.CallRinging, m)
	case code < 300:
		if c.refer != 0 {
			out = u.referProgress(now, c, code, m.Reason(), out)
		}
		return u.inviteOK(now, c, m, out)
	}
	// A failure ends the attempt, with every early dialog (§13.2.2.3).
	if code == 422 && c.state == stCalling && u.cfg.SessionExpires > 0 {
		if out, ok := u.retryMinSE(now, c, m, out); ok {
			return out
		}
	}
	if c.refer != 0 {
		out = u.referProgress(now, c, code, m.Reason(), out)
	}
	ev := effects.Event{Kind: effects.CallFailed, ID: c.id, Msg: m, Code: code}
	if c.cancelled && code == 487 {
		ev.Err = ErrCancelled
	}
	out = u.endCall(now, c, out)
	return deliver(out, ev)
}

// uacSession finds or creates the (early or confirmed) dialog a response
// establishes (§12.1.2, §13.2.2.4).
func (u *UA) uacSession(c *call, m *message.Message) *session {
	if m.ToTag() == "" {
		return nil
	}
	id := dialog.IDOf(m, true)
	s := u.byDialog[id]
	if s != nil && s.c != c {
		return nil
	}
	code := m.StatusCode()
	if s == nil {
		d, err := dialog.NewUAC(c.invite, m, u.localContact(), c.peer.Transport.Secure())
		if err != nil {
			return nil
		}
		// A dialog with this id may have existed and ended (a 481 to a
		// PRACK ends an early dialog); its requests' CSeq numbers are not
		// used again.
		for _, old := range c.sessions {
			if old.d.ID == id {
				d.LocalSeq = max(d.LocalSeq, old.d.LocalSeq)
			}
		}
		s = u.addSession(c, d, c.peer)
		if len(c.invite.Body()) > 0 {
			s.offered(true, []byte(c.invite.Body()))
		}
		s.peerAllowsUpdate = allows(m, "UPDATE")
		return s
	}
	if code >= 200 && s.d.State == dialog.Early {
		s.d.Confirm(m, true)
		s.peerAllowsUpdate = allows(m, "UPDATE")
	}
	return s
}

// inviteOK handles a 2xx to the INVITE: the dialog is confirmed and
// acknowledged; the first 2xx answers the call, every other one (a fork) is
// acknowledged and hung up (§13.2.2.4).
func (u *UA) inviteOK(now effects.Time, c *call, m *message.Message, out []effects.Effect) []effects.Effect {
	s := u.uacSession(c, m)
	if s == nil {
		return out
	}
	if ack := s.acks[m.CSeq().Seq]; ack != nil {
		return u.sendDirect(ack, s.ackTo, out) // a retransmitted 2xx
	}
	if s.noAck {
		return out // the ACK waits for the application's answer (Accept)
	}
	body := []byte(m.Body())
	var answer []byte
	var oaEvents []effects.Effect // reported after the call's answer
	switch {
	case s.oa == oaLocalOffer && len(body) > 0:
		oaEvents = s.answered(false, body, m, nil)
	case s.oa == oaNone && len(body) > 0:
		// The INVITE had no offer: the 2xx offers, the ACK answers.
		s.offered(false, body)
		if c.lateAnswer == nil && c.kept == nil {
			// The application answers with Accept; the ACK waits.
			c.kept, c.state = s, stEstablished
			out = u.cancelTimer(&c.tExpires, out)
			s.noAck, s.waitOK = true, m
			return sessionEvent(out, s, effects.CallAnswered, m)
		}
		answer = c.lateAnswer
	}
	out = u.sendACK(s, m, answer, out)
	if answer != nil {
		oaEvents = s.answered(true, answer, m, nil)
	}
	if c.kept != nil && c.kept != s {
		// Another fork answered: acknowledged above, now hung up.
		return u.sendBye(now, s, out)
	}
	if c.kept == s {
		return append(out, oaEvents...)
	}
	c.kept, c.state = s, stEstablished
	out = u.cancelTimer(&c.tExpires, out)
	out = u.cancelTimer(&c.tCancel, out)
	out = u.startSessionTimerUAC(s, m, out)
	if c.hangupWanted || c.cancelled {
		// The CANCEL crossed the 2xx: the call is up, so hang it up.
		out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Msg: m, Err: ErrHangup})
		return u.sendBye(now, s, out)
	}
	out = sessionEvent(out, s, effects.CallAnswered, m)
	return append(out, oaEvents...)
}

// sendACK builds the ACK for the 2xx m (§13.2.2.4): a request in the
// dialog with the INVITE's CSeq number, sent outside any transaction, and
// remembered for the 2xx's retransmissions.
func (u *UA) sendACK(s *session, m *message.Message, body []byte, out []effects.Effect) []effects.Effect {
	ct := ""
	if len(body) > 0 {
		ct = "application/sdp"
	}
	ack, next, err := s.d.Request("ACK", dialog.RequestOptions{Via: u.via(s.peer), CSeq: m.CSeq().Seq, ContentType: ct, Body: body})
	if err != nil {
		return out
	}
	if s.acks == nil {
		s.acks = map[uint32]*message.Message{}
	}
	s.acks[m.CSeq().Seq] = ack
	s.ackTo = nextHop(next, s.peer)
	return u.sendDirect(ack, s.ackTo, out)
}

// stray handles a response that matches no transaction: a 2xx to an INVITE
// whose transaction ended is acknowledged again if its dialog is known.
func (u *UA) stray(now effects.Time, m *message.Message, out []effects.Effect) []effects.Effect {
	if m.CSeq().Method != "INVITE" || m.StatusCode() < 200 || m.StatusCode() >= 300 {
		return out
	}
	if s := u.byDialog[dialog.IDOf(m, true)]; s != nil {
		if ack := s.acks[m.CSeq().Seq]; ack != nil {
			return u.sendDirect(ack, s.ackTo, out)
		}
	}
	return out
}

// Hangup ends a call: an unanswered outgoing call is cancelled (§9.1; the
// CANCEL waits for a provisional response), an established call gets a BYE
// (§15), an unanswered incoming call is declined (603).
func (u *UA) Hangup(now effects.Time, id CallID, out []effects.Effect) ([]effects.Effect, error) {
	c := u.calls[id]
	if c == nil {
		return out, ErrNoCall
	}
	switch {
	case c.state == stCalling:
		c.hangupWanted = true
		if c.provisional && !c.cancelled {
			out = u.sendCancel(now, c, out)
		}
		return out, nil
	case c.state == stIncoming:
		return u.Reject(now, id, 603, out)
	}
	s := c.kept
	if !c.uac && s.ok != nil && s.c.answered {
		// §15: the callee hangs up only once its 2xx is acknowledged.
		s.byeWanted = true
		return out, nil
	}
	out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Err: ErrHangup})
	return u.sendBye(now, s, out), nil
}

// sendCancel cancels the call's INVITE (§9.1) and gives the INVITE 64·T1 to
// end before giving up on it.
func (u *UA) sendCancel(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	cancel, err := message.CancelFor(c.invite)
	if err != nil {
		return out
	}
	c.cancelled = true
	_, out, _ = u.newClient(now, cancel, c.peer, txnRole{call: c, kind: roleCancel}, out)
	c.tCancel, out = u.setTimer(timerRole{call: c, kind: timerCancel}, 64*u.txns.Config().T1, out)
	return out
}

// expired handles the end of the INVITE's Expires: cancel (§13.2.1).
func (u *UA) expired(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	if c.state != stCalling {
		return out
	}
	c.hangupWanted = true
	if c.provisional && !c.cancelled {
		out = u.sendCancel(now, c, out)
	}
	return out
}

// cancelGiveUp handles an INVITE that no final response ended 64·T1 after
// its CANCEL: the transaction is abandoned (§9.1) and the call fails.
func (u *UA) cancelGiveUp(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	if c.state != stCalling {
		return out
	}
	out = u.route(now, u.txns.Abandon(now, c.inviteTxn, u.buf()), out)
	if !u.live(c) || c.state != stCalling {
		return out // the transaction's end failed the call (487)
	}
	out = u.endCall(now, c, out)
	return deliver(out, effects.Event{Kind: effects.CallFailed, ID: c.id, Code: 487, Err: ErrCancelled})
}

// sendBye ends a session with a BYE (§15.1.1) and forgets it; the call ends
// when its kept session does.
func (u *UA) sendBye(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	if c := s.c; !c.uac && c.state == stIncoming {
		// A callee never sends BYE in an early dialog (§15): it ends the
		// call with a final response to the INVITE instead.
		if resp, err := message.NewResponse(c.invite, 500, "", message.ResponseOptions{ToTag: c.localTag}); err == nil {
			out, _ = u.respond(now, c.inviteTxn, resp, out)
		}
		c.answered = true
		return u.endCall(now, c, out)
	}
	bye, next, err := s.d.Request("BYE", dialog.RequestOptions{Via: u.via(s.peer)})
	if err == nil {
		_, out, _ = u.newClient(now, bye, nextHop(next, s.peer), txnRole{call: s.c, s: s, kind: roleBye}, out)
	}
	out = u.dropSession(now, s, out)
	if c := s.c; c.kept == s || len(liveSessions(c)) == 0 {
		// A call still calling lets its INVITE go in endCall (endInvite:
		// cancelled, then abandoned 64·T1 later), as when the callee's
		// BYE ends it.
		out = u.endCall(now, c, out)
	}
	return out
}

func liveSessions(c *call) []*session {
	var out []*session
	for _, s := range c.sessions {
		if s.d.State != dialog.Terminated {
			out = append(out, s)
		}
	}
	return out
}

// failure handles a transaction that timed out or failed to send.
func (u *UA) failure(now effects.Time, r txnRole, ev effects.Event, out []effects.Effect) []effects.Effect {
	c := r.call
	if !u.live(c) {
		return out
	}
	code, reason := 408, ErrTimeout
	if ev.Kind == effects.TxnTransportError {
		code, reason = 503, ErrTransport
	}
	switch r.kind {
	case roleInvite:
		if c.uac && c.state == stCalling {
			if c.refer != 0 {
				out = u.referProgress(now, c, code, "", out)
			}
			out = u.endCall(now, c, out)
			return deliver(out, effects.Event{Kind: effects.CallFailed, ID: c.id, Code: code, Err: reason})
		}
		if !c.uac && ev.Kind == effects.TxnTransportError && c.state == stIncoming {
			out = u.endCall(now, c, out)
			return deliver(out, effects.Event{Kind: effects.CallEnded, ID: c.id, Code: code, Err: reason})
		}
	case roleReinvite, roleUpdate:
		// A request in the dialog timed out: RFC 5057 ends the usage, and
		// with it the call. (A PRACK's failure changes nothing: the
		// INVITE's final response decides.)
		if r.s != nil && r.s.d.State != dialog.Terminated {
			return u.byeEnding(now, r.s, effects.Event{Kind: effects.CallEnded, ID: c.id, Code: code, Err: reason}, out)
		}
	}
	return out
}

// requires reports whether m's Require lists the option tag.
func requires(m *message.Message, tag string) bool {
	return message.HasToken(m, "Require", tag)
}

// supports reports whether m's Supported or Require lists the option tag.
func supports(m *message.Message, tag string) bool {
	return message.HasToken(m, "Supported", tag) || message.HasToken(m, "Require", tag)
}

// allows reports whether m's Allow lists the method.
func allows(m *message.Message, method string) bool {
	return message.HasToken(m, "Allow", method)
}

// rseqOf returns a response's RSeq.
func rseqOf(m *message.Message) (uint32, bool) {
	v, ok, err := message.First[header.RSeq](m)
	return uint32(v), ok && err == nil
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

var _ = fmt.Sprint
