package service_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
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

// TestSharedSecret: nodes that share a location store and a Secret accept
// each other's digest nonces (RFC 7616 §3.3: the nonce is the server's to
// check): a client challenged by A answers B, which registers it at once;
// a node with another secret challenges again.
func TestSharedSecret(t *testing.T) {
	shared := service.NewMemoryStore()
	secret := []byte("the cluster's nonce secret")
	users := map[string]string{"bob": "bob"}
	_, addrA := start(t, service.Config{Store: shared, Secret: secret, Users: users})
	_, addrB := start(t, service.Config{Store: shared, Secret: secret, Users: users})
	_, addrC := start(t, service.Config{Store: shared, Users: users})

	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	cseq := 0
	send := func(to netip.AddrPort, auth string) *message.Message {
		t.Helper()
		cseq++
		req := "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bKsec" + strconv.Itoa(cseq) + "\r\n" +
			"Max-Forwards: 70\r\nTo: <sip:bob@localhost>\r\nFrom: <sip:bob@localhost>;tag=s\r\nCall-ID: secret-test\r\n" +
			"CSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nContact: <sip:bob@" + local + ">\r\n" + auth + "Content-Length: 0\r\n\r\n"
		if _, err := conn.WriteToUDPAddrPort([]byte(req), to); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := message.Parse(buf[:n], nil)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	authorize := func(challenge *message.Message, nc uint32) string {
		t.Helper()
		ch, ok, err := message.First[header.WWWAuthenticate](challenge)
		if !ok || err != nil {
			t.Fatalf("no challenge in %s", challenge.StartLine())
		}
		c, err := digest.Authorize(ch.Challenge, digest.Credentials{Username: "bob", Password: "bob"}, "REGISTER", "sip:localhost", nil, "c0ffee", nc)
		if err != nil {
			t.Fatal(err)
		}
		return "Authorization: " + string(header.Authorization{Credentials: c}.AppendTo(nil)) + "\r\n"
	}
	challenge := send(addrA, "")
	if challenge.StatusCode() != 401 {
		t.Fatalf("A: %s", challenge.StartLine())
	}
	if resp := send(addrB, authorize(challenge, 1)); resp.StatusCode() != 200 {
		t.Errorf("B, with A's nonce and the same secret: %s", resp.StartLine())
	}
	if resp := send(addrC, authorize(challenge, 2)); resp.StatusCode() != 401 {
		t.Errorf("C, with A's nonce and a secret of its own: %s", resp.StartLine())
	}
	if _, err := service.New(service.Config{UDP: []string{"127.0.0.1:0"}, Secret: []byte("short")}); !errors.Is(err, service.ErrConfig) {
		t.Errorf("a short Secret: %v", err)
	}
}
