package interop

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTsharkDissects captures the server's loopback traffic while SIPp
// places calls through it, and asks Wireshark's SIP dissector for a second
// opinion: no malformed packet and no expert error, and every message of
// every call seen, those sansip sent included.
func TestTsharkDissects(t *testing.T) {
	tshark := need(t, "tshark")
	sipp := need(t, "sipp")
	const calls = 20
	s := startServer(t, nil)
	dir := t.TempDir()
	capture := filepath.Join(dir, "sansip.pcapng")
	cap := start(t, dir, tshark, "-i", "lo", "-f", "udp port "+strconv.Itoa(s.port), "-w", capture)
	deadline := time.Now().Add(30 * time.Second) // tshark loads its dissectors first: slow on a busy machine
	for !strings.Contains(cap.output(), "Capturing on") {
		out := cap.output()
		if cap.exited() || strings.Contains(out, "ermission") {
			t.Skipf("tshark cannot capture on lo (capturing needs root or CAP_NET_RAW):\n%s", out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("tshark not capturing after 30 s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	uasPort := freePort(t)
	uas := start(t, dir, sipp, "-sf", testdata(t, "sipp/uas_rr.xml"), "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-nostdin")
	waitBound(t, "udp", uasPort, uas)
	stat := filepath.Join(dir, "uac.csv")
	rc, out := run(t, dir, 30*time.Second, sipp, "-sf", testdata(t, "sipp/uac_rr.xml"), "127.0.0.1:"+strconv.Itoa(uasPort),
		"-rsa", s.hostport(), "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-m", strconv.Itoa(calls), "-r", "20", "-nostdin", "-trace_stat", "-stf", stat, "-timeout", "20s", "-timeout_error")
	if ok, _ := sippStats(t, stat); rc != 0 || ok != calls {
		t.Fatalf("SIPp: exit %d, %d of %d calls successful\n%s", rc, ok, calls, out)
	}
	// The capture is written behind the traffic (more so on a busy
	// machine): wait until the file holds every SIP message, or 15 s.
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		_, got := run(t, dir, 10*time.Second, tshark, "-r", capture, "-Y", "sip", "-T", "fields", "-e", "frame.number")
		if strings.Count(withoutRootWarning(got), "\n") >= 12*calls {
			break
		}
	}
	syscall.Kill(-cap.cmd.Process.Pid, syscall.SIGINT)
	cap.wait(t, 10*time.Second)

	rc, bad := run(t, dir, 30*time.Second, tshark, "-r", capture, "-Y", "_ws.malformed || _ws.expert.severity==error")
	if bad = withoutRootWarning(bad); rc != 0 || bad != "" {
		t.Errorf("tshark finds malformed packets or expert errors (exit %d):\n%s", rc, bad)
	}
	rc, fields := run(t, dir, 30*time.Second, tshark, "-r", capture, "-Y", "sip", "-T", "fields",
		"-e", "udp.srcport", "-e", "sip.Method", "-e", "sip.Status-Code")
	if rc != 0 {
		t.Fatalf("tshark -r: exit %d:\n%s", rc, fields)
	}
	// Each call is INVITE, 180, 200, ACK, BYE, 200 into sansip and the
	// same out of it.
	sent, total := map[string]int{}, 0
	for _, line := range strings.Split(strings.TrimSpace(fields), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			continue
		}
		total++
		if f[0] == strconv.Itoa(s.port) {
			sent[f[1]+f[2]]++
		}
	}
	t.Logf("%d calls: tshark dissects %d SIP messages, sansip sent %v", calls, total, sent)
	if total < 12*calls {
		t.Errorf("tshark dissects %d SIP messages, want at least %d", total, 12*calls)
	}
	for _, m := range []string{"INVITE", "ACK", "BYE", "180", "200"} {
		want := calls
		if m == "200" {
			want = 2 * calls
		}
		if sent[m] < want {
			t.Errorf("sansip sent %d %s, want at least %d (tshark: %v)", sent[m], m, want, sent)
		}
	}
}

// withoutRootWarning drops the warning tshark prints when run as root.
func withoutRootWarning(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "Running as user") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
