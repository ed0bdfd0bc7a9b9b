// Package service runs a programmable SIP server on the reference drivers:
// the cores of package dispatch (a stateful forking proxy with its
// registrar, a user agent for local endpoints, a back-to-back user agent)
// on drivers/loop's shards, over drivers/transport's UDP, TCP, TLS and
// WebSocket listeners, with DNS, metrics and graceful shutdown. An
// application supplies only its logic, as callbacks:
//
//   - Config.Route decides, for every new request outside a dialog, what
//     happens to it (NkSIP's sip_route): the default (registrar, location
//     service, Request-URI), proxy to other targets, reply, redirect,
//     answer locally, or bridge as a B2BUA. It runs on the request's
//     shard and must not block: it may keep the *Request and decide later
//     from any goroutine (after a database or HTTP look-up), within
//     Config.RouteTimeout.
//   - Config.OnCall, OnRequest and OnSubscribe are the local endpoints:
//     calls answered, rejected, redirected or transferred; MESSAGE, INFO
//     and other requests; subscriptions and their NOTIFYs.
//   - Service.Dial and Service.Request start calls and requests from any
//     goroutine; a cancelled context cancels the INVITE.
//   - Config.Credentials and Config.Store are the registrar's credential
//     look-up and location store, both free to answer later (a database).
//   - Config.Middleware are plugins: a trace of every message, a log of
//     failed authentications, a rate limit per source, or the
//     application's own.
//
// Callbacks run on the shard of their call (every message of a call, and
// both legs of a bridge, meet on one shard: the UA's Call-IDs are drawn to
// hash to its own shard). Handle methods (Request's decisions, Call's
// commands) never block: they queue the command to the shard, which runs
// it right after the callback in progress, or at once when the shard is
// idle; their outcome shows in the handle's state and channels.
//
// `sansip serve` is this package with its default configuration: a
// registrar and proxy with no Route callback.
package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/drivers/dns"
	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/drivers/metrics"
	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/flow"
	"github.com/sansip/sansip/sdp"
	"github.com/sansip/sansip/ua"
)

// Errors of the Service and its handles, matchable with errors.Is.
var (
	// ErrConfig: the configuration cannot work.
	ErrConfig = errors.New("service: invalid configuration")
	// ErrClosed: the service is not running (not started yet, or
	// stopped).
	ErrClosed = errors.New("service: not running")
	// ErrOverload: the shard's queue is full; try again later.
	ErrOverload = errors.New("service: overloaded")
	// ErrDecided: the request has its routing decision already, or no
	// longer waits for one (cancelled, timed out).
	ErrDecided = errors.New("service: request already decided")
)

