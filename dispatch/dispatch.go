// Package dispatch is the core of a programmable SIP server, as a pure
// state machine: it shares one network between a stateful proxy with its
// registrar (package proxycore), a user agent for local endpoints
// (package ua) and a back-to-back user agent on that UA (package
// ua/b2bua), and lets the application decide, for every new request
// outside a dialog, which of them handles it (NkSIP's sip_route).
//
// Every received message is parsed once and goes to the core it belongs
// to: responses and requests of the UA's transactions and dialogs
// (ua.UA.Owns) to the UA, everything else of the proxy's to the proxy. A
// request that belongs to no one yet (a new request outside a dialog,
// other than ACK and CANCEL) is held and the application asked: with
// Config.Ask the dispatcher delivers RouteRequest and waits for Route, at
// once or later (a database, an HTTP service), absorbing retransmissions
// meanwhile; a CANCEL of an INVITE still waiting ends it with 487, and a
// decision later than Config.RouteTimeout gets the configured response.
// The Decision says:
//
//   - Default: what a registrar and proxy does by itself: a REGISTER for a
//     domain it serves to the registrar, a request for one of its domains
//     to the location service, anything else to its Request-URI;
//   - Proxy: proxy to these targets (in parallel, in turn, by q), with
//     header fields added or removed and Record-Route on or off;
//   - Reply: answer with a status (a redirect: 3xx with Contacts);
//   - Local: the UA answers it, and the application hears its events
//     (CallIncoming, RequestIncoming, SubscribeIncoming...);
//   - Bridge: the B2BUA answers it and places the outgoing leg.
//
// Without Ask every request takes the Default.
//
// The effects of the three cores come out of one Handle, in one
// vocabulary (package effects). Their timer ids, send tags and lookup tags
// would overlap (each core numbers its own), so the UA's are marked with
// bit 61 on the way out and unmarked on the way back, and the
// dispatcher's own timer uses bit 60: txn keeps its ids below 2^60, and
// the proxy marks its own with bit 63 and small kinds below bit 58. A
// timer id the embedder gives a core (registrar.Memory.Timer) must keep
// clear of bits 60 and 61: 1<<62 serves.
//
// A Core is not safe for concurrent use. It reads no clock and does no
// I/O (DESIGN.md §1).
package dispatch

