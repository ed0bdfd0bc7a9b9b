package proxycore

import (
	"fmt"
	"slices"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/parser"
)

// Stateless is a stateless proxy core (RFC 3261 §16.11): it forwards each
// request to one target and each response by its Via, and keeps no
// transaction state. The branch of the Via it adds is a hash of the
// request, so a retransmission takes the same branch, and a CANCEL or the
// ACK of a non-2xx the branch of their INVITE.
//
// It runs the checks and route preprocessing of the stateful Proxy; the
// target is the Request-URI, or the first target of Config.Router (a
// Decision with a Code is answered statelessly). Authentication and forking
// need state and are the stateful Proxy's.
//
// The Msg of each Send effect is valid until the next call of Handle: the
// proxy reuses the memory of the messages it parses.
type Stateless struct {
	cfg  Config
	self self
	lim  *parser.Limits
	msg  message.Message
	pend pending
}

// NewStateless returns a stateless proxy with the given configuration
// (Gen, Txn, Auth, TimerC and MaxContexts are not used).
func NewStateless(cfg Config) (*Stateless, error) {
	if cfg.Host == "" {
		return nil, fmt.Errorf("%w: no Host", ErrConfig)
	}
	cfg = cfg.withDefaults()
	return &Stateless{cfg: cfg, self: newSelf(cfg), lim: cfg.Txn.Limits, pend: pending{max: cfg.MaxPending}}, nil
}

// Pending returns the number of messages waiting for a DNS answer.
func (s *Stateless) Pending() int { return s.pend.len() }

// Handle feeds the proxy one input and appends what it wants done to out.
func (s *Stateless) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	switch in.Kind {
	case effects.Resolved:
		return s.pend.resolved(in, out)
	case effects.KeepAlive:
		return append(out, effects.Effect{Kind: effects.Send, Data: pong, To: in.From})
	case effects.Received:
	default:
		return out
	}
	m := &s.msg
	if err := message.ParseInto(m, in.Data, s.lim); err != nil {
		if resp, ok := message.ErrorResponse(m, err, tagFor(m)); ok {
			if to, ok := viaDestFrom(m, in.From); ok {
				out = append(out, effects.Effect{Kind: effects.Send, Msg: resp, To: to})
			}
		}
		return out
	}
	if !m.IsRequest() {
		if !s.self.ourVia(m.TopVia()) || !forwardable(m) {
			return out
		}
		if _, err := m.RemoveTopVia(); err != nil {
			return out
		}
		return s.pend.sendByVia(m, out)
	}
	stamp(m, in.From)
	return s.request(m, in.From, out)
}

var pong = []byte("\r\n")

// request validates and forwards a request, or answers it statelessly.
func (s *Stateless) request(m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	if v := s.self.validate(m); v.code != 0 {
		return s.answer(m, from, v, out)
	}
	d := RequestURI()
	if s.cfg.Router != nil && m.Method() != "ACK" && m.Method() != "CANCEL" && m.ToTag() == "" && !m.Has("Route") {
		d = s.cfg.Router(m)
	}
	if d.Code != 0 {
		return s.answerDecision(m, from, d, out)
	}
	t := Target{}
	if len(d.Targets) > 0 {
		t = d.Targets[0]
	}
	return s.self.forward(m, from, t, &s.pend, out)
}

// answer sends a stateless response to a request that failed validation
// (none to an ACK).
func (s *Stateless) answer(m *message.Message, from effects.Peer, v verdict, out []effects.Effect) []effects.Effect {
	if m.Method() == "ACK" {
		return out
	}
	resp, err := reject(m, v, string(tagFor(m)))
	if err != nil {
		return out
	}
	if to, ok := viaDestFrom(m, from); ok {
		out = append(out, effects.Effect{Kind: effects.Send, Msg: resp, To: to})
	}
	return out
}

// answerDecision answers a request as the router decided.
func (s *Stateless) answerDecision(m *message.Message, from effects.Peer, d Decision, out []effects.Effect) []effects.Effect {
	resp, err := message.NewResponse(m, d.Code, d.Reason, message.ResponseOptions{Gen: tagFor(m)})
	if err != nil {
		return out
	}
	if len(d.Contacts) > 0 {
		_ = message.Set(resp, d.Contacts...)
	}
	for _, f := range d.Headers {
		_ = resp.Add(f.Name, f.Value)
	}
	if to, ok := viaDestFrom(m, from); ok {
		out = append(out, effects.Effect{Kind: effects.Send, Msg: resp, To: to})
	}
	return out
}

// viaDestFrom says where the response to a request from from goes: back
// on the connection for a reliable transport, else by the stamped Via.
func viaDestFrom(m *message.Message, from effects.Peer) (effects.Peer, bool) {
	if from.Transport.Reliable() {
		return from, true
	}
	return viaDest(m.TopVia())
}

