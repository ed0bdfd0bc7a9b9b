package ua

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
)

// pair puts Alice and Bob on a network over tr.
func pair(t *testing.T, tr effects.Transport, acfg, bcfg Config) (*network, *node, *node) {
	n := newNetwork(t)
	a := n.add("alice", "192.0.2.1:5060", tr, acfg, 1)
	b := n.add("bob", "192.0.2.2:5060", tr, bcfg, 2)
	return n, a, b
}

func transports(t *testing.T, f func(t *testing.T, tr effects.Transport)) {
	for _, tr := range []effects.Transport{effects.UDP, effects.TCP} {
		t.Run(tr.String(), func(t *testing.T) { f(t, tr) })
	}
}

func wantWire(t *testing.T, n *network, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, n.wireLog()); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
}

func wantKinds(t *testing.T, nd *node, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, nd.kinds()); diff != "" {
		t.Errorf("%s events (-want +got):\n%s", nd.name, diff)
	}
}

// RFC 3665 §3.1: Successful Session Establishment. Bob rings, answers 5 s
// later, and hangs up after a while.
func TestRFC3665Successful(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Ring(now, ev.ID, RingOptions{}, out)
				})
				n.after(5*time.Second, func() {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
					})
				})
			}
			if ev.Kind == effects.CallAnswered {
				n.after(60*time.Second, func() {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.ua.Hangup(now, ev.ID, out)
					})
				})
			}
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.quiesce()
		wantWire(t, n, []string{
			"alice->bob INVITE", // F1
			"bob->alice 180",    // F2
			"bob->alice 200",    // F3
			"alice->bob ACK",    // F4
			"bob->alice BYE",    // F5
			"alice->bob 200",    // F6
		})
		wantKinds(t, a, "ringing", "answered", "session-established", "ended")
		wantKinds(t, b, "incoming", "session-established", "answered", "ended")
		if ev, _ := a.lastEvent(effects.CallEnded); ev.Err != ErrRemoteBye {
			t.Errorf("Alice's call ended with %v", ev.Err)
		}
		// Every message on the wire is well formed and the dialog is one:
		// the same Call-ID and tags throughout.
		checkOneDialog(t, n)
	})
}

func checkOneDialog(t *testing.T, n *network) {
	t.Helper()
	callID := n.wire[0].msg.CallID()
	for _, w := range n.wire {
		if w.msg.CallID() != callID {
			t.Errorf("%v has Call-ID %q", w, w.msg.CallID())
		}
		if _, err := parseAgain(w.msg); err != nil {
			t.Errorf("%v does not parse again: %v", w, err)
		}
		if err := w.msg.Validate(); err != nil {
			t.Errorf("%v: %v", w, err)
		}
	}
}

// RFC 3665 §3.2: Session Establishment Through Two Proxies, both
// record-routing: every request in the dialog goes through both, in order,
// and so does every response. (The flow's 407 challenge from Proxy 1 is the
// digest work of issue 5; the proxies here are the stateless test proxy,
// which sends no 100.)
func TestRFC3665TwoProxies(t *testing.T) {
	n := newNetwork(t)
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, 1)
	b := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{}, 2)
	p2 := n.addProxy("proxy2", "192.0.2.102:5060", []*node{b}, true)
	p1 := n.addProxy("proxy1", "192.0.2.101:5060", []*node{p2.nd}, true)
	b.on = answerAfter(n, time.Second)
	a.callTo(b, CallOptions{Body: []byte(sdpOffer), Dest: p1.nd.addr})
	n.run(10 * time.Second)
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.ua.Hangup(now, b.call, out)
	})
	n.quiesce()
	wantWire(t, n, []string{
		"alice->proxy1 INVITE", "proxy1->proxy2 INVITE", "proxy2->bob INVITE", // F1, F6, F8 (less F2 to F5)
		"bob->proxy2 180", "proxy2->proxy1 180", "proxy1->alice 180", // F10 to F12
		"bob->proxy2 200", "proxy2->proxy1 200", "proxy1->alice 200", // F13 to F15
		"alice->proxy1 ACK", "proxy1->proxy2 ACK", "proxy2->bob ACK", // F16 to F18
		"bob->proxy2 BYE", "proxy2->proxy1 BYE", "proxy1->alice BYE", // F19 to F21
		"alice->proxy1 200", "proxy1->proxy2 200", "proxy2->bob 200", // F22 to F24
	})
	// The route sets: Alice's in the order of the Record-Route, Bob's
	// reversed.
	ack, bye := n.wire[9].msg, n.wire[12].msg
	if got := ack.Values("Route"); len(got) != 2 || !strings.Contains(got[0], "192.0.2.101") || !strings.Contains(got[1], "192.0.2.102") {
		t.Errorf("Alice's Route %q", got)
	}
	if got := bye.Values("Route"); len(got) != 2 || !strings.Contains(got[0], "192.0.2.102") || !strings.Contains(got[1], "192.0.2.101") {
		t.Errorf("Bob's Route %q", got)
	}
	checkOneDialog(t, n)
}

