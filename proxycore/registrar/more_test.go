package registrar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
)

// TestSlowStore: the registrar's questions answered later, as a database
// would, while the client's transaction retransmits (absorbed by the
// server transaction): the same core, the same outcome, one question at a
// time (credentials, then bindings, then the store).
func TestSlowStore(t *testing.T) {
	s := newRegSetup(t, "zanzibar", registrar.Config{}, effects.UDP)
	s.server.deferred = true
	s.register(s.options())
	var asked []string
	for range 3 {
		s.n.run(s.n.now.Add(700 * time.Millisecond))
		for _, ev := range s.server.held {
			asked = append(asked, ev.Kind.String())
		}
		if s.server.mem.Registrar.Len() != 1 {
			t.Fatalf("%d REGISTERs pending while the store thinks", s.server.mem.Registrar.Len())
		}
		s.n.apply(s.reg, s.server.release(s.n.now))
	}
	s.n.run(s.n.now.Add(time.Second))
	if diff := cmp.Diff([]string{"registrar-credentials", "registrar-load", "registrar-store"}, asked); diff != "" {
		t.Errorf("questions (-want +got):\n%s", diff)
	}
	var answers []string
	for _, w := range s.n.wire {
		if w.msg.IsResponse() {
			answers = append(answers, line(w.msg))
		}
	}
	if diff := cmp.Diff([]string{"401 challenge", "200 " + bobContact + ";expires=3598 info"}, answers); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"registered"}, kinds(s.bob.events, effects.Registered)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestPathRouteSet: RFC 3327: the Path of a REGISTER that came through an
