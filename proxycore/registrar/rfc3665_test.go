package registrar_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
)

// regSetup is Bob's UA core and the biloxi registrar (a txn.Layer and a
// registrar.Memory) of RFC 3665 §2 on the test network.
type regSetup struct {
	n      *network
	bob    *endpoint
	bobUA  *ua.UA
	reg    *endpoint
	server *server
}

func newRegSetup(t *testing.T, password string, cfg registrar.Config, tr effects.Transport) *regSetup {
	n := newNetwork(t)
	s := &regSetup{n: n}
	if cfg.Auth == nil {
		cfg.Auth = authServer()
	}
	s.server = newServer(t, cfg, map[string]string{"bob": "zanzibar"})
	s.reg = n.add("registrar", peer("192.0.2.100:5060", tr), s.server.handle)
	bobAddr := peer("192.0.2.2:5060", tr)
	s.bobUA = bobUA(t, bobAddr, password, 2)
	s.bob = n.add("bob", bobAddr, func(in effects.Input) []effects.Effect { return s.bobUA.Handle(in, nil) })
	return s
}

func (s *regSetup) options() ua.RegisterOptions {
	return ua.RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: s.reg.addr}
}

func (s *regSetup) register(o ua.RegisterOptions) uint64 {
	s.n.t.Helper()
	id, out, err := s.bobUA.Register(s.n.now, o, nil)
	if err != nil {
		s.n.t.Fatal(err)
	}
	s.n.apply(s.bob, out)
	return id
}

// do runs a UA command now.
func (s *regSetup) do(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) {
	s.n.t.Helper()
	out, err := f(s.n.now, nil)
	if err != nil {
		s.n.t.Fatal(err)
	}
	s.n.apply(s.bob, out)
}

const bobContact = "<sip:bob@192.0.2.2:5060>"

// TestRFC3665Registration runs the registration flows of RFC 3665 §2.1 to
// §2.5 between the ua package's registration client and this registrar
// (through a txn.Layer), and checks every message on the wire: method or
// status, CSeq, Contacts with their expires, Expires, challenges, and the
// credentials and Authentication-Info of RFC 3261 §22 / RFC 7616 §3.5.
func TestRFC3665Registration(t *testing.T) {
	tests := []struct {
		name     string
		fresh    bool // skip §2.1's registration first
		password string
		act      func(s *regSetup, id uint64)
		want     []string
		events   []string
		bindings int // the bindings left for bob
	}{{
		// §2.1: REGISTER, 401 with a challenge, REGISTER with the
		// digest answer and CSeq 2, 200 with the binding.
		name: "2.1 successful new registration", fresh: true,
		act: func(s *regSetup, _ uint64) { s.register(s.options()) },
		want: []string{
			"bob->registrar REGISTER 1 " + bobContact + ";expires=3600",
			"registrar->bob 401 challenge",
			"bob->registrar REGISTER 2 " + bobContact + ";expires=3600 auth",
			"registrar->bob 200 " + bobContact + ";expires=3600 info",
		},
		events: []string{"registered"}, bindings: 1,
	}, {
		// §2.2: a second Contact added with the credentials known: no
		// challenge, and the 200 lists both, the first 1 s older.
		name: "2.2 update of contact list",
		act: func(s *regSetup, _ uint64) {
			o := s.options()
			o.Contact = mustURI("mailto:bob@biloxi.example.com")
			s.register(o)
		},
		want: []string{
			"bob->registrar REGISTER 1 <mailto:bob@biloxi.example.com>;expires=3600 auth",
			// Equal q: the most recently updated first.
			"registrar->bob 200 <mailto:bob@biloxi.example.com>;expires=3600, " + bobContact + ";expires=3599 info",
		},
		events: []string{"registered"}, bindings: 2,
	}, {
		// §2.3: a REGISTER without Contact asks for the bindings; they
		// are listed with what is left of their expiry, unchanged.
		name: "2.3 request for current contact list",
		act: func(s *regSetup, id uint64) {
			s.n.run(s.n.now.Add(time.Minute))
			s.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return s.bobUA.Bindings(now, id, out)
			})
		},
		want: []string{
			"bob->registrar REGISTER 3 auth",
			"registrar->bob 200 " + bobContact + ";expires=3539 info",
		},
		events: []string{"registration-bindings"}, bindings: 1,
	}, {
		// §2.4: Contact: * with Expires: 0 removes every binding.
		name: "2.4 cancellation of registration",
		act: func(s *regSetup, id uint64) {
			s.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return s.bobUA.UnregisterAll(now, id, out)
			})
		},
		want: []string{
			"bob->registrar REGISTER 3 * Expires:0 auth",
			"registrar->bob 200 info",
		},
		events: []string{"unregistered"}, bindings: 0,
	}, {
		// §2.5: a wrong password is challenged again; the client gives up.
		name: "2.5 unsuccessful registration", fresh: true, password: "wrong",
		act: func(s *regSetup, _ uint64) { s.register(s.options()) },
		want: []string{
			"bob->registrar REGISTER 1 " + bobContact + ";expires=3600",
			"registrar->bob 401 challenge",
			"bob->registrar REGISTER 2 " + bobContact + ";expires=3600 auth",
			"registrar->bob 401 challenge",
		},
		events: []string{"registration-failed", "unregistered"}, bindings: 0,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pw := tc.password
			if pw == "" {
				pw = "zanzibar"
			}
			s := newRegSetup(t, pw, registrar.Config{}, effects.UDP)
			var id uint64
			if !tc.fresh {
				id = s.register(s.options())
				s.n.run(s.n.now.Add(time.Second))
				s.bob.events = nil
			}
			k := len(s.n.wire)
			tc.act(s, id)
			s.n.run(s.n.now.Add(time.Second))
			if diff := cmp.Diff(tc.want, s.n.wireFrom(k)); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.events, kinds(s.bob.events, effects.Registered)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if got := len(s.server.mem.Lookup(s.n.now, mustURI("sip:bob@biloxi.example.com"))); got != tc.bindings {
				t.Errorf("bindings: %d, want %d", got, tc.bindings)
			}
			for _, w := range s.n.wire {
				if w.msg.IsResponse() && w.msg.ToTag() == "" {
					t.Errorf("%s without a To tag (RFC 3261 §8.2.6.2)", line(w.msg))
				}
			}
		})
	}
}

