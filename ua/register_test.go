package ua

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/stun"
)

// registers returns Bob's REGISTERs on the wire, with when they went.
func registers(n *network) ([]time.Duration, []*message.Message) {
	var at []time.Duration
	var ms []*message.Message
	for _, w := range n.wire {
		if w.from == "bob" && w.msg.IsRequest() && w.msg.Method() == "REGISTER" {
			at = append(at, w.at)
			ms = append(ms, w.msg)
		}
	}
	return at, ms
}

// feed hands a node an input now and carries out its effects.
func (n *network) feed(nd *node, in effects.Input) {
	in.Now = n.now
	n.apply(nd, nd.ua.Handle(in, nil))
}

// checkSequence checks RFC 3261 §10.2.4 over a registration's REGISTERs:
// one Call-ID, CSeq strictly increasing.
func checkSequence(t tester, ms []*message.Message) {
	t.Helper()
	for i := 1; i < len(ms); i++ {
		if ms[i].CallID() != ms[0].CallID() {
			t.Errorf("REGISTER %d: Call-ID %q, was %q", i, ms[i].CallID(), ms[0].CallID())
		}
		if ms[i].CSeq().Seq <= ms[i-1].CSeq().Seq {
			t.Errorf("REGISTER %d: CSeq %d after %d", i, ms[i].CSeq().Seq, ms[i-1].CSeq().Seq)
		}
	}
}

