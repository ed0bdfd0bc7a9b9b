package ua

import (
	"net/netip"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// RFC 6665 §8.2.3: a NOTIFY carries Subscription-State; one without is
// answered 400 (§4.1.3), and creates nothing: a NOTIFY of another fork
// (§4.1.2.4) that got 400 made a subscription the application never heard
// of, which nothing ended. (Found by fuzz.FuzzUABytes.)
func TestNotifyWithoutStateCreatesNoFork(t *testing.T) {
	u, err := New(Config{AOR: mustURI("sip:alice@example.com"), Contact: mustURI("sip:alice@192.0.2.1"), Host: "192.0.2.1", Gen: ident.Seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
	var sub, resp *message.Message
	apply := func(effs []effects.Effect) {
		for _, e := range effs {
			if e.Kind == effects.Send && e.Msg != nil {
				if e.Msg.IsRequest() {
					sub = e.Msg
				} else {
					resp = e.Msg
				}
			}
		}
	}
	_, out, err := u.Subscribe(0, mustURI("sip:bob@192.0.2.2"), SubscribeOptions{Event: "presence", Dest: bob}, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(out)
	ok, err := message.NewResponse(sub, 200, "", message.ResponseOptions{ToTag: "fork1"})
	if err != nil {
		t.Fatal(err)
	}
	ok.Set("Contact", "<sip:bob@192.0.2.2>")
	ok.Set("Expires", "600")
	apply(u.Handle(effects.Input{Kind: effects.Received, Data: ok.Bytes(), From: bob}, nil))
	if u.Subscriptions() != 1 || u.Dialogs() != 1 {
		t.Fatalf("after the 2xx: %d subscriptions, %d dialogs", u.Subscriptions(), u.Dialogs())
	}
	notify := "NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bKn2\r\n" +
		"From: <sip:bob@example.com>;tag=fork2\r\nTo: <sip:alice@example.com>;tag=" + sub.FromTag() + "\r\nCall-ID: " + sub.CallID() + "\r\n" +
		"CSeq: 1 NOTIFY\r\nContact: <sip:bob@192.0.2.3>\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n"
	apply(u.Handle(effects.Input{Kind: effects.Received, Data: []byte(notify), From: bob}, nil))
	if resp == nil || resp.StatusCode() != 400 {
		t.Fatalf("the NOTIFY without Subscription-State was answered %v", resp)
	}
	if u.Subscriptions() != 1 || u.Dialogs() != 1 {
		t.Errorf("the NOTIFY made a fork: %d subscriptions, %d dialogs", u.Subscriptions(), u.Dialogs())
	}
}
