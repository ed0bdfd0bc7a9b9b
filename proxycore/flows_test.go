package proxycore_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/uri"
)

// callee answers incoming calls: it rings, then after ring answers (code
// 200), rejects with code, or does nothing more (code 0).
func callee(code int, ring time.Duration) func(n *node, ev effects.Event) {
	return func(n *node, ev effects.Event) {
		if ev.Kind != effects.CallIncoming {
			return
		}
		id := ev.ID
		n.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return n.ua.Ring(now, id, uaRing, out)
		})
		if code == 0 {
			return
		}
		n.net.after(ring, func() {
			n.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				if code == 200 {
					return n.ua.Answer(now, id, []byte(sdpAnswer), out)
				}
				return n.ua.Reject(now, id, code, out)
			})
		})
	}
}

// hangupAfter makes the caller hang up d after the call was answered.
func hangupAfter(d time.Duration) func(n *node, ev effects.Event) {
	return func(n *node, ev effects.Event) {
		if ev.Kind != effects.CallAnswered {
			return
		}
		id := ev.ID
		n.net.after(d, func() {
			n.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return n.ua.Hangup(now, id, out)
			})
		})
	}
}

// without100 drops the 100 (Trying) lines, which depend on timing.
func without100(log []string) []string {
	return slices.DeleteFunc(log, func(s string) bool { return strings.HasSuffix(s, " 100") })
}

// TestRFC3665 runs the session flows of RFC 3665 §3 through one and two
// stateful proxies.
func TestRFC3665(t *testing.T) {
	cases := []struct {
		name    string
		two     bool
		code    int // callee's answer; 0: rings forever; -1: unreachable
		want    []string
		caller  string // the caller's events
		session bool
	}{
		{name: "3.1 successful session, one proxy, Record-Route", code: 200, session: true,
			want: []string{"alice->p1 INVITE", "p1->bob INVITE", "bob->p1 180", "p1->alice 180", "bob->p1 200", "p1->alice 200",
				"alice->p1 ACK", "p1->bob ACK", "alice->p1 BYE", "p1->bob BYE", "bob->p1 200", "p1->alice 200"},
			caller: "ringing answered ended"},
		{name: "3.2 successful session, two proxies", two: true, code: 200, session: true,
			want: []string{"alice->p1 INVITE", "p1->p2 INVITE", "p2->bob INVITE", "bob->p2 180", "p2->p1 180", "p1->alice 180",
				"bob->p2 200", "p2->p1 200", "p1->alice 200", "alice->p1 ACK", "p1->p2 ACK", "p2->bob ACK",
				"alice->p1 BYE", "p1->p2 BYE", "p2->bob BYE", "bob->p2 200", "p2->p1 200", "p1->alice 200"},
			caller: "ringing answered ended"},
		{name: "3.3 busy", code: 486,
			want:   []string{"alice->p1 INVITE", "p1->bob INVITE", "bob->p1 180", "p1->alice 180", "bob->p1 486", "p1->bob ACK", "p1->alice 486", "alice->p1 ACK"},
			caller: "ringing failed"},
		{name: "3.3 busy, two proxies", two: true, code: 486,
			want: []string{"alice->p1 INVITE", "p1->p2 INVITE", "p2->bob INVITE", "bob->p2 180", "p2->p1 180", "p1->alice 180",
				"bob->p2 486", "p2->bob ACK", "p2->p1 486", "p1->p2 ACK", "p1->alice 486", "alice->p1 ACK"},
			caller: "ringing failed"},
		{name: "3.4 no answer: the caller cancels", code: 0,
			want: []string{"alice->p1 INVITE", "p1->bob INVITE", "bob->p1 180", "p1->alice 180", "alice->p1 CANCEL", "p1->alice 200",
				"p1->bob CANCEL", "bob->p1 200", "bob->p1 487", "p1->bob ACK", "p1->alice 487", "alice->p1 ACK"},
			caller: "ringing failed"},
		{name: "3.5 unavailable: nothing answers, Timer B, 408", code: -1,
			caller: "failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			alice := n.addUA("alice", "192.0.2.1:5060", 1)
			p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
			bobAddr := "192.0.2.2:5060"
			if tc.code >= 0 {
				bob := n.addUA("bob", bobAddr, 2)
				bob.on = callee(tc.code, 2*time.Second)
			}
			if tc.two {
				p2 := n.addProxy("p2", "192.0.2.20:5060", proxycore.Config{RecordRoute: true})
				p2uri := mustURI("sip:192.0.2.20:5060;lr")
				p1.proxy = mustProxy(t, p1, proxycore.Config{RecordRoute: true, Router: func(m *messageT) proxycore.Decision {
					return proxycore.ProxyTo(proxycore.Target{URI: m.RequestURI(), Routes: []uri.URI{p2uri}})
				}})
				_ = p2
			}
			alice.on = hangupAfter(5 * time.Second)
			if tc.code == 0 {
				alice.on = func(n *node, ev effects.Event) {
					if ev.Kind == effects.CallRinging {
						n.net.after(3*time.Second, func() {
							n.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
								return n.ua.Hangup(now, n.call, out)
							})
						})
					}
				}
			}
			alice.callTo("sip:bob@"+bobAddr, p1)
			n.quiesce()
			got := without100(n.log())
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("wire:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if k := strings.Join(alice.kinds(), " "); k != tc.caller {
				t.Errorf("caller events %q, want %q", k, tc.caller)
			}
			if tc.session {
				for _, w := range n.wire {
					if w.msg.Method() == "BYE" && w.from == "alice" && !w.msg.Has("Route") {
						t.Errorf("the BYE has no Route: Record-Route was not followed")
					}
				}
			}
		})
	}
}
