package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
)

// TestDialThroughNode: two nodes share one location store. Bob registers
// on A over TCP with a contact nothing listens on (port 1), so that only
// his connection to A reaches him; A stores its own Path with a flow
// token first in his binding (RFC 3327, RFC 5626 §5.2). B's Dial, Request
// and default route to sip:bob@localhost go through A with that Path as
// their route set, and A sends them on Bob's connection.
func TestDialThroughNode(t *testing.T) {
	shared := service.NewMemoryStore()
	// A call to "desk" is routed by the application to Bob's bindings
	// (Request.Locate), which must follow the same rules.
	route := func(r *service.Request) {
		if r.RequestURI().User == "desk" {
			r.Locate(mustURI(t, "sip:bob@localhost"))
			return
		}
		r.Default()
	}
	_, addrA := start(t, service.Config{Store: shared, Route: route})
	svcB, addrB := start(t, service.Config{Store: shared, Route: route})

	events := make(chan effects.Event, 100)
	bob, err := client.Start(context.Background(), client.Config{
		Target: mustURI(t, "sip:bob@localhost"), Proxy: addrA.String(), Transport: effects.TCP,
		AOR: mustURI(t, "sip:bob@localhost"), AutoAnswer: true,
		OnEvent: func(ev effects.Event) {
			select {
			case events <- ev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	err = bob.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Register(now, ua.RegisterOptions{Registrar: mustURI(t, "sip:localhost"), Dest: bob.Next(),
			Contact: mustURI(t, "sip:bob@127.0.0.1:1;transport=tcp"), Expires: time.Hour}, out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(kinds ...effects.EventKind) effects.Event {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ev := <-events:
				for _, k := range kinds {
					if ev.Kind == k {
						return ev
					}
				}
			case <-deadline:
				t.Fatalf("bob: no %v", kinds)
			}
		}
	}
	if ev := waitFor(effects.Registered, effects.RegistrationFailed); ev.Kind != effects.Registered {
		t.Fatalf("register: %d %v", ev.Code, ev.Err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := svcB.Request(ctx, "OPTIONS", mustURI(t, "sip:bob@localhost"), service.RequestOptions{})
	if err != nil || resp.StatusCode() != 200 {
		t.Fatalf("OPTIONS from B: %v %v", resp, err)
	}
	call, err := svcB.Dial(ctx, mustURI(t, "sip:bob@localhost"), service.DialOptions{})
	if err != nil {
		t.Fatalf("Dial from B: %v", err)
	}
	waitFor(effects.CallAnswered)
	call.Hangup()
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
	waitFor(effects.CallEnded)

	// And a caller of B's: the default route, by the same Path.
	alice := newPeer(t, "alice", addrB, false, "")
	if _, got := alice.call("sip:bob@localhost"); got != "answered" {
		t.Errorf("call through B: %s", got)
	}
	// Request.Locate, on B (through A) and on A (Bob's connection).
	if _, got := alice.call("sip:desk@localhost"); got != "answered" {
		t.Errorf("call to desk through B: %s", got)
	}
	carol := newPeer(t, "carol", addrA, false, "")
	if _, got := carol.call("sip:desk@localhost"); got != "answered" {
		t.Errorf("call to desk through A: %s", got)
	}
	// A stopped answering would be a 408 or 503, not a call to port 1.
	var ce *service.CallError
	if _, err := svcB.Dial(ctx, mustURI(t, "sip:nobody@localhost"), service.DialOptions{}); !errors.As(err, &ce) || ce.Code != 404 {
		t.Errorf("Dial to nobody: %v", err)
	}
}