// §10.2.1, §10.2.4: the refresh goes before the expiry granted to our
// Contact (its expires parameter, else the 200's Expires), not the one
// asked for: at granted − min(granted/2, 5 min).
func TestRegisterRefreshTiming(t *testing.T) {
	tests := []struct {
		name    string
		script  func(req *message.Message) (int, func(*message.Message))
		max     uint32
		granted time.Duration
	}{
		{name: "contact expires param, shortened by the registrar", max: 600, granted: 600 * time.Second},
		{name: "long registration", max: 7200, granted: 3600 * time.Second},
		{name: "Expires field only", granted: 120 * time.Second, script: func(req *message.Message) (int, func(*message.Message)) {
			return 200, func(m *message.Message) { message.Set(m, header.Expires(120)) }
		}},
		{name: "contact param wins over Expires", granted: 1800 * time.Second, script: func(req *message.Message) (int, func(*message.Message)) {
			return 200, func(m *message.Message) {
				message.Set(m, header.Expires(60))
				message.Set(m, header.Contact{URI: mustURI("sip:other@192.0.2.9"), Params: ";expires=30"},
					header.Contact{URI: mustURI("sip:bob@192.0.2.2:5060"), Params: ";expires=1800"})
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newRegSetup(t, "zanzibar")
			s.reg.srv, s.reg.script = nil, tc.script
			if tc.max > 0 {
				s.reg.maxExpires = tc.max
			}
			id := s.register(s.options())
			s.n.run(time.Second)
			info, _ := s.bob.ua.Registration(id)
			if !info.Registered || info.Granted != tc.granted || info.Asked != time.Hour {
				t.Fatalf("info %+v", info)
			}
			want := tc.granted - min(tc.granted/2, 5*time.Minute)
			s.n.run(3*tc.granted + time.Second)
			at, ms := registers(s.n)
			if len(at) < 3 {
				t.Fatalf("%d REGISTERs", len(at))
			}
			for i := 1; i < len(at); i++ {
				if gap := at[i] - at[i-1]; gap < want || gap > want+100*time.Millisecond || gap >= tc.granted {
					t.Errorf("refresh %d after %v, want %v", i, gap, want)
				}
			}
			checkSequence(t, ms)
			unregisterAll(s)
			s.n.quiesce()
		})
	}
}

// §10.2.4 with §22: refreshes keep the Call-ID and increase the CSeq, also
// when a stale nonce makes the UA answer a challenge again (each answer is
// a new CSeq), and carry the credentials at once (RFC 3665 §2.2).
func TestRegisterCSeqAcrossAuthRetries(t *testing.T) {
	s := newRegSetup(t, "zanzibar")
	s.reg.srv.NonceTTL = 500 * time.Second
	s.reg.maxExpires = 600 // refresh every 300 s: every other nonce is stale
	id := s.register(s.options())
	s.n.run(1900 * time.Second)
	_, ms := registers(s.n)
	checkSequence(t, ms)
	var lines []string
	for _, w := range s.wireFrom(0) {
		w = strings.Replace(w, " "+bobContact+";expires=3600", "", 1)
		lines = append(lines, strings.Replace(w, " "+bobContact+";expires=600", "", 1))
	}
	want := []string{
		"bob->registrar REGISTER 1", "registrar->bob 401",
		"bob->registrar REGISTER 2 auth", "registrar->bob 200",
		"bob->registrar REGISTER 3 auth", "registrar->bob 200", // 300 s: the nonce is still good
		"bob->registrar REGISTER 4 auth", "registrar->bob 401", // 600 s: stale
		"bob->registrar REGISTER 5 auth", "registrar->bob 200",
		"bob->registrar REGISTER 6 auth", "registrar->bob 200",
		"bob->registrar REGISTER 7 auth", "registrar->bob 401", // 1200 s
		"bob->registrar REGISTER 8 auth", "registrar->bob 200",
		"bob->registrar REGISTER 9 auth", "registrar->bob 200",
		"bob->registrar REGISTER 10 auth", "registrar->bob 401",
		"bob->registrar REGISTER 11 auth", "registrar->bob 200",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
	if info, _ := s.bob.ua.Registration(id); info.CSeq != 11 || !info.Registered {
		t.Errorf("info %+v", info)
	}
	unregisterAll(s)
	s.n.quiesce()
}

// §10.2.8: 423 Interval Too Brief is answered with the Min-Expires asked
// for, kept for the refreshes; a 423 that asks for nothing longer fails.
func TestRegister423(t *testing.T) {
	t.Run("retry with Min-Expires", func(t *testing.T) {
		s := newRegSetup(t, "zanzibar")
		s.reg.srv, s.reg.minExpires = nil, 7200
		id := s.register(s.options())
		s.n.run(time.Second)
		want := []string{
			"bob->registrar REGISTER 1 " + bobContact + ";expires=3600",
			"registrar->bob 423",
			"bob->registrar REGISTER 2 " + bobContact + ";expires=7200",
			"registrar->bob 200 " + bobContact + ";expires=7200",
		}
		if diff := cmp.Diff(want, s.wireFrom(0)); diff != "" {
			t.Errorf("wire (-want +got):\n%s", diff)
		}
		if info, _ := s.bob.ua.Registration(id); info.Asked != 2*time.Hour || info.Granted != 2*time.Hour {
			t.Errorf("info %+v", info)
		}
		s.n.run(7000 * time.Second)
		if _, ms := registers(s.n); len(ms) != 3 || !strings.Contains(regLine(ms[2]), "expires=7200") {
			t.Errorf("refresh %v", s.wireFrom(0))
		}
		unregisterAll(s)
		s.n.quiesce()
	})
	t.Run("no longer interval asked", func(t *testing.T) {
		s := newRegSetup(t, "zanzibar")
		s.reg.script = func(req *message.Message) (int, func(*message.Message)) {
			return 423, func(m *message.Message) { message.Set(m, header.MinExpires(60)) }
		}
		s.register(s.options())
		s.n.run(time.Second)
		if diff := cmp.Diff([]string{"registration-failed", "unregistered"}, s.bob.kinds()); diff != "" {
			t.Error(diff)
		}
		s.n.quiesce()
	})
}

// §10.2.2: Unregister sends expires=0 for our Contact; UnregisterAll
// "Contact: *" with "Expires: 0"; an Unregister while a REGISTER is in
// progress waits for its response (§10.2: one at a time).
func TestUnregister(t *testing.T) {
	tests := []struct {
		name   string
		all    bool
		header bool
		early  bool // during the first REGISTER
		want   string
	}{
		{name: "one binding", want: "REGISTER 2 " + bobContact + ";expires=0"},
		{name: "one binding, Expires field", header: true, want: "REGISTER 2 " + bobContact + " Expires:0"},
		{name: "all bindings", all: true, want: "REGISTER 2 * Expires:0"},
		{name: "while registering", early: true, want: "REGISTER 2 " + bobContact + ";expires=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newRegSetup(t, "zanzibar")
			s.reg.srv = nil
			o := s.options()
			o.ExpiresHeader = tc.header
			id := s.register(o)
			if !tc.early {
				s.n.run(time.Second)
			}
			s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				if tc.all {
					return s.bob.ua.UnregisterAll(now, id, out)
				}
				return s.bob.ua.Unregister(now, id, out)
			})
			s.n.quiesce()
			_, ms := registers(s.n)
			if len(ms) != 2 || regLine(ms[1]) != tc.want {
				t.Fatalf("wire %v", s.wireFrom(0))
			}
			if diff := cmp.Diff([]string{"registered", "unregistered"}, s.bob.kinds()); diff != "" {
				t.Error(diff)
			}
			if len(s.reg.bindings["sip:bob@biloxi.example.com"]) != 0 {
				t.Errorf("bindings left %v", s.reg.bindings)
			}
			if _, err := s.bob.ua.Unregister(s.n.now, id, nil); !errors.Is(err, ErrNoRegistration) {
				t.Errorf("second Unregister: %v", err)
			}
		})
	}
}

