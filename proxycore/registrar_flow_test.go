package proxycore_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
)

// registrarProxy makes a stateful proxy that is also the registrar of
// example.com (digest, realm example.com) and routes by its bindings.
func registrarProxy(t *testing.T, n *network, name, addr string) (*node, *location.Store) {
	t.Helper()
	store := &location.Store{}
	mem, err := registrar.NewMemory(registrar.Config{
		Domains: []string{"example.com"},
		Auth:    &digest.Server{Realm: "example.com", Secret: []byte("0123456789abcdef-registrar")},
		Gen:     ident.Seeded(41),
	}, store, map[string]string{"bob": "zanzibar", "alice": "cryptic"})
	if err != nil {
		t.Fatal(err)
	}
	mem.Timer = effects.TimerID(1 << 61)
	p := n.addProxy(name, addr, proxycore.Config{
		Domains: []string{"example.com"}, RecordRoute: true,
		Registrar: mem, Location: mem.Lookup,
	})
	return p, store
}

func creds(user, pass string) func(string) (digest.Credentials, bool) {
	return func(realm string) (digest.Credentials, bool) {
		return digest.Credentials{Username: user, Password: pass}, realm == "example.com"
	}
}

// RFC 3665 §2.1 then §3.2 with the proxy as the registrar: Bob registers
// (challenged, then accepted); Alice's call to sip:bob@example.com reaches
// his registered contact through the location service (RFC 3261 §16.5);
// a call to an address of record with no binding gets 404; once Bob
// unregisters (§2.4), so does a call to him; the binding also lapses by
// itself when not refreshed.
func TestRegistrarAndLocation(t *testing.T) {
	n := newNetwork(t)
	p, store := registrarProxy(t, n, "p", "192.0.2.10:5060")
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	bob := n.addUA("bob", "192.0.2.2:5060", 2)
	bob.ua = mustUA(t, bob, creds("bob", "zanzibar"))
	bob.on = callee(200, time.Second)
	var reg uint64
	bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		reg, out, err = bob.ua.Register(now, ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: p.addr, Expires: time.Hour}, out)
		return out, err
	})
	n.run(2 * time.Second)
	if _, ok := bob.last(effects.Registered); !ok {
		t.Fatalf("Bob is not registered: %v", n.log())
	}
	wantLog := []string{"bob->p REGISTER", "p->bob 401", "bob->p REGISTER", "p->bob 200"}
	if diff := cmp.Diff(wantLog, n.log()); diff != "" {
		t.Errorf("§2.1 wire (-want +got):\n%s", diff)
	}
	if got := store.Len(); got != 1 {
		t.Errorf("store holds %d AORs", got)
	}
	// The call reaches Bob's contact (192.0.2.2) though it was addressed
	// to his address of record.
	n.wire = nil
	alice.on = hangupAfter(3 * time.Second)
	alice.callTo("sip:bob@example.com", p)
	n.run(10 * time.Second)
	if ev, ok := alice.last(effects.CallAnswered); !ok {
		t.Fatalf("the call was not answered: %v", n.log())
	} else if ev.Msg.StatusCode() != 200 {
		t.Errorf("answered with %d", ev.Msg.StatusCode())
	}
	inv := n.wire[1].msg // p->bob INVITE
	if inv.Method() != "INVITE" || inv.RequestURI().String() != "sip:bob@192.0.2.2:5060" {
		t.Errorf("§16.5: forwarded %s", inv.StartLine())
	}
	// Nobody registered as carol: 404.
	n.wire = nil
	alice.on = nil
	alice.callTo("sip:carol@example.com", p)
	n.run(12 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 404 {
		t.Errorf("call to carol: %+v %v (%v)", ev, ok, n.log())
	}
	// §2.4: Bob unregisters; calls to him now get 404.
	bob.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return bob.ua.Unregister(now, reg, out)
	})
	n.run(14 * time.Second)
	if _, ok := bob.last(effects.Unregistered); !ok {
		t.Fatal("not unregistered")
	}
	alice.events = nil
	alice.callTo("sip:bob@example.com", p)
	n.run(16 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 404 {
		t.Errorf("call to unregistered bob: %+v %v", ev, ok)
	}
	n.quiesce()
	if got := store.Len(); got != 0 {
		t.Errorf("store holds %d AORs after unregistration", got)
	}
}

