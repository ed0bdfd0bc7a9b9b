package stun_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/stun"
)

// A client sends a Binding request on its SIP flow; the edge proxy answers
// with the address it saw the request come from (RFC 5626 §4.4.2, §8).
func Example() {
	id := stun.TransactionID{0x4a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5}
	req := stun.AppendBindingRequest(nil, id)

	// The server side.
	if !stun.IsSTUN(req) {
		return
	}
	in, err := stun.Parse(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, ok := stun.AppendResponse(nil, &in, netip.MustParseAddrPort("203.0.113.5:61000"))
	fmt.Println(in.Type, ok)

	// The client side.
	m, err := stun.Parse(resp)
	if err != nil {
		fmt.Println(err)
		return
	}
	mapped, err := m.XORMappedAddress()
	fmt.Println(m.Type, m.TxID == id, mapped, err)
	// Output:
	// Binding request true
	// Binding success response true 203.0.113.5:61000 <nil>
}
