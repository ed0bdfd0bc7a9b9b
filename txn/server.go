package txn

import (
	"fmt"
	"hash/fnv"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/parser"
)

// received parses a message from the network and hands it to the server or
// client side.
func (l *Layer) received(in effects.Input, out []effects.Effect) []effects.Effect {
	m := in.Msg
	var err error
	if m == nil { // else parsed by the caller (a dispatcher that looked at it first)
		m, err = ParseReceived(in.Data, in.From.Transport, l.cfg.Limits)
	}
	if err != nil {
		// A malformed request is answered statelessly when it can be
		// (400, 505, 513); anything else is dropped.
		if resp, ok := message.ErrorResponse(m, err, statelessTag(m)); ok {
			out = append(out, effects.Effect{Kind: effects.Send, Msg: resp, To: responseDest(m.TopVia(), in.From)})
		}
		return out
	}
	if m.IsRequest() {
		stampVia(m, in.From)
		return l.request(in.Now, m, in.From, out)
	}
	return l.response(m, in.From, out)
}

// ParseReceived parses a message received over tr as the layer does: by
// stream rules over TCP and TLS (Content-Length required), by datagram
// rules otherwise (UDP datagrams, and WebSocket and SCTP messages, which
// carry one SIP message each, RFC 7118 §5). A caller that parses first
// (effects.Input.Msg) parses the same way.
func ParseReceived(data []byte, tr effects.Transport, lim *parser.Limits) (*message.Message, error) {
	if tr == effects.TCP || tr == effects.TLS {
		return message.ParseStream(data, lim)
	}
	return message.Parse(data, lim)
}

// request matches a request to a server transaction (§17.2.3) or creates
// one.
func (l *Layer) request(now effects.Time, m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	method := m.Method()
	if method == "ACK" {
		return l.ack(m, from, out)
	}
	if t := l.lookup(serverKey(m, method)); t != nil {
		return l.retransmission(t, out)
	}
	if l.live >= l.cfg.MaxTransactions {
		// The table is full: 503 with Retry-After, statelessly.
		resp, err := message.NewResponse(m, 503, "", message.ResponseOptions{Gen: statelessTag(m)})
		if err == nil {
			message.Set(resp, header.RetryAfter{Delta: l.cfg.RetryAfter})
			out = append(out, effects.Effect{Kind: effects.Send, Msg: resp, To: responseDest(m.TopVia(), from)})
		}
		return out
	}
	k := ServerNonInvite
	if method == "INVITE" {
		k = ServerInvite
	}
	t := l.alloc(k)
	t.req, t.cseq, t.recvAt = m, m.CSeq(), now
	t.peer = responseDest(m.TopVia(), from)
	t.reliable = from.Transport.Reliable()
	l.insert(t, serverKey(m, method))
	if k == ServerInvite {
		t.state = Proceeding
		// §17.2.1: 100 (Trying) unless the TU answers within 200 ms.
		out = l.arm(t, Trying100, l.cfg.Trying, out)
	} else {
		t.state = Trying
	}
	ev := effects.Event{Kind: effects.TxnRequest, ID: t.id, Msg: m, From: from}
	if method == "CANCEL" {
		// §9.2: the CANCEL matches the INVITE it cancels like a request
		// matches a transaction, with method INVITE.
		ev.Kind = effects.TxnCancel
		if inv := l.lookup(serverKey(m, "INVITE")); inv != nil && inv.kind == ServerInvite {
			ev.Ref = inv.id
		}
	}
	return deliver(out, ev)
}

// retransmission handles a retransmitted request: the latest response goes
// out again (§17.2.1, §17.2.2), or it is absorbed.
func (l *Layer) retransmission(t *txn, out []effects.Effect) []effects.Effect {
	switch t.state {
	case Proceeding, Completed:
		switch {
		case t.last != nil:
			out = send(t, t.last, out)
		case t.raw != nil:
			out = append(out, effects.Effect{Kind: effects.Send, Data: t.raw, To: t.peer, Tag: t.id})
		}
	}
	// Trying (non-INVITE), Confirmed and Accepted (RFC 6026 §7.1) absorb
	// it.
	return out
}

// ack handles an ACK: for a non-2xx final response it belongs to the INVITE
// server transaction (Completed → Confirmed); for a 2xx it is the TU's.
func (l *Layer) ack(m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	t := l.lookup(serverKey(m, "INVITE"))
	if t != nil && t.key.legacy != nil && m.ToTag() != t.tag {
		// RFC 2543: the ACK matches only with the tag of our response;
		// another tag acknowledges a 2xx from elsewhere.
		t = nil
	}
	if t == nil || t.kind != ServerInvite {
		return deliver(out, effects.Event{Kind: effects.TxnAck, Msg: m, From: from})
	}
	switch t.state {
	case Completed:
		t.state = Confirmed
		out = l.disarm(t, TimerG, out)
		out = l.disarm(t, TimerH, out)
		if t.reliable {
			return l.terminate(t, out) // Timer I is zero
		}
		return l.arm(t, TimerI, l.cfg.T4, out)
	case Confirmed:
		return out // absorbed
	case Accepted:
		return deliver(out, effects.Event{Kind: effects.TxnAck, Ref: t.id, Msg: m, From: from})
	}
	// An ACK before any final response acknowledges nothing of ours.
	return deliver(out, effects.Event{Kind: effects.TxnAck, Msg: m, From: from})
}

