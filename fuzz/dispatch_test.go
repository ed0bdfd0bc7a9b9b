package fuzz

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// dispatchRun is a programmable server's core under test (package
// dispatch): the proxy and registrar of FuzzProxyBytes, a UA at the
// proxy's address for local calls and a B2BUA's legs, and an application
// that routes every new request by the policy of the message that brought
// it (Record.Policy):
//
//	policy&7  decision
//	0         Default (registrar, location service, Request-URI)
//	1         Proxy to the Request-URI, Record-Route off, a field added
//	2         Reply 403
//	3         Local: the UA answers (180 and 200)
//	4         Bridge to Bob at 192.0.2.21:5060
//	5, 6      later: an App record decides for the oldest waiting request
//	          (its command picks the action), or nobody does (504)
//	7         Local: the UA answers 486
type dispatchRun struct {
	n       *node
	c       *dispatch.Core
	reg     *registrar.Memory
	store   *location.Store
	waiting []uint64
	calls   []ua.CallID
	sent    []string
}

func newDispatchRun(t testing.TB) *dispatchRun {
	store := &location.Store{MaxAORs: 8, MaxBindings: 4}
	reg, err := registrar.NewMemory(registrar.Config{Domains: []string{"example.com"}, Gen: ident.Seeded(3), MaxPending: 8}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.Timer = registrarTimer
	pc := proxyConfig()
	pc.Registrar, pc.Location = reg, reg.Lookup
	c, err := dispatch.New(dispatch.Config{
		Proxy: pc,
		UA: ua.Config{Gen: ident.Seeded(4), Host: "192.0.2.10", Port: 5060, Contact: mustURI("sip:192.0.2.10:5060"),
			AOR: mustURI("sip:service@example.com"), SessionExpires: 90 * time.Second},
		Bridge:       b2bua.Config{MaxBridges: 4},
		Ask:          true,
		RouteTimeout: 5 * time.Second,
		MaxPending:   4,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &dispatchRun{c: c, reg: reg, store: store}
	r.n = newNode(t, "dispatch", c.Handle)
	r.n.react = r.react
	r.n.onSend = func(to effects.Peer, b []byte) {
		if len(r.sent) < 256 {
			r.sent = append(r.sent, to.Addr.String()+" "+firstLine(b))
		}
	}
	return r
}

// decision is the routing decision for an action number.
func (r *dispatchRun) decision(action uint8) dispatch.Decision {
	switch action % 5 {
	case 1:
		return dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{
			RecordRoute: proxycore.RecordRouteOff, Add: []proxycore.Field{{Name: "X-Routed", Value: "fuzz"}}}}
	case 2:
		return dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 403, Reason: "Forbidden (fuzz)"}}
	case 3:
		return dispatch.Decision{Action: dispatch.Local}
	case 4:
		return dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{Target: mustURI("sip:bob@192.0.2.21:5060"),
			Options: ua.CallOptions{Dest: PeerOf(1, effects.UDP)}}}
	}
	return dispatch.Decision{}
}

// route gives the decision for id; a request that no longer waits is
// the application's race to lose.
func (r *dispatchRun) route(id uint64, action uint8) {
	effs, err := r.c.Route(r.n.now, id, r.decision(action), r.n.app[:0])
	r.n.do(effs, err)
}

func (r *dispatchRun) ua(cmd func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error)) {
	effs, err := r.c.UACommand(r.n.now, cmd, r.n.app[:0])
	r.n.do(effs, err)
}

