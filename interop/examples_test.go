package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example programs (examples/...) are built and run as a user would
// run them, each on a free port of 127.0.0.1, with SIPp calling through
// them. Each must also stop cleanly: exit 0 soon after SIGINT.

// TestExampleRouting runs examples/routing with SIPp as its gateway, as
// a blocked caller and as a registered user:
//
//	| caller             | calls                  | expected                                      |
//	|--------------------|------------------------|-----------------------------------------------|
//	| 127.0.0.1          | sip:0044...@proxy:port | every call answered by the gateway UAS        |
//	| 127.0.0.2 (-block) | sip:bob@proxy:port     | 403 on every call, ACKed                      |
//	| 127.0.0.1          | sip:alice@127.0.0.1    | answered by the UAS alice registered (digest) |
func TestExampleRouting(t *testing.T) {
	sipp := need(t, "sipp")
	bin := buildExample(t, "routing")
	dir := t.TempDir()
	port, gwPort := freePort(t), freePort(t)
	proxy := "127.0.0.1:" + strconv.Itoa(port)
	ex := startExample(t, dir, bin, port, "-gateway", "127.0.0.1:"+strconv.Itoa(gwPort), "-block", "127.0.0.2")

	t.Run("gateway", func(t *testing.T) {
		const n = 20
		uas := startSIPpUAS(t, dir, sipp, "sipp/uas_rr.xml", gwPort, n)
		runSIPpUAC(t, dir, sipp, "sipp/uac_rr.xml", "00441234567", proxy, "127.0.0.1", n, 10)
		uas.check(t, n)
	})
	t.Run("blocked", func(t *testing.T) {
		runSIPpUAC(t, dir, sipp, "sipp/uac_403.xml", "bob", proxy, "127.0.0.2", 10, 10)
	})
	t.Run("registered", func(t *testing.T) {
		const n = 10
		// alice registers the address her UAS then listens on.
		uasPort := freePort(t)
		stat := filepath.Join(dir, "register.csv")
		rc, out := run(t, dir, 20*time.Second, sipp, "-sf", testdata(t, "sipp/register_auth.xml"), proxy,
			"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-m", "1", "-nostdin",
			"-trace_stat", "-stf", stat, "-trace_err", "-timeout", "10s", "-timeout_error")
		if ok, _ := sippStats(t, stat); rc != 0 || ok != 1 {
			t.Fatalf("SIPp REGISTER with digest: exit %d, %d successful\n%s%s", rc, ok, out, sippErrors(dir))
		}
		uas := startSIPpUAS(t, dir, sipp, "sipp/uas_rr.xml", uasPort, n)
		// sip:alice@127.0.0.1, the AOR she registered (no port), sent to
		// the proxy.
		runSIPpUAC(t, dir, sipp, "sipp/uac_aor.xml", "alice", proxy, "127.0.0.1", n, 10)
		uas.check(t, n)
	})
	ex.interrupt(t)
}

// TestExampleB2BUA runs examples/b2bua between a SIPp UAC and a SIPp UAS:
// every call completes on both legs (INVITE, 200, ACK, BYE, 200), and the
// UAS sees the replaced identity, the caller's offer and a Call-ID of the
// B2BUA's own (testdata/sipp/uas_b2bua.xml fails the call otherwise).
func TestExampleB2BUA(t *testing.T) {
	sipp := need(t, "sipp")
	bin := buildExample(t, "b2bua")
	dir := t.TempDir()
	port, uasPort := freePort(t), freePort(t)
	ex := startExample(t, dir, bin, port, "-to", "sip:service@127.0.0.1:"+strconv.Itoa(uasPort))
	const n = 20
	uas := startSIPpUAS(t, dir, sipp, "sipp/uas_b2bua.xml", uasPort, n)
	runSIPpUAC(t, dir, sipp, "sipp/uac_rr.xml", "anyone", "127.0.0.1:"+strconv.Itoa(port), "127.0.0.1", n, 10,
		"-cid_str", "b2bua-caller-%u-%p@%s")
	uas.check(t, n)
	ex.interrupt(t)
}

// TestExampleAutoanswer runs examples/autoanswer (hanging up after 2 s)
// with SIPp calling it: calls to "answer" are answered and the caller
// hangs up; calls to "busy" get 486, ACKed; calls to "wait" are answered
// and hung up by the example (BYE).
func TestExampleAutoanswer(t *testing.T) {
	sipp := need(t, "sipp")
	bin := buildExample(t, "autoanswer")
	dir := t.TempDir()
	port := freePort(t)
	uas := "127.0.0.1:" + strconv.Itoa(port)
	ex := startExample(t, dir, bin, port, "-hangup", "2s")
	t.Run("answer", func(t *testing.T) {
		runSIPpUAC(t, dir, sipp, "sipp/uac_rr.xml", "answer", uas, "127.0.0.1", 10, 10)
	})
	t.Run("busy", func(t *testing.T) {
		runSIPpUAC(t, dir, sipp, "sipp/uac_486.xml", "busy", uas, "127.0.0.1", 10, 10)
	})
	t.Run("hangup", func(t *testing.T) {
		runSIPpUAC(t, dir, sipp, "sipp/uac_wait_bye.xml", "wait", uas, "127.0.0.1", 5, 10)
	})
	ex.interrupt(t)
}

