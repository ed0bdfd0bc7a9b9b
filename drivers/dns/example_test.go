package dns_test

import (
	"context"
	"fmt"

	"github.com/sansip/sansip/drivers/dns"
	"github.com/sansip/sansip/effects"
)

// A driver answers a Resolve effect. A numeric host needs no lookup (RFC
// 3263 §4.2), so this example sends no query.
func Example() {
	r, err := dns.New(dns.Config{Server: "127.0.0.1:53"})
	if err != nil {
		fmt.Println(err)
		return
	}
	targets, err := r.Resolve(context.Background(), "192.0.2.10", "sip", effects.TCP, 0)
	fmt.Println(targets[0].Addr, targets[0].Transport, err)
	// Output:
	// 192.0.2.10:5060 TCP <nil>
}
