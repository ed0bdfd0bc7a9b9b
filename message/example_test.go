package message_test

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

func Example() {
	data := []byte("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
		"v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n" +
		"Max-Forwards: 70\r\n" +
		"To: Bob <sip:bob@biloxi.example.com>\r\n" +
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n" +
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n" +
		"CSeq: 314159 INVITE\r\n" +
		"Contact: <sip:alice@pc33.atlanta.example.com>\r\n" +
		"Content-Length: 0\r\n\r\n")
	m, err := message.Parse(data, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Method(), m.RequestURI().Host, m.Branch(), m.CSeq().Seq, m.FromTag())
	contacts, _ := message.All[header.Contact](m)
	fmt.Println(contacts[0].URI)

	// A proxy forwards it: new top Via, one hop less; everything else
	// goes out as it came.
	m.PrependVia(header.Via{Transport: "UDP", Host: "proxy.example.org", Params: ";branch=z9hG4bKnashds8"})
	m.DecrementMaxForwards()
	fmt.Print(strings.ReplaceAll(m.String(), "\r\n", "\n"))
	// Output:
	// INVITE biloxi.example.com z9hG4bK776asdhds 314159 1928301774
	// sip:alice@pc33.atlanta.example.com
	// INVITE sip:bob@biloxi.example.com SIP/2.0
	// Via: SIP/2.0/UDP proxy.example.org;branch=z9hG4bKnashds8
	// v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
	// Max-Forwards: 69
	// To: Bob <sip:bob@biloxi.example.com>
	// From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
	// Call-ID: a84b4c76e66710@pc33.atlanta.example.com
	// CSeq: 314159 INVITE
	// Contact: <sip:alice@pc33.atlanta.example.com>
	// Content-Length: 0
}

func ExampleNewRequest() {
	ruri, _ := uri.Parse("sip:bob@biloxi.example.com")
	from, _ := uri.Parse("sip:alice@atlanta.example.com")
	m, err := message.NewRequest("OPTIONS", ruri, message.RequestOptions{
		From: header.From{URI: from},
		Via:  header.Via{Host: "192.0.2.1", Port: 5060},
		Gen:  ident.Seeded(1), // tests replay; a server passes a crypto/rand source
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, _ := message.NewResponse(m, 200, "", message.ResponseOptions{ToTag: "314159"})
	fmt.Println(resp.StartLine(), resp.ToTag(), resp.CSeq().Method)
	// Output:
	// SIP/2.0 200 OK 314159 OPTIONS
}

func ExampleErrorResponse() {
	bad := []byte("OPTIONS sip:bob@example.com SIP/7.0\r\n" +
		"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n")
	m, err := message.Parse(bad, nil)
	fmt.Println(err)
	if resp, ok := message.ErrorResponse(m, err, ident.Seeded(1)); ok {
		fmt.Println(resp.StartLine())
	}
	// Output:
	// sip: unsupported SIP version at offset 28
	// SIP/2.0 505 Version Not Supported
}
