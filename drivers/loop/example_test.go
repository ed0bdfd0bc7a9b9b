package loop_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// printer is a Transport that prints what it sends.
type printer struct{ sent chan string }

func (p printer) Send(to effects.Peer, data []byte) error {
	first, _, _ := strings.Cut(string(data), "\r\n")
	p.sent <- first + " -> " + to.String()
	return nil
}

func (printer) Close(effects.ConnID) error { return nil }

// A runtime with two shards, each running a UA core, answers an OPTIONS
// that arrives from the network.
func Example() {
	p := printer{sent: make(chan string, 1)}
	rt, _ := loop.New(loop.Config{
		Shards: 2,
		NewCore: func(i int) loop.Core {
			aor, _ := uri.Parse("sip:server@example.com")
			contact, _ := uri.Parse("sip:server@127.0.0.1:5060")
			u, _ := ua.New(ua.Config{AOR: aor, Contact: contact, Host: "127.0.0.1", Port: 5060, Gen: ident.Seeded(uint64(i))})
			return u
		},
		Transport: p,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rt.Run(ctx, time.Second); close(done) }()

	from := effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:5070"), Transport: effects.UDP}
	rt.Receive([]byte("OPTIONS sip:server@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKexample1\r\n"+
		"Max-Forwards: 70\r\nTo: <sip:server@example.com>\r\n"+
		"From: <sip:probe@example.com>;tag=1\r\nCall-ID: example-1\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"), from, netip.MustParseAddrPort("127.0.0.1:5060"))
	fmt.Println(<-p.sent)
	cancel()
	<-done
	// Output:
	// SIP/2.0 200 OK -> UDP:127.0.0.1:5070
}
