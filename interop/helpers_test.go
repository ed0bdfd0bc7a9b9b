package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
)

// packages names the Debian package that installs each program.
var packages = map[string]string{
	"sipp":     "sip-tester",
	"sipsak":   "sipsak",
	"kamailio": "kamailio",
	"tshark":   "tshark",
	"baresip":  "baresip",
}

// need returns the path of program, or skips the test when it is not
// installed (fails it when SANSIP_INTEROP=require).
func need(t *testing.T, program string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("interop tests run real programs; skipped with -short")
	}
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s)", program, packages[program])
	if os.Getenv("SANSIP_INTEROP") == "require" {
		t.Fatalf("%s and SANSIP_INTEROP=require", msg)
	}
	t.Skipf("%s; set SANSIP_INTEROP=require to make this a failure", msg)
	return ""
}

var (
	portsMu sync.Mutex
	given   = map[int]bool{}
)

// freePort returns a port of 127.0.0.1 free for both UDP and TCP, never
// the same twice in one test binary (SIPp and Kamailio need their ports on
// the command line, so the test picks them).
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err != nil || given[port] {
			if u != nil {
				u.Close()
			}
			continue
		}
		u.Close()
		given[port] = true
		return port
	}
	t.Fatal("free port: none free for both UDP and TCP after 100 tries")
	return 0
}

// shortPort returns a free port below 10000 (for both UDP and TCP), for
// programs that mangle longer ones: sipsak 0.9.8 writes the first four
// digits of a five-digit port into its Request-URI.
func shortPort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for port := 6000 + rand.IntN(3000); port < 9990; port += 7 {
		if given[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		given[port] = true
		return port
	}
	t.Fatal("no free port between 6000 and 9990")
	return 0
}

// waitBound waits until something listens on 127.0.0.1:port over network
// ("udp" or "tcp"): a program started in the background is ready.
func waitBound(t *testing.T, network string, port int, p *proc) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			t.Fatalf("%s exited before listening on %s %s:\n%s", p.name, network, addr, p.output())
		}
		switch network {
		case "udp":
			u, err := net.ListenPacket("udp", addr)
			if err != nil {
				return // taken: bound by the program
			}
			u.Close()
		default:
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s %s after 10 s", network, addr)
}

// srv is a sansip server running in the test's process.
type srv struct {
	port  int // UDP and TCP
	addrs map[effects.Transport][]netip.AddrPort
}

func (s srv) hostport() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// startServer runs the sansip server on 127.0.0.1, UDP and TCP on one free
// port: domains localhost and 127.0.0.1, users alice and bob (passwords
// their names), digest MD5 only (SIPp and sipsak know no other),
// record-routing. edit, if set, changes the configuration first. The
// server stops, and is waited for, when the test ends.
func startServer(t *testing.T, edit func(*service.Config)) srv {
	t.Helper()
	return startServerAt(t, freePort(t), edit)
}

// startServerAt is startServer on a given port.
func startServerAt(t *testing.T, port int, edit func(*service.Config)) srv {
	t.Helper()
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	hp := "127.0.0.1:" + strconv.Itoa(port)
	cfg := service.Config{
		UDP: []string{hp}, TCP: []string{hp},
		Domains:     []string{"localhost", "127.0.0.1"},
		Users:       map[string]string{"alice": "alice", "bob": "bob"},
		Algorithms:  []digest.Algorithm{digest.MD5},
		RecordRoute: true,
		Shards:      2,
		Drain:       200 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: logLevel()})),
		Ready:       func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("sansip server still running 10 s after its context ended")
		}
	})
	select {
	case a := <-ready:
		return srv{port: port, addrs: a}
	case err := <-done:
		t.Fatalf("sansip server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("sansip server not ready after 10 s")
	}
	return srv{}
}

// logLevel is the server's log level in tests: warnings, or what
// SANSIP_INTEROP_LOG says (debug, info, warn, error).
func logLevel() slog.Level {
	l := slog.LevelWarn
	if v := os.Getenv("SANSIP_INTEROP_LOG"); v != "" {
		l.UnmarshalText([]byte(v))
	}
	return l
}

// testWriter sends the server's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// proc is a child process, its output kept in memory (bounded).
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *limitBuf
	done chan struct{}
	err  error
}

// limitBuf keeps the first 64 KiB written to it.
type limitBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start starts a program in dir, in its own process group, with stdin
// closed; the group is killed when the test ends (SIGTERM, then SIGKILL
// after 3 s).
func start(t *testing.T, dir, program string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{name: filepath.Base(program), cmd: cmd, out: &limitBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", program, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) output() string { return p.out.String() }

// stop ends the process group: SIGTERM, then SIGKILL.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// wait waits for the process to exit by itself within limit (killing it
// otherwise) and returns its exit status, -1 when it had to be killed.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.stop()
		t.Errorf("%s still running after %v: killed", p.name, limit)
		return -1
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// run runs a program to its end (within limit) and returns its exit status
// and output.
func run(t *testing.T, dir string, limit time.Duration, program string, args ...string) (int, string) {
	t.Helper()
	p := start(t, dir, program, args...)
	rc := p.wait(t, limit)
	return rc, p.output()
}

// sippStats reads the last line of a SIPp -trace_stat file: the counts of
// successful and failed calls.
func sippStats(t *testing.T, file string) (ok, failed int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("SIPp statistics: %v", err)
	}
	defer f.Close()
	var header, last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if header == "" {
			header = sc.Text()
		} else if strings.TrimSpace(sc.Text()) != "" {
			last = sc.Text()
		}
	}
	if header == "" || last == "" {
		t.Fatalf("SIPp statistics %s: no data", file)
	}
	cols, vals := strings.Split(header, ";"), strings.Split(last, ";")
	get := func(name string) int {
		for i, c := range cols {
			if c == name && i < len(vals) {
				n, err := strconv.Atoi(strings.TrimSpace(vals[i]))
				if err != nil {
					t.Fatalf("SIPp statistics: %s = %q", name, vals[i])
				}
				return n
			}
		}
		t.Fatalf("SIPp statistics: no column %s", name)
		return 0
	}
	return get("SuccessfulCall(C)"), get("FailedCall(C)")
}

// tail returns the last n bytes of a file, for failure messages.
func tail(file string, n int64) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// scenario is the absolute path of a file in testdata.
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
