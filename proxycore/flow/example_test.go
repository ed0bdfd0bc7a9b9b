package flow_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/flow"
)

// A node puts a token naming the client's connection in its own Path URI;
// a request routed back through that URI goes out on that connection.
func Example() {
	f, _ := flow.New([]byte("a secret of the node, 16+ bytes"))
	conn := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.7:50312"), Transport: effects.TCP, Conn: 42}
	path := "<sip:" + f.Token(conn) + "@node-a.example.com;lr;ob>"
	fmt.Println(len(path) > 60)
	p, ok := f.Peer(f.Token(conn))
	fmt.Println(p, ok)
	// Output:
	// true
	// TCP:192.0.2.7:50312#42 true
}
