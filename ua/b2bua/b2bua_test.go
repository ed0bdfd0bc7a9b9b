package b2bua_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// endedOnce checks that every call of every node ended exactly once, and
// returns the number of calls that ended per node.
func endedOnce(t tester, nodes ...*node) {
	t.Helper()
	for _, nd := range nodes {
		ends := map[ua.CallID]int{}
		for _, ev := range nd.events {
			switch ev.Kind {
			case effects.CallIncoming:
				ends[ev.ID] += 0
			case effects.CallEnded, effects.CallFailed:
				ends[ev.ID]++
			}
		}
		for id, n := range ends {
			if n != 1 {
				t.Errorf("%s: call %d ended %d times: %v", nd.name, id, n, nd.kinds())
			}
		}
	}
}

// RFC 7092 §3.1, RFC 3261 §6: a signalling-only B2BUA answers leg A as a
// UAS and places leg B as a UAC. The offer goes A→B, the answer B→A, and the
// legs share no dialog identifier: Call-ID, tags, CSeq and Via branches
// are each leg's own (RFC 3261 §8.1.1, §12.1).
func TestBridgedCall(t *testing.T) {
	for _, oneUA := range []bool{false, true} {
		w := newWorld(t, worldOptions{oneUA: oneUA})
		w.alice.on = func(*node, effects.Event) {}
		w.bob.on = answerer{ringCode: 180, after: time.Second, answer: sdpAnswer, accept: recvonly}.on
		id := w.call(sdpOffer)
		w.n.run(5 * time.Second)

		in, ok := w.bob.last(effects.CallIncoming)
		if !ok || in.Msg.Body() != sdpOffer {
			t.Fatalf("bob got no INVITE with alice's offer: %v", w.bob.kinds())
		}
		ans, ok := w.alice.last(effects.CallAnswered)
		if !ok || ans.Msg.Body() != sdpAnswer {
			t.Fatalf("alice got no 2xx with bob's answer: %v", w.alice.kinds())
		}
		if _, ok := w.alice.last(effects.CallRinging); !ok {
			t.Errorf("the 180 was not relayed: %v", w.alice.kinds())
		}
		if w.b2b.Bridges() != 1 {
			t.Errorf("Bridges() = %d, want 1", w.b2b.Bridges())
		}
		out := w.out.name
		invA, invB := w.n.sent("alice", "in", "INVITE")[0], w.n.sent(out, "bob", "INVITE")[0]
		okA, okB := w.n.sent("in", "alice", "200")[0], w.n.sent("bob", out, "200")[0]
		if invA.CallID() == invB.CallID() || invA.FromTag() == invB.FromTag() || okA.ToTag() == okB.ToTag() || invA.Branch() == invB.Branch() {
			t.Errorf("the legs share identifiers: Call-ID %q/%q, From tag %q/%q, To tag %q/%q, branch %q/%q",
				invA.CallID(), invB.CallID(), invA.FromTag(), invB.FromTag(), okA.ToTag(), okB.ToTag(), invA.Branch(), invB.Branch())
		}
		if v := invB.TopVia(); v.Host != w.out.addr.Addr.Addr().String() {
			t.Errorf("leg B's Via is %v, not the B2BUA's own", v)
		}
		if l, _, ok := w.b2b.Leg(w.in.ua, w.in.events[0].ID); !ok || l != w.out.ua {
			t.Errorf("Leg does not find leg B")
		}

		// Alice hangs up: her BYE ends leg A, the B2BUA's BYE leg B, each
		// with its own CSeq (§12.2.1.1: one higher than the leg's last).
		w.alice.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
			return w.alice.ua.Hangup(now, id, o)
		})
		w.n.run(10 * time.Second)
		byeA, byeB := w.n.sent("alice", "in", "BYE"), w.n.sent(out, "bob", "BYE")
		if len(byeA) != 1 || len(byeB) != 1 {
			t.Fatalf("BYEs: %v", w.n.wireLog())
		}
		if byeB[0].CallID() != invB.CallID() || byeB[0].CSeq().Seq != invB.CSeq().Seq+1 || byeA[0].CSeq().Seq != invA.CSeq().Seq+1 {
			t.Errorf("BYE identifiers: %v %v", byeA[0].CSeq(), byeB[0].CSeq())
		}
		if ev, ok := w.bob.last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrRemoteBye) {
			t.Errorf("bob: %v", w.bob.kinds())
		}
		w.n.quiesce()
		endedOnce(t, w.alice, w.in, w.out, w.bob)
		if k := kinds(w.n.bridge); !slices.Equal(k, []string{"bridge-answered", "bridge-ended"}) {
			t.Errorf("bridge events %v", k)
		}
	}
}