// react is the application.
func (r *dispatchRun) react(ev effects.Event) {
	policy := r.n.policy
	switch ev.Kind {
	case effects.RouteRequest:
		switch p := policy & 7; p {
		case 5, 6:
			r.waiting = append(r.waiting, ev.ID)
		case 7:
			r.route(ev.ID, 3)
		default:
			r.route(ev.ID, p)
		}
	case effects.CallIncoming:
		id := ev.ID
		r.calls = append(r.calls, id)
		if policy&7 == 7 {
			r.ua(func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) { return u.Reject(r.n.now, id, 486, out) })
			return
		}
		r.ua(func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			out, err := u.Ring(r.n.now, id, ua.RingOptions{}, out)
			if err != nil {
				return out, err
			}
			return u.Answer(r.n.now, id, []byte(sdpBobAnswer), out)
		})
	case effects.CallReinvite:
		id := ev.ID
		r.ua(func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.Accept(r.n.now, id, []byte(sdpBobAnswer), out)
		})
	case effects.RequestIncoming:
		id := ev.ID
		r.ua(func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.Reply(r.n.now, id, 200, ua.ReplyOptions{}, out)
		})
	}
}

// app carries out an App record: the oldest waiting request gets the
// decision the command picks; with none waiting, the local UA hangs up
// its oldest call.
func (r *dispatchRun) app(rec Record) {
	if len(r.waiting) > 0 {
		id := r.waiting[0]
		r.waiting = r.waiting[1:]
		r.route(id, rec.Arg)
		return
	}
	if len(r.calls) > 0 {
		id := r.calls[0]
		r.calls = r.calls[1:]
		r.ua(func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) { return u.Hangup(r.n.now, id, out) })
	}
}

// left describes what the core still holds, or returns "".
func (r *dispatchRun) left() string {
	var parts []string
	add := func(n int, what string) {
		if n != 0 {
			parts = append(parts, itoa(n)+" "+what)
		}
	}
	p, u, b := r.c.Proxy(), r.c.UA(), r.c.B2BUA()
	add(r.c.Waiting(), "requests waiting for a decision")
	add(p.Contexts(), "proxy contexts")
	add(p.Transactions().Len(), "proxy transactions")
	add(p.Timers(), "proxy timers")
	add(p.Pending(), "messages waiting for DNS")
	add(r.reg.Registrar.Len(), "pending REGISTERs")
	add(r.store.Len(), "addresses of record")
	add(u.Calls(), "calls")
	add(u.Dialogs(), "dialogs")
	add(u.Transactions().Len(), "UA transactions")
	add(u.Timers(), "UA timers")
	add(u.Requests(), "UA requests")
	add(b.Bridges(), "bridges")
	add(b.Relays(), "relays")
	add(len(r.n.timers), "pending timers")
	add(len(r.n.dns), "unanswered look-ups")
	sort.Strings(parts)
	return join(parts)
}

// run feeds the input, then lets the network fall silent (every look-up
// answered with nothing, every timer fired); the core must then hold
// nothing: calls end by their session timers or a missing ACK, requests
// waiting for a decision get 504.
func (r *dispatchRun) run(data []byte) {
	n := r.n
	for rec := range Records(data) {
		n.step(rec, r.app)
	}
	for i := 0; len(n.dns) > 0 || len(n.timers) > 0; i++ {
		if i > 20000 {
			n.fatalf("still busy after 20000 look-ups and timers")
		}
		if len(n.dns) > 0 {
			n.answer(false, 0)
			continue
		}
		n.fireNext()
	}
	if s := r.left(); s != "" {
		n.t.Fatalf("%s: state left after the input ended, every look-up was answered and every timer fired: %s", n.name, s)
	}
}

// FuzzDispatchBytes feeds arbitrary messages, driver inputs and routing
// decisions (given at once, later, or never) to a programmable server's
// core: nothing may panic, what it sends must parse, timers must be
// consistent across its three cores (their ids are translated), and no
// state may be left.
func FuzzDispatchBytes(f *testing.F) {
	for _, s := range dispatchSeeds(f) {
		f.Add([]byte(s.script))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		newDispatchRun(t).run(data)
	})
}

