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
