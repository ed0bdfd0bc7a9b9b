package client_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// A client sends OPTIONS to a sansip server running on loopback and
// prints the final response.
func Example() {
	ctx, stopServer := context.WithCancel(context.Background())
	ready := make(chan netip.AddrPort, 1)
	stopped := make(chan error, 1)
	go func() {
		stopped <- service.Run(ctx, service.Config{
			UDP: []string{"127.0.0.1:0"}, Domains: []string{"example.test"}, Drain: 100 * time.Millisecond,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a[effects.UDP][0] },
		})
	}()
	defer func() { stopServer(); <-stopped }()
	addr := <-ready

	target, _ := uri.Parse("sip:" + addr.String())
	done := make(chan *message.Message, 1)
	c, err := client.Start(context.Background(), client.Config{
		Target: target,
		OnEvent: func(ev effects.Event) {
			if ev.Kind == effects.RequestDone {
				done <- ev.Msg
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Do(context.Background(), func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Request(now, "OPTIONS", target, ua.RequestOptions{Dest: c.Next()}, out)
		return out, err
	})
	fmt.Println((<-done).StartLine())
	// Output:
	// SIP/2.0 200 OK
}