// TestDispatchSeeds runs each seed of FuzzDispatchBytes and checks what
// it was written for.
func TestDispatchSeeds(t *testing.T) {
	for _, s := range dispatchSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			r := newDispatchRun(t)
			r.run(s.script)
			for _, want := range s.sends {
				if !slices.ContainsFunc(r.sent, func(got string) bool { return strings.HasPrefix(got, want) }) {
					t.Errorf("nothing sent starts with %q; sent:\n%s", want, strings.Join(r.sent, "\n"))
				}
			}
		})
	}
}

// TestDispatchDeterministic runs every seed twice: the same input must
// give the same messages, byte for byte.
func TestDispatchDeterministic(t *testing.T) {
	for _, s := range dispatchSeeds(t) {
		var runs [2][]string
		for i := range runs {
			r := newDispatchRun(t)
			r.n.record = &runs[i]
			r.run(s.script)
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("%s: two runs sent different messages", s.name)
		}
	}
}

// dispatchSeeds are FuzzProxyBytes's seeds (policy 0: the default route)
// and one per decision.
func dispatchSeeds(t testing.TB) []proxySeed {
	const udp = effects.UDP
	const (
		alice = "192.0.2.20:5060 "
		bob   = "192.0.2.21:5060 "
	)
	seeds := proxySeeds(t)
	reg := register("r1", 1, "<sip:bob@192.0.2.21:5060>;expires=600", "")
	add := func(name string, s Script, sends ...string) {
		seeds = append(seeds, proxySeed{name, s, sends})
	}
	add("route-proxy", Script{}.
		Receive(udp, 1, 0, reg).
		Receive(udp, 0, 1, aliceInvite("z9hG4bKp1", "")).
		Answer(true, 1).
		Receive(udp, 1, 0, bobFwdInviteResp(200, "OK", sdpBobAnswer)).
		Receive(udp, 0, 0, aliceInDialog("ACK", 1, "z9hG4bKp1a", "")),
		bob+"INVITE sip:bob@example.com", alice+"SIP/2.0 200 OK")
	add("route-reply", Script{}.
		Receive(udp, 0, 2, aliceInvite("z9hG4bKr1", "")).
		Receive(udp, 0, 0, aliceAck487("z9hG4bKr1")),
		alice+"SIP/2.0 403 Forbidden (fuzz)")
	add("route-local", Script{}.
		Receive(udp, 0, 3, aliceRequest("INVITE", "sip:echo@192.0.2.10", 1, "z9hG4bKl1", "Contact: <sip:alice@192.0.2.20:5060>\r\nContent-Type: application/sdp\r\n", sdpAliceOffer)).
		Advance(9),
		alice+"SIP/2.0 180 Ringing", alice+"SIP/2.0 200 OK")
	add("route-bridge", Script{}.
		Receive(udp, 0, 4, aliceInvite("z9hG4bKb1", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(180, "Ringing", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(200, "OK", sdpBobAnswer)).
		Advance(9),
		bob+"INVITE sip:bob@192.0.2.21:5060", alice+"SIP/2.0 180 Ringing")
	add("route-later", Script{}.
		Receive(udp, 0, 5, aliceInvite("z9hG4bKw1", "")).
		Advance(4).
		Receive(udp, 0, 5, aliceInvite("z9hG4bKw1", "")).
		App(2).
		Receive(udp, 0, 0, aliceAck487("z9hG4bKw1")),
		alice+"SIP/2.0 403")
	add("route-cancelled", Script{}.
		Receive(udp, 0, 6, aliceInvite("z9hG4bKc1", "")).
		Receive(udp, 0, 0, aliceCancel("z9hG4bKc1")).
		Receive(udp, 0, 0, aliceAck487("z9hG4bKc1")).
		App(0),
		alice+"SIP/2.0 487")
	add("route-timeout", Script{}.
		Receive(udp, 0, 6, aliceInvite("z9hG4bKt1", "")).
		Advance(14).Advance(14),
		alice+"SIP/2.0 504")
	return seeds
}
