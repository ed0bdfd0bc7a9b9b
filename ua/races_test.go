package ua

import (
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// indexOf returns the index of the first wire entry with the log line and
// CSeq method, or -1.
func indexOf(n *network, line, cseqMethod string) int {
	for i, w := range n.wire {
		if w.String() == line && w.msg.CSeq().Method == cseqMethod {
			return i
		}
	}
	return -1
}

// RFC 3262 §3: the UAS must not send a 2xx while a reliable provisional
// response that carried a session description waits for its PRACK. Bob
// answers at once after his reliable 183; Alice's first PRACK is lost; the
// 200 to the INVITE goes only once the retransmitted PRACK has arrived.
func TestAnswerWaitsForPRACK(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{Reliable: true}, Config{Reliable: true})
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallIncoming {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
			})
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		}
	}
	lost := false
	n.drop = func(w wireEntry) bool {
		if w.msg.IsRequest() && w.msg.Method() == "PRACK" && !lost {
			lost = true
			return true
		}
		return false
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(5 * time.Second)
	prackOK := indexOf(n, "bob->alice 200", "PRACK")
	inviteOK := indexOf(n, "bob->alice 200", "INVITE")
	if prackOK < 0 || inviteOK < prackOK {
		t.Fatalf("the 2xx went before the PRACK was answered: %v", n.wireLog())
	}
	wantKinds(t, a, "session-established", "ringing", "answered")
	wantKinds(t, b, "incoming", "session-established", "answered")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// §14.1 and RFC 5407 §3.1.4: the INVITE transaction lasts, for the callee,
// until the ACK of its 2xx. Alice's ACK is lost and she re-INVITEs at once:
// Bob answers 491 (his 2xx is still unacknowledged) and may not re-INVITE
// himself; Alice's ACK comes with the next 2xx retransmission and her
// re-INVITE succeeds after the glare delay.
func TestReinviteBeforeACK(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	lost := false
	n.drop = func(w wireEntry) bool {
		if w.msg.IsRequest() && w.msg.Method() == "ACK" && !lost {
			lost = true
			return true
		}
		return false
	}
	a.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallAnswered {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Update(now, ev.ID, []byte(hold(sdpOffer)), UpdateOptions{}, out)
			})
			if _, err := b.ua.Update(n.now, b.call, []byte(sdpAnswer), UpdateOptions{}, nil); err != ErrPending {
				t.Errorf("Bob's re-INVITE before the ACK: %v", err)
			}
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(8 * time.Second)
	if i := indexOf(n, "bob->alice 491", "INVITE"); i < 0 {
		t.Fatalf("no 491: %v", n.wireLog())
	}
	if got := count(n, "alice->bob INVITE"); got != 3 {
		t.Errorf("%d INVITEs, want the first, the refused re-INVITE and its retry: %v", got, n.wireLog())
	}
	wantKinds(t, b, "incoming", "session-established", "answered", "reinvite", "session-modified", "session-held")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// RFC 6141 §4 (updating §12.2.2): a target refresh counts only once
// accepted. Bob moves and re-INVITEs; Alice declines it, so her next
// request still goes to Bob's old Contact; when she accepts his next one,
// from yet another Contact, her requests follow him there.
func TestRefusedTargetRefresh(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	decline := true
	a.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallReinvite {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				if decline {
					return nd.ua.Decline(now, ev.ID, 488, out)
				}
				return nd.ua.Accept(now, ev.ID, []byte(sdpOffer), out)
			})
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	moved := mustURI("sip:bob@192.0.2.2:5060;moved")
	update := func(nd *node, body string, at time.Duration) {
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return nd.ua.Update(now, nd.call, []byte(body), UpdateOptions{}, out)
		})
		n.run(at)
	}
	if err := b.ua.SetContact(moved); err != nil {
		t.Fatal(err)
	}
	update(b, strings.Replace(sdpAnswer, "2808844564 IN", "2808844565 IN", 1), 2*time.Second)
	update(a, hold(sdpOffer), 3*time.Second)
	last := func(from, method string) string {
		for i := len(n.wire) - 1; i >= 0; i-- {
			if w := n.wire[i]; w.from == from && w.msg.IsRequest() && w.msg.Method() == method {
				return w.msg.RequestURI().String()
			}
		}
		return ""
	}
	if got := last("alice", "INVITE"); got != "sip:bob@192.0.2.2:5060" {
		t.Errorf("after a declined refresh Alice's re-INVITE goes to %s", got)
	}
	// (The 2xx to that re-INVITE carried Bob's new Contact, which counts.)
	decline = false
	moved = mustURI("sip:bob@192.0.2.2:5060;moved=2")
	if err := b.ua.SetContact(moved); err != nil {
		t.Fatal(err)
	}
	update(b, strings.Replace(sdpAnswer, "2808844564 IN", "2808844566 IN", 1), 4*time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	if got := last("alice", "BYE"); got != moved.String() {
		t.Errorf("after an accepted refresh Alice's BYE goes to %s", got)
	}
}

