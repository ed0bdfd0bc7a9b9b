// Package transport holds the reference transports a driver uses to carry
// the core's Send effects and to feed back what arrives: UDP, TCP, TLS,
// WebSocket and secure WebSocket (RFC 3261 §18, RFC 5626 keep-alives,
// RFC 7118). It is a driver package: unlike the protocol core it does I/O,
// starts goroutines and reads the clock.
//
// A Transport owns listening sockets and connections. What arrives is handed
// to Config.Handler as a Packet: a whole UDP datagram, one SIP message framed
// from a TCP or TLS stream by a parser.Framer, one WebSocket message, or a
// CRLF keep-alive. The driver turns a Packet into an effects.Input (Received,
// or KeepAlive for a ping) and feeds it to its core; the core's Send effects
// go out through Send or SendBatch. A connection that closes, for any reason,
// is reported once to Config.OnClose with the cause, which the driver feeds
// back as ConnClosed (and SendFailed for what it had sent on it).
//
// Goroutines: one reader per UDP socket, reading batches of datagrams into a
// ring of buffers (golang.org/x/net/ipv4 and ipv6 ReadBatch; no goroutine
// per message); one accept loop per stream listener; and per connection one
// reader, feeding the Framer, and one writer, draining that connection's
// bounded write queue. MaxConns bounds the connections and so the
// goroutines: past it, accepted connections are closed at once and dials
// refused. A slow peer fills only its own queue; when the queue overflows
// its connection is closed and reported, and nobody else waits.
//
// Connections are reused: Send picks the connection named by Peer.Conn if it
// is still open, else the latest open connection with the peer's address and
// transport, whichever side opened it (a connection accepted from a peer
// serves requests to the address it came from, as RFC 5923 aliasing would),
// and only then dials (TCP, TLS, WS or WSS). Each connection has its own effects.ConnID, carried in Packet.From.Conn, so
// the core answers a request on the connection it came on (RFC 3261 §18.2.2).
//
// WebSocket (RFC 7118): ListenWS and ListenWSS upgrade GET requests that
// offer the "sip" subprotocol and refuse others with 400 (503 past
// MaxConns). Each text or binary message, fragments joined, is one SIP
// message of at most MaxWSFrame bytes; a bigger one closes the connection
// with status 1009, a frame that breaks RFC 6455 with 1002. Pings are
// answered with pongs; messages are sent as one text frame, or binary when
// they are not UTF-8.
//
// A send to a WS or WSS peer with no open connection dials one, as for TCP
// and TLS: TCP (and TLS for WSS, with ClientTLS and ServerName), then the
// HTTP/1.1 upgrade of Config.WSPath asking for the "sip" subprotocol (RFC
// 6455 §4.1, RFC 7118 §4.1), all within DialTimeout. A refused or
// malformed upgrade fails the dial with ErrWSHandshake, naming the cause.
// A dialled connection masks every frame it sends and refuses masked
// frames from the server (RFC 6455 §5.1, §5.3); a CRLF message on it is a
// pong.
//
// STUN on UDP (RFC 5626 §4.4.2, §8): a datagram whose first byte is 0 to 3
// (RFC 7983) is STUN, not SIP. A Binding request is answered at once from
// the socket it came on, with its source in XOR-MAPPED-ADDRESS, and counted
// as a keep-alive (Counters.KeepAlives); a Binding response is handed to
// the Handler as a Pong with the message in Data (the answer to a UA
// core's keep-alive: the owner feeds it back as an effects.Pong input);
// any other STUN message is dropped (Stats.Drops). A bare CRLFCRLF
// datagram is reported as a ping.
//
// Not provided: STUN on streams, SCTP, and
// the destination address of datagrams on a wildcard UDP socket
// (Packet.Local is then the socket's unspecified address).
package transport

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/parser"
)

