package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/parser"
)

func TestTCPSplitWrites(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	nc := dialRaw(t, bAddr)
	nc.(*net.TCPConn).SetNoDelay(true)
	m := sipMsg(1)
	for i := range m {
		if _, err := nc.Write(m[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	p := bs.next(t)
	if !bytes.Equal(p.Data, m) || p.From.Transport != effects.TCP || p.From.Conn == 0 ||
		p.From.Addr != addrPortOf(nc.LocalAddr()) || p.Local != bAddr {
		t.Fatalf("got %q from %v on %v", p.Data, p.From, p.Local)
	}
	// Two messages in one write.
	nc.Write(append(sipMsg(2), sipMsg(3)...))
	for _, want := range [][]byte{sipMsg(2), sipMsg(3)} {
		if p := bs.next(t); !bytes.Equal(p.Data, want) {
			t.Fatalf("got %q, want %q", p.Data, want)
		}
	}
	if s := b.Stats().Of(effects.TCP); s.MsgsIn != 3 {
		t.Errorf("stats %+v", s)
	}
}

// TestTCPFramingError: a connection that breaks the framing is closed, and
// only that one.
func TestTCPFramingError(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	good, bad := dialRaw(t, bAddr), dialRaw(t, bAddr)
	good.Write(sipMsg(1))
	goodID := bs.next(t).From.Conn
	bad.Write([]byte("OPTIONS sip:x SIP/2.0\r\nContent-Length: -3\r\n\r\n"))
	e := bs.closed(t)
	if !errors.Is(e.err, ErrFraming) || e.id == goodID || e.peer.Addr != addrPortOf(bad.LocalAddr()) {
		t.Fatalf("closed %v %v: %v", e.id, e.peer, e.err)
	}
	if _, err := bad.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("bad connection read: %v", err)
	}
	good.Write(sipMsg(2))
	if p := bs.next(t); !bytes.Equal(p.Data, sipMsg(2)) || p.From.Conn != goodID {
		t.Fatalf("good connection: %q on %v", p.Data, p.From)
	}
	if err := b.Send(effects.Peer{Addr: addrPortOf(good.LocalAddr()), Transport: effects.TCP, Conn: goodID}, sipMsg(3)); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, good, len(sipMsg(3))); !bytes.Equal(got, sipMsg(3)) {
		t.Fatalf("good connection read %q", got)
	}
	if n := b.Stats().FramingErrors; n != 1 {
		t.Errorf("FramingErrors %d", n)
	}
}

// TestTCPPing: a CRLFCRLF ping reaches the owner, who answers with a pong
// on the connection.
func TestTCPPing(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	nc := dialRaw(t, bAddr)
	nc.Write([]byte("\r\n\r\n"))
	p := bs.next(t)
	if !p.Ping || p.Data != nil {
		t.Fatalf("want a ping, got %+v", p)
	}
	if err := b.Send(p.From, []byte("\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, nc, 2); string(got) != "\r\n" {
		t.Fatalf("pong %q", got)
	}
}

// TestTCPPong: on a connection this side dialled, a CRLF is a pong.
func TestTCPPong(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, as := start(t, Config{})
	if err := a.Send(effects.Peer{Addr: addrPortOf(ln.Addr()), Transport: effects.TCP}, []byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(wait))
	if got := readN(t, nc, 4); string(got) != "\r\n\r\n" {
		t.Fatalf("ping %q", got)
	}
	nc.Write([]byte("\r\n"))
	if p := as.next(t); !p.Pong {
		t.Fatalf("want a pong, got %+v", p)
	}
}

func TestIdleTimeout(t *testing.T) {
	b, bs := start(t, Config{IdleTimeout: 100 * time.Millisecond})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	nc := dialRaw(t, bAddr)
	nc.Write(sipMsg(1))
	id := bs.next(t).From.Conn
	began := time.Now()
	e := bs.closed(t)
	if e.id != id || !errors.Is(e.err, ErrIdle) {
		t.Fatalf("closed %v: %v", e.id, e.err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after idle close: %v", err)
	}
	if b.Conns() != 0 {
		t.Errorf("%d connections left", b.Conns())
	}
}

func TestMaxConns(t *testing.T) {
	b, bs := start(t, Config{MaxConns: 2})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	for i := range 2 {
		nc := dialRaw(t, bAddr)
		nc.Write(sipMsg(i))
		bs.next(t)
	}
	third := dialRaw(t, bAddr)
	third.Write(sipMsg(3))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("the third connection was served")
	}
	bs.none(t, 50*time.Millisecond)
	// Dialling out is refused too.
	err := b.Send(effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Transport: effects.TCP}, sipMsg(4))
	if !errors.Is(err, ErrTooManyConns) {
		t.Fatalf("dial past MaxConns: %v", err)
	}
	if s := b.Stats(); s.ConnsRefused != 2 || s.ConnsOpen != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestConnReuse: answers and new requests to a peer that connected to us
// go on its connection; a connection we dialled is reused and carries the
// answers back.
func TestConnReuse(t *testing.T) {
	a, as := start(t, Config{})
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	must[netip.AddrPort](t)(a.ListenTCP("127.0.0.1:0"))

	to := effects.Peer{Addr: bAddr, Transport: effects.TCP}
	a.Send(to, sipMsg(1))
	p := bs.next(t)
	a.Send(to, sipMsg(2))
	if p2 := bs.next(t); p2.From != p.From {
		t.Fatalf("second message came from %v, first from %v", p2.From, p.From)
	}
	// b answers on the connection, then sends a new request to the
	// address alone: both go on the accepted connection.
	b.Send(p.From, sipMsg(3))
	b.Send(effects.Peer{Addr: p.From.Addr, Transport: effects.TCP}, sipMsg(4))
	r1, r2 := as.next(t), as.next(t)
	if !bytes.Equal(r1.Data, sipMsg(3)) || !bytes.Equal(r2.Data, sipMsg(4)) || r1.From != r2.From || r1.From.Addr != bAddr {
		t.Fatalf("a got %q from %v, %q from %v", r1.Data, r1.From, r2.Data, r2.From)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.ConnsDialled != 1 || sa.ConnsAccepted != 0 || sb.ConnsDialled != 0 || sb.ConnsAccepted != 1 {
		t.Errorf("a %+v, b %+v", sa, sb)
	}
	// A named connection that closed: the address is used instead.
	if !b.Close(p.From.Conn) {
		t.Fatal("Close found no connection")
	}
	if e := bs.closed(t); e.id != p.From.Conn || !errors.Is(e.err, ErrLocalClose) {
		t.Fatalf("closed %v: %v", e.id, e.err)
	}
	if e := as.closed(t); e.id != r1.From.Conn || !errors.Is(e.err, io.EOF) {
		t.Fatalf("a saw %v close: %v", e.id, e.err)
	}
}

func TestDial(t *testing.T) {
	a, as := start(t, Config{})
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	id, err := a.Dial(ctx, effects.Peer{Addr: bAddr, Transport: effects.TCP})
	if err != nil {
		t.Fatal(err)
	}
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.TCP}, sipMsg(1))
	p := bs.next(t)
	b.Send(p.From, sipMsg(2))
	if r := as.next(t); r.From.Conn != id {
		t.Fatalf("answer came on %v, dialled %v", r.From, id)
	}

	// A port nobody listens on: the dial fails, and says so.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := addrPortOf(ln.Addr())
	ln.Close()
	if _, err := a.Dial(ctx, effects.Peer{Addr: dead, Transport: effects.TCP}); !errors.Is(err, ErrDial) {
		t.Fatalf("Dial to a closed port: %v", err)
	}
	as.closed(t)
	if err := a.Send(effects.Peer{Addr: dead, Transport: effects.TCP}, sipMsg(3)); err != nil {
		t.Fatalf("Send queues while dialling: %v", err)
	}
	if e := as.closed(t); !errors.Is(e.err, ErrDial) || e.peer.Addr != dead {
		t.Fatalf("closed %v: %v", e.peer, e.err)
	}
}

// TestQueueOverflow: a peer that reads nothing fills its own queue; its
// connection is closed and reported, and other connections carry on.
func TestQueueOverflow(t *testing.T) {
	b, bs := start(t, Config{WriteQueue: 4})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	slow, fast := dialRaw(t, bAddr), dialRaw(t, bAddr)
	slow.Write(sipMsg(1))
	ps := bs.next(t)
	fast.Write(sipMsg(2))
	pf := bs.next(t)
	big := bytes.Repeat([]byte("x"), 60000)
	var err error
	for i := 0; i < 5000 && err == nil; i++ {
		err = b.Send(ps.From, big)
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send to a stalled peer: %v", err)
	}
	if e := bs.closed(t); e.id != ps.From.Conn || !errors.Is(e.err, ErrQueueFull) {
		t.Fatalf("closed %v: %v", e.id, e.err)
	}
	if err := b.Send(pf.From, sipMsg(3)); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, fast, len(sipMsg(3))); !bytes.Equal(got, sipMsg(3)) {
		t.Fatalf("fast peer read %q", got)
	}
	if n := b.Stats().QueueOverflows; n != 1 {
		t.Errorf("QueueOverflows %d", n)
	}
}

