package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// dispatchWorld is a programmable server (srv, example.com's registrar
// and proxy at 192.0.2.10) with Bob registered at 192.0.2.2, a gateway at
// 192.0.2.30 and Alice at 192.0.2.1; route is the application's routing
// decision, given at once unless it returns false (the test answers
// later).
type dispatchWorld struct {
	s          *sim.Sim
	w          *wire
	srv        *sim.DispatchNode
	alice, bob *sim.UANode
	gw         *sim.UANode
}

func newDispatchWorld(t *testing.T, seed uint64, route func(w *dispatchWorld, ev effects.Event) (dispatch.Decision, bool)) *dispatchWorld {
	t.Helper()
	s := sim.New(seed)
	w := &dispatchWorld{s: s, w: watch(s)}
	w.srv = sim.Must(s.AddDispatch("srv", "192.0.2.10:5060", dispatch.Config{
		Proxy: proxycore.Config{RecordRoute: true}, Ask: true, RouteTimeout: 5 * time.Second,
	}, registrar.Config{Domains: []string{"example.com"}}, nil))
	w.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	w.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{AOR: mustURI("sip:bob@example.com")}))
	w.gw = sim.Must(s.AddUA("gw", "192.0.2.30:5060", ua.Config{}))
	if err := w.srv.Bind("sip:bob@example.com", "<sip:bob@192.0.2.2:5060>", time.Hour); err != nil {
		t.Fatal(err)
	}
	w.srv.On(func(ev effects.Event) {
		if ev.Kind != effects.RouteRequest {
			return
		}
		if d, ok := route(w, ev); ok {
			if err := w.srv.Route(ev.ID, d); err != nil {
				t.Errorf("Route: %v", err)
			}
		}
	})
	return w
}