// forward forwards a request without state (RFC 3261 §16.11, and the ACK
// of a 2xx for the stateful proxy): route preprocessing, the target as
// Request-URI, Max-Forwards decremented, our Via with a branch that hashes
// the request, then the next hop, resolved if it is a name.
func (s *self) forward(m *message.Message, from effects.Peer, t Target, pend *pending, out []effects.Effect) []effects.Effect {
	loop := loopHash(m)
	in := m.TopVia()
	if err := s.preprocess(m); err != nil {
		return out
	}
	if t.URI.Scheme != 0 || t.URI.Host != "" {
		if err := m.SetRequestURI(t.URI); err != nil {
			return out
		}
	}
	if _, err := m.DecrementMaxForwards(); err != nil {
		return out
	}
	h := hopFor(nextHop(m))
	if t.Peer.Addr.IsValid() {
		h.peer = t.Peer
	}
	tr := h.peer.Transport
	if !h.peer.Addr.IsValid() {
		tr = h.transport
	}
	if s.rr && m.ToTag() == "" && m.Method() != "ACK" && m.Method() != "CANCEL" && m.Method() != "REGISTER" {
		if err := s.recordRoute(m, from.Transport, tr, ""); err != nil {
			return out
		}
	}
	if err := m.PrependVia(s.via(tr, branchFor(loop, in, 0))); err != nil {
		return out
	}
	if h.peer.Addr.IsValid() {
		return append(out, effects.Effect{Kind: effects.Send, Msg: m, To: h.peer, Tag: ownBit})
	}
	return pend.resolve(m, h, out)
}

// forwardStateless forwards the ACK of a 2xx (or an ACK that matched
// nothing) statelessly (RFC 3261 §16.11, §16.7 step 10's ACK rule).
func (p *Proxy) forwardStateless(now effects.Time, m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	if v := p.self.validate(m); v.code != 0 {
		return out
	}
	return p.self.forward(m.Clone(), from, p.flowTarget(m, from), &p.pend, out)
}

// forwardAck forwards the ACK of a 2xx (RFC 3261 §16.11 as a stateless
// proxy would): it belongs to no transaction and nothing keeps it, so it
// is changed in place.
func (p *Proxy) forwardAck(m *message.Message, from effects.Peer, out []effects.Effect) []effects.Effect {
	if v := p.self.validate(m); v.code != 0 {
		return out
	}
	return p.self.forward(m, from, p.flowTarget(m, from), &p.pend, out)
}

// flowTarget is, for a request forwarded without state, the flow that its
// top Route of ours names with a flow token of Config.Flows (RFC 5626
// §5.3), as routeRequest finds it for the others: the ACK of a 2xx to a
// client reached on its connection (a WebSocket client, whose Contact is
// a .invalid host, RFC 7118) follows the INVITE there. The zero Target,
// routing by the Request-URI, when there is none or the request came in
// on that flow.
func (p *Proxy) flowTarget(m *message.Message, from effects.Peer) Target {
	if p.cfg.Flows == nil {
		return Target{}
	}
	r, ok, err := message.First[header.Route](m)
	if err != nil || !ok || r.URI.User == "" || !p.self.ours(r.URI) {
		return Target{}
	}
	if f, ok := p.cfg.Flows.Peer(r.URI.User); ok && !sameFlow(f, from) {
		return Target{Peer: f}
	}
	return Target{}
}

// pending holds messages forwarded outside any transaction while their next
// hop is resolved, at most max of them (the oldest is dropped first: its
// sender retransmits).
type pending struct {
	max   int
	seq   uint64
	msgs  map[uint64]*message.Message
	order []uint64
}

func (pd *pending) len() int { return len(pd.msgs) }

// sendByVia sends a response to its (new) top Via (RFC 3261 §18.2.2),
// resolving the sent-by if it is a name (RFC 3263 §5).
func (pd *pending) sendByVia(m *message.Message, out []effects.Effect) []effects.Effect {
	v := m.TopVia()
	if v.Host == "" {
		return out
	}
	if to, ok := viaDest(v); ok {
		return append(out, effects.Effect{Kind: effects.Send, Msg: m, To: to, Tag: ownBit})
	}
	tr := effects.ParseTransport(v.Transport)
	service := "sip"
	if tr.Secure() {
		service = "sips"
	}
	return pd.resolve(m, hop{name: v.Host, service: service, transport: tr, port: v.Port}, out)
}

// resolve keeps m and asks for h's name to be resolved.
func (pd *pending) resolve(m *message.Message, h hop, out []effects.Effect) []effects.Effect {
	if pd.msgs == nil {
		pd.msgs = map[uint64]*message.Message{}
	}
	for len(pd.msgs) >= pd.max && len(pd.order) > 0 {
		delete(pd.msgs, pd.order[0])
		pd.order = pd.order[1:]
	}
	if len(pd.order) > 2*pd.max {
		pd.order = slices.DeleteFunc(pd.order, func(t uint64) bool { return pd.msgs[t] == nil })
	}
	pd.seq++
	tag := ownBit | pendingBit | pd.seq
	pd.msgs[tag] = m.Clone()
	pd.order = append(pd.order, tag)
	return append(out, effects.Effect{Kind: effects.Resolve, Name: h.name, Service: h.service,
		To: h.lookup(), Tag: tag})
}

// resolved sends the message waiting for a DNS answer to its first target.
func (pd *pending) resolved(in effects.Input, out []effects.Effect) []effects.Effect {
	m := pd.msgs[in.Tag]
	if m == nil {
		return out
	}
	delete(pd.msgs, in.Tag)
	for len(pd.order) > 0 && pd.msgs[pd.order[0]] == nil {
		pd.order = pd.order[1:]
	}
	for _, t := range in.Answer {
		if !t.Addr.IsValid() || t.Transport == 0 {
			continue
		}
		if m.IsRequest() {
			v := m.TopVia()
			if v.Transport != t.Transport.String() {
				v.Transport = t.Transport.String()
				_ = m.ReplaceTopVia(v)
			}
		}
		return append(out, effects.Effect{Kind: effects.Send, Msg: m, To: effects.Peer{Addr: t.Addr, Transport: t.Transport}, Tag: ownBit})
	}
	return out
}