// RFC 3327 §5.3 and RFC 5626 §5.3: a binding's Path becomes the target's
// route set; an outbound binding registered directly is reached over its
// own flow (the connection it registered on).
func TestBindingTarget(t *testing.T) {
	flow := effects.Peer{Addr: netipAddrPort("198.51.100.7:40001"), Transport: effects.TCP, Conn: 42}
	direct := location.Binding{Contact: contact(t, "<sip:bob@10.0.0.7:5060;transport=tcp;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1"),
		Q: 700, Instance: "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", RegID: 1, Flow: flow}
	got := proxycore.BindingTarget(&direct)
	if got.Peer != flow || got.Q != 700 || got.URI.String() != "sip:bob@10.0.0.7:5060;transport=tcp;ob" || len(got.Routes) != 0 {
		t.Errorf("outbound binding: %+v", got)
	}
	viaEdge := location.Binding{Contact: contact(t, "<sip:bob@10.0.0.7>"), Q: 1000, Flow: flow,
		Path: paths(t, "<sip:edge1.example.com;lr>", "<sip:edge2.example.com;lr>")}
	got = proxycore.BindingTarget(&viaEdge)
	if got.Peer.Addr.IsValid() || len(got.Routes) != 2 || got.Routes[0].String() != "sip:edge1.example.com;lr" {
		t.Errorf("binding with Path: %+v", got)
	}
}

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func contact(t *testing.T, s string) header.Contact {
	t.Helper()
	c, err := header.ParseValue[header.Contact](s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func paths(t *testing.T, ss ...string) []header.Path {
	t.Helper()
	var out []header.Path
	for _, s := range ss {
		p, err := header.ParseValue[header.Path](s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// RFC 3261 §10.3 step 5 and §16.5, with §19.1.4: a URI with a port and one
// without are different URIs, but on a domain the server is responsible
// for, the server's own port names the domain itself (a REGISTER sent to
// the registrar at 127.0.0.1:5060 for sip:alice@127.0.0.1 is found by a
// call to sip:alice@127.0.0.1:5060, and the other way round, as Kamailio
// finds them). The registrar stores the address of record without that
// port (registrar.Config.Ports) and the proxy looks the Request-URI up
// without it; any other port stays a distinct address of record.
func TestLocationOwnPort(t *testing.T) {
	cases := []struct {
		name       string
		registered string // To of the REGISTER
		called     string // Request-URI of the INVITE
		want       string // "binding", "404", or "forwarded" to the Request-URI
	}{
		{"registered bare, called on the proxy's port", "sip:alice@127.0.0.1", "sip:alice@127.0.0.1:5060", "binding"},
		{"registered on the proxy's port, called bare", "sip:alice@127.0.0.1:5060", "sip:alice@127.0.0.1", "binding"},
		{"registered on the proxy's port, called on it", "sip:alice@127.0.0.1:5060", "sip:alice@127.0.0.1:5060", "binding"},
		{"another port the proxy listens on (Config.Ports)", "sip:alice@127.0.0.1", "sip:alice@127.0.0.1:5062", "binding"},
		{"a domain of the proxy on its port", "sip:alice@example.com:5060", "sip:alice@example.com", "binding"},
		{"another port is another address of record", "sip:alice@127.0.0.1:5080", "sip:alice@127.0.0.1", "404"},
		{"... found on that port", "sip:alice@127.0.0.1:5080", "sip:alice@127.0.0.1:5080", "binding"},
		// §16.5: another port of our host names another server there.
		{"the bare AOR is not found on another port", "sip:alice@127.0.0.1", "sip:alice@127.0.0.1:5080", "forwarded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			ports := []uint16{5060, 5062}
			store := &location.Store{}
			mem, err := registrar.NewMemory(registrar.Config{
				Domains: []string{"127.0.0.1", "example.com"}, Ports: ports,
				Auth: &digest.Server{Realm: "127.0.0.1", Secret: []byte("0123456789abcdef-registrar")},
				Gen:  ident.Seeded(41),
			}, store, map[string]string{"alice": "alice"})
			if err != nil {
				t.Fatal(err)
			}
			// The store itself is the location service, as in
			// package service: the proxy names the AOR as the
			// registrar stored it.
			p := n.addProxy("p", "127.0.0.1:5060", proxycore.Config{
				Domains: []string{"127.0.0.1", "example.com"}, Ports: ports[1:],
				Registrar: mem, Location: store.Lookup,
			})
			alice := n.addUA("alice", "192.0.2.1:5060", 1)
			alice.ua = mustUA(t, alice, func(realm string) (digest.Credentials, bool) {
				return digest.Credentials{Username: "alice", Password: "alice"}, realm == "127.0.0.1"
			})
			alice.on = callee(200, time.Second)
			bob := n.addUA("bob", "192.0.2.2:5060", 2)
			bob.on = hangupAfter(time.Second)
			aor := mustURI(tc.registered)
			alice.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				_, out, err := alice.ua.Register(now, ua.RegisterOptions{Registrar: mustURI("sip:" + aor.Host), AOR: aor, Dest: p.addr, Expires: time.Hour}, out)
				return out, err
			})
			n.run(2 * time.Second)
			if _, ok := alice.last(effects.Registered); !ok {
				t.Fatalf("%s not registered: %v", tc.registered, n.log())
			}
			bob.callTo(tc.called, p)
			n.run(10 * time.Second)
			_, incoming := alice.last(effects.CallIncoming)
			failed, _ := bob.last(effects.CallFailed)
			got := "nothing"
			switch {
			case incoming:
				got = "binding"
			case failed.Code == 404:
				got = "404"
			case sent(n, "p", "127.0.0.1:5080", "INVITE"):
				got = "forwarded"
			}
			if got != tc.want {
				t.Errorf("registered %s, call to %s: %s, want %s: %v", tc.registered, tc.called, got, tc.want, n.log())
			}
		})
	}
}
