package interop

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/service"
)

// TestBaresipRegister registers baresip (Debian 12: baresip 1.0.0 on libre
// 1.1.0) for alice against a sansip server with the default digest
// configuration (digest.Server's nil Algorithms, as serve's embedded
// configuration). That baresip knows only MD5 and gives up on a 401 that
// holds any other challenge, in whatever order ("Register: Function not
// implemented"), which is why the default offers MD5 alone (see
// digest.Server.Algorithms). The registration must succeed: the server's
// metrics count alice's binding and baresip reports the 200. The
// account's AOR carries the server's port, which the registrar stores as
// the bare domain (registrar.Config.Ports).
func TestBaresipRegister(t *testing.T) {
	baresip := need(t, "baresip")
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	s := startServer(t, func(c *service.Config) {
		c.Algorithms = nil // the default
		c.Metrics = metricsAddr
	})
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Loopback only; the modules for the accounts file and one codec, no
	// audio device, no interactive console.
	write("config", "sip_listen 127.0.0.1:0\nmodule_path "+baresipModules(t)+"\n"+
		"module g711.so\nmodule account.so\naudio_player nil\naudio_source nil\naudio_alert nil\n")
	write("accounts", "<sip:alice@"+s.hostport()+">;auth_pass=alice;regint=60\n")
	// -s traces SIP; -t bounds its life; the test kills it earlier.
	p := start(t, dir, baresip, "-f", dir, "-s", "-t", "30")

	deadline := time.Now().Add(15 * time.Second)
	for bindings(t, metricsAddr) != 1 {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("alice's binding not registered within 15 s; baresip said:\n%s", p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// baresip reports the registration once it has the 200.
	for !strings.Contains(p.output(), "200 OK") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	out := p.output()
	p.stop()
	if !strings.Contains(out, "200 OK") || strings.Contains(out, "Function not implemented") {
		t.Errorf("baresip did not report the registration:\n%s", out)
	}
	if !strings.Contains(out, "algorithm=MD5") || strings.Contains(out, "algorithm=SHA-256") {
		t.Errorf("want one MD5 challenge by default:\n%s", out)
	}
}

// baresipModules returns the directory of baresip's modules (with a
// config file of its own, baresip looks in the current directory).
func baresipModules(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules", "/usr/lib/aarch64-linux-gnu/baresip/modules"} {
		if _, err := os.Stat(filepath.Join(d, "account.so")); err == nil {
			return d
		}
	}
	t.Fatal("baresip is installed but its modules (account.so) were not found")
	return ""
}

// bindings reads the server's sansip_bindings gauge from its metrics, -1
// if it cannot.
func bindings(t *testing.T, addr string) int {
	t.Helper()
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "sansip_bindings "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}