func TestTCPIPv6(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr, err := b.ListenTCP("[::1]:0")
	if err != nil {
		t.Skipf("no ::1: %v", err)
	}
	a, as := start(t, Config{})
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.TCP}, sipMsg(1))
	p := bs.next(t)
	if !p.From.Addr.Addr().Is6() {
		t.Fatalf("from %v", p.From)
	}
	b.Send(p.From, sipMsg(2))
	as.next(t)
}

// TestTCPTooLarge: a message over Limits.MaxMessageSize closes its
// connection before it is all buffered.
func TestTCPTooLarge(t *testing.T) {
	b, bs := start(t, Config{Limits: parser.Limits{MaxMessageSize: 1000}})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	nc := dialRaw(t, bAddr)
	nc.Write([]byte("OPTIONS sip:x SIP/2.0\r\nContent-Length: 5000\r\n\r\n"))
	e := bs.closed(t)
	if !errors.Is(e.err, ErrFraming) || !errors.Is(e.err, parser.ErrLimit) {
		t.Fatalf("closed with %v", e.err)
	}
}

// TestConcurrentSends: sends to one peer from many goroutines at once make
// one connection, and every message arrives whole.
func TestConcurrentSends(t *testing.T) {
	const senders, each = 8, 25
	a, _ := start(t, Config{WriteQueue: senders * each}) // all may queue while dialling
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	to := effects.Peer{Addr: bAddr, Transport: effects.TCP}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := a.Send(to, sipMsg(g*each+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range senders * each {
		seen[string(bs.next(t).Data)] = true
	}
	if len(seen) != senders*each {
		t.Fatalf("%d distinct messages", len(seen))
	}
	if n := a.Stats().ConnsDialled; n != 1 {
		t.Fatalf("%d connections dialled", n)
	}
}

// TestConnIDOfAnotherAddress: a connection id that names a live
// connection to another address (a flow recorded by an earlier run or
// another node, in a shared location store) is not used: the message goes
// to its address, never to the client the id happens to name here.
func TestConnIDOfAnotherAddress(t *testing.T) {
	a, as := start(t, Config{})
	aAddr := must[netip.AddrPort](t)(a.ListenTCP("127.0.0.1:0"))
	b, _ := start(t, Config{})
	c, cs := start(t, Config{})
	cAddr := must[netip.AddrPort](t)(c.ListenTCP("127.0.0.1:0"))
	// b connects to a: a knows that connection by an id.
	b.Send(effects.Peer{Addr: aAddr, Transport: effects.TCP}, sipMsg(1))
	fromB := as.next(t).From
	// A send to c's address carrying the id of b's connection goes to c.
	a.Send(effects.Peer{Addr: cAddr, Transport: effects.TCP, Conn: fromB.Conn}, sipMsg(2))
	if p := cs.next(t); !bytes.Equal(p.Data, sipMsg(2)) {
		t.Fatalf("c got %q", p.Data)
	}
	if a.Stats().ConnsDialled != 1 {
		t.Errorf("a dialled %d connections, want 1 (to c)", a.Stats().ConnsDialled)
	}
}
