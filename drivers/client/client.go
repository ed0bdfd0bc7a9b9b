// Package client runs one user agent core (package ua) on the reference
// drivers: a drivers/loop runtime with a single shard, over a
// drivers/transport bound to one local address, talking to one next hop
// (the target's server, found with drivers/dns, or an outbound proxy). It is
// what a command-line client, a test or a small application needs to send
// OPTIONS, register, and place or answer calls without writing a driver.
//
// A Client reports the UA's events (effects.Event) to Config.OnEvent and
// every response it receives, once, to Config.OnResponse, both on the
// shard's goroutine, in the order things happened. Commands go to the UA
// with Do. Close stops every goroutine the Client started.
//
// Over WebSocket (RFC 7118) the client cannot listen: Start opens its
// connection to the next hop, and everything reaches it on that
// connection. Its Contact and Via name a random host under ".invalid", as
// RFC 7118's examples (§8) and Appendix B.1 show: nobody can resolve them,
// so a registrar reaches the client over the connection it registered on
// (RegisterOptions adds RFC 5626 outbound for that).
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/drivers/dns"
	"github.com/sansip/sansip/drivers/idgen"
	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// Errors of Start and Do, matchable with errors.Is.
var (
	// ErrResolve: the next hop could not be found.
	ErrResolve = errors.New("client: cannot resolve the next hop")
	// ErrUnsupported: the transport cannot carry a client's requests
	// (SCTP, or an unknown transport parameter).
	ErrUnsupported = errors.New("client: unsupported transport")
	// ErrConnect: the WebSocket connection to the next hop could not be
	// opened (the transport's error, ErrWSHandshake for instance, is
	// wrapped).
	ErrConnect = errors.New("client: cannot connect")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client: closed")
)

// Config configures a Client. Target is required.
type Config struct {
	// Target is the URI the client talks to: the Request-URI of its
	// requests, and, without Proxy, where they go (RFC 3263).
	Target uri.URI
	// Proxy, when set, is the next hop of every request ("host:port" or
	// "host"): an outbound proxy.
	Proxy string
	// Transport is the transport used; zero takes the Target's transport
	// parameter, else TLS for a sips URI, else UDP.
	Transport effects.Transport
	// Local is the local address to bind ("127.0.0.1:5070"); empty picks
	// port 0 on the loopback address of the next hop's family when the
	// next hop is a loopback address, else on the address the system
	// routes to it from. WebSocket binds nothing: it is ignored.
	Local string
	// AOR is this client's address of record (From, registrations);
	// default sip:sansip@ the local address.
	AOR uri.URI
	// Username and Password answer digest challenges (for any realm)
	// when Username is set.
	Username, Password string
	// AutoAnswer answers every incoming call at once, 180 then 200 with
	// an SDP answer: a test peer.
	AutoAnswer bool
	// OnEvent receives the UA's events, on the shard's goroutine. It must
	// not call Do (that would wait for itself).
	OnEvent func(ev effects.Event)
	// OnResponse receives each response that arrives, once (a
	// retransmission is not reported again), on the shard's goroutine,
	// just before the UA handles it.
	OnResponse func(m *message.Message)
	// DNS is the DNS server ("host:port") for names; empty means the
	// system's.
	DNS string
	// TLS configures the TLS and WSS connections dialled; nil verifies
	// against the system roots.
	TLS *tls.Config
	// WSPath is the path of the WebSocket upgrade (ws and wss); empty
	// means "/".
	WSPath string
	// Logger receives the drivers' logs; nil discards them.
	Logger *slog.Logger
}

// Client is one UA core on a single-shard runtime and one transport.
type Client struct {
	cfg      Config
	next     effects.Peer
	local    netip.AddrPort
	contact  uri.URI
	aor      uri.URI
	instance string // RFC 5626 instance id, for WebSocket registrations
	tr       *transport.Transport
	rt       *loop.Runtime
	shard    *loop.Shard
	ua       *ua.UA
	stop     context.CancelFunc
	done     chan struct{}
	once     sync.Once
	seen     map[string]bool // responses reported, by branch, code and to-tag
	// started is closed once rt and shard are set: the transport's
	// goroutines, which start before, use them only after.
	started chan struct{}
}

