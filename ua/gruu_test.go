package ua

import (
	"errors"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

const bobInstance = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"

// contactOf returns the Contact URI of the first message on the wire from
// from that is a request of method (or, with code, its response).
func contactOf(t *testing.T, n *network, from, method string, code int) string {
	t.Helper()
	for _, w := range n.wire {
		m := w.msg
		if w.from != from || m.CSeq().Method != method || (code == 0) != m.IsRequest() || code != 0 && m.StatusCode() != code {
			continue
		}
		c, ok, err := message.First[header.Contact](m)
		if !ok || err != nil {
			t.Fatalf("%s: no Contact", w)
		}
		return c.URI.String()
	}
	t.Fatalf("no %s %d from %s: %v", method, code, from, n.wireLog())
	return ""
}

// RFC 5627 §4.1-§4.3: Bob registers with an instance id and Supported:
// gruu; the 200 gives his Contact a pub-gruu and a temp-gruu; the INVITE
// he sends and the 2xx he answers with carry the pub-gruu (the temp-gruu
// with Config.TempGRUU) as Contact; once he unregisters, his own Contact
// again.
func TestGRUUContact(t *testing.T) {
	tests := []struct {
		name string
		temp bool
		want string
	}{
		{"§4.3: the pub-gruu", false, "sip:bob@192.0.2.2:5060;gr=" + bobInstance},
		{"§4.3: the temp-gruu when asked", true, "sip:tgruu.7hs@192.0.2.2:5060;gr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			bob := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{AOR: mustURI("sip:bob@biloxi.example.com"), TempGRUU: tc.temp}, 2)
			alice := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, 1)
			reg := n.addRegistrar("192.0.2.100:5060", effects.UDP, nil)
			reg.gruu, reg.gruuHost = true, "192.0.2.2:5060"
			var id uint64
			bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				var err error
				id, out, err = bob.ua.Register(now, RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: reg.nd.addr, GRUU: true, Instance: bobInstance}, out)
				return out, err
			})
			n.run(time.Second)
			r := reg.requests[0]
			if !message.HasToken(r, "Supported", "gruu") {
				t.Errorf("§4.1: REGISTER without Supported: gruu")
			}
			if c, _, _ := message.First[header.Contact](r); c.Instance() != bobInstance {
				t.Errorf("§4.1: REGISTER Contact %s without the instance id", r.Values("Contact"))
			}
			info, _ := bob.ua.Registration(id)
			if info.PubGRUU.String() != "sip:bob@192.0.2.2:5060;gr="+bobInstance || info.TempGRUU.Params != ";gr" {
				t.Fatalf("GRUUs %s %s", info.PubGRUU, info.TempGRUU)
			}
			want := tc.want
			if g, ok := bob.ua.GRUU(); !ok || g.String() != want {
				t.Fatalf("UA.GRUU %s %v, want %s", g, ok, want)
			}

			// Bob calls Alice: his INVITE's Contact is the GRUU.
			alice.on = answerAfter(n, 0)
			bob.callTo(alice, CallOptions{Body: []byte(sdpOffer)})
			n.run(2 * time.Second)
			if got := contactOf(t, n, "bob", "INVITE", 0); got != want {
				t.Errorf("INVITE Contact %s, want %s", got, want)
			}
			bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return bob.ua.Hangup(now, bob.call, out)
			})
			n.run(4 * time.Second)

			// Alice calls Bob: his 2xx's Contact is the GRUU; Alice's
			// BYE goes to it.
			bob.on = answerAfter(n, 0)
			alice.callTo(bob, CallOptions{Body: []byte(sdpOffer)})
			n.run(6 * time.Second)
			if got := contactOf(t, n, "bob", "INVITE", 200); got != want {
				t.Errorf("2xx Contact %s, want %s", got, want)
			}
			alice.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return alice.ua.Hangup(now, alice.call, out)
			})
			n.run(8 * time.Second)
			if _, ok := alice.lastEvent(effects.CallEnded); !ok {
				t.Errorf("Alice's BYE to the GRUU did not end the call: %v", n.wireLog())
			}

			// Unregistered: his own Contact again.
			bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return bob.ua.Unregister(now, id, out)
			})
			n.run(10 * time.Second)
			if g, ok := bob.ua.GRUU(); ok {
				t.Errorf("GRUU %s after unregistering", g)
			}
			n.wire = nil
			bob.on = nil
			bob.callTo(alice, CallOptions{Body: []byte(sdpOffer)})
			n.run(12 * time.Second)
			if got := contactOf(t, n, "bob", "INVITE", 0); got != "sip:bob@192.0.2.2:5060" {
				t.Errorf("INVITE Contact after unregistering %s", got)
			}
			bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return bob.ua.Hangup(now, bob.call, out)
			})
			n.quiesce()
		})
	}
}

// TestGRUUOptions checks the registration options GRUU needs, and that a
// registrar that assigns no GRUU leaves the UA on its own Contact.
func TestGRUUOptions(t *testing.T) {
	n := newNetwork(t)
	bob := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{AOR: mustURI("sip:bob@biloxi.example.com")}, 2)
	reg := n.addRegistrar("192.0.2.100:5060", effects.UDP, nil)
	o := RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: reg.nd.addr, GRUU: true}
	if _, _, err := bob.ua.Register(0, o, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("GRUU without an instance id: %v, want ErrConfig", err)
	}
	// With outbound, its instance id serves (RFC 5626 §4.1).
	o.Outbound = &OutboundOptions{Instance: bobInstance, RegID: 1}
	var id uint64
	bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = bob.ua.Register(now, o, out)
		return out, err
	})
	n.run(time.Second)
	if got := reg.requests[0].Values("Supported"); len(got) == 0 || !message.HasToken(reg.requests[0], "Supported", "gruu") || !message.HasToken(reg.requests[0], "Supported", "outbound") {
		t.Errorf("Supported %v: want outbound and gruu", got)
	}
	if info, _ := bob.ua.Registration(id); !info.Registered || info.PubGRUU.Scheme != 0 {
		t.Errorf("registration %+v: registered, without GRUU", info)
	}
	if g, ok := bob.ua.GRUU(); ok {
		t.Errorf("GRUU %s from a registrar that gave none", g)
	}
	bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return bob.ua.Unregister(now, id, out)
	})
	n.quiesce()
}
