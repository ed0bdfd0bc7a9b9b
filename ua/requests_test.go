package ua

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// RFC 3428 §4, §7: a MESSAGE outside any dialog, without Contact, is
// answered by the recipient's application; the sender hears the final
// response.
func TestMessage(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{AcceptOther: []string{"text/plain"}})
		var got *message.Message
		b.on = func(nd *node, ev effects.Event) {
			if ev.Kind != effects.RequestIncoming {
				return
			}
			got = ev.Msg
			if ev.Ref != 0 {
				t.Errorf("a MESSAGE outside a dialog has no call: Ref %d", ev.Ref)
			}
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Reply(now, ev.ID, 200, ReplyOptions{}, out)
			})
		}
		var rid uint64
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			var err error
			rid, out, err = a.ua.Request(now, "MESSAGE", mustURI("sip:bob@192.0.2.2"), RequestOptions{
				Dest: peerOf(b), ContentType: "text/plain", Body: []byte("Watson, come here."),
			}, out)
			return out, err
		})
		n.run(time.Second)
		wantWire(t, n, []string{"alice->bob MESSAGE", "bob->alice 200"})
		if got == nil || got.Body() != "Watson, come here." || got.Has("Contact") {
			t.Fatalf("Bob's application got %v", got)
		}
		e, ok := a.lastEvent(effects.RequestDone)
		if !ok || e.ID != rid || e.Code != 200 {
			t.Errorf("RequestDone %+v %v", e, ok)
		}
		n.quiesce()
	})
}

func peerOf(nd *node) effects.Peer {
	return effects.Peer{Addr: nd.addr.Addr, Transport: nd.addr.Transport}
}

// RFC 6086 §4.2: INFO inside an established call reaches the peer's
// application with the call's id, and its answer comes back; INFO outside
// a dialog gets 481.
func TestInfo(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	var infos []string
	var bobCall CallID
	b.on = func(nd *node, ev effects.Event) {
		answerAfter(n, 0)(nd, ev)
		switch ev.Kind {
		case effects.CallIncoming:
			bobCall = ev.ID
		case effects.RequestIncoming:
			if ev.Ref != bobCall {
				t.Errorf("INFO Ref %d, Bob's call %d", ev.Ref, bobCall)
			}
			infos = append(infos, ev.Msg.Body())
		}
	}
	callID := a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(1 * time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.ua.CallRequest(now, callID, "INFO", "application/dtmf-relay", []byte("Signal=1\r\n"), out)
		return out, err
	})
	n.run(2 * time.Second)
	if diff := cmp.Diff([]string{"Signal=1\r\n"}, infos); diff != "" {
		t.Errorf("INFO bodies (-want +got):\n%s", diff)
	}
	e, ok := a.lastEvent(effects.RequestDone)
	if !ok || e.Code != 200 || e.Ref != callID {
		t.Errorf("RequestDone %+v %v", e, ok)
	}
	info := n.wire[len(n.wire)-2].msg
	if info.Method() != "INFO" || info.ToTag() == "" || info.CallID() != n.wire[0].msg.CallID() {
		t.Errorf("INFO outside the callID's dialog: %s", info)
	}
	// INFO outside a dialog: 481 (RFC 6086 §4.2.1).
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.ua.Request(now, "INFO", mustURI("sip:bob@192.0.2.2"), RequestOptions{Dest: peerOf(b)}, out)
		return out, err
	})
	n.run(3 * time.Second)
	if e, _ := a.lastEvent(effects.RequestDone); e.Code != 481 {
		t.Errorf("INFO outside a dialog: %d", e.Code)
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, callID, out)
	})
	n.quiesce()
}

// RFC 3261 §21.4.9: a request the application never answers gets 408
// before the sender's Timer F fires; nothing is left of it.
func TestRequestUnanswered(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.ua.Request(now, "MESSAGE", mustURI("sip:bob@192.0.2.2"), RequestOptions{
			Dest: peerOf(b), ContentType: "text/plain", Body: []byte("hello?"),
		}, out)
		return out, err
	})
	n.run(time.Minute)
	e, ok := a.lastEvent(effects.RequestDone)
	if !ok || e.Code != 408 || e.Msg == nil {
		t.Fatalf("RequestDone %+v %v: want a 408 response from Bob, before Timer F", e, ok)
	}
	if _, ok := b.lastEvent(effects.RequestIncoming); !ok {
		t.Error("Bob's application never heard of it")
	}
	n.quiesce()
}

