package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// startServer runs a sansip server on loopback with ephemeral ports until
// the test ends, and returns its addresses: UDP and TCP on one port.
func startServer(t *testing.T) map[effects.Transport]netip.AddrPort {
	return startServerWith(t, effects.TCP)
}

// startServerWith runs a sansip server listening on UDP and on stream (TCP,
// WS or WSS, with a self-signed certificate) on one port, and returns its
// addresses. The server's Record-Route names that port, with the
// transport of the flow: sharing it, the requests of a dialog that follow
// the route reach the server on the transport they name.
func startServerWith(t *testing.T, stream effects.Transport) map[effects.Transport]netip.AddrPort {
	t.Helper()
	port := freePort(t)
	cfg := service.Config{
		UDP:     []string{port},
		Domains: []string{"example.test"}, Users: map[string]string{"alice": "alice", "bob": "bob"},
		RecordRoute: true, Shards: 1, Drain: 100 * time.Millisecond,
	}
	switch stream {
	case effects.TCP:
		cfg.TCP = []string{port}
	case effects.WS:
		cfg.WS = []string{port}
	case effects.WSS:
		cfg.WSS = []string{port}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	done := make(chan error, 1)
	cfg.Ready = func(a map[effects.Transport][]netip.AddrPort) { ready <- a }
	go func() { done <- service.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	select {
	case a := <-ready:
		return map[effects.Transport]netip.AddrPort{effects.UDP: a[effects.UDP][0], stream: a[stream][0]}
	case err := <-done:
		t.Fatalf("server: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	return nil
}

// freePort returns a loopback address whose port is free for both UDP and
// TCP: the server recognises requests addressed to itself on one port
// only, so the tests give both transports the same one.
func freePort(t *testing.T) string {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

func mustURI(t *testing.T, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// checkGoroutines fails the test if goroutines started during it are
// still running at its end.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left running (%d before):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
		}
	})
}

// events collects a client's events and responses.
type events struct {
	ev   chan effects.Event
	resp chan *message.Message
}

func newEvents() *events {
	return &events{ev: make(chan effects.Event, 64), resp: make(chan *message.Message, 64)}
}

func (e *events) config(c client.Config) client.Config {
	c.OnEvent = func(ev effects.Event) { e.ev <- ev }
	c.OnResponse = func(m *message.Message) { e.resp <- m }
	return c
}

// wait returns the next event of kind k, failing after a while.
func (e *events) wait(t *testing.T, kinds ...effects.EventKind) effects.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-e.ev:
			for _, k := range kinds {
				if ev.Kind == k {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event", kinds)
			return effects.Event{}
		}
	}
}

// allTransports are the transports the client tests run on.
var allTransports = []effects.Transport{effects.UDP, effects.TCP, effects.WS, effects.WSS}

// serverFor starts a server that listens on tr (and UDP).
func serverFor(t *testing.T, tr effects.Transport) map[effects.Transport]netip.AddrPort {
	if tr == effects.UDP {
		return startServer(t)
	}
	return startServerWith(t, tr)
}

// insecure accepts the test server's self-signed certificate.
var insecure = &tls.Config{InsecureSkipVerify: true}

func TestOptions(t *testing.T) {
	for _, tr := range allTransports {
		t.Run(tr.String(), func(t *testing.T) {
			checkGoroutines(t)
			addrs := serverFor(t, tr)
			e := newEvents()
			c, err := client.Start(context.Background(), e.config(client.Config{
				Target: mustURI(t, "sip:"+addrs[tr].String()), Transport: tr, TLS: insecure,
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Next().Addr != addrs[tr] || c.Next().Transport != tr || (c.Next().Conn != 0) != (tr == effects.WS || tr == effects.WSS) {
				t.Errorf("next hop %v, want %s:%v", c.Next(), tr, addrs[tr])
			}
			err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				_, out, err := u.Request(now, "OPTIONS", c.Target(), ua.RequestOptions{Dest: c.Next()}, out)
				return out, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if ev := e.wait(t, effects.RequestDone); ev.Code != 200 {
				t.Errorf("OPTIONS: %d %v", ev.Code, ev.Err)
			}
			if m := <-e.resp; m.StatusCode() != 200 || m.CSeq().Method != "OPTIONS" {
				t.Errorf("response reported: %s", m.StartLine())
			}
		})
	}
}

// register registers user (password = user name) through the server at
// addr and returns the client, which answers calls by itself.
func register(t *testing.T, addr netip.AddrPort, tr effects.Transport, user string) (*client.Client, *events) {
	t.Helper()
	e := newEvents()
	c, err := client.Start(context.Background(), e.config(client.Config{
		Target: mustURI(t, "sip:example.test"), Proxy: addr.String(), Transport: tr, TLS: insecure,
		AOR: mustURI(t, "sip:"+user+"@example.test"), Username: user, Password: user, AutoAnswer: true,
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Register(now, c.RegisterOptions(ua.RegisterOptions{Registrar: c.Target()}), out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(t, effects.Registered, effects.RegistrationFailed); ev.Kind != effects.Registered {
		t.Fatalf("register %s: %d %v", user, ev.Code, ev.Err)
	}
	return c, e
}

func TestCallAutoAnswer(t *testing.T) {
	for _, tr := range allTransports {
		t.Run(tr.String(), func(t *testing.T) {
			checkGoroutines(t)
			addrs := serverFor(t, tr)
			_, bobEvents := register(t, addrs[tr], tr, "bob")
			e := newEvents()
			alice, err := client.Start(context.Background(), e.config(client.Config{
				Target: mustURI(t, "sip:bob@example.test"), Proxy: addrs[tr].String(), Transport: tr, TLS: insecure,
				AOR: mustURI(t, "sip:alice@example.test"),
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer alice.Close()
			offer, err := alice.Offer()
			if err != nil {
				t.Fatal(err)
			}
			var id ua.CallID
			err = alice.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				var err error
				id, out, err = u.Call(now, alice.Target(), ua.CallOptions{Dest: alice.Next(), Body: offer}, out)
				return out, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if ev := e.wait(t, effects.CallAnswered, effects.CallFailed); ev.Kind != effects.CallAnswered {
				t.Fatalf("call: %d %v", ev.Code, ev.Err)
			}
			bobEvents.wait(t, effects.CallAnswered)
			err = alice.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return u.Hangup(now, id, out)
			})
			if err != nil {
				t.Fatal(err)
			}
			if ev := bobEvents.wait(t, effects.CallEnded); ev.Err != ua.ErrRemoteBye {
				t.Errorf("bob's call ended with %v", ev.Err)
			}
		})
	}
}

// TestWebSocketClient: over WebSocket the client opens its connection at
// Start; its Contact and Vias name a random .invalid host (RFC 7118 §8,
// Appendix B.1), and it registers with RFC 5626 outbound, so that the
// registrar reaches it over that connection.
func TestWebSocketClient(t *testing.T) {
	checkGoroutines(t)
	addrs := serverFor(t, effects.WS)
	bob, bobEvents := register(t, addrs[effects.WS], effects.WS, "bob")
	ct := bob.Contact()
	if !strings.HasSuffix(ct.Host, ".invalid") || len(ct.Host) < len("x.invalid") || ct.Port != 0 || ct.Transport() != "ws" || ct.User != "bob" {
		t.Errorf("Contact %s", ct.String())
	}
	if l := bob.Local(); l.Addr() != addrs[effects.WS].Addr() || l.Port() == 0 || bob.Next().Conn == 0 {
		t.Errorf("local %v, next %v", l, bob.Next())
	}
	var reg *message.Message
	select {
	case reg = <-bobEvents.resp:
	default:
		t.Fatal("no response reported")
	}
	for reg.StatusCode() != 200 {
		reg = <-bobEvents.resp
	}
	if v := reg.TopVia(); v.Transport != "WS" || v.Host != ct.Host || v.Port != 0 {
		t.Errorf("Via %s", v.String())
	}
	if !strings.Contains(strings.Join(reg.Values("Contact"), ","), "reg-id=1") || !strings.Contains(strings.Join(reg.Values("Require"), ","), "outbound") {
		t.Errorf("not an outbound registration: Contact %q, Require %q", reg.Values("Contact"), reg.Values("Require"))
	}
	// Another client of another transport calls bob: the INVITE reaches him
	// over his connection.
	e := newEvents()
	alice, err := client.Start(context.Background(), e.config(client.Config{
		Target: mustURI(t, "sip:bob@example.test"), Proxy: addrs[effects.UDP].String(), Transport: effects.UDP,
		AOR: mustURI(t, "sip:alice@example.test"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	offer, _ := alice.Offer()
	err = alice.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Call(now, alice.Target(), ua.CallOptions{Dest: alice.Next(), Body: offer}, out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(t, effects.CallAnswered, effects.CallFailed); ev.Kind != effects.CallAnswered {
		t.Fatalf("call: %d %v", ev.Code, ev.Err)
	}
	bobEvents.wait(t, effects.CallAnswered)
}

// TestWebSocketConnectFails: Start reports a WebSocket connection that
// cannot be opened, with the transport's reason.
func TestWebSocketConnectFails(t *testing.T) {
	checkGoroutines(t)
	addrs := serverFor(t, effects.WSS)
	// Verified, the server's self-signed certificate is refused.
	_, err := client.Start(context.Background(), client.Config{
		Target: mustURI(t, "sip:"+addrs[effects.WSS].String()), Transport: effects.WSS,
	})
	if !errors.Is(err, client.ErrConnect) || !errors.Is(err, transport.ErrHandshake) {
		t.Errorf("unverified WSS: %v", err)
	}
	// Nothing listens for TCP on a UDP-only port.
	udpOnly := startServerWith(t, effects.UDP)[effects.UDP]
	_, err = client.Start(context.Background(), client.Config{
		Target: mustURI(t, "sip:"+udpOnly.String()), Transport: effects.WS,
	})
	if !errors.Is(err, client.ErrConnect) || !errors.Is(err, transport.ErrDial) {
		t.Errorf("no listener: %v", err)
	}
}
