package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sansip/sansip/store/redistest"
)

// TestMain lets the tests run this package's command in a process of its
// own (the test binary itself, SANSIP_TEST_AS_MAIN=1), so that a server
// can be killed like a crashed one.
func TestMain(m *testing.M) {
	if os.Getenv("SANSIP_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is a sansip command running in a process of its own.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder // standard output and error, interleaved
	done chan struct{}
}

// start runs sansip with args until the test ends (or kill).
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "SANSIP_TEST_AS_MAIN=1")
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		p.cmd.Wait()
		w.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		t.Logf("%s (sansip %s):\n%s", name, strings.Join(args, " "), p.output())
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits until the output holds s.
func (p *proc) wait(s string, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.output(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before %q:\n%s", p.name, s, p.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no %q within %v:\n%s", p.name, s, within, p.output())
		}
	}
}

// kill kills the process at once (SIGKILL: a crash) and reaps it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop stops the process gracefully (SIGTERM) and reaps it.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not stop on SIGTERM", p.name)
		p.kill()
	}
}

// serveNode starts a sansip server on a port free for UDP and TCP, with
// no authentication, serving cluster.test, with the given store
// settings; it returns the process and its address.
func serveNode(t *testing.T, name, addr string, store ...string) *proc {
	t.Helper()
	host, _, _ := strings.Cut(addr, ":")
	args := append([]string{"serve", "-udp", addr, "-tcp", addr, "-tls", "", "-ws", "", "-metrics", "",
		"-host", host, "-users", "", "-domain", "cluster.test", "-drain", "200ms", "-procs", "1"}, store...)
	p := start(t, name, args...)
	p.wait("sansip serving", 10*time.Second)
	return p
}

// registered starts a client that registers user at the server at addr
// over transport tr (contact: its own address, or contact when given),
// answers every call, and stays until the test ends.
func registered(t *testing.T, addr, tr, user, contact string) *proc {
	t.Helper()
	args := []string{"register", "-transport", tr, "-proxy", addr, "-keep", "2m", "-answer"}
	if contact != "" {
		args = append(args, "-contact", contact)
	}
	p := start(t, user, append(args, "sip:"+user+"@cluster.test")...)
	p.wait("registered:", 10*time.Second)
	return p
}

// call makes a call through the server at addr and reports whether it was
// answered and hung up cleanly.
func call(t *testing.T, addr, target string) bool {
	t.Helper()
	code, out := runClient(t, "call", "-proxy", addr, "-duration", "200ms", "-timeout", "5s", target)
	return code == exitOK && strings.Contains(out, "BYE: SIP/2.0 200 OK")
}

func randomPrefix(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-" + t.Name() + "-" + hex.EncodeToString(b) + ":"
}

// TestCluster: three sansip serve nodes share one Redis (a real
// redis-server on loopback). Alice registers on A over UDP; Bob registers
// on A over TCP with a contact nothing listens on (port 1), so that only
// his connection reaches him. Calls through B and C reach both: Alice at
// her contact, directly; Bob through A, which B and C reach by the Path A
// stored in his binding (RFC 3327) and which sends the INVITE, and the
// dialog's BYE (A's Record-Route names the flow), on Bob's connection (RFC
// 5626 flow tokens). Then A is killed: a call through B to Alice still
// works (her binding is in Redis, her contact does not need A), one to Bob
// does not (his connection died with A).
func TestCluster(t *testing.T) {
	redis := redistest.Shared(t)
	store := []string{"-store", "redis", "-redis", redis, "-redis-prefix", randomPrefix(t), "-redis-cache", "0s"}
	addrA, addrB, addrC := freePort(t), freePort(t), freePort(t)
	a := serveNode(t, "A", addrA, store...)
	serveNode(t, "B", addrB, store...)
	serveNode(t, "C", addrC, store...)
	registered(t, addrA, "udp", "alice", "")
	registered(t, addrA, "tcp", "bob", "sip:bob@127.0.0.1:1;transport=tcp")

	for _, via := range []string{addrB, addrC, addrA} {
		for _, user := range []string{"alice", "bob"} {
			if !call(t, via, "sip:"+user+"@cluster.test") {
				t.Errorf("call to %s via %s failed", user, via)
			}
		}
	}
	a.kill()
	if !call(t, addrB, "sip:alice@cluster.test") {
		t.Errorf("with A down, the call to Alice via B failed")
	}
	if call(t, addrB, "sip:bob@cluster.test") {
		t.Errorf("with A down, a call to Bob (on A's connection) was answered")
	}
}

var expiresRE = regexp.MustCompile(`<sip:(u\d+)@127\.0\.0\.1:59\d\d>;expires=(\d+)`)

// TestRestartKeepsBindings: a single node on the default store (the file
// store, bbolt) is killed and started again on the same data directory:
// every binding registered before is there, with its expiry counted from
// when it was registered (not reset, not lost), and calls reach a client
// registered before the restart.
func TestRestartKeepsBindings(t *testing.T) {
	data := t.TempDir()
	addr := freePort(t)
	node := serveNode(t, "node", addr, "-data", data)
	const users = 18
	for i := range users {
		code, _ := runClient(t, "register", "-proxy", addr, "-contact", fmt.Sprintf("sip:u%d@127.0.0.1:59%02d", i, i),
			"-expires", "10m", fmt.Sprintf("sip:u%d@cluster.test", i))
		if code != exitOK {
			t.Fatalf("register u%d: exit %d", i, code)
		}
	}
	registered(t, addr, "udp", "alice", "")
	time.Sleep(1100 * time.Millisecond) // so that the expiry visibly runs
	node.kill()
	serveNode(t, "node again", addr, "-data", data)
	if !call(t, addr, "sip:alice@cluster.test") {
		t.Errorf("the call to Alice, registered before the restart, failed")
	}
	kept := 0
	for i := range users {
		// A REGISTER with a new contact lists every binding of the AOR.
		_, out := runClient(t, "register", "-proxy", addr, "-contact", fmt.Sprintf("sip:u%d@127.0.0.1:58%02d", i, i),
			"-expires", "10m", fmt.Sprintf("sip:u%d@cluster.test", i))
		for _, m := range expiresRE.FindAllStringSubmatch(out, -1) {
			exp, _ := strconv.Atoi(m[2])
			if m[1] != fmt.Sprintf("u%d", i) || exp >= 600 || exp < 590 {
				t.Errorf("u%d after the restart: %s", i, m[0])
				continue
			}
			kept++
		}
	}
	if kept != users {
		t.Errorf("%d of %d bindings kept across the restart", kept, users)
	}
}
