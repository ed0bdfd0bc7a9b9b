package service

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
	"github.com/sansip/sansip/uri"
)

// Request is a new request outside a dialog waiting for the
// application's routing decision (Config.Route). In-dialog requests are
// routed by their Route header fields and never asked about: to refuse
// a source altogether, use an Inbound middleware (Packet.Refuse). Exactly one of its
// decision methods (Default, Proxy, ProxyWith, Reply, Redirect, Local,
// Bridge, Locate) takes effect; the others then fail with ErrDecided.
// They never block, and may be called during the callback or later from
// any goroutine; a request still undecided after Config.RouteTimeout is
// answered Config.RouteTimeoutCode (504 by default), and Context is
// cancelled then, or when the caller cancels the request.
type Request struct {
	svc    *Service
	sh     *shard // for the callback only
	id     uint64
	msg    *message.Message
	method string
	ruri   uri.URI
	from   header.From
	to     header.To
	callID string
	source effects.Peer

	mu       sync.Mutex
	ctx      context.Context // made when asked for
	cancel   context.CancelFunc
	over     bool // no longer waits: ctx is done
	inCB     bool
	decided  bool
	decision *dispatch.Decision
}

// Msg returns the request. It may be read during the callback only (the
// cores own it afterwards); keep what you need, or a Clone.
func (r *Request) Msg() *message.Message { return r.msg }

// Method returns the request's method.
func (r *Request) Method() string { return r.method }

// RequestURI returns the request's Request-URI.
func (r *Request) RequestURI() uri.URI { return r.ruri }

// From returns the request's From.
func (r *Request) From() header.From { return r.from }

// To returns the request's To.
func (r *Request) To() header.To { return r.to }

// CallID returns the request's Call-ID.
func (r *Request) CallID() string { return r.callID }

// Source returns where the request came from: the address, transport and
// connection.
func (r *Request) Source() effects.Peer { return r.source }

// Context is done once the request no longer waits for a decision: it was
// decided, its sender cancelled it, or the decision was too late.
func (r *Request) Context() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithCancel(context.Background())
		if r.over {
			r.cancel()
		}
	}
	return r.ctx
}

// finish marks the request as no longer waiting: its Context is done.
func (r *Request) finish() {
	r.mu.Lock()
	r.over = true
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
}

// Default routes the request as the server does by itself: a REGISTER
// for one of the domains to the registrar, a request for one of them to
// the location service (404 when nobody is registered), anything else to
// its Request-URI.
func (r *Request) Default() error { return r.decide(dispatch.Decision{}) }

// Proxy proxies the request to targets (RFC 3261 §16.6), in parallel; with
// no target, to its Request-URI.
func (r *Request) Proxy(targets ...uri.URI) error {
	d := proxycore.Decision{Fork: proxycore.Parallel}
	for _, t := range targets {
		d.Targets = append(d.Targets, proxycore.Target{URI: t})
	}
	return r.ProxyWith(d)
}

// ProxyWith proxies the request as d says: targets with q-values, next
// hops and routes, fork mode and branch time limits, 3xx recursion,
// header fields added and removed, Record-Route on or off.
func (r *Request) ProxyWith(d proxycore.Decision) error {
	if d.Code != 0 {
		return fmt.Errorf("%w: a proxy decision with a status code (use Reply)", dispatch.ErrDecision)
	}
	return r.decide(dispatch.Decision{Action: dispatch.Proxy, Proxy: d})
}

// Field is a header field (name, value) of a response.
type Field = proxycore.Field

// Reply answers the request with code (300 to 699, or 200 for a request
// the application takes as done), a reason phrase ("" for the usual one)
// and more header fields.
func (r *Request) Reply(code int, reason string, fields ...Field) error {
	if code == 405 && !slices.ContainsFunc(fields, func(f Field) bool { return strings.EqualFold(f.Name, "Allow") }) {
		// RFC 3261 §8.2.1: a 405 lists the methods allowed, the local
		// UA's by default.
		fields = append(slices.Clone(fields), Field{Name: "Allow", Value: r.sh.allow})
	}
	return r.decide(dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: code, Reason: reason, Headers: fields}})
}

