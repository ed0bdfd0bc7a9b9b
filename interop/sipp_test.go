package interop

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// sippCall is one run of SIPp calls through the sansip proxy: a SIPp UAS,
// a SIPp UAC sending its INVITEs to the server (-rsa), the server proxying
// them to the UAS by the Request-URI.
type sippCall struct {
	name     string
	uas, uac []string // the scenario options: -sf FILE, or -sn NAME
	uacTCP   bool     // the UAC runs over TCP (-t t1), not UDP
	uasTCP   bool     // the UAS runs over TCP
	calls    int
	rate     int // calls per second
	lost     int // -lost on the UAC: the percentage of messages it drops, sent or received
	limit    time.Duration
}

// TestSIPpCalls sends calls from SIPp through sansip to SIPp, with the
// record-routing scenarios of the benchmarks and with SIPp's built-in uac
// and uas, over UDP and TCP, and with loss: every call must succeed.
func TestSIPpCalls(t *testing.T) {
	rrUAS := []string{"-sf", testdata(t, "sipp/uas_rr.xml")}
	rrUAC := []string{"-sf", testdata(t, "sipp/uac_rr.xml")}
	for _, c := range []sippCall{
		{name: "record-route/udp", uas: rrUAS, uac: rrUAC, calls: 200, rate: 100, limit: 30 * time.Second},
		{name: "record-route/tcp", uas: rrUAS, uac: rrUAC, uacTCP: true, uasTCP: true, calls: 200, rate: 100, limit: 30 * time.Second},
		// The UAC's SIPp drops 10% of what it sends and receives and
		// retransmits (the scenarios' retrans); sansip absorbs the
		// retransmissions its transactions answer and forwards the
		// others (2xx, ACK). Only the UAC loses: SIPp as a UAS aborts a
		// call when an INVITE retransmission meets a 200 it "lost".
		{name: "record-route/udp-lost10", uas: rrUAS, uac: rrUAC, calls: 100, rate: 50, lost: 10, limit: 60 * time.Second},
		{name: "builtin/udp", uas: []string{"-sn", "uas"}, uac: []string{"-sn", "uac"}, calls: 100, rate: 100, limit: 30 * time.Second},
		// The built-in uac's Request-URI names no transport, so sansip
		// forwards over UDP whatever the INVITE came on.
		{name: "builtin/tcp-to-udp", uas: []string{"-sn", "uas"}, uac: []string{"-sn", "uac"}, uacTCP: true, calls: 100, rate: 100, limit: 30 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) { runSIPpCalls(t, c) })
	}
}

func runSIPpCalls(t *testing.T, c sippCall) {
	sipp := need(t, "sipp")
	s := startServer(t, nil)
	dir := t.TempDir()
	mode := func(tcp bool) (string, string) {
		if tcp {
			return "tcp", "t1"
		}
		return "udp", "u1"
	}
	uasNet, uasMode := mode(c.uasTCP)
	uacNet, uacMode := mode(c.uacTCP)
	uasPort, uacPort := freePort(t), freePort(t)
	uas := start(t, dir, sipp, append(append([]string{}, c.uas...),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-t", uasMode, "-nostdin")...)
	waitBound(t, uasNet, uasPort, uas)

	stat := filepath.Join(dir, "uac.csv")
	args := append(append([]string{}, c.uac...),
		"127.0.0.1:"+strconv.Itoa(uasPort), "-rsa", s.hostport(),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uacPort),
		"-m", strconv.Itoa(c.calls), "-r", strconv.Itoa(c.rate), "-l", "1000",
		"-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-trace_err",
		"-timeout", strconv.Itoa(int(c.limit/time.Second))+"s", "-timeout_error", "-t", uacMode)
	if c.lost > 0 {
		args = append(args, "-lost", strconv.Itoa(c.lost))
	}
	started := time.Now()
	rc, out := run(t, dir, c.limit+10*time.Second, sipp, args...)
	ok, failed := sippStats(t, stat)
	t.Logf("%d calls at %d/s, %s to %s (lost %d%%): %d successful, %d failed, SIPp exit %d, %v",
		c.calls, c.rate, uacNet, uasNet, c.lost, ok, failed, rc, time.Since(started).Round(time.Millisecond))
	if rc != 0 || ok != c.calls || failed != 0 {
		errs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
		detail := ""
		for _, e := range errs {
			detail += "\n" + e + ":\n" + tail(e, 2000)
		}
		t.Errorf("SIPp UAC: exit %d, %d of %d calls successful, %d failed\n%s%s\nUAS:\n%s", rc, ok, c.calls, failed, out, detail, uas.output())
	}
}