func kinds(evs []effects.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind.String())
	}
	return out
}

// RFC 3261 §13.3.1.1 and RFC 3960: a 183 with a description (early media)
// is relayed with its code and description, reliably (RFC 3262) when
// every party supports 100rel; the 2xx then carries no description.
func TestEarlyMedia(t *testing.T) {
	for _, reliable := range []bool{false, true} {
		w := newWorld(t, worldOptions{reliable: reliable})
		w.alice.on = func(*node, effects.Event) {}
		w.bob.on = answerer{ringCode: 183, ringBody: sdpAnswer, after: 2 * time.Second, answer: sdpAnswer}.on
		w.call(sdpOffer)
		w.n.run(time.Second)
		ev, ok := w.alice.last(effects.CallRinging)
		if !ok || ev.Msg.StatusCode() != 183 || ev.Msg.Body() != sdpAnswer {
			t.Fatalf("reliable %v: no 183 with early media at alice: %v", reliable, w.alice.kinds())
		}
		if got := ev.Msg.Has("RSeq"); got != reliable {
			t.Errorf("reliable %v: the relayed 183 has RSeq: %v", reliable, got)
		}
		if _, ok := w.alice.last(effects.SessionEstablished); ok != reliable {
			t.Errorf("reliable %v: alice's session established by the 183: %v", reliable, ok)
		}
		w.n.run(5 * time.Second)
		ans, ok := w.alice.last(effects.CallAnswered)
		if !ok {
			t.Fatalf("no answer: %v", w.alice.kinds())
		}
		if want := map[bool]string{false: sdpAnswer, true: ""}[reliable]; ans.Msg.Body() != want {
			t.Errorf("reliable %v: the 2xx carries %q", reliable, ans.Msg.Body())
		}
		if w.alice.count(effects.SessionEstablished) != 1 {
			t.Errorf("alice: %v", w.alice.kinds())
		}
		hangup(w.alice)
		w.n.quiesce()
		endedOnce(t, w.alice, w.in, w.out, w.bob)
	}
}

func hangup(nd *node) {
	nd.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
		return nd.ua.Hangup(now, nd.call, o)
	})
}

// RFC 3261 §21.4 to §21.6 (RFC 3665 §3.3 busy): the callee's failure is
// relayed to the caller with its code, but for those that would mislead:
// a 503 (§16.7 step 6), a challenge for the B2BUA's credentials, a
// redirection the B2BUA does not follow.
func TestFailureRelayed(t *testing.T) {
	for _, c := range []struct{ callee, caller int }{
		{486, 486}, {404, 404}, {480, 480}, {488, 488}, {500, 500}, {503, 500},
		{600, 600}, {603, 603}, {604, 604}, {401, 403}, {407, 403}, {302, 480},
	} {
		w := newWorld(t, worldOptions{})
		w.alice.on = func(*node, effects.Event) {}
		w.bob.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Reject(now, ev.ID, c.callee, o)
				})
			}
		}
		w.call(sdpOffer)
		w.n.quiesce()
		ev, ok := w.alice.last(effects.CallFailed)
		if !ok || ev.Code != c.caller {
			t.Errorf("callee %d: caller got %v (%d), want %d", c.callee, w.alice.kinds(), ev.Code, c.caller)
		}
		if got := w.n.bridge[len(w.n.bridge)-1]; got.Kind != effects.BridgeEnded || got.Code != c.caller {
			t.Errorf("callee %d: bridge events %v", c.callee, w.n.bridge)
		}
		endedOnce(t, w.alice, w.in, w.out, w.bob)
	}
}

