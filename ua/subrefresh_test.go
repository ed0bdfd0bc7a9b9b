package ua

import (
	"errors"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
)

// RFC 6665 §4.1.2.2: a refresh that fails with a code other than 404, 405,
// 410, 416, 480 to 485, 489, 501 or 604 (here it times out: every 200 to
// it is lost, a 408 for the subscriber, RFC 3261 §8.1.3.1) leaves the
// subscription valid until the expiry last known, here the one Bob's
// NOTIFY after the refresh gave (expires=120, §4.2.1.2): a NOTIFY that
// comes meanwhile is answered 200 and heard, not 481, and the next refresh
// goes as planned. (Found by TestSubscribe in package sim, seed 425.)
func TestSubscribeRefreshTimeout(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{Events: []EventPackage{presence}})
	b.on = notifierApp(false)
	n.drop = func(w wireEntry) bool {
		return w.from == "bob" && !w.msg.IsRequest() && w.msg.CSeq().Method == "SUBSCRIBE" && w.msg.CSeq().Seq == 2
	}
	id := a.subscribeTo(b, SubscribeOptions{Expires: 120 * time.Second})
	n.run(130 * time.Second) // the refresh at 88 s timed out at 120 s
	if distinct(n, "alice->bob SUBSCRIBE") != 2 || distinct(n, "bob->alice NOTIFY") != 3 {
		t.Fatalf("wire %v", n.wireLog())
	}
	if _, ended := a.lastEvent(effects.SubscriptionEnded); ended {
		t.Fatalf("the subscription ended when its refresh timed out: %v", a.kinds())
	}
	bobSub := b.events[0].ID
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.ua.Notify(now, bobSub, header.SubscriptionState{State: "active"}, []byte(pidfClosed), out)
	})
	n.run(140 * time.Second)
	if count(n, "alice->bob 481") != 0 || distinct(n, "alice->bob 200") != 4 {
		t.Errorf("Bob's NOTIFY after the failed refresh: %v", n.wireLog())
	}
	if ev, _ := a.lastEvent(effects.NotifyReceived); ev.Msg == nil || ev.Msg.Body() != pidfClosed {
		t.Errorf("Alice did not hear the NOTIFY: %v", a.kinds())
	}
	// The next refresh goes 64·T1 before the expiry Bob's NOTIFY gave
	// (88 s + 120 s), and succeeds.
	n.run(190 * time.Second)
	if distinct(n, "alice->bob SUBSCRIBE") != 3 {
		t.Errorf("no refresh after the failed one: %v", n.wireLog())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Unsubscribe(now, id, out)
	})
	n.run(200 * time.Second)
	if se, _, ok := endedWith(a, id); !ok || !errors.Is(se, ErrUnsubscribed) {
		t.Errorf("Alice's end: %v", se)
	}
	n.quiesce()
}

// distinct counts the messages of the wire whose log line is line, one
// per CSeq: retransmissions count once.
func distinct(n *network, line string) int {
	seen := map[uint32]bool{}
	for _, m := range wireMsgs(n, line) {
		seen[m.CSeq().Seq] = true
	}
	return len(seen)
}

// RFC 6665 §4.1.3: a NOTIFY's expires is the time left; it moves the end
// of the subscription but does not make a long one short: a 120 s
// subscription is refreshed 64·T1 before its end, 88 s after the 2xx,
// even when a NOTIFY at 80 s said 40 s were left (not half of those 40 s
// later, at 100 s, which leaves less than a transaction's time before the
// end). (Found by TestSubscribe in package sim, seed 1.)
func TestSubscribeRefreshAfterNotify(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{Events: []EventPackage{presence}})
	b.on = notifierApp(false)
	id := a.subscribeTo(b, SubscribeOptions{Expires: 120 * time.Second})
	n.run(80 * time.Second)
	bobSub := b.events[0].ID
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.ua.Notify(now, bobSub, header.SubscriptionState{State: "active"}, []byte(pidfClosed), out)
	})
	n.run(89 * time.Second)
	if got := distinct(n, "alice->bob SUBSCRIBE"); got != 2 {
		t.Errorf("%d SUBSCRIBEs by 89 s, want the refresh at 88 s: %v", got, n.wireLog())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Unsubscribe(now, id, out)
	})
	n.quiesce()
}