// call places Alice's call to target through srv.
func (w *dispatchWorld) call(t *testing.T, target string) ua.CallID {
	t.Helper()
	id, err := w.alice.Call(target, ua.CallOptions{Dest: w.srv.Peer(), Body: []byte(sdpOffer)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// quiet runs until nothing is left, and checks that every node let go of
// everything.
func (w *dispatchWorld) quiet(t *testing.T) {
	t.Helper()
	if err := w.s.RunUntilQuiet(10 * time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, w.s.Trace())
	}
	if err := w.s.CheckQuiet(); err != nil {
		t.Fatalf("%v\n%s", err, w.s.Trace())
	}
}

// outcome is how Alice's call ended: "answered" or the failure's code.
func outcome(n *sim.UANode) string {
	for _, ev := range n.Events() {
		switch ev.Kind {
		case effects.CallAnswered:
			return "answered"
		case effects.CallFailed:
			return fmt.Sprint(ev.Code)
		}
	}
	return "none"
}

// received returns the start lines of the messages node received.
func (w *dispatchWorld) received(n *sim.Node) []string {
	var out []string
	for _, r := range w.w.recs {
		if r.Op == sim.OpRecv && r.Node == n {
			out = append(out, w.w.msg(r).StartLine())
		}
	}
	return out
}

// TestDispatchDecisions: each kind of routing decision (NkSIP's
// sip_route) on a new INVITE, with what RFC 3261 says must come of it.
//
//	| decision                       | outcome                                            | RFC                 |
//	|--------------------------------|----------------------------------------------------|---------------------|
//	| Default to a registered AOR    | the location service's contact rings and answers;  | §16.5, §10.3        |
//	|                                | srv record-routes                                  | §16.6 step 4        |
//	| Proxy to a gateway, edited     | the gateway gets the INVITE with the field added,  | §16.6               |
//	|                                | the one removed, no Record-Route when turned off   |                     |
//	| Reply 403 (blocked source)     | 403 with the reason, ACKed hop by hop, nothing     | §16.5, §17.2.1      |
//	|                                | forwarded                                          |                     |
//	| Local                          | the UA answers; the application sees CallIncoming  | §13.3               |
//	| Bridge with a new identity     | Bob's INVITE comes from the B2BUA with the new     | RFC 7092 §3.1       |
//	|                                | From and another Call-ID; Alice's call is answered |                     |
//	|                                | when Bob's is; Bob's BYE ends both                 |                     |
//
// After each call both ends hang up and nothing is left anywhere.
func TestDispatchDecisions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target string
		d      func(w *dispatchWorld) dispatch.Decision
		check  func(t *testing.T, w *dispatchWorld)
	}{
		{"default", "sip:bob@example.com", func(*dispatchWorld) dispatch.Decision { return dispatch.Decision{} },
			func(t *testing.T, w *dispatchWorld) {
				if got := outcome(w.alice); got != "answered" {
					t.Errorf("Alice's call: %s", got)
				}
				inv := w.w.find(sim.OpRecv, w.bob.Node, w.srv.Node, "INVITE")
				if len(inv) != 1 || !w.w.msg(inv[0]).Has("Record-Route") {
					t.Errorf("Bob's INVITEs: %v", inv)
				}
			}},
		{"proxy", "sip:0044123@example.com", func(w *dispatchWorld) dispatch.Decision {
			return dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{
				Targets:     []proxycore.Target{{URI: mustURI("sip:0044123@192.0.2.30:5060")}},
				Add:         []proxycore.Field{{Name: "X-Route", Value: "gateway"}},
				Remove:      []string{"User-Agent"},
				RecordRoute: proxycore.RecordRouteOff,
			}}
		}, func(t *testing.T, w *dispatchWorld) {
			if got := outcome(w.alice); got != "answered" {
				t.Errorf("Alice's call: %s", got)
			}
			inv := w.w.find(sim.OpRecv, w.gw.Node, w.srv.Node, "INVITE")
			if len(inv) != 1 {
				t.Fatalf("the gateway's INVITEs: %v", inv)
			}
			m := w.w.msg(inv[0])
			if v, _ := m.Get("X-Route"); v != "gateway" || m.Has("User-Agent") || m.Has("Record-Route") {
				t.Errorf("forwarded INVITE:\n%s", m.Bytes())
			}
			if m.RequestURI().String() != "sip:0044123@192.0.2.30:5060" {
				t.Errorf("Request-URI %s", m.RequestURI())
			}
		}},
		{"reply", "sip:bob@example.com", func(*dispatchWorld) dispatch.Decision {
			return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 403, Reason: "Forbidden (blocked source)"}}
		}, func(t *testing.T, w *dispatchWorld) {
			if got := outcome(w.alice); got != "403" {
				t.Errorf("Alice's call: %s", got)
			}
			if got := w.received(w.bob.Node); len(got) != 0 {
				t.Errorf("Bob received %v", got)
			}
			resp := w.w.find(sim.OpRecv, w.alice.Node, w.srv.Node, "403 INVITE")
			if len(resp) != 1 || w.w.msg(resp[0]).Reason() != "Forbidden (blocked source)" {
				t.Errorf("403s: %v", resp)
			}
		}},
		{"local", "sip:echo@example.com", func(*dispatchWorld) dispatch.Decision {
			return dispatch.Decision{Action: dispatch.Local}
		}, func(t *testing.T, w *dispatchWorld) {
			if got := outcome(w.alice); got != "answered" {
				t.Errorf("Alice's call: %s", got)
			}
			if w.srv.Count(effects.CallIncoming) != 1 || w.srv.Count(effects.CallEnded) != 1 {
				t.Errorf("srv's events: %v", w.srv.Events())
			}
		}},
		{"bridge", "sip:anonymous@example.com", func(w *dispatchWorld) dispatch.Decision {
			return dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{
				Target: mustURI("sip:bob@192.0.2.2:5060"),
				Options: ua.CallOptions{Dest: w.bob.Peer(),
					From: header.From{Display: "Operator", URI: mustURI("sip:operator@example.com")}},
			}}
		}, func(t *testing.T, w *dispatchWorld) {
			if got := outcome(w.alice); got != "answered" {
				t.Errorf("Alice's call: %s", got)
			}
			inv := w.w.find(sim.OpRecv, w.bob.Node, w.srv.Node, "INVITE")
			if len(inv) != 1 {
				t.Fatalf("Bob's INVITEs: %v", inv)
			}
			m := w.w.msg(inv[0])
			a := w.w.find(sim.OpRecv, w.srv.Node, w.alice.Node, "INVITE")
			if m.From().URI.String() != "sip:operator@example.com" || m.From().Display != "Operator" ||
				len(a) == 0 || m.CallID() == w.w.msg(a[0]).CallID() {
				t.Errorf("bridged INVITE:\n%s", m.Bytes())
			}
			if m.Body() != sdpOffer {
				t.Errorf("bridged offer %q", m.Body())
			}
			if w.srv.Count(effects.BridgeAnswered) != 1 || w.srv.Count(effects.BridgeEnded) != 1 {
				t.Errorf("srv's events: %v", w.srv.Events())
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDispatchWorld(t, 1, func(w *dispatchWorld, ev effects.Event) (dispatch.Decision, bool) {
				return tc.d(w), true
			})
			w.bob.Answering(sim.Callee{Ring: 180, After: 100 * time.Millisecond, Answer: []byte(sdpAnswer)})
			w.gw.Answering(sim.Callee{Ring: 183, After: 100 * time.Millisecond, Answer: []byte(sdpAnswer)})
			w.srv.On(func(ev effects.Event) {
				if ev.Kind != effects.CallIncoming {
					return
				}
				id := ev.ID
				if err := w.srv.UACommand(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
					return u.Answer(now, id, []byte(sdpAnswer), out)
				}); err != nil {
					t.Errorf("answer: %v", err)
				}
			})
			w.bob.HangupAfter(time.Second)
			w.gw.HangupAfter(time.Second)
			w.srv.On(func(ev effects.Event) {
				if ev.Kind != effects.CallAnswered {
					return
				}
				id := ev.ID
				w.s.After(time.Second, func() {
					_ = w.srv.UACommand(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
						return u.Hangup(now, id, out)
					})
				})
			})
			w.call(t, tc.target)
			w.quiet(t)
			tc.check(t, w)
			if w.srv.Count(effects.RouteRequest) != 1 {
				t.Errorf("%d routing questions", w.srv.Count(effects.RouteRequest))
			}
		})
	}
}

