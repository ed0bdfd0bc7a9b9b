package ua

import (
	"bytes"
	"time"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sdp"
	"github.com/sansip/sansip/txn"
)

type callState uint8

const (
	stCalling     callState = iota + 1 // UAC: INVITE sent, no final response yet
	stIncoming                         // UAS: INVITE received, no final response sent
	stEstablished                      // a 2xx sent or received
)

// call is one INVITE session: the attempt, and the dialog it ends in. On the
// calling side forking can create several dialogs; one is kept.
type call struct {
	id        CallID
	uac       bool
	state     callState
	invite    *message.Message // the initial INVITE, sent or received
	inviteTxn txn.ID
	peer      effects.Peer // where the INVITE went (UAC) or came from (UAS)
	sessions  []*session   // one per dialog (early or confirmed)
	kept      *session     // the session of the established call

	// Calling side.
	provisional  bool   // a provisional response arrived: CANCEL is allowed (§9.1)
	hangupWanted bool   // the application hung up before any provisional response
	cancelled    bool   // CANCEL sent
	lateAnswer   []byte // the answer for an offer in the 2xx, when the INVITE had none
	// UAS: Answer was called while a reliable provisional response with a
	// description waited for its PRACK; the 2xx goes once it arrives.
	answerWanted bool
	answerBody   []byte
	// refer is the implicit subscription of the REFER this call carries
	// out (RFC 3515), reported to until the final response.
	refer    uint64
	tExpires effects.TimerID
	tCancel  effects.TimerID

	// Answering side.
	localTag string
	replaces CallID // the call an INVITE with Replaces takes the place of (RFC 3891)
	merge    mergeKey
	answered bool // a final response was sent
}

// session is one dialog of a call with its offer/answer, 2xx, reliable
// provisional and session timer state.
type session struct {
	c    *call
	d    *dialog.Dialog
	peer effects.Peer // where in-dialog requests go when the next hop is a name

	// Offer/answer (RFC 3264): who owes an answer, the current
	// descriptions, whether the peer holds the session.
	oa          oaState
	established bool
	local       []byte // our current session description
	remote      []byte // the peer's
	pending     []byte // the offer awaiting its answer
	held        bool
	streams     []sdp.Stream // what the last exchange negotiated (Media)

	// UAC: the ACK for a 2xx to an INVITE, by the INVITE's CSeq, re-sent for
	// each retransmitted 2xx.
	acks   map[uint32]*message.Message
	ackTo  effects.Peer
	noAck  bool // a 2xx whose offer waits for the application's answer
	waitOK *message.Message

	// UAS: the 2xx being retransmitted until its ACK (§13.3.1.4).
	ok         *message.Message
	okTxn      txn.ID
	okInterval time.Duration
	t2xx       effects.TimerID
	tNoAck     effects.TimerID
	byeWanted  bool          // hang up once the ACK arrives
	byeEvent   effects.Event // the CallEnded to deliver then, if not ErrHangup's

	// In-dialog requests in progress.
	clientInvite txn.ID           // our re-INVITE
	clientUpdate txn.ID           // our UPDATE
	serverReq    txn.ID           // their re-INVITE or UPDATE awaiting Accept or Decline
	serverMsg    *message.Message // that request
	glareBody    []byte
	glareUpdate  bool
	tGlare       effects.TimerID

	// Reliable provisional responses (RFC 3262).
	rseq        uint32           // UAS: the RSeq of the last reliable 1xx sent
	rel         *message.Message // UAS: the reliable 1xx awaiting PRACK
	relSDP      bool             // UAS: it carries a session description
	relInterval time.Duration
	tRel        effects.TimerID
	tRelGiveUp  effects.TimerID
	lastRSeq    uint32 // UAC: the RSeq of the last reliable 1xx acknowledged

	// Session timer (RFC 4028).
	interval         time.Duration // 0: no session timer
	refresher        bool          // this side refreshes
	tRefresh         effects.TimerID
	tExpiry          effects.TimerID
	peerAllowsUpdate bool
}

type oaState uint8

const (
	oaNone        oaState = iota // no offer yet
	oaLocalOffer                 // we offered, the peer owes the answer
	oaRemoteOffer                // the peer offered, we owe the answer
	oaStable                     // the last offer was answered
)

// mergeKey identifies a request outside a dialog that arrived by two paths
// (§8.2.2.2): same From tag, Call-ID and CSeq.
type mergeKey struct {
	fromTag, callID string
	seq             uint32
	method          string
}

func (u *UA) newCall(uac bool, invite *message.Message, peer effects.Peer) *call {
	u.nextID++
	c := &call{id: u.nextID, uac: uac, invite: invite, peer: peer}
	u.calls[c.id] = c
	return c
}

// addSession registers a session for dialog d.
func (u *UA) addSession(c *call, d *dialog.Dialog, peer effects.Peer) *session {
	d.AddUsage(dialog.Usage{Kind: dialog.InviteUsage})
	s := &session{c: c, d: d, peer: peer}
	c.sessions = append(c.sessions, s)
	u.byDialog[d.ID] = s
	return s
}