// RFC 3261 §9: the caller cancels before the answer; the B2BUA cancels
// leg B (its CANCEL reaches the callee), and both INVITEs end 487.
func TestCallerCancels(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.alice.on = func(*node, effects.Event) {}
	w.bob.on = answerer{ringCode: 180, after: -1}.on
	w.call(sdpOffer)
	w.n.run(time.Second)
	hangup(w.alice)
	w.n.quiesce()
	for _, line := range []string{"alice->in CANCEL", "out->bob CANCEL", "bob->out 487", "in->alice 487"} {
		if !slices.Contains(w.n.wireLog(), line) {
			t.Errorf("no %q on the wire:\n%s", line, strings.Join(w.n.wireLog(), "\n"))
		}
	}
	if ev, ok := w.bob.last(effects.CallEnded); !ok || ev.Code != 487 || !errors.Is(ev.Err, ua.ErrCancelled) {
		t.Errorf("bob: %v", w.bob.kinds())
	}
	if ev, ok := w.alice.last(effects.CallFailed); !ok || ev.Code != 487 {
		t.Errorf("alice: %v", w.alice.kinds())
	}
	endedOnce(t, w.alice, w.in, w.out, w.bob)
}

// RFC 3261 §15: the callee hangs up; the B2BUA's BYE ends leg A.
func TestCalleeHangsUp(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.alice.on = func(*node, effects.Event) {}
	w.bob.on = answerer{after: 0, answer: sdpAnswer}.on
	w.call(sdpOffer)
	w.n.run(time.Second)
	hangup(w.bob)
	w.n.quiesce()
	if ev, ok := w.alice.last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrRemoteBye) {
		t.Errorf("alice: %v", w.alice.kinds())
	}
	for _, line := range []string{"bob->out BYE", "out->bob 200", "in->alice BYE", "alice->in 200"} {
		if !slices.Contains(w.n.wireLog(), line) {
			t.Errorf("no %q on the wire", line)
		}
	}
	endedOnce(t, w.alice, w.in, w.out, w.bob)
}

// RFC 3264 §8.4, RFC 3261 §14, RFC 3311: a re-INVITE or UPDATE from either
// side is relayed in the same method, its answer relayed back; a refusal
// is relayed back with its code (RFC 3261 §14.1: the session stays as it
// was).
func TestModifyRelayed(t *testing.T) {
	for _, c := range []struct {
		name      string
		fromBob   bool
		useUpdate bool
		decline   int
		method    string
		ends      bool
	}{
		{name: "hold by re-INVITE", method: "INVITE"},
		{name: "hold by UPDATE", useUpdate: true, method: "UPDATE"},
		{name: "callee re-INVITE", fromBob: true, method: "INVITE"},
		{name: "callee UPDATE", fromBob: true, useUpdate: true, method: "UPDATE"},
		{name: "refused 488", decline: 488, method: "INVITE"},
		{name: "refused 606 by UPDATE", decline: 606, useUpdate: true, method: "UPDATE"},
		{name: "refused 415", decline: 415, method: "INVITE"},
		// RFC 5057 §5.1: a 403 ends the invite usage: leg B ends, and leg A
		// with it.
		{name: "refused 403", decline: 403, method: "INVITE", ends: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			w.alice.on = answerer{accept: recvonly}.on
			w.bob.on = answerer{after: 0, answer: sdpAnswer, accept: recvonly, decline: c.decline}.on
			w.call(sdpOffer)
			w.n.run(time.Second)
			from, to, relay := w.alice, w.bob, "out"
			if c.fromBob {
				from, to, relay = w.bob, w.alice, "in"
			}
			from.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
				return from.ua.Hold(now, from.call, ua.UpdateOptions{UseUpdate: c.useUpdate}, o)
			})
			w.n.run(3 * time.Second)
			want := 1 // the relayed request (and leg B's initial INVITE)
			if c.method == "INVITE" && !c.fromBob {
				want = 2
			}
			if got := w.n.sent(relay, to.name, c.method); len(got) != want {
				t.Fatalf("%s not relayed (%d): %s", c.method, len(got), strings.Join(w.n.wireLog(), "\n"))
			}
			switch {
			case c.ends:
				if ev, ok := from.last(effects.CallEnded); !ok || !errors.Is(ev.Err, ua.ErrRemoteBye) {
					t.Errorf("%s: %v", from.name, from.kinds())
				}
			case c.decline != 0:
				ev, ok := from.last(effects.CallUpdateFailed)
				if !ok || ev.Code != c.decline {
					t.Errorf("%s: %v (%d)", from.name, from.kinds(), ev.Code)
				}
			default:
				if _, ok := to.last(effects.SessionHeld); !ok {
					t.Errorf("%s not held: %v", to.name, to.kinds())
				}
				ev, ok := from.last(effects.SessionModified)
				if !ok || !strings.Contains(ev.Msg.Body(), "a=recvonly") {
					t.Errorf("%s: the answer was not relayed back: %v", from.name, from.kinds())
				}
			}
			// Resume passes through the same way, and the call still ends
			// cleanly.
			from.try(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
				return from.ua.Resume(now, from.call, ua.UpdateOptions{UseUpdate: c.useUpdate}, o)
			})
			w.n.run(6 * time.Second)
			if !c.ends {
				hangup(w.alice)
			}
			w.n.quiesce()
			endedOnce(t, w.alice, w.in, w.out, w.bob)
		})
	}
}