// Start resolves the next hop, binds the local address (over WebSocket:
// opens the connection) and starts the runtime. The context bounds the DNS
// lookup and the WebSocket connection's opening.
func Start(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, seen: map[string]bool{}, done: make(chan struct{}), started: make(chan struct{})}
	tr, err := transportOf(cfg)
	if err != nil {
		return nil, err
	}
	if tr == effects.SCTP {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, tr)
	}
	if c.next, err = resolve(ctx, cfg, tr); err != nil {
		return nil, err
	}
	if err := c.listen(ctx); err != nil {
		return nil, err
	}
	if err := c.newUA(); err != nil {
		c.tr.Shutdown(context.Background())
		return nil, err
	}
	if err := c.run(); err != nil {
		c.tr.Shutdown(context.Background())
		return nil, err
	}
	return c, nil
}

// transportOf picks the transport: the configured one, the Target's
// transport parameter, TLS for sips, else UDP.
func transportOf(cfg Config) (effects.Transport, error) {
	if cfg.Transport != 0 {
		return cfg.Transport, nil
	}
	if p := cfg.Target.Transport(); p != "" {
		t := effects.ParseTransport(p)
		if t == 0 {
			return 0, fmt.Errorf("%w: %q", ErrUnsupported, p)
		}
		return t, nil
	}
	if cfg.Target.SchemeName() == "sips" {
		return effects.TLS, nil
	}
	return effects.UDP, nil
}

// resolve finds the next hop: the proxy, else the target (RFC 3263),
// numeric addresses without DNS.
func resolve(ctx context.Context, cfg Config, tr effects.Transport) (effects.Peer, error) {
	u := cfg.Target
	if cfg.Proxy != "" {
		p, err := uri.Parse("sip:" + cfg.Proxy)
		if err != nil {
			return effects.Peer{}, fmt.Errorf("%w: proxy %q: %w", ErrResolve, cfg.Proxy, err)
		}
		u = p
	}
	u = u.WithoutParam("maddr").WithParam("transport", strings.ToLower(tr.String()))
	u.User, u.Password, u.Headers = "", "", ""
	if a, ok := u.Addr(); ok {
		port := u.Port
		if port == 0 {
			port = 5060
			if tr.Secure() {
				port = 5061
			}
		}
		return effects.Peer{Addr: netip.AddrPortFrom(a.Unmap(), port), Transport: tr}, nil
	}
	r, err := dns.New(dns.Config{Server: cfg.DNS})
	if err != nil {
		return effects.Peer{}, fmt.Errorf("%w: %w", ErrResolve, err)
	}
	targets, err := r.ResolveURI(ctx, u)
	if err != nil {
		return effects.Peer{}, fmt.Errorf("%w: %s: %w", ErrResolve, u.Host, err)
	}
	for _, t := range targets {
		if t.Transport == tr {
			return effects.Peer{Addr: t.Addr, Transport: tr}, nil
		}
	}
	return effects.Peer{}, fmt.Errorf("%w: %s: no %s target", ErrResolve, u.Host, tr)
}

// localFor returns the local address to bind for reaching next.
func localFor(next effects.Peer) string {
	a := next.Addr.Addr()
	switch {
	case a.IsLoopback() && a.Is4():
		return "127.0.0.1:0"
	case a.IsLoopback():
		return "[::1]:0"
	}
	// Ask the system which address it routes from (no packet is sent).
	conn, err := net.Dial("udp", next.Addr.String())
	if err != nil {
		if a.Is4() {
			return "0.0.0.0:0"
		}
		return "[::]:0"
	}
	defer conn.Close()
	ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), 0).String()
}

// listen opens the transport and its socket on the local address: a UDP
// socket, or a TCP listener so that requests can reach the Contact; over
// WebSocket, the connection to the next hop.
func (c *Client) listen(ctx context.Context) error {
	local := c.cfg.Local
	if local == "" {
		local = localFor(c.next)
	}
	c.tr = transport.New(transport.Config{
		Handler:   c.receive,
		OnClose:   c.closed,
		ClientTLS: c.cfg.TLS,
		WSPath:    c.cfg.WSPath,
		Logger:    c.cfg.Logger,
	})
	var err error
	switch c.next.Transport {
	case effects.UDP:
		c.local, err = c.tr.ListenUDP(local)
	case effects.TCP:
		c.local, err = c.tr.ListenTCP(local)
	case effects.TLS:
		// Without a certificate of its own the client cannot listen for
		// TLS: it binds TCP for its address, and requests reach it only
		// on the connections it opened.
		c.local, err = c.tr.ListenTCP(local)
	case effects.WS, effects.WSS:
		return c.connect(ctx)
	default:
		err = fmt.Errorf("%w: %s", ErrUnsupported, c.next.Transport)
	}
	if err != nil {
		c.tr.Shutdown(context.Background())
		return fmt.Errorf("client: listen %s %s: %w", c.next.Transport, local, err)
	}
	return nil
}