// Errors of sends and connections, matchable with errors.Is. Send and
// OnClose wrap them with the peer and the underlying cause.
var (
	// ErrClosed: the Transport was shut down.
	ErrClosed = errors.New("transport: shut down")
	// ErrNoSocket: no UDP socket of the destination's address family was
	// opened with ListenUDP.
	ErrNoSocket = errors.New("transport: no UDP socket for the address family")
	// ErrUnsupported: the transport (SCTP, or an invalid value) is not
	// carried.
	ErrUnsupported = errors.New("transport: unsupported transport")
	// ErrNoConnection: there is no open connection to the peer and none
	// can be dialled. Send no longer returns it (every stream transport
	// is dialled); it is kept for the callers that match it.
	ErrNoConnection = errors.New("transport: no connection to the peer")
	// ErrTooManyConns: MaxConns connections are open.
	ErrTooManyConns = errors.New("transport: too many connections")
	// ErrQueueFull: the connection's write queue overflowed; the
	// connection was closed.
	ErrQueueFull = errors.New("transport: write queue full")
	// ErrConnClosed: the connection closed before the data could be
	// queued on it.
	ErrConnClosed = errors.New("transport: connection closed")
	// ErrTooLarge: a message, datagram or WebSocket frame is over its
	// limit.
	ErrTooLarge = errors.New("transport: message too large")
	// ErrIdle: the connection carried nothing for IdleTimeout.
	ErrIdle = errors.New("transport: idle timeout")
	// ErrFraming: the byte stream or WebSocket framing broke its rules;
	// the parser's or the protocol's error is wrapped with it.
	ErrFraming = errors.New("transport: framing error")
	// ErrDial: the connection could not be opened.
	ErrDial = errors.New("transport: dial failed")
	// ErrHandshake: the TLS handshake failed (certificate verification
	// included).
	ErrHandshake = errors.New("transport: TLS handshake failed")
	// ErrWSHandshake: the server refused the WebSocket upgrade of a
	// dialled connection, or answered it wrongly (RFC 6455 §4.1): the
	// error names the status, or the header field at fault.
	ErrWSHandshake = errors.New("transport: WebSocket handshake failed")
	// ErrWrite: writing to the connection failed.
	ErrWrite = errors.New("transport: write failed")
	// ErrRead: reading from the connection failed, or the peer closed it.
	ErrRead = errors.New("transport: read failed")
	// ErrLocalClose: the connection was closed with Close.
	ErrLocalClose = errors.New("transport: closed locally")
)

// Defaults for the zero fields of Config.
const (
	DefaultIdleTimeout  = 2 * time.Minute
	DefaultMaxConns     = 1024
	DefaultWriteQueue   = 64
	DefaultWriteTimeout = 10 * time.Second
	DefaultDialTimeout  = 10 * time.Second
	DefaultUDPBatch     = 64
	DefaultUDPBuffer    = 4 << 20
)

// Packet is one thing that arrived: a SIP message or a keep-alive.
//
// Data refers to the Transport's buffers and is valid only until the
// Handler returns: a Handler that keeps it copies it (the core's Received
// input copies it anyway).
type Packet struct {
	// Data holds one SIP message; nil for a keep-alive, except for the
	// STUN Binding response of a Pong on UDP.
	Data []byte
	// From is the sender: its address, transport and, on a connection,
	// the ConnID to answer on.
	From effects.Peer
	// Local is the local address it arrived on: the listening socket's
	// address for UDP (unspecified for a wildcard socket), the
	// connection's local address otherwise.
	Local netip.AddrPort
	// Ping is set for a CRLFCRLF keep-alive ping (RFC 5626 §4.4.1, and a
	// bare "\r\n\r\n" datagram on UDP); the owner answers with a "\r\n"
	// pong through Send, to From.
	Ping bool
	// Pong is set for a CRLF pong on a connection this side opened, the
	// answer to our ping (RFC 5626 §4.4.1), and for a STUN Binding
	// response on UDP, the answer to a STUN keep-alive (§4.4.2), whose
	// bytes are in Data: the owner of a UA core feeds them to it as an
	// effects.Pong input.
	Pong bool
}

