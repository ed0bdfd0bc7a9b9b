package ua

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
)

// transferee makes a node (Alice) accept every REFER and place the
// referred call itself, to the Refer-To target at dest, with CallOptions.Refer.
func transferee(n *network, dest *node) func(nd *node, ev effects.Event) {
	return func(nd *node, ev effects.Event) {
		if ev.Kind != effects.ReferIncoming {
			return
		}
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return nd.ua.AcceptRefer(now, ev.ID, out)
		})
		target, err := nd.ua.ReferTarget(ev.ID)
		if err != nil {
			n.t.Fatal(err)
		}
		id, out, err := nd.ua.Call(n.now, target, CallOptions{Refer: ev.ID, Body: []byte(sdpOffer), Dest: dest.addr}, nil)
		if err != nil {
			n.t.Fatal(err)
		}
		nd.call = id
		n.apply(nd, out)
	}
}

// transferTrio sets up Alice, Bob and Carol, Alice calling Bob, who
// answers.
func transferTrio(t *testing.T) (n *network, a, b, c *node, ab CallID) {
	n = newNetwork(t)
	a = n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, 1)
	b = n.add("bob", "192.0.2.2:5060", effects.UDP, Config{}, 2)
	c = n.add("carol", "192.0.2.3:5060", effects.UDP, Config{}, 3)
	b.on = answerAfter(n, 0)
	ab = a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	return n, a, b, c, ab
}

// checkReferNotifies checks the NOTIFYs of a REFER's implicit subscription
// (RFC 3515 §2.4.4, §2.4.5): Event refer;id=<the REFER's CSeq>,
// message/sipfrag bodies with the referred call's statuses, active until
// the final one, terminated.
func checkReferNotifies(t *testing.T, n *network, from, to string, frags []string) {
	t.Helper()
	refers := wireMsgs(n, to+"->"+from+" REFER")
	nts := wireMsgs(n, from+"->"+to+" NOTIFY")
	if len(refers) != 1 || len(nts) != len(frags) {
		t.Fatalf("%d REFERs, %d NOTIFYs", len(refers), len(nts))
	}
	id := "refer;id=" + strings.TrimSuffix(strings.Fields(field(refers[0], "CSeq"))[0], " REFER")
	for i, m := range nts {
		state := "active;expires=60"
		if i == len(nts)-1 {
			state = "terminated;reason=noresource"
		}
		if got := field(m, "Subscription-State"); got != state && !(i < len(nts)-1 && strings.HasPrefix(got, "active;expires=")) {
			t.Errorf("NOTIFY %d Subscription-State %q, want %q", i, got, state)
		}
		if field(m, "Event") != id || field(m, "Content-Type") != "message/sipfrag;version=2.0" || m.Body() != frags[i]+"\r\n" {
			t.Errorf("NOTIFY %d: Event %q, Content-Type %q, body %q", i, field(m, "Event"), field(m, "Content-Type"), m.Body())
		}
	}
}