// TestRFC3665Refresh: the client refreshes before expiry within the same
// Call-ID with increasing CSeqs, reusing its nonce; the binding is
// refreshed rather than duplicated, and expires once the client stops.
func TestRFC3665Refresh(t *testing.T) {
	s := newRegSetup(t, "zanzibar", registrar.Config{MinExpires: 10 * time.Second}, effects.UDP)
	o := s.options()
	o.Expires = 60 * time.Second
	s.register(o)
	s.n.run(s.n.now.Add(125 * time.Second))
	reqs := 0
	for _, w := range s.n.wire {
		if w.msg.IsRequest() {
			reqs++
			if w.msg.CSeq().Seq != uint32(reqs) {
				t.Errorf("CSeq %d for request %d", w.msg.CSeq().Seq, reqs)
			}
		} else if w.msg.StatusCode() != 200 && reqs > 2 {
			t.Errorf("refresh answered %s", line(w.msg))
		}
	}
	if reqs < 4 {
		t.Fatalf("%d REGISTERs in 125 s of a 60 s registration", reqs)
	}
	bs := s.server.mem.Lookup(s.n.now, mustURI("sip:bob@biloxi.example.com"))
	if len(bs) != 1 || bs[0].CSeq != uint32(reqs) {
		t.Fatalf("bindings after refreshes: %+v", bs)
	}
	// The UA goes away without unregistering: the binding lapses, and
	// the expiry timer releases it without a look-up.
	s.n.queue = nil
	s.bob.timers = map[effects.TimerID]bool{}
	s.n.run(s.n.now.Add(61 * time.Second))
	if n := s.server.mem.Store.Expire(s.n.now); n != 1 || s.server.mem.Store.Len() != 0 {
		t.Errorf("expire released %d, %d AORs left", n, s.server.mem.Store.Len())
	}
}

// TestOutboundRegistration: an RFC 5626 client over TCP: the 200 says
// Require: outbound with the Flow-Timer, the binding keeps the flow (the
// connection the REGISTER came on) as its direct route, and the client
// sees its flow up.
func TestOutboundRegistration(t *testing.T) {
	s := newRegSetup(t, "zanzibar", registrar.Config{FlowTimer: 100 * time.Second}, effects.TCP)
	o := s.options()
	o.Outbound = &ua.OutboundOptions{Instance: "urn:uuid:00000000-0000-1000-8000-000A95A0E128", RegID: 1}
	id := s.register(o)
	s.n.run(s.n.now.Add(time.Second))
	last := s.n.wire[len(s.n.wire)-1].msg
	if got := line(last); got != "200 <sip:bob@192.0.2.2:5060;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1;expires=3600 Require:outbound Flow-Timer:100 info" {
		t.Errorf("200: %s", got)
	}
	info, _ := s.bobUA.Registration(id)
	if !info.FlowUp {
		t.Errorf("the client's flow is not up: %+v", info)
	}
	bs := s.server.mem.Lookup(s.n.now, mustURI("sip:bob@biloxi.example.com"))
	if len(bs) != 1 {
		t.Fatalf("bindings %+v", bs)
	}
	flow, direct := bs[0].Direct()
	want := effects.Peer{Addr: s.bob.addr.Addr, Transport: effects.TCP, Conn: 7}
	if !direct || flow != want || bs[0].FlowToken == "" || bs[0].RegID != 1 {
		t.Errorf("binding flow %v direct %v token %q reg-id %d, want %v", flow, direct, bs[0].FlowToken, bs[0].RegID, want)
	}
	if all, _ := message.All[header.Require](last); len(all) != 1 {
		t.Errorf("Require %v", all)
	}
}
