package service_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// start runs a service on loopback with one ephemeral port for UDP and
// TCP until the test ends, and returns it and its UDP address.
func start(t *testing.T, cfg service.Config) (*service.Service, netip.AddrPort) {
	t.Helper()
	port := freePort(t)
	cfg.UDP, cfg.TCP = []string{port}, []string{port}
	if cfg.Domains == nil {
		cfg.Domains = []string{"localhost"}
	}
	if cfg.Drain == 0 {
		cfg.Drain = 200 * time.Millisecond
	}
	s, err := service.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("service: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the service did not stop")
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("service: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the service did not start")
	}
	return s, s.Addrs()[effects.UDP][0]
}

// freePort returns a loopback address whose port is free for UDP and TCP.
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

// peer is a sansip UA on loopback (drivers/client) whose next hop is the
// service; its events go to a channel.
type peer struct {
	t      *testing.T
	name   string
	c      *client.Client
	events chan effects.Event
	callID atomic.Value // of the last call answered
}

// lastCallID returns the Call-ID of the peer's last answered call.
func (p *peer) lastCallID() string {
	s, _ := p.callID.Load().(string)
	return s
}

// registerCmd registers the peer's AOR (a command for client.Do).
func registerCmd(t *testing.T, p *peer) func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
	return func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Register(now, ua.RegisterOptions{Registrar: mustURI(t, "sip:localhost"), Dest: p.c.Next(), Expires: time.Hour}, out)
		return out, err
	}
}

func newPeer(t *testing.T, name string, svc netip.AddrPort, answer bool, password string) *peer {
	t.Helper()
	return newPeerAt(t, name, "", svc, answer, password)
}

// newPeerAt is newPeer bound to local (another loopback address, for a
// source of its own).
func newPeerAt(t *testing.T, name, local string, svc netip.AddrPort, answer bool, password string) *peer {
	t.Helper()
	p := &peer{t: t, name: name, events: make(chan effects.Event, 1000)}
	c, err := client.Start(context.Background(), client.Config{
		Target: mustURI(t, "sip:"+name+"@localhost"), Proxy: svc.String(), AOR: mustURI(t, "sip:"+name+"@localhost"),
		Username: name, Password: password, AutoAnswer: answer, Local: local,
		OnEvent: func(ev effects.Event) {
			if ev.Kind == effects.CallAnswered && ev.Msg != nil {
				p.callID.Store(ev.Msg.CallID())
			}
			select {
			case p.events <- ev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p.c = c
	return p
}

// wait returns the next event of one of kinds (others are skipped), or
// fails the test after d.
func (p *peer) wait(d time.Duration, kinds ...effects.EventKind) effects.Event {
	p.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-p.events:
			for _, k := range kinds {
				if ev.Kind == k {
					return ev
				}
			}
		case <-timer.C:
			p.t.Fatalf("%s: no %v within %v", p.name, kinds, d)
			return effects.Event{}
		}
	}
}

// register registers the peer's AOR with its contact.
func (p *peer) register() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.c.Do(ctx, registerCmd(p.t, p)); err != nil {
		p.t.Fatal(err)
	}
	if ev := p.wait(5*time.Second, effects.Registered, effects.RegistrationFailed); ev.Kind != effects.Registered {
		p.t.Fatalf("%s: registration failed: %d %v", p.name, ev.Code, ev.Err)
	}
}

// call calls target through the service with an offer and returns the
// call and how it came out: "answered" or the failure's code.
func (p *peer) call(target string) (ua.CallID, string) {
	p.t.Helper()
	offer, err := p.c.Offer()
	if err != nil {
		p.t.Fatal(err)
	}
	var id ua.CallID
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = p.c.Do(ctx, func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = u.Call(now, mustURI(p.t, target), ua.CallOptions{Dest: p.c.Next(), Body: offer}, out)
		return out, err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	ev := p.wait(10*time.Second, effects.CallAnswered, effects.CallFailed)
	if ev.Kind == effects.CallAnswered {
		return id, "answered"
	}
	reason := ""
	if ev.Msg != nil {
		reason = " " + ev.Msg.Reason()
	}
	return id, fmt.Sprint(ev.Code) + reason
}

// hangup hangs the call up and waits for its end.
func (p *peer) hangup(id ua.CallID) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.c.Do(ctx, func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return u.Hangup(now, id, out)
	}); err != nil {
		p.t.Fatal(err)
	}
	p.wait(5*time.Second, effects.CallEnded)
}

// options sends an OPTIONS to target and returns the final status.
func (p *peer) options(target string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.c.Do(ctx, func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Request(now, "OPTIONS", mustURI(p.t, target), ua.RequestOptions{Dest: p.c.Next()}, out)
		return out, err
	}); err != nil {
		p.t.Fatal(err)
	}
	return p.wait(10*time.Second, effects.RequestDone).Code
}
