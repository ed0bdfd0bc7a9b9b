package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/drivers/idgen"
	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

func fillRandom(b []byte) { rand.Read(b) }

// shard is one event loop's core and what the service keeps for it; it
// is touched only with the loop's shard held.
type shard struct {
	s    *Service
	idx  int
	core *dispatch.Core
	reg  *registrar.Registrar
	err  error
	ls   *loop.Shard // set at the first event
	// allow is the local UA's Allow, for a 405 of the application's.
	allow string
	// The handles of this shard: requests waiting for a decision, calls,
	// outgoing requests, subscriptions.
	routes   map[uint64]*Request
	calls    map[ua.CallID]*Call
	outgoing map[uint64]chan requestResult
	subs     map[uint64]*Subscription
	spare    effects.Buffers
	// authed are the REGISTERs whose credentials were looked up: a 401
	// or 403 to one of them is a failed authentication.
	authed map[uint64]authAttempt
}

// authAttempt is a REGISTER whose credentials were checked.
type authAttempt struct {
	user, realm string
	from        effects.Peer
	aor         string
	found       bool
}

// newShard makes shard i's core (loop.Config.NewCore).
func (s *Service) newShard(i int) loop.Core {
	sh := &shard{s: s, idx: i, routes: map[uint64]*Request{}, calls: map[ua.CallID]*Call{},
		outgoing: map[uint64]chan requestResult{},
		subs:     map[uint64]*Subscription{}, authed: map[uint64]authAttempt{}}
	sh.err = sh.init()
	return sh
}

func (sh *shard) init() error {
	s, cfg := sh.s, sh.s.cfg
	gen := idgen.Crypto()
	pc := proxycore.Config{
		Gen: gen, Host: s.host, Port: s.port, Ports: s.ports(), Aliases: s.aliases(),
		Domains: cfg.Domains, RecordRoute: cfg.RecordRoute, Flows: s.flows,
	}
	if len(cfg.Domains) > 0 {
		// The registrar names an address of record on one of the ports
		// listened on as the bare domain, as the proxy looks it up.
		rc := registrar.Config{Domains: cfg.Domains, Ports: append([]uint16{s.port}, s.ports()...), Gen: gen,
			// A client on a connection is reached through this node (its
			// Path, with a flow token), from any node sharing the store.
			FlowPath: func(f effects.Peer) (header.Path, bool) {
				if !f.Transport.Reliable() || sh.core == nil {
					return header.Path{}, false
				}
				return sh.core.Proxy().FlowPath(f)
			}}
		if s.creds != nil {
			rc.Auth = &digest.Server{Realm: cfg.Domains[0], Secret: s.secret, Algorithms: cfg.Algorithms, AsGiven: true}
		}
		r, err := registrar.New(rc)
		if err != nil {
			return fmt.Errorf("%w: registrar: %w", ErrConfig, err)
		}
		sh.reg = r
		pc.Registrar = r
		pc.Ask = true // the location service answers ProxyRequest
	}
	contact, err := uri.Parse("sip:" + s.host + ":" + strconv.Itoa(int(s.port)))
	if err != nil {
		return fmt.Errorf("%w: contact: %w", ErrConfig, err)
	}
	aorHost := s.host
	if len(cfg.Domains) > 0 {
		aorHost = cfg.Domains[0]
	}
	aor, err := uri.Parse("sip:sansip@" + aorHost)
	if err != nil {
		return fmt.Errorf("%w: AOR: %w", ErrConfig, err)
	}
	uc := ua.Config{
		AOR: aor, Contact: contact, Host: s.host, Port: s.port, UserAgent: cfg.UserAgent,
		Gen: affine{gen: gen, s: s, shard: sh.idx}, Events: cfg.Events,
	}
	if cfg.OnRequest == nil {
		// Nobody answers MESSAGE or INFO: the UA refuses them (405).
		uc.Allow = slices.DeleteFunc(slices.Clone(ua.DefaultAllow), func(m string) bool { return m == "MESSAGE" || m == "INFO" })
	}
	dc := dispatch.Config{
		Proxy: pc, UA: uc,
		Ask:          cfg.Route != nil || routeMiddleware(cfg.Middleware),
		RouteTimeout: cfg.RouteTimeout, TimeoutCode: cfg.RouteTimeoutCode,
	}
	if sh.core, err = dispatch.New(dc); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	sh.allow = strings.Join(sh.core.UA().Config().Allow, ", ")
	return nil
}

// affine is the UA's generator: Call-IDs that hash to the UA's own shard
// (loop.Runtime.AffineGen, once the runtime exists).
type affine struct {
	gen   ident.Generator
	s     *Service
	shard int
}

func (a affine) Branch() string { return a.gen.Branch() }
func (a affine) Tag() string    { return a.gen.Tag() }
func (a affine) CallID() string {
	if a.s.rt == nil {
		return a.gen.CallID()
	}
	return a.s.rt.AffineGen(a.shard, a.gen).CallID()
}

// Handle is the shard's core.
func (sh *shard) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	return sh.core.Handle(in, out)
}

