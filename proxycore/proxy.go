package proxycore

import (
	"errors"
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// Errors of the Proxy's commands, matchable with errors.Is.
var (
	// ErrNoContext: the id names no request waiting for that answer.
	ErrNoContext = errors.New("proxycore: no such request context")
	// ErrConfig: the configuration cannot work.
	ErrConfig = errors.New("proxycore: invalid configuration")
)

// ownBit marks the proxy's own timer ids, send tags and resolve tags, apart
// from the transaction layer's.
const ownBit = 1 << 63

// pendingBit marks the resolve tags of messages forwarded outside any
// transaction (ACKs for 2xx, responses after their transaction ended).
const pendingBit = 1 << 62

// Proxy is a stateful proxy core (RFC 3261 §16): it owns a transaction
// layer, keeps a response context per request it forwards, forks, and
// relays responses. It is not safe for concurrent use.
type Proxy struct {
	cfg      Config
	self     self
	txns     *txn.Layer
	ctxs     map[txn.ID]*rctx   // by server transaction
	clients  map[txn.ID]*branch // by client transaction
	branches map[uint64]*branch // by branch sequence number
	cancels  map[txn.ID]bool    // CANCELs we sent
	byBranch map[string]*branch // by the branch of our Via, while the context lives
	timers   map[effects.TimerID]bool
	open     int // contexts not yet settled: what MaxContexts bounds
	pend     pending
	// preset is the routing decision HandleRouted gives the new request
	// of the input being handled, when hasPreset.
	preset    Decision
	hasPreset bool
	seq       uint64
	spare     effects.Buffers
}

// New returns a Proxy with the given configuration.
func New(cfg Config) (*Proxy, error) {
	if cfg.Gen == nil {
		return nil, fmt.Errorf("%w: no Gen", ErrConfig)
	}
	if cfg.Host == "" {
		return nil, fmt.Errorf("%w: no Host", ErrConfig)
	}
	if cfg.Auth != nil && (cfg.Auth.Server == nil || len(cfg.Auth.Server.Secret) == 0) {
		return nil, fmt.Errorf("%w: Auth needs a Server with a Secret", ErrConfig)
	}
	cfg = cfg.withDefaults()
	if g, ok := cfg.Registrar.(gruuSource); ok && cfg.GRUU == nil {
		cfg.GRUU = g.GRUUs()
	}
	return &Proxy{
		cfg:      cfg,
		self:     newSelf(cfg),
		txns:     txn.New(cfg.Txn),
		ctxs:     map[txn.ID]*rctx{},
		clients:  map[txn.ID]*branch{},
		branches: map[uint64]*branch{},
		cancels:  map[txn.ID]bool{},
		byBranch: map[string]*branch{},
		timers:   map[effects.TimerID]bool{},
		pend:     pending{max: cfg.MaxPending},
	}, nil
}

// Config returns the configuration in use, defaults filled in.
func (p *Proxy) Config() Config { return p.cfg }

// Transactions returns the proxy's transaction layer (for inspection).
func (p *Proxy) Transactions() *txn.Layer { return p.txns }

// Busy reports whether a request is still being proxied (a context not
// settled) or a transaction waits for its final response: what a
// graceful shutdown waits for. Settled contexts and lingering
// transactions do not count.
func (p *Proxy) Busy() bool { return p.open > 0 || p.txns.Busy() }

// Contexts returns the number of live response contexts.
func (p *Proxy) Contexts() int { return len(p.ctxs) }

// Timers returns the number of the proxy's own pending timers (Timer C and
// branch time limits), the transaction layer's apart.
func (p *Proxy) Timers() int { return len(p.timers) }

// Pending returns the number of messages waiting for a DNS answer outside
// any transaction.
func (p *Proxy) Pending() int { return p.pend.len() }

// Names reports whether u names this proxy: one of its hosts (Host,
// Aliases) on one of its ports (RFC 3261 §16.4).
func (p *Proxy) Names(u uri.URI) bool { return p.self.ours(u) }

// Handle feeds the proxy one input and appends what it wants done to out.
func (p *Proxy) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	if p.cfg.Registrar != nil {
		if out, ok := p.registrarTimer(in, out); ok {
			return out
		}
	}
	switch {
	case in.Kind == effects.TimerFired && in.Timer&ownBit != 0:
		return p.timerFired(in.Now, in.Timer, out)
	case in.Kind == effects.Resolved && in.Tag&pendingBit != 0:
		return p.pend.resolved(in, out)
	case in.Kind == effects.Resolved && in.Tag&ownBit != 0:
		return p.resolved(in, out)
	case in.Kind == effects.SendFailed && in.Tag&ownBit != 0:
		return out // a stateless send; nothing waits on it
	}
	return p.route(in.Now, p.txns.Handle(in, p.buf()), out)
}