// §10.2 with §17.1.2.2: a registrar that never answers: the REGISTER times
// out (Timer F), RegistrationFailed 408; without Retry the registration
// ends, with Retry it is tried again after the §4.5-style backoff until
// Unregister, whose own timeout still ends it.
func TestRegisterTimeout(t *testing.T) {
	t.Run("no retry", func(t *testing.T) {
		s := newRegSetup(t, "zanzibar")
		s.reg.script = func(*message.Message) (int, func(*message.Message)) { return -1, nil }
		s.register(s.options())
		s.n.quiesce()
		ev, _ := s.bob.lastEvent(effects.RegistrationFailed)
		if ev.Code != 408 || !errors.Is(ev.Err, ErrTimeout) {
			t.Errorf("failure %+v", ev)
		}
		if diff := cmp.Diff([]string{"registration-failed", "unregistered"}, s.bob.kinds()); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("retry", func(t *testing.T) {
		s := newRegSetup(t, "zanzibar")
		s.reg.script = func(*message.Message) (int, func(*message.Message)) { return -1, nil }
		o := s.options()
		o.Retry = true
		id := s.register(o)
		s.n.run(200 * time.Second)
		at, ms := registers(s.n)
		var firsts []time.Duration // the first transmission of each REGISTER
		var prev uint32
		for i, m := range ms {
			if m.CSeq().Seq != prev {
				firsts, prev = append(firsts, at[i]), m.CSeq().Seq
			}
		}
		// Timer F is 32 s; then waits of 15-30 s, 30-60 s, 60-120 s.
		if len(firsts) < 3 {
			t.Fatalf("attempts at %v", firsts)
		}
		for i, lim := range [][2]time.Duration{{15 * time.Second, 30 * time.Second}, {30 * time.Second, 60 * time.Second}} {
			if gap := firsts[i+1] - firsts[i] - 32*time.Second; gap < lim[0] || gap > lim[1] {
				t.Errorf("wait %d: %v, want %v", i, gap, lim)
			}
		}
		checkSequence(t, dedupe(ms))
		s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return s.bob.ua.Unregister(now, id, out)
		})
		s.n.quiesce()
		if ev, _ := s.bob.lastEvent(effects.Unregistered); !errors.Is(ev.Err, ErrTimeout) {
			t.Errorf("end %+v", ev)
		}
	})
}

