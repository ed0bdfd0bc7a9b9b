package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/parser"
)

// readBufSize is the size of each stream connection's read buffer.
const readBufSize = 16 << 10

// outItem is one entry of a connection's write queue.
type outItem struct {
	data []byte
	op   byte // WebSocket opcode of a control frame; 0 for a message
}

// conn is one TCP, TLS, WS or WSS connection. Its run goroutine connects
// (when this side dials), reads, and reports the close; a writer goroutine
// drains its queue.
type conn struct {
	t        *Transport
	peer     effects.Peer // peer.Conn is the connection's id
	outbound bool
	ws       bool

	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc
	queue  chan outItem

	once sync.Once
	err  error // why it closed; set once, before ctx ends

	mu    sync.Mutex
	nc    net.Conn
	local netip.AddrPort
	br    *bufio.Reader // WebSocket: the reader left by the HTTP upgrade

	active atomic.Int64 // Transport clock at the last traffic either way

	wsCode atomic.Uint32 // WebSocket: the close code to send as it ends
	wsBye  atomic.Bool   // WebSocket: the close frame was sent
}

func newConn(t *Transport, peer effects.Peer, nc net.Conn, outbound, ws bool) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		t: t, peer: peer, outbound: outbound, ws: ws,
		ctx: ctx, cancel: cancel,
		queue: make(chan outItem, t.cfg.WriteQueue),
	}
	if nc != nil {
		c.nc, c.local = nc, addrPortOf(nc.LocalAddr())
	}
	c.touch()
	return c
}

func (c *conn) touch() { c.active.Store(c.t.since()) }

func (c *conn) alive() bool { return c.ctx.Err() == nil }

// stop records why the connection ends (the first reason wins) and ends
// its context, which stops the writer and any dial under way.
func (c *conn) stop(err error) {
	c.once.Do(func() { c.err = err })
	c.cancel()
}

// close stops the connection and closes its socket, which ends its reader.
func (c *conn) close(err error) {
	c.stop(err)
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
}

// enqueue queues it for the writer; a full queue closes the connection.
func (c *conn) enqueue(it outItem) error {
	if !c.alive() {
		return ErrConnClosed
	}
	select {
	case c.queue <- it:
		return nil
	default:
	}
	c.t.stats.overflows.Add(1)
	c.t.log.Warn("write queue full, closing", "peer", c.peer)
	c.close(ErrQueueFull)
	return ErrQueueFull
}

// run is the connection's main goroutine: it connects if needed, starts the
// writer, reads until the connection ends, and reports it.
func (c *conn) run() {
	err := c.prepare()
	if err == nil {
		wdone := make(chan struct{})
		go c.writeLoop(wdone)
		if c.ws {
			err = c.readWS()
		} else {
			err = c.readStream()
		}
		c.stop(err)
		<-wdone
		c.goodbye()
	}
	c.stop(err)
	c.finish()
}