// buildExample builds examples/name into a temporary directory and
// returns the program's path.
func buildExample(t *testing.T, name string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the examples: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./examples/"+name)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return bin
}

// example is an example program running.
type example struct{ *proc }

// startExample starts an example program listening on 127.0.0.1:port and
// waits until it listens.
func startExample(t *testing.T, dir, bin string, port int, args ...string) example {
	t.Helper()
	p := start(t, dir, bin, append([]string{"-listen", "127.0.0.1:" + strconv.Itoa(port)}, args...)...)
	waitBound(t, "tcp", port, p)
	return example{p}
}

// interrupt stops the program with SIGINT, as Ctrl-C does: it must exit 0
// within 3 s (the service waits only for transactions that await a final
// response, and the tests leave none).
func (e example) interrupt(t *testing.T) {
	t.Helper()
	if e.exited() {
		t.Fatalf("%s exited before SIGINT: %v\n%s", e.name, e.err, e.output())
	}
	started := time.Now()
	e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.done:
	case <-time.After(3 * time.Second):
		t.Fatalf("%s still running 3 s after SIGINT\n%s", e.name, e.output())
	}
	t.Logf("%s stopped %v after SIGINT", e.name, time.Since(started).Round(time.Millisecond))
	if e.err != nil {
		t.Errorf("%s after SIGINT: %v\n%s", e.name, e.err, e.output())
	}
}

// sippUAS is a SIPp UAS that exits by itself after its calls.
type sippUAS struct {
	p    *proc
	stat string
	dir  string
}

// startSIPpUAS starts a SIPp UAS with scenario on 127.0.0.1:port (UDP)
// for n calls.
func startSIPpUAS(t *testing.T, dir, sipp, scenario string, port, n int) sippUAS {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(scenario), ".xml")
	stat := filepath.Join(dir, name+"-"+strconv.Itoa(port)+".csv")
	p := start(t, dir, sipp, "-sf", testdata(t, scenario), "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", strconv.Itoa(n), "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-trace_err")
	waitBound(t, "udp", port, p)
	return sippUAS{p: p, stat: stat, dir: dir}
}

// check waits for the UAS to end (after its n calls) and checks that
// every call succeeded.
func (u sippUAS) check(t *testing.T, n int) {
	t.Helper()
	rc := u.p.wait(t, 15*time.Second)
	ok, failed := sippStats(t, u.stat)
	t.Logf("SIPp UAS: %d successful, %d failed, exit %d", ok, failed, rc)
	if rc != 0 || ok != n || failed != 0 {
		t.Errorf("SIPp UAS: exit %d, %d of %d calls successful, %d failed\n%s%s", rc, ok, n, failed, u.p.output(), sippErrors(u.dir))
	}
}

// runSIPpUAC runs a SIPp UAC with scenario from local (an address of
// 127/8) to remote, for n calls to service at rate per second, and checks
// that every call succeeded.
func runSIPpUAC(t *testing.T, dir, sipp, scenario, service, remote, local string, n, rate int, extra ...string) {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(scenario), ".xml")
	stat := filepath.Join(dir, name+"-"+service+".csv")
	args := append([]string{"-sf", testdata(t, scenario), remote, "-s", service,
		"-i", local, "-p", strconv.Itoa(freePort(t)), "-m", strconv.Itoa(n), "-r", strconv.Itoa(rate),
		"-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-trace_err", "-timeout", "20s", "-timeout_error"}, extra...)
	started := time.Now()
	rc, out := run(t, dir, 30*time.Second, sipp, args...)
	ok, failed := sippStats(t, stat)
	t.Logf("SIPp UAC %s to %s@%s from %s: %d successful, %d failed, exit %d, %v",
		name, service, remote, local, ok, failed, rc, time.Since(started).Round(time.Millisecond))
	if rc != 0 || ok != n || failed != 0 {
		t.Errorf("SIPp UAC %s: exit %d, %d of %d calls successful, %d failed\n%s%s", name, rc, ok, n, failed, out, sippErrors(dir))
	}
}

// sippErrors returns the end of SIPp's error logs in dir.
func sippErrors(dir string) string {
	errs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n" + e + ":\n" + tail(e, 2000))
	}
	return b.String()
}
