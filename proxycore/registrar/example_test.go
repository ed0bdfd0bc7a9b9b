package registrar_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
)

func Example() {
	// A registrar for biloxi.example.com whose bindings live in memory.
	// (Set Config.Auth to a *digest.Server to authenticate.)
	m, err := registrar.NewMemory(registrar.Config{Domains: []string{"biloxi.example.com"}, Gen: ident.Seeded(1)},
		&location.Store{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := message.ParseString("REGISTER sip:biloxi.example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7\r\n"+
		"To: Bob <sip:bob@biloxi.example.com>\r\n"+
		"From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"+
		"Call-ID: 843817637684230@998sdasdh09\r\n"+
		"CSeq: 1826 REGISTER\r\n"+
		"Contact: <sip:bob@192.0.2.4>\r\n"+
		"Expires: 7200\r\n"+
		"Content-Length: 0\r\n\r\n", nil)
	from := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.4:5060"), Transport: effects.UDP}

	// 1 is the owner's handle: its server transaction id, say.
	out, err := m.Handle(0, 1, req, from, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range out {
		if e.Kind == effects.Deliver && e.Event.Kind == effects.RegistrarResponse {
			// The owner passes the response on: txn.Layer.Respond(now, e.Event.ID, e.Event.Msg, ...).
			fmt.Println(e.Event.ID, e.Event.Msg.StartLine())
			fmt.Println(e.Event.Msg.Values("Contact"))
		}
	}
	// A proxy reads the bindings as its target set.
	for _, b := range m.Lookup(0, req.To().URI) {
		fmt.Println(b.Target().String(), b.Flow)
	}
	// Output:
	// 1 SIP/2.0 200 OK
	// [<sip:bob@192.0.2.4>;expires=7200]
	// sip:bob@192.0.2.4 UDP:192.0.2.4:5060
}
