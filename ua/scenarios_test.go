package ua

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// answerAfter makes a node ring at once and answer after d.
func answerAfter(n *network, d time.Duration) func(nd *node, ev effects.Event) {
	return func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, RingOptions{}, out)
			})
			if d >= 0 {
				n.after(d, func() {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
					})
				})
			}
		case effects.CallReinvite:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(sdpAnswer), out)
			})
		case effects.RequestIncoming:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Reply(now, ev.ID, 200, ReplyOptions{}, out)
			})
		}
	}
}

func count(n *network, line string) int {
	c := 0
	for _, l := range n.wireLog() {
		if l == line {
			c++
		}
	}
	return c
}

// §13.2.2.4 and §19.3: a call forked to three phones: three early
// dialogs; two answer, both 2xx are acknowledged and the second is hung up;
// the proxy cancels the third.
func TestForking(t *testing.T) {
	n := newNetwork(t)
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, 1)
	b1 := n.add("bob1", "192.0.2.11:5060", effects.UDP, Config{}, 11)
	b2 := n.add("bob2", "192.0.2.12:5060", effects.UDP, Config{}, 12)
	b3 := n.add("bob3", "192.0.2.13:5060", effects.UDP, Config{}, 13)
	p := n.addProxy("proxy", "192.0.2.100:5060", []*node{b1, b2, b3}, false)
	b1.on = answerAfter(n, 2*time.Second)
	b2.on = answerAfter(n, 2*time.Second)
	b3.on = answerAfter(n, -1)
	a.callTo(b1, CallOptions{Body: []byte(sdpOffer), Dest: p.nd.addr})
	n.run(10 * time.Second)
	if got := count(n, "alice->proxy INVITE"); got != 1 {
		t.Fatalf("%d INVITEs", got)
	}
	// Three early dialogs, one per phone's 180.
	var rings []string
	for _, ev := range a.events {
		if ev.Kind == effects.CallRinging {
			rings = append(rings, ev.Msg.ToTag())
		}
	}
	if len(rings) != 3 || rings[0] == rings[1] || rings[1] == rings[2] || rings[0] == rings[2] {
		t.Fatalf("early dialogs %v", rings)
	}
	// Both 2xx acknowledged; the second one's dialog gets a BYE.
	if count(n, "alice->bob1 ACK") != 1 || count(n, "alice->bob2 ACK") != 1 {
		t.Errorf("ACKs: %v", n.wireLog())
	}
	if count(n, "alice->bob2 BYE") != 1 || count(n, "alice->bob1 BYE") != 0 {
		t.Errorf("BYEs: %v", n.wireLog())
	}
	if count(n, "proxy->bob3 CANCEL") != 1 || count(n, "bob3->proxy 487") != 1 {
		t.Errorf("bob3 not cancelled: %v", n.wireLog())
	}
	wantKinds(t, a, "ringing", "ringing", "ringing", "answered", "session-established")
	wantKinds(t, b1, "incoming", "session-established", "answered")
	wantKinds(t, b2, "incoming", "session-established", "answered", "ended")
	wantKinds(t, b3, "incoming", "ended")
	// The early dialog with bob3 lasts until the INVITE transaction ends
	// (Timer M, 32 s); then Alice keeps the one she answered.
	n.run(40 * time.Second)
	if a.ua.Dialogs() != 1 {
		t.Errorf("Alice keeps %d dialogs", a.ua.Dialogs())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// §9.1, §15: a CANCEL that crosses the 200: the call is up, so the caller
// acknowledges the 200 and hangs up with a BYE.
func TestCancelCrossing200(t *testing.T) {
	transports(t, func(t *testing.T, tr effects.Transport) {
		n, a, b := pair(t, tr, Config{}, Config{})
		b.on = answerAfter(n, time.Second)
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(time.Second) // Bob answers at 1 s + 10 ms; Alice hangs up at 1 s + 10 ms too
		n.after(10*time.Millisecond, func() {
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return a.ua.Hangup(now, a.call, out)
			})
		})
		n.quiesce()
		// Both cross at 1.01 s: Alice gets the 200 (ACK, BYE) before Bob
		// answers her CANCEL (200, no effect).
		wantWire(t, n, []string{
			"alice->bob INVITE", "bob->alice 180", "bob->alice 200", "alice->bob CANCEL",
			"alice->bob ACK", "alice->bob BYE", "bob->alice 200", "bob->alice 200",
		})
		wantKinds(t, a, "ringing", "ended")
		wantKinds(t, b, "incoming", "session-established", "answered", "ended")
		if ev, _ := b.lastEvent(effects.CallEnded); ev.Err != ErrRemoteBye {
			t.Errorf("Bob's call ended with %v", ev.Err)
		}
	})
}