// Config is a service's configuration. Empty listen addresses leave that
// transport off; at least one is needed.
type Config struct {
	// Listen are addresses listened on with both UDP and TCP
	// ("127.0.0.1:5060"), as most SIP servers do.
	Listen []string
	// UDP, TCP, TLS, WS and WSS are the addresses listened on with one
	// transport ("127.0.0.1:5060", ":5060").
	UDP, TCP, TLS, WS, WSS []string
	// CertFile and KeyFile are the TLS certificate; without them a
	// self-signed one is made at start for the domains (fine for tests,
	// not for production).
	CertFile, KeyFile string
	// Host is the name the server writes in its Vias, Record-Routes and
	// Contact; empty: the first UDP or TCP listening address (127.0.0.1
	// for an unspecified one).
	Host string
	// Domains are the domains served: REGISTERs for them go to the
	// registrar, requests for them to the location service. The first
	// is the digest realm. Empty: no registrar and no location service.
	Domains []string
	// Users are user names and passwords allowed to register: a
	// shortcut for Credentials: Users(...).
	Users map[string]string
	// Credentials looks up the digest credentials of REGISTERs' users;
	// nil (and no Users): REGISTERs are not authenticated.
	Credentials Credentials
	// Algorithms are the digest algorithms challenged with, in order;
	// nil means digest.DefaultAlgorithms, MD5 alone (digest.Server's
	// Algorithms says which deployed clients need it).
	Algorithms []digest.Algorithm
	// Store holds the registrations; nil: a MemoryStore.
	Store Store
	// Secret keys the digest nonces (stateless HMACs, digest.Server):
	// nodes that share a location store and one name give the same Secret
	// (at least 16 bytes), so that a nonce one of them gave is good on
	// another (a client's next REGISTER may reach another node). Empty:
	// random at each start, good on this node until it restarts. The
	// replay protection (nonce counts) is each node's own.
	Secret []byte
	// StoreTimeout bounds each call of Store and Credentials made on a
	// worker (and a routing look-up made for Request.Locate or Bridge):
	// past it the request is answered 503 with Retry-After; 0 means 2 s.
	// When every worker is busy with a slow store, a request needing one
	// gets the 503 at once.
	StoreTimeout time.Duration
	// RecordRoute keeps the proxy on the path of the dialogs it proxies
	// (a Route decision may turn it off or on per request).
	RecordRoute bool
	// Route is the application's routing callback: it is called for every
	// new request outside a dialog (but ACK and CANCEL) and decides with
	// one of the Request's methods, at once or later. Nil: every request
	// takes the default (Request.Default).
	Route func(r *Request)
	// RouteTimeout bounds the wait for a decision (default 10 s); past it
	// the request is answered RouteTimeoutCode (default 504).
	RouteTimeout     time.Duration
	RouteTimeoutCode int
	// OnCall hears each call a Route decision sent to the local UA
	// (Request.Local); nil rejects them 480.
	OnCall func(c *Call)
	// OnRequest hears each request other than INVITE that the local UA
	// received (MESSAGE, INFO, ...), outside a call or in one; nil: the
	// UA does not accept MESSAGE or INFO (405).
	OnRequest func(r *IncomingRequest)
	// OnSubscribe hears each SUBSCRIBE for one of Events that the local
	// UA received; nil rejects them 403.
	OnSubscribe func(s *Subscription)
	// Events are the event packages the local UA serves as a notifier
	// (RFC 6665); SUBSCRIBEs for others get 489.
	Events []ua.EventPackage
	// Middleware are the plugins, in order (see Middleware).
	Middleware []Middleware
	// UserAgent is the User-Agent and Server value of the local UA.
	UserAgent string
	// Media is what the local UA's calls accept and offer when the
	// application leaves the session description to it (Call.Answer with
	// no description); nil: G.711 (PCMU, PCMA) and telephone-event
	// audio at the server's address. The service sends and receives no
	// media itself.
	Media *sdp.Capabilities
	// Metrics is the address of the HTTP metrics endpoint, "" for none;
	// Pprof adds the Go profiler's handlers (/debug/pprof/) to it.
	Metrics string
	Pprof   bool
	// Shards is the number of event loops; zero means GOMAXPROCS.
	Shards int
	// Procs, when positive, caps the CPUs used at once
	// (runtime.GOMAXPROCS) while the service runs.
	Procs int
	// Drain is how long a shutdown waits for transactions to finish
	// (default 5 s).
	Drain time.Duration
	// UDPLinger and UDPPortableIO are drivers/transport's Config fields.
	UDPLinger     time.Duration
	UDPPortableIO bool
	// GCPercent sets the garbage collector's target
	// (debug.SetGCPercent) while the service runs, when not zero.
	GCPercent int
	// DNS is the resolver's server ("host:port"), "" for the system's.
	DNS string
	// Workers bounds the goroutines that run look-ups of stores and
	// credentials that may block (default 64).
	Workers int
	// Logger receives the logs; nil: slog.Default().
	Logger *slog.Logger
	// Ready, if set, is called once the service listens, with the bound
	// addresses by transport.
	Ready func(addrs map[effects.Transport][]netip.AddrPort)
}

// Service is a running (or ready to run) server.
type Service struct {
	cfg      Config
	tr       *transport.Transport
	rt       *loop.Runtime
	resolver *dns.Resolver
	addrs    map[effects.Transport][]netip.AddrPort
	host     string
	port     uint16
	secret   []byte
	flows    *flow.Tokens // the node's flow tokens, shared by its shards
	draining atomic.Bool
	started  chan struct{} // closed once rt is set
	stopped  chan struct{} // closed once the runtime stopped
	work     chan func()
	workers  sync.WaitGroup
	next     atomic.Uint32 // round robin of Dial and Request over shards
	store    Store
	creds    Credentials
	route    func(*Request) // Config.Route with the middleware's hooks
	// counters
	authFailures atomic.Uint64
	ran          atomic.Bool
}

