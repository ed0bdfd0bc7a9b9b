package service

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// The server answers OPTIONS addressed to itself, counts it in its
// metrics, and stops with no goroutine left. Loopback only, bounded in
// time.
func TestServe(t *testing.T) {
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{
			UDP: []string{"127.0.0.1:0"}, Domains: []string{"localhost"}, Users: map[string]string{"alice": "alice"},
			Metrics: metricsAddr, Drain: 200 * time.Millisecond, Shards: 2,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
		})
	}()
	var udp netip.AddrPort
	select {
	case a := <-ready:
		udp = a[effects.UDP][0]
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	c, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	options := "OPTIONS sip:" + udp.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKserve1\r\n" +
		"Max-Forwards: 70\r\nTo: <sip:" + udp.String() + ">\r\nFrom: <sip:probe@localhost>;tag=1\r\n" +
		"Call-ID: serve-test-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if got := exchange(t, c, options); !strings.HasPrefix(got, "SIP/2.0 200 ") {
		t.Fatalf("OPTIONS answered %q", firstLine(got))
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `sansip_requests_total{direction="in",method="OPTIONS"} 1`) {
		t.Errorf("metrics lack the OPTIONS:\n%s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}

func exchange(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// What a draining server refuses with 503: requests that start something
// (no To tag), not ACK, CANCEL, responses or requests inside a dialog.
func TestNewRequest(t *testing.T) {
	req := func(method, to string) string {
		return method + " sip:bob@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n" +
			"Max-Forwards: 70\r\nTo: " + to + "\r\nFrom: <sip:a@localhost>;tag=1\r\nCall-ID: c\r\n" +
			"CSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
	}
	tests := []struct {
		msg  string
		want bool
	}{
		{req("INVITE", "<sip:bob@localhost>"), true},
		{req("OPTIONS", "<sip:bob@localhost>"), true},
		{req("BYE", "<sip:bob@localhost>;tag=2"), false},
		{req("ACK", "<sip:bob@localhost>"), false},
		{req("CANCEL", "<sip:bob@localhost>"), false},
		{"SIP/2.0 200 OK\r\n\r\n", false},
		{"garbage", false},
	}
	for _, tc := range tests {
		if got := newRequest([]byte(tc.msg)); got != tc.want {
			t.Errorf("%q: %v, want %v", firstLine(tc.msg), got, tc.want)
		}
	}
}