import (
	"errors"
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// Errors of New and Route, matchable with errors.Is.
var (
	// ErrConfig: the configuration cannot work.
	ErrConfig = errors.New("dispatch: invalid configuration")
	// ErrNoRequest: the handle names no request waiting for a decision
	// (it was decided, cancelled, or timed out).
	ErrNoRequest = errors.New("dispatch: no request waits for that decision")
	// ErrDecision: the decision cannot be carried out.
	ErrDecision = errors.New("dispatch: invalid decision")
)

// Defaults of Config.
const (
	DefaultRouteTimeout = 10 * time.Second
	DefaultTimeoutCode  = 504
	DefaultMaxPending   = 10000
)

// Config configures a Core.
type Config struct {
	// Proxy configures the proxy (its identity, domains, registrar,
	// location service, authentication, limits). Required: Gen and Host.
	Proxy proxycore.Config
	// UA configures the user agent of local endpoints and of the B2BUA's
	// legs. Its Contact is where in-dialog requests reach it: one of the
	// server's own addresses. Required: Gen, Host and Contact.
	UA ua.Config
	// Bridge configures the B2BUA (its Inside and Outside are the UA, its
	// Route the decisions given here; leave them unset).
	Bridge b2bua.Config
	// Ask makes the dispatcher deliver RouteRequest for every new request
	// outside a dialog and wait for Route; without it every request
	// takes the Default.
	Ask bool
	// RouteTimeout bounds the wait for a decision; DefaultRouteTimeout
	// when zero.
	RouteTimeout time.Duration
	// TimeoutCode is the response of a request whose decision came too
	// late (DefaultTimeoutCode: 504 Server Time-out, RFC 3261 §21.5.5).
	TimeoutCode int
	// MaxPending bounds the requests waiting for a decision; past it a
	// new request is answered 503 with Retry-After. DefaultMaxPending
	// when zero.
	MaxPending int
	// Limits bound what the parser accepts (parser.DefaultLimits when
	// nil); the cores get the messages parsed here.
	Limits *parser.Limits
}

// Action is what a Decision does with a request.
type Action uint8

// The actions.
const (
	// Default: the registrar for a REGISTER it serves, the location
	// service for a request to one of the proxy's domains (when
	// Config.Proxy.Location is set, or ProxyRequest when it asks), the
	// Request-URI otherwise (RFC 3261 §16.5).
	Default Action = iota
	// Proxy: proxy as Decision.Proxy says (targets, fork mode, header
	// edits, Record-Route).
	Proxy
	// Reply: answer with Decision.Proxy's Code, Reason, Contacts and
	// Headers (statefully, through the proxy's transaction).
	Reply
	// Local: the UA answers; the application hears its events.
	Local
	// Bridge: the B2BUA answers and places the outgoing leg
	// Decision.Bridge describes.
	Bridge
)

// String names the action.
func (a Action) String() string {
	switch a {
	case Default:
		return "default"
	case Proxy:
		return "proxy"
	case Reply:
		return "reply"
	case Local:
		return "local"
	case Bridge:
		return "bridge"
	}
	return "invalid"
}

// Decision is the application's routing decision for a request.
type Decision struct {
	Action Action
	// Proxy is the proxy's decision for Proxy (targets; none: the
	// Request-URI) and Reply (Code, Reason, Contacts, Headers).
	Proxy proxycore.Decision
	// Bridge is the outgoing leg for Bridge: its target and ua.CallOptions
	// (Dest, From to change the caller's identity, ...).
	Bridge b2bua.Decision
}

// Validate reports what makes d impossible to carry out.
func (d Decision) Validate() error {
	switch d.Action {
	case Default, Local:
		return nil
	case Proxy:
		if d.Proxy.Code != 0 {
			return fmt.Errorf("%w: a Proxy decision with a status code (use Reply)", ErrDecision)
		}
	case Reply:
		if d.Proxy.Code < 200 || d.Proxy.Code > 699 {
			return fmt.Errorf("%w: reply with status %d", ErrDecision, d.Proxy.Code)
		}
	case Bridge:
		if d.Bridge.Reject != 0 {
			return nil
		}
		if err := d.Bridge.Target.Validate(); err != nil {
			return fmt.Errorf("%w: bridge target: %w", ErrDecision, err)
		}
		if !d.Bridge.Options.Dest.Addr.IsValid() {
			return fmt.Errorf("%w: bridge to %s: no next hop (Options.Dest)", ErrDecision, d.Bridge.Target.String())
		}
		return nil
	default:
		return fmt.Errorf("%w: action %d", ErrDecision, d.Action)
	}
	if err := d.Proxy.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrDecision, err)
	}
	return nil
}

// Marks of the UA's ids and of the dispatcher's own timer (see the
// package documentation).
const (
	uaMark  = 1 << 61
	ownMark = 1 << 60
)

// Core is the dispatcher.
type Core struct {
	cfg     Config
	proxy   *proxycore.Proxy
	ua      *ua.UA
	b2b     *b2bua.B2BUA
	pending map[uint64]*waiting
	byKey   map[waitKey]*waiting
	nextID  uint64
	// bridging is the outgoing leg of the INVITE being fed to the UA with
	// a Bridge decision, for the B2BUA's Route.
	bridging *b2bua.Decision
	spare    effects.Buffers
	// free are waiting records to reuse: a decision that comes at once
	// costs no allocation.
	free []*waiting
	// deadlines are the waiting requests' deadlines in order (every
	// request waits RouteTimeout): one timer, the sweep, is armed for the
	// first, instead of a timer per request. Decided requests leave
	// their entry to be skipped when it comes first.
	deadlines []deadline
	swept     int // entries of deadlines already handled
	sweeping  bool
}

// sweepTimer is the dispatcher's one timer.
const sweepTimer = effects.TimerID(ownMark)

// waiting is a request waiting for its decision.
type waiting struct {
	id  uint64
	in  effects.Input
	key waitKey
}

// waitKey identifies a waiting request the way its transaction will be
// (RFC 3261 §17.2.3): the top Via's branch and sent-by and the method,
// and for an RFC 2543 request (no magic cookie) the Call-ID, From tag and
// CSeq number too. Its retransmissions and its CANCEL find it.
type waitKey struct {
	branch, host, method string
	port                 uint16
	legacy               legacyKey
}

type legacyKey struct {
	callID, fromTag string
	seq             uint32
}