// dedupe drops retransmissions (the same branch).
func dedupe(ms []*message.Message) []*message.Message {
	var out []*message.Message
	for _, m := range ms {
		if len(out) == 0 || out[len(out)-1].Branch() != m.Branch() {
			out = append(out, m)
		}
	}
	return out
}

// §17.1.4: a transport error sending the REGISTER fails the attempt with
// 503; Retry-After in a 503 decides when it is tried again.
func TestRegisterTransportError(t *testing.T) {
	u, err := New(Config{Gen: ident.Seeded(1), Host: "192.0.2.2", Contact: mustURI("sip:bob@192.0.2.2"), AOR: mustURI("sip:bob@biloxi.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	dest := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.100:5060"), Transport: effects.TCP}
	id, out, err := u.Register(0, RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: dest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tag uint64
	for _, e := range out {
		if e.Kind == effects.Send {
			tag = e.Tag
		}
	}
	out = u.Handle(effects.Input{Kind: effects.SendFailed, Now: 1, Tag: tag}, nil)
	var evs []effects.Event
	for _, e := range out {
		if e.Kind == effects.Deliver {
			evs = append(evs, e.Event)
		}
	}
	if len(evs) != 2 || evs[0].Kind != effects.RegistrationFailed || evs[0].Code != 503 || !errors.Is(evs[0].Err, ErrTransport) || evs[1].Kind != effects.Unregistered || evs[0].ID != id {
		t.Fatalf("events %+v", evs)
	}
	if u.Registrations() != 0 || u.Timers() != 0 {
		t.Errorf("left %d registrations, %d timers", u.Registrations(), u.Timers())
	}

	t.Run("503 Retry-After", func(t *testing.T) {
		s := newRegSetup(t, "zanzibar")
		tries := 0
		s.reg.script = func(*message.Message) (int, func(*message.Message)) {
			if tries++; tries > 1 {
				return 0, nil
			}
			return 503, func(m *message.Message) { message.Set(m, header.RetryAfter{Delta: 42}) }
		}
		s.reg.srv = nil
		o := s.options()
		o.Retry = true
		s.register(o)
		s.n.run(time.Minute)
		at, _ := registers(s.n)
		if len(at) != 2 || at[1]-at[0] < 42*time.Second || at[1]-at[0] > 42*time.Second+50*time.Millisecond {
			t.Errorf("REGISTERs at %v", at)
		}
		if diff := cmp.Diff([]string{"registration-failed", "registered"}, s.bob.kinds()); diff != "" {
			t.Error(diff)
		}
		unregisterAll(s)
		s.n.quiesce()
	})
}

const instance = "urn:uuid:00000000-0000-1000-8000-000A95A0E128"

// newOutbound is Bob registering with RFC 5626 outbound over tr through a
// registrar that supports it.
func newOutbound(t tester, tr effects.Transport, flowTimer uint32) (*regSetup, uint64, *[]time.Duration) {
	n := newNetwork(t)
	bob := n.add("bob", "192.0.2.2:5060", tr, Config{AOR: mustURI("sip:bob@biloxi.example.com")}, 2)
	reg := n.addRegistrar("192.0.2.100:5060", tr, nil)
	reg.outbound, reg.flowTimer = true, flowTimer
	s := &regSetup{n: n, bob: bob, reg: reg}
	var pings []time.Duration
	var lastTx stun.TransactionID
	n.raw = func(from *node, e effects.Effect) {
		if from != bob || e.To.Addr != reg.nd.addr.Addr {
			return
		}
		if string(e.Data) == "\r\n\r\n" {
			pings = append(pings, time.Duration(n.now))
		}
		// A STUN keep-alive counts once, not its retransmissions.
		if m, err := stun.Parse(e.Data); err == nil && m.Type == stun.BindingRequest && m.TxID != lastTx {
			lastTx = m.TxID
			pings = append(pings, time.Duration(n.now))
		}
	}
	// The registrar's driver answers STUN with the address it saw.
	n.stunServer = func(from, to *node, b []byte) []byte {
		req, err := stun.Parse(b)
		if err != nil {
			return nil
		}
		resp, _ := stun.AppendResponse(nil, &req, from.addr.Addr)
		return resp
	}
	o := s.options()
	o.Outbound = &OutboundOptions{Instance: instance, RegID: 1}
	o.Routes = []header.Route{{URI: mustURI("sip:192.0.2.100;lr")}}
	return s, s.register(o), &pings
}

// RFC 5626 §4.2: the REGISTER carries +sip.instance, reg-id, Supported:
// outbound, path and ";ob" on the outbound proxy's Route; §4.4.1: once the
// 200 says Require: outbound, keep-alives (CRLFCRLF on TCP, STUN Binding
// requests on UDP, §4.4.2) go at 80-100% of Flow-Timer, or 95-120 s on TCP
// and 24-29 s on UDP without one.
func TestOutboundKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		tr        effects.Transport
		flowTimer uint32
		lo, hi    time.Duration
	}{
		{"TCP with Flow-Timer", effects.TCP, 50, 40 * time.Second, 50 * time.Second},
		{"TCP default", effects.TCP, 0, 95 * time.Second, 120 * time.Second},
		{"UDP default", effects.UDP, 0, 24 * time.Second, 29 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, id, pings := newOutbound(t, tc.tr, tc.flowTimer)
			s.n.run(time.Second)
			req := s.reg.requests[0]
			c, _, _ := message.First[header.Contact](req)
			if rid, ok := c.RegID(); c.Instance() != instance || !ok || rid != 1 {
				t.Errorf("Contact %v", req.Values("Contact"))
			}
			if !message.HasToken(req, "Supported", "outbound") || !message.HasToken(req, "Supported", "path") {
				t.Errorf("Supported %v", req.Values("Supported"))
			}
			if r, _ := req.Get("Route"); r != "<sip:192.0.2.100;lr;ob>" {
				t.Errorf("Route %q", r)
			}
			info, _ := s.bob.ua.Registration(id)
			if !info.FlowUp || (tc.tr.Reliable() && info.Flow.Conn != 1) {
				t.Fatalf("info %+v", info)
			}
			s.n.run(1000 * time.Second)
			if len(*pings) < 5 {
				t.Fatalf("pings at %v", *pings)
			}
			prev := 20 * time.Millisecond // the 200 arrived
			for i, at := range *pings {
				if gap := at - prev; gap < tc.lo || gap > tc.hi {
					t.Errorf("ping %d after %v, want %v-%v", i, gap, tc.lo, tc.hi)
				}
				prev = at
			}
			unregisterAll(s)
			s.n.quiesce()
			n := len(*pings)
			s.n.run(time.Duration(s.n.now) + time.Hour)
			if len(*pings) != n {
				t.Error("keep-alives after the end")
			}
		})
	}
}

