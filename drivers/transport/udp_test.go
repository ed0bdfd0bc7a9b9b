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

func udpRoundTrip(t *testing.T, host string) {
	a, as := start(t, Config{})
	b, bs := start(t, Config{})
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

func TestUDPRoundTrip(t *testing.T) { udpRoundTrip(t, "127.0.0.1:0") }

func TestUDPRoundTripIPv6(t *testing.T) { udpRoundTrip(t, "[::1]:0") }

// TestUDPBatch sends 500 datagrams with SendBatch, 100 to a call (100
// small datagrams fit the smallest default Linux receive buffer, 208 KiB,
// should the system refuse UDPBuffer); on loopback they all arrive in
// normal conditions, and at least 99% must.
func TestUDPBatch(t *testing.T) {
	const n, chunk = 500, 100
	a, _ := start(t, Config{})
	b, bs := start(t, Config{})
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

func TestUDPOversizeDropped(t *testing.T) {
	b, bs := start(t, Config{Limits: parser.Limits{MaxMessageSize: 1000}})
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

func TestSendErrors(t *testing.T) {
	a, _ := start(t, Config{})
	v6 := effects.Peer{Addr: netip.MustParseAddrPort("[::1]:5060"), Transport: effects.UDP}
	must[netip.AddrPort](t)(a.ListenUDP("127.0.0.1:0"))
	cases := []struct {
		to   effects.Peer
		want error
	}{
		{v6, ErrNoSocket},
		{effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:5060"), Transport: effects.SCTP}, ErrUnsupported},
		{effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:5060"), Transport: effects.WS}, ErrNoConnection},
	}
	for _, c := range cases {
		if err := a.Send(c.to, sipMsg(1)); !errors.Is(err, c.want) {
			t.Errorf("send to %v: %v, want %v", c.to, err, c.want)
		}
	}
	if n := a.Stats().SendErrors; n != uint64(len(cases)) {
		t.Errorf("SendErrors %d", n)
	}
}

// TestUDPDualStack: a socket on the IPv6 wildcard serves both families.
func TestUDPDualStack(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr, err := b.ListenUDP("[::]:0")
	if err != nil {
		t.Skipf("no IPv6 wildcard: %v", err)
	}
	for _, host := range []string{"127.0.0.1", "::1"} {
		a, as := start(t, Config{})
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
func TestUDPHeldAnswers(t *testing.T) {
	const n = 50
	var echo *Transport
	echo = New(Config{UDPLinger: time.Millisecond, Handler: func(p Packet) {
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
	a, as := start(t, Config{})
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
	if s := echo.Stats().Of(effects.UDP); s.MsgsOut != n {
		t.Errorf("echo counted %d sent", s.MsgsOut)
	}
}