// Run is New and Service.Run: it serves until ctx is done, then drains.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// New checks cfg and returns a Service ready to Run.
func New(cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for _, a := range cfg.Listen {
		cfg.UDP = append(slices.Clone(cfg.UDP), a)
		cfg.TCP = append(slices.Clone(cfg.TCP), a)
	}
	if len(cfg.UDP)+len(cfg.TCP)+len(cfg.TLS)+len(cfg.WS)+len(cfg.WSS) == 0 {
		return nil, fmt.Errorf("%w: no listener configured", ErrConfig)
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 5 * time.Second
	}
	if len(cfg.Secret) > 0 && len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("%w: Secret of %d bytes, want at least 16", ErrConfig, len(cfg.Secret))
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 2 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Algorithms == nil {
		cfg.Algorithms = digest.DefaultAlgorithms
	}
	if cfg.RouteTimeoutCode != 0 && (cfg.RouteTimeoutCode < 300 || cfg.RouteTimeoutCode > 699) {
		return nil, fmt.Errorf("%w: RouteTimeoutCode %d", ErrConfig, cfg.RouteTimeoutCode)
	}
	s := &Service{cfg: cfg, started: make(chan struct{}), stopped: make(chan struct{}), store: cfg.Store, creds: cfg.Credentials}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	s.route = s.routeFunc()
	if s.creds == nil && len(cfg.Users) > 0 {
		s.creds = Users(cfg.Users)
	}
	if s.creds != nil && len(cfg.Domains) == 0 {
		return nil, fmt.Errorf("%w: credentials without a domain (the digest realm)", ErrConfig)
	}
	return s, nil
}

// Run listens, serves until ctx is done, then refuses new requests with
// 503 while the transactions in progress finish (Config.Drain), and
// closes everything. A Service runs once.
func (s *Service) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: a Service runs once", ErrConfig)
	}
	defer close(s.stopped)
	cfg := s.cfg
	log := cfg.Logger
	if cfg.GCPercent != 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(cfg.GCPercent))
	}
	if cfg.Procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Procs))
	}
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return err
	}
	s.tr = transport.New(transport.Config{
		Handler: s.receive,
		OnClose: func(id effects.ConnID, _ effects.Peer, _ error) {
			if s.running() {
				s.rt.ConnClosed(id)
			}
		},
		TLS:           tlsConf,
		Logger:        log,
		UDPLinger:     cfg.UDPLinger,
		UDPPortableIO: cfg.UDPPortableIO,
	})
	if err := s.listen(); err != nil {
		s.tr.Shutdown(context.Background())
		return err
	}
	if s.resolver, err = dns.New(dns.Config{Server: cfg.DNS}); err != nil {
		log.Warn("no DNS resolver; names will not resolve", "err", err)
	}
	if s.secret = cfg.Secret; len(s.secret) == 0 {
		s.secret = make([]byte, 32)
		fillRandom(s.secret)
	}
	key := make([]byte, 32)
	fillRandom(key)
	if s.flows, err = flow.New(key); err != nil {
		s.tr.Shutdown(context.Background())
		return fmt.Errorf("service: %w", err)
	}
	lcfg := loop.Config{
		Shards:    cfg.Shards,
		Transport: sender{s},
		Logger:    log,
		NewCore:   s.newShard,
		OnEvent:   s.event,
		Overload:  func(data []byte, from effects.Peer, _ netip.AddrPort) { s.refuse(data, from, 503, "") },
	}
	if s.resolver != nil {
		lcfg.Resolver = s.resolver
	}
	rt, err := loop.New(lcfg)
	if err != nil {
		s.tr.Shutdown(context.Background())
		return fmt.Errorf("service: %w", err)
	}
	if err := s.checkShards(rt); err != nil {
		s.tr.Shutdown(context.Background())
		return err
	}
	s.rt = rt
	s.work = make(chan func(), 4*cfg.Workers)
	workCtx, stopWork := context.WithCancel(context.Background())
	for range cfg.Workers {
		s.workers.Add(1)
		go s.worker(workCtx)
	}
	close(s.started)
	metricsSrv, err := s.serveMetrics()
	if err != nil {
		stopWork()
		s.tr.Shutdown(context.Background())
		return err
	}
	expiry := time.NewTicker(5 * time.Second)
	defer expiry.Stop()
	runCtx, stopRuntime := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx, cfg.Drain) }()
	log.Info("sansip serving", "domains", cfg.Domains, "listen", fmt.Sprint(s.addrs), "shards", len(rt.Shards()))
	if cfg.Ready != nil {
		cfg.Ready(s.Addrs())
	}
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-expiry.C:
			if x, ok := s.store.(Expirer); ok {
				x.Expire(rt.Now())
			}
		}
	}
	log.Info("shutting down: draining transactions", "within", cfg.Drain)
	s.draining.Store(true)
	stopRuntime()
	err = <-done
	stopWork()
	s.workers.Wait()
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutCtx)
	}
	s.tr.Shutdown(shutCtx)
	log.Info("stopped")
	return err
}

// checkShards reports a configuration the cores refused (they are made by
// loop.New through newShard, which cannot return an error).
func (s *Service) checkShards(rt *loop.Runtime) error {
	for _, sh := range rt.Shards() {
		if c, ok := sh.Core().(*shard); ok && c.err != nil {
			return c.err
		}
	}
	return nil
}