// HandleRouted feeds the proxy a received message like Handle, with the
// routing decision for it already made: when the message is a new request
// (not a retransmission, an ACK or a CANCEL), the proxy runs its checks
// (§16.3) and authentication as usual, then carries out d instead of
// asking Router, the location service or the application, whatever the
// request's Route and Request-URI; a REGISTER is proxied, not handed to
// the registrar. A dispatcher that routes requests before any core sees
// them (an application's routing callback) uses it. An invalid d
// (Decision.Validate) is answered 500.
func (p *Proxy) HandleRouted(in effects.Input, d Decision, out []effects.Effect) []effects.Effect {
	p.preset, p.hasPreset = d, true
	out = p.Handle(in, out)
	p.preset, p.hasPreset = Decision{}, false
	return out
}

// route passes the transaction layer's effects on and handles its events.
func (p *Proxy) route(now effects.Time, effs, out []effects.Effect) []effects.Effect {
	for i := range effs {
		if effs[i].Kind != effects.Deliver {
			out = append(out, effs[i])
		}
	}
	for i := range effs {
		if effs[i].Kind == effects.Deliver {
			out = p.txnEvent(now, effs[i].Event, out)
		}
	}
	p.release(effs)
	return out
}

func (p *Proxy) buf() []effects.Effect { return p.spare.Get() }

func (p *Proxy) release(b []effects.Effect) { p.spare.Put(b) }

// txnEvent handles one event of the transaction layer.
func (p *Proxy) txnEvent(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	switch ev.Kind {
	case effects.TxnRequest:
		return p.request(now, ev, out)
	case effects.TxnCancel:
		return p.cancel(now, ev, out)
	case effects.TxnAck:
		return p.forwardAck(ev.Msg, ev.From, out)
	case effects.TxnResponse:
		if b := p.clients[ev.ID]; b != nil {
			return p.response(now, b, ev.Msg, out)
		}
	case effects.TxnStray:
		if b := p.byBranch[ev.Msg.Branch()]; b != nil && ev.Msg.CSeq().Method == "INVITE" && ev.Msg.StatusCode() >= 200 && ev.Msg.StatusCode() < 300 {
			return p.response(now, b, ev.Msg, out) // a late 2xx of a branch given up
		}
		return p.forwardResponse(ev.Msg, out)
	case effects.TxnTimeout:
		if b := p.clients[ev.ID]; b != nil {
			return p.failed(now, b, 408, out)
		}
	case effects.TxnTransportError:
		if b := p.clients[ev.ID]; b != nil {
			if b.target.Peer.Conn != 0 {
				// A client's own connection (a flow token, an outbound
				// binding) is gone: 430 Flow Failed (RFC 5626 §5.3,
				// §11.5), so that the client registers a new flow.
				return p.failed(now, b, 430, out)
			}
			return p.failed(now, b, 503, out)
		}
		if c := p.ctxs[ev.ID]; c != nil {
			c.final = true // nobody to answer any more
			return p.cancelAll(now, c, out)
		}
	case effects.TxnTerminated:
		return p.terminated(now, ev.ID, out)
	}
	return out
}