// connect opens the WebSocket connection to the next hop, which requests
// then use (Next names it), and takes its local address as the client's.
// Should it close, the next request opens another.
func (c *Client) connect(ctx context.Context) error {
	id, err := c.tr.Dial(ctx, c.next)
	if err == nil {
		var ok bool
		if c.local, ok = c.tr.LocalAddr(id); !ok {
			err = transport.ErrConnClosed
		}
	}
	if err != nil {
		c.tr.Shutdown(context.Background())
		return fmt.Errorf("%w: %s %v: %w", ErrConnect, c.next.Transport, c.next.Addr, err)
	}
	c.next.Conn = id
	return nil
}

// hostOf writes an address as a URI or Via host.
func hostOf(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// newUA makes the UA core: its Contact is the bound address, or over
// WebSocket a random host under .invalid, which the Vias name too.
func (c *Client) newUA() error {
	host := hostOf(c.local.Addr())
	sentBy, port := host, c.local.Port()
	contact := fmt.Sprintf("sip:sansip@%s:%d", host, c.local.Port())
	if c.ws() {
		sentBy, port = randomLabel()+".invalid", 0
		contact = "sip:sansip@" + sentBy
		c.instance = "urn:uuid:" + uuid4()
	}
	if c.next.Transport != effects.UDP {
		contact += ";transport=" + strings.ToLower(c.next.Transport.String())
	}
	var err error
	if c.contact, err = uri.Parse(contact); err != nil {
		return fmt.Errorf("client: contact: %w", err)
	}
	c.aor = c.cfg.AOR
	if c.aor.Host == "" {
		c.aor, _ = uri.Parse(fmt.Sprintf("sip:sansip@%s", host))
	}
	if c.aor.User != "" {
		c.contact.User = c.aor.User
	}
	cfg := ua.Config{
		AOR: c.aor, Contact: c.contact, Host: sentBy, Port: port,
		Gen: ident.Generator(idgen.Crypto()), UserAgent: "sansip",
	}
	if c.cfg.Username != "" {
		user, pass := c.cfg.Username, c.cfg.Password
		cfg.Credentials = func(string) (digest.Credentials, bool) {
			return digest.Credentials{Username: user, Password: pass}, true
		}
	}
	if c.ua, err = ua.New(cfg); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// ws reports whether the client talks over WebSocket.
func (c *Client) ws() bool {
	return c.next.Transport == effects.WS || c.next.Transport == effects.WSS
}

// randomLabel returns a random DNS label of 13 letters and digits.
func randomLabel() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// uuid4 returns a random UUID (RFC 9562 §5.4).
func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// run starts the one-shard runtime.
func (c *Client) run() error {
	rt, err := loop.New(loop.Config{
		Shards:    1,
		NewCore:   func(int) loop.Core { return reporting{c} },
		Transport: sender{c.tr},
		OnEvent:   c.event,
		Resolvers: 1,
		Logger:    c.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	c.rt, c.shard = rt, rt.Shards()[0]
	close(c.started)
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go func() {
		defer close(c.done)
		rt.Run(ctx, 0)
	}()
	return nil
}

// Close stops the runtime and the transport and waits for their
// goroutines. Transactions in progress are abandoned: wait for what
// matters (the answer to a BYE, an unregistration) before closing.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		c.stop()
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = c.tr.Shutdown(ctx)
	})
	return err
}

// Next returns the next hop: where requests go (over WebSocket, with the
// id of the connection Start opened).
func (c *Client) Next() effects.Peer { return c.next }

// Local returns the bound local address (over WebSocket, the local address
// of the connection Start opened).
func (c *Client) Local() netip.AddrPort { return c.local }

// Contact returns the UA's Contact URI (the bound address, or a .invalid
// host over WebSocket).
func (c *Client) Contact() uri.URI { return c.contact }

// RegisterOptions completes the options of a registration through this
// client: Dest defaults to Next, and over
// WebSocket an outbound registration (RFC 5626, with this client's
// instance id and reg-id 1) is asked for unless o has one, as RFC 7118
// Appendix B.1 recommends: the registrar then reaches the client over its
// connection, which the UA keeps alive with CRLF pings and opens again,
// registering anew, when it fails.
func (c *Client) RegisterOptions(o ua.RegisterOptions) ua.RegisterOptions {
	if o.Dest == (effects.Peer{}) {
		o.Dest = c.next
	}
	if c.ws() && o.Outbound == nil {
		o.Outbound = &ua.OutboundOptions{Instance: c.instance, RegID: 1}
	}
	return o
}

// AOR returns the client's address of record.
func (c *Client) AOR() uri.URI { return c.aor }

// Target returns the configured target.
func (c *Client) Target() uri.URI { return c.cfg.Target }

// Do runs f with the UA on the shard's goroutine, carries out the effects
// it returns and waits for it; f's error is returned. It must not be
// called from OnEvent or OnResponse.
func (c *Client) Do(ctx context.Context, f func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error)) error {
	errc := make(chan error, 1)
	ok := c.shard.Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
		out, err := f(c.ua, now, out)
		errc <- err
		return out
	})
	if !ok {
		return loop.ErrOverload
	}
	select {
	case err := <-errc:
		return err
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// receive is the transport's handler: pings are answered, responses
// reported, and messages handed to the runtime; a STUN Binding response
// (a Pong with Data, the answer to an outbound UDP flow's keep-alive) goes
// to the UA as an effects.Pong input.
func (c *Client) receive(p transport.Packet) {
	switch {
	case p.Ping:
		c.tr.Send(p.From, []byte("\r\n"))
		return
	case p.Pong && p.Data != nil && c.running():
		data, from := bytes.Clone(p.Data), p.From
		c.shard.Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
			return c.ua.Handle(effects.Input{Kind: effects.Pong, Now: now, Data: data, From: from}, out)
		})
		return
	case p.Pong || p.Data == nil || !c.running():
		return
	}
	c.rt.Receive(p.Data, p.From, p.Local)
}