// Config sets up a Transport. Only Handler is required.
type Config struct {
	// Handler receives every packet. It is called on the Transport's
	// reader goroutines, concurrently for different sockets and
	// connections, and in order for each one. It must not block: a slow
	// Handler stalls the socket or connection it reads for.
	Handler func(Packet)
	// OnClose, if set, is called once for each connection when it closes,
	// on that connection's goroutine, with the reason (wrapping one of the
	// errors above; ErrLocalClose or ErrClosed when this side closed it).
	// A dial or TLS handshake that fails reports here too. It may call
	// Send.
	OnClose func(id effects.ConnID, peer effects.Peer, err error)
	// Limits bound received messages (MaxMessageSize for datagrams and
	// framed messages, the rest for the Framer); zero fields take
	// parser.DefaultLimits.
	Limits parser.Limits
	// IdleTimeout closes a connection that carried nothing, either way,
	// for this long. Zero means DefaultIdleTimeout, negative never.
	IdleTimeout time.Duration
	// MaxConns bounds the open connections of all kinds. Zero means
	// DefaultMaxConns.
	MaxConns int
	// MaxWSFrame bounds a received WebSocket message, fragments included.
	// Zero means Limits.MaxMessageSize.
	MaxWSFrame int
	// WriteQueue is the number of messages that may wait to be written on
	// one connection. Zero means DefaultWriteQueue.
	WriteQueue int
	// WriteTimeout bounds one write to a connection; a peer that does not
	// read for that long is closed. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// DialTimeout bounds opening a connection, TLS handshake included, and
	// the TLS handshake of an accepted connection. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// UDPBatch is the number of datagrams read or written in one system
	// call. Zero means DefaultUDPBatch.
	UDPBatch int
	// UDPPortableIO makes UDP sockets read and write through
	// golang.org/x/net's ipv4/ipv6 ReadBatch and WriteBatch on every
	// platform. By default, on Linux (amd64, arm64), the transport issues
	// recvmmsg, sendmmsg and sendto itself as raw system calls on the
	// non-blocking socket, waiting for readiness through the runtime's
	// poller: a system call the Go scheduler is told of (as x/net's are)
	// wakes its monitor thread whenever the process was idle, which on a
	// server handling a few thousand datagrams a second costs as much CPU
	// as the calls themselves (see the README's proxy benchmark).
	UDPPortableIO bool
	// UDPLinger, when positive, makes a UDP reader that got a thin batch
	// wait this long before reading again, so that datagrams are read and
	// answered several per system call: less CPU per message for up to
	// that much more latency. Zero reads again at once.
	UDPLinger time.Duration
	// UDPBuffer is the receive and send buffer size asked of each UDP
	// socket (the system may cap it: net.core.rmem_max on Linux); bursts
	// beyond what the buffer holds are lost. Zero means DefaultUDPBuffer,
	// negative leaves the system's default.
	UDPBuffer int
	// TLS is the server configuration of ListenTLS and ListenWSS
	// (certificates).
	TLS *tls.Config
	// ClientTLS configures the TLS connections this side dials. Nil means
	// a default configuration: certificates are verified against the
	// system roots. When its ServerName is empty, ServerName (below) or
	// else the peer's IP address is verified.
	ClientTLS *tls.Config
	// ServerName, if set, names the host whose certificate a dialled TLS
	// or WSS connection to peer must present (RFC 5922: the SIP domain);
	// it is also the Host of a dialled WebSocket upgrade, which is
	// otherwise the peer's address.
	ServerName func(peer effects.Peer) string
	// WSPath is the path of the WebSocket upgrades this side dials (the
	// resource of a ws or wss URI, RFC 6455 §3). Empty means "/".
	WSPath string
	// Logger receives the Transport's logs; nil discards them.
	Logger *slog.Logger
}

// Transport carries SIP messages over UDP, TCP, TLS, WS and WSS. Its
// methods are safe for concurrent use.
type Transport struct {
	cfg    Config
	log    *slog.Logger
	maxMsg int
	epoch  time.Time

	mu        sync.Mutex
	closed    bool
	udp       []*udpSocket
	listeners []net.Listener
	servers   []*httpServer
	conns     map[effects.ConnID]*conn
	byAddr    map[flowKey]*conn

	draining chan struct{} // closed by Shutdown: writers flush and close
	nextID   atomic.Uint64
	wg       sync.WaitGroup
	stats    counters
}

type flowKey struct {
	addr netip.AddrPort
	tr   effects.Transport
}

