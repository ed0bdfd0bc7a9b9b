package transport_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
)

// An echo server over UDP on loopback: what it receives goes back where it
// came from. A real driver feeds each Packet to its core as an
// effects.Input and sends the core's Send effects instead.
func Example() {
	var server *transport.Transport
	server = transport.New(transport.Config{
		Handler: func(p transport.Packet) {
			if p.Ping {
				server.Send(p.From, []byte("\r\n")) // RFC 5626 pong
				return
			}
			server.Send(p.From, p.Data) // Send does not keep Data
		},
	})
	addr, err := server.ListenUDP("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	got := make(chan string, 1)
	client := transport.New(transport.Config{
		Handler: func(p transport.Packet) {
			line, _, _ := bytes.Cut(p.Data, []byte("\r\n"))
			got <- string(line) // copied: Data is only valid during the call
		},
	})
	if _, err := client.ListenUDP("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	msg := "OPTIONS sip:echo@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n"
	client.Send(effects.Peer{Addr: addr, Transport: effects.UDP}, []byte(msg))
	select {
	case line := <-got:
		fmt.Println("echoed:", line)
	case <-time.After(5 * time.Second):
		fmt.Println("no echo")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client.Shutdown(ctx)
	server.Shutdown(ctx)
	fmt.Println("UDP messages in:", server.Stats().Of(effects.UDP).MsgsIn)
	// Output:
	// echoed: OPTIONS sip:echo@127.0.0.1 SIP/2.0
	// UDP messages in: 1
}