func keyOf(m *message.Message, method string) waitKey {
	v := m.TopVia()
	k := waitKey{branch: v.Branch(), host: v.Host, port: v.Port, method: method}
	if !v.HasCookie() {
		k.legacy = legacyKey{callID: m.CallID(), fromTag: m.FromTag(), seq: m.CSeq().Seq}
	}
	return k
}

// deadline is when a waiting request's decision is late.
type deadline struct {
	id uint64
	at effects.Time
}

// New returns a Core for cfg.
func New(cfg Config) (*Core, error) {
	if cfg.RouteTimeout <= 0 {
		cfg.RouteTimeout = DefaultRouteTimeout
	}
	if cfg.TimeoutCode == 0 {
		cfg.TimeoutCode = DefaultTimeoutCode
	}
	if cfg.TimeoutCode < 300 || cfg.TimeoutCode > 699 {
		return nil, fmt.Errorf("%w: TimeoutCode %d", ErrConfig, cfg.TimeoutCode)
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Limits == nil {
		lim := parser.DefaultLimits
		cfg.Limits = &lim
	}
	cfg.Proxy.Txn.Limits = cfg.Limits
	cfg.UA.Txn.Limits = cfg.Limits
	p, err := proxycore.New(cfg.Proxy)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	u, err := ua.New(cfg.UA)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c := &Core{cfg: cfg, proxy: p, ua: u, pending: map[uint64]*waiting{}, byKey: map[waitKey]*waiting{}}
	bc := cfg.Bridge
	bc.Inside, bc.Outside = u, u
	bc.Route = c.bridgeRoute
	if c.b2b, err = b2bua.New(bc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Proxy returns the proxy core, for its commands (Decide, Credentials,
// RegistrarEffects) and inspection. Its commands' effects need no
// translation: carry them out as they come.
func (c *Core) Proxy() *proxycore.Proxy { return c.proxy }

// UA returns the UA core, for inspection. Give it commands through
// UACommand, which translates their effects.
func (c *Core) UA() *ua.UA { return c.ua }

// B2BUA returns the B2BUA, for inspection.
func (c *Core) B2BUA() *b2bua.B2BUA { return c.b2b }

// Waiting returns the number of requests waiting for a decision.
func (c *Core) Waiting() int { return len(c.pending) }

// Idle reports whether no request waits for a decision, none is being
// proxied and no transaction waits for its final response: what a
// graceful shutdown waits for (transactions that only linger for their
// timers, and established calls, do not count). It looks at every
// transaction: call it seldom.
func (c *Core) Idle() bool {
	return len(c.pending) == 0 && !c.proxy.Busy() && !c.ua.Transactions().Busy()
}

// Handle feeds the dispatcher one input and appends what follows to out.
func (c *Core) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	switch in.Kind {
	case effects.Received:
		return c.received(in, out)
	case effects.TimerFired:
		switch {
		case in.Timer&uaMark != 0:
			in.Timer &^= uaMark
			return c.toUA(in, out)
		case in.Timer == sweepTimer:
			return c.sweep(in.Now, out)
		}
		return c.proxy.Handle(in, out)
	case effects.SendFailed, effects.Resolved:
		if in.Tag&uaMark != 0 {
			in.Tag &^= uaMark
			return c.toUA(in, out)
		}
		return c.proxy.Handle(in, out)
	case effects.ConnClosed:
		out = c.proxy.Handle(in, out)
		return c.toUA(in, out)
	case effects.Pong:
		return c.toUA(in, out) // the UA's outbound flows send the keep-alives
	}
	return c.proxy.Handle(in, out) // KeepAlive: the pong
}

// received parses a message and hands it to its core, or holds a new
// request for its decision.
func (c *Core) received(in effects.Input, out []effects.Effect) []effects.Effect {
	m := in.Msg
	if m == nil {
		var err error
		if m, err = txn.ParseReceived(in.Data, in.From.Transport, c.cfg.Limits); err != nil {
			// The proxy's transaction layer answers a malformed request
			// statelessly (400, 505, 513) or drops it.
			return c.proxy.Handle(in, out)
		}
		in.Msg = m
	}
	in.Data = nil // the message holds its own copy
	if c.ua.Owns(m) {
		return c.toUA(in, out)
	}
	if !m.IsRequest() {
		return c.proxy.Handle(in, out)
	}
	method := m.Method()
	switch {
	case method == "CANCEL":
		if w := c.byKey[keyOf(m, "INVITE")]; w != nil {
			return c.cancelWaiting(in, w, out)
		}
		return c.proxy.Handle(in, out)
	case method == "ACK":
		return c.proxy.Handle(in, out)
	case m.ToTag() != "":
		if c.forUs(m) {
			// A request in a dialog of ours that we no longer (or never)
			// had: the UA answers 481 (RFC 3261 §12.2.2).
			return c.toUA(in, out)
		}
		return c.proxy.Handle(in, out)
	}
	if !c.cfg.Ask {
		return c.proxy.Handle(in, out)
	}
	key := keyOf(m, method)
	if c.byKey[key] != nil {
		return out // a retransmission of a request waiting for its decision
	}
	if _, ok := c.proxy.Transactions().Match(m); ok {
		return c.proxy.Handle(in, out) // a retransmission the proxy absorbs
	}
	if len(c.pending) >= c.cfg.MaxPending {
		d := proxycore.Decision{Code: 503, Reason: "Service Unavailable (too many requests waiting for routing)",
			Headers: []proxycore.Field{{Name: "Retry-After", Value: "5"}}}
		return c.proxy.HandleRouted(in, d, out)
	}
	c.nextID++
	w := c.newWaiting()
	w.id, w.in, w.key = c.nextID, in, key
	c.pending[w.id] = w
	c.byKey[key] = w
	c.deadlines = append(c.deadlines, deadline{id: w.id, at: in.Now.Add(c.cfg.RouteTimeout)})
	if !c.sweeping {
		c.sweeping = true
		out = append(out, effects.Effect{Kind: effects.SetTimer, Timer: sweepTimer, After: c.cfg.RouteTimeout})
	}
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.RouteRequest, ID: w.id, Msg: m, From: in.From}})
}

