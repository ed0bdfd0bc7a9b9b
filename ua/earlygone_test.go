package ua

import (
	"errors"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// TestDialogGoneReleasesInvite: Bob sends a reliable 183 with his answer
// (RFC 3262), which makes an early dialog in which Alice may UPDATE (RFC
// 3311 §5.1); then he declines the call, and every one of his 603s is
// lost. Alice's UPDATE in the early dialog gets 481: the dialog is gone
// (RFC 5057 §5.1), so her call ends (CallEnded, ErrDialogGone) with a BYE.
// Her INVITE client transaction waits in Proceeding, where no timer runs
// (RFC 3261 §17.1.1.2), for a final response that will never come: it
// must go with the call, not be held for ever. (Found by
// FuzzSimInterleavings, where the 603 was lost with a broken TCP
// connection.)
func TestDialogGoneReleasesInvite(t *testing.T) {
	n := newNetwork(t)
	alice := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{Reliable: true}, 1)
	bob := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{Reliable: true}, 2)
	n.drop = func(w wireEntry) bool { return w.from == "bob" && w.msg.IsResponse() && w.msg.StatusCode() == 603 }
	bob.on = func(b *node, ev effects.Event) {
		if ev.Kind != effects.CallIncoming {
			return
		}
		b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return b.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
		})
		n.after(time.Second, func() {
			b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return b.ua.Reject(now, ev.ID, 603, out)
			})
		})
	}
	id := alice.callTo(bob, CallOptions{Body: []byte(sdpOffer)})
	n.after(2*time.Second, func() {
		alice.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return alice.ua.Update(now, id, []byte(hold(sdpOffer)), UpdateOptions{UseUpdate: true}, out)
		})
	})
	n.quiesce()
	if ev, ok := alice.lastEvent(effects.CallEnded); !ok || !errors.Is(ev.Err, ErrDialogGone) || ev.Code != 481 {
		t.Errorf("Alice's call: %+v, %v; wire %v", ev, ok, n.wireLog())
	}
}

// TestEarlyDialogGoneKeepsForkedCall: Alice's INVITE forks to Bob's two
// phones. bob1's reliable 183 makes an early dialog in which Alice sends
// an UPDATE (RFC 3311 §5.1); every copy of it is lost, and it times out,
// which ends that dialog (RFC 5057 §5.1): Alice sends it a BYE. But her
// call goes on in its other early dialog, bob2's, until bob2 answers: the
// UA must not report the call ended (CallEnded) while it lives on, only
// when its last dialog goes. (Found by FuzzSimInterleavings, where a 482
// to the UPDATE ended the dialog, through a proxycore.Proxy.)
func TestEarlyDialogGoneKeepsForkedCall(t *testing.T) {
	n := newNetwork(t)
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{Reliable: true}, 1)
	b1 := n.add("bob1", "192.0.2.11:5060", effects.UDP, Config{Reliable: true}, 11)
	b2 := n.add("bob2", "192.0.2.12:5060", effects.UDP, Config{Reliable: true}, 12)
	p := n.addProxy("proxy", "192.0.2.100:5060", []*node{b1, b2}, false)
	// Every UPDATE is lost, and so is the 487 bob1 answers to its INVITE
	// after the BYE (§15), which a real proxy would not forward anyway
	// while bob2's branch is pending (§16.7).
	n.drop = func(w wireEntry) bool {
		return w.msg.IsRequest() && w.msg.Method() == "UPDATE" || w.to == "alice" && w.msg.IsResponse() && w.msg.StatusCode() == 487
	}
	ring := func(b *node, id CallID) {
		b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return b.ua.Ring(now, id, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
		})
	}
	b1.on = func(b *node, ev effects.Event) {
		if ev.Kind == effects.CallIncoming {
			ring(b, ev.ID)
		}
	}
	b2.on = func(b *node, ev effects.Event) {
		if ev.Kind != effects.CallIncoming {
			return
		}
		n.after(time.Second, func() { ring(b, ev.ID) })
		n.after(40*time.Second, func() {
			b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return b.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		})
	}
	id := a.callTo(b1, CallOptions{Body: []byte(sdpOffer), Dest: p.nd.addr})
	n.after(500*time.Millisecond, func() {
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Update(now, id, []byte(hold(sdpOffer)), UpdateOptions{UseUpdate: true}, out)
		})
	})
	n.run(time.Minute)
	if count(n, "alice->bob1 BYE") != 1 {
		t.Errorf("no BYE for bob1's early dialog: %v", n.wireLog())
	}
	if _, ok := a.lastEvent(effects.CallEnded); ok {
		t.Fatalf("Alice's call reported ended while bob2's early dialog lives: %v", a.kinds())
	}
	if _, ok := a.lastEvent(effects.CallAnswered); !ok {
		t.Fatalf("bob2's answer did not reach Alice's call: %v", a.kinds())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, id, out)
	})
	n.quiesce()
}
