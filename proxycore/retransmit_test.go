package proxycore_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

// TestBranchFailingAtOnceWaitsForTheOthers: a retransmission of an INVITE
// arrives after the proxy's server transaction ended (delayed in the
// network beyond Timer I), while the client transaction of its first
// branch lingers (Timer D): the new context's first branch takes the same
// branch id, no transaction can be made for it, and it fails at once
// (503). The context must wait for its other branch before it chooses the
// best response (RFC 3261 §16.7 steps 5 and 6), not answer at once and
// then start that branch anyway, which made the proxy forward a request
// it no longer held and panic. (Found by FuzzSimInterleavings.)
func TestBranchFailingAtOnceWaitsForTheOthers(t *testing.T) {
	a := proxycore.Target{URI: mustURI("sip:bob@192.0.2.31")}
	b := proxycore.Target{URI: mustURI("sip:bob@192.0.2.32")}
	routes := [][]proxycore.Target{{a}, {a, b}}
	p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10",
		Router: func(*message.Message) proxycore.Decision {
			d := proxycore.ProxyTo(routes[0]...)
			routes = routes[1:]
			return d
		}})
	if err != nil {
		t.Fatal(err)
	}
	var now effects.Time
	timers := map[effects.TimerID]effects.Time{}
	var sent []effects.Effect
	handle := func(in effects.Input) {
		in.Now = now
		for _, e := range p.Handle(in, nil) {
			switch e.Kind {
			case effects.Send:
				sent = append(sent, e)
			case effects.SetTimer:
				timers[e.Timer] = now.Add(e.After)
			case effects.CancelTimer:
				delete(timers, e.Timer)
			}
		}
	}
	// advance fires the timers due until then, in order.
	advance := func(until effects.Time) {
		for {
			var next effects.TimerID
			due := until + 1
			for id, at := range timers {
				if at < due || at == due && id < next {
					next, due = id, at
				}
			}
			if due > until {
				now = until
				return
			}
			delete(timers, next)
			now = due
			handle(effects.Input{Kind: effects.TimerFired, Timer: next})
		}
	}
	alice := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	invite := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n"
	// answer has the target at addr answer the last INVITE sent to it.
	answer := func(addr string, code int) {
		t.Helper()
		to := netip.MustParseAddrPort(addr)
		var req *message.Message
		for _, e := range slices.Backward(sent) {
			if e.To.Addr == to && e.Msg.IsRequest() && e.Msg.Method() == "INVITE" {
				req = e.Msg
				break
			}
		}
		if req == nil {
			t.Fatalf("no INVITE went to %s", addr)
		}
		resp, err := message.NewResponse(req, code, "", message.ResponseOptions{Gen: ident.Seeded(2)})
		if err != nil {
			t.Fatal(err)
		}
		handle(effects.Input{Kind: effects.Received, Data: resp.Bytes(), From: effects.Peer{Addr: to, Transport: effects.UDP}})
	}
	upstream := func() []int {
		var codes []int
		for _, e := range sent {
			if e.To.Addr == alice.Addr && e.Msg.IsResponse() && e.Msg.StatusCode() >= 200 {
				codes = append(codes, e.Msg.StatusCode())
			}
		}
		return codes
	}

	// The first INVITE goes to a, which is busy; Alice acknowledges the
	// 486. Timer I (T4, 5 s) ends the server transaction; Timer D (32 s)
	// keeps the client transaction to a.
	handle(effects.Input{Kind: effects.Received, Data: []byte(invite), From: alice})
	answer("192.0.2.31:5060", 486)
	var resp *message.Message
	for _, e := range sent {
		if e.To.Addr == alice.Addr && e.Msg.StatusCode() == 486 {
			resp = e.Msg
		}
	}
	if resp == nil {
		t.Fatalf("no 486 upstream: %v", upstream())
	}
	ack := "ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=" + resp.ToTag() + "\r\n" +
		"Call-ID: c1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
	handle(effects.Input{Kind: effects.Received, Data: []byte(ack), From: alice})
	advance(effects.Time(10 * time.Second))

	// The INVITE again, late: now routed to a and b.
	sent = sent[:0]
	handle(effects.Input{Kind: effects.Received, Data: []byte(invite), From: alice})
	if codes := upstream(); len(codes) != 0 {
		t.Fatalf("the proxy answered %v before b answered", codes)
	}
	answer("192.0.2.32:5060", 486)
	if codes := upstream(); !slices.Equal(codes, []int{486}) {
		t.Fatalf("upstream: %v, want the best of 503 and 486: [486]", codes)
	}
	advance(effects.Time(10 * time.Minute))
	if p.Contexts() != 0 || p.Transactions().Len() != 0 {
		t.Errorf("left %d contexts, %d transactions", p.Contexts(), p.Transactions().Len())
	}
}