// forUs reports whether a request in a dialog names this server as its
// last hop: its Request-URI is one of our addresses and every Route left
// is ours.
func (c *Core) forUs(m *message.Message) bool {
	if !c.proxy.Names(m.RequestURI()) {
		return false
	}
	if !m.Has("Route") {
		return true
	}
	routes, err := message.All[header.Route](m)
	if err != nil {
		return false
	}
	for _, r := range routes {
		if !c.proxy.Names(r.URI) {
			return false
		}
	}
	return true
}

// Route gives the request of handle id (from a RouteRequest event) its
// decision, and appends what follows to out. It fails with ErrNoRequest
// when the request no longer waits, and with ErrDecision (appending
// nothing, the request still waiting) when d cannot be carried out.
func (c *Core) Route(now effects.Time, id uint64, d Decision, out []effects.Effect) ([]effects.Effect, error) {
	w := c.pending[id]
	if w == nil {
		return out, fmt.Errorf("%w: %d", ErrNoRequest, id)
	}
	if err := d.Validate(); err != nil {
		return out, err
	}
	c.forget(w)
	in := w.in
	in.Now = now
	c.release(w)
	switch d.Action {
	case Default:
		return c.proxy.Handle(in, out), nil
	case Proxy, Reply:
		return c.proxy.HandleRouted(in, d.Proxy, out), nil
	case Local:
		return c.toUA(in, out), nil
	}
	// Bridge: the UA makes the call; its CallIncoming goes to the B2BUA,
	// whose Route (bridgeRoute) takes the decision.
	bridge := d.Bridge // on the heap only for a bridge
	c.bridging = &bridge
	out = c.toUA(in, out)
	c.bridging = nil
	return out, nil
}

// forget stops w waiting; its deadline is skipped when it comes (the
// sweep stays armed: a decision given at once costs no timer).
func (c *Core) forget(w *waiting) {
	delete(c.pending, w.id)
	delete(c.byKey, w.key)
}

// sweep answers the requests whose decision is late, and arms the sweep
// for the next deadline of a request still waiting.
func (c *Core) sweep(now effects.Time, out []effects.Effect) []effects.Effect {
	c.sweeping = false
	for c.swept < len(c.deadlines) {
		d := c.deadlines[c.swept]
		if c.pending[d.id] == nil {
			c.swept++ // decided meanwhile
			continue
		}
		if d.at > now {
			break
		}
		c.swept++
		out = c.late(now, d.id, out)
	}
	if c.swept == len(c.deadlines) || len(c.pending) == 0 {
		c.deadlines, c.swept = c.deadlines[:0], 0
		return out
	}
	if c.swept > len(c.deadlines)/2 {
		// Keep the slice from growing: move what is left to the front.
		n := copy(c.deadlines, c.deadlines[c.swept:])
		c.deadlines, c.swept = c.deadlines[:n], 0
	}
	c.sweeping = true
	return append(out, effects.Effect{Kind: effects.SetTimer, Timer: sweepTimer, After: c.deadlines[c.swept].at.Sub(now)})
}