// RFC 5589 §6.1 (blind transfer, as RFC 5359 §2.4 shows it): Alice and Bob
// talk; Bob REFERs Alice to Carol; Alice accepts (202, NOTIFY 100 Trying),
// calls Carol with Referred-By and reports 180 and 200 in sipfrag NOTIFYs,
// the last terminating the subscription; Bob then hangs up with Alice. The
// REFER's subscription outlives Bob's BYE in the dialog it shares (RFC
// 5057).
func TestBlindTransfer(t *testing.T) {
	n, a, b, c, ab := transferTrio(t)
	a.on = transferee(n, c)
	c.on = answerAfter(n, time.Second)
	ba := b.call
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.TransferProgress && ev.Code >= 200 {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Hangup(now, ba, out)
			})
		}
	}
	start := len(n.wire)
	var sub uint64
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		sub, out, err = b.ua.Refer(now, ba, mustURI("sip:carol@192.0.2.3"), ReferOptions{}, out)
		return out, err
	})
	n.run(5 * time.Second)
	wantWire(t, &network{wire: n.wire[start:]}, []string{
		"bob->alice REFER", "alice->bob 202", "alice->bob NOTIFY", "alice->carol INVITE",
		"bob->alice 200", "carol->alice 180", "alice->bob NOTIFY", "bob->alice 200",
		"carol->alice 200", "alice->bob NOTIFY", "alice->carol ACK", "bob->alice 200",
		"bob->alice BYE", "alice->bob 200",
	})
	refer := wireMsgs(n, "bob->alice REFER")[0]
	if field(refer, "Refer-To") != "<sip:carol@192.0.2.3>" || field(refer, "Referred-By") != "<sip:bob@example.com>" || field(refer, "Contact") == "" {
		t.Errorf("REFER:\n%s", refer)
	}
	if inv := wireMsgs(n, "alice->carol INVITE")[0]; field(inv, "Referred-By") != "<sip:bob@example.com>" || inv.Has("Replaces") {
		t.Errorf("INVITE:\n%s", inv)
	}
	checkReferNotifies(t, n, "alice", "bob", []string{"SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"})
	var codes []int
	for _, ev := range b.events {
		if ev.Kind == effects.TransferProgress {
			codes = append(codes, ev.Code)
		}
	}
	if len(codes) != 3 || codes[0] != 100 || codes[1] != 180 || codes[2] != 200 {
		t.Errorf("progress %v", codes)
	}
	if se, _, ok := endedWith(b, sub); !ok || !errors.Is(se, ErrNoResource) {
		t.Errorf("Bob's subscription: %v", se)
	}
	// Bob hangs up as soon as he hears of the 200, before the subscription
	// ends.
	wantKinds(t, b, "incoming", "session-established", "answered", "refer-accepted", "transfer-progress", "transfer-progress", "transfer-progress", "ended", "subscription-ended")
	if a.ua.Calls() != 1 || b.ua.Calls() != 0 || a.ua.Subscriptions() != 0 || b.ua.Subscriptions() != 0 {
		t.Errorf("calls %d %d, subscriptions %d %d", a.ua.Calls(), b.ua.Calls(), a.ua.Subscriptions(), b.ua.Subscriptions())
	}
	_ = ab
	hangupAll(a)
	n.quiesce()
}

// RFC 5589 §7.1 (attended transfer, RFC 5359 §2.5): Bob, talking with
// Alice, calls Carol (consultation), then REFERs Alice to Carol with a
// Refer-To carrying Replaces of the Bob–Carol dialog; Alice's INVITE to
// Carol carries that Replaces and Referred-By; Carol accepts it in place of
// the consultation, which she ends with a BYE to Bob (RFC 3891 §3); Bob
// hangs up with Alice once the transfer succeeded.
func TestAttendedTransfer(t *testing.T) {
	n, a, b, c, _ := transferTrio(t)
	ba := b.call
	c.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallIncoming {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		}
	}
	bc := b.callTo(c, CallOptions{Body: []byte(sdpOffer)})
	n.run(2 * time.Second)
	a.on = transferee(n, c)
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.TransferProgress && ev.Code >= 200 {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Hangup(now, ba, out)
			})
		}
	}
	start := len(n.wire)
	b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := b.ua.Refer(now, ba, mustURI("sip:carol@192.0.2.3"), ReferOptions{Replaces: bc}, out)
		return out, err
	})
	n.run(5 * time.Second)
	wantWire(t, &network{wire: n.wire[start:]}, []string{
		"bob->alice REFER", "alice->bob 202", "alice->bob NOTIFY", "alice->carol INVITE",
		"bob->alice 200", "carol->alice 200", "carol->bob BYE", "alice->bob NOTIFY", "alice->carol ACK",
		"bob->carol 200", "bob->alice 200", "bob->alice BYE", "alice->bob 200",
	})
	consult := wireMsgs(n, "bob->carol INVITE")[0]
	okc := wireMsgs(n, "carol->bob 200")[0]
	want := header.Replaces{CallID: consult.CallID(), Params: header.Params(";to-tag=" + okc.ToTag() + ";from-tag=" + consult.FromTag())}
	refer := wireMsgs(n, "bob->alice REFER")[0]
	rt, _ := refer.Get("Refer-To")
	if !strings.HasPrefix(rt, "<sip:carol@192.0.2.3?Replaces=") {
		t.Errorf("Refer-To %s", rt)
	}
	inv := wireMsgs(n, "alice->carol INVITE")[0]
	if got := field(inv, "Replaces"); got != header.String(&want) || field(inv, "Referred-By") != "<sip:bob@example.com>" {
		t.Errorf("INVITE Replaces %q (want %q), Referred-By %q", got, header.String(&want), field(inv, "Referred-By"))
	}
	checkReferNotifies(t, n, "alice", "bob", []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"})
	// Carol: the new call names the one it replaces; that one ends.
	var replaced effects.Event
	for _, ev := range c.events {
		if ev.Kind == effects.CallIncoming && ev.Ref != 0 {
			replaced = ev
		}
	}
	if replaced.ID == 0 {
		t.Fatalf("Carol events %v", c.kinds())
	}
	if ev, ok := c.lastEvent(effects.CallEnded); !ok || ev.ID != replaced.Ref || !errors.Is(ev.Err, ErrReplaced) {
		t.Errorf("Carol's consultation end %v", ev)
	}
	if a.ua.Calls() != 1 || b.ua.Calls() != 0 || c.ua.Calls() != 1 {
		t.Errorf("calls %d %d %d", a.ua.Calls(), b.ua.Calls(), c.ua.Calls())
	}
	hangupAll(a)
	n.quiesce()
}