// terminated forgets a transaction that ended, and the context it leaves
// empty.
func (p *Proxy) terminated(now effects.Time, id txn.ID, out []effects.Effect) []effects.Effect {
	if p.cancels[id] {
		delete(p.cancels, id)
		return out
	}
	if b := p.clients[id]; b != nil {
		delete(p.clients, id)
		b.txn, b.sent = 0, nil
		if !b.done {
			// Abandoned without an outcome.
			out = p.failed(now, b, 408, out)
		}
		return p.maybeEnd(b.ctx, out)
	}
	if c := p.ctxs[id]; c != nil {
		c.srvGone = true
		if !c.final {
			c.final = true
			out = p.cancelAll(now, c, out)
		}
		return p.maybeEnd(c, out)
	}
	return out
}

// request handles a new request: the checks of §16.3, route
// preprocessing (§16.4), then the routing decision (§16.5).
func (p *Proxy) request(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	var preset *Decision
	if p.hasPreset {
		// Routed synchronously below (no copy), unless authentication
		// waits for the application's credentials: then a copy waits
		// with the context.
		preset, p.hasPreset = &p.preset, false
		if a := p.cfg.Auth; a != nil && a.Lookup == nil {
			cp := p.preset
			preset = &cp
		}
	}
	if p.open >= p.cfg.MaxContexts {
		return p.respondCode(now, ev.ID, m, 503, out, header.RetryAfter{Delta: 5})
	}
	loop := loopHash(m)
	if v := p.self.validate(m); v.code != 0 {
		resp, err := reject(m, v, p.cfg.Gen.Tag())
		if err != nil {
			return out
		}
		out, _ = p.respond(now, ev.ID, resp, out)
		return out
	}
	if preset == nil {
		if out, ok := p.register(now, ev, out); ok {
			return out
		}
	}
	c := &rctx{srv: ev.ID, req: m, from: ev.From, loop: loop, invite: m.Method() == "INVITE", preset: preset}
	p.ctxs[ev.ID] = c
	p.open++
	if a := p.cfg.Auth; a != nil && m.Method() != "ACK" && (a.Exempt == nil || !a.Exempt(m, ev.From)) {
		return p.authenticate(now, c, out)
	}
	return p.routeRequest(now, c, out)
}

// routeRequest preprocesses the route (§16.4) and asks for the targets
// (§16.5): the application for a request outside a dialog with no Route
// left and for a domain the proxy serves; the Request-URI otherwise.
func (p *Proxy) routeRequest(now effects.Time, c *rctx, out []effects.Effect) []effects.Effect {
	// c.req stays as received (responses are built from it); c.fwd is a
	// copy only when the route preprocessing changes something.
	m, token, err := p.self.preprocessed(c.req, true)
	if err != nil {
		return p.reply(now, c, 400, out)
	}
	c.fwd = m
	if token != "" && p.cfg.Flows != nil {
		// RFC 5626 §5.3: our Route named a flow; the request goes out on
		// it, unless it came in on it (then it is routed as usual).
		if f, ok := p.cfg.Flows.Peer(token); ok && !sameFlow(f, c.from) {
			return p.decided(now, c, ProxyTo(Target{URI: m.RequestURI(), Peer: f}), out)
		}
	}
	if c.preset != nil {
		d := *c.preset
		c.preset = nil
		return p.decidedChecked(now, c, d, out)
	}
	if m.Has("Route") || m.ToTag() != "" || !p.self.responsible(m.RequestURI()) {
		return p.decided(now, c, RequestURI(), out)
	}
	if p.cfg.Router != nil {
		return p.decidedChecked(now, c, p.cfg.Router(m), out)
	}
	if p.cfg.Location != nil {
		return p.decided(now, c, p.locate(now, m), out)
	}
	if p.cfg.Ask {
		out = p.await(c, waitDecision, out)
		return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.ProxyRequest, ID: c.srv, Msg: m, From: c.from}})
	}
	return p.decided(now, c, RequestURI(), out)
}