// §9.1: a CANCEL waits for a provisional response.
func TestCancelWaitsForProvisional(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = func(*node, effects.Event) {} // Bob lets it ring; his UAS sends 100 Trying after 200 ms
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(100 * time.Millisecond)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	if len(n.wire) != 1 {
		t.Fatalf("sent %v before any provisional response", n.wire[1:])
	}
	n.quiesce()
	wantWire(t, n, []string{
		"alice->bob INVITE", "bob->alice 100", "alice->bob CANCEL",
		"bob->alice 200", "bob->alice 487", "alice->bob ACK",
	})
	if n.wire[2].at != n.wire[1].at+10*time.Millisecond {
		t.Errorf("CANCEL at %v, 100 at %v", n.wire[2].at, n.wire[1].at)
	}
}

// §13.2.1: Expires on the INVITE cancels it when it runs out.
func TestInviteExpires(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, -1)
	a.callTo(b, CallOptions{Body: []byte(sdpOffer), Expires: 5 * time.Second})
	n.quiesce()
	wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 180", "alice->bob CANCEL", "bob->alice 200", "bob->alice 487", "alice->bob ACK"})
	if w := n.wire[2]; w.at < 5*time.Second {
		t.Errorf("CANCEL at %v", w.at)
	}
	if v, ok, _ := message.First[header.Expires](n.wire[0].msg); !ok || v != 5 {
		t.Errorf("Expires %v %v", v, ok)
	}
}

