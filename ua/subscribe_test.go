package ua

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// presence is the event package the notifiers of these tests serve.
var presence = EventPackage{Name: "presence", Expires: 600 * time.Second, ContentType: "application/pidf+xml"}

const pidfOpen = "<presence><tuple id=\"a\"><status><basic>open</basic></status></tuple></presence>"
const pidfClosed = "<presence><tuple id=\"a\"><status><basic>closed</basic></status></tuple></presence>"

// notifierApp makes a node accept every SUBSCRIBE (or put it pending when
// pend is set) and notify its state at once.
func notifierApp(pend bool) func(nd *node, ev effects.Event) {
	return func(nd *node, ev effects.Event) {
		if ev.Kind != effects.SubscribeIncoming {
			return
		}
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			if pend {
				return nd.ua.PendSubscription(now, ev.ID, 0, out)
			}
			out, err := nd.ua.AcceptSubscription(now, ev.ID, 0, out)
			if err != nil {
				return out, err
			}
			return nd.ua.Notify(now, ev.ID, header.SubscriptionState{State: "active"}, []byte(pidfOpen), out)
		})
	}
}

// subscribeTo makes nd subscribe to presence at the node to (through dest
// when set).
func (nd *node) subscribeTo(to *node, o SubscribeOptions) uint64 {
	nd.net.t.Helper()
	if o.Event == "" {
		o.Event = "presence"
	}
	if !o.Dest.Addr.IsValid() {
		o.Dest = to.addr
	}
	id, out, err := nd.ua.Subscribe(nd.net.now, mustURI(fmt.Sprintf("sip:%s@%s", to.name, to.addr.Addr)), o, nil)
	if err != nil {
		nd.net.t.Fatal(err)
	}
	nd.net.apply(nd, out)
	return id
}

// wireMsgs returns the messages of the wire whose log line is line.
func wireMsgs(n *network, line string) []*message.Message {
	var out []*message.Message
	for _, w := range n.wire {
		if w.String() == line {
			out = append(out, w.msg)
		}
	}
	return out
}

// field returns a message's header field value.
func field(m *message.Message, name string) string {
	v, _ := m.Get(name)
	return v
}

// ended returns the error of a node's SubscriptionEnded for id.
func endedWith(nd *node, id uint64) (*SubscriptionError, int, bool) {
	for _, ev := range nd.events {
		if ev.Kind == effects.SubscriptionEnded && ev.ID == id {
			var se *SubscriptionError
			errors.As(ev.Err, &se)
			return se, ev.Code, true
		}
	}
	return nil, 0, false
}

