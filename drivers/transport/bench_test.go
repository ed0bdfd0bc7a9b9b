package transport

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// counter counts packets and wakes a waiter.
type counter struct {
	n    atomic.Int64
	wake chan struct{}
}

func newCounter() *counter { return &counter{wake: make(chan struct{}, 1)} }

func (c *counter) handle(Packet) {
	c.n.Add(1)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// waitFor waits until at least n packets arrived, or for a second without
// progress; it reports whether they all came.
func (c *counter) waitFor(n int64) bool {
	for c.n.Load() < n {
		select {
		case <-c.wake:
		case <-time.After(time.Second):
			return c.n.Load() >= n
		}
	}
	return true
}

func shutdown(tr *Transport) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	tr.Shutdown(ctx)
}

// BenchmarkUDPRoundTrip: a client sends batches of 64 requests with
// SendBatch to an echo server on loopback, keeping at most 256 in flight;
// one op is one message there and back.
func BenchmarkUDPRoundTrip(b *testing.B) {
	const batch, window = 64, 256
	var echo *Transport
	echo = New(Config{Handler: func(p Packet) { echo.Send(p.From, p.Data) }})
	defer shutdown(echo)
	eAddr, err := echo.ListenUDP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	got := newCounter()
	client := New(Config{Handler: got.handle})
	defer shutdown(client)
	if _, err := client.ListenUDP("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	msg := sipMsg(1)
	out := make([]Outgoing, batch)
	for i := range out {
		out[i] = Outgoing{To: effects.Peer{Addr: eAddr, Transport: effects.UDP}, Data: msg}
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		k := min(batch, b.N-sent)
		n, _ := client.SendBatch(out[:k])
		sent += n
		if !got.waitFor(int64(sent - window)) {
			break
		}
	}
	got.waitFor(int64(sent))
	b.StopTimer()
	lost := sent - int(got.n.Load())
	b.ReportMetric(float64(lost)/float64(max(sent, 1))*100, "%lost")
}

// BenchmarkTCPFraming: a client streams requests over one TCP connection,
// 64 to a write; the server frames each and hands it up. One op is one
// message.
func BenchmarkTCPFraming(b *testing.B) {
	got := newCounter()
	srv := New(Config{Handler: got.handle})
	defer shutdown(srv)
	addr, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	msg := sipMsg(1)
	chunk := bytes.Repeat(msg, 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += 64 {
		k := min(64, b.N-sent)
		if _, err := nc.Write(chunk[:k*len(msg)]); err != nil {
			b.Fatal(err)
		}
	}
	if !got.waitFor(int64(b.N)) {
		b.Fatalf("%d of %d messages framed", got.n.Load(), b.N)
	}
}
