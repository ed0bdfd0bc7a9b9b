package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	sipclient "github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// startServer runs a sansip server for example.test (users alice and bob,
// their names as passwords) on loopback until the test ends and returns
// its address, the same port for UDP and TCP: the server recognises
// requests addressed to itself on one port only.
func startServer(t *testing.T) netip.AddrPort { return startServerFor(t, "tcp") }

// startServerFor is startServer with the client transport tr's listener
// on the UDP port: TCP for udp and tcp, else WS or WSS (with a self-signed
// certificate). The server's Record-Route names that port with the
// flow's transport, so the requests of a dialog reach it there.
func startServerFor(t *testing.T, tr string) netip.AddrPort {
	t.Helper()
	port := freePort(t)
	cfg := service.Config{
		UDP:     []string{port},
		Domains: []string{"example.test"}, Users: map[string]string{"alice": "alice", "bob": "bob"},
		RecordRoute: true, Shards: 1, Drain: 100 * time.Millisecond,
	}
	switch tr {
	case "ws":
		cfg.WS = []string{port}
	case "wss":
		cfg.WSS = []string{port}
	default:
		cfg.TCP = []string{port}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan netip.AddrPort, 1)
	done := make(chan error, 1)
	cfg.Ready = func(a map[effects.Transport][]netip.AddrPort) { ready <- a[effects.UDP][0] }
	go func() { done <- service.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("server: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	return netip.AddrPort{}
}

// freePort returns a loopback address whose port is free for both UDP and
// TCP.
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

// checkGoroutines fails the test if goroutines started during it are
// still running at its end. Call it first: cleanups run last in, first out.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := goroutines()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for goroutines() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := goroutines(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left running:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

// goroutines counts the goroutines but the one os/signal starts for good
// on the first signal.Notify.
func goroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "os/signal.loop()") {
			n++
		}
	}
	return n
}

// runClient runs a client command line and returns its exit status and
// standard output, logging both outputs.
func runClient(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, out, errOut := sansip(t, "", args...)
	t.Logf("sansip %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	return code, out
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

var transports = []string{"udp", "tcp", "ws", "wss"}

// transportArgs are the flags that choose tr, with -insecure for the test
// server's self-signed certificate.
func transportArgs(tr string) []string {
	if tr == "wss" {
		return []string{"-transport", tr, "-insecure"}
	}
	return []string{"-transport", tr}
}

// clientArgs is a client command line over tr.
func clientArgs(command, tr string, args ...string) []string {
	return append(append([]string{command}, transportArgs(tr)...), args...)
}

func TestOptionsCommand(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			checkGoroutines(t)
			addr := startServerFor(t, tr)
			code, out := runClient(t, clientArgs("options", tr, "sip:"+addr.String())...)
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			wantLines(t, out, "SIP/2.0 200 OK\n", "Allow: ")
		})
	}
}

func TestOptionsCommandTLS(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{
			UDP: []string{"127.0.0.1:0"}, TLS: []string{"127.0.0.1:0"}, Domains: []string{"example.test"},
			Shards: 1, Drain: 100 * time.Millisecond,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
		})
	}()
	defer func() { cancel(); <-done }()
	addrs := <-ready
	// The Request-URI names the server's main (UDP) port, the one it
	// recognises as itself; the request goes over TLS.
	udp, tlsAddr := addrs[effects.UDP][0].String(), addrs[effects.TLS][0].String()
	if code, out := runClient(t, "options", "-transport", "tls", "-insecure", "-proxy", tlsAddr, "sip:"+udp); code != exitOK {
		t.Errorf("-insecure: exit %d, want 0", code)
	} else {
		wantLines(t, out, "SIP/2.0 200 OK\n")
	}
	// Verified, the self-signed certificate is refused: no response.
	if code, _ := runClient(t, "options", "-transport", "tls", "-timeout", "500ms", "-proxy", tlsAddr, "sip:"+udp); code != exitInvalid {
		t.Errorf("unverified: exit %d, want 1", code)
	}
}

func TestOptionsCommandTimeout(t *testing.T) {
	checkGoroutines(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a peer that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	code, out := runClient(t, "options", "-timeout", "300ms", pc.LocalAddr().String())
	if code != exitInvalid {
		t.Errorf("exit %d, want 1", code)
	}
	wantLines(t, out, "no response within 300ms")
}

func TestClientCommandsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"options"},
		{"call", "a", "b"},
		{"register", "-transport", "carrier-pigeon", "sip:alice@127.0.0.1"},
		{"register", "-keep", "1s", "-unregister", "sip:alice@127.0.0.1"},
		{"call", "-transport", "sctp", "sip:127.0.0.1"},
		{"options", "tel:+123"},
	} {
		if code, _ := runClient(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestRegisterCommand(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			checkGoroutines(t)
			addr := startServerFor(t, tr)
			proxy := addr.String()
			code, out := runClient(t, clientArgs("register", tr, "-proxy", proxy, "-user", "alice", "-pass", "alice", "sip:alice@example.test")...)
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			contact := "<sip:alice@127.0.0.1:"
			if strings.HasPrefix(tr, "ws") {
				// RFC 7118 §8, Appendix B.1: a host nobody resolves; the
				// registrar reaches the client on its connection (RFC 5626
				// outbound).
				contact = ".invalid;transport=" + tr + `>;+sip.instance="<urn:uuid:`
			}
			wantLines(t, out, "SIP/2.0 401 Unauthorized\n", "SIP/2.0 200 OK\n", "registered: 1 binding(s)\n", contact)

			code, out = runClient(t, clientArgs("register", tr, "-proxy", proxy, "-user", "alice", "-pass", "wrong", "sip:alice@example.test")...)
			if code != exitInvalid {
				t.Errorf("wrong password: exit %d, want 1", code)
			}
			wantLines(t, out, "registration failed: 401")

			code, out = runClient(t, clientArgs("register", tr, "-proxy", proxy, "-user", "bob", "-pass", "bob", "-keep", "300ms", "-expires", "1m", "sip:bob@example.test")...)
			if code != exitOK {
				t.Errorf("-keep: exit %d, want 0", code)
			}
			wantLines(t, out, "registered: 1 binding(s)\n", "keeping the registration for 300ms\n", "unregistered: 0 binding(s)\n")

			code, out = runClient(t, clientArgs("register", tr, "-proxy", proxy, "-pass", "alice", "-contact", "sip:alice@192.0.2.1", "-unregister", "sip:alice@example.test")...)
			if code != exitOK {
				t.Errorf("-unregister: exit %d, want 0", code)
			}
			// The binding of the first registration is left.
			wantLines(t, out, "unregistered: 1 binding(s)\n")
		})
	}
}

