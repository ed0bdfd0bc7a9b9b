package browser

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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

	"github.com/chromedp/chromedp"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
)

// packages names the Debian package that installs each program.
var packages = map[string]string{
	"chromium": "chromium",
	"npm":      "npm (and nodejs)",
	"sipp":     "sip-tester",
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

// needBrowser checks for what every test of the package needs, before it
// starts anything: Chromium, and npm to fetch JsSIP.
func needBrowser(t *testing.T) {
	t.Helper()
	need(t, "chromium")
	need(t, "npm")
}

var (
	portsMu sync.Mutex
	given   = map[int]bool{}
)

// freePort returns a port of 127.0.0.1 free for both UDP and TCP, never
// the same twice in one test binary (SIPp needs its port on the command
// line, so the test picks it).
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

// waitTCP waits until a program started in the background listens on TCP
// port of 127.0.0.1.
func waitTCP(t *testing.T, port int, p *proc) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("%s exited before listening on tcp %s:\n%s", p.name, addr, p.output())
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on tcp %s after 10 s", addr)
}

// domain is the domain the server serves: JsSIP's AORs are
// sip:alice@domain and sip:bob@domain. No DNS is involved: JsSIP sends
// everything on its WebSocket and the server knows the name as its own.
const domain = "sansip.test"

// srv is a sansip server running in the test's process.
type srv struct {
	port int // UDP and TCP
	wss  netip.AddrPort
}

func (s srv) hostport() string { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s srv) wsURL() string    { return "wss://" + s.wss.String() }

// startServer runs the sansip server on 127.0.0.1, as serve does: UDP and
// TCP on one port (a free one; tried again on another when taken
// meanwhile), WSS on one the kernel picks (with the self-signed
// certificate the service makes at start); serving domain for alice and
// bob (passwords their names), digest MD5 (JsSIP knows no other),
// record-routing. The server stops, and is waited for, when the test ends.
func startServer(t *testing.T) srv {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := tryServer(t, freePort(t))
		if err == nil {
			return s
		}
		if attempt == 3 || !strings.Contains(err.Error(), "listen") {
			t.Fatalf("sansip server did not start: %v", err)
		}
	}
}

func tryServer(t *testing.T, port int) (srv, error) {
	t.Helper()
	hp := "127.0.0.1:" + strconv.Itoa(port)
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	cfg := service.Config{
		UDP: []string{hp}, TCP: []string{hp}, WSS: []string{"127.0.0.1:0"},
		Domains:     []string{domain},
		Users:       map[string]string{"alice": "alice", "bob": "bob"},
		Algorithms:  []digest.Algorithm{digest.MD5},
		RecordRoute: true,
		Shards:      2,
		Drain:       200 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: logLevel()})),
		Ready:       func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg) }()
	select {
	case a := <-ready:
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("sansip server still running 10 s after its context ended")
			}
		})
		if len(a[effects.WSS]) != 1 {
			t.Fatalf("sansip server: listeners %v", a)
		}
		return srv{port: port, wss: a[effects.WSS][0]}, nil
	case err := <-done:
		cancel()
		return srv{}, err
	case <-time.After(10 * time.Second):
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		t.Fatal("sansip server not ready after 10 s")
	}
	return srv{}, nil
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

