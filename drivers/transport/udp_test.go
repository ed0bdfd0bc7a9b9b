package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/parser"
)

func udpRoundTrip(t *testing.T, host string, portable bool) {
	a, as := start(t, Config{UDPPortableIO: portable})
	b, bs := start(t, Config{UDPPortableIO: portable})
	aAddr, err := a.ListenUDP(host)
	if err != nil {
		t.Skipf("no UDP on %s: %v", host, err)
	}
	bAddr := must[netip.AddrPort](t)(b.ListenUDP(host))

	if err := a.Send(effects.Peer{Addr: bAddr, Transport: effects.UDP}, sipMsg(1)); err != nil {
		t.Fatal(err)
	}
	p := bs.next(t)
	if !bytes.Equal(p.Data, sipMsg(1)) || p.From != (effects.Peer{Addr: aAddr, Transport: effects.UDP}) || p.Local != bAddr {
		t.Fatalf("b got %q from %v on %v", p.Data, p.From, p.Local)
	}
	if err := b.Send(p.From, sipMsg(2)); err != nil {
		t.Fatal(err)
	}
	if p := as.next(t); !bytes.Equal(p.Data, sipMsg(2)) || p.From.Addr != bAddr {
		t.Fatalf("a got %q from %v", p.Data, p.From)
	}

	// A bare CRLFCRLF is a ping; a lone CRLF is ignored.
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.UDP}, []byte("\r\n"))
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.UDP}, []byte("\r\n\r\n"))
	if p := bs.next(t); !p.Ping || p.Data != nil || p.From.Addr != aAddr {
		t.Fatalf("want a ping, got %+v", p)
	}
	s := b.Stats().Of(effects.UDP)
	if s.MsgsIn != 1 || s.MsgsOut != 1 || s.KeepAlives != 2 || s.BytesIn != uint64(len(sipMsg(1))) {
		t.Errorf("stats %+v", s)
	}
}

func TestUDPRoundTrip(t *testing.T) {
	udpPaths(t, func(t *testing.T, portable bool) { udpRoundTrip(t, "127.0.0.1:0", portable) })
}

func TestUDPRoundTripIPv6(t *testing.T) {
	udpPaths(t, func(t *testing.T, portable bool) { udpRoundTrip(t, "[::1]:0", portable) })
}

// TestUDPBatch sends 500 datagrams with SendBatch, 100 to a call (100
// small datagrams fit the smallest default Linux receive buffer, 208 KiB,
// should the system refuse UDPBuffer); on loopback they all arrive in
// normal conditions, and at least 99% must.
func TestUDPBatch(t *testing.T) { udpPaths(t, testUDPBatch) }

func testUDPBatch(t *testing.T, portable bool) {
	const n, chunk = 500, 100
	a, _ := start(t, Config{UDPPortableIO: portable})
	b, bs := start(t, Config{UDPPortableIO: portable})
	must[netip.AddrPort](t)(a.ListenUDP("127.0.0.1:0"))
	bAddr := must[netip.AddrPort](t)(b.ListenUDP("127.0.0.1:0"))
	seen := map[string]bool{}
	for k := 0; k < n; k += chunk {
		out := make([]Outgoing, chunk)
		for i := range out {
			out[i] = Outgoing{To: effects.Peer{Addr: bAddr, Transport: effects.UDP}, Data: sipMsg(k + i)}
		}
		sent, err := a.SendBatch(out)
		if err != nil || sent != chunk {
			t.Fatalf("sent %d of %d: %v", sent, chunk, err)
		}
		deadline := time.After(time.Second)
	loop:
		for len(seen) < k+chunk {
			select {
			case p := <-bs.packets:
				seen[string(p.Data)] = true
			case <-deadline:
				break loop
			}
		}
	}
	t.Logf("%d of %d datagrams arrived", len(seen), n)
	if len(seen)*100 < n*99 {
		t.Fatalf("only %d of %d datagrams arrived", len(seen), n)
	}
	if s := a.Stats().Of(effects.UDP); s.MsgsOut != n {
		t.Errorf("a counted %d sent", s.MsgsOut)
	}
}

func TestUDPOversizeDropped(t *testing.T) { udpPaths(t, testUDPOversizeDropped) }

func testUDPOversizeDropped(t *testing.T, portable bool) {
	b, bs := start(t, Config{UDPPortableIO: portable, Limits: parser.Limits{MaxMessageSize: 1000}})
	bAddr := must[netip.AddrPort](t)(b.ListenUDP("127.0.0.1:0"))
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(bAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(strings.Repeat("x", 1001)))
	c.Write(sipMsg(1))
	if p := bs.next(t); !bytes.Equal(p.Data, sipMsg(1)) {
		t.Fatalf("got %q", p.Data)
	}
	if d := b.Stats().Drops; d != 1 {
		t.Errorf("drops %d, want 1", d)
	}
}

func TestSendErrors(t *testing.T) { udpPaths(t, testSendErrors) }