// Redirect answers 302 (Moved Temporarily) with the contacts, as a
// redirect server does (RFC 3261 §8.3).
func (r *Request) Redirect(contacts ...uri.URI) error {
	if len(contacts) == 0 {
		return fmt.Errorf("%w: a redirect without a contact", dispatch.ErrDecision)
	}
	d := proxycore.Decision{Code: 302}
	for _, c := range contacts {
		d.Contacts = append(d.Contacts, header.Contact{URI: c})
	}
	return r.decide(dispatch.Decision{Action: dispatch.Reply, Proxy: d})
}

// Local has the local UA answer the request: Config.OnCall hears an
// INVITE, OnRequest a MESSAGE or INFO, OnSubscribe a SUBSCRIBE; the UA
// answers OPTIONS itself.
func (r *Request) Local() error { return r.decide(dispatch.Decision{Action: dispatch.Local}) }

// BridgeOptions are the outgoing leg of a bridged call.
type BridgeOptions struct {
	// From is the caller the outgoing leg shows; by default the incoming
	// INVITE's From, display name and URI (with a new tag).
	From header.From
	// Dest is the next hop of the outgoing INVITE; zero: the target's
	// registered contact for one of the domains, else its address (DNS,
	// RFC 3263, for a name).
	Dest effects.Peer
	// Expires, when set, cancels the outgoing leg unanswered after it.
	Expires time.Duration
}

// Bridge answers the request as a back-to-back user agent (RFC 7092): the
// call goes out again, from the server, to target, with the caller's
// offer, and each leg relays the other. The outgoing leg's Dest is looked
// up first when not given (the location service or DNS): the decision
// takes effect then.
func (r *Request) Bridge(target uri.URI, o BridgeOptions) error {
	if r.method != "INVITE" {
		return fmt.Errorf("%w: only an INVITE is bridged, not %s", dispatch.ErrDecision, r.method)
	}
	if err := target.Validate(); err != nil {
		return fmt.Errorf("%w: bridge target: %w", dispatch.ErrDecision, err)
	}
	from := o.From
	if from.URI.Scheme == 0 && from.URI.Opaque == "" {
		from = header.From{Display: r.from.Display, URI: r.from.URI}
	}
	from.Params = from.Params.Without("tag")
	mk := func(h hop) dispatch.Decision {
		return dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{Target: target,
			Options: ua.CallOptions{Dest: h.peer, Routes: h.routes, From: from, Expires: o.Expires}}}
	}
	if o.Dest.Addr.IsValid() {
		return r.decide(mk(hop{peer: o.Dest}))
	}
	_, numeric := addrPeer(target)
	quick := r.svc.servesDomain(target.Host) && immediate(r.svc.store) || !r.svc.servesDomain(target.Host) && numeric
	return r.later(quick, func(ctx context.Context) (dispatch.Decision, error) {
		dest, code, err := r.svc.nextHop(ctx, target)
		if err != nil {
			return dispatch.Decision{}, err
		}
		if code != 0 {
			return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: code}}, nil
		}
		return mk(dest), nil
	})
}

// Locate proxies the request to the registered contacts of aor (an
// address of record of one of the domains: a number mapped to a user,
// say); 404 when nobody is registered.
func (r *Request) Locate(aor uri.URI) error {
	aor = r.svc.aor(aor)
	return r.later(immediate(r.svc.store), func(ctx context.Context) (dispatch.Decision, error) {
		bs, err := r.svc.lookup(ctx, aor)
		if err != nil {
			return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 503,
				Headers: []Field{{Name: "Retry-After", Value: "5"}}}}, nil
		}
		if len(bs) == 0 {
			return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 404}}, nil
		}
		p := r.svc.proxy()
		live, closed := r.svc.reachable(p, bs)
		if len(live) == 0 && closed > 0 {
			return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 480, Reason: "Temporarily Unavailable (connection closed)"}}, nil
		}
		d := proxycore.Decision{}
		for i := range live {
			d.Targets = append(d.Targets, p.Target(&live[i]))
		}
		return dispatch.Decision{Action: dispatch.Proxy, Proxy: d}, nil
	})
}

// decide takes d as the decision: kept for the end of the callback when
// given during it, queued to the shard otherwise.
func (r *Request) decide(d dispatch.Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if !r.reserve() {
		return ErrDecided
	}
	return r.settle(d)
}

// reserve takes the right to decide, and reports false when the request
// is decided already (or no longer waits).
func (r *Request) reserve() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decided {
		return false
	}
	r.decided = true
	return true
}

