package interop

import (
	"strconv"
	"testing"
	"time"

	"github.com/sansip/sansip/service"
)

// TestSipsak sends sipsak's OPTIONS to the server (answered 200 by the
// proxy itself) over UDP and TCP, and registers a contact for alice with
// digest authentication: sipsak exits 0 only on success. The server
// listens on a port below 10000: sipsak truncates longer ones in its
// Request-URI.
func TestSipsak(t *testing.T) {
	register := func(s srv, local int) []string {
		return []string{"-U", "-x", "120", "-C", "sip:alice@127.0.0.1:7777", "-s", "sip:alice@localhost",
			"--outbound-proxy", s.hostport(), "-a", "alice", "-u", "alice", "-l", strconv.Itoa(local)}
	}
	for _, tc := range []struct {
		name string
		args func(s srv, local int) []string
		edit func(*service.Config)
	}{
		{"options/udp", func(s srv, local int) []string {
			return []string{"-s", "sip:" + s.hostport(), "-l", strconv.Itoa(local)}
		}, nil},
		{"options/tcp", func(s srv, local int) []string {
			return []string{"-E", "tcp", "-s", "sip:" + s.hostport(), "-l", strconv.Itoa(local)}
		}, nil},
		// sipsak answers the 401 with MD5 credentials; 120 s is above the
		// server's Min-Expires (60 s).
		{"register-digest/udp", register, nil},
		// The same with the default digest configuration (digest.Server's
		// nil Algorithms, as serve's embedded one): sipsak 0.9.8.1
		// answers only the first challenge and knows only MD5.
		{"register-digest-default/udp", register, func(c *service.Config) { c.Algorithms = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sipsak := need(t, "sipsak")
			s := startServerAt(t, shortPort(t), tc.edit)
			rc, out := run(t, t.TempDir(), 20*time.Second, sipsak, append([]string{"-vv"}, tc.args(s, freePort(t))...)...)
			if rc != 0 {
				t.Errorf("sipsak exit %d (want 0):\n%s", rc, out)
			}
		})
	}
}
