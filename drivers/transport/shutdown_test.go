package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// TestShutdown: Shutdown writes what is queued, closes every socket and
// connection, reports each, and leaves no goroutine behind.
func TestShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	pk := newPKI(t)
	s := newSink()
	b := New(Config{Handler: s.handle, OnClose: s.onClose, TLS: &pk.server, ClientTLS: &tls.Config{RootCAs: pk.roots}})
	udp := must[netip.AddrPort](t)(b.ListenUDP("127.0.0.1:0"))
	tcp := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	tlsAddr := must[netip.AddrPort](t)(b.ListenTLS("127.0.0.1:0"))
	ws := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	must[netip.AddrPort](t)(b.ListenWSS("127.0.0.1:0", "/"))

	raw := dialRaw(t, tcp)
	raw.Write(sipMsg(1))
	p := s.next(t)
	wc, _ := dialWS(t, ws, nil, "/", "sip")
	wc.frame(t, true, opText, sipMsg(2))
	s.next(t)
	b.Send(effects.Peer{Addr: tlsAddr, Transport: effects.TLS}, sipMsg(3)) // b dials itself
	s.next(t)
	b.Send(effects.Peer{Addr: udp, Transport: effects.UDP}, sipMsg(4))
	s.next(t)
	if n := b.Conns(); n != 4 {
		t.Fatalf("%d connections open, want 4", n)
	}

	// Queued just before Shutdown: still written.
	b.Send(p.From, sipMsg(5))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, raw, len(sipMsg(5))); !bytes.Equal(got, sipMsg(5)) {
		t.Fatalf("read %q", got)
	}
	if _, err := raw.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after shutdown: %v", err)
	}
	if op, got := wc.read(t); op != opClose || !bytes.Equal(got, []byte{0x03, 0xe9}) {
		t.Errorf("WebSocket got op %d % x, want close 1001", op, got)
	}
	for range 4 {
		s.closed(t)
	}
	if err := b.Send(effects.Peer{Addr: udp, Transport: effects.UDP}, sipMsg(6)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Shutdown: %v", err)
	}
	if _, err := b.ListenUDP("127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("ListenUDP after Shutdown: %v", err)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if st := b.Stats(); st.ConnsOpen != 0 {
		t.Errorf("stats %+v", st)
	}

	deadline := time.Now().Add(wait)
	n := runtime.NumGoroutine()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestShutdownDeadline: a connection that cannot flush is closed when the
// context ends.
func TestShutdownDeadline(t *testing.T) {
	b, bs := start(t, Config{WriteQueue: 1024})
	bAddr := must[netip.AddrPort](t)(b.ListenTCP("127.0.0.1:0"))
	slow := dialRaw(t, bAddr)
	slow.Write(sipMsg(1))
	p := bs.next(t)
	big := bytes.Repeat([]byte("x"), 60000)
	for range 500 { // 30 MB: more than the socket buffers hold
		if err := b.Send(p.From, big); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if e := bs.closed(t); e.id != p.From.Conn {
		t.Fatalf("closed %v", e.id)
	}
}
