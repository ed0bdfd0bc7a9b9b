package dispatch_test

import (
	"errors"
	"testing"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
	"github.com/sansip/sansip/uri"
)

// Decisions that cannot be carried out are refused with an error that
// names what is wrong (matchable with errors.Is), and the request keeps
// waiting; a decision for a handle that waits for none fails with
// ErrNoRequest.
func TestRouteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    dispatch.Decision
		err  error
	}{
		{"reply without a code", dispatch.Decision{Action: dispatch.Reply}, dispatch.ErrDecision},
		{"reply 100", dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 100}}, dispatch.ErrDecision},
		{"proxy with a code", dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{Code: 404}}, dispatch.ErrDecision},
		{"a Via removed (RFC 3261 §16.6)", dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{Remove: []string{"Via"}}}, proxycore.ErrDecision},
		{"a field with CRLF", dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{Add: []proxycore.Field{{Name: "X-A", Value: "a\r\nVia: x"}}}}, proxycore.ErrDecision},
		{"a target without a URI", dispatch.Decision{Action: dispatch.Proxy, Proxy: proxycore.Decision{Targets: []proxycore.Target{{}}}}, proxycore.ErrDecision},
		{"a bridge without a next hop", dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{Target: mustURI("sip:bob@example.com")}}, dispatch.ErrDecision},
		{"a bridge to no target", dispatch.Decision{Action: dispatch.Bridge, Bridge: b2bua.Decision{Options: ua.CallOptions{Dest: bob}}}, dispatch.ErrDecision},
		{"an unknown action", dispatch.Decision{Action: 9}, dispatch.ErrDecision},
		{"the default", dispatch.Decision{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCore(t)
			out := c.Handle(effects.Input{Kind: effects.Received, Data: []byte(invite()), From: alice}, nil)
			id := routeID(t, out)
			_, err := c.Route(0, id, tc.d, nil)
			if !errors.Is(err, tc.err) || tc.err == nil && err != nil {
				t.Fatalf("Route: %v, want %v", err, tc.err)
			}
			if tc.err != nil && c.Waiting() != 1 {
				t.Errorf("the request no longer waits after a refused decision")
			}
			if tc.err == nil {
				if _, err := c.Route(0, id, tc.d, nil); !errors.Is(err, dispatch.ErrNoRequest) {
					t.Errorf("a second decision: %v", err)
				}
			}
		})
	}
}

func newTestCore(t *testing.T) *dispatch.Core {
	t.Helper()
	c, err := dispatch.New(dispatch.Config{
		Proxy: proxycore.Config{Gen: seeded(1), Host: "192.0.2.10"},
		UA:    ua.Config{Gen: seeded(2), Host: "192.0.2.10", Contact: mustURI("sip:192.0.2.10")},
		Ask:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func routeID(t *testing.T, out []effects.Effect) uint64 {
	t.Helper()
	for _, e := range out {
		if e.Kind == effects.Deliver && e.Event.Kind == effects.RouteRequest {
			return e.Event.ID
		}
	}
	t.Fatal("no RouteRequest")
	return 0
}

// New refuses configurations that cannot work, naming the field.
func TestNewErrors(t *testing.T) {
	good := func() dispatch.Config {
		return dispatch.Config{
			Proxy: proxycore.Config{Gen: seeded(1), Host: "192.0.2.10"},
			UA:    ua.Config{Gen: seeded(2), Host: "192.0.2.10", Contact: mustURI("sip:192.0.2.10")},
		}
	}
	for name, edit := range map[string]func(*dispatch.Config){
		"no proxy host":      func(c *dispatch.Config) { c.Proxy.Host = "" },
		"no UA contact":      func(c *dispatch.Config) { c.UA.Contact = uri.URI{} },
		"a 2xx timeout code": func(c *dispatch.Config) { c.TimeoutCode = 200 },
	} {
		cfg := good()
		edit(&cfg)
		if _, err := dispatch.New(cfg); !errors.Is(err, dispatch.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := dispatch.New(good()); err != nil {
		t.Errorf("a good configuration: %v", err)
	}
}
