// Package server is the sansip server: a registrar and forking stateful
// proxy (package proxycore) on the reference drivers. Registered users are
// reached at their bindings; other requests are routed by their
// Request-URI. It listens on UDP, TCP, TLS and WebSocket at once, answers
// REGISTERs for its domains with digest authentication against a users
// list, runs one proxy core per CPU (drivers/loop shards by Call-ID) over
// one shared location store, serves Prometheus metrics, and shuts down
// gracefully: new requests are refused with 503 while the transactions in
// progress finish.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
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
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/uri"
)

// Config is the server's configuration. Empty listen addresses leave that
// transport off.
type Config struct {
	UDP, TCP, TLS, WS, WSS []string
	// CertFile and KeyFile are the TLS certificate; without them a
	// self-signed one is made at start for the domains (fine for tests,
	// not for production).
	CertFile, KeyFile string
	// Domains are the domains served (registrar and location routing);
	// the first is the digest realm.
	Domains []string
	// Users are the user names and passwords of those who may register.
	// Empty: REGISTERs are not authenticated.
	Users map[string]string
	// Algorithms are the digest algorithms offered, in the order of the
	// challenges (RFC 8760 §2.3: the preferred first); nil means
	// digest.DefaultAlgorithms, MD5 alone (see digest.Server.Algorithms
	// for the clients that need it).
	Algorithms []digest.Algorithm
	// Metrics is the address of the HTTP metrics endpoint, "" for none.
	Metrics string
	// Pprof adds the Go profiler's handlers (/debug/pprof/) to the
	// metrics endpoint.
	Pprof bool
	// RecordRoute keeps the server on the path of dialogs.
	RecordRoute bool
	// Shards is the number of event loops; zero means GOMAXPROCS.
	Shards int
	// Procs, when positive, caps the CPUs the server runs on at once
	// (runtime.GOMAXPROCS) while it runs. Fewer processors mean fewer
	// hand-overs between threads per message (less CPU per call) and
	// less throughput; zero leaves the runtime's default (every CPU).
	Procs int
	// Drain is how long a shutdown waits for transactions to finish.
	Drain time.Duration
	// UDPLinger is drivers/transport's Config.UDPLinger: how long a UDP
	// reader waits after a thin batch, trading latency for CPU.
	UDPLinger time.Duration
	// UDPPortableIO is drivers/transport's Config.UDPPortableIO: UDP
	// through golang.org/x/net's batch calls even where the transport
	// issues raw recvmmsg and sendmmsg (Linux amd64 and arm64).
	UDPPortableIO bool
	// GCPercent sets the garbage collector's target (debug.SetGCPercent)
	// when not zero: a server's live heap is mostly transactions that
	// linger for their timers, so collecting less often saves CPU for a
	// little more memory.
	GCPercent int
	// DNS is the resolver's server ("host:port"), "" for the system's.
	DNS string
	// Logger receives the logs.
	Logger *slog.Logger
	// Ready, if set, is called once the server listens, with the bound
	// addresses by transport.
	Ready func(addrs map[effects.Transport][]netip.AddrPort)
}

// CryptoSource is an ident.Generator fed by crypto/rand, for deployments:
// tags, Call-IDs, branches and nonces must be hard to guess.
func CryptoSource() ident.Source {
	return func() uint64 {
		var b [8]byte
		rand.Read(b[:])
		return binary.LittleEndian.Uint64(b[:])
	}
}

// Run runs the server until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Domains) == 0 {
		return errors.New("server: no domain")
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 5 * time.Second
	}
	if cfg.GCPercent != 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(cfg.GCPercent))
	}
	if cfg.Procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Procs))
	}
	s := &server{cfg: cfg, db: &db{}, started: make(chan struct{})}
	return s.run(ctx)
}

type server struct {
	cfg      Config
	db       *db
	tr       *transport.Transport
	rt       *loop.Runtime
	draining atomic.Bool
	host     string
	port     uint16
	// started is closed once rt is set: the transport's goroutines,
	// which start before, read rt only after it.
	started chan struct{}
}