// sameFlow reports whether a and b are one flow: one connection, or one
// address and transport for datagrams.
func sameFlow(a, b effects.Peer) bool {
	if a.Conn != 0 || b.Conn != 0 {
		return a.Conn == b.Conn
	}
	return a.Addr == b.Addr && a.Transport == b.Transport
}

// Decide gives the request context id (from a ProxyRequest event) its
// routing decision.
func (p *Proxy) Decide(now effects.Time, id uint64, d Decision, out []effects.Effect) ([]effects.Effect, error) {
	c := p.ctxs[id]
	if c == nil || c.waiting != waitDecision {
		return out, fmt.Errorf("%w: %d awaits no decision", ErrNoContext, id)
	}
	out = p.answered(c, out)
	if c.final {
		return out, nil // cancelled meanwhile
	}
	return p.decidedChecked(now, c, d, out), nil
}

// decidedChecked carries out the application's routing decision (a
// Router's, Decide's, HandleRouted's), answering 500 when it cannot be
// carried out (Decision.Validate).
func (p *Proxy) decidedChecked(now effects.Time, c *rctx, d Decision, out []effects.Effect) []effects.Effect {
	if err := d.Validate(); err != nil {
		return p.reply(now, c, 500, out)
	}
	return p.decided(now, c, d, out)
}

// decided carries out a routing decision: the application's, checked
// (decidedChecked), or the proxy's own.
func (p *Proxy) decided(now effects.Time, c *rctx, d Decision, out []effects.Effect) []effects.Effect {
	if d.Code != 0 {
		return p.replyDecision(now, c, d, out)
	}
	targets := d.Targets
	if len(targets) == 0 {
		targets = []Target{{URI: c.fwd.RequestURI()}}
	}
	c.fork, c.limit, c.recurse = d.Fork, d.BranchTimeout, d.Recurse
	c.rr, c.add, c.remove = d.RecordRoute, d.Add, d.Remove
	c.breadth = p.breadth(c.req)
	if c.breadth == 0 {
		return p.reply(now, c, 440, out)
	}
	c.addTargets(targets, p.cfg.MaxTargets)
	return p.startNext(now, c, out)
}

// breadth returns the Max-Breadth the request grants this proxy (RFC 5393
// §5.3): its own value, at most the configured one, which also stands in
// when it has none.
func (p *Proxy) breadth(m *message.Message) int {
	mb, ok, err := message.First[header.MaxBreadth](m)
	if err != nil || !ok {
		return p.cfg.MaxBreadth
	}
	return min(int(mb), p.cfg.MaxBreadth)
}

// replyDecision answers the request as the application decided.
func (p *Proxy) replyDecision(now effects.Time, c *rctx, d Decision, out []effects.Effect) []effects.Effect {
	if c.req == nil {
		return out // settled: the final response went long ago
	}
	resp, err := message.NewResponse(c.req, d.Code, d.Reason, message.ResponseOptions{Gen: p.cfg.Gen})
	if err != nil {
		return p.reply(now, c, 500, out)
	}
	if len(d.Contacts) > 0 {
		_ = message.Set(resp, d.Contacts...)
	}
	for _, f := range d.Headers {
		_ = resp.Add(f.Name, f.Value)
	}
	return p.sendFinal(now, c, resp, out)
}

// reply answers the request context's request with code.
func (p *Proxy) reply(now effects.Time, c *rctx, code int, out []effects.Effect) []effects.Effect {
	if c.req == nil {
		return out // settled: the final response went long ago
	}
	resp, err := message.NewResponse(c.req, code, "", message.ResponseOptions{Gen: p.cfg.Gen})
	if err != nil {
		return out
	}
	return p.sendFinal(now, c, resp, out)
}

// respondCode answers a server transaction that has no context.
func (p *Proxy) respondCode(now effects.Time, id txn.ID, m *message.Message, code int, out []effects.Effect, extra ...header.RetryAfter) []effects.Effect {
	resp, err := message.NewResponse(m, code, "", message.ResponseOptions{Gen: p.cfg.Gen})
	if err != nil {
		return out
	}
	if len(extra) > 0 {
		_ = message.Set(resp, extra...)
	}
	out, _ = p.respond(now, id, resp, out)
	return out
}