// RFC 3428 §7 and RFC 3261 §8.2.3: a body type the application does not
// take gets 415 with Accept; an unknown request id is an error.
func TestRequestChecks(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{AcceptOther: []string{"text/plain"}})
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.ua.Request(now, "MESSAGE", mustURI("sip:bob@192.0.2.2"), RequestOptions{
			Dest: peerOf(b), ContentType: "application/im-iscomposing+xml", Body: []byte("<x/>"),
		}, out)
		return out, err
	})
	n.run(time.Second)
	resp := n.wire[len(n.wire)-1].msg
	if resp.StatusCode() != 415 {
		t.Fatalf("got %s", resp.StartLine())
	}
	if v, _ := resp.Get("Accept"); v != "text/plain" {
		t.Errorf("Accept %q", v)
	}
	if _, err := b.ua.Reply(n.now, 12345, 200, ReplyOptions{}, nil); err != ErrNoRequest {
		t.Errorf("Reply to nothing: %v", err)
	}
	if _, _, err := a.ua.Request(n.now, "BYE", mustURI("sip:bob@192.0.2.2"), RequestOptions{}, nil); err == nil {
		t.Error("Request sent a BYE")
	}
	if _, _, err := a.ua.Request(n.now, "MESSAGE", mustURI("sip:bob@192.0.2.2"), RequestOptions{Body: []byte("x")}, nil); err == nil {
		t.Error("a body without a type was sent")
	}
	if _, _, err := a.ua.Request(n.now, "MESSAGE", mustURI("sip:bob@192.0.2.2"), RequestOptions{Fields: [][2]string{{"X-Evil", "a\r\nVia: x"}}}, nil); err == nil {
		t.Error("a field with CRLF was sent")
	}
	n.quiesce()
}

// A re-INVITE the peer refuses (488) leaves the session as it was and
// says so (CallUpdateFailed).
func TestUpdateRefused(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallReinvite {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Decline(now, ev.ID, 488, out)
			})
			return
		}
		answerAfter(n, 0)(nd, ev)
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(1 * time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hold(now, a.call, UpdateOptions{}, out)
	})
	n.run(2 * time.Second)
	e, ok := a.lastEvent(effects.CallUpdateFailed)
	if !ok || e.Code != 488 || e.ID != a.call {
		t.Fatalf("CallUpdateFailed %+v %v", e, ok)
	}
	if _, ended := a.lastEvent(effects.CallEnded); ended {
		t.Fatal("a refused re-INVITE ended the call")
	}
	// The session goes on: a second attempt is allowed.
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// RFC 5057 §5.1 with RFC 3261 §15: a callee whose in-dialog request is
// answered 481 before its 2xx is acknowledged ends the call, but sends its
// BYE only once the ACK arrives, and keeps retransmitting the 2xx until
// then (§13.3.1.4).
func TestDialogGoneBeforeACK(t *testing.T) {
	b := newSolo(t, Config{})
	inv, err := message.NewRequest("INVITE", mustURI("sip:alice@192.0.2.1"), message.RequestOptions{
		From:        header.From{URI: mustURI("sip:carol@chicago.example.com")},
		To:          header.To{URI: mustURI("sip:alice@atlanta.example.com")},
		Via:         header.Via{Transport: "UDP", Host: "192.0.2.100", Port: 5060, Params: ";branch=z9hG4bKcarol1"},
		Contact:     &header.Contact{URI: mustURI("sip:carol@192.0.2.100:5060")},
		ContentType: "application/sdp", Body: []byte(sdpOffer),
		Gen: ident.Seeded(9),
	})
	if err != nil {
		t.Fatal(err)
	}
	b.receive(inv)
	in, ok := b.event(effects.CallIncoming)
	if !ok {
		t.Fatal("no CallIncoming")
	}
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.u.Answer(now, in.ID, []byte(sdpAnswer), out)
	})
	ok200 := b.last()
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := b.u.CallRequest(now, in.ID, "INFO", "application/dtmf-relay", []byte("Signal=2\r\n"), out)
		return out, err
	})
	info := b.last()
	b.receive(respond(t, info, 481, info.ToTag(), nil))
	b.advance(2 * time.Second)
	for _, m := range b.sent {
		if m.IsRequest() && m.Method() == "BYE" {
			t.Fatal("§15: BYE sent before the ACK")
		}
	}
	if n := countStatus(b.sent, 200, "INVITE"); n < 2 {
		t.Errorf("§13.3.1.4: the 2xx was not retransmitted (%d sent)", n)
	}
	if _, ended := b.event(effects.CallEnded); ended {
		t.Error("CallEnded before the BYE it announces")
	}
	ack, err := message.AckFor(inv, ok200)
	if err != nil {
		t.Fatal(err)
	}
	ack.ReplaceTopVia(header.Via{Transport: "UDP", Host: "192.0.2.100", Port: 5060, Params: ";branch=z9hG4bKcarolack"})
	b.receive(ack)
	if bye := b.lastRequest(); bye.Method() != "BYE" {
		t.Fatalf("no BYE after the ACK: %v", startLines(b.sent))
	}
	if e, ok := b.event(effects.CallEnded); !ok || !errors.Is(e.Err, ErrDialogGone) || e.Code != 481 {
		t.Errorf("CallEnded %+v %v", e, ok)
	}
	b.receive(respond(t, b.lastRequest(), 200, "", nil))
	b.advance(time.Minute)
	if b.u.Calls() != 0 || b.u.Timers() != 0 || b.u.Transactions().Len() != 0 {
		t.Errorf("left: calls %d timers %d txns %d", b.u.Calls(), b.u.Timers(), b.u.Transactions().Len())
	}
}

