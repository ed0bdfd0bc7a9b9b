package ua

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// RFC 3261 §12.1.1: a request whose From has no tag (an RFC 2543 peer)
// has a null tag, and the dialog it creates a null remote tag: the UA's
// requests in it carry a To without a tag. A NOTIFY like that creates the
// subscription's dialog (RFC 6665 §4.1.2.4), and the unsubscribe that
// follows is a SUBSCRIBE in that dialog, though its To has no tag: when it
// times out (or is answered) the subscription ends. (Found by
// fuzz.FuzzUABytes: the UA took the unsubscribe for its first SUBSCRIBE by
// its To tag, and the subscription stayed forever.)
func TestUnsubscribeNullTagDialog(t *testing.T) {
	for _, answered := range []bool{false, true} {
		u, err := New(Config{AOR: mustURI("sip:alice@example.com"), Contact: mustURI("sip:alice@192.0.2.1"), Host: "192.0.2.1", Gen: ident.Seeded(1)})
		if err != nil {
			t.Fatal(err)
		}
		bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
		timers := map[effects.TimerID]effects.Time{}
		var now effects.Time
		var events []effects.Event
		var last *message.Message // the last request sent
		apply := func(effs []effects.Effect) {
			for _, e := range effs {
				switch e.Kind {
				case effects.Send:
					if e.Msg != nil && e.Msg.IsRequest() {
						last = e.Msg
					}
				case effects.SetTimer:
					timers[e.Timer] = now.Add(e.After)
				case effects.CancelTimer:
					delete(timers, e.Timer)
				case effects.Deliver:
					events = append(events, e.Event)
				}
			}
		}
		receive := func(raw string) {
			apply(u.Handle(effects.Input{Kind: effects.Received, Now: now, Data: []byte(raw), From: bob}, nil))
		}
		id, out, err := u.Subscribe(now, mustURI("sip:bob@192.0.2.2"), SubscribeOptions{Event: "presence", Dest: bob}, nil)
		if err != nil {
			t.Fatal(err)
		}
		apply(out)
		sub := last
		receive("NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKn1\r\n" +
			"From: <sip:bob@192.0.2.2>\r\nTo: <sip:alice@example.com>;tag=" + sub.FromTag() + "\r\nCall-ID: " + sub.CallID() + "\r\n" +
			"CSeq: 1 NOTIFY\r\nContact: <sip:bob@192.0.2.2>\r\nEvent: presence\r\nSubscription-State: active\r\nContent-Length: 0\r\n\r\n")
		if !slices.ContainsFunc(events, func(ev effects.Event) bool { return ev.Kind == effects.SubscriptionActive }) {
			t.Fatalf("the NOTIFY did not make the subscription active: %v", events)
		}
		out, err = u.Unsubscribe(now, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		apply(out)
		if last.Method() != "SUBSCRIBE" || last.ToTag() != "" || !strings.Contains(string(last.Bytes()), "Expires: 0") {
			t.Fatalf("unsubscribe sent as:\n%s", last.Bytes())
		}
		if answered {
			ok, err := message.NewResponse(last, 200, "", message.ResponseOptions{ToTag: "x"})
			if err != nil {
				t.Fatal(err)
			}
			ok.Del("To")
			ok.Set("To", "<sip:bob@192.0.2.2>") // the null tag again
			receive(string(ok.Bytes()))
		}
		fireTimers(t, u, &now, timers, apply)
		if !slices.ContainsFunc(events, func(ev effects.Event) bool { return ev.Kind == effects.SubscriptionEnded && ev.ID == id }) {
			t.Errorf("answered %v: no SubscriptionEnded: %v", answered, events)
		}
		if u.Subscriptions() != 0 || u.Dialogs() != 0 || u.Transactions().Len() != 0 || u.Timers() != 0 {
			t.Errorf("answered %v: left %d subscriptions, %d dialogs, %d transactions, %d timers", answered, u.Subscriptions(), u.Dialogs(), u.Transactions().Len(), u.Timers())
		}
	}
}
