package proxycore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
)

// TestStatelessCall runs a call through a stateless proxy (RFC 3261
// §16.11) that record-routes: requests go by Request-URI and Route,
// responses by Via, and the BYE follows the Record-Route.
func TestStatelessCall(t *testing.T) {
	for _, code := range []int{200, 486} {
		n := newNetwork(t)
		alice := n.addUA("alice", "192.0.2.1:5060", 1)
		s := n.addStateless("s", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
		bob := n.addUA("bob", "192.0.2.2:5060", 2)
		bob.on = callee(code, time.Second)
		alice.on = hangupAfter(time.Second)
		alice.callTo("sip:bob@192.0.2.2", s)
		n.quiesce()
		got := strings.Join(without100(n.log()), " ")
		want := "alice->s INVITE s->bob INVITE bob->s 180 s->alice 180 bob->s 200 s->alice 200 alice->s ACK s->bob ACK alice->s BYE s->bob BYE bob->s 200 s->alice 200"
		if code == 486 {
			// The ACK of the 486 is hop by hop on bob's side, but a
			// stateless proxy relays the UAC's ACK on the INVITE's
			// branch.
			want = "alice->s INVITE s->bob INVITE bob->s 180 s->alice 180 bob->s 486 s->alice 486 alice->s ACK s->bob ACK"
		}
		if got != want {
			t.Errorf("%d: wire\n%s\nwant\n%s", code, got, want)
		}
		for _, w := range n.wire {
			if w.from == "s" && !w.msg.IsRequest() && len(w.msg.Values("Via")) != 1 {
				t.Errorf("a response went upstream with Vias %v", w.msg.Values("Via"))
			}
		}
	}
}

// TestStatelessBranch: a retransmitted request takes the same branch (RFC
// 3261 §16.11), a CANCEL the branch of its INVITE, and another
// transaction another branch.
func TestStatelessBranch(t *testing.T) {
	n := newNetwork(t)
	s := n.addStateless("s", "192.0.2.10:5060", proxycore.Config{})
	inv := request("INVITE", "sip:bob@192.0.2.2")
	n.inject(s, alicePeer, inv)
	n.inject(s, alicePeer, inv)
	n.inject(s, alicePeer, strings.Replace(request("CANCEL", "sip:bob@192.0.2.2"), "CSeq: 1 CANCEL", "CSeq: 1 CANCEL", 1))
	n.inject(s, alicePeer, strings.Replace(inv, "abc1", "abc2", 1))
	n.run(time.Second)
	var branches []string
	for _, w := range n.wire {
		if w.from == "s" {
			branches = append(branches, w.msg.Branch())
		}
	}
	if len(branches) != 4 || branches[0] != branches[1] || branches[0] != branches[2] || branches[3] == branches[0] {
		t.Errorf("branches %v", branches)
	}
	// A response comes back on our branch and goes to the next Via.
	resp := "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=" + branches[0] + "\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1\r\n" +
		"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\nCall-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	n.inject(s, effects.Peer{Addr: alicePeer.Addr, Transport: effects.UDP}, resp)
	n.run(2 * time.Second)
	last := n.wire[len(n.wire)-1]
	if last.to != "192.0.2.1:5060" || last.msg.StatusCode() != 180 || len(last.msg.Values("Via")) != 1 {
		t.Errorf("response forwarded as %v", last)
	}
}
