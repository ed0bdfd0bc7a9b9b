package proxycore_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

// A stateful proxy that sends every request for bob to two phones in
// parallel: the INVITE goes out twice, each copy with the proxy's Via and
// Record-Route, and each starts a Timer C.
func Example() {
	phones := []proxycore.Target{{URI: mustURI("sip:bob@192.0.2.31")}, {URI: mustURI("sip:bob@192.0.2.32")}}
	p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", RecordRoute: true,
		Router: func(*message.Message) proxycore.Decision { return proxycore.ProxyTo(phones...) }})
	if err != nil {
		panic(err)
	}
	invite := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n"
	from := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	out := p.Handle(effects.Input{Kind: effects.Received, Data: []byte(invite), From: from}, nil)
	for _, e := range out {
		switch e.Kind {
		case effects.Send:
			rr, _ := e.Msg.Get("Record-Route")
			fmt.Println("send", e.Msg.StartLine(), "to", e.To, "Record-Route", rr)
		case effects.SetTimer:
			fmt.Println("set a timer for", e.After)
		}
	}
	fmt.Println(p.Contexts(), "response context")
	// Unordered output:
	// set a timer for 200ms
	// send INVITE sip:bob@192.0.2.31 SIP/2.0 to UDP:192.0.2.31:5060 Record-Route <sip:192.0.2.10:5060;lr>
	// set a timer for 500ms
	// set a timer for 32s
	// set a timer for 3m30s
	// send INVITE sip:bob@192.0.2.32 SIP/2.0 to UDP:192.0.2.32:5060 Record-Route <sip:192.0.2.10:5060;lr>
	// set a timer for 500ms
	// set a timer for 32s
	// set a timer for 3m30s
	// 1 response context
}