// §13.3.1.4: a lost ACK: the callee retransmits the 2xx, the caller sends
// its ACK again.
func TestLostACK(t *testing.T) {
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
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(5 * time.Second)
	wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 180", "bob->alice 200", "alice->bob ACK (lost)", "bob->alice 200", "alice->bob ACK"})
	if d := n.wire[4].at - n.wire[2].at; d != 500*time.Millisecond {
		t.Errorf("2xx retransmitted after %v, want T1", d)
	}
	// The same ACK again.
	if n.wire[3].msg.String() != n.wire[5].msg.String() {
		t.Errorf("the ACK differs")
	}
	wantKinds(t, b, "incoming", "session-established", "answered")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// §13.3.1.4: a lost 2xx is retransmitted at T1, doubling to T2.
func TestLost2xx(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	lost := 0
	n.drop = func(w wireEntry) bool {
		if !w.msg.IsRequest() && w.msg.StatusCode() == 200 && lost < 3 {
			lost++
			return true
		}
		return false
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(10 * time.Second)
	var at []time.Duration
	for _, w := range n.wire {
		if !w.msg.IsRequest() && w.msg.StatusCode() == 200 {
			at = append(at, w.at-n.wire[2].at)
		}
	}
	if diff := cmp.Diff([]time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond}, at); diff != "" {
		t.Errorf("2xx sent at (-want +got):\n%s", diff)
	}
	wantKinds(t, a, "ringing", "answered", "session-established")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// §13.3.1.4: no ACK within 64·T1: the callee ends the session with a BYE.
func TestNoACK(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	n.drop = func(w wireEntry) bool { return w.msg.IsRequest() && w.msg.Method() == "ACK" }
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.quiesce()
	if got := count(n, "bob->alice 200"); got != 11 {
		// 0, .5, 1.5, 3.5, 7.5, 11.5, ... up to 32 s: T1 doubling to T2.
		t.Errorf("%d 2xx sent: %v", got, n.wireLog())
	}
	if count(n, "bob->alice BYE") != 1 {
		t.Errorf("no BYE: %v", n.wireLog())
	}
	if ev, _ := b.lastEvent(effects.CallEnded); ev.Err != ErrNoAck {
		t.Errorf("Bob's call ended with %v", ev.Err)
	}
	if ev, _ := a.lastEvent(effects.CallEnded); ev.Err != ErrRemoteBye {
		t.Errorf("Alice's call ended with %v", ev.Err)
	}
}

// §14.1: re-INVITE glare: both sides re-INVITE at once; both get 491 and
// retry after a random delay (the Call-ID's owner 2.1 to 4 s, the other up
// to 2 s); both modifications then succeed.
func TestReinviteGlare(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	a.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallReinvite {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(hold(sdpOffer)), out)
			})
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(2 * time.Second)
	start := n.now
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Update(now, a.call, []byte(hold(sdpOffer)), UpdateOptions{}, out)
	})
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.ua.Update(now, b.call, []byte(strings.Replace(sdpAnswer, "2808844564 IN", "2808844565 IN", 1)), UpdateOptions{}, out)
	})
	n.run(30 * time.Second)
	if count(n, "bob->alice 491") != 1 || count(n, "alice->bob 491") != 1 {
		t.Fatalf("no glare: %v", n.wireLog())
	}
	var reinvites []time.Duration
	for _, w := range n.wire {
		if w.msg.IsRequest() && w.msg.Method() == "INVITE" && w.msg.ToTag() != "" {
			reinvites = append(reinvites, w.at-time.Duration(start))
		}
	}
	if len(reinvites) != 4 {
		t.Fatalf("re-INVITEs at %v", reinvites)
	}
	// The retries: Bob (not the owner) within 2 s, Alice within 2.1–4 s,
	// plus the 491's round trip.
	var aliceRetry, bobRetry time.Duration
	for _, w := range n.wire {
		if w.msg.IsRequest() && w.msg.Method() == "INVITE" && w.msg.ToTag() != "" && w.at > time.Duration(start)+50*time.Millisecond {
			if w.from == "alice" && aliceRetry == 0 {
				aliceRetry = w.at - time.Duration(start)
			}
			if w.from == "bob" && bobRetry == 0 {
				bobRetry = w.at - time.Duration(start)
			}
		}
	}
	if bobRetry > 2100*time.Millisecond || aliceRetry < 2100*time.Millisecond || aliceRetry > 4100*time.Millisecond {
		t.Errorf("retries: Alice after %v, Bob after %v", aliceRetry, bobRetry)
	}
	// ACKs: Alice's for the initial 2xx, each side's for the other's 491
	// (sent by the client transaction), and each side's for its re-INVITE's
	// 2xx.
	if count(n, "alice->bob ACK") != 3 || count(n, "bob->alice ACK") != 2 {
		t.Errorf("ACKs: %v", n.wireLog())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

// RFC 3262: reliable provisional responses: the 183 with the answer is
// retransmitted until its PRACK; a lost PRACK is retransmitted by its own
// transaction; the session is established early.
func TestPrack(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{Reliable: true}, Config{Reliable: true})
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallIncoming {
			if !requires(ev.Msg, "100rel") {
				t.Errorf("INVITE without Require: 100rel")
			}
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
			})
			n.after(5*time.Second, func() {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
				})
			})
		}
	}
	lost183, lostPRACK := false, false
	n.drop = func(w wireEntry) bool {
		if !w.msg.IsRequest() && w.msg.StatusCode() == 183 && !lost183 {
			lost183 = true
			return true
		}
		if w.msg.IsRequest() && w.msg.Method() == "PRACK" && !lostPRACK {
			lostPRACK = true
			return true
		}
		return false
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(10 * time.Second)
	// At 500 ms the INVITE's retransmission and the 183's meet: Bob's
	// transaction answers the INVITE with its latest 183, and its reliable
	// retransmission goes out too; Alice acknowledges RSeq once; her lost
	// PRACK is retransmitted by its transaction, which stops the 183s.
	wantWire(t, n, []string{
		"alice->bob INVITE", "bob->alice 183 (lost)", "alice->bob INVITE", "bob->alice 183", "bob->alice 183",
		"alice->bob PRACK (lost)", "alice->bob PRACK", "bob->alice 200",
		"bob->alice 200", "alice->bob ACK",
	})
	r183 := n.wire[3].msg
	if rs, ok := rseqOf(r183); !ok || rs == 0 || !requires(r183, "100rel") {
		t.Errorf("183 without RSeq/Require")
	}
	pr := n.wire[6].msg
	if rack, _, _ := message.First[header.RAck](pr); rack.RSeq != mustRSeq(r183) || rack.Method != "INVITE" {
		t.Errorf("RAck %+v", rack)
	}
	// The session is established by the reliable 183, before the answer;
	// its retransmission is discarded (RFC 3262 §4).
	wantKinds(t, a, "session-established", "ringing", "answered")
	wantKinds(t, b, "incoming", "session-established", "answered")
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

func mustRSeq(m *message.Message) uint32 { r, _ := rseqOf(m); return r }

// RFC 4028: the refresher refreshes at half the interval; a session nobody
// refreshes ends with a BYE at the interval minus min(32 s, interval/3).
func TestSessionTimer(t *testing.T) {
	cfg := Config{SessionExpires: 120 * time.Second, MinSE: 90 * time.Second}
	t.Run("refreshed", func(t *testing.T) {
		n, a, b := pair(t, effects.UDP, cfg, cfg)
		b.on = answerAfter(n, 0)
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(200 * time.Second)
		ok := n.wire[2].msg
		se, has, _ := message.First[header.SessionExpires](ok)
		if !has || se.Delta != 120 || se.Refresher() != "uac" || !requires(ok, "timer") {
			t.Errorf("2xx Session-Expires %+v", se)
		}
		// Refreshes by Alice at 60 s intervals; nobody hangs up.
		var refreshes []time.Duration
		for _, w := range n.wire {
			if w.msg.IsRequest() && w.msg.Method() == "INVITE" && w.msg.ToTag() != "" {
				refreshes = append(refreshes, w.at.Round(time.Second))
			}
		}
		if diff := cmp.Diff([]time.Duration{60 * time.Second, 120 * time.Second, 180 * time.Second}, refreshes); diff != "" {
			t.Errorf("refreshes (-want +got):\n%s", diff)
		}
		if count(n, "alice->bob BYE")+count(n, "bob->alice BYE") != 0 {
			t.Errorf("hung up: %v", n.wireLog())
		}
		// Refreshes change nothing: no session events.
		wantKinds(t, a, "ringing", "answered", "session-established")
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
	})
	t.Run("expired", func(t *testing.T) {
		n, a, b := pair(t, effects.UDP, cfg, cfg)
		b.on = answerAfter(n, 0)
		n.drop = func(w wireEntry) bool { return w.msg.IsRequest() && w.msg.Method() == "INVITE" && w.msg.ToTag() != "" }
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.quiesce()
		if ev, ok := b.lastEvent(effects.CallEnded); !ok || ev.Err != ErrSessionExpired {
			t.Fatalf("Bob: %v", b.kinds())
		}
		for _, w := range n.wire {
			if w.msg.IsRequest() && w.msg.Method() == "BYE" {
				if w.from != "bob" || w.at.Round(time.Second) != 88*time.Second {
					t.Errorf("BYE %v at %v, want Bob's at 120-min(32,40) = 88 s", w, w.at)
				}
				break
			}
		}
	})
	// §10: the refresher's refresh reached Bob, who accepted it, but his
	// 2xx are lost until after the moment the non-refresher would give up
	// (90 s less 30 s after the session began): Alice, the refresher,
	// waits for her refresh's outcome (a 2xx, or its timeout, 408 or 481)
	// and keeps the session Bob has just refreshed; only a session
	// expiration would end it.
	t.Run("refresher waits for its refresh", func(t *testing.T) {
		cfg := Config{SessionExpires: 90 * time.Second}
		n, a, b := pair(t, effects.UDP, cfg, cfg)
		b.on = answerAfter(n, 0)
		n.drop = func(w wireEntry) bool {
			return w.from == "bob" && !w.msg.IsRequest() && w.msg.StatusCode() == 200 && w.msg.CSeq().Method == "INVITE" &&
				w.msg.CSeq().Seq > 1 && w.at < 60*time.Second+100*time.Millisecond
		}
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(100 * time.Second)
		if count(n, "alice->bob BYE")+count(n, "bob->alice BYE") != 0 {
			t.Fatalf("the session was ended: %v", n.wireLog())
		}
		if count(n, "bob->alice 200 (lost)") == 0 {
			t.Fatalf("no 2xx to the refresh was lost: %v", n.wireLog())
		}
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
	})
	t.Run("422", func(t *testing.T) {
		n, a, b := pair(t, effects.UDP, Config{SessionExpires: 90 * time.Second, MinSE: 90 * time.Second},
			Config{SessionExpires: 300 * time.Second, MinSE: 150 * time.Second})
		b.on = answerAfter(n, 0)
		a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
		n.run(5 * time.Second)
		wantWire(t, n, []string{"alice->bob INVITE", "bob->alice 422", "alice->bob ACK", "alice->bob INVITE", "bob->alice 180", "bob->alice 200", "alice->bob ACK"})
		retry := n.wire[3].msg
		if se, _, _ := message.First[header.SessionExpires](retry); se.Delta != 150 || retry.CSeq().Seq != n.wire[0].msg.CSeq().Seq+1 || retry.CallID() != n.wire[0].msg.CallID() {
			t.Errorf("retry %v", retry.StartLine())
		}
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
	})
}

// §8.2: a UAS rejects what it cannot handle, saying why.
func TestUASChecks(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m *message.Message)
		code   int
		header string
		value  string
	}{
		{"unsupported extension: 420 (§8.2.2.3)", func(m *message.Message) { m.Set("Require", "foo, 100rel") }, 420, "Unsupported", "foo"},
		{"unknown body type: 415 (§8.2.3)", func(m *message.Message) { m.SetBody("text/plain", []byte("hello")) }, 415, "Accept", "application/sdp"},
		{"compressed body: 415 (§8.2.3)", func(m *message.Message) { m.Set("Content-Encoding", "gzip") }, 415, "Accept-Encoding", "identity"},
		{"unknown URI scheme: 416 (§8.2.2.1)", func(m *message.Message) { m.SetRequestURI(mustURI("im:bob@example.com")) }, 416, "", ""},
		{"method not allowed: 405 (§8.2.1)", func(m *message.Message) {
			mm, _ := message.ParseString(strings.Replace(strings.Replace(m.String(), "INVITE sip:", "REGISTER sip:", 1), " INVITE\r\n", " REGISTER\r\n", 1), nil)
			*m = *mm.Clone()
		}, 405, "Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, MESSAGE, SUBSCRIBE, NOTIFY, REFER"},
		{"unknown method: 501 (§8.2.1)", func(m *message.Message) {
			mm, _ := message.ParseString(strings.Replace(strings.Replace(m.String(), "INVITE sip:", "FROBNICATE sip:", 1), " INVITE\r\n", " FROBNICATE\r\n", 1), nil)
			*m = *mm.Clone()
		}, 501, "", ""},
		{"session interval too small: 422 (RFC 4028)", func(m *message.Message) { m.Set("Session-Expires", "30") }, 422, "Min-SE", "90"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, a, b := pair(t, effects.UDP, Config{}, Config{SessionExpires: 1800 * time.Second})
			b.on = answerAfter(n, 0)
			// Build Alice's INVITE, edit it, and send it raw.
			inv := captureInvite(t, a, b)
			tc.edit(inv)
			n.schedule(item{at: n.now, node: b, data: inv.Bytes(), from: a.addr})
			n.run(time.Second)
			var resp *message.Message
			for _, w := range n.wire {
				if w.from == "bob" && !w.msg.IsRequest() {
					resp = w.msg
				}
			}
			if resp == nil || resp.StatusCode() != tc.code {
				t.Fatalf("response %v, want %d", n.wireLog(), tc.code)
			}
			if tc.header != "" {
				if v, _ := resp.Get(tc.header); v != tc.value {
					t.Errorf("%s: %q, want %q", tc.header, v, tc.value)
				}
			}
			if b.ua.Calls() != 0 {
				t.Errorf("a rejected request made a call")
			}
		})
	}
	// §8.2.2.2: the same INVITE by a second path (another branch) is a
	// merged request: 482.
	t.Run("merged request: 482 (§8.2.2.2)", func(t *testing.T) {
		n, a, b := pair(t, effects.UDP, Config{}, Config{})
		b.on = answerAfter(n, -1)
		inv := captureInvite(t, a, b)
		n.schedule(item{at: n.now, node: b, data: inv.Bytes(), from: a.addr})
		n.run(100 * time.Millisecond)
		again := inv.Clone()
		v := again.TopVia()
		v.Params = header.Params(";branch=z9hG4bKotherpath")
		again.ReplaceTopVia(v)
		n.schedule(item{at: n.now, node: b, data: again.Bytes(), from: a.addr})
		n.run(200 * time.Millisecond)
		if count(n, "bob->alice 482") != 1 {
			t.Errorf("wire %v", n.wireLog())
		}
	})
}

