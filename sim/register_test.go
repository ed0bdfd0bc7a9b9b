package sim_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// TestRegister: Bob's phone registers sip:bob@example.com with the proxy
// that is example.com's registrar (RFC 3261 §10.2), which challenges every
// REGISTER with digest (§22.4, RFC 7616: the first REGISTER gets 401, the
// UA answers it; refreshes reuse the nonce with the next nonce count, RFC
// 3665 §2.2, until it is stale and the registrar challenges again,
// stale=true). The phone asks for 300 s and refreshes before expiry for six
// cycles, on a network that loses up to 30% of the datagrams, duplicates
// and reorders them; for half of the seeds the phone is also cut off from
// the proxy for 20 s to 200 s at a random moment, so that refreshes fail.
// Then Alice calls sip:bob@example.com through the proxy, and once the call
// is over the phone unregisters (Expires 0, §10.2.2), still on the lossy
// network. Carol's phone registers with a wrong password, and Dave's,
// with his own right password, tries to register Bob's address. Whatever
// the network did:
//
//	| rule                                                        | RFC                        |
//	|-------------------------------------------------------------|----------------------------|
//	| each Registered: the store holds the phone's binding, one    | §10.3 step 7, 8; §10.2.4   |
//	| contact, expiring as the 2xx granted (300 s from when the     |                            |
//	| registrar sent it, at most 64·T1 before the phone heard it)  |                            |
//	| each refresh goes out at least 64·T1 before the granted       | §10.2.1, §10.2.4           |
//	| expiry: a whole transaction fits before the binding lapses   |                            |
//	| the binding lapses only when the phone's REGISTERs failed:    | §10.2.4, §17.1.2.2 (Timer  |
//	| it is missing only while the phone, having heard             | F)                         |
//	| RegistrationFailed, knows it is not registered                |                            |
//	| after a failure the phone tries again after RFC 5626 §4.5's  | RFC 5626 §4.5 (ua's Retry) |
//	| backoff (50% to 100% of min(1800 s, 30 s·2^failures)), and    |                            |
//	| the binding is back                                          |                            |
//	| the call to the AOR goes to the phone's contact (location     | §16.5, §10.3               |
//	| service) and comes out as any proxied call does (expect)     |                            |
//	| after the unregister's 200 no binding is left; a lost         | §10.2.2, §10.3 step 7      |
//	| unregister leaves the binding to expire                      |                            |
//	| a wrong password ends with 401 (RFC 7616 §3.3: the fresh      | §22.4, RFC 3665 §2.5       |
//	| credentials were refused, no loop), another user's AOR with  | §10.3 step 4               |
//	| 403; neither ever binds a contact                            |                            |
//
// and afterwards no node holds a registration, transaction or timer, and
// the store holds no binding.
func TestRegister(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, registerScenario(tl))
}

// Registration parameters of TestRegister: the interval asked for and
// granted, and how long the phone keeps refreshing before the call.
const (
	regInterval = 300 * time.Second
	regPhase    = 6 * 150 * time.Second
	// regBack bounds the wait for the binding to come back before the
	// call: the longest backoff a partition can cause, with room.
	regBack = 30 * time.Minute
)

// regWorld is TestRegister's network.
type regWorld struct {
	s                 *sim.Sim
	w                 *wire
	alice             *sim.UANode
	bob, carol, dave  *sim.UANode
	proxy             *sim.ProxyNode
	bobReg            uint64
	aor               uri.URI
	unregAt           effects.Time // when the phone unregistered (0: not yet)
	bad               error        // the first rule broken while running
	absent            int
	unregisteredClean bool
}

func (r *regWorld) fail(err error) {
	if r.bad == nil {
		r.bad = fmt.Errorf("at %v: %w", time.Duration(r.s.Now()), err)
	}
}

// regCreds returns a UA's credentials for example.com.
func regCreds(user, password string) func(string) (digest.Credentials, bool) {
	return func(realm string) (digest.Credentials, bool) {
		return digest.Credentials{Username: user, Password: password}, realm == "example.com"
	}
}