// Idle reports whether no transaction is in progress.
func (sh *shard) Idle() bool { return sh.core.Idle() }

// event handles one event of the shard's core (loop.Config.OnEvent).
func (s *Service) event(ls *loop.Shard, ev effects.Event) {
	sh := ls.Core().(*shard)
	sh.ls = ls
	switch ev.Kind {
	case effects.RouteRequest:
		sh.route(ev)
	case effects.RouteAbandoned:
		if r := sh.routes[ev.ID]; r != nil {
			delete(sh.routes, ev.ID)
			r.abandon()
		}
	case effects.ProxyRequest:
		sh.locate(ev)
	case effects.RegistrarCredentials:
		sh.credentials(ev)
	case effects.RegistrarLoad:
		sh.load(ev)
	case effects.RegistrarStore:
		sh.store(ev)
	case effects.RegistrarResponse:
		// A registrar response the proxy did not pass on (there are none:
		// RegistrarEffects sends them); nothing to do.
	case effects.ProxyDone, effects.ProxyCredentials:
	case effects.BridgeRoute, effects.BridgeAnswered, effects.BridgeEnded:
	default:
		sh.uaEvent(ev)
	}
}

// uaCmd is a command of the local UA, as dispatch.Core.UACommand runs it.
type uaCmd func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error)

// uaNow runs a command on the local UA now, on the shard (from an event
// handler), and carries out its effects; its failure is logged as what.
func (sh *shard) uaNow(what string, cmd uaCmd) {
	sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
		return sh.uaRun(now, what, cmd, out)
	})
}

// uaRun runs a command on the local UA and logs its failure as what.
func (sh *shard) uaRun(now effects.Time, what string, cmd uaCmd, out []effects.Effect) []effects.Effect {
	out, err := sh.core.UACommand(now, func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return cmd(now, u, out)
	}, out)
	if err != nil {
		sh.logger().Info(what+" refused", "err", err)
	}
	return out
}

// uaDo queues a command for the local UA of shard ls (from any
// goroutine); its failure is logged as what.
func (s *Service) uaDo(ls *loop.Shard, what string, cmd uaCmd) error {
	return s.do(ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
		return sh.uaRun(now, what, cmd, out)
	})
}

// run runs a command on the shard with one of the shard's buffers and
// carries out its effects.
func (sh *shard) run(f func(now effects.Time, out []effects.Effect) []effects.Effect) {
	now := sh.s.rt.Now()
	b := f(now, sh.spare.Get())
	sh.ls.Exec(now, b)
	sh.spare.Put(b)
}

// do queues a command for the shard's core; it reports ErrClosed when the
// service does not run and ErrOverload when the shard's queue is full.
func (s *Service) do(ls *loop.Shard, f func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect) error {
	select {
	case <-s.stopped:
		return ErrClosed
	default:
	}
	if !s.running() {
		return ErrClosed
	}
	if !ls.Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
		sh := ls.Core().(*shard)
		sh.ls = ls
		return f(sh, now, out)
	}) {
		return ErrOverload
	}
	return nil
}

// logger is the service's logger.
func (sh *shard) logger() *slog.Logger { return sh.s.cfg.Logger }

// registrar events: the credential look-up and the location store, at
// once for stores that answer at once, on a worker otherwise.

func (sh *shard) credentials(ev effects.Event) {
	p, ok := sh.reg.Pending(ev.ID)
	if !ok {
		return
	}
	id := ev.ID
	if len(sh.authed) >= maxAuthed {
		clear(sh.authed) // REGISTERs whose transactions died unanswered
	}
	sh.authed[id] = authAttempt{user: p.Username, realm: p.Realm, from: p.From, aor: p.Msg.To().URI.String()}
	answer := func(sh *shard, now effects.Time, c digest.Credentials, found bool, err error, out []effects.Effect) []effects.Effect {
		if err != nil {
			sh.logger().Warn("credentials look-up failed", "user", p.Username, "err", err)
		}
		if a, ok := sh.authed[id]; ok {
			a.found = found
			sh.authed[id] = a
		}
		var effs []effects.Effect
		if err != nil {
			effs, err = sh.reg.CredentialsFailed(now, id, err, nil)
		} else {
			effs, err = sh.reg.Credentials(now, id, c, found, nil)
		}
		if err != nil {
			delete(sh.authed, id)
			return out
		}
		sh.noteResponses(effs)
		return sh.core.Proxy().RegistrarEffects(now, effs, out)
	}
	lookup := func(ctx context.Context) (digest.Credentials, bool, error) {
		return sh.s.creds.Credentials(ctx, p.Username, p.Realm)
	}
	if immediate(sh.s.creds) {
		c, found, err := lookup(context.Background())
		sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, c, found, err, out)
		})
		return
	}
	ls := sh.ls
	if !sh.s.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sh.s.cfg.StoreTimeout)
		c, found, err := lookup(ctx)
		cancel()
		sh.s.do(ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, c, found, err, out)
		})
	}) {
		sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, digest.Credentials{}, false, ErrOverload, out)
		})
	}
}

// maxAuthed bounds the REGISTERs followed for failed authentications.
const maxAuthed = 10000