// TestDispatchWaiting: a decision that comes later (a database answering
// after 2 s): the INVITE's retransmissions meanwhile are absorbed (one
// question, one forwarded INVITE, RFC 3261 §17.2.1); a CANCEL while the
// decision is awaited ends the INVITE with 487 and the CANCEL with 200
// (§9.2) and a later decision fails; no decision within RouteTimeout gets
// the configured 504 (§21.5.5); the REGISTER goes to the registrar by
// default (§10.3) even while a question waits.
func TestDispatchWaiting(t *testing.T) {
	t.Parallel()
	t.Run("late", func(t *testing.T) {
		w := newDispatchWorld(t, 1, func(w *dispatchWorld, ev effects.Event) (dispatch.Decision, bool) {
			id := ev.ID
			w.s.After(2*time.Second, func() {
				if err := w.srv.Route(id, dispatch.Decision{}); err != nil {
					t.Errorf("late Route: %v", err)
				}
			})
			return dispatch.Decision{}, false
		})
		w.bob.Answering(sim.Callee{Ring: 180, After: 100 * time.Millisecond, Answer: []byte(sdpAnswer)})
		w.bob.HangupAfter(time.Second)
		w.call(t, "sip:bob@example.com")
		w.quiet(t)
		if got := outcome(w.alice); got != "answered" {
			t.Errorf("Alice's call: %s", got)
		}
		if n := len(w.w.find(sim.OpRecv, w.srv.Node, w.alice.Node, "INVITE")); n < 3 {
			t.Errorf("srv received %d INVITEs from Alice: no retransmission to absorb", n)
		}
		if n := len(w.w.find(sim.OpRecv, w.bob.Node, w.srv.Node, "INVITE")); n != 1 || w.srv.Count(effects.RouteRequest) != 1 {
			t.Errorf("%d INVITEs forwarded, %d questions", n, w.srv.Count(effects.RouteRequest))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		var asked []uint64
		w := newDispatchWorld(t, 2, func(w *dispatchWorld, ev effects.Event) (dispatch.Decision, bool) {
			asked = append(asked, ev.ID)
			return dispatch.Decision{}, false
		})
		id := w.call(t, "sip:bob@example.com")
		// The caller hears a provisional response (100 from srv once it
		// routes) only later: its UA sends CANCEL once it may (§9.1), so
		// the test's CANCEL is sent by hand, from Alice's address.
		w.s.After(time.Second, func() {
			inv := w.w.find(sim.OpSend, w.alice.Node, w.srv.Node, "INVITE")
			cancel, err := message.CancelFor(w.w.msg(inv[0]))
			if err != nil {
				t.Fatal(err)
			}
			w.srv.Inject(w.alice.Peer(), cancel.Bytes())
		})
		if err := w.s.RunFor(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 {
			t.Fatalf("questions %v", asked)
		}
		if err := w.srv.Route(asked[0], dispatch.Decision{}); err == nil {
			t.Error("a decision for a cancelled request was taken")
		}
		if w.srv.Count(effects.RouteAbandoned) != 1 {
			t.Errorf("srv's events: %v", w.srv.Events())
		}
		got := w.received(w.alice.Node)
		if !slicesHave(got, "SIP/2.0 487 Request Terminated") || !slicesHave(got, "SIP/2.0 200 OK") {
			t.Errorf("Alice received %v", got)
		}
		_ = w.alice.Hangup(id)
		w.quiet(t)
		if got := w.received(w.bob.Node); len(got) != 0 {
			t.Errorf("Bob received %v", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		w := newDispatchWorld(t, 3, func(*dispatchWorld, effects.Event) (dispatch.Decision, bool) {
			return dispatch.Decision{}, false
		})
		w.call(t, "sip:bob@example.com")
		w.quiet(t)
		if got := outcome(w.alice); got != "504" {
			t.Errorf("Alice's call: %s", got)
		}
		if w.srv.Count(effects.RouteAbandoned) != 1 {
			t.Errorf("srv's events: %v", w.srv.Events())
		}
	})
	t.Run("register", func(t *testing.T) {
		w := newDispatchWorld(t, 4, func(w *dispatchWorld, ev effects.Event) (dispatch.Decision, bool) {
			return dispatch.Decision{}, ev.Msg.Method() == "REGISTER"
		})
		carol := sim.Must(w.s.AddUA("carol", "192.0.2.3:5060", ua.Config{AOR: mustURI("sip:carol@example.com")}))
		if _, err := carol.Register(ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: w.srv.Peer(), Expires: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if err := w.s.RunFor(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if carol.Count(effects.Registered) != 1 {
			t.Fatalf("Carol's events: %v", carol.Events())
		}
		if b := w.srv.Store.Lookup(w.s.Now(), mustURI("sip:carol@example.com")); len(b) != 1 {
			t.Errorf("bindings %v", b)
		}
	})
}

func slicesHave(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// TestDispatchLossy: Alice calls through a programmable server on a
// network that loses up to 30% of the datagrams, duplicates and reorders
// them; the seed draws the routing decision (the default route to Bob's
// binding, a proxy decision to the gateway, a 403, the local UA answering,
// a bridge to Bob, or none: 504) and when it comes (at once, or up to 3 s
// later, while the INVITE is retransmitted). Whatever the network did,
// the call comes out as RFC 3261 allows any proxied call to (expect.check:
// answered then ended, or failed with the decision's code, 408 by a
// timeout, ...), the server asks once per request however often it was
// retransmitted (§17.2.3), and afterwards no node holds anything: no
// request waiting for a decision, context, call, bridge, transaction or
// timer.
func TestDispatchLossy(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, dispatchLossy(tl))
}

func dispatchLossy(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		r := s.Rand()
		kind := r.IntN(6)
		delay := time.Duration(0)
		if r.IntN(2) == 0 {
			delay = time.Duration(r.IntN(3000)) * time.Millisecond
		}
		w := &dispatchWorld{s: s, w: watch(s)}
		w.srv = sim.Must(s.AddDispatch("srv", "192.0.2.10:5060", dispatch.Config{
			Proxy: proxycore.Config{RecordRoute: true}, Ask: true, RouteTimeout: 5 * time.Second,
		}, registrar.Config{Domains: []string{"example.com"}}, nil))
		w.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		w.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{AOR: mustURI("sip:bob@example.com")}))
		w.gw = sim.Must(s.AddUA("gw", "192.0.2.30:5060", ua.Config{}))
		if err := w.srv.Bind("sip:bob@example.com", "<sip:bob@192.0.2.2:5060>", time.Hour); err != nil {
			return s, err
		}
		var d dispatch.Decision
		callees := []*sim.UANode{w.bob}
		var codes []int
		switch kind {
		case 1:
			d = dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{Targets: []proxycore.Target{{URI: mustURI("sip:bob@192.0.2.30:5060")}}}}
			callees = []*sim.UANode{w.gw}
		case 2:
			d = dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 403}}
			callees, codes = nil, []int{403}
		case 3:
			d = dispatch.Decision{Action: dispatch.Local}
			callees = nil
		case 4:
			d = dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2:5060"),
				Options: ua.CallOptions{Dest: w.bob.Peer()}}}
		case 5:
			callees, codes = nil, []int{504}
		}
		asked := 0
		w.srv.On(func(ev effects.Event) {
			switch ev.Kind {
			case effects.RouteRequest:
				asked++
				if kind == 5 {
					return
				}
				id := ev.ID
				s.After(delay, func() { _ = w.srv.Route(id, d) })
			case effects.CallIncoming:
				id := ev.ID
				_ = w.srv.UACommand(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
					return u.Answer(now, id, []byte(sdpAnswer), out)
				})
			}
		})
		s.SetDefaultLink(lossy(s))
		w.bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(2000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		w.gw.Answering(sim.Callee{Ring: 183, After: time.Duration(r.IntN(2000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		w.alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := w.alice.Call("sip:bob@example.com", ua.CallOptions{Dest: w.srv.Peer(), Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		if err := (expect{tally: tl, caller: w.alice, callees: callees, proxied: true, codes: codes}).check(s, w.w); err != nil {
			return s, err
		}
		received := len(w.w.find(sim.OpRecv, w.srv.Node, w.alice.Node, "INVITE")) > 0
		if asked > 1 || received != (asked == 1) {
			return s, fmt.Errorf("%d routing questions for one INVITE (received: %v)", asked, received)
		}
		return s, nil
	}
}