// limitBuf keeps the first 256 KiB written to it.
type limitBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 256<<10 - b.buf.Len(); room > 0 {
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
	t.Cleanup(p.stop)
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

// JsSIP is fetched with npm at run time, never committed: jssip@3 (the
// newest 3.x) into a cache directory, with esbuild to bundle it for the
// browser when the package has no dist/jssip.min.js (the 3.13 releases
// ship only lib/). The bundle is kept for a week in
// $SANSIP_JSSIP_CACHE (default: the user's cache directory, sansip/jssip).
const (
	jssipPackage = "jssip@3"
	jssipMaxAge  = 7 * 24 * time.Hour
)

var (
	jssipOnce sync.Once
	jssipJS   []byte
	jssipErr  error
)

// jssip returns the JsSIP browser bundle (the global JsSIP).
func jssip(t *testing.T) []byte {
	t.Helper()
	need(t, "npm")
	jssipOnce.Do(func() { jssipJS, jssipErr = fetchJsSIP() })
	if jssipErr != nil {
		t.Fatalf("JsSIP: %v", jssipErr)
	}
	return jssipJS
}

func fetchJsSIP() ([]byte, error) {
	dir := os.Getenv("SANSIP_JSSIP_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		dir = filepath.Join(c, "sansip", "jssip")
	}
	bundle := filepath.Join(dir, "jssip.min.js")
	if st, err := os.Stat(bundle); err == nil && time.Since(st.ModTime()) < jssipMaxAge && st.Size() > 0 {
		return os.ReadFile(bundle)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(dir, "npm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	run := func(limit time.Duration, name string, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = work
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run(3*time.Minute, "npm", "install", "--prefix", work, "--no-audit", "--no-fund",
		"--no-save", "--loglevel=error", jssipPackage, "esbuild@0"); err != nil {
		return nil, err
	}
	out := filepath.Join(work, "node_modules", "jssip", "dist", "jssip.min.js")
	if _, err := os.Stat(out); err != nil {
		out = filepath.Join(work, "jssip.min.js")
		if err := run(time.Minute, filepath.Join(work, "node_modules", ".bin", "esbuild"),
			filepath.Join("node_modules", "jssip", "lib", "JsSIP.js"), "--bundle", "--format=iife",
			"--global-name=JsSIP", "--minify", "--log-level=warning", "--outfile="+out); err != nil {
			return nil, err
		}
	}
	js, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(js, []byte("JsSIP")) {
		return nil, fmt.Errorf("%s does not look like JsSIP", out)
	}
	tmp := bundle + ".tmp"
	if err := os.WriteFile(tmp, js, 0o644); err != nil {
		return nil, err
	}
	return js, os.Rename(tmp, bundle)
}

//go:embed testdata/harness.js
var harnessJS []byte

const indexHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>sansip interop</title>
<script src="/jssip.min.js"></script>
<script src="/harness.js"></script>
</head><body>JsSIP against sansip</body></html>
`

// servePage serves the test page, JsSIP and the harness from 127.0.0.1
// over HTTP (a secure context: loopback), and returns the page's URL.
func servePage(t *testing.T) string {
	t.Helper()
	js := jssip(t)
	mux := http.NewServeMux()
	file := func(path, ctype string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(body)
		})
	}
	file("/{$}", "text/html; charset=utf-8", []byte(indexHTML))
	file("/jssip.min.js", "text/javascript", js)
	file("/harness.js", "text/javascript", harnessJS)
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	hs := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(hs.Close)
	return hs.URL + "/"
}

// browser is a headless Chromium started for one test.
type browser struct {
	t   *testing.T
	ctx context.Context // the browser's chromedp context
	out *limitBuf       // the browser's own output
}

// startBrowser starts headless Chromium (the system's, /usr/bin/chromium
// on Debian): fake media devices allowed without asking, certificate
// errors ignored (the server's WSS certificate is self-signed), no sandbox
// (CI runs as root). When the test ends the browser is closed (gracefully,
// then killed), and its processes, helpers included, are reaped
// (stopBrowser).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe := need(t, "chromium")
	out := &limitBuf{}
	dataDir := t.TempDir() // removed after the browser is stopped
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.IgnoreCertErrors,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		// Host candidates with addresses, not mDNS names (no
		// multicast queries; and the SDP the test reads names them).
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.DisableGPU,
		chromedp.CombinedOutput(out),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() { stopBrowser(t, bctx, bcancel, acancel, dataDir, out) })
	begun := time.Now()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("Chromium did not start: %v\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Chromium not started after 30 s\n%s", out)
	}
	t.Logf("Chromium started in %v", time.Since(begun).Round(time.Millisecond))
	return &browser{t: t, ctx: bctx, out: out}
}

// stopBrowser closes the browser: Browser.close (Chromium ends its helper
// processes itself), then, past 10 s, chromedp's cancellation (which kills
// the main process). Helpers that outlive it (orphans, adopted by the test
// binary as a child subreaper: TestMain) are killed and reaped.
func stopBrowser(t *testing.T, bctx context.Context, bcancel, acancel context.CancelFunc, dataDir string, out *limitBuf) {
	begun := time.Now()
	defer func() {
		t.Logf("Chromium stopped in %v", time.Since(begun).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("Chromium's output:\n%s", out)
		}
	}()
	done := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		chromedp.Cancel(ctx)
		cancel()
		bcancel()
		acancel() // waits for the main process
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("Chromium not stopped 20 s after the test")
	}
	if n := reapHelpers(dataDir, 5*time.Second); n > 0 {
		t.Errorf("%d Chromium processes still running 5 s after the browser stopped", n)
	}
}

// reapHelpers kills the processes that use dataDir (Chromium passes its
// user data directory to every helper) and reaps those that are the test
// binary's children (adopted orphans); it returns how many are left after
// limit.
func reapHelpers(dataDir string, limit time.Duration) int {
	self := os.Getpid()
	deadline := time.Now().Add(limit)
	for {
		left := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self {
				continue
			}
			if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmdline, []byte(dataDir)) {
				syscall.Kill(pid, syscall.SIGKILL)
				left++
				continue
			}
			// A zombie has no command line: an adopted child of ours
			// named chromium (or chrome_crashpad...) is one of them.
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			open, closing := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
			if open < 0 || closing < open {
				continue
			}
			comm, rest := string(stat[open+1:closing]), strings.Fields(string(stat[closing+1:]))
			if len(rest) < 2 || rest[1] != strconv.Itoa(self) || !strings.HasPrefix(comm, "chrom") {
				continue
			}
			var ws syscall.WaitStatus
			if got, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); got != pid {
				left++
			}
		}
		if left == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tab is a page in a browser context of its own (its own profile: no
// shared storage, as two users' browsers), with its console kept.
type tab struct {
	t       *testing.T
	name    string
	ctx     context.Context
	console *limitBuf
}

// open opens a tab on url in a new browser context; it is closed when the
// test ends, and its console printed if the test failed.
func (b *browser) open(name, url string) *tab {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, name: name, ctx: ctx, console: &limitBuf{}}
	messages := chromedp.Console(ctx) // subscribed now: nothing is lost
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintf(tb.console, "%s %s\n", time.Now().Format("15:04:05.000"), m)
		}
	}()
	lctx, lcancel := context.WithTimeout(ctx, 15*time.Second)
	defer lcancel()
	if err := chromedp.Do(lctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: open %s: %v", name, url, err)
	}
	ok, err := chromedp.Run(lctx, chromedp.Evaluate[bool](`typeof JsSIP === 'object' && typeof start === 'function'`))
	if err != nil || !ok {
		t.Fatalf("%s: JsSIP or the harness not loaded (%v):\n%s", name, err, tb.console)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s's console:\n%s", name, tb.console)
		}
	})
	return tb
}

// eval evaluates expr in tb, awaiting the promise it may return, within
// limit, and decodes the result into T; an error fails the test.
func eval[T any](tb *tab, limit time.Duration, expr string) T {
	tb.t.Helper()
	v, err := tryEval[T](tb, limit, expr)
	if err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.name, expr, err)
	}
	return v
}

func tryEval[T any](tb *tab, limit time.Duration, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, limit)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// js quotes s as a JavaScript string.
func js(s string) string { return strconv.Quote(s) }

// sippMessages reads a SIPp -trace_msg file: the messages it sent and
// received, in order, each with its direction.
type sippMessage struct {
	sent bool
	text string
}

func sippMessages(t *testing.T, file string) []sippMessage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("SIPp messages: %v", err)
	}
	defer f.Close()
	var msgs []sippMessage
	var cur *sippMessage
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.text = strings.TrimLeft(body.String(), "\r\n")
			msgs = append(msgs, *cur)
		}
		cur = nil
		body.Reset()
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "----------------------------------------------- "):
			flush()
		case cur == nil && strings.Contains(line, "message sent"):
			cur = &sippMessage{sent: true}
		case cur == nil && strings.Contains(line, "message received"):
			cur = &sippMessage{sent: false}
		case cur != nil:
			body.WriteString(line + "\r\n")
		}
	}
	flush()
	return msgs
}