// RFC 3891 §3: an INVITE whose Replaces matches no dialog gets 481; one
// with early-only naming a confirmed dialog gets 486; REFER refused (603)
// ends the subscription with the code.
func TestReplacesRefused(t *testing.T) {
	tests := []struct {
		name     string
		replaces func(a *node) header.Replaces
		code     string
	}{
		{"no such dialog: 481", func(*node) header.Replaces {
			return header.Replaces{CallID: "nosuch", Params: ";to-tag=a;from-tag=b"}
		}, "bob->carol 481"},
		{"early-only on a confirmed dialog: 486", func(a *node) header.Replaces {
			// Alice's view of her dialog with Bob is what Bob matches.
			r, _ := a.ua.ReplacesFor(a.call)
			r.Params = r.Params.With("early-only", "")
			return r
		}, "bob->carol 486"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, a, b, c, _ := transferTrio(t)
			// Carol's INVITE to Bob, as if Alice had referred her.
			rep := tc.replaces(a)
			c.callTo(b, CallOptions{Body: []byte(sdpOffer), Replaces: &rep})
			n.run(2 * time.Second)
			if count(n, tc.code) != 1 || b.ua.Calls() != 1 {
				t.Errorf("wire %v", n.wireLog())
			}
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return a.ua.Hangup(now, a.call, out)
			})
			n.quiesce()
		})
	}
	t.Run("REFER declined: 603", func(t *testing.T) {
		n, a, b, _, _ := transferTrio(t)
		a.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.ReferIncoming {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.RejectSubscription(now, ev.ID, 603, out)
				})
			}
		}
		var sub uint64
		b.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			var err error
			sub, out, err = b.ua.Refer(now, b.call, mustURI("sip:carol@192.0.2.3"), ReferOptions{}, out)
			return out, err
		})
		n.run(2 * time.Second)
		if se, code, ok := endedWith(b, sub); !ok || code != 603 || !errors.Is(se, ErrSubscribeFailed) {
			t.Errorf("Bob's end %v %d", se, code)
		}
		if a.ua.Calls() != 1 || b.ua.Calls() != 1 {
			t.Errorf("the call did not survive")
		}
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return a.ua.Hangup(now, a.call, out)
		})
		n.quiesce()
	})
}

// hangupAll hangs up every call of a node.
func hangupAll(nd *node) {
	for id := range nd.ua.calls {
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return nd.ua.Hangup(now, id, out)
		})
	}
}