// RFC 3665 §3.6 (the UAs' part): the INVITE has no offer; Bob offers in the
// 200 and Alice answers in the ACK.
func TestRFC3665OfferInAck(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				if len(ev.Msg.Body()) != 0 {
					t.Errorf("the INVITE has a body")
				}
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
				})
			}
		}
		a.callTo(b, CallOptions{LateAnswer: []byte(sdpOffer)})
		n.run(10 * time.Second)
		wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 200", "alice->bob ACK"})
		if ack := n.wire[2].msg; ack.Body() != sdpOffer {
			t.Errorf("ACK body %q", ack.Body())
		}
		wantKinds(t, a, "answered", "session-established")
		wantKinds(t, b, "incoming", "session-established", "answered")
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
	})
}

// RFC 3665 §3.7: Session with re-INVITE (IP address change). Alice's
// address changes mid-call; she re-INVITEs with the new description.
func TestRFC3665Reinvite(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		moved := "v=0\r\no=alice 2890844526 2890844527 IN IP4 192.0.2.99\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		b.on = func(nd *node, ev effects.Event) {
			switch ev.Kind {
			case effects.CallIncoming:
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
				})
			case effects.CallReinvite:
				if ev.Msg.Body() != moved {
					t.Errorf("re-INVITE body %q", ev.Msg.Body())
				}
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Accept(now, ev.ID, []byte(sdpAnswer), out)
				})
			}
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(5 * time.Second)
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Update(now, a.call, []byte(moved), UpdateOptions{}, out)
		})
		n.run(10 * time.Second)
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
		wantWire(t, n, []string{
			"alice->bob INVITE", "bob->alice 200", "alice->bob ACK",
			"alice->bob INVITE", "bob->alice 200", "alice->bob ACK",
			"alice->bob BYE", "bob->alice 200",
		})
		wantKinds(t, a, "answered", "session-established", "session-modified", "ended")
		wantKinds(t, b, "incoming", "session-established", "answered", "reinvite", "session-modified", "ended")
		// The re-INVITE is in the dialog, one CSeq on.
		re := n.wire[3].msg
		if re.CSeq().Seq != n.wire[0].msg.CSeq().Seq+1 || re.ToTag() == "" {
			t.Errorf("re-INVITE CSeq %d, To tag %q", re.CSeq().Seq, re.ToTag())
		}
		checkOneDialog(t, n)
	})
}

// RFC 3665 §3.8: Unsuccessful No Answer. Bob rings; Alice gives up and
// cancels.
func TestRFC3665NoAnswer(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Ring(now, ev.ID, RingOptions{}, out)
				})
			}
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(20 * time.Second)
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
		wantWire(t, n, []string{
			"alice->bob INVITE", "bob->alice 180",
			"alice->bob CANCEL", "bob->alice 200", "bob->alice 487", "alice->bob ACK",
		})
		wantKinds(t, a, "ringing", "failed")
		if ev, _ := a.lastEvent(effects.CallFailed); ev.Code != 487 || ev.Err != ErrCancelled {
			t.Errorf("failed with %d %v", ev.Code, ev.Err)
		}
		wantKinds(t, b, "incoming", "ended")
		if ev, _ := b.lastEvent(effects.CallEnded); ev.Err != ErrCancelled {
			t.Errorf("Bob's call ended with %v", ev.Err)
		}
	})
}

// RFC 3665 §3.9: Unsuccessful Busy.
func TestRFC3665Busy(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Reject(now, ev.ID, 486, out)
				})
			}
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.quiesce()
		wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 486", "alice->bob ACK"})
		wantKinds(t, a, "failed")
		if ev, _ := a.lastEvent(effects.CallFailed); ev.Code != 486 {
			t.Errorf("failed with %d", ev.Code)
		}
	})
}

// RFC 3665 §3.10: Unsuccessful No Response from User Agent. Nothing
// answers: over UDP the INVITE is retransmitted at 0.5, 1.5, 3.5, 7.5,
// 15.5 and 31.5 s, and the call fails with a timeout at 32 s.
func TestRFC3665NoResponse(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		n.drop = func(w wireEntry) bool { return w.to == "bob" }
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.quiesce()
		var sent []string
		for _, w := range n.wire {
			sent = append(sent, fmt.Sprint(w.at))
		}
		want := []string{"0s"}
		if tr == effects.UDP {
			want = []string{"0s", "500ms", "1.5s", "3.5s", "7.5s", "15.5s", "31.5s"}
		}
		if diff := cmp.Diff(want, sent); diff != "" {
			t.Errorf("INVITE sent at (-want +got):\n%s", diff)
		}
		wantKinds(t, a, "failed")
		if ev, _ := a.lastEvent(effects.CallFailed); ev.Code != 408 || ev.Err != ErrTimeout {
			t.Errorf("failed with %d %v", ev.Code, ev.Err)
		}
	})
}

// RFC 3665 §3.11: Unsuccessful Temporarily Unavailable.
func TestRFC3665Unavailable(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Ring(now, ev.ID, RingOptions{}, out)
				})
				n.after(3*time.Second, func() {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.ua.Reject(now, ev.ID, 480, out)
					})
				})
			}
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.quiesce()
		wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 180", "bob->alice 480", "alice->bob ACK"})
		wantKinds(t, a, "ringing", "failed")
	})
}