// answering registers user through the server at addr with a client that
// answers every call, until the test ends.
func answering(t *testing.T, addr netip.AddrPort, tr effects.Transport, user string) {
	t.Helper()
	registered := make(chan effects.Event, 8)
	aor, _ := uri.Parse("sip:" + user + "@example.test")
	domain, _ := uri.Parse("sip:example.test")
	c, err := sipclient.Start(context.Background(), sipclient.Config{
		Target: domain, Proxy: addr.String(), Transport: tr, AOR: aor, TLS: &tls.Config{InsecureSkipVerify: true},
		Username: user, Password: user, AutoAnswer: true,
		OnEvent: func(ev effects.Event) {
			if ev.Kind == effects.Registered || ev.Kind == effects.RegistrationFailed {
				registered <- ev
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Register(now, c.RegisterOptions(ua.RegisterOptions{Registrar: domain}), out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-registered:
		if ev.Kind != effects.Registered {
			t.Fatalf("register %s: %d %v", user, ev.Code, ev.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("register %s: no answer", user)
	}
}

func TestCallCommand(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			checkGoroutines(t)
			addr := startServerFor(t, tr)
			answering(t, addr, effects.ParseTransport(tr), "bob")
			code, out := runClient(t, clientArgs("call", tr, "-proxy", addr.String(), "-duration", "200ms", "sip:bob@example.test")...)
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			wantLines(t, out, "SIP/2.0 180 Ringing\n", "SIP/2.0 200 OK\n", "answered; hanging up in 200ms\n", "BYE: SIP/2.0 200 OK\n")

			code, out = runClient(t, clientArgs("call", tr, "-proxy", addr.String(), "sip:carol@example.test")...)
			if code != exitInvalid {
				t.Errorf("unregistered callee: exit %d, want 1", code)
			}
			wantLines(t, out, "call failed: 404")
		})
	}
}

func TestClientCommandsHelp(t *testing.T) {
	for _, c := range []struct{ name, flag string }{{"options", "-proxy"}, {"register", "-unregister"}, {"call", "-duration"}} {
		status, out, _ := sansip(t, "", "help", c.name)
		if status != exitOK || !strings.Contains(out, "usage: sansip "+c.name) || !strings.Contains(out, c.flag) {
			t.Errorf("help %s: status %d, stdout %q", c.name, status, out)
		}
	}
	if _, out, _ := sansip(t, "", "help"); !strings.Contains(out, "register") {
		t.Errorf("the usage does not list register:\n%s", out)
	}
}

// TestRegisterAnswerCommand: "register -keep -answer" over ws and wss is
// reached over its own connection, the only way to reach a WebSocket
// client (RFC 7118): a call to it through the server is answered, and the
// registration ends cleanly after -keep.
func TestRegisterAnswerCommand(t *testing.T) {
	for _, tr := range []string{"ws", "wss"} {
		t.Run(tr, func(t *testing.T) {
			checkGoroutines(t)
			addr := startServerFor(t, tr)
			proxy := addr.String()
			args := clientArgs("register", tr, "-proxy", proxy, "-user", "bob", "-pass", "bob", "-keep", "1500ms", "-answer", "sip:bob@example.test")
			pr, pw := io.Pipe()
			done := make(chan int, 1)
			go func() {
				var errOut strings.Builder
				code := run(args, strings.NewReader(""), pw, &errOut)
				if errOut.Len() > 0 {
					t.Logf("register: %s", errOut.String())
				}
				pw.Close()
				done <- code
			}()
			lines := make(chan string, 64)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			var seen []string
			wait := func(prefix string) {
				t.Helper()
				timeout := time.After(10 * time.Second)
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							t.Fatalf("register ended before %q:\n%s", prefix, strings.Join(seen, "\n"))
						}
						seen = append(seen, l)
						if strings.HasPrefix(l, prefix) {
							return
						}
					case <-timeout:
						t.Fatalf("no %q from register:\n%s", prefix, strings.Join(seen, "\n"))
					}
				}
			}
			wait("keeping the registration")
			code, out := runClient(t, clientArgs("call", tr, "-proxy", proxy, "-duration", "200ms", "sip:bob@example.test")...)
			if code != exitOK {
				t.Errorf("call: exit %d, want 0", code)
			}
			wantLines(t, out, "SIP/2.0 180 Ringing\n", "SIP/2.0 200 OK\n", "BYE: SIP/2.0 200 OK\n")
			wait("unregistered: 0 binding(s)")
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("register: exit %d, want 0:\n%s", code, strings.Join(seen, "\n"))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("register did not end")
			}
			for range lines {
			}
		})
	}
}
