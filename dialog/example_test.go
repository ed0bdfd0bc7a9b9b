package dialog_test

import (
	"fmt"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// Example builds Alice's side of a dialog from her INVITE and Bob's 200
// (which a proxy record-routed), then the BYE she sends inside it: it goes
// to Bob's Contact through the route set, with the next CSeq (§12.2.1.1).
func Example() {
	invite, err := message.ParseString("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"+
		"To: Bob <sip:bob@biloxi.example.com>\r\n"+
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"+
		"CSeq: 314159 INVITE\r\n"+
		"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"+
		"Content-Length: 0\r\n\r\n", nil)
	if err != nil {
		panic(err)
	}
	ok, err := message.ParseString("SIP/2.0 200 OK\r\n"+
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"+
		"Record-Route: <sip:p1.example.com;lr>\r\n"+
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"+
		"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"+
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"+
		"CSeq: 314159 INVITE\r\n"+
		"Contact: <sip:bob@192.0.2.4>\r\n"+
		"Content-Length: 0\r\n\r\n", nil)
	if err != nil {
		panic(err)
	}
	local, _ := uri.Parse("sip:alice@pc33.atlanta.example.com")
	d, err := dialog.NewUAC(invite, ok, local, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.ID, d.State)
	bye, next, err := d.Request("BYE", dialog.RequestOptions{
		Via: header.Via{Transport: "UDP", Host: "pc33.atlanta.example.com", Params: ";branch=z9hG4bKnashds10"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(bye.StartLine())
	route, _ := bye.Get("Route")
	fmt.Println("Route:", route)
	fmt.Println("CSeq:", bye.CSeq())
	fmt.Println("next hop:", next)
	// Output:
	// a84b4c76e66710@pc33.atlanta.example.com;1928301774;a6c85cf confirmed
	// BYE sip:bob@192.0.2.4 SIP/2.0
	// Route: <sip:p1.example.com;lr>
	// CSeq: {314160 BYE}
	// next hop: sip:p1.example.com;lr
}