// RFC 5626 §4.4, §4.5: a flow failure (the connection closed, or a
// keep-alive that could not be sent) is reported and the UA registers
// again on a new flow after 50-100% of min(1800 s, 30 s·2^failures); a
// failed attempt doubles the wait, a success resets it.
func TestOutboundFlowFailure(t *testing.T) {
	for _, how := range []string{"conn closed", "keep-alive send failed"} {
		t.Run(how, func(t *testing.T) {
			s, id, pings := newOutbound(t, effects.TCP, 30)
			s.n.run(time.Second)
			var pingTag uint64
			s.n.raw = func(from *node, e effects.Effect) {
				*pings = append(*pings, time.Duration(s.n.now))
				pingTag = e.Tag
			}
			s.n.run(40 * time.Second) // one keep-alive
			failAt := s.n.now
			if how == "conn closed" {
				s.n.feed(s.bob, effects.Input{Kind: effects.ConnClosed, Conn: 1})
			} else {
				s.n.feed(s.bob, effects.Input{Kind: effects.SendFailed, Tag: pingTag})
			}
			if info, _ := s.bob.ua.Registration(id); info.FlowUp || info.RefreshAt == 0 {
				t.Fatalf("info %+v", info)
			}
			// The registrar is gone for a while: the re-registration
			// times out once.
			s.reg.script = func(*message.Message) (int, func(*message.Message)) { return -1, nil }
			k := len(registersAt(s.n))
			s.n.run(time.Duration(failAt) + 31*time.Second)
			s.reg.script = nil
			s.n.run(time.Duration(failAt) + 200*time.Second)
			at := registersAt(s.n)[k:]
			if len(at) < 2 {
				t.Fatalf("REGISTERs at %v", at)
			}
			if gap := at[0] - time.Duration(failAt); gap < 15*time.Second || gap > 30*time.Second {
				t.Errorf("first re-registration after %v", gap)
			}
			if gap := at[1] - at[0] - 32*time.Second; gap < 30*time.Second || gap > 60*time.Second {
				t.Errorf("second re-registration after %v", gap)
			}
			if diff := cmp.Diff([]string{"registered", "registration-flow-failed", "registration-failed", "registered"}, s.bob.kinds()); diff != "" {
				t.Error(diff)
			}
			info, _ := s.bob.ua.Registration(id)
			if !info.FlowUp || info.Failures != 0 {
				t.Errorf("info %+v", info)
			}
			_, ms := registers(s.n)
			checkSequence(t, dedupe(ms))
			unregisterAll(s)
			s.n.quiesce()
		})
	}
}