// settle gives the reserved decision d: kept for the end of the callback
// when given during it, queued to the shard otherwise.
func (r *Request) settle(d dispatch.Decision) error {
	r.mu.Lock()
	if r.inCB {
		r.decision = &d
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	return r.post(d)
}

// post queues the decision to the request's shard.
func (r *Request) post(d dispatch.Decision) error {
	id := r.id
	r.finish()
	return r.svc.do(r.sh.ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
		delete(sh.routes, id)
		out, err := sh.core.Route(now, id, d, out)
		if err != nil {
			sh.logger().Debug("routing decision not taken", "err", err)
		}
		return out
	})
}

// later reserves the decision and computes it: at once when quick (it
// needs no look-up that may block), else on a worker; a failed
// computation answers 500.
func (r *Request) later(quick bool, f func(ctx context.Context) (dispatch.Decision, error)) error {
	if !r.reserve() {
		return ErrDecided
	}
	run := func() {
		ctx, cancel := context.WithTimeout(r.Context(), r.svc.cfg.StoreTimeout)
		d, err := f(ctx)
		cancel()
		if err == nil {
			err = d.Validate()
		}
		if err != nil {
			r.svc.cfg.Logger.Warn("routing decision failed", "method", r.method, "ruri", r.ruri.String(), "err", err)
			d = dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 500, Reason: "Server Internal Error (routing failed)"}}
		}
		r.settle(d)
	}
	if quick {
		run()
		return nil
	}
	if !r.svc.async(run) {
		r.mu.Lock()
		r.decided = false // the application may decide otherwise
		r.mu.Unlock()
		return ErrOverload
	}
	return nil
}

// abandon ends the wait: the request was cancelled or is too late.
func (r *Request) abandon() {
	r.mu.Lock()
	r.decided = true
	r.mu.Unlock()
	r.finish()
}

// route asks the application for the decision of a RouteRequest.
func (sh *shard) route(ev effects.Event) {
	m := ev.Msg
	r := &Request{svc: sh.s, sh: sh, id: ev.ID, msg: m, method: m.Method(), ruri: m.RequestURI(),
		from: m.From(), to: m.To(), callID: m.CallID(), source: ev.From, inCB: true}
	sh.callback(func() { sh.s.route(r) })
	r.mu.Lock()
	r.inCB = false
	d := r.decision
	r.mu.Unlock()
	if d == nil {
		// Decided later (by the application, or a look-up under way):
		// kept until then, to be told if the request goes away.
		sh.routes[r.id] = r
		return
	}
	r.finish()
	sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
		out, err := sh.core.Route(now, r.id, *d, out)
		if err != nil {
			sh.logger().Debug("routing decision not taken", "err", err)
		}
		return out
	})
}

// routeFunc is Config.Route wrapped by the middleware's Route hooks, the
// first outermost (made once, by New).
func (s *Service) routeFunc() func(*Request) {
	fn := s.cfg.Route
	if fn == nil {
		fn = func(r *Request) { r.Default() }
	}
	for i := len(s.cfg.Middleware) - 1; i >= 0; i-- {
		if w := s.cfg.Middleware[i].Route; w != nil {
			fn = w(fn)
		}
	}
	return fn
}

// routeMiddleware reports whether a middleware wraps routing.
func routeMiddleware(ms []Middleware) bool {
	for _, m := range ms {
		if m.Route != nil {
			return true
		}
	}
	return false
}

// callback runs an application callback, recovering from its panic (the
// server goes on; the request, if undecided, times out).
func (sh *shard) callback(f func()) {
	defer func() {
		if p := recover(); p != nil {
			sh.logger().Error("application callback panicked", "panic", fmt.Sprint(p))
		}
	}()
	f()
}

// hop is where a request of the local UA goes first: an address, and the
// route set to preload (a binding's Path, RFC 3327 §5.3).
type hop struct {
	peer   effects.Peer
	routes []header.Route
}

