package txn

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

func events(effs []effects.Effect) []effects.Event {
	var out []effects.Event
	for _, e := range effs {
		if e.Kind == effects.Deliver {
			out = append(out, e.Event)
		}
	}
	return out
}

func parse(t *testing.T, s string) *message.Message {
	t.Helper()
	m, err := message.ParseString(strings.ReplaceAll(s, "\n", "\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// §17.2.3: branch, sent-by and method identify a server transaction.
func TestServerMatching(t *testing.T) {
	h := newHarness(t, Config{})
	inv := request("INVITE", effects.UDP, ident.Seeded(1))
	ev := events(h.receive(inv, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnRequest {
		t.Fatalf("events %v", ev)
	}
	id := ev[0].ID

	// The same branch from another sent-by is another transaction.
	other := inv.Clone()
	v := other.TopVia()
	v.Host = "198.51.100.9"
	other.ReplaceTopVia(v)
	ev = events(h.receive(other, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnRequest || ev[0].ID == id {
		t.Fatalf("another sent-by: %v", ev)
	}

	// A CANCEL with the INVITE's branch finds it (§9.2), in its own
	// transaction.
	cancel, err := message.CancelFor(inv)
	if err != nil {
		t.Fatal(err)
	}
	ev = events(h.receive(cancel, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnCancel || ev[0].Ref != id || ev[0].ID == id {
		t.Fatalf("CANCEL: %+v", ev)
	}
	cancelID := ev[0].ID
	// The CANCEL retransmitted is absorbed by its own transaction.
	if ev = events(h.receive(cancel, alice)); len(ev) != 0 {
		t.Fatalf("CANCEL retransmission: %v", ev)
	}
	h.respond(cancelID, response(cancel, 200))
	if got := describeAll(h.receive(cancel, alice)); !cmp.Equal(got, []string{"send 200"}) {
		t.Errorf("CANCEL retransmission after 200: %v", got)
	}

	// A CANCEL that matches no INVITE is handed up with no Ref (the TU
	// answers 481).
	stray := request("INVITE", effects.UDP, ident.Seeded(2))
	cancel2, _ := message.CancelFor(stray)
	ev = events(h.receive(cancel2, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnCancel || ev[0].Ref != 0 {
		t.Fatalf("CANCEL without INVITE: %+v", ev)
	}

	// An ACK for a 2xx has its own branch: handed up, matching nothing.
	h.respond(id, response(inv, 200))
	ack, _ := message.AckFor(inv, response(inv, 200))
	v = ack.TopVia()
	v.Params = v.Params.With("branch", "z9hG4bKack2xx")
	ack.ReplaceTopVia(v)
	ev = events(h.receive(ack, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnAck || ev[0].Ref != 0 {
		t.Fatalf("ACK for 2xx: %+v", ev)
	}
}

// §17.2.3: a request whose branch lacks the magic cookie (RFC 2543) matches
// by Request-URI, Call-ID, From tag, CSeq and top Via; its ACK matches only
// with the To tag of our final response.
func TestRFC2543Matching(t *testing.T) {
	h := newHarness(t, Config{})
	inv := parse(t, `INVITE sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: legacy-1
CSeq: 7 INVITE
Contact: <sip:alice@192.0.2.1>
Content-Length: 0

`)
	ev := events(h.receive(inv, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnRequest {
		t.Fatalf("events %v", ev)
	}
	id := ev[0].ID
	if ev = events(h.receive(inv, alice)); len(ev) != 0 {
		t.Fatalf("retransmission not absorbed: %v", ev)
	}
	// The same request with another CSeq is another transaction.
	next := inv.Clone()
	next.Set("CSeq", "8 INVITE")
	if ev = events(h.receive(next, alice)); len(ev) != 1 || ev[0].ID == id {
		t.Fatalf("new CSeq: %v", ev)
	}
	busy := response(inv, 486)
	h.respond(id, busy)
	// An ACK with another To tag acknowledges something else.
	wrong := parse(t, `ACK sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=other
Call-ID: legacy-1
CSeq: 7 ACK
Content-Length: 0

`)
	if ev = events(h.receive(wrong, alice)); len(ev) != 1 || ev[0].Kind != effects.TxnAck {
		t.Fatalf("ACK with another tag: %v", ev)
	}
	ack, _ := message.AckFor(inv, busy)
	h.receive(ack, alice)
	if _, st, _ := h.l.State(id); st != Confirmed {
		t.Fatalf("state %v, want Confirmed", st)
	}
}

// §17.1.3: a response matches the client transaction whose branch and CSeq
// method it carries.
func TestClientMatching(t *testing.T) {
	h := newHarness(t, Config{})
	inv := request("INVITE", effects.UDP, ident.Seeded(1))
	id, _ := h.newClient(inv, bob)
	h.receive(response(inv, 180), bob)
	cancel, _ := message.CancelFor(inv)
	cid, _ := h.newClient(cancel, bob)
	// The 200 for the CANCEL carries the INVITE's branch but method
	// CANCEL: it is the CANCEL's.
	ev := events(h.receive(response(cancel, 200), bob))
	if len(ev) < 1 || ev[0].Kind != effects.TxnResponse || ev[0].ID != cid {
		t.Fatalf("CANCEL 200: %+v", ev)
	}
	ev = events(h.receive(response(inv, 487), bob))
	if len(ev) < 1 || ev[0].ID != id || ev[0].Msg.StatusCode() != 487 {
		t.Fatalf("487: %+v", ev)
	}
	// A response with a branch nobody sent is stray.
	other := request("INVITE", effects.UDP, ident.Seeded(9))
	ev = events(h.receive(response(other, 200), bob))
	if len(ev) != 1 || ev[0].Kind != effects.TxnStray {
		t.Fatalf("stray: %+v", ev)
	}
	// A second client transaction with the same branch and method is
	// refused.
	if _, _, err := h.l.NewClient(h.now, cancel, bob, nil); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	ack, _ := message.AckFor(inv, response(inv, 487))
	if _, _, err := h.l.NewClient(h.now, ack, bob, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("ACK as a transaction: %v", err)
	}
}

// The table has a bound: past it, 503 with Retry-After (never unbounded
// memory), and NewClient fails.
func TestTableBound(t *testing.T) {
	h := newHarness(t, Config{MaxTransactions: 2, RetryAfter: 30})
	gen := ident.Seeded(3)
	for i := 0; i < 2; i++ {
		if ev := events(h.receive(request("OPTIONS", effects.UDP, gen), alice)); len(ev) != 1 {
			t.Fatalf("request %d: %v", i, ev)
		}
	}
	over := request("OPTIONS", effects.UDP, gen)
	got := h.receive(over, alice)
	if len(got) != 1 || got[0].Kind != effects.Send || got[0].Msg.StatusCode() != 503 {
		t.Fatalf("over the bound: %v", describeAll(got))
	}
	ra, ok, err := message.First[header.RetryAfter](got[0].Msg)
	if err != nil || !ok || ra.Delta != 30 {
		t.Errorf("Retry-After %v %v %v", ra, ok, err)
	}
	// The same request again gets the same stateless answer (same tag).
	again := h.receive(over, alice)
	if again[0].Msg.ToTag() != got[0].Msg.ToTag() {
		t.Errorf("stateless tag differs: %q %q", again[0].Msg.ToTag(), got[0].Msg.ToTag())
	}
	if _, _, err := h.l.NewClient(h.now, request("OPTIONS", effects.UDP, gen), bob, nil); !errors.Is(err, ErrOverload) {
		t.Errorf("NewClient over the bound: %v", err)
	}
	if h.l.Len() != 2 {
		t.Errorf("Len %d", h.l.Len())
	}
}

// §18.2.1 and RFC 3581: the server records where the request came from;
// responses go back there.
func TestReceivedAndRport(t *testing.T) {
	h := newHarness(t, Config{})
	from := effects.Peer{Addr: netip.MustParseAddrPort("198.51.100.7:33333"), Transport: effects.UDP}
	req := parse(t, `OPTIONS sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: nat-1
CSeq: 1 OPTIONS
Content-Length: 0

`)
	ev := events(h.receive(req, from))
	got := ev[0].Msg.TopVia()
	if got.Received() != "198.51.100.7" {
		t.Errorf("received %q", got.Received())
	}
	if p, ok := got.RPort(); !ok || p != 33333 {
		t.Errorf("rport %d %v", p, ok)
	}
	out := h.respond(ev[0].ID, response(ev[0].Msg, 200))
	if out[0].To.Addr != from.Addr {
		t.Errorf("response to %v, want %v", out[0].To, from.Addr)
	}
	if v := out[0].Msg.TopVia(); v.Received() != "198.51.100.7" {
		t.Errorf("response Via %v", v)
	}

	// Without rport, the response goes to the source address at the
	// sent-by port; a matching sent-by gets no received parameter.
	plain := parse(t, `OPTIONS sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKplain
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: plain-1
CSeq: 1 OPTIONS
Content-Length: 0

`)
	ev = events(h.receive(plain, from))
	if ev[0].Msg.TopVia().Received() != "" {
		t.Errorf("received added to a matching sent-by")
	}
	out = h.respond(ev[0].ID, response(ev[0].Msg, 200))
	if out[0].To.Addr != netip.MustParseAddrPort("198.51.100.7:5070") {
		t.Errorf("response to %v", out[0].To)
	}
	// Over TCP the response goes back on the connection.
	tcp := effects.Peer{Addr: from.Addr, Transport: effects.TCP, Conn: 42}
	ev = events(h.receive(request("OPTIONS", effects.TCP, ident.Seeded(5)), tcp))
	out = h.respond(ev[0].ID, response(ev[0].Msg, 200))
	if out[0].To != tcp {
		t.Errorf("TCP response to %v", out[0].To)
	}
}

func TestMalformedAndKeepAlive(t *testing.T) {
	h := newHarness(t, Config{})
	bad := []byte("OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: \"unterminated <sip:b@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n")
	got := h.take(h.l.Handle(effects.Input{Kind: effects.Received, Data: bad, From: alice}, nil))
	if len(got) != 1 || got[0].Kind != effects.Send || got[0].Msg.StatusCode() != 400 {
		t.Fatalf("malformed request: %v", describeAll(got))
	}
	if h.l.Len() != 0 {
		t.Errorf("a malformed request made a transaction")
	}
	got = h.take(h.l.Handle(effects.Input{Kind: effects.Received, Data: []byte("garbage"), From: alice}, nil))
	if len(got) != 0 {
		t.Errorf("garbage: %v", describeAll(got))
	}
	got = h.take(h.l.Handle(effects.Input{Kind: effects.KeepAlive, From: alice}, nil))
	if len(got) != 1 || string(got[0].Data) != "\r\n" || got[0].To != alice {
		t.Errorf("keep-alive: %v", describeAll(got))
	}
}

func TestConnClosedAndStaleTimers(t *testing.T) {
	h := newHarness(t, Config{})
	tcp := onTransport(bob, effects.TCP)
	req := request("OPTIONS", effects.TCP, ident.Seeded(1))
	id, _ := h.newClient(req, tcp)
	got := h.take(h.l.Handle(effects.Input{Kind: effects.ConnClosed, Conn: tcp.Conn}, nil))
	if d := cmp.Diff([]string{"transport-error", "cancel F", "terminated"}, describeAll(got)); d != "" {
		t.Fatalf("conn closed (-want +got):\n%s", d)
	}
	// A timer of a transaction that ended is ignored.
	got = h.l.Handle(effects.Input{Kind: effects.TimerFired, Timer: timerID(id, TimerF)}, nil)
	if len(got) != 0 {
		t.Errorf("stale timer: %v", describeAll(got))
	}
	// Respond to a transaction that ended, or to a client transaction, or
	// with a response for another request, fails.
	if _, err := h.l.Respond(0, id, response(req, 200), nil); !errors.Is(err, ErrNoTransaction) {
		t.Errorf("respond to ended: %v", err)
	}
	cid, _ := h.newClient(request("OPTIONS", effects.UDP, ident.Seeded(2)), bob)
	if _, err := h.l.Respond(0, cid, response(req, 200), nil); !errors.Is(err, ErrState) {
		t.Errorf("respond to client: %v", err)
	}
	ev := events(h.receive(request("INVITE", effects.UDP, ident.Seeded(3)), alice))
	if _, err := h.l.Respond(0, ev[0].ID, response(req, 200), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("response to another request: %v", err)
	}
	h.respond(ev[0].ID, response(ev[0].Msg, 486))
	if _, err := h.l.Respond(0, ev[0].ID, response(ev[0].Msg, 200), nil); !errors.Is(err, ErrState) {
		t.Errorf("a second final response: %v", err)
	}
}

// §8.2.6.1: the 100 the INVITE server transaction sends copies Timestamp
// with the delay.
func TestTryingTimestamp(t *testing.T) {
	h := newHarness(t, Config{})
	inv := request("INVITE", effects.UDP, ident.Seeded(1))
	inv.Add("Timestamp", "54")
	ev := events(h.receive(inv, alice))
	got := h.fireTimer(ev[0].ID, Trying100)
	ts, _ := got[0].Msg.Get("Timestamp")
	if ts != "54 0.200" {
		t.Errorf("Timestamp %q", ts)
	}
}

// RFC 3261 §18.1.1: a request larger than 1300 bytes (the path MTU being
// unknown) goes over TCP, its top Via saying so, with no retransmission
// timer; a small one stays on UDP; MaxUDPRequest -1 never switches.
func TestLargeRequestOverTCP(t *testing.T) {
	to := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
	tests := []struct {
		name   string
		body   int
		max    int
		wantTr effects.Transport
	}{
		{"small: UDP", 100, 0, effects.UDP},
		{"over 1300 bytes: TCP", 1500, 0, effects.TCP},
		{"over 1300 bytes, switching off: UDP", 1500, -1, effects.UDP},
		{"over a configured 4000: UDP", 1500, 4000, effects.UDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New(Config{MaxUDPRequest: tc.max})
			req := request("INVITE", effects.UDP, ident.Seeded(1))
			if err := req.SetBody("application/sdp", []byte(strings.Repeat("a", tc.body))); err != nil {
				t.Fatal(err)
			}
			_, out, err := l.NewClient(0, req, to, nil)
			if err != nil {
				t.Fatal(err)
			}
			var sent *effects.Effect
			timerA := false
			for i := range out {
				switch {
				case out[i].Kind == effects.Send:
					sent = &out[i]
				case out[i].Kind == effects.SetTimer && out[i].After == t1:
					timerA = true
				}
			}
			if sent == nil {
				t.Fatal("nothing sent")
			}
			if sent.To.Transport != tc.wantTr || effects.ParseTransport(sent.Msg.TopVia().Transport) != tc.wantTr {
				t.Errorf("sent over %v with Via %s, want %v", sent.To.Transport, sent.Msg.TopVia().Transport, tc.wantTr)
			}
			if timerA != (tc.wantTr == effects.UDP) {
				t.Errorf("Timer A set: %v over %v", timerA, tc.wantTr)
			}
		})
	}
}

// The index keys transactions by a hash of their key; a key whose hash
// another transaction's key holds goes to the overflow map, where lookups
// find it, and it leaves that map when it terminates. The collision is
// forced by pointing the second key's hash at the first transaction.
func TestIndexHashCollision(t *testing.T) {
	h := newHarness(t, Config{})
	inv1 := request("INVITE", effects.UDP, ident.Seeded(1))
	inv2 := request("INVITE", effects.UDP, ident.Seeded(2))
	ev := events(h.receive(inv1, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnRequest {
		t.Fatalf("INVITE 1: %v", ev)
	}
	id1 := ev[0].ID
	k2 := serverKey(inv2, "INVITE")
	h.l.index[k2.hash()] = uint32(id1) // inv2's hash is taken
	ev = events(h.receive(inv2, alice))
	if len(ev) != 1 || ev[0].Kind != effects.TxnRequest || ev[0].ID == id1 {
		t.Fatalf("INVITE 2: %v", ev)
	}
	id2 := ev[0].ID
	if len(h.l.overflow) != 1 {
		t.Fatalf("overflow holds %d keys, want 1", len(h.l.overflow))
	}
	// Retransmissions find their own transactions (absorbed: no event).
	for _, inv := range []*message.Message{inv1, inv2} {
		if ev := events(h.receive(inv, alice)); len(ev) != 0 {
			t.Fatalf("retransmission: %v", ev)
		}
	}
	// The final response detaches the key; the ACK still matches.
	h.respond(id2, response(inv2, 486))
	ack, err := message.AckFor(inv2, response(inv2, 486))
	if err != nil {
		t.Fatal(err)
	}
	if ev := events(h.receive(ack, alice)); len(ev) != 0 {
		t.Fatalf("ACK of the 486: %v (want it absorbed by transaction 2)", ev)
	}
	if k, st, ok := h.l.State(id2); !ok || k != ServerInvite || st != Confirmed {
		t.Fatalf("transaction 2: %v %v %v", k, st, ok)
	}
	h.respond(id1, response(inv1, 486))
	h.drain()
	if len(h.l.overflow) != 0 || h.l.Len() != 0 {
		t.Errorf("after both ended: %d in overflow, %d live", len(h.l.overflow), h.l.Len())
	}
}