// New returns a Transport with no sockets; open them with the Listen
// methods.
func New(cfg Config) *Transport {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.WriteQueue <= 0 {
		cfg.WriteQueue = DefaultWriteQueue
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.UDPBuffer == 0 {
		cfg.UDPBuffer = DefaultUDPBuffer
	}
	if cfg.UDPBatch <= 0 {
		cfg.UDPBatch = DefaultUDPBatch
	}
	maxMsg := cfg.Limits.MaxMessageSize
	if maxMsg <= 0 {
		maxMsg = parser.DefaultLimits.MaxMessageSize
	}
	if cfg.MaxWSFrame <= 0 {
		cfg.MaxWSFrame = maxMsg
	}
	if cfg.Handler == nil {
		cfg.Handler = func(Packet) {}
	}
	if cfg.WSPath == "" {
		cfg.WSPath = "/"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Transport{
		cfg:      cfg,
		log:      log,
		maxMsg:   maxMsg,
		epoch:    time.Now(),
		conns:    map[effects.ConnID]*conn{},
		byAddr:   map[flowKey]*conn{},
		draining: make(chan struct{}),
	}
	// Connection ids start at a random point (below 2^62, never wrapping
	// in practice): a flow recorded by an earlier run of the process or
	// by another node (a binding in a persistent or shared location
	// store) then never names one of this transport's connections.
	var seed [8]byte
	rand.Read(seed[:])
	t.nextID.Store(binary.BigEndian.Uint64(seed[:]) >> 2)
	return t
}

// Send sends one message, or a keep-alive, to the peer. The data is copied
// (or written at once, for UDP) before Send returns.
//
// UDP goes out of the first socket whose address family matches the
// destination's (a wildcard IPv6 socket serves both). TCP, TLS, WS and WSS
// go on a connection chosen as the package documentation says; a dial
// happens in the background, so Send does not wait for it, and its failure
// reaches OnClose. Send returns an error at once when it can tell:
// ErrNoSocket, ErrUnsupported, ErrTooLarge (a WebSocket message over
// MaxWSFrame), ErrTooManyConns, ErrQueueFull (the connection is then
// closed), ErrConnClosed, ErrClosed, or the UDP write's error.
func (t *Transport) Send(to effects.Peer, data []byte) error {
	to.Addr = unmap(to.Addr)
	var err error
	switch to.Transport {
	case effects.UDP:
		err = t.sendUDP(to, data)
	case effects.TCP, effects.TLS, effects.WS, effects.WSS:
		err = t.sendStream(to, data)
	default:
		err = ErrUnsupported
	}
	if err != nil {
		t.stats.sendErrors.Add(1)
		return fmt.Errorf("transport: send to %v: %w", to, err)
	}
	return nil
}

func (t *Transport) sendStream(to effects.Peer, data []byte) error {
	if isWS(to.Transport) && len(data) > t.cfg.MaxWSFrame {
		return ErrTooLarge
	}
	c, fresh, err := t.connFor(to)
	if err != nil {
		return err
	}
	err = c.enqueue(outItem{data: append([]byte(nil), data...)})
	if fresh {
		go c.run() // dials; the data waits in the queue
	}
	return err
}

// Dial opens a TCP, TLS, WS or WSS connection to the peer now, waiting for
// it (TLS handshake and WebSocket upgrade included), and returns its id; an
// RFC 5626 flow starts this way. Send reuses the connection afterwards.
func (t *Transport) Dial(ctx context.Context, to effects.Peer) (effects.ConnID, error) {
	to.Addr = unmap(to.Addr)
	if !isStream(to.Transport) {
		return 0, fmt.Errorf("transport: dial %v: %w", to, ErrUnsupported)
	}
	to.Conn = 0
	c, err := t.register(to, nil, true, isWS(to.Transport))
	if err != nil {
		return 0, fmt.Errorf("transport: dial %v: %w", to, err)
	}
	if err := c.connect(ctx); err != nil {
		c.stop(err)
		c.finish()
		return 0, fmt.Errorf("transport: dial %v: %w", to, err)
	}
	go c.run()
	return c.peer.Conn, nil
}

// connFor finds the connection for to, or registers a new outbound one
// (fresh) that the caller starts.
func (t *Transport) connFor(to effects.Peer) (c *conn, fresh bool, err error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, false, ErrClosed
	}
	// The connection id must name a live connection to the same address:
	// an id recorded elsewhere (a binding from a shared or persistent
	// store) never sends to someone else.
	if c := t.conns[to.Conn]; c != nil && to.Conn != 0 && c.alive() && sameAddr(c.peer.Addr, to.Addr) {
		t.mu.Unlock()
		return c, false, nil
	}
	if c := t.byAddr[flowKey{to.Addr, to.Transport}]; c != nil && c.alive() {
		t.mu.Unlock()
		return c, false, nil
	}
	defer t.mu.Unlock()
	to.Conn = 0
	// Under the same lock as the search: concurrent sends to one peer
	// make one connection.
	c, err = t.registerLocked(to, nil, true, isWS(to.Transport))
	return c, err == nil, err
}

// isStream reports whether tr is carried on connections.
func isStream(tr effects.Transport) bool {
	return tr == effects.TCP || tr == effects.TLS || isWS(tr)
}

// isWS reports whether tr is WebSocket, plain or secure.
func isWS(tr effects.Transport) bool { return tr == effects.WS || tr == effects.WSS }

// sameAddr reports whether a connection's address is to's, or to has none.
func sameAddr(conn, to netip.AddrPort) bool {
	return !to.IsValid() || conn.Port() == to.Port() && conn.Addr().Unmap() == to.Addr().Unmap()
}

// register adds a connection to the tables, counting it against MaxConns
// and the wait group; its goroutine must end with finish.
func (t *Transport) register(peer effects.Peer, nc net.Conn, outbound, ws bool) (*conn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.registerLocked(peer, nc, outbound, ws)
}

func (t *Transport) registerLocked(peer effects.Peer, nc net.Conn, outbound, ws bool) (*conn, error) {
	if t.closed {
		return nil, ErrClosed
	}
	if len(t.conns) >= t.cfg.MaxConns {
		t.stats.refused.Add(1)
		return nil, ErrTooManyConns
	}
	peer.Conn = effects.ConnID(t.nextID.Add(1))
	c := newConn(t, peer, nc, outbound, ws)
	t.conns[peer.Conn] = c
	t.byAddr[flowKey{peer.Addr, peer.Transport}] = c
	t.wg.Add(1)
	t.stats.connsOpen.Add(1)
	if outbound {
		t.stats.dialled.Add(1)
	} else {
		t.stats.accepted.Add(1)
	}
	return c, nil
}

// unregister removes a closed connection from the tables.
func (t *Transport) unregister(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c.peer.Conn)
	k := flowKey{c.peer.Addr, c.peer.Transport}
	if t.byAddr[k] == c {
		delete(t.byAddr, k)
		// Another open connection to the same address takes over.
		for _, o := range t.conns {
			if o.peer.Addr == c.peer.Addr && o.peer.Transport == c.peer.Transport {
				t.byAddr[k] = o
				break
			}
		}
	}
	t.stats.connsOpen.Add(-1)
}