// running reports whether the runtime is set, for the transport's
// goroutines.
func (s *server) running() bool {
	select {
	case <-s.started:
		return true
	default:
		return false
	}
}

func (s *server) run(ctx context.Context) error {
	log := s.cfg.Logger
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
		UDPLinger:     s.cfg.UDPLinger,
		UDPPortableIO: s.cfg.UDPPortableIO,
	})
	addrs, err := s.listen()
	if err != nil {
		s.tr.Shutdown(context.Background())
		return err
	}
	resolver, err := dns.New(dns.Config{Server: s.cfg.DNS})
	if err != nil {
		log.Warn("no DNS resolver; names will not resolve", "err", err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	gen := CryptoSource()
	var realm *digest.Server
	if len(s.cfg.Users) > 0 {
		realm = &digest.Server{Realm: s.cfg.Domains[0], Secret: secret, Algorithms: s.cfg.Algorithms, AsGiven: s.cfg.Algorithms != nil}
	}
	// The registrar names an address of record on one of the ports
	// listened on as the bare domain, as the proxy looks it up.
	ownPorts := append([]uint16{s.port}, s.ports(addrs)...)
	lcfg := loop.Config{
		Shards:    s.cfg.Shards,
		Transport: sender{s.tr},
		Logger:    log,
		NewCore: func(i int) loop.Core {
			reg, err := registrar.NewShared(registrar.Config{Domains: s.cfg.Domains, Ports: ownPorts, Auth: realm, Gen: gen}, s.db, s.cfg.Users)
			if err != nil {
				panic(err) // the configuration was checked above
			}
			p, err := proxycore.New(proxycore.Config{
				Gen: gen, Host: s.host, Port: s.port, Ports: s.ports(addrs), Aliases: s.aliases(addrs),
				Domains: s.cfg.Domains, RecordRoute: s.cfg.RecordRoute,
				Registrar: reg,
				Location:  s.db.Lookup,
			})
			if err != nil {
				panic(err)
			}
			return idleProxy{p}
		},
		Overload: s.overloaded,
	}
	if resolver != nil {
		lcfg.Resolver = resolver
	}
	rt, err := loop.New(lcfg)
	if err != nil {
		s.tr.Shutdown(context.Background())
		return err
	}
	s.rt = rt
	close(s.started)
	var metricsSrv *http.Server
	if s.cfg.Metrics != "" {
		ln, err := net.Listen("tcp", s.cfg.Metrics)
		if err != nil {
			s.tr.Shutdown(context.Background())
			return fmt.Errorf("server: metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler(metrics.Runtime(rt), s.collect))
		if s.cfg.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		}
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go metricsSrv.Serve(ln)
		log.Info("metrics", "addr", ln.Addr().String())
	}
	expiry := time.NewTicker(5 * time.Second)
	defer expiry.Stop()
	runCtx, stopRuntime := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx, s.cfg.Drain) }()
	log.Info("sansip serving", "domains", s.cfg.Domains, "listen", fmt.Sprint(addrs), "shards", len(rt.Shards()))
	if s.cfg.Ready != nil {
		s.cfg.Ready(addrs)
	}
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-expiry.C:
			s.db.expire(rt.Now())
		}
	}
	// Graceful shutdown: refuse new requests, let the transactions in
	// progress finish, then close everything.
	log.Info("shutting down: draining transactions", "within", s.cfg.Drain)
	s.draining.Store(true)
	stopRuntime()
	err = <-done
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutCtx)
	}
	s.tr.Shutdown(shutCtx)
	log.Info("stopped")
	return err
}