func testSendErrors(t *testing.T, portable bool) {
	a, _ := start(t, Config{UDPPortableIO: portable})
	v6 := effects.Peer{Addr: netip.MustParseAddrPort("[::1]:5060"), Transport: effects.UDP}
	must[netip.AddrPort](t)(a.ListenUDP("127.0.0.1:0"))
	big := bytes.Repeat([]byte("x"), parser.DefaultLimits.MaxMessageSize+1)
	cases := []struct {
		to   effects.Peer
		data []byte
		want error
	}{
		{v6, sipMsg(1), ErrNoSocket},
		{effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:5060"), Transport: effects.SCTP}, sipMsg(1), ErrUnsupported},
		// RFC 7118 §5: one SIP message per WebSocket message, bounded by
		// MaxWSFrame before any dial.
		{effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:5060"), Transport: effects.WS}, big, ErrTooLarge},
	}
	for _, c := range cases {
		if err := a.Send(c.to, c.data); !errors.Is(err, c.want) {
			t.Errorf("send to %v: %v, want %v", c.to, err, c.want)
		}
	}
	if n := a.Stats().SendErrors; n != uint64(len(cases)) {
		t.Errorf("SendErrors %d", n)
	}
}

// A datagram the kernel refuses (port 0: EINVAL on Linux) fails its Send
// and, in a batch, is skipped: the datagrams around it still go.
func TestUDPSendRefused(t *testing.T) { udpPaths(t, testUDPSendRefused) }

func testUDPSendRefused(t *testing.T, portable bool) {
	a, _ := start(t, Config{UDPPortableIO: portable})
	b, bs := start(t, Config{UDPPortableIO: portable})
	must[netip.AddrPort](t)(a.ListenUDP("127.0.0.1:0"))
	bAddr := must[netip.AddrPort](t)(b.ListenUDP("127.0.0.1:0"))
	bad := effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Transport: effects.UDP}
	if err := a.Send(bad, sipMsg(1)); err == nil {
		t.Fatal("a send to port 0 succeeded")
	}
	good := effects.Peer{Addr: bAddr, Transport: effects.UDP}
	n, err := a.SendBatch([]Outgoing{{good, sipMsg(2)}, {bad, sipMsg(3)}, {good, sipMsg(4)}})
	if n != 2 || err == nil {
		t.Fatalf("SendBatch: %d sent, error %v; want 2 and an error", n, err)
	}
	for _, want := range [][]byte{sipMsg(2), sipMsg(4)} {
		if p := bs.next(t); !bytes.Equal(p.Data, want) {
			t.Fatalf("got %q, want %q", p.Data, want)
		}
	}
	if s := a.Stats(); s.SendErrors != 2 || s.Of(effects.UDP).MsgsOut != 2 {
		t.Errorf("SendErrors %d, MsgsOut %d; want 2 and 2", s.SendErrors, s.Of(effects.UDP).MsgsOut)
	}
}

// TestUDPDualStack: a socket on the IPv6 wildcard serves both families.
func TestUDPDualStack(t *testing.T) { udpPaths(t, testUDPDualStack) }

func testUDPDualStack(t *testing.T, portable bool) {
	b, bs := start(t, Config{UDPPortableIO: portable})
	bAddr, err := b.ListenUDP("[::]:0")
	if err != nil {
		t.Skipf("no IPv6 wildcard: %v", err)
	}
	for _, host := range []string{"127.0.0.1", "::1"} {
		a, as := start(t, Config{UDPPortableIO: portable})
		aAddr, err := a.ListenUDP(net.JoinHostPort(host, "0"))
		if err != nil {
			t.Logf("skipping %s: %v", host, err)
			continue
		}
		to := effects.Peer{Addr: netip.AddrPortFrom(netip.MustParseAddr(host), bAddr.Port()), Transport: effects.UDP}
		a.Send(to, sipMsg(1))
		p := bs.next(t)
		if p.From.Addr != aAddr {
			t.Fatalf("from %v, want %v", p.From.Addr, aAddr)
		}
		// Both the single send and the batched one reach the peer.
		b.Send(p.From, sipMsg(2))
		if n, err := b.SendBatch([]Outgoing{{To: p.From, Data: sipMsg(3)}}); n != 1 || err != nil {
			t.Fatalf("SendBatch: %d, %v", n, err)
		}
		for _, want := range [][]byte{sipMsg(2), sipMsg(3)} {
			if got := as.next(t); !bytes.Equal(got.Data, want) {
				t.Fatalf("%s got %q", host, got.Data)
			}
		}
	}
}

// Answers sent from the Handler while a read batch is handled are held
// and written together after it; with UDPLinger the reader waits after a
// thin batch. Every answer still arrives, in order per sender.
func TestUDPHeldAnswers(t *testing.T) { udpPaths(t, testUDPHeldAnswers) }

func testUDPHeldAnswers(t *testing.T, portable bool) {
	const n = 50
	var echo *Transport
	echo = New(Config{UDPPortableIO: portable, UDPLinger: time.Millisecond, Handler: func(p Packet) {
		if p.Data != nil {
			echo.Send(p.From, p.Data) // held until the batch is done
		}
	}})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		echo.Shutdown(ctx)
	})
	eAddr := must[netip.AddrPort](t)(echo.ListenUDP("127.0.0.1:0"))
	a, as := start(t, Config{UDPPortableIO: portable})
	must[netip.AddrPort](t)(a.ListenUDP("127.0.0.1:0"))
	for i := range n {
		if err := a.Send(effects.Peer{Addr: eAddr, Transport: effects.UDP}, sipMsg(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if p := as.next(t); !bytes.Equal(p.Data, sipMsg(i)) {
			t.Fatalf("answer %d: %q", i, p.Data)
		}
	}
	// The echo counts a batch once its system call returns, which may be
	// after the answers arrived.
	for deadline := time.Now().Add(wait); echo.Stats().Of(effects.UDP).MsgsOut != n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if s := echo.Stats().Of(effects.UDP); s.MsgsOut != n {
		t.Errorf("echo counted %d sent", s.MsgsOut)
	}
}

// udpPaths runs f over each UDP input/output path this platform has:
// golang.org/x/net's batch calls, and the raw system calls (Linux amd64
// and arm64).
func udpPaths(t *testing.T, f func(t *testing.T, portable bool)) {
	t.Run("xnet", func(t *testing.T) { f(t, true) })
	if rawUDP {
		t.Run("raw", func(t *testing.T) { f(t, false) })
	}
}
