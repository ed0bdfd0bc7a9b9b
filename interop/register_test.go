package interop

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSIPpRegister registers alice with SIPp, answering sansip's MD5
// digest challenge (testdata/sipp/register_auth.xml), over UDP and TCP:
// every registration must end in 200.
func TestSIPpRegister(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string // SIPp's -t
	}{
		{"udp", "u1"},
		{"tcp", "t1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sipp := need(t, "sipp")
			s := startServer(t, nil)
			dir := t.TempDir()
			const n = 20
			stat := filepath.Join(dir, "reg.csv")
			rc, out := run(t, dir, 40*time.Second, sipp, "-sf", testdata(t, "sipp/register_auth.xml"), s.hostport(),
				"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-t", tc.mode,
				"-m", strconv.Itoa(n), "-r", "20", "-nostdin", "-trace_stat", "-stf", stat, "-trace_err",
				"-timeout", "30s", "-timeout_error")
			ok, failed := sippStats(t, stat)
			t.Logf("%d REGISTERs with digest over %s: %d successful, %d failed, SIPp exit %d", n, tc.name, ok, failed, rc)
			if rc != 0 || ok != n {
				errs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
				var detail strings.Builder
				for _, e := range errs {
					detail.WriteString("\n" + tail(e, 2000))
				}
				t.Errorf("SIPp: exit %d, %d of %d registrations successful\n%s%s", rc, ok, n, out, detail.String())
			}
		})
	}
}
