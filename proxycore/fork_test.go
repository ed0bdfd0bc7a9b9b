package proxycore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
)

// Target behaviours of the forking tests.
const (
	unreachable = -1   // nothing answers at the address
	ringing     = 0    // rings forever
	challenge   = 4070 // a proxy that asks for credentials (407)
)

// TestForking forks an INVITE to three targets (RFC 3261 §16.6, §16.7) in
// parallel, in turn (serial, with a time limit per branch) and by q-value
// groups, with every mix of answers, and checks what the caller hears,
// which targets were tried and that nothing is left behind.
func TestForking(t *testing.T) {
	cases := []struct {
		name      string
		fork      proxycore.ForkMode
		q         [3]int
		behave    [3]int
		code      int     // the caller's outcome: 200 answered, else the failure code
		contacted [3]bool // which targets got the INVITE
		cancelled [3]bool // which got a CANCEL
	}{
		{"parallel, one answers", proxycore.Parallel, [3]int{}, [3]int{200, ringing, ringing}, 200, [3]bool{true, true, true}, [3]bool{false, true, true}},
		{"parallel, the second answers after a busy", proxycore.Parallel, [3]int{}, [3]int{486, 200, ringing}, 200, [3]bool{true, true, true}, [3]bool{false, false, true}},
		{"parallel, all busy", proxycore.Parallel, [3]int{}, [3]int{486, 486, 486}, 486, [3]bool{true, true, true}, [3]bool{}},
		{"parallel, one 6xx ends forking (§16.7 step 5)", proxycore.Parallel, [3]int{}, [3]int{603, ringing, ringing}, 603, [3]bool{true, true, true}, [3]bool{false, true, true}},
		{"parallel, all time out: 408", proxycore.Parallel, [3]int{}, [3]int{unreachable, unreachable, unreachable}, 408, [3]bool{true, true, true}, [3]bool{}},
		{"parallel, timeouts and a busy: the busy", proxycore.Parallel, [3]int{}, [3]int{unreachable, unreachable, 486}, 486, [3]bool{true, true, true}, [3]bool{}},
		{"parallel, 407s aggregated (§16.7 step 7)", proxycore.Parallel, [3]int{}, [3]int{challenge, challenge, challenge}, 407, [3]bool{true, true, true}, [3]bool{}},
		{"parallel, a busy beats a 503 turned 500", proxycore.Parallel, [3]int{}, [3]int{503, 486, 503}, 486, [3]bool{true, true, true}, [3]bool{}},
		{"parallel, 503 becomes 500 (§16.7 step 6)", proxycore.Parallel, [3]int{}, [3]int{503, 503, 503}, 500, [3]bool{true, true, true}, [3]bool{}},
		{"serial, busy then answer", proxycore.Serial, [3]int{1000, 500, 100}, [3]int{486, 200, 200}, 200, [3]bool{true, true, false}, [3]bool{}},
		{"serial, two ring out, the third answers", proxycore.Serial, [3]int{1000, 500, 100}, [3]int{ringing, ringing, 200}, 200, [3]bool{true, true, true}, [3]bool{true, true, false}},
		{"serial, all busy", proxycore.Serial, [3]int{1000, 500, 100}, [3]int{486, 486, 486}, 486, [3]bool{true, true, true}, [3]bool{}},
		{"serial, 6xx stops", proxycore.Serial, [3]int{1000, 500, 100}, [3]int{603, 200, 200}, 603, [3]bool{true, false, false}, [3]bool{}},
		{"serial, unreachable then answer", proxycore.Serial, [3]int{1000, 500, 100}, [3]int{unreachable, 200, ringing}, 200, [3]bool{true, true, false}, [3]bool{}},
		{"serial by q order, lowest q last", proxycore.Serial, [3]int{100, 500, 1000}, [3]int{200, 486, 486}, 200, [3]bool{true, true, true}, [3]bool{}},
		{"q groups: busy and ringing, then the next group", proxycore.ByQ, [3]int{1000, 1000, 500}, [3]int{486, ringing, 200}, 200, [3]bool{true, true, true}, [3]bool{false, true, false}},
		{"q groups: the first group answers", proxycore.ByQ, [3]int{1000, 1000, 500}, [3]int{ringing, 200, 200}, 200, [3]bool{true, true, false}, [3]bool{true, false, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			alice := n.addUA("alice", "192.0.2.1:5060", 1)
			p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
			var targets []proxycore.Target
			for i, b := range tc.behave {
				addr := fmt.Sprintf("192.0.2.%d:5060", 30+i)
				name := fmt.Sprintf("bob%d", i+1)
				switch b {
				case unreachable:
				case challenge:
					n.addProxy(name, addr, proxycore.Config{Auth: &proxycore.Auth{
						Server: &digest.Server{Realm: "realm" + name, Secret: []byte("0123456789abcdef")},
						Lookup: proxycore.Users{}.Lookup}})
				default:
					nd := n.addUA(name, addr, uint64(10+i))
					nd.on = callee(b, time.Duration(i+1)*time.Second)
				}
				targets = append(targets, proxycore.Target{URI: mustURI("sip:" + name + "@" + addr), Q: tc.q[i]})
			}
			p1.proxy = mustProxy(t, p1, proxycore.Config{RecordRoute: true, Router: func(*messageT) proxycore.Decision {
				return proxycore.Decision{Targets: targets, Fork: tc.fork, BranchTimeout: 10 * time.Second}
			}})
			alice.on = hangupAfter(time.Second)
			alice.callTo("sip:bob@example.com", p1)
			n.quiesce()
			code := 0
			if _, ok := alice.last(effects.CallAnswered); ok {
				code = 200
			} else if ev, ok := alice.last(effects.CallFailed); ok {
				code = ev.Code
			}
			if code != tc.code {
				t.Errorf("caller's outcome %d, want %d\n%s", code, tc.code, strings.Join(n.log(), "\n"))
			}
			for i := range 3 {
				name := fmt.Sprintf("bob%d", i+1)
				if addr := fmt.Sprintf("192.0.2.%d:5060", 30+i); tc.behave[i] == unreachable {
					name = addr
				}
				if got := sent(n, "p1", name, "INVITE"); got != tc.contacted[i] {
					t.Errorf("%s got INVITE: %v, want %v", name, got, tc.contacted[i])
				}
				if got := sent(n, "p1", name, "CANCEL"); got != tc.cancelled[i] {
					t.Errorf("%s got CANCEL: %v, want %v", name, got, tc.cancelled[i])
				}
			}
			if tc.code == 407 {
				for _, w := range n.wire {
					if w.from == "p1" && w.to == "alice" && w.msg.StatusCode() == 407 {
						k := 0
						for name := range w.msg.Headers() {
							if strings.EqualFold(name, "Proxy-Authenticate") {
								k++
							}
						}
						if k < 3 {
							t.Errorf("the 407 has %d challenges, want at least 3 (one realm per branch)", k)
						}
					}
				}
			}
		})
	}
}

// sent reports whether from sent a request of method to to.
func sent(n *network, from, to, method string) bool {
	for _, w := range n.wire {
		if w.from == from && w.to == to && w.msg.IsRequest() && w.msg.Method() == method {
			return true
		}
	}
	return false
}
