package service_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
)

// registerOver registers user's contact over a TCP connection of its own
// to addr, and returns the connection.
func registerOver(t *testing.T, addr, user, contact string, extra string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	local := c.LocalAddr().String()
	req := "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP " + local + ";branch=z9hG4bKflow" + user + "\r\n" +
		"Max-Forwards: 70\r\nTo: <sip:" + user + "@localhost>\r\nFrom: <sip:" + user + "@localhost>;tag=f\r\n" +
		"Call-ID: flow-" + user + "\r\nCSeq: 1 REGISTER\r\nContact: <" + contact + ">" + extra + "\r\nExpires: 600\r\n" +
		"Supported: outbound, path\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("REGISTER %s: %q %v", user, line, err)
	}
	return c
}

// TestClosedFlows: once the connection a client registered over closes,
// its bindings that only that connection reached stop being used: a call
// gets 480 (Temporarily Unavailable) at once, not a timeout — a
// WebSocket-like client with an .invalid Contact (RFC 7118 §5.2) and an
// outbound registration (RFC 5626) alike. A client whose Contact can be
// reached otherwise is called there again, as without flows.
func TestClosedFlows(t *testing.T) {
	_, addr := start(t, service.Config{})
	alice := newPeer(t, "alice", addr, false, "")

	ws := registerOver(t, addr.String(), "bob", "sip:bob@df7jal23ls0d.invalid;transport=tcp", "")
	ob := registerOver(t, addr.String(), "carol", "sip:carol@192.0.2.9:5060;transport=tcp;ob",
		`;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1`)
	// Dave listens on TCP for his contact, and registered over another
	// connection that closes.
	dave, err := client.Start(context.Background(), client.Config{
		Target: mustURI(t, "sip:dave@localhost"), Proxy: addr.String(), Transport: effects.TCP,
		AOR: mustURI(t, "sip:dave@localhost"), AutoAnswer: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dave.Close() })
	dv := registerOver(t, addr.String(), "dave", "sip:dave@"+dave.Local().String()+";transport=tcp", "")

	// While a connection is open, a call goes out on it (eve's call is
	// left unanswered: the test only reads the INVITE).
	eve := newPeer(t, "eve", addr, false, "")
	offer, _ := eve.c.Offer()
	err = eve.c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Call(now, mustURI(t, "sip:bob@localhost"), ua.CallOptions{Dest: eve.c.Next(), Body: offer}, out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(ws).ReadString('\n'); err != nil || !strings.HasPrefix(line, "INVITE sip:bob@df7jal23ls0d.invalid") {
		t.Fatalf("bob's connection got %q %v", line, err)
	}
	for _, c := range []net.Conn{ws, ob, dv} {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond) // the server sees the close
	for _, user := range []string{"bob", "carol"} {
		began := time.Now()
		_, got := alice.call("sip:" + user + "@localhost")
		if !strings.HasPrefix(got, "480") {
			t.Errorf("%s, connection closed: %s, want 480", user, got)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("%s: answered after %v", user, took)
		}
	}
	if _, got := alice.call("sip:dave@localhost"); got != "answered" {
		t.Errorf("dave, connection closed, contact listening: %s", got)
	}
}