// reporting is the UA core as the runtime runs it: each response is
// reported to OnResponse just before the UA handles it, on the shard, so
// that the report comes before the events the response causes.
type reporting struct{ c *Client }

func (r reporting) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	if in.Kind == effects.Received && r.c.cfg.OnResponse != nil && strings.HasPrefix(string(in.Data[:min(len(in.Data), 4)]), "SIP/") {
		r.c.response(in.Data)
	}
	return r.c.ua.Handle(in, out)
}

// response reports a response unless it was reported already.
func (c *Client) response(data []byte) {
	m, err := message.Parse(data, nil)
	if err != nil {
		return
	}
	key := fmt.Sprintf("%s %d %s", m.Branch(), m.StatusCode(), m.ToTag())
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.cfg.OnResponse(m)
}

func (c *Client) closed(id effects.ConnID, _ effects.Peer, _ error) {
	if c.running() {
		c.rt.ConnClosed(id)
	}
}

// running reports whether the runtime is set.
func (c *Client) running() bool {
	select {
	case <-c.started:
		return true
	default:
		return false
	}
}

// event handles a UA event: answers calls in AutoAnswer mode, then tells
// the application.
func (c *Client) event(s *loop.Shard, ev effects.Event) {
	if c.cfg.AutoAnswer && ev.Kind == effects.CallIncoming {
		c.answer(s, ev)
	}
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(ev)
	}
}

func (c *Client) answer(s *loop.Shard, ev effects.Event) {
	now := c.rt.Now()
	body, err := c.Answer(ev.Msg)
	if err != nil {
		c.cfg.Logger.Warn("cannot answer the offer", "err", err)
		out, _ := c.ua.Reject(now, ev.ID, 488, nil)
		s.Exec(now, out)
		return
	}
	out, err := c.ua.Ring(now, ev.ID, ua.RingOptions{}, nil)
	if err == nil {
		out, err = c.ua.Answer(now, ev.ID, body, out)
	}
	if err != nil {
		c.cfg.Logger.Warn("answer", "err", err)
	}
	s.Exec(now, out)
}

// sender adapts the Transport to loop.Transport.
type sender struct{ t *transport.Transport }

func (s sender) Send(to effects.Peer, data []byte) error { return s.t.Send(to, data) }

func (s sender) Close(id effects.ConnID) error {
	s.t.Close(id)
	return nil
}