// captureInvite builds an INVITE like Alice's to Bob, with a UA of her
// configuration that is not on the network.
func captureInvite(t *testing.T, a, b *node) *message.Message {
	t.Helper()
	cfg := a.ua.Config()
	cfg.Gen = ident.Seeded(1234)
	twin, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := twin.Call(0, mustURI("sip:bob@"+b.addr.Addr.String()), CallOptions{Body: []byte(sdpOffer), Dest: b.addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out {
		if e.Kind == effects.Send {
			return e.Msg.Clone()
		}
	}
	t.Fatal("no INVITE")
	return nil
}

// RFC 3264 §8.4: hold and resume by re-INVITE, and a modification by UPDATE
// (RFC 3311).
func TestHoldResumeUpdate(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		case effects.CallReinvite:
			answer := sdpAnswer
			if strings.Contains(ev.Msg.Body(), "a=sendonly") {
				answer = strings.Replace(sdpAnswer, "PCMU/8000\r\n", "PCMU/8000\r\na=recvonly\r\n", 1)
			}
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(answer), out)
			})
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Update(now, a.call, []byte(hold(sdpOffer)), UpdateOptions{}, out)
	})
	n.run(2 * time.Second)
	resume := strings.Replace(sdpOffer, "2890844526 IN", "2890844528 IN", 1)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Update(now, a.call, []byte(resume), UpdateOptions{UseUpdate: true}, out)
	})
	n.run(3 * time.Second)
	wantKinds(t, b, "incoming", "session-established", "answered", "reinvite", "session-modified", "session-held", "reinvite", "session-modified", "session-resumed")
	wantKinds(t, a, "answered", "session-established", "session-modified", "session-modified")
	if count(n, "alice->bob UPDATE") != 1 || count(n, "bob->alice 200") != 3 {
		t.Errorf("wire %v", n.wireLog())
	}
	// A second modification while one is pending is refused.
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Update(now, a.call, []byte(hold(sdpOffer)), UpdateOptions{}, out)
	})
	if _, err := a.ua.Update(n.now, a.call, []byte(sdpOffer), UpdateOptions{}, nil); err != ErrPending {
		t.Errorf("second update: %v", err)
	}
	n.run(4 * time.Second)
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return b.ua.Hangup(now, b.call, out)
	})
	n.quiesce()
}