// sendFinal sends a final response upstream for c, once.
func (p *Proxy) sendFinal(now effects.Time, c *rctx, resp *message.Message, out []effects.Effect) []effects.Effect {
	if c.final && resp.StatusCode() >= 300 {
		return out
	}
	c.final = true
	if c.code == 0 || c.code >= 300 {
		c.code = resp.StatusCode()
	}
	if !c.srvGone {
		out, _ = p.respond(now, c.srv, resp, out)
	}
	return p.maybeEnd(c, out)
}

// maybeEnd releases c when its server transaction and all its branches
// have ended.
func (p *Proxy) maybeEnd(c *rctx, out []effects.Effect) []effects.Effect {
	if c.final && c.req != nil && c.activeBranches() == 0 {
		// Settled: no response is built and no branch starts or fails
		// over any more, yet the context lives on with its transactions
		// (Timers L and M: 32 s over UDP). Let its messages go.
		c.req, c.fwd, c.tried, c.targets = nil, nil, nil, nil
		p.settle(c)
		for _, b := range c.branches {
			// The target's URI and routes are strings of the request:
			// no branch starts any more, so they go too.
			b.resp, b.target, b.base, b.peers = nil, Target{}, nil, nil
			if b.txn == 0 {
				b.sent = nil
			}
		}
	}
	if !c.srvGone || c.ended {
		return out
	}
	for _, b := range c.branches {
		if b.txn != 0 {
			return out
		}
	}
	c.ended = true
	p.settle(c)
	out = p.answered(c, out)
	for _, b := range c.branches {
		out = p.stopTimers(b, out)
		delete(p.branches, b.seq)
		for _, br := range b.sentBranches {
			delete(p.byBranch, br)
		}
	}
	delete(p.ctxs, c.srv)
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.ProxyDone, ID: c.srv, Code: c.code}})
}

// settle stops counting c against MaxContexts: it has its answer and no
// branch in progress, and lingers only with its transactions (which the
// transaction layer's MaxTransactions bounds) holding no message.
func (p *Proxy) settle(c *rctx) {
	if !c.settled {
		c.settled = true
		p.open--
	}
}

// cancel handles a CANCEL (§16.10): answered 200 when it matches an INVITE
// (481 otherwise), and every pending branch of the INVITE is cancelled.
func (p *Proxy) cancel(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	if ev.Ref == 0 {
		// §16.10: no response context for it: forward the CANCEL
		// statelessly, as the INVITE may have passed through a proxy
		// instance that has since restarted, or by another path. Its
		// server transaction is let go; a retransmission is forwarded
		// again.
		out = p.abandon(now, ev.ID, out)
		return p.forwardStateless(now, ev.Msg, ev.From, out)
	}
	out = p.respondCode(now, ev.ID, ev.Msg, 200, out)
	c := p.ctxs[ev.Ref]
	if c == nil {
		// Answered by the proxy itself (an error): nothing is pending.
		return out
	}
	c.cancelled = true
	out = p.cancelAll(now, c, out)
	if c.waiting != 0 || !c.final && c.activeBranches() == 0 {
		out = p.answered(c, out)
		out = p.reply(now, c, 487, out)
	}
	return out
}

// respond passes a response to a server transaction, and handles the
// events that may follow (the transaction ends at once on a reliable
// transport).
func (p *Proxy) respond(now effects.Time, id txn.ID, resp *message.Message, out []effects.Effect) ([]effects.Effect, error) {
	effs, err := p.txns.Respond(now, id, resp, p.buf())
	return p.route(now, effs, out), err
}

// abandon ends a client transaction without an outcome; its TxnTerminated
// is handled like any other.
func (p *Proxy) abandon(now effects.Time, id txn.ID, out []effects.Effect) []effects.Effect {
	return p.route(now, p.txns.Abandon(now, id, p.buf()), out)
}