// TestSubscriptions runs RFC 6665 flows between a subscriber (Alice) and a
// notifier (Bob) and checks every message on the wire.
func TestSubscriptions(t *testing.T) {
	tests := []struct {
		name  string
		run   func(t *testing.T, n *network, a, b *node)
		wire  []string
		alice []string
		bob   []string
	}{{
		// §4.1.2.1, §4.2.1.2: 200 and an immediate NOTIFY; §4.2.2: the
		// notifier's state changes; §4.1.2.2: refresh before expiry, with
		// a NOTIFY; §4.1.2.3: unsubscribe, final NOTIFY terminated.
		name: "subscribe, notify, refresh, unsubscribe (§4.1.2, §4.2.1, §4.2.2)",
		run: func(t *testing.T, n *network, a, b *node) {
			b.on = notifierApp(false)
			id := a.subscribeTo(b, SubscribeOptions{Expires: 120 * time.Second, Accept: []string{"application/pidf+xml"}})
			n.run(time.Second)
			bid := b.events[0].ID
			b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return b.ua.Notify(now, bid, header.SubscriptionState{State: "active"}, []byte(pidfClosed), out)
			})
			n.run(100 * time.Second) // refresh at 120 - 32 = 88 s
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return a.ua.Unsubscribe(now, id, out)
			})
			n.run(110 * time.Second)
			sub := wireMsgs(n, "alice->bob SUBSCRIBE")
			if len(sub) != 3 || field(sub[0], "Event") != "presence" || field(sub[0], "Expires") != "120" ||
				field(sub[0], "Accept") != "application/pidf+xml" || sub[1].ToTag() == "" || field(sub[2], "Expires") != "0" {
				t.Errorf("SUBSCRIBEs %v", sub)
			}
			for i := 1; i < len(sub); i++ {
				if sub[i].CSeq().Seq <= sub[i-1].CSeq().Seq || sub[i].CallID() != sub[0].CallID() {
					t.Errorf("SUBSCRIBE %d: CSeq %v after %v", i, sub[i].CSeq(), sub[i-1].CSeq())
				}
			}
			nts := wireMsgs(n, "bob->alice NOTIFY")
			// The immediate NOTIFY (no state yet), the application's, its
			// change a second later, the refresh's, the final one.
			states := []string{"active;expires=120", "active;expires=120", "active;expires=119", "active;expires=120", "terminated;reason=timeout"}
			bodies := []string{"", pidfOpen, pidfClosed, pidfClosed, pidfClosed}
			if len(nts) != len(states) {
				t.Fatalf("%d NOTIFYs", len(nts))
			}
			for i, m := range nts {
				if field(m, "Subscription-State") != states[i] || m.Body() != bodies[i] || field(m, "Event") != "presence" {
					t.Errorf("NOTIFY %d: %q %q %q", i, field(m, "Subscription-State"), m.Body(), field(m, "Event"))
				}
				if i > 0 && field(m, "Content-Type") != "application/pidf+xml" {
					t.Errorf("NOTIFY %d Content-Type %q", i, field(m, "Content-Type"))
				}
			}
			if se, _, _ := endedWith(a, id); se == nil || !errors.Is(se, ErrUnsubscribed) || se.Reason != "timeout" {
				t.Errorf("Alice's end: %v", se)
			}
		},
		wire: []string{
			"alice->bob SUBSCRIBE", "bob->alice 200", "bob->alice NOTIFY", "bob->alice NOTIFY", "alice->bob 200", "alice->bob 200",
			"bob->alice NOTIFY", "alice->bob 200", // Bob's new state
			"alice->bob SUBSCRIBE", "bob->alice 200", "bob->alice NOTIFY", "alice->bob 200", // refresh
			"alice->bob SUBSCRIBE", "bob->alice 200", "bob->alice NOTIFY", "alice->bob 200", // unsubscribe
		},
		alice: []string{"subscription-active", "notify-received", "notify-received", "notify-received", "notify-received", "notify-received", "subscription-ended"},
		bob:   []string{"subscribe-incoming", "subscription-refreshed", "subscription-ended"},
	}, {
		// §4.2.1.1, §4.1.3: pending until authorized, then active.
		name: "pending, then active (§4.1.3, §4.2.1.1)",
		run: func(t *testing.T, n *network, a, b *node) {
			b.on = notifierApp(true)
			id := a.subscribeTo(b, SubscribeOptions{Expires: 300 * time.Second})
			n.run(time.Second)
			bid := b.events[0].ID
			b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return b.ua.Notify(now, bid, header.SubscriptionState{State: "active"}, []byte(pidfOpen), out)
			})
			n.run(2 * time.Second)
			b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return b.ua.Notify(now, bid, header.SubscriptionState{State: "terminated", Params: ";reason=deactivated;retry-after=30"}, nil, out)
			})
			n.run(3 * time.Second)
			nts := wireMsgs(n, "bob->alice NOTIFY")
			if len(nts) != 3 || field(nts[0], "Subscription-State") != "pending;expires=300" ||
				field(nts[1], "Subscription-State") != "active;expires=299" ||
				field(nts[2], "Subscription-State") != "terminated;reason=deactivated;retry-after=30" {
				t.Errorf("NOTIFYs %v", nts)
			}
			se, _, _ := endedWith(a, id)
			if se == nil || !errors.Is(se, ErrDeactivated) || se.RetryAfter != 30*time.Second {
				t.Errorf("Alice's end: %v", se)
			}
		},
		wire:  []string{"bob->alice NOTIFY", "alice->bob 200", "bob->alice NOTIFY", "alice->bob 200"},
		alice: []string{"subscription-pending", "notify-received", "subscription-active", "notify-received", "notify-received", "subscription-ended"},
		bob:   []string{"subscribe-incoming", "subscription-ended"},
	}, {
		// §7.2.2 (and §8.2.2): an event package the notifier does not
		// serve: 489 Bad Event with Allow-Events.
		name: "unknown event: 489 with Allow-Events",
		run: func(t *testing.T, n *network, a, b *node) {
			id := a.subscribeTo(b, SubscribeOptions{Event: "dialog"})
			n.run(time.Second)
			if r := wireMsgs(n, "bob->alice 489"); len(r) != 1 || field(r[0], "Allow-Events") != "presence, refer" {
				t.Errorf("489 %v", r)
			}
			if se, code, _ := endedWith(a, id); se == nil || code != 489 || !errors.Is(se, ErrSubscribeFailed) {
				t.Errorf("Alice's end: %v %d", se, code)
			}
		},
		wire:  []string{"alice->bob SUBSCRIBE", "bob->alice 489"},
		alice: []string{"subscription-ended"},
	}, {
		// §4.2.2, §4.1.2.2: the subscriber's refreshes are lost; the
		// subscription expires and the notifier says so with
		// reason=timeout.
		name: "expiry: terminated;reason=timeout (§4.1.2.2, §4.2.2)",
		run: func(t *testing.T, n *network, a, b *node) {
			b.on = notifierApp(false)
			n.drop = func(w wireEntry) bool {
				return w.from == "alice" && w.msg.Method() == "SUBSCRIBE" && w.msg.ToTag() != ""
			}
			id := a.subscribeTo(b, SubscribeOptions{Expires: 60 * time.Second})
			n.run(70 * time.Second)
			nts := wireMsgs(n, "bob->alice NOTIFY")
			if len(nts) != 3 || field(nts[2], "Subscription-State") != "terminated;reason=timeout" {
				t.Errorf("NOTIFYs %v", nts)
			}
			if se, _, _ := endedWith(a, id); se == nil || !errors.Is(se, ErrSubTimeout) {
				t.Errorf("Alice's end: %v", se)
			}
			if se, _, _ := endedWith(b, b.events[0].ID); se == nil || !errors.Is(se, ErrSubTimeout) {
				t.Errorf("Bob's end: %v", se)
			}
		},
		// Alice's expiry and Bob's final NOTIFY meet: she ends it first, and
		// answers his NOTIFY 481.
		wire:  []string{"bob->alice NOTIFY", "alice->bob 481"},
		alice: []string{"subscription-active", "notify-received", "notify-received", "subscription-ended"},
		bob:   []string{"subscribe-incoming", "subscription-ended"},
	}, {
		// §4.1.2.4: Timer N: the 2xx came, no NOTIFY ever does.
		name: "Timer N: no NOTIFY after the 2xx (§4.1.2.4)",
		run: func(t *testing.T, n *network, a, b *node) {
			b.on = notifierApp(false)
			n.drop = func(w wireEntry) bool { return w.msg.Method() == "NOTIFY" }
			id := a.subscribeTo(b, SubscribeOptions{})
			n.run(40 * time.Second)
			if se, code, _ := endedWith(a, id); se == nil || code != 408 || !errors.Is(se, ErrNoNotify) {
				t.Errorf("Alice's end: %v %d", se, code)
			}
			if ev, ok := a.lastEvent(effects.SubscriptionEnded); !ok || time.Duration(n.now) < 32*time.Second || ev.ID != id {
				t.Errorf("ended %v at %v", ok, n.now)
			}
		},
		wire:  []string{"alice->bob SUBSCRIBE", "bob->alice 200", "bob->alice NOTIFY (lost)", "bob->alice NOTIFY (lost)"},
		alice: []string{"subscription-ended"},
		bob:   []string{"subscribe-incoming", "subscription-ended"},
	}, {
		// §4.1.3: a NOTIFY that matches no subscription gets 481, inside a
		// dialog or outside any.
		name: "NOTIFY for no subscription: 481 (§4.1.3)",
		run: func(t *testing.T, n *network, a, b *node) {
			for i, to := range []string{";tag=nosuch", ""} {
				raw := "NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0\r\n" +
					"Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKnotify" + fmt.Sprint(i) + "\r\n" +
					"Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>" + to + "\r\n" +
					"Call-ID: unknown-" + fmt.Sprint(i) + "\r\nCSeq: 1 NOTIFY\r\nContact: <sip:bob@192.0.2.2:5060>\r\n" +
					"Event: presence\r\nSubscription-State: active;expires=60\r\nContent-Length: 0\r\n\r\n"
				n.schedule(item{at: n.now, node: a, data: []byte(raw), from: b.addr})
			}
			n.run(time.Second)
		},
		wire: []string{"alice->bob 481", "alice->bob 481"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, a, b := pair(t, effects.UDP, Config{}, Config{Events: []EventPackage{presence}})
			tc.run(t, n, a, b)
			got := n.wireLog()
			if len(tc.wire) > 0 && !containsRun(got, tc.wire) {
				t.Errorf("wire lacks %v:\n%s", tc.wire, strings.Join(got, "\n"))
			}
			wantKinds(t, a, tc.alice...)
			wantKinds(t, b, tc.bob...)
			n.quiesce()
		})
	}
}