// edge proxy is stored and handed to the proxy as the route set towards
// the contact, in order; the flow is the edge proxy's, so no direct route.
func TestPathRouteSet(t *testing.T) {
	m := memory(t, registrar.Config{})
	req := register(t, nil, "Path: <sip:P2.example.com;lr>, <sip:P1.example.com;lr>", "Supported: path")
	if got := line(answer(t, m, 0, req)); got != "200 <sip:bob@192.0.2.4>;expires=7200 Path:<sip:P2.example.com;lr>,<sip:P1.example.com;lr>" {
		t.Fatal(got)
	}
	bs := m.Lookup(0, mustURI("sip:bob@biloxi.example.com"))
	if len(bs) != 1 {
		t.Fatal(bs)
	}
	var routes []string
	for _, r := range bs[0].Routes() {
		routes = append(routes, string(r.AppendTo(nil)))
	}
	if diff := cmp.Diff([]string{"<sip:P2.example.com;lr>", "<sip:P1.example.com;lr>"}, routes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	if _, direct := bs[0].Direct(); direct {
		t.Error("a binding behind Path has a direct flow")
	}
}

// TestOutboundReplacement: RFC 5626 §6: a REGISTER with the same instance
// and reg-id replaces the binding whatever its Contact URI (the client
// came back on a new flow with a new address); another reg-id is a second
// flow; a reg-id behind an edge proxy that did not mark its Path with "ob"
// is ignored, and so is the outbound option in the answer.
func TestOutboundReplacement(t *testing.T) {
	const inst = `"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"`
	m := memory(t, registrar.Config{})
	aor := mustURI("sip:bob@biloxi.example.com")
	send := func(callID, contact string, from effects.Peer, add ...string) *message.Message {
		req := register(t, map[string]string{"Call-ID": callID, "Contact": contact, "Supported": "outbound, path"}, add...)
		handle++
		out, err := m.Handle(0, handle, req, from, nil)
		if err != nil || len(out) != 1 {
			t.Fatal(err, out)
		}
		return out[0].Event.Msg
	}
	flow1 := effects.Peer{Addr: bobPeer.Addr, Transport: effects.TCP, Conn: 1}
	flow2 := effects.Peer{Addr: peer("198.51.100.7:40000", effects.TCP).Addr, Transport: effects.TCP, Conn: 2}
	resp := send("c1", "<sip:bob@10.0.0.1;transport=tcp>;+sip.instance="+inst+";reg-id=1", flow1)
	if !message.HasToken(resp, "Require", "outbound") {
		t.Errorf("no Require: outbound: %s", line(resp))
	}
	send("c2", "<sip:bob@10.0.0.2;transport=tcp>;+sip.instance="+inst+";reg-id=1", flow2)
	bs := m.Lookup(0, aor)
	if len(bs) != 1 || bs[0].Flow != flow2 || bs[0].Contact.URI.Host != "10.0.0.2" {
		t.Fatalf("after replacement: %+v", bs)
	}
	send("c3", "<sip:bob@10.0.0.2;transport=tcp>;+sip.instance="+inst+";reg-id=2", flow1)
	if bs = m.Lookup(0, aor); len(bs) != 2 {
		t.Fatalf("two flows: %+v", bs)
	}
	resp = send("c4", "<sip:bob@10.0.0.3>;+sip.instance="+inst+";reg-id=3", flow1, "Path: <sip:edge.example.com;lr>")
	if message.HasToken(resp, "Require", "outbound") {
		t.Errorf("Require: outbound behind an edge proxy without ob: %s", line(resp))
	}
	bs = m.Lookup(0, aor)
	if len(bs) != 3 || bs[2].Contact.URI.Host != "10.0.0.3" || bs[2].Outbound() || bs[2].Instance == "" {
		t.Fatalf("non-outbound binding: %+v", bs)
	}
	resp = send("c5", "<sip:bob@10.0.0.4>;+sip.instance="+inst+";reg-id=4", flow1, "Path: <sip:edge.example.com;lr;ob>")
	if !message.HasToken(resp, "Require", "outbound") {
		t.Errorf("no Require: outbound behind an edge proxy with ob: %s", line(resp))
	}
}

// TestRedirect: a redirect server's 302 lists the bindings as Contacts,
// most preferred first, with q and expires (RFC 3261 §8.3, §21.3.3); 480
// when the address of record has none alive, 404 when it is unknown.
func TestRedirect(t *testing.T) {
	m := memory(t, registrar.Config{})
	req := register(t, map[string]string{"Contact": "<sip:a@192.0.2.4>;q=0.2, <sip:b@192.0.2.5>;q=0.7, <sip:c@192.0.2.6>;expires=100"})
	answer(t, m, 0, req)
	invite, err := message.ParseString(strings.Replace(strings.Replace(baseRegister, "REGISTER sip:biloxi.example.com", "INVITE sip:bob@biloxi.example.com", 1), "1826 REGISTER", "1 INVITE", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := ident.Seeded(3)
	now := effects.Time(0).Add(5 * time.Second)
	tests := []struct {
		name  string
		now   effects.Time
		bs    []location.Binding
		known bool
		want  string
	}{
		{"bindings", now, m.Lookup(now, mustURI("sip:bob@biloxi.example.com")), true,
			"302 <sip:c@192.0.2.6>;expires=95, <sip:b@192.0.2.5>;q=0.7;expires=7195, <sip:a@192.0.2.4>;q=0.2;expires=7195"},
		{"expired ones dropped", now.Add(time.Hour), m.Lookup(now, mustURI("sip:bob@biloxi.example.com")), true,
			"302 <sip:b@192.0.2.5>;q=0.7;expires=3595, <sip:a@192.0.2.4>;q=0.2;expires=3595"},
		{"known, none alive", now, nil, true, "480"},
		{"unknown", now, nil, false, "404"},
	}
	for _, tc := range tests {
		resp, err := registrar.Redirect(tc.now, invite, tc.bs, tc.known, gen)
		if err != nil {
			t.Fatal(err)
		}
		if got := line(resp); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestExpiryTimer: Memory keeps a timer at the next expiry; when it fires
// the expired bindings are released without any look-up.
func TestExpiryTimer(t *testing.T) {
	m := memory(t, registrar.Config{MinExpires: time.Second})
	m.Timer = 42
	handle++
	out, _ := m.Handle(0, handle, register(t, map[string]string{"Contact": "<sip:a@192.0.2.4>;expires=10, <sip:b@192.0.2.4>;expires=20"}), bobPeer, nil)
	if len(out) != 2 || out[1].Kind != effects.SetTimer || out[1].Timer != 42 || out[1].After != 10*time.Second {
		t.Fatalf("%+v", out)
	}
	at := effects.Time(0).Add(10 * time.Second)
	out = m.Expire(at, nil)
	if len(out) != 1 || out[0].After != 10*time.Second || m.Store.Count() != 1 {
		t.Fatalf("after the first expiry: %+v, %d bindings", out, m.Store.Count())
	}
	out = m.Expire(at.Add(10*time.Second), nil)
	if len(out) != 0 || m.Store.Len() != 0 {
		t.Fatalf("after the last: %+v, %d AORs", out, m.Store.Len())
	}
}

// TestOutboundThroughUA is TestOutboundRegistration's client coming back
// after a reboot: a new Call-ID from the same instance and reg-id replaces
// the binding, and the new flow is kept.
func TestOutboundThroughUA(t *testing.T) {
	s := newRegSetup(t, "zanzibar", registrar.Config{}, effects.TCP)
	o := s.options()
	o.Outbound = &ua.OutboundOptions{Instance: "urn:uuid:00000000-0000-1000-8000-000A95A0E128", RegID: 1}
	s.register(o)
	s.n.run(s.n.now.Add(time.Second))
	first := s.server.mem.Lookup(s.n.now, mustURI("sip:bob@biloxi.example.com"))
	s.bobUA = bobUA(t, s.bob.addr, "zanzibar", 3) // rebooted: new Call-ID
	s.bob.timers = map[effects.TimerID]bool{}
	s.register(o)
	s.n.run(s.n.now.Add(time.Second))
	bs := s.server.mem.Lookup(s.n.now, mustURI("sip:bob@biloxi.example.com"))
	if len(first) != 1 || len(bs) != 1 || bs[0].CallID == first[0].CallID {
		t.Fatalf("before %+v\nafter %+v", first, bs)
	}
	if all, _ := message.All[header.Contact](s.n.wire[len(s.n.wire)-1].msg); len(all) != 1 {
		t.Errorf("200 lists %d contacts", len(all))
	}
}
