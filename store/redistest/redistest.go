// Package redistest runs a real redis-server for tests: on 127.0.0.1, on
// a free port, with its data in the test's temporary directory, stopped
// and reaped when the test ends. It is an ordinary package, not a _test
// file, so that the tests of any module can use it.
//
// The server is configured so that a test can rely on what it asked:
// no RDB snapshots (--save ""), and an append-only file written with
// fsync on every write (--appendonly yes --appendfsync always), so that
// a write Redis acknowledged survives Kill and Restart.
//
// When redis-server is not on PATH, Start and Shared skip the test, or
// fail it when the environment variable SANSIP_INTEROP is "require" (as
// the interop tests do). When SANSIP_REDIS_ADDR is set (a CI job that
// runs one Redis for every test), Shared returns that address without
// starting anything; tests that share a server must keep their keys
// apart (a prefix of their own).
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that the package reads.
const (
	// EnvAddr names a running Redis (host:port) that Shared returns
	// instead of starting one.
	EnvAddr = "SANSIP_REDIS_ADDR"
	// EnvInterop set to "require" makes a missing redis-server a test
	// failure instead of a skip.
	EnvInterop = "SANSIP_INTEROP"
)

// Bounds of the waits on the server process.
const (
	// startTimeout bounds the wait for a started server to answer PING.
	startTimeout = 10 * time.Second
	// exitTimeout bounds the wait for a signalled server to exit.
	exitTimeout = 10 * time.Second
)

// Option configures a server that Start runs.
type Option func(*config)

// config is what the Options set.
type config struct {
	args []string
}

// Args adds command-line arguments to redis-server's, after the
// package's own (a later option overrides an earlier one), for example
// Args("--maxmemory", "10mb") or Args("--requirepass", "secret").
func Args(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Server is a redis-server process that Start started. Its methods are
// called from the test's goroutine (they fail the test with t.Fatal).
type Server struct {
	t    testing.TB
	path string // redis-server's path
	dir  string
	port int
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	log  bytes.Buffer  // the process's stdout and stderr
}

// Start starts a redis-server on 127.0.0.1 on a free port, with its data
// in a directory of t.TempDir(), and waits until it answers PING. The
// server is killed and reaped when the test ends (t.Cleanup).
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	path := need(t)
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &Server{t: t, path: path, dir: t.TempDir(), args: c.args}
	t.Cleanup(s.kill)
	// Another process may take the free port between our probe and the
	// server's bind: try a few.
	var err error
	for range 5 {
		if s.port, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	t.Fatalf("redistest: %v", err)
	return nil
}

// Shared returns the address of a Redis for a test that only needs one
// running: the address in SANSIP_REDIS_ADDR when it is set, else that of
// a server Start starts for t. Keys written there may be seen by other
// tests: use a prefix of the test's own.
func Shared(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return addr
	}
	return Start(t).Addr()
}

// need returns the path of redis-server, or skips t (fails it when
// SANSIP_INTEROP=require) when it is not installed.
func need(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	msg := "redis-server is not installed (Debian package redis-server)"
	if os.Getenv(EnvInterop) == "require" {
		t.Fatalf("%s and %s=require", msg, EnvInterop)
	}
	t.Skipf("%s; set %s=require to make this a failure", msg, EnvInterop)
	return ""
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns the server's address, 127.0.0.1:port; it does not change
// across Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Dir returns the server's data directory (its append-only file and its
// log, redis.log).
func (s *Server) Dir() string { return s.dir }

// Kill kills the server with SIGKILL, as a crash would, and waits until
// the process is reaped. Writes it acknowledged are in its append-only
// file. Kill does nothing when the server is not running.
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("redistest: kill: %v", err)
	}
}

// Stop stops the server with SIGTERM (SIGKILL if it has not exited after
// 10 s) and waits until it is reaped. Stop does nothing when the server
// is not running.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.signal(syscall.SIGTERM); err != nil {
		s.t.Logf("redistest: stop: %v; killing it", err)
		s.Kill()
	}
}

// Pause stops the server process with SIGSTOP: it accepts connections
// (the kernel does) but answers nothing, as an overloaded or partitioned
// server would, until Resume.
func (s *Server) Pause() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatal("redistest: pause: server not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("redistest: pause: %v", err)
	}
}

// Resume continues a server that Pause stopped.
func (s *Server) Resume() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatal("redistest: resume: server not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("redistest: resume: %v", err)
	}
}

// Restart starts the server again, on the same port with the same data
// directory (it reloads its append-only file), after stopping it with
// Stop if it is running, and waits until it answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// kill kills and reaps the server, at the end of the test.
func (s *Server) kill() {
	if err := s.signal(syscall.SIGKILL); err != nil {
		s.t.Errorf("redistest: %v", err)
	}
}

// signal sends sig to the server, if running, and waits until it is
// reaped.
func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	// A stopped process does not act on SIGTERM until continued.
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-s.done:
	case <-time.After(exitTimeout):
		return fmt.Errorf("redis-server (pid %d) did not exit %v after %v", s.cmd.Process.Pid, exitTimeout, sig)
	}
	s.cmd = nil
	return nil
}

// start starts the process and waits until it answers PING.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--protected-mode", "no",
		"--daemonize", "no",
		"--dir", s.dir,
		"--logfile", "redis.log",
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
	}
	cmd := exec.Command(s.path, append(args, s.args...)...)
	cmd.Dir = s.dir
	s.log.Reset()
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for {
		err := ping(s.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("redis-server on port %d exited at start: %s", s.port, s.tail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("redis-server on port %d did not answer PING within %v (%v): %s", s.port, startTimeout, err, s.tail())
		}
	}
}

// tail returns the end of the server's output and log, for an error
// message; the process has exited or is not writing its output.
func (s *Server) tail() string {
	out := s.log.String()
	if b, err := os.ReadFile(filepath.Join(s.dir, "redis.log")); err == nil {
		out += string(b)
	}
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return strings.TrimSpace(out)
}

// ping sends PING to addr and expects +PONG (or -NOAUTH from a server
// that requires a password), within a short deadline. A server loading
// its append-only file answers -LOADING: not ready.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" && !strings.HasPrefix(line, "-NOAUTH") {
		return errors.New("PING answered " + strings.TrimSpace(line))
	}
	return nil
}
