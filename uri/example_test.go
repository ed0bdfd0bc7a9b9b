package uri_test

import (
	"fmt"

	"github.com/sansip/sansip/uri"
)

func Example() {
	// RFC 4475 §3.1.1.3: the user part is kept escaped as written and
	// decoded once, on request.
	u, err := uri.Parse("sip:sips%3Auser%40example.com@example.net:5070;transport=TCP;lr?subject=project%20x")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Scheme, u.User, u.Host, u.Port)
	user, _ := u.DecodedUser()
	fmt.Println("decoded user:", user)
	fmt.Println("transport:", u.Transport(), "lr:", u.Params.Has("lr"))
	fmt.Println("headers:", u.Headers)

	// RFC 3261 §19.1.4: escapes of unreserved characters, host case and
	// parameter order do not matter; a missing port or transport does.
	a, _ := uri.Parse("sip:%61lice@atlanta.com;transport=TCP;lr")
	b, _ := uri.Parse("sip:alice@AtLanTa.CoM;lr;Transport=tcp")
	c, _ := uri.Parse("sip:alice@atlanta.com:5060;transport=tcp")
	fmt.Println(uri.Equal(a, b), uri.Equal(a, c))

	// Building a URI: escape each component, then validate.
	v := uri.URI{Scheme: uri.SIP, User: uri.EscapeUser("a b@c"), Host: "example.com"}.WithParam("transport", "udp")
	fmt.Println(v, v.Validate())

	// Output:
	// sip sips%3Auser%40example.com example.net 5070
	// decoded user: sips:user@example.com
	// transport: tcp lr: true
	// headers: subject=project%20x
	// true false
	// sip:a%20b%40c@example.com;transport=udp <nil>
}

func ExampleParse_errors() {
	for _, s := range []string{"sip:2001:db8::10", "<sip:user@example.com>", "tel:7042"} {
		_, err := uri.Parse(s)
		fmt.Println(err)
	}
	// Output:
	// uri: malformed host at offset 4
	// uri: malformed URI scheme at offset 0
	// uri: malformed user part at offset 4
}
