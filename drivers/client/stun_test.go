package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
)

// TestOutboundSTUN: a client registered with RFC 5626 outbound over UDP
// keeps its flow alive with STUN Binding requests (§4.4.2); the edge
// registrar's transport answers them by itself (§8) and the answers reach
// the UA, which learns its address as the registrar sees it. The registrar
// here is a drivers/transport on loopback answering REGISTER with 200,
// Require: outbound and Flow-Timer: 1, so that keep-alives go every
// 0.8-1 s.
func TestOutboundSTUN(t *testing.T) {
	checkGoroutines(t)
	var srv *transport.Transport
	srv = transport.New(transport.Config{Handler: func(p transport.Packet) {
		if p.Data == nil {
			return
		}
		req, err := message.Parse(p.Data, nil)
		if err != nil || !req.IsRequest() || req.Method() != "REGISTER" {
			return
		}
		resp, err := message.NewResponse(req, 200, "", message.ResponseOptions{ToTag: "reg"})
		if err != nil {
			return
		}
		if c, ok := req.Get("Contact"); ok {
			resp.Add("Contact", c)
		}
		resp.Add("Require", "outbound")
		resp.Add("Flow-Timer", "1")
		srv.Send(p.From, resp.Bytes())
	}})
	defer srv.Shutdown(context.Background())
	addr, err := srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := newEvents()
	c, err := client.Start(context.Background(), e.config(client.Config{
		Target: mustURI(t, "sip:example.test"), Proxy: addr.String(), Transport: effects.UDP,
		AOR: mustURI(t, "sip:carol@example.test"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var id uint64
	err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = u.Register(now, ua.RegisterOptions{Registrar: c.Target(), Dest: c.Next(),
			Outbound: &ua.OutboundOptions{Instance: "urn:uuid:00000000-0000-1000-8000-00000000c0de", RegID: 1}}, out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(t, effects.Registered, effects.RegistrationFailed); ev.Kind != effects.Registered {
		t.Fatalf("register: %d %v", ev.Code, ev.Err)
	}
	var info ua.RegistrationInfo
	deadline := time.Now().Add(5 * time.Second)
	for !info.Mapped.IsValid() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			info, _ = u.Registration(id)
			return out, nil
		})
	}
	if !info.FlowUp || info.Mapped != c.Local() {
		t.Fatalf("registration %+v; the client is at %v", info, c.Local())
	}
	select {
	case ev := <-e.ev:
		if ev.Kind == effects.RegistrationFlowFailed {
			t.Errorf("flow failed: %v", ev.Err)
		}
	default:
	}
	if n := srv.Stats().Of(effects.UDP).KeepAlives; n == 0 {
		t.Error("the registrar saw no STUN keep-alive")
	}
}
