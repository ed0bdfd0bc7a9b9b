package client_test

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// startServer runs a sansip server on loopback with ephemeral ports until
// the test ends, and returns its addresses.
func startServer(t *testing.T) map[effects.Transport]netip.AddrPort {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{
			UDP: []string{port}, TCP: []string{port},
			Domains: []string{"example.test"}, Users: map[string]string{"alice": "alice", "bob": "bob"},
			RecordRoute: true, Shards: 1, Drain: 100 * time.Millisecond,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	select {
	case a := <-ready:
		return map[effects.Transport]netip.AddrPort{effects.UDP: a[effects.UDP][0], effects.TCP: a[effects.TCP][0]}
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

func TestOptions(t *testing.T) {
	for _, tr := range []effects.Transport{effects.UDP, effects.TCP} {
		t.Run(tr.String(), func(t *testing.T) {
			checkGoroutines(t)
			addrs := startServer(t)
			e := newEvents()
			c, err := client.Start(context.Background(), e.config(client.Config{
				Target: mustURI(t, "sip:"+addrs[tr].String()), Transport: tr,
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Next().Addr != addrs[tr] || c.Next().Transport != tr {
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
		Target: mustURI(t, "sip:example.test"), Proxy: addr.String(), Transport: tr,
		AOR: mustURI(t, "sip:"+user+"@example.test"), Username: user, Password: user, AutoAnswer: true,
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Register(now, ua.RegisterOptions{Registrar: c.Target(), Dest: c.Next()}, out)
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
	for _, tr := range []effects.Transport{effects.UDP, effects.TCP} {
		t.Run(tr.String(), func(t *testing.T) {
			checkGoroutines(t)
			addrs := startServer(t)
			_, bobEvents := register(t, addrs[tr], tr, "bob")
			e := newEvents()
			alice, err := client.Start(context.Background(), e.config(client.Config{
				Target: mustURI(t, "sip:bob@example.test"), Proxy: addrs[tr].String(), Transport: tr,
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

func TestWebSocketUnsupported(t *testing.T) {
	_, err := client.Start(context.Background(), client.Config{Target: mustURI(t, "sip:127.0.0.1"), Transport: effects.WS})
	if err == nil {
		t.Fatal("a WebSocket client started")
	}
}