// RFC 3311 §5.1: UPDATE in an early dialog. Once the reliable 183 has
// answered the INVITE's offer, Alice offers again in an UPDATE, which Bob
// accepts before answering the call; Bob may not send one of his own until
// his 183 has its PRACK.
func TestEarlyUpdate(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{Reliable: true}, Config{Reliable: true})
	b.on = func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
			})
			if _, err := nd.ua.Update(n.now, ev.ID, []byte(sdpAnswer), UpdateOptions{UseUpdate: true}, nil); err != ErrPending {
				t.Errorf("Bob's UPDATE before the PRACK: %v", err)
			}
			n.after(3*time.Second, func() {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, nil, out)
				})
			})
		case effects.CallReinvite:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(sdpAnswer), out)
			})
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	if _, err := a.ua.Update(n.now, a.call, []byte(hold(sdpOffer)), UpdateOptions{}, nil); err != ErrState {
		t.Errorf("a re-INVITE in an early dialog: %v", err)
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Update(now, a.call, []byte(hold(sdpOffer)), UpdateOptions{UseUpdate: true}, out)
	})
	n.run(5 * time.Second)
	wantWire(t, n, []string{
		"alice->bob INVITE", "bob->alice 183", "alice->bob PRACK", "bob->alice 200",
		"alice->bob UPDATE", "bob->alice 200", "bob->alice 200", "alice->bob ACK",
	})
	wantKinds(t, b, "incoming", "session-established", "reinvite", "session-modified", "session-held", "answered")
	wantKinds(t, a, "session-established", "ringing", "session-modified", "answered")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// RFC 3262 §3: the UAS core retransmits a reliable provisional response,
// the interval starting at T1 and doubling, until its PRACK arrives, as
// it does a 2xx until its ACK (RFC 3261 §13.3.1.4): the reliability is end
// to end, whatever the transport of this hop (a hop further on may be UDP,
// or the connection that carried the response may break). Here Bob's
// reliable 183 over TCP is lost (with its connection, say): its
// retransmission T1 later reaches Alice, she PRACKs it, and Bob's 2xx,
// held for that PRACK, goes; without it Bob would give up after 64·T1
// with a 5xx.
func TestReliableProvisionalRetransmittedOverTCP(t *testing.T) {
	n, a, b := pair(t, effects.TCP, Config{}, Config{Reliable: true})
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallIncoming {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
			})
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		}
	}
	lost := false
	n.drop = func(w wireEntry) bool {
		if !w.msg.IsRequest() && w.msg.StatusCode() == 183 && !lost {
			lost = true
			return true
		}
		return false
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(5 * time.Second)
	wantWire(t, n, []string{
		"alice->bob INVITE", "bob->alice 183 (lost)", "bob->alice 183",
		"alice->bob PRACK", "bob->alice 200", "bob->alice 200", "alice->bob ACK",
	})
	if len(n.wire) < 3 {
		t.FailNow()
	}
	if at := n.wire[2].at - n.wire[1].at; at != 500*time.Millisecond {
		t.Errorf("the 183 went again %v after the first, not T1", at)
	}
	wantKinds(t, a, "session-established", "ringing", "answered")
	wantKinds(t, b, "incoming", "session-established", "answered")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}