func newRegWorld(seed uint64) *regWorld {
	s := sim.New(seed)
	r := &regWorld{s: s, w: watch(s), aor: mustURI("sip:bob@example.com")}
	r.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
	r.proxy = sim.Must(s.AddRegistrarProxy("proxy", "192.0.2.10:5060", proxycore.Config{RecordRoute: true},
		registrar.Config{Domains: []string{"example.com"},
			Auth: &digest.Server{Realm: "example.com", Secret: []byte("sim register scenario secret")}},
		map[string]string{"bob": "zanzibar", "carol": "rightpass", "dave": "davespass"}))
	r.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{AOR: r.aor, Credentials: regCreds("bob", "zanzibar")}))
	r.carol = sim.Must(s.AddUA("carol", "192.0.2.3:5060", ua.Config{Credentials: regCreds("carol", "wrongpass")}))
	r.dave = sim.Must(s.AddUA("dave", "192.0.2.4:5060", ua.Config{AOR: r.aor, Credentials: regCreds("dave", "davespass")}))
	return r
}

// binding returns the phone's live binding in the store.
func (r *regWorld) binding(u *sim.UANode) (found bool, expires effects.Time, n int) {
	for _, b := range r.proxy.Store.Lookup(r.s.Now(), u.UA.Config().AOR) {
		n++
		if uri.Equal(b.Contact.URI, u.UA.Config().Contact) {
			found, expires = true, b.Expires
		}
	}
	return found, expires, n
}