// newWaiting returns a waiting record, reused when one is free.
func (c *Core) newWaiting() *waiting {
	if n := len(c.free); n > 0 {
		w := c.free[n-1]
		c.free = c.free[:n-1]
		return w
	}
	return new(waiting)
}

// release keeps w for reuse, holding on to no message.
func (c *Core) release(w *waiting) {
	*w = waiting{}
	if len(c.free) < 64 {
		c.free = append(c.free, w)
	}
}

// late answers a request whose decision did not come in time.
func (c *Core) late(now effects.Time, id uint64, out []effects.Effect) []effects.Effect {
	w := c.pending[id]
	if w == nil {
		return out
	}
	c.forget(w)
	in := w.in
	in.Now = now
	c.release(w)
	d := proxycore.Decision{Code: c.cfg.TimeoutCode, Reason: "No routing decision in time"}
	out = c.proxy.HandleRouted(in, d, out)
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.RouteAbandoned, ID: id, Code: d.Code}})
}

// cancelWaiting ends an INVITE waiting for its decision that its sender
// cancelled (RFC 3261 §9.2): the proxy answers it 487, then the CANCEL
// 200, both statefully.
func (c *Core) cancelWaiting(cancel effects.Input, w *waiting, out []effects.Effect) []effects.Effect {
	c.forget(w)
	in, id := w.in, w.id
	in.Now = cancel.Now
	c.release(w)
	out = c.proxy.HandleRouted(in, proxycore.Decision{Code: 487}, out)
	out = c.proxy.Handle(cancel, out)
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.RouteAbandoned, ID: id, Code: 487}})
}

// bridgeRoute is the B2BUA's Route: the decision of the INVITE being fed.
func (c *Core) bridgeRoute(*ua.UA, effects.Event) b2bua.Decision {
	if c.bridging == nil {
		return b2bua.Decision{Reject: 500}
	}
	return *c.bridging
}

// toUA feeds the UA an input and translates what follows.
func (c *Core) toUA(in effects.Input, out []effects.Effect) []effects.Effect {
	b := c.spare.Get()
	b = c.ua.Handle(in, b)
	out = c.fromUA(in.Now, b, out)
	c.spare.Put(b)
	return out
}

// UACommand runs a command on the UA (Call, Answer, Request, Register,
// Reply, ...) and appends its effects, translated, to out; it returns the
// command's error. cmd appends to the buffer it is given and returns it.
func (c *Core) UACommand(now effects.Time, cmd func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error), out []effects.Effect) ([]effects.Effect, error) {
	b := c.spare.Get()
	b, err := cmd(c.ua, b)
	out = c.fromUA(now, b, out)
	c.spare.Put(b)
	return out, err
}

// fromUA marks the UA's timer ids and tags, and gives its events to the
// B2BUA when they are a bridge's (the B2BUA's commands' effects follow
// the same way), to the application otherwise.
func (c *Core) fromUA(now effects.Time, effs, out []effects.Effect) []effects.Effect {
	for i := range effs {
		e := effs[i]
		if e.Kind == effects.Deliver {
			ev := e.Event
			if ev.Kind == effects.CallIncoming && c.bridging != nil || c.b2b.Concerns(c.ua, ev) {
				out = c.fromBridge(c.b2b.Handle(now, c.ua, ev, nil), out)
				continue
			}
		}
		out = append(out, markUA(e))
	}
	return out
}

// markUA marks an effect of the UA's: its timer id or its tag.
func markUA(e effects.Effect) effects.Effect {
	switch e.Kind {
	case effects.SetTimer, effects.CancelTimer:
		e.Timer |= uaMark
	case effects.Send, effects.Resolve:
		e.Tag |= uaMark
	}
	return e
}

// fromBridge translates the B2BUA's effects: its UA's effects are marked
// (their events were handled by the B2BUA already and go to the
// application), its own events go to the application.
func (c *Core) fromBridge(effs []b2bua.Effect, out []effects.Effect) []effects.Effect {
	for _, e := range effs {
		x := e.Effect
		if e.UA != nil {
			x = markUA(x)
		}
		out = append(out, x)
	}
	return out
}
