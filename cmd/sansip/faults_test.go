package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/store/redistest"
)

// exchange sends one request over UDP to addr and returns the first final
// response (provisional ones skipped) and how long it took; "" when none
// came within wait.
func exchange(t *testing.T, addr, req string, wait time.Duration) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req = strings.ReplaceAll(req, "LOCAL", c.LocalAddr().String())
	began := time.Now()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(began.Add(wait))
		n, err := c.Read(buf)
		if err != nil {
			return "", time.Since(began)
		}
		if resp := string(buf[:n]); !strings.HasPrefix(resp, "SIP/2.0 1") {
			return resp, time.Since(began)
		}
	}
}

var seq int

// registerReq is a REGISTER of user binding contact, with a Call-ID and
// branch of its own.
func registerReq(user, contact string) string {
	seq++
	return fmt.Sprintf("REGISTER sip:cluster.test SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=z9hG4bKf%d;rport\r\n"+
		"Max-Forwards: 70\r\nTo: <sip:%s@cluster.test>\r\nFrom: <sip:%s@cluster.test>;tag=f%d\r\n"+
		"Call-ID: faults-%d\r\nCSeq: 1 REGISTER\r\nContact: <%s>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
		seq, user, user, seq, seq, contact)
}

// inviteReq is an INVITE to user's address of record.
func inviteReq(user string) string {
	seq++
	return fmt.Sprintf("INVITE sip:%s@cluster.test SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=z9hG4bKf%d;rport\r\n"+
		"Max-Forwards: 70\r\nTo: <sip:%s@cluster.test>\r\nFrom: <sip:caller@cluster.test>;tag=f%d\r\n"+
		"Call-ID: faults-%d\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@LOCAL>\r\nContent-Length: 0\r\n\r\n",
		user, seq, user, seq, seq)
}

func statusLine(resp string) string {
	line, _, _ := strings.Cut(resp, "\r\n")
	return line
}

// TestRedisFaults: a node on a Redis that dies, or stops answering,
// answers the requests that need the store (a REGISTER, a call to a
// registered user) 503 with Retry-After within a bounded time (the store
// timeout, 1 s here, plus a margin), keeps running, and serves again on
// its own once Redis is back; every binding Redis acknowledged before the
// fault is still there (Redis writes its append-only file before
// answering).
func TestRedisFaults(t *testing.T) {
	redis := redistest.Start(t)
	addr := freePort(t)
	node := serveNode(t, "node", addr, "-store", "redis", "-redis", redis.Addr(), "-redis-prefix", randomPrefix(t),
		"-redis-cache", "0s", "-store-timeout", "1s")
	const bound = 3 * time.Second // store timeout 1 s, plus scheduling slack
	for i := range 5 {
		resp, _ := exchange(t, addr, registerReq(fmt.Sprintf("u%d", i), fmt.Sprintf("sip:u%d@192.0.2.1:5060", i)), 5*time.Second)
		if !strings.HasPrefix(resp, "SIP/2.0 200") {
			t.Fatalf("register u%d: %q", i, statusLine(resp))
		}
	}
	want503 := func(what, req string) {
		t.Helper()
		resp, took := exchange(t, addr, req, 10*time.Second)
		if !strings.HasPrefix(resp, "SIP/2.0 503") || !strings.Contains(resp, "\r\nRetry-After: ") {
			t.Errorf("%s: got %q after %v, want 503 with Retry-After", what, statusLine(resp), took)
		}
		if took > bound {
			t.Errorf("%s: answered after %v, want within %v", what, took, bound)
		}
		t.Logf("%s: %s in %v", what, statusLine(resp), took.Round(time.Millisecond))
	}
	for _, fault := range []struct {
		name       string
		fail, mend func()
	}{
		{"killed", redis.Kill, redis.Restart},
		{"not answering (SIGSTOP)", redis.Pause, redis.Resume},
	} {
		fault.fail()
		want503("REGISTER, Redis "+fault.name, registerReq("u9", "sip:u9@192.0.2.1:5060"))
		want503("INVITE to a registered user, Redis "+fault.name, inviteReq("u1"))
		fault.mend()
		// Service resumes by itself (the client reconnects); the
		// bindings acknowledged before are all there.
		var resp string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if resp, _ = exchange(t, addr, registerReq("u0", "sip:u0@192.0.2.2:5060"), 5*time.Second); strings.HasPrefix(resp, "SIP/2.0 200") {
				break
			}
		}
		if !strings.HasPrefix(resp, "SIP/2.0 200") || !strings.Contains(resp, "sip:u0@192.0.2.1:5060") {
			t.Fatalf("after Redis %s came back: %q", fault.name, resp)
		}
		for i := 1; i < 5; i++ {
			resp, _ := exchange(t, addr, registerReq(fmt.Sprintf("u%d", i), fmt.Sprintf("sip:u%d@192.0.2.3:5060", i)), 5*time.Second)
			if !strings.Contains(resp, fmt.Sprintf("<sip:u%d@192.0.2.1:5060>", i)) {
				t.Errorf("after Redis %s came back, u%d lost its binding: %q", fault.name, i, resp)
			}
		}
	}
	select {
	case <-node.done:
		t.Fatalf("the node exited")
	default:
	}
}