// containsRun reports whether want appears in got as a contiguous run.
func containsRun(got, want []string) bool {
	for i := 0; i+len(want) <= len(got); i++ {
		ok := true
		for j := range want {
			if got[i+j] != want[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// RFC 6665 §4.1.2.4: a SUBSCRIBE forked to two notifiers makes two
// subscriptions, one per NOTIFY From tag, each in its own dialog; each
// ends once.
func TestSubscribeForked(t *testing.T) {
	n := newNetwork(t)
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, 1)
	b1 := n.add("bob1", "192.0.2.11:5060", effects.UDP, Config{Events: []EventPackage{presence}}, 11)
	b2 := n.add("bob2", "192.0.2.12:5060", effects.UDP, Config{Events: []EventPackage{presence}}, 12)
	p := n.addProxy("proxy", "192.0.2.100:5060", []*node{b1, b2}, false)
	b1.on, b2.on = notifierApp(false), notifierApp(false)
	id := a.subscribeTo(b1, SubscribeOptions{Dest: p.nd.addr})
	n.run(time.Second)
	var subs []uint64
	for _, ev := range a.events {
		if ev.Kind == effects.SubscriptionActive {
			if ev.Ref != id {
				t.Errorf("Ref %d, want %d", ev.Ref, id)
			}
			subs = append(subs, ev.ID)
		}
	}
	if len(subs) != 2 || subs[0] == subs[1] || a.ua.Subscriptions() != 2 || a.ua.Dialogs() != 2 {
		t.Fatalf("subscriptions %v (%d, %d dialogs)\n%s", subs, a.ua.Subscriptions(), a.ua.Dialogs(), strings.Join(n.wireLog(), "\n"))
	}
	if count(n, "alice->bob1 200") != 2 || count(n, "alice->bob2 200") != 2 {
		t.Errorf("NOTIFYs answered: %v", n.wireLog())
	}
	for _, s := range subs {
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Unsubscribe(now, s, out)
		})
	}
	n.run(2 * time.Second)
	if count(n, "alice->bob1 SUBSCRIBE") != 1 || count(n, "alice->bob2 SUBSCRIBE") != 1 {
		t.Errorf("unsubscribes: %v", n.wireLog())
	}
	for _, s := range subs {
		if se, _, ok := endedWith(a, s); !ok || !errors.Is(se, ErrUnsubscribed) {
			t.Errorf("subscription %d: %v", s, se)
		}
	}
	n.quiesce()
}