func countStatus(ms []*message.Message, code int, method string) int {
	n := 0
	for _, m := range ms {
		if !m.IsRequest() && m.StatusCode() == code && m.CSeq().Method == method {
			n++
		}
	}
	return n
}

// RFC 3264 §8: offering the current description again is still an offer
// whose answer completes an exchange (SessionModified); a 2xx that owes an
// answer and carries none fails the offer (CallUpdateFailed) and leaves the
// session free for the next one.
func TestReofferAndMissingAnswer(t *testing.T) {
	a := newSolo(t, Config{})
	var id CallID
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = a.u.Call(now, mustURI("sip:bob@biloxi.example.com"), CallOptions{Body: []byte(sdpOffer), Dest: proxyPeer}, out)
		return out, err
	})
	a.receive(respond(t, a.last(), 200, "bobtag", func(m *message.Message) {
		m.Set("Contact", "<sip:bob@192.0.2.100:5060>")
		m.SetBody("application/sdp", []byte(sdpAnswer))
	}))
	for i, tc := range []struct {
		offer  string
		answer string
		want   effects.EventKind
	}{
		{sdpOffer, sdpAnswer, effects.SessionModified},
		{hold(sdpOffer), "", effects.CallUpdateFailed},
		{hold(sdpOffer), sdpAnswer, effects.SessionModified},
	} {
		a.events = nil
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.u.Update(now, id, []byte(tc.offer), UpdateOptions{}, out)
		})
		reinv := a.lastRequest()
		if reinv.Method() != "INVITE" || reinv.Body() != tc.offer {
			t.Fatalf("step %d: sent %s", i, reinv.StartLine())
		}
		a.receive(respond(t, reinv, 200, "bobtag", func(m *message.Message) {
			if tc.answer != "" {
				m.SetBody("application/sdp", []byte(tc.answer))
			}
		}))
		if _, ok := a.event(tc.want); !ok {
			t.Errorf("step %d: no %v in %v", i, tc.want, a.events)
		}
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.u.Hangup(now, id, out)
	})
	a.receive(respond(t, a.lastRequest(), 200, "bobtag", nil))
	a.advance(time.Minute)
	if a.u.Calls() != 0 || a.u.Timers() != 0 || a.u.Transactions().Len() != 0 {
		t.Errorf("left: calls %d timers %d txns %d", a.u.Calls(), a.u.Timers(), a.u.Transactions().Len())
	}
}