// RFC 6086 §4.2 and RFC 3428: INFO and MESSAGE in the dialog are relayed
// with their content type and body, and their responses' codes back.
func TestRequestRelayed(t *testing.T) {
	for _, c := range []struct {
		method, ctype, body string
		reply, want         int
		fromBob             bool
	}{
		{"INFO", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200, 200, false},
		{"INFO", "application/dtmf-relay", "Signal=1\r\n", 469, 469, false},
		{"INFO", "application/dtmf-relay", "Signal=#\r\n", 415, 415, true},
		{"MESSAGE", "text/plain", "hello", 202, 202, false},
		{"MESSAGE", "text/plain", "hi", 503, 500, true},
	} {
		w := newWorld(t, worldOptions{})
		w.alice.on = answerer{reply: c.reply}.on
		w.bob.on = answerer{after: 0, answer: sdpAnswer, reply: c.reply}.on
		w.call(sdpOffer)
		w.n.run(time.Second)
		from, to := w.alice, w.bob
		if c.fromBob {
			from, to = w.bob, w.alice
		}
		from.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
			_, o, err := from.ua.CallRequest(now, from.call, c.method, c.ctype, []byte(c.body), o)
			return o, err
		})
		w.n.run(3 * time.Second)
		in, ok := to.last(effects.RequestIncoming)
		if !ok || in.Msg.Method() != c.method || in.Msg.Body() != c.body {
			t.Fatalf("%s not relayed: %v", c.method, to.kinds())
		}
		if ct, _ := in.Msg.Get("Content-Type"); ct != c.ctype {
			t.Errorf("content type %q", ct)
		}
		if in.Ref != to.call {
			t.Errorf("relayed outside the call's dialog")
		}
		if done, ok := from.last(effects.RequestDone); !ok || done.Code != c.want {
			t.Errorf("%s %d: %v (%d)", c.method, c.reply, from.kinds(), done.Code)
		}
		hangup(w.bob)
		w.n.quiesce()
		endedOnce(t, w.alice, w.in, w.out, w.bob)
	}
}

// RFC 3261 §17.1.1.2 (Timer B): leg B gets no response and times out, 408
// ends leg A; §13.2.1 (Expires): leg B rings and nobody answers, the
// B2BUA's CANCEL ends it 487 and leg A with it.
func TestLegTimesOut(t *testing.T) {
	for _, c := range []struct {
		name    string
		lost    bool
		expires time.Duration
		want    int
	}{
		{name: "no response", lost: true, want: 408},
		{name: "no answer", expires: 20 * time.Second, want: 487},
	} {
		w := newWorld(t, worldOptions{expires: c.expires})
		w.alice.on = func(*node, effects.Event) {}
		w.bob.on = answerer{ringCode: 180, after: -1}.on
		if c.lost {
			w.n.drop = func(e wireEntry) bool { return e.to == "bob" }
		}
		w.call(sdpOffer)
		w.n.quiesce()
		if ev, ok := w.alice.last(effects.CallFailed); !ok || ev.Code != c.want {
			t.Errorf("%s: alice %v (%d)", c.name, w.alice.kinds(), ev.Code)
		}
		endedOnce(t, w.alice, w.in, w.out, w.bob)
	}
}

