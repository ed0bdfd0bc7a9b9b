package txn

import (
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// NewClient starts a client transaction that sends req to to (RFC 3261
// §17.1.1, §17.1.2). The TU has built req with its top Via and a branch
// that carries the magic cookie, and chosen to (RFC 3263). An ACK is not a
// transaction: the TU sends the ACK for a 2xx itself, as an effects.Send.
func (l *Layer) NewClient(now effects.Time, req *message.Message, to effects.Peer, out []effects.Effect) (ID, []effects.Effect, error) {
	if req == nil || !req.IsRequest() {
		return 0, out, fmt.Errorf("%w: not a request", ErrInvalid)
	}
	method := req.Method()
	if method == "ACK" {
		return 0, out, fmt.Errorf("%w: an ACK is not a transaction", ErrInvalid)
	}
	if !req.TopVia().HasCookie() || req.CSeq().Method != method {
		return 0, out, fmt.Errorf("%w: the top Via needs a branch with %s and a CSeq of the method", ErrInvalid, header.MagicCookie)
	}
	k := clientKey(req)
	if l.lookup(k) != nil {
		return 0, out, ErrExists
	}
	to = l.congestionControlled(req, to)
	if l.live >= l.cfg.MaxTransactions {
		return 0, out, ErrOverload
	}
	kind := ClientNonInvite
	if method == "INVITE" {
		kind = ClientInvite
	}
	t := l.alloc(kind)
	t.req, t.peer, t.reliable = req, to, to.Transport.Reliable()
	l.insert(t, k)
	out = send(t, req, out)
	if kind == ClientInvite {
		t.state = Calling
		if !t.reliable {
			t.interval = l.cfg.T1
			out = l.arm(t, TimerA, t.interval, out)
		}
		out = l.arm(t, TimerB, 64*l.cfg.T1, out)
	} else {
		t.state = Trying
		if !t.reliable {
			t.interval = l.cfg.T1
			out = l.arm(t, TimerE, t.interval, out)
		}
		out = l.arm(t, TimerF, 64*l.cfg.T1, out)
	}
	return t.id, out, nil
}

// response matches a response to its client transaction (§17.1.3).
func (l *Layer) response(m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	t := l.lookup(clientKey(m))
	if t == nil {
		return deliver(out, effects.Event{Kind: effects.TxnStray, Msg: m, From: from})
	}
	if t.kind == ClientInvite {
		return l.inviteResponse(t, m, from, out)
	}
	return l.nonInviteResponse(t, m, from, out)
}

func (l *Layer) pass(t *txn, m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	return deliver(out, effects.Event{Kind: effects.TxnResponse, ID: t.id, Msg: m, From: from})
}

// inviteResponse runs RFC 3261 Figure 5 with RFC 6026's Accepted state.
func (l *Layer) inviteResponse(t *txn, m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	code := m.StatusCode()
	switch t.state {
	case Calling, Proceeding:
		switch {
		case code < 200:
			if t.state == Calling {
				// Proceeding: no more retransmissions, and no Timer B
				// (the TU's Timer C or CANCEL governs from here).
				t.state = Proceeding
				out = l.disarm(t, TimerA, out)
				out = l.disarm(t, TimerB, out)
			}
			return l.pass(t, m, from, out)
		case code < 300:
			// RFC 6026 §7.2: Accepted, passing every 2xx up until Timer M.
			t.state, t.outcome = Accepted, true
			l.release(t)
			out = l.disarm(t, TimerA, out)
			out = l.disarm(t, TimerB, out)
			out = l.pass(t, m, from, out)
			return l.arm(t, TimerM, 64*l.cfg.T1, out)
		default:
			// §17.1.1.2, §17.1.1.3: ACK it, pass it up, Completed.
			t.state, t.outcome = Completed, true
			out = l.disarm(t, TimerA, out)
			out = l.disarm(t, TimerB, out)
			if ack, err := message.AckFor(t.req, m); err == nil {
				t.last = ack
				out = send(t, ack, out)
			}
			l.release(t)
			out = l.pass(t, m, from, out)
			if t.reliable {
				return l.terminate(t, out) // Timer D is zero
			}
			return l.arm(t, TimerD, l.cfg.TimerD, out)
		}
	case Completed:
		// A retransmitted final response: the ACK again, not to the TU.
		if code >= 300 && t.last != nil {
			out = send(t, t.last, out)
		}
		return out
	case Accepted:
		if code >= 200 && code < 300 {
			return l.pass(t, m, from, out) // retransmitted or forked 2xx
		}
	}
	return out
}

// nonInviteResponse runs RFC 3261 Figure 6.
func (l *Layer) nonInviteResponse(t *txn, m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	code := m.StatusCode()
	if t.state != Trying && t.state != Proceeding {
		return out // Completed absorbs retransmissions
	}
	if code < 200 {
		t.state = Proceeding
		return l.pass(t, m, from, out)
	}
	t.state, t.outcome = Completed, true
	l.release(t)
	out = l.disarm(t, TimerE, out)
	out = l.disarm(t, TimerF, out)
	out = l.pass(t, m, from, out)
	if t.reliable {
		return l.terminate(t, out) // Timer K is zero
	}
	return l.arm(t, TimerK, l.cfg.T4, out)
}

// clientTimer handles a client transaction's timer.
func (l *Layer) clientTimer(now effects.Time, t *txn, w Timer, out []effects.Effect) []effects.Effect {
	switch w {
	case TimerA:
		// §17.1.1.2: retransmit; the interval doubles with no cap.
		out = send(t, t.req, out)
		t.interval *= 2
		return l.arm(t, TimerA, t.interval, out)
	case TimerE:
		// §17.1.2.2: retransmit; in Trying the interval doubles up to T2,
		// in Proceeding it is T2.
		out = send(t, t.req, out)
		if t.state == Proceeding {
			t.interval = l.cfg.T2
		} else {
			t.interval = min(2*t.interval, l.cfg.T2)
		}
		return l.arm(t, TimerE, t.interval, out)
	case TimerB, TimerF:
		t.outcome = true
		out = l.disarm(t, TimerA, out)
		out = l.disarm(t, TimerE, out)
		out = deliver(out, effects.Event{Kind: effects.TxnTimeout, ID: t.id})
		return l.terminate(t, out)
	case TimerD, TimerK, TimerM:
		return l.terminate(t, out)
	}
	return out
}

// Abandon ends a transaction at the TU's request, without a final outcome:
// RFC 3261 §9.1 has a client give up an INVITE that a CANCEL did not end
// within 64·T1. Its timers are cancelled and the TU hears only
// TxnTerminated.
func (l *Layer) Abandon(now effects.Time, id ID, out []effects.Effect) []effects.Effect {
	t := l.get(id)
	if t == nil {
		return out
	}
	t.outcome = true
	return l.terminate(t, out)
}

// congestionControlled moves a request too large for UDP to TCP (RFC 3261
// §18.1.1): the top Via's transport changes with it, and the request goes
// to the same address over TCP (a new connection, unless the driver has
// one to it). A Via that cannot be rewritten leaves the request on UDP.
func (l *Layer) congestionControlled(req *message.Message, to effects.Peer) effects.Peer {
	if to.Transport != effects.UDP || l.cfg.MaxUDPRequest < 0 || req.Size() <= l.cfg.MaxUDPRequest {
		return to
	}
	v := req.TopVia()
	v.Transport = "TCP"
	if err := req.ReplaceTopVia(v); err != nil {
		return to
	}
	to.Transport, to.Conn = effects.TCP, 0
	return to
}