// nextHop finds where a request to target goes: a registered contact for
// an address of record of one of the domains (code 404 when none, 480
// when none is reachable), the target's address, or a DNS answer (RFC
// 3263). A binding reached through another node (its Path) is reached
// through it, with the Path as the route set; one on a flow of this node
// on that flow.
func (s *Service) nextHop(ctx context.Context, target uri.URI) (hop, int, error) {
	if s.servesDomain(target.Host) {
		bs, err := s.lookup(ctx, s.aor(target))
		if err != nil {
			return hop{}, 0, err
		}
		p := s.proxy()
		live, _ := s.reachable(p, bs)
		for i := range live {
			if h, ok := hopOf(p.Target(&live[i])); ok {
				return h, 0, nil
			}
		}
		if len(bs) == 0 {
			return hop{}, 404, nil
		}
		return hop{}, 480, nil
	}
	if p, ok := addrPeer(target); ok {
		return hop{peer: p}, 0, nil
	}
	if s.resolver == nil {
		return hop{}, 0, fmt.Errorf("service: no DNS resolver for %s", target.Host)
	}
	ts, err := s.resolver.ResolveURI(ctx, target)
	if err != nil {
		return hop{}, 0, fmt.Errorf("service: resolve %s: %w", target.Host, err)
	}
	for _, t := range ts {
		if t.Addr.IsValid() {
			return hop{peer: effects.Peer{Addr: t.Addr, Transport: t.Transport}}, 0, nil
		}
	}
	return hop{}, 0, fmt.Errorf("service: resolve %s: no address", target.Host)
}

// reachable returns the bindings that can be reached now, as the proxy
// reaches them (proxycore.Proxy.Target): less those whose flow was a
// connection of this node that has closed since — a WebSocket client's
// (its Contact is .invalid, RFC 7118 §5.2), an outbound registration's
// (RFC 5626: the client registers a new flow) or any whose contact cannot
// be reached otherwise, counted in closed. Another client whose
// connection closed is reached at its contact again, as without flows
// (this node's own Path entry dropped from the copy returned).
func (s *Service) reachable(p *proxycore.Proxy, bs []location.Binding) (live []location.Binding, closed int) {
	live = make([]location.Binding, 0, len(bs))
	for _, b := range bs {
		t := p.Target(&b)
		if t.Peer.Conn != 0 && s.tr != nil && !s.tr.Open(t.Peer.Conn, t.Peer.Addr) {
			if b.Outbound() || flowOnly(b.Target()) {
				closed++
				continue
			}
			b.Path = b.Path[len(b.Path)-len(t.Routes):]
		}
		live = append(live, b)
	}
	return live, closed
}

// flowOnly reports whether a contact can be reached only on the flow it
// registered over: a WebSocket one, or one with an .invalid host.
func flowOnly(u uri.URI) bool {
	tr := effects.ParseTransport(u.Transport())
	return tr == effects.WS || tr == effects.WSS || strings.HasSuffix(strings.ToLower(strings.TrimSuffix(u.Host, ".")), ".invalid")
}

// hopOf is the first hop to a binding's target (proxycore.Proxy.Target):
// its flow, else its first route's address or its contact's, when an IP
// address names it.
func hopOf(t proxycore.Target) (hop, bool) {
	if t.Peer.Addr.IsValid() {
		return hop{peer: t.Peer}, true
	}
	if len(t.Routes) > 0 {
		p, ok := addrPeer(t.Routes[0])
		rs := make([]header.Route, len(t.Routes))
		for i, u := range t.Routes {
			rs[i] = header.Route{URI: u}
		}
		return hop{peer: p, routes: rs}, ok
	}
	p, ok := addrPeer(t.URI)
	return hop{peer: p}, ok
}

// aor is the address of record the location service is asked about for
// a request to u (proxycore.Proxy.AOR: without one of the server's own
// ports on a served domain). The proxies' identities are alike and never
// change: any shard's serves.
func (s *Service) aor(u uri.URI) uri.URI { return s.proxy().AOR(u) }

// proxy is a shard's proxy core, for what depends only on its
// configuration, which is the same on every shard and never changes (the
// address of record of a Request-URI, the target of a binding): safe to
// call from any goroutine.
func (s *Service) proxy() *proxycore.Proxy {
	return s.rt.Shards()[0].Core().(*shard).core.Proxy()
}

// servesDomain reports whether host is one of the domains.
func (s *Service) servesDomain(host string) bool {
	for _, d := range s.cfg.Domains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return false
}

// addrPeer is the address a URI names by IP address, with its transport
// (UDP by default, TLS for sips).
func addrPeer(u uri.URI) (effects.Peer, bool) {
	a, ok := u.Addr()
	if !ok {
		return effects.Peer{}, false
	}
	tr := effects.ParseTransport(u.Transport())
	if tr == 0 {
		tr = effects.UDP
		if u.Scheme == uri.SIPS {
			tr = effects.TLS
		}
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if tr.Secure() {
			port = 5061
		}
	}
	return effects.Peer{Addr: netip.AddrPortFrom(a.Unmap(), port), Transport: tr}, true
}