// Ready returns a channel closed once the service listens and runs.
func (s *Service) Ready() <-chan struct{} { return s.started }

// Done returns a channel closed once Run returned.
func (s *Service) Done() <-chan struct{} { return s.stopped }

// Addrs returns the bound addresses by transport (after Ready).
func (s *Service) Addrs() map[effects.Transport][]netip.AddrPort {
	out := map[effects.Transport][]netip.AddrPort{}
	for k, v := range s.addrs {
		out[k] = slices.Clone(v)
	}
	return out
}

// Host returns the host and port the server writes in its Vias,
// Record-Routes and Contact (after Ready).
func (s *Service) Host() (string, uint16) { return s.host, s.port }

// Store returns the location store.
func (s *Service) Store() Store { return s.store }

// running reports whether the runtime is set, for the transport's
// goroutines.
func (s *Service) running() bool {
	select {
	case <-s.started:
		return true
	default:
		return false
	}
}

// listen opens every configured listener; the first UDP or TCP address is
// the server's identity unless Config.Host names it.
func (s *Service) listen() error {
	s.addrs = map[effects.Transport][]netip.AddrPort{}
	type l struct {
		tr   effects.Transport
		list []string
		open func(string) (netip.AddrPort, error)
	}
	for _, x := range []l{
		{effects.UDP, s.cfg.UDP, s.tr.ListenUDP},
		{effects.TCP, s.cfg.TCP, s.tr.ListenTCP},
		{effects.TLS, s.cfg.TLS, s.tr.ListenTLS},
		{effects.WS, s.cfg.WS, func(a string) (netip.AddrPort, error) { return s.tr.ListenWS(a, "/") }},
		{effects.WSS, s.cfg.WSS, func(a string) (netip.AddrPort, error) { return s.tr.ListenWSS(a, "/") }},
	} {
		for _, a := range x.list {
			ap, err := x.open(a)
			if err != nil {
				return fmt.Errorf("service: listen %s %s: %w", x.tr, a, err)
			}
			s.addrs[x.tr] = append(s.addrs[x.tr], ap)
			if s.host == "" && (x.tr == effects.UDP || x.tr == effects.TCP) {
				s.host, s.port = hostOf(ap), ap.Port()
			}
		}
	}
	if s.host == "" {
		for _, tr := range []effects.Transport{effects.TLS, effects.WS, effects.WSS} {
			if list := s.addrs[tr]; len(list) > 0 {
				s.host, s.port = hostOf(list[0]), list[0].Port()
				break
			}
		}
	}
	if s.cfg.Host != "" {
		s.host = s.cfg.Host
	}
	return nil
}