// dropSession forgets a session and cancels its timers. A re-INVITE or
// UPDATE of the peer still waiting for the application gets 487, and our
// own re-INVITE still in progress is abandoned, so that no transaction
// outlives its session.
func (u *UA) dropSession(now effects.Time, s *session, out []effects.Effect) []effects.Effect {
	if s.serverReq != 0 {
		req, id := s.serverMsg, s.serverReq
		s.serverReq, s.serverMsg = 0, nil
		out = u.reply(now, id, req, 487, s.d.ID.LocalTag, nil, out)
	}
	if s.clientInvite != 0 {
		// Our re-INVITE, if the peer sent a provisional response and no
		// final one, has no timer left to end it: the session's end does.
		id := s.clientInvite
		s.clientInvite = 0
		out = u.route(now, u.txns.Abandon(now, id, u.buf()), out)
	}
	for _, t := range []*effects.TimerID{&s.t2xx, &s.tNoAck, &s.tGlare, &s.tRel, &s.tRelGiveUp, &s.tRefresh, &s.tExpiry} {
		out = u.cancelTimer(t, out)
	}
	if u.byDialog[s.d.ID] == s {
		delete(u.byDialog, s.d.ID)
		u.keepSubscriptions(s.d)
	}
	s.d.Terminate()
	return out
}

// endCall forgets a call, its sessions and timers.
func (u *UA) endCall(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	if c.refer != 0 {
		// The referred call ended without a final response reported.
		out = u.referProgress(now, c, 487, "", out)
	}
	out = u.cancelTimer(&c.tExpires, out)
	out = u.cancelTimer(&c.tCancel, out)
	if c.uac && c.state == stCalling {
		out = u.endInvite(now, c, out)
	}
	for _, s := range c.sessions {
		out = u.dropSession(now, s, out)
	}
	c.sessions, c.kept = nil, nil
	if c.merge != (mergeKey{}) && u.merged[c.merge] == c.id {
		delete(u.merged, c.merge)
	}
	delete(u.calls, c.id)
	return out
}

// endInvite lets go of the INVITE of a calling call that ends while its
// transaction is still waiting for a final response (the last early dialog
// ended with a BYE, §15). In the Proceeding state no timer of its own ends
// that transaction (§17.1.1.2): it is cancelled, when a provisional response
// allows (§9.1) and it was not yet, and abandoned 64·T1 later if no final
// response ended it, as after any CANCEL that got none.
func (u *UA) endInvite(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	id := c.inviteTxn
	if _, st, live := u.txns.State(id); !live || st != txn.Calling && st != txn.Proceeding {
		return out
	}
	if c.provisional && !c.cancelled {
		if cancel, err := message.CancelFor(c.invite); err == nil {
			c.cancelled = true
			_, out, _ = u.newClient(now, cancel, c.peer, txnRole{call: c, kind: roleCancel}, out)
		}
	}
	_, out = u.setFuncTimer(64*u.t1(), func(now effects.Time, out []effects.Effect) []effects.Effect {
		return u.route(now, u.txns.Abandon(now, id, u.buf()), out)
	}, out)
	return out
}

func (u *UA) live(c *call) bool { return c != nil && u.calls[c.id] == c }

// sessionEvent delivers an event about s's call.
func sessionEvent(out []effects.Effect, s *session, kind effects.EventKind, m *message.Message) []effects.Effect {
	return deliver(out, effects.Event{Kind: kind, ID: s.c.id, Msg: m})
}

// offered records an offer: ours (local) or the peer's.
func (s *session) offered(local bool, body []byte) {
	if local {
		s.oa, s.pending = oaLocalOffer, body
	} else {
		s.oa, s.pending = oaRemoteOffer, body
	}
}

// answered completes the offer/answer exchange in progress with body, the
// answer (ours when local), and reports it to the application: the first
// exchange establishes the session, later ones modify it; the peer's offer
// may hold or resume it (RFC 3264 §8.4).
func (s *session) answered(local bool, body []byte, m *message.Message, out []effects.Effect) []effects.Effect {
	remoteOffer := s.oa == oaRemoteOffer
	if remoteOffer {
		s.remote = s.pending
		if local {
			s.local = body
		}
	} else {
		s.local = s.pending
		if !local {
			s.remote = body
		}
	}
	s.oa, s.pending = oaStable, nil
	if !s.established {
		s.established = true
		out = sessionEvent(out, s, effects.SessionEstablished, m)
	} else {
		out = sessionEvent(out, s, effects.SessionModified, m)
	}
	if remoteOffer {
		held := onHold(s.remote)
		switch {
		case held && !s.held:
			out = sessionEvent(out, s, effects.SessionHeld, m)
		case !held && s.held:
			out = sessionEvent(out, s, effects.SessionResumed, m)
		}
		s.held = held
	}
	return s.mediaChanged(m, out)
}

// rollback abandons the offer in progress (a 491 or other failure).
func (s *session) rollback() {
	if s.oa == oaLocalOffer || s.oa == oaRemoteOffer {
		s.pending = nil
		if s.established {
			s.oa = oaStable
		} else {
			s.oa = oaNone
		}
	}
}

// unchanged reports whether an offer repeats the peer's current description
// (a session refresh, RFC 4028 §7.4): it is answered with ours, unchanged.
func (s *session) unchanged(body []byte) bool {
	return s.established && len(body) > 0 && bytes.Equal(body, s.remote)
}

// inviteInProgress reports whether an INVITE transaction is in progress on
// the session's dialog in either direction, so that no re-INVITE may start
// (§14.1): ours unanswered, theirs awaiting the application, or our 2xx
// still waiting for its ACK.
func (s *session) inviteInProgress() bool {
	return s.clientInvite != 0 || s.ok != nil || s.noAck ||
		s.serverReq != 0 && s.serverMsg.Method() == "INVITE" || s.c.state != stEstablished
}
