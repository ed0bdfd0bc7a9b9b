package transport

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/sansip/sansip/effects"
)

// TestWSOversizeIsolated: a client closed with 1009 for an oversized
// message (RFC 6455 §7.4.1) takes no other client with it: a client
// connected before and one connecting after still exchange messages both
// ways.
func TestWSOversizeIsolated(t *testing.T) {
	b, bs := start(t, Config{MaxWSFrame: 1000})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	exchange := func(c *wsClient, n int) {
		t.Helper()
		c.frame(t, true, opText, sipMsg(n))
		p := bs.next(t)
		if !bytes.Equal(p.Data, sipMsg(n)) || p.From.Transport != effects.WS {
			t.Fatalf("server got %q from %v", p.Data, p.From)
		}
		if err := b.Send(p.From, sipMsg(n+1)); err != nil {
			t.Fatal(err)
		}
		if op, got := c.read(t); op != opText || !bytes.Equal(got, sipMsg(n+1)) {
			t.Fatalf("client got op %d %q", op, got)
		}
	}
	before, _ := dialWS(t, bAddr, nil, "/", "sip")
	exchange(before, 1)
	bad, _ := dialWS(t, bAddr, nil, "/", "sip")
	bad.frame(t, true, opText, bytes.Repeat([]byte("x"), 1200))
	if op, got := bad.read(t); op != opClose || binary.BigEndian.Uint16(got) != closeTooBig {
		t.Fatalf("want close 1009, got op %d % x", op, got)
	}
	bs.closed(t)
	exchange(before, 3)
	after, _ := dialWS(t, bAddr, nil, "/", "sip")
	exchange(after, 5)
	if n := b.Conns(); n != 2 {
		t.Errorf("%d connections open, want 2", n)
	}
}