// listen opens every configured listener; the first address of the
// first transport is the server's identity (Via sent-by, Record-Route).
func (s *server) listen() (map[effects.Transport][]netip.AddrPort, error) {
	addrs := map[effects.Transport][]netip.AddrPort{}
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
				return nil, fmt.Errorf("server: listen %s %s: %w", x.tr, a, err)
			}
			addrs[x.tr] = append(addrs[x.tr], ap)
			if s.host == "" && (x.tr == effects.UDP || x.tr == effects.TCP) {
				s.host, s.port = hostOf(ap), ap.Port()
			}
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("server: no listener configured")
	}
	if s.host == "" {
		for _, list := range addrs {
			s.host, s.port = hostOf(list[0]), list[0].Port()
			break
		}
	}
	return addrs, nil
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
func (s *server) aliases(addrs map[effects.Transport][]netip.AddrPort) []string {
	out := append([]string(nil), s.cfg.Domains...)
	out = append(out, "localhost", "127.0.0.1")
	for _, list := range addrs {
		for _, ap := range list {
			out = append(out, hostOf(ap))
		}
	}
	return out
}

// ports are the ports the server listens on besides its first one.
func (s *server) ports(addrs map[effects.Transport][]netip.AddrPort) []uint16 {
	var out []uint16
	for _, list := range addrs {
		for _, ap := range list {
			if p := ap.Port(); p != s.port && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// receive is the transports' handler: keep-alives are answered here, new
// requests refused while draining, everything else goes to its shard.
func (s *server) receive(p transport.Packet) {
	switch {
	case p.Ping:
		s.tr.Send(p.From, []byte("\r\n"))
		return
	case p.Pong || p.Data == nil || !s.running():
		return
	}
	if s.draining.Load() && newRequest(p.Data) {
		s.refuse(p.Data, p.From, 503)
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

func (s *server) overloaded(data []byte, from effects.Peer, _ netip.AddrPort) {
	s.refuse(data, from, 503)
}

// refuse answers a request statelessly (RFC 3261 §8.2.6), 503 with
// Retry-After: overload, or a draining server.
func (s *server) refuse(data []byte, from effects.Peer, code int) {
	m, err := message.Parse(data, nil)
	if err != nil || !m.IsRequest() || m.Method() == "ACK" {
		return
	}
	resp, err := message.NewResponse(m, code, "", message.ResponseOptions{ToTag: "overload"})
	if err != nil {
		return
	}
	message.Set(resp, header.RetryAfter{Delta: 5})
	s.tr.Send(from, resp.Bytes())
}

// collect adds the transports' and the location store's figures.
func (s *server) collect(w *metrics.Writer) {
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
	aors, bindings := s.db.counts()
	w.Gauge("sansip_registered_aors", "Addresses of record with a binding.", float64(aors))
	w.Gauge("sansip_bindings", "Registered contacts.", float64(bindings))
}

// sender adapts the Transport to loop.Transport.
type sender struct{ t *transport.Transport }

func (s sender) Send(to effects.Peer, data []byte) error { return s.t.Send(to, data) }
func (s sender) Close(id effects.ConnID) error {
	s.t.Close(id)
	return nil
}

// idleProxy lets the runtime know when a proxy core has finished.
type idleProxy struct{ *proxycore.Proxy }

func (p idleProxy) Idle() bool { return p.Contexts() == 0 && p.Transactions().Len() == 0 }

// db is the location store the shards share (registrar.Bindings).
type db struct {
	mu    sync.Mutex
	store location.Store
}

// Lookup reads the bindings of aor.
func (d *db) Lookup(now effects.Time, aor uri.URI) []location.Binding {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.store.Lookup(now, aor)
}

// Apply updates the bindings of aor.
func (d *db) Apply(now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.store.Apply(now, aor, u)
}

func (d *db) expire(now effects.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.store.Expire(now)
}

func (d *db) counts() (int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.store.Len(), d.store.Count()
}

// tlsConfig loads the certificate, or makes a self-signed one.
func (s *server) tlsConfig() (*tls.Config, error) {
	if len(s.cfg.TLS) == 0 && len(s.cfg.WSS) == 0 {
		return nil, nil
	}
	if s.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("server: certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	cert, err := SelfSigned(s.cfg.Domains)
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Warn("TLS: using a self-signed certificate made at start", "names", s.cfg.Domains)
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// SelfSigned makes a self-signed certificate for names (host names or IP
// addresses), valid for a year.
func SelfSigned(names []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