// §12.2.2: requests for an unknown dialog get 481; out of order, 500.
func TestInDialogErrors(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = answerAfter(n, 0)
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	s := a.ua.calls[a.call].kept
	// A BYE with a CSeq below Bob's remote sequence number: 500.
	old, _, err := s.d.Request("INFO", dialogOpts(a, s, s.d.LocalSeq))
	if err != nil {
		t.Fatal(err)
	}
	s.d.LocalSeq += 5
	newer, _, _ := s.d.Request("INFO", dialogOpts(a, s, 0))
	n.schedule(item{at: n.now, node: b, data: newer.Bytes(), from: a.addr})
	n.run(1200 * time.Millisecond)
	n.schedule(item{at: n.now, node: b, data: old.Bytes(), from: a.addr})
	n.run(1400 * time.Millisecond)
	// A BYE in a dialog Bob never had: 481.
	stranger := strings.Replace(newer.String(), s.d.ID.LocalTag, "nosuchtag", 1)
	stranger = strings.Replace(stranger, "INFO sip:", "BYE sip:", 1)
	stranger = strings.Replace(stranger, " INFO\r\n", " BYE\r\n", 1)
	stranger = strings.Replace(stranger, "branch=z9hG4bK", "branch=z9hG4bKx", 1)
	n.schedule(item{at: n.now, node: b, data: []byte(stranger), from: a.addr})
	n.run(1600 * time.Millisecond)
	var codes []int
	for _, w := range n.wire[len(n.wire)-3:] {
		codes = append(codes, w.msg.StatusCode())
	}
	// The INFO in order goes to the application, which answers 200.
	if diff := cmp.Diff([]int{200, 500, 481}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s (%v)", diff, n.wireLog())
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}

func dialogOpts(a *node, s *session, seq uint32) dialog.RequestOptions {
	return dialog.RequestOptions{Via: a.ua.via(s.peer), CSeq: seq}
}