func hostOf(ap netip.AddrPort) string {
	a := ap.Addr()
	if a.IsUnspecified() {
		return "127.0.0.1"
	}
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// aliases are the other names of the server: its domains and listening
// addresses.
func (s *Service) aliases() []string {
	out := append([]string(nil), s.cfg.Domains...)
	out = append(out, "localhost", "127.0.0.1")
	for _, list := range s.addrs {
		for _, ap := range list {
			out = append(out, hostOf(ap))
		}
	}
	return out
}

// ports are the ports the server listens on besides its first one.
func (s *Service) ports() []uint16 {
	var out []uint16
	for _, list := range s.addrs {
		for _, ap := range list {
			if p := ap.Port(); p != s.port && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// receive is the transports' handler: keep-alives are answered here, the
// middleware sees each message, new requests are refused while draining,
// everything else goes to its shard.
func (s *Service) receive(p transport.Packet) {
	switch {
	case p.Ping:
		s.tr.Send(p.From, []byte("\r\n"))
		return
	case p.Pong || p.Data == nil || !s.running():
		return
	}
	if len(s.cfg.Middleware) > 0 {
		pk := Packet{Data: p.Data, Peer: p.From, Local: p.Local, svc: s}
		for _, m := range s.cfg.Middleware {
			if m.Inbound != nil && !m.Inbound(&pk) {
				return
			}
		}
	}
	if s.draining.Load() && newRequest(p.Data) {
		s.refuse(p.Data, p.From, 503, "")
		return
	}
	s.rt.Receive(p.Data, p.From, p.Local)
}

// newRequest reports whether msg is a request outside a dialog (no To
// tag) other than ACK and CANCEL: what a draining server refuses.
func newRequest(msg []byte) bool {
	if len(msg) < 4 || string(msg[:4]) == "SIP/" || string(msg[:4]) == "ACK " || (len(msg) > 7 && string(msg[:7]) == "CANCEL ") {
		return false
	}
	m, err := message.Parse(msg, nil)
	return err == nil && m.ToTag() == ""
}

// refuse answers a request statelessly (RFC 3261 §8.2.6): 503 with
// Retry-After for overload and a draining server, or another code.
func (s *Service) refuse(data []byte, from effects.Peer, code int, reason string) {
	m, err := message.Parse(data, nil)
	if err != nil || !m.IsRequest() || m.Method() == "ACK" {
		return
	}
	resp, err := message.NewResponse(m, code, reason, message.ResponseOptions{ToTag: "refused"})
	if err != nil {
		return
	}
	if code == 503 {
		message.Set(resp, header.RetryAfter{Delta: 5})
	}
	sender{s}.Send(from, resp.Bytes())
}

// sender adapts the Transport to loop.Transport, and shows each message
// sent to the middleware.
type sender struct{ s *Service }

func (x sender) Send(to effects.Peer, data []byte) error {
	if err := x.s.tr.Send(to, data); err != nil {
		return err
	}
	if len(x.s.cfg.Middleware) > 0 {
		pk := Packet{Data: data, Peer: to, svc: x.s}
		for _, m := range x.s.cfg.Middleware {
			if m.Outbound != nil {
				m.Outbound(&pk)
			}
		}
	}
	return nil
}

func (x sender) Close(id effects.ConnID) error {
	x.s.tr.Close(id)
	return nil
}

// serveMetrics starts the metrics endpoint, if configured.
func (s *Service) serveMetrics() (*http.Server, error) {
	if s.cfg.Metrics == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("service: metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(metrics.Runtime(s.rt), s.collect))
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	s.cfg.Logger.Info("metrics", "addr", ln.Addr().String())
	return srv, nil
}

// collect adds the transports', the store's and the service's figures.
func (s *Service) collect(w *metrics.Writer) {
	st := s.tr.Stats()
	for _, tr := range []effects.Transport{effects.UDP, effects.TCP, effects.TLS, effects.WS, effects.WSS} {
		c := st.Of(tr)
		name := strings.ToLower(tr.String())
		w.Counter("sansip_transport_messages_total", "Messages by transport and direction.", c.MsgsIn, "transport", name, "direction", "in")
		w.Counter("sansip_transport_messages_total", "Messages by transport and direction.", c.MsgsOut, "transport", name, "direction", "out")
		w.Counter("sansip_transport_bytes_total", "Bytes by transport and direction.", c.BytesIn, "transport", name, "direction", "in")
		w.Counter("sansip_transport_bytes_total", "Bytes by transport and direction.", c.BytesOut, "transport", name, "direction", "out")
	}
	w.Gauge("sansip_connections", "Open connections.", float64(st.ConnsOpen))
	w.Counter("sansip_framing_errors_total", "Connections closed for a framing error.", st.FramingErrors)
	w.Counter("sansip_transport_drops_total", "Messages received and not delivered (oversize).", st.Drops)
	w.Counter("sansip_transport_send_errors_total", "Sends that failed in the transports.", st.SendErrors)
	w.Counter("sansip_auth_failures_total", "Digest authentications that failed.", s.authFailures.Load())
	if c, ok := s.store.(Counter); ok {
		aors, bindings := c.Counts()
		w.Gauge("sansip_registered_aors", "Addresses of record with a binding.", float64(aors))
		w.Gauge("sansip_bindings", "Registered contacts.", float64(bindings))
	}
}

// tlsConfig loads the certificate, or makes a self-signed one.
func (s *Service) tlsConfig() (*tls.Config, error) {
	if len(s.cfg.TLS) == 0 && len(s.cfg.WSS) == 0 {
		return nil, nil
	}
	if s.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("service: certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	names := s.cfg.Domains
	if len(names) == 0 {
		names = []string{"localhost", "127.0.0.1"}
	}
	cert, err := SelfSigned(names)
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Warn("TLS: using a self-signed certificate made at start", "names", names)
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// worker runs look-ups that may block.
func (s *Service) worker(ctx context.Context) {
	defer s.workers.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.work:
			f()
		}
	}
}

// async runs f on a worker; it reports false when every worker is busy
// and the queue full.
func (s *Service) async(f func()) bool {
	select {
	case s.work <- f:
		return true
	default:
		return false
	}
}

// shardOf returns the shard for a new dialog of the local UA: the shards
// in turn.
func (s *Service) shardOf() *loop.Shard {
	sh := s.rt.Shards()
	return sh[int(s.next.Add(1))%len(sh)]
}