// prepare dials a connection this side opens, or completes the TLS
// handshake of an accepted one.
func (c *conn) prepare() error {
	if !c.alive() {
		return ErrConnClosed
	}
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc == nil {
		return c.connect(c.ctx)
	}
	tc, ok := nc.(*tls.Conn)
	if !ok || c.outbound || c.ws {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.t.cfg.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return nil
}

// connect dials the peer (TCP, then TLS's handshake, then the WebSocket
// upgrade) within DialTimeout, giving up when ctx or the connection ends.
func (c *conn) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.t.cfg.DialTimeout)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.peer.Addr.String())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDial, err)
	}
	if c.peer.Transport.Secure() {
		tc := tls.Client(nc, c.t.clientTLS(c.peer))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fmt.Errorf("%w: %w", ErrHandshake, err)
		}
		nc = tc
	}
	if c.ws {
		if err := c.upgrade(ctx, nc); err != nil {
			nc.Close()
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.alive() {
		nc.Close()
		return ErrConnClosed
	}
	c.nc, c.local = nc, addrPortOf(nc.LocalAddr())
	c.touch()
	c.t.log.Debug("connected", "peer", c.peer, "local", c.local)
	return nil
}

// clientTLS returns the configuration to dial peer with.
func (t *Transport) clientTLS(p effects.Peer) *tls.Config {
	cfg := &tls.Config{}
	if t.cfg.ClientTLS != nil {
		cfg = t.cfg.ClientTLS.Clone()
	}
	if cfg.ServerName == "" && t.cfg.ServerName != nil {
		cfg.ServerName = t.cfg.ServerName(p)
	}
	if cfg.ServerName == "" {
		cfg.ServerName = p.Addr.Addr().String()
	}
	if p.Transport == effects.WSS && cfg.NextProtos == nil {
		cfg.NextProtos = []string{"http/1.1"} // no HTTP/2: it cannot upgrade
	}
	return cfg
}

// finish closes the socket, takes the connection out of the tables and
// reports it.
func (c *conn) finish() {
	t := c.t
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	t.unregister(c)
	t.log.Debug("connection closed", "peer", c.peer, "err", c.err)
	if t.cfg.OnClose != nil {
		t.cfg.OnClose(c.peer.Conn, c.peer, c.err)
	}
	t.wg.Done()
}

// idle returns the idle timeout, or 0 when there is none.
func (c *conn) idle() time.Duration {
	if c.t.cfg.IdleTimeout < 0 {
		return 0
	}
	return c.t.cfg.IdleTimeout
}

// armRead sets the read deadline to the end of the idle period.
func (c *conn) armRead() {
	if d := c.idle(); d > 0 {
		c.nc.SetReadDeadline(c.t.epoch.Add(time.Duration(c.active.Load()) + d))
	}
}

// readFailed turns a read error into the reason the connection ends; it
// returns nil for a deadline that passed while the connection was busy
// writing, so the reader waits on.
func (c *conn) readFailed(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && c.idle() > 0 {
		if time.Duration(c.t.since()-c.active.Load()) < c.idle() {
			return nil
		}
		c.wsCode.Store(1001)
		return ErrIdle
	}
	return fmt.Errorf("%w: %w", ErrRead, err)
}

// readStream reads a TCP or TLS stream through a Framer.
func (c *conn) readStream() error {
	f := parser.Framer{Limits: c.t.cfg.Limits, Outbound: c.outbound}
	buf := make([]byte, readBufSize)
	for {
		c.armRead()
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.touch()
			f.Write(buf[:n])
			if err := c.frames(&f); err != nil {
				return err
			}
		}
		if err != nil {
			if err := c.readFailed(err); err != nil {
				return err
			}
		}
	}
}

// frames delivers every frame the Framer holds.
func (c *conn) frames(f *parser.Framer) error {
	for {
		fr, err := f.Next()
		if err != nil {
			c.t.stats.framing.Add(1)
			return fmt.Errorf("%w: %w", ErrFraming, err)
		}
		switch fr.Kind {
		case parser.None:
			return nil
		case parser.Message:
			c.t.deliver(Packet{Data: fr.Data, From: c.peer, Local: c.local})
		case parser.Ping:
			c.t.deliver(Packet{From: c.peer, Local: c.local, Ping: true})
		case parser.Pong:
			c.t.deliver(Packet{From: c.peer, Local: c.local, Pong: true})
		}
	}
}

// writeLoop writes the queue out until the connection ends, or, on
// Shutdown, until the queue is empty.
func (c *conn) writeLoop(done chan struct{}) {
	defer close(done)
	for {
		select {
		case it := <-c.queue:
			if err := c.write(it); err != nil {
				c.close(err)
				return
			}
		case <-c.ctx.Done():
			return
		case <-c.t.draining:
			c.flush()
			return
		}
	}
}

// flush writes what is queued and closes the connection (Shutdown).
func (c *conn) flush() {
	for {
		select {
		case it := <-c.queue:
			if err := c.write(it); err != nil {
				c.close(err)
				return
			}
		default:
			if c.ws {
				c.wsCode.Store(1001)
				c.goodbye()
			}
			c.close(ErrClosed)
			return
		}
	}
}

// write writes one queued item.
func (c *conn) write(it outItem) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.t.cfg.WriteTimeout))
	var err error
	if c.ws {
		err = c.writeFrame(it.op, it.data)
	} else {
		_, err = c.nc.Write(it.data)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	c.touch()
	if it.op == 0 {
		c.t.stats.sent(c.peer.Transport, len(it.data))
	}
	return nil
}
