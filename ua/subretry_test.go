package ua

import (
	"strconv"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// RFC 6665 §4.1.2.1 with RFC 3261 §10.2.8: a SUBSCRIBE refused with 423
// goes again asking for Min-Expires, CSeq one higher; the subscription
// then stands with what the notifier granted.
func TestSubscribe423(t *testing.T) {
	a := newSolo(t, Config{})
	var id uint64
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = a.u.Subscribe(now, mustURI("sip:bob@biloxi.example.com"), SubscribeOptions{
			Event: "presence", Expires: 60 * time.Second, Dest: proxyPeer,
		}, out)
		return out, err
	})
	s1 := a.last()
	a.receive(respond(t, s1, 423, "n1", func(m *message.Message) { message.Set(m, header.MinExpires(3600)) }))
	s2 := a.last()
	if s2 == s1 || s2.Method() != "SUBSCRIBE" || s2.CSeq().Seq != s1.CSeq().Seq+1 || s2.CallID() != s1.CallID() {
		t.Fatalf("no retry after 423: %v", startLines(a.sent))
	}
	if exp, _, _ := message.First[header.Expires](s2); exp != 3600 {
		t.Errorf("Expires %d, want Min-Expires 3600", exp)
	}
	a.receive(respond(t, s2, 200, "n1", func(m *message.Message) {
		message.Set(m, header.Expires(3600))
		m.Set("Contact", "<sip:bob@192.0.2.100:5060>")
	}))
	if _, failed := a.event(effects.SubscriptionEnded); failed {
		t.Fatalf("the subscription ended: %v", a.events)
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.u.Unsubscribe(now, id, out)
	})
	a.advance(5 * time.Minute)
	if a.u.Subscriptions() != 0 || a.u.Timers() != 0 || a.u.Transactions().Len() != 0 {
		t.Errorf("left: subs %d timers %d txns %d", a.u.Subscriptions(), a.u.Timers(), a.u.Transactions().Len())
	}
}

// RFC 3515 §2.4.6: the implicit subscription of a REFER that had to be
// sent again with credentials is identified by the CSeq of the REFER that
// was accepted: NOTIFYs with that id reach it.
func TestReferIDAfterAuth(t *testing.T) {
	srv := &digest.Server{Realm: "biloxi.example.com", Secret: []byte("0123456789abcdef-bob")}
	a := newSolo(t, Config{Credentials: aliceCreds})
	var call CallID
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		call, out, err = a.u.Call(now, mustURI("sip:bob@biloxi.example.com"), CallOptions{Body: []byte(sdpOffer), Dest: proxyPeer}, out)
		return out, err
	})
	a.receive(respond(t, a.last(), 200, "bobtag", func(m *message.Message) {
		m.Set("Contact", "<sip:bob@192.0.2.100:5060>")
		m.SetBody("application/sdp", []byte(sdpAnswer))
	}))
	var sub uint64
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		sub, out, err = a.u.Refer(now, call, mustURI("sip:carol@chicago.example.com"), ReferOptions{}, out)
		return out, err
	})
	r1 := a.lastRequest()
	a.receive(respond(t, r1, 401, "bobtag", challenge(srv, a.now, false, false)))
	r2 := a.lastRequest()
	if r2 == r1 || r2.Method() != "REFER" {
		t.Fatalf("REFER not retried: %v", startLines(a.sent))
	}
	a.receive(respond(t, r2, 202, "bobtag", nil))
	// Bob's NOTIFY, in the dialog, for id = the accepted REFER's CSeq.
	notify, err := message.ParseString("NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bKbobnotify1\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:bob@biloxi.example.com>;tag=bobtag\r\n"+
		"To: <sip:alice@atlanta.example.com>;tag="+r2.FromTag()+"\r\n"+
		"Call-ID: "+r2.CallID()+"\r\n"+
		"CSeq: 7 NOTIFY\r\n"+
		"Contact: <sip:bob@192.0.2.100:5060>\r\n"+
		"Event: refer;id="+strconv.FormatUint(uint64(r2.CSeq().Seq), 10)+"\r\n"+
		"Subscription-State: active;expires=60\r\n"+
		"Content-Type: message/sipfrag;version=2.0\r\n"+
		"Content-Length: 16\r\n\r\nSIP/2.0 180 Ring", nil)
	if err != nil {
		t.Fatal(err)
	}
	a.receive(notify)
	resp := a.last()
	if resp.IsRequest() || resp.StatusCode() != 200 {
		t.Fatalf("NOTIFY for the accepted REFER answered %s", resp.StartLine())
	}
	if e, ok := a.event(effects.TransferProgress); !ok || e.ID != sub || e.Code != 180 {
		t.Errorf("TransferProgress %+v %v", e, ok)
	}
}
