package header_test

import (
	"fmt"

	"github.com/sansip/sansip/header"
)

// Parse a Via and a Contact value and read their parameters.
func Example() {
	via, err := header.ParseValue[header.Via]("SIP/2.0/UDP pc33.atlanta.com:5060 ;branch=z9hG4bK776asdhds ;rport")
	if err != nil {
		fmt.Println(err)
		return
	}
	port, present := via.RPort()
	fmt.Println(via.Transport, via.SentBy(), via.Branch(), via.HasCookie(), port, present)
	fmt.Println(header.String(&via))

	c, err := header.ParseValue[header.Contact](`"Alice" <sip:alice@pc33.atlanta.com;transport=tcp>;expires=3600;q=0.7`)
	if err != nil {
		fmt.Println(err)
		return
	}
	expires, _ := c.Expires()
	q, _ := c.Q()
	fmt.Println(c.Display, c.URI.Host, c.URI.Transport(), expires, q)
	for name, value := range c.Params.All() {
		fmt.Printf("%s=%s\n", name, value)
	}

	// Errors say which header, where, and what.
	_, err = header.ParseValue[header.CSeq]("9292394834772304023312 OPTIONS")
	fmt.Println(err)
	// Output:
	// UDP pc33.atlanta.com:5060 z9hG4bK776asdhds true 0 true
	// SIP/2.0/UDP pc33.atlanta.com:5060;branch=z9hG4bK776asdhds;rport
	// Alice pc33.atlanta.com tcp 3600 700
	// expires=3600
	// q=0.7
	// CSeq: number out of range at offset 0
}