// RFC 3261 §13.2.1, RFC 3264 §4 (late offer): an INVITE without offer
// goes out without one; the callee offers in its 2xx, which goes to the
// caller in leg A's 2xx; the caller's answer in its ACK goes to the callee
// in leg B's ACK.
func TestLateOffer(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.alice.on = answerer{accept: func(string) string { return sdpOffer }}.on
	w.bob.on = answerer{after: 0, answer: sdpAnswer}.on
	w.call("")
	w.n.run(2 * time.Second)
	if inv := w.n.sent("out", "bob", "INVITE"); len(inv) != 1 || inv[0].Body() != "" {
		t.Fatalf("leg B's INVITE: %v", inv)
	}
	if ok := w.n.sent("in", "alice", "200"); len(ok) == 0 || ok[0].Body() != sdpAnswer {
		t.Fatalf("leg A's 2xx does not carry the callee's offer")
	}
	ack := w.n.sent("out", "bob", "ACK")
	if len(ack) != 1 || ack[0].Body() != sdpOffer {
		t.Fatalf("leg B's ACK does not carry the caller's answer: %s", strings.Join(w.n.wireLog(), "\n"))
	}
	if ev, ok := w.bob.last(effects.SessionEstablished); !ok || ev.Msg.Body() != sdpOffer {
		t.Errorf("bob: %v", w.bob.kinds())
	}
	hangup(w.alice)
	w.n.quiesce()
	endedOnce(t, w.alice, w.in, w.out, w.bob)
}

// DESIGN.md §1: an application's routing decision may come later, as the
// answer to a BridgeRoute event (Connect); a decision may reject the call.
func TestConnectLater(t *testing.T) {
	for _, c := range []struct {
		name   string
		reject int
		want   int
	}{{"connect", 0, 0}, {"reject 404", 404, 404}, {"reject 180 becomes 500", 180, 500}} {
		w := newWorld(t, worldOptions{route: func(*world) func(*ua.UA, effects.Event) b2bua.Decision { return nil }})
		b := w.b2b
		w.alice.on = func(*node, effects.Event) {}
		w.bob.on = answerer{after: 0, answer: sdpAnswer}.on
		w.n.onBr = func(ev effects.Event) {
			if ev.Kind != effects.BridgeRoute {
				return
			}
			w.n.after(500*time.Millisecond, func() {
				out, err := b.Connect(w.n.now, ev.ID, b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: w.bob.addr}, Reject: c.reject}, nil)
				if err != nil {
					t.Errorf("Connect: %v", err)
				}
				w.n.applyB2B(out)
				if _, err := b.Connect(w.n.now, ev.ID, b2bua.Decision{}, nil); !errors.Is(err, b2bua.ErrNoBridge) {
					t.Errorf("a second Connect: %v", err)
				}
			})
		}
		w.call(sdpOffer)
		w.n.run(3 * time.Second)
		if c.want == 0 {
			if _, ok := w.alice.last(effects.CallAnswered); !ok {
				t.Fatalf("%s: alice %v", c.name, w.alice.kinds())
			}
			hangup(w.alice)
		} else if ev, ok := w.alice.last(effects.CallFailed); !ok || ev.Code != c.want {
			t.Errorf("%s: alice %v (%d)", c.name, w.alice.kinds(), ev.Code)
		}
		w.n.quiesce()
		endedOnce(t, w.alice, w.in, w.out, w.bob)
	}
}

// The bridges table is bounded: a call beyond MaxBridges is refused 503;
// New refuses a configuration without UAs.
func TestLimits(t *testing.T) {
	if _, err := b2bua.New(b2bua.Config{}); !errors.Is(err, b2bua.ErrConfig) {
		t.Errorf("New without UAs: %v", err)
	}
	w := newWorld(t, worldOptions{})
	b, _ := b2bua.New(b2bua.Config{Inside: w.in.ua, Outside: w.out.ua, MaxBridges: 1,
		Route: func(*ua.UA, effects.Event) b2bua.Decision {
			return b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: w.bob.addr}}
		}})
	w.b2b, w.n.b2b = b, b
	w.alice.on = func(*node, effects.Event) {}
	w.bob.on = answerer{after: 0, answer: sdpAnswer}.on
	first := w.call(sdpOffer)
	w.n.run(time.Second)
	w.call(sdpOffer)
	w.n.run(2 * time.Second)
	if ev, ok := w.alice.last(effects.CallFailed); !ok || ev.Code != 503 {
		t.Errorf("the second call: %v", w.alice.kinds())
	}
	w.alice.do(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
		return w.alice.ua.Hangup(now, first, o)
	})
	w.n.quiesce()
}