// registersAt lists when Bob's distinct REGISTERs (not retransmissions)
// first went.
func registersAt(n *network) []time.Duration {
	at, ms := registers(n)
	var out []time.Duration
	prev := ""
	for i, m := range ms {
		if m.Branch() != prev {
			out, prev = append(out, at[i]), m.Branch()
		}
	}
	return out
}

// A fetch outside any registration (§10.2.3) ends with its answer;
// Bindings refuses while a REGISTER is in progress.
func TestFetchBindings(t *testing.T) {
	s := newRegSetup(t, "zanzibar")
	s.reg.srv = nil
	id := s.register(s.options())
	if _, err := s.bob.ua.Bindings(s.n.now, id, nil); !errors.Is(err, ErrPending) {
		t.Errorf("Bindings while registering: %v", err)
	}
	s.n.run(time.Second)
	s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := s.bob.ua.FetchBindings(now, s.options(), out)
		return out, err
	})
	s.n.run(2 * time.Second)
	ev, ok := s.bob.lastEvent(effects.RegistrationBindings)
	if !ok || ev.Code != 200 || len(ev.Msg.Values("Contact")) != 1 || s.bob.ua.Registrations() != 1 {
		t.Fatalf("fetch %+v, %d registrations", ev, s.bob.ua.Registrations())
	}
	_, ms := registers(s.n)
	if regLine(ms[1]) != "REGISTER 1" || ms[1].CallID() == ms[0].CallID() {
		t.Errorf("fetch %v", s.wireFrom(0))
	}
	unregisterAll(s)
	s.n.quiesce()
}