// registerScenario is TestRegister's scenario.
func registerScenario(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		r := newRegWorld(seed)
		s := r.s
		s.SetDefaultLink(lossy(s))
		rnd := s.Rand()
		if rnd.IntN(2) == 0 {
			from := effects.Time(time.Duration(100+rnd.IntN(500)) * time.Second)
			s.Partition([]*sim.Node{r.bob.Node}, []*sim.Node{r.proxy.Node}, from, from+effects.Time(time.Duration(20+rnd.IntN(181))*time.Second))
		}
		r.bob.On(func(ev effects.Event) { r.onBobEvent(ev) })
		id, err := r.bob.Register(ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: r.proxy.Peer(), Expires: regInterval, Retry: true})
		if err != nil {
			return s, err
		}
		r.bobReg = id
		for _, u := range []*sim.UANode{r.carol, r.dave} {
			if _, err := u.Register(ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: r.proxy.Peer(), Expires: regInterval, Retry: true}); err != nil {
				return s, err
			}
		}
		r.sample(effects.Time(regPhase + regBack))
		if err := s.Run(effects.Time(regPhase)); err != nil {
			return s, err
		}
		// The call goes once the phone is registered: at once, or when
		// the binding is back.
		start := effects.Time(-1)
		called := false
		call := func() {
			if called {
				return
			}
			called, start = true, s.Now()
			_, err := r.alice.Call("sip:bob@example.com", ua.CallOptions{Dest: r.proxy.Peer(), Body: []byte(sdpOffer), Expires: giveUp})
			if err != nil {
				r.fail(err)
			}
		}
		if info, _ := r.bob.UA.Registration(r.bobReg); info.Registered {
			call()
		} else {
			r.bob.On(func(ev effects.Event) {
				if ev.Kind == effects.Registered && !called {
					call()
				}
			})
		}
		for !called && s.Now() < effects.Time(regPhase+regBack) && r.bad == nil {
			if err := s.RunFor(time.Second); err != nil {
				return s, err
			}
		}
		if r.bad != nil {
			return s, r.bad
		}
		if !called {
			return s, fmt.Errorf("the phone was not registered again within %v of the refresh phase's end", regBack)
		}
		r.bob.Answering(sim.Callee{Ring: 180, After: time.Duration(rnd.IntN(3000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		r.alice.HangupAfter(time.Duration(1000+rnd.IntN(9000)) * time.Millisecond)
		x := expect{tally: tl, caller: r.alice, callees: []*sim.UANode{r.bob}, proxied: true, start: start,
			cleanup: func() error {
				r.unregAt = s.Now()
				return r.bob.Unregister(r.bobReg)
			}}
		if err := x.check(s, r.w); err != nil {
			return s, err
		}
		if r.bad != nil {
			return s, r.bad
		}
		return s, r.verify(tl)
	}
}

// sample checks the store until the phone unregisters (or until end):
// the phone's binding is missing only while the phone knows it is not
// registered, and no other contact is ever bound to Bob's AOR. It looks
// when the binding it saw last expires, and every second while there is
// none: so it sees every lapse as it begins, and for as long as it lasts.
func (r *regWorld) sample(end effects.Time) {
	s := r.s
	var tick func()
	tick = func() {
		if r.unregAt != 0 || s.Now() >= end {
			return
		}
		found, exp, n := r.binding(r.bob)
		if n > 1 || n == 1 && !found {
			r.fail(fmt.Errorf("%s holds %d bindings: %v", r.aor, n, r.proxy.Store.Lookup(s.Now(), r.aor)))
		}
		lastOK, registered := r.bob.Last(effects.Registered)
		if registered && !found {
			r.absent++
			if info, _ := r.bob.UA.Registration(r.bobReg); info.Registered {
				r.fail(fmt.Errorf("the binding lapsed while the phone believes it is registered (granted %v, refresh at %v)",
					info.Granted, time.Duration(info.RefreshAt)))
			}
			if lastKO, failed := r.bob.Last(effects.RegistrationFailed); !failed || lastKO.At < lastOK.At {
				r.fail(fmt.Errorf("the binding lapsed, though no REGISTER of the phone failed since its last success at %v", time.Duration(lastOK.At)))
			}
		}
		if found {
			s.At(exp, tick)
		} else {
			s.After(time.Second, tick)
		}
	}
	s.At(0, tick)
}

// onBobEvent checks each Registered against the store (see TestRegister),
// and the unregister's outcome.
func (r *regWorld) onBobEvent(ev effects.Event) {
	switch ev.Kind {
	case effects.Registered:
		g, ok := grantOf(ev.Msg, r.bob.UA.Config().Contact)
		if !ok || g != regInterval {
			r.fail(fmt.Errorf("the 2xx granted %v (asked %v): %v", g, regInterval, ok))
			return
		}
		found, exp, n := r.binding(r.bob)
		now := r.s.Now()
		if n != 1 || !found || exp > now.Add(g) || exp <= now.Add(g-T1x4-time.Second) {
			r.fail(fmt.Errorf("Registered, but the store's binding is %v expiring at %v (granted %v)", found, time.Duration(exp), g))
		}
	case effects.Unregistered:
		if r.unregAt == 0 {
			r.fail(fmt.Errorf("the registration ended before the unregister: %v", ev.Err))
			return
		}
		found, _, _ := r.binding(r.bob)
		if ev.Code == 200 {
			r.unregisteredClean = true
			if found {
				r.fail(errors.New("the unregister's 200 came, and the binding is still there"))
			}
		}
	}
}

// grantOf returns the expires a REGISTER's 2xx grants contact (§10.2.4).
func grantOf(m *message.Message, contact uri.URI) (time.Duration, bool) {
	if m == nil {
		return 0, false
	}
	cs, err := message.All[header.Contact](m)
	if err != nil {
		return 0, false
	}
	for _, c := range cs {
		if uri.Equal(c.URI, contact) {
			e, ok := c.Expires()
			return time.Duration(e) * time.Second, ok
		}
	}
	return 0, false
}

// verify checks, once all is quiet, the refresh times, the retries'
// backoff, the call's route, the unregister, and Carol's and Dave's
// failures (see TestRegister).
func (r *regWorld) verify(tl tally) error {
	regs := r.w.allFrom(r.bob.Node, r.proxy.Node, "REGISTER")
	next := func(after effects.Time) (effects.Time, bool) {
		for _, rec := range regs {
			if rec.At >= after {
				return rec.At, true
			}
		}
		return 0, false
	}
	fails := 0
	for _, ev := range r.bob.Events() {
		switch ev.Kind {
		case effects.Registered:
			fails = 0
			// The refresh (or the unregister) goes a whole transaction
			// before the binding lapses.
			if at, ok := next(ev.At); !ok || at > ev.At.Add(regInterval-T1x4) {
				return fmt.Errorf("registered at %v, next REGISTER at %v: too late", time.Duration(ev.At), time.Duration(at))
			}
		case effects.RegistrationFailed:
			if r.unregAt != 0 && ev.At >= r.unregAt {
				continue
			}
			if ev.Code != 408 && ev.Code != 503 {
				return fmt.Errorf("the phone's REGISTER failed with %d: %v", ev.Code, ev.Err)
			}
			wait := min(1800*time.Second, 30*time.Second<<fails)
			at, ok := next(ev.At)
			if ok && r.unregAt != 0 && at >= r.unregAt {
				continue // the unregister went first
			}
			if !ok || at < ev.At.Add(wait/2) || at > ev.At.Add(wait) {
				return fmt.Errorf("failure %d at %v, next REGISTER at %v: not within [%v, %v] (RFC 5626 §4.5)",
					fails+1, time.Duration(ev.At), time.Duration(at), wait/2, wait)
			}
			fails++
		}
	}
	// The call went to the contact the phone registered.
	for _, rec := range r.w.allFrom(r.proxy.Node, nil, "INVITE") {
		if rec.Peer != r.bob.Node {
			return fmt.Errorf("the proxy sent the INVITE to %s", rec.Peer.Name())
		}
	}
	if len(r.w.find(sim.OpRecv, r.proxy.Node, r.alice.Node, "INVITE")) > 0 && len(r.w.allFrom(r.proxy.Node, r.bob.Node, "INVITE")) == 0 {
		return errors.New("the proxy did not forward the INVITE to the registered phone")
	}
	// The unregister: its 200 removed the binding (checked as it came), or
	// it failed and the binding expired; either way none is left.
	ev, ok := r.bob.Last(effects.Unregistered)
	switch {
	case !ok:
		return errors.New("the phone never heard the end of its registration")
	case r.unregisteredClean:
		tl.add("unregistered")
	case ev.Code == 408 || ev.Code == 503:
		tl.add("unregister lost: the binding expired")
		if err := stopAtOutcome("unregister lost: the binding expired"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unregister ended with %d: %v", ev.Code, ev.Err)
	}
	if n := r.proxy.Store.Count(); n != 0 {
		return fmt.Errorf("the store holds %d bindings once all is quiet", n)
	}
	// Carol's wrong password: 401, refused fresh credentials, no retry
	// loop; Dave: authenticated, but not allowed Bob's AOR, 403.
	for _, c := range []struct {
		u    *sim.UANode
		code int
	}{{r.carol, 401}, {r.dave, 403}} {
		end, ok := c.u.Last(effects.Unregistered)
		if !ok || end.Code != c.code || c.u.Count(effects.Registered) != 0 {
			return fmt.Errorf("%s's registration ended with %d (want %d), registered %d times", c.u.Name(), end.Code, c.code, c.u.Count(effects.Registered))
		}
		if oks := r.w.allFrom(r.proxy.Node, c.u.Node, "200 REGISTER"); len(oks) != 0 {
			return fmt.Errorf("the registrar accepted %s's REGISTER", c.u.Name())
		}
		if n := c.u.Count(effects.Unregistered); n != 1 {
			return fmt.Errorf("%s's registration ended %d times", c.u.Name(), n)
		}
	}
	if r.absent > 0 {
		tl.add("binding lapsed and came back")
		return stopAtOutcome("binding lapsed and came back")
	}
	return nil
}

// stopAtOutcome returns an error when SIM_STOP names outcome: a scenario then
// stops at the first seed that comes to it, to read its trace (as
// expect.check does for the outcomes of calls).
func stopAtOutcome(outcome string) error {
	if os.Getenv("SIM_STOP") == outcome {
		return fmt.Errorf("stop at %q (SIM_STOP)", outcome)
	}
	return nil
}