// Respond passes resp, a response the TU built for the server transaction
// id, to the transaction, which sends it and moves on (§17.2.1, §17.2.2).
func (l *Layer) Respond(now effects.Time, id ID, resp *message.Message, out []effects.Effect) ([]effects.Effect, error) {
	t := l.get(id)
	if t == nil {
		return out, ErrNoTransaction
	}
	if t.client() {
		return out, fmt.Errorf("%w: %s transaction", ErrState, t.kind)
	}
	if resp == nil || resp.IsRequest() {
		return out, fmt.Errorf("%w: not a response", ErrInvalid)
	}
	if resp.CSeq() != t.cseq {
		return out, fmt.Errorf("%w: response CSeq %v for request CSeq %v", ErrInvalid, resp.CSeq(), t.cseq)
	}
	code := resp.StatusCode()
	out = l.disarm(t, Trying100, out)
	if t.kind == ServerInvite {
		switch t.state {
		case Proceeding:
			out = send(t, resp, out)
			switch {
			case code < 200:
				t.last = resp
			case code < 300:
				// RFC 6026 §7.1: Accepted; the TU retransmits the 2xx.
				t.state, t.last = Accepted, nil
				l.release(t)
				out = l.arm(t, TimerL, 64*l.cfg.T1, out)
			default:
				t.state, t.last, t.tag = Completed, resp, resp.ToTag()
				l.release(t)
				if !t.reliable {
					t.interval = l.cfg.T1
					out = l.arm(t, TimerG, t.interval, out)
				}
				out = l.arm(t, TimerH, 64*l.cfg.T1, out)
			}
			return out, nil
		case Accepted:
			if code >= 200 && code < 300 {
				return send(t, resp, out), nil
			}
		}
		return out, fmt.Errorf("%w: %d in %s", ErrState, code, t.state)
	}
	switch t.state {
	case Trying, Proceeding:
		out = send(t, resp, out)
		t.last = resp
		if code < 200 {
			t.state = Proceeding
			return out, nil
		}
		t.state = Completed
		l.release(t)
		if t.reliable {
			return l.terminate(t, out), nil // Timer J is zero
		}
		// What lingers for Timer J (32 s over UDP) to answer
		// retransmissions is the response's wire form, not the parsed
		// message and the bytes it was read from.
		t.last, t.raw = nil, resp.Bytes()
		return l.arm(t, TimerJ, 64*l.cfg.T1, out), nil
	}
	return out, fmt.Errorf("%w: %d in %s", ErrState, code, t.state)
}

// RespondStateless sends resp, a final response to the non-INVITE server
// transaction id, and ends the transaction at once instead of keeping it
// for Timer J: a retransmission of the request is then a new request,
// answered afresh. That is right for an answer that costs nothing to give
// again and changes nothing, such as a registrar's digest challenge (RFC
// 3261 §8.2.7: a UAS may answer statelessly; the next challenge has a new
// nonce), and spares the 32 s a transaction lingers over UDP.
func (l *Layer) RespondStateless(now effects.Time, id ID, resp *message.Message, out []effects.Effect) ([]effects.Effect, error) {
	t := l.get(id)
	if t == nil {
		return out, ErrNoTransaction
	}
	if t.kind != ServerNonInvite || t.state != Trying && t.state != Proceeding {
		return out, fmt.Errorf("%w: stateless answer in a %s transaction, %s", ErrState, t.kind, t.state)
	}
	if resp == nil || resp.IsRequest() || resp.StatusCode() < 200 {
		return out, fmt.Errorf("%w: not a final response", ErrInvalid)
	}
	if resp.CSeq() != t.cseq {
		return out, fmt.Errorf("%w: response CSeq %v for request CSeq %v", ErrInvalid, resp.CSeq(), t.cseq)
	}
	return l.terminate(t, send(t, resp, out)), nil
}

// serverTimer handles a server transaction's timer.
func (l *Layer) serverTimer(now effects.Time, t *txn, w Timer, out []effects.Effect) []effects.Effect {
	switch w {
	case Trying100:
		if t.state == Proceeding && t.last == nil {
			trying, err := message.NewResponse(t.req, 100, "", message.ResponseOptions{Delay: now.Sub(t.recvAt)})
			if err == nil {
				t.last = trying
				out = send(t, trying, out)
			}
		}
		return out
	case TimerG:
		// Retransmit the final response; the interval doubles up to T2.
		out = send(t, t.last, out)
		t.interval = min(2*t.interval, l.cfg.T2)
		return l.arm(t, TimerG, t.interval, out)
	case TimerH:
		// No ACK came: tell the TU, end.
		out = deliver(out, effects.Event{Kind: effects.TxnTimeout, ID: t.id})
		return l.terminate(t, out)
	case TimerI, TimerJ, TimerL:
		return l.terminate(t, out)
	}
	return out
}

// statelessTag returns a Generator whose tags hash the request, so that a
// stateless answer to a retransmission carries the same To tag (RFC 3261
// §8.2.7, §16.11).
func statelessTag(m *message.Message) hashTag {
	h := fnv.New64a()
	if m != nil {
		h.Write([]byte(m.CallID()))
		h.Write([]byte(m.FromTag()))
		h.Write([]byte(m.Branch()))
		h.Write([]byte(m.StartLine()))
	}
	return hashTag(h.Sum64())
}

// hashTag is an ident.Generator that only makes the tag of a stateless
// response.
type hashTag uint64

func (h hashTag) Tag() string    { return "s" + itoa(uint64(h)) }
func (h hashTag) Branch() string { return header.MagicCookie + "s" + itoa(uint64(h)) }
func (h hashTag) CallID() string { return "s" + itoa(uint64(h)) }