func (sh *shard) load(ev effects.Event) {
	p, ok := sh.reg.Pending(ev.ID)
	if !ok {
		return
	}
	id, aor := ev.ID, p.AOR
	answer := func(sh *shard, now effects.Time, bs []location.Binding, err error, out []effects.Effect) []effects.Effect {
		effs, rerr := sh.reg.Bindings(now, id, bs, err, nil)
		if rerr != nil {
			delete(sh.authed, id)
			return out
		}
		sh.noteResponses(effs)
		return sh.core.Proxy().RegistrarEffects(now, effs, out)
	}
	sh.storeCall(func(ctx context.Context) ([]location.Binding, error) {
		return sh.s.lookup(ctx, aor)
	}, answer)
}

func (sh *shard) store(ev effects.Event) {
	p, ok := sh.reg.Pending(ev.ID)
	if !ok {
		return
	}
	id, aor, u := ev.ID, p.AOR, p.Update
	answer := func(sh *shard, now effects.Time, after []location.Binding, err error, out []effects.Effect) []effects.Effect {
		// The 200 lists the bindings the store holds after the update,
		// other nodes' included.
		effs, rerr := sh.reg.StoredBindings(now, id, after, err, nil)
		if rerr != nil {
			delete(sh.authed, id)
			return out
		}
		sh.noteResponses(effs)
		return sh.core.Proxy().RegistrarEffects(now, effs, out)
	}
	sh.storeCall(func(ctx context.Context) ([]location.Binding, error) {
		return sh.s.apply(ctx, aor, u)
	}, answer)
}

// storeCall runs a store operation at once or on a worker, and its answer
// on the shard.
func (sh *shard) storeCall(op func(ctx context.Context) ([]location.Binding, error),
	answer func(sh *shard, now effects.Time, bs []location.Binding, err error, out []effects.Effect) []effects.Effect) {
	if immediate(sh.s.store) {
		bs, err := op(context.Background())
		sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, bs, err, out)
		})
		return
	}
	ls := sh.ls
	if !sh.s.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sh.s.cfg.StoreTimeout)
		bs, err := op(ctx)
		cancel()
		sh.s.do(ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, bs, err, out)
		})
	}) {
		sh.run(func(now effects.Time, out []effects.Effect) []effects.Effect {
			return answer(sh, now, nil, ErrOverload, out)
		})
	}
}

// locate answers the proxy's routing question for a request to one of
// the domains (the default route): the bindings of its address of record.
func (sh *shard) locate(ev effects.Event) {
	ruri := ev.Msg.RequestURI()
	aor := sh.core.Proxy().AOR(ruri)
	id := ev.ID
	answer := func(sh *shard, now effects.Time, bs []location.Binding, err error, out []effects.Effect) []effects.Effect {
		p := sh.core.Proxy()
		live, closed := sh.s.reachable(p, bs)
		d := p.Located(ruri, live)
		if len(live) == 0 && closed > 0 {
			d = proxycore.Decision{Code: 480, Reason: "Temporarily Unavailable (connection closed)"}
		}
		if err != nil {
			sh.logger().Warn("location look-up failed", "aor", ruri.String(), "err", err)
			d = proxycore.Decision{Code: 503, Reason: "Service Unavailable (location service)",
				Headers: []proxycore.Field{{Name: "Retry-After", Value: "5"}}}
		}
		out, _ = p.Decide(now, id, d, out)
		return out
	}
	sh.storeCall(func(ctx context.Context) ([]location.Binding, error) {
		return sh.s.lookup(ctx, aor)
	}, answer)
}

// registrarResponse notes a failed authentication: a 401 or 403 to a
// REGISTER whose credentials were checked (not a stale nonce).
func (sh *shard) registrarResponse(id uint64, code int, stale bool) {
	a, ok := sh.authed[id]
	if !ok {
		return
	}
	delete(sh.authed, id)
	if code != 401 && code != 403 || stale {
		return
	}
	reason := "wrong password"
	switch {
	case !a.found:
		reason = "unknown user"
	case code == 403:
		reason = "not allowed to register this address"
	}
	sh.s.authFailures.Add(1)
	f := AuthFailure{User: a.user, Realm: a.realm, AOR: a.aor, Source: a.from, Method: "REGISTER", Reason: reason}
	for _, m := range sh.s.cfg.Middleware {
		if m.AuthFailed != nil {
			m.AuthFailed(f)
		}
	}
}

// noteResponses looks at the registrar's responses among effs on their
// way to the proxy, for failed authentications.
func (sh *shard) noteResponses(effs []effects.Effect) {
	for i := range effs {
		e := &effs[i]
		if e.Kind != effects.Deliver || e.Event.Kind != effects.RegistrarResponse {
			continue
		}
		stale := false
		if m := e.Event.Msg; m != nil {
			for name, value := range m.Headers() {
				if strings.EqualFold(name, "WWW-Authenticate") && strings.Contains(strings.ToLower(value), "stale=true") {
					stale = true
				}
			}
		}
		sh.registrarResponse(e.Event.ID, e.Event.Code, stale)
	}
}
