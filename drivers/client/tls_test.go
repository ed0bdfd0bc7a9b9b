package client_test

import (
	"context"
	"crypto/tls"
	"net/netip"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
)

// TestOptionsTLS sends OPTIONS over TLS to a server whose certificate is
// self-signed (so not verified here); the Request-URI names the server's
// main (UDP) port, which is the one it recognises as itself.
func TestOptionsTLS(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[effects.Transport][]netip.AddrPort, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{
			UDP: []string{"127.0.0.1:0"}, TLS: []string{"127.0.0.1:0"}, Domains: []string{"example.test"},
			Shards: 1, Drain: 100 * time.Millisecond,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a },
		})
	}()
	defer func() { cancel(); <-done }()
	var addrs map[effects.Transport][]netip.AddrPort
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	e := newEvents()
	c, err := client.Start(context.Background(), e.config(client.Config{
		Target: mustURI(t, "sip:"+addrs[effects.UDP][0].String()), Proxy: addrs[effects.TLS][0].String(),
		Transport: effects.TLS, TLS: &tls.Config{InsecureSkipVerify: true},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Request(now, "OPTIONS", c.Target(), ua.RequestOptions{Dest: c.Next()}, out)
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(t, effects.RequestDone); ev.Code != 200 {
		t.Errorf("OPTIONS over TLS: %d %v", ev.Code, ev.Err)
	}
}
