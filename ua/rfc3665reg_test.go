package ua

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// regSetup is Bob's UA and the biloxi registrar of RFC 3665 §2, on UDP.
type regSetup struct {
	n   *network
	bob *node
	reg *testRegistrar
}

func newRegSetup(t tester, password string) *regSetup {
	n := newNetwork(t)
	creds := func(realm string) (digest.Credentials, bool) {
		return digest.Credentials{Username: "bob", Password: password}, realm == "biloxi.example.com"
	}
	bob := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{AOR: mustURI("sip:bob@biloxi.example.com"), Credentials: creds}, 2)
	reg := n.addRegistrar("192.0.2.100:5060", effects.UDP, map[string]string{"bob": "zanzibar"})
	return &regSetup{n: n, bob: bob, reg: reg}
}

// options are Bob's registration with the biloxi registrar.
func (s *regSetup) options() RegisterOptions {
	return RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: s.reg.nd.addr}
}

// register registers Bob and returns the registration's id.
func (s *regSetup) register(o RegisterOptions) uint64 {
	s.n.t.Helper()
	id, out, err := s.bob.ua.Register(s.n.now, o, nil)
	if err != nil {
		s.n.t.Fatal(err)
	}
	s.n.apply(s.bob, out)
	return id
}

// wireFrom renders the wire from entry k on as "from->to line".
func (s *regSetup) wireFrom(k int) []string {
	var out []string
	for _, w := range s.n.wire[k:] {
		l := w.from + "->" + w.to + " " + regLine(w.msg)
		if w.dropped {
			l += " (lost)"
		}
		out = append(out, l)
	}
	return out
}

// callIDs returns the Call-IDs of Bob's REGISTERs from entry k on.
func (s *regSetup) callIDs(k int) map[string]bool {
	ids := map[string]bool{}
	for _, w := range s.n.wire[k:] {
		if w.from == "bob" {
			ids[w.msg.CallID()] = true
		}
	}
	return ids
}

const bobContact = "<sip:bob@192.0.2.2:5060>"

// TestRFC3665Registration runs the registration flows of RFC 3665 §2
// between the UA core and a registrar that challenges with digest, and
// checks every message on the wire: method or status, CSeq, Contacts and
// their expires, Authorization; the Call-ID of a registration never
// changes.
func TestRFC3665Registration(t *testing.T) {
	tests := []struct {
		name string
		// act runs after §2.1's registration (unless fresh) and returns
		// the events Bob must see from then on.
		fresh    bool
		password string
		act      func(t *testing.T, s *regSetup, id uint64)
		want     []string
		events   []string
	}{{
		// §2.1: REGISTER, 401 with a challenge, REGISTER with the digest
		// answer and CSeq 2, 200 with the binding.
		name: "2.1 successful new registration", fresh: true,
		act: func(t *testing.T, s *regSetup, _ uint64) { s.register(s.options()) },
		want: []string{
			"bob->registrar REGISTER 1 " + bobContact + ";expires=3600",
			"registrar->bob 401",
			"bob->registrar REGISTER 2 " + bobContact + ";expires=3600 auth",
			"registrar->bob 200 " + bobContact + ";expires=3600",
		},
		events: []string{"registered"},
	}, {
		// §2.2: a second Contact (the RFC's mailto:) added with the
		// credentials already known: no challenge, and the 200 lists both.
		name: "2.2 update of contact list",
		act: func(t *testing.T, s *regSetup, _ uint64) {
			o := s.options()
			o.Contact = mustURI("mailto:bob@biloxi.example.com")
			s.register(o)
		},
		want: []string{
			"bob->registrar REGISTER 1 <mailto:bob@biloxi.example.com>;expires=3600 auth",
			"registrar->bob 200 " + bobContact + ";expires=3599, <mailto:bob@biloxi.example.com>;expires=3600", // the first is 1 s old
		},
		events: []string{"registered"},
	}, {
		// §2.3: a REGISTER without Contact asks for the bindings, in the
		// registration's Call-ID with the next CSeq.
		name: "2.3 request for current contact list",
		act: func(t *testing.T, s *regSetup, id uint64) {
			s.n.run(s.n.now.Sub(0) + time.Minute)
			s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return s.bob.ua.Bindings(now, id, out)
			})
		},
		want: []string{
			"bob->registrar REGISTER 3 auth",
			"registrar->bob 200 " + bobContact + ";expires=3539", // 61 s after
		},
		events: []string{"registration-bindings"},
	}, {
		// §2.4: Contact: * with Expires: 0 removes every binding; the
		// registration ends.
		name: "2.4 cancellation of registration",
		act: func(t *testing.T, s *regSetup, id uint64) {
			s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return s.bob.ua.UnregisterAll(now, id, out)
			})
		},
		want: []string{
			"bob->registrar REGISTER 3 * Expires:0 auth",
			"registrar->bob 200",
		},
		events: []string{"unregistered"},
	}, {
		// §2.5: a wrong password: the answer to the challenge is
		// challenged again, and the registration fails instead of looping.
		name: "2.5 unsuccessful registration", fresh: true, password: "wrong",
		act: func(t *testing.T, s *regSetup, _ uint64) { s.register(s.options()) },
		want: []string{
			"bob->registrar REGISTER 1 " + bobContact + ";expires=3600",
			"registrar->bob 401",
			"bob->registrar REGISTER 2 " + bobContact + ";expires=3600 auth",
			"registrar->bob 401",
		},
		events: []string{"registration-failed", "unregistered"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pw := tc.password
			if pw == "" {
				pw = "zanzibar"
			}
			s := newRegSetup(t, pw)
			var id uint64
			if !tc.fresh {
				id = s.register(s.options())
				s.n.run(time.Second)
				s.bob.events = nil
			}
			k := len(s.n.wire)
			tc.act(t, s, id)
			s.n.run(s.n.now.Sub(0) + time.Second)
			if diff := cmp.Diff(tc.want, s.wireFrom(k)); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.events, s.bob.kinds()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if len(s.callIDs(0)) > 2 || (tc.name != "2.2 update of contact list" && len(s.callIDs(0)) != 1) {
				t.Errorf("Call-IDs %v", s.callIDs(0))
			}
			if ev, ok := s.bob.lastEvent(effects.RegistrationBindings); ok {
				all, _ := message.All[header.Contact](ev.Msg)
				if len(all) != 1 {
					t.Errorf("bindings %v", all)
				}
			}
			unregisterAll(s)
			s.n.quiesce()
		})
	}
}

// unregisterAll ends Bob's registrations that are left.
func unregisterAll(s *regSetup) {
	for id := range s.bob.ua.regs {
		s.bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return s.bob.ua.Unregister(now, id, out)
		})
	}
}