// Close closes the connection id, if it is open; OnClose reports it with
// ErrLocalClose. It reports whether the connection was open.
func (t *Transport) Close(id effects.ConnID) bool {
	t.mu.Lock()
	c := t.conns[id]
	t.mu.Unlock()
	if c == nil {
		return false
	}
	c.close(ErrLocalClose)
	return true
}

// Open reports whether id names a connection that is open, to addr (any
// address when addr is not valid): whether a flow recorded earlier (a
// registration's) can still be sent on.
func (t *Transport) Open(id effects.ConnID, addr netip.AddrPort) bool {
	t.mu.Lock()
	c := t.conns[id]
	t.mu.Unlock()
	return c != nil && c.alive() && sameAddr(c.peer.Addr, addr)
}

// LocalAddr returns the local address of connection id and true, or false
// when it is not open or not yet connected (a dial under way).
func (t *Transport) LocalAddr(id effects.ConnID) (netip.AddrPort, bool) {
	t.mu.Lock()
	c := t.conns[id]
	t.mu.Unlock()
	if c == nil || !c.alive() {
		return netip.AddrPort{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local, c.nc != nil
}

// Conns returns the number of open connections.
func (t *Transport) Conns() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// Shutdown stops accepting, closes the listening sockets, lets each
// connection write what it has queued and closes it, and waits for every
// goroutine of the Transport to end. When ctx ends first it closes what is
// left at once, waits for the goroutines, and returns ctx's error. Send
// fails with ErrClosed afterwards.
func (t *Transport) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.wg.Wait()
		return nil
	}
	t.closed = true
	close(t.draining)
	udp, lns, srvs := t.udp, t.listeners, t.servers
	t.mu.Unlock()
	for _, s := range udp {
		s.uc.Close()
	}
	for _, ln := range lns {
		ln.Close()
	}
	for _, s := range srvs {
		s.close()
	}
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	left := make([]*conn, 0, len(t.conns))
	for _, c := range t.conns {
		left = append(left, c)
	}
	t.mu.Unlock()
	for _, c := range left {
		c.close(ErrClosed)
	}
	<-done
	return fmt.Errorf("transport: shutdown: %w", ctx.Err())
}

// since returns the time on the Transport's clock, for idle tracking.
func (t *Transport) since() int64 { return int64(time.Since(t.epoch)) }

// deliver hands a packet to the Handler and counts it.
func (t *Transport) deliver(p Packet) {
	c := t.stats.of(p.From.Transport)
	switch {
	case p.Ping || p.Pong:
		c.keepAlives.Add(1)
	default:
		c.msgsIn.Add(1)
		c.bytesIn.Add(uint64(len(p.Data)))
	}
	t.cfg.Handler(p)
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return unmap(a.AddrPort())
	case *net.UDPAddr:
		return unmap(a.AddrPort())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return unmap(ap)
}