// Register checks its options.
func TestRegisterOptions(t *testing.T) {
	u, _ := New(Config{Gen: ident.Seeded(1), Host: "192.0.2.2", Contact: mustURI("sip:bob@192.0.2.2")})
	for _, o := range []RegisterOptions{
		{},
		{Registrar: mustURI("sip:biloxi.example.com")}, // no AOR
		{Registrar: mustURI("sip:biloxi.example.com"), AOR: mustURI("sip:bob@biloxi.example.com"), Outbound: &OutboundOptions{}},
	} {
		if _, _, err := u.Register(0, o, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if u.Registrations() != 0 {
		t.Error("a refused registration was kept")
	}
}

// TestRegisterRealmsDeterministic: a registration challenged for several
// realms at once (a 401 and a 407 aggregated by a forking proxy, RFC 3261
// §16.7 step 7, §22.3) sends the credentials of every realm again with
// each refresh (RFC 3665 §2.2), drawing a fresh cnonce for each from the
// generator, as does a second registration with the same registrar, which
// sends them at once. The same seed must give the same bytes (DESIGN §1):
// the realms are gone through in a fixed order, never a map's. Run 50
// times, every effect of the whole exchange is compared byte for byte.
func TestRegisterRealmsDeterministic(t *testing.T) {
	realms := []struct {
		name  string
		proxy bool
	}{{"biloxi.example.com", false}, {"atlanta.example.com", false}, {"chicago.example.com", true}, {"denver.example.com", true}}
	creds := func(string) (digest.Credentials, bool) {
		return digest.Credentials{Username: "alice", Password: "cryptic"}, true
	}
	run := func() []string {
		a := newSolo(t, Config{Credentials: creds})
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			_, out, err := a.u.Register(now, RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: proxyPeer, Expires: time.Hour}, out)
			return out, err
		})
		// A 407 for the proxies' realms, then a 401 for the registrars'.
		for _, proxy := range []bool{true, false} {
			code := 401
			if proxy {
				code = 407
			}
			a.receive(respond(t, a.lastRequest(), code, "r", func(m *message.Message) {
				for _, r := range realms {
					if r.proxy != proxy {
						continue
					}
					srv := &digest.Server{Realm: r.name, Secret: []byte("0123456789abcdef-" + r.name)}
					for _, ch := range srv.Challenge(a.now, false, "") {
						var err error
						if proxy {
							err = message.Add(m, header.ProxyAuthenticate{Challenge: ch})
						} else {
							err = message.Add(m, header.WWWAuthenticate{Challenge: ch})
						}
						if err != nil {
							t.Fatal(err)
						}
					}
				}
			}))
		}
		reg := a.lastRequest()
		if n, p := len(reg.Values("Authorization")), len(reg.Values("Proxy-Authorization")); n != 2 || p != 2 {
			t.Fatalf("the REGISTER answers %d+%d realms, want 2+2", n, p)
		}
		a.receive(respond(t, reg, 200, "r", func(m *message.Message) {
			message.Set(m, header.Contact{URI: mustURI("sip:alice@192.0.2.1:5060"), Params: ";expires=3600"})
		}))
		// A second registration with the same registrar sends the realms
		// the first answered at once (knownRealms).
		a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			_, out, err := a.u.Register(now, RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), AOR: mustURI("sip:alice2@biloxi.example.com"), Dest: proxyPeer, Expires: time.Hour}, out)
			return out, err
		})
		if second := a.lastRequest(); len(second.Values("Authorization"))+len(second.Values("Proxy-Authorization")) != 4 {
			t.Fatalf("the second registration's REGISTER answers %q and %q", second.Values("Authorization"), second.Values("Proxy-Authorization"))
		}
		a.advance(time.Hour) // the refresh, with every realm's credentials again
		refresh := a.lastRequest()
		if refresh == reg || len(refresh.Values("Authorization")) != 2 || len(refresh.Values("Proxy-Authorization")) != 2 {
			t.Fatalf("the refresh carries %q and %q", refresh.Values("Authorization"), refresh.Values("Proxy-Authorization"))
		}
		return a.trace
	}
	first := run()
	for i := 1; i < 50; i++ {
		if diff := cmp.Diff(first, run()); diff != "" {
			t.Fatalf("run %d differs from the first with the same seed (-first +this):\n%s", i, diff)
		}
	}
}
