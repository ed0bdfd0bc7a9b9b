package locate_test

import (
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/locate"
	"github.com/sansip/sansip/uri"
)

// Locating the server for sip:bob@biloxi.example.com: NAPTR first, which
// points at the SRV names to query; the SRV answer is ordered by priority
// and weight.
func Example() {
	u, _ := uri.Parse("sip:bob@biloxi.example.com")
	plan, _ := locate.PlanFor(u, nil)
	fmt.Println("first lookup is NAPTR:", plan.First() == locate.NAPTR)
	queries := locate.SRVQueries(plan, []locate.NAPTRRecord{
		{Order: 10, Preference: 10, Flags: "s", Service: "SIP+D2T", Replacement: "_sip._tcp.biloxi.example.com."},
		{Order: 20, Preference: 10, Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.biloxi.example.com."},
	}, []effects.Transport{effects.UDP, effects.TCP})
	for _, q := range queries {
		fmt.Println("SRV", q.Name, q.Transport)
	}
	first := func(n uint32) uint32 { return 0 }
	for _, r := range locate.OrderSRV([]locate.SRVRecord{
		{Target: "backup.biloxi.example.com", Port: 5060, Priority: 20, Weight: 10},
		{Target: "sip.biloxi.example.com", Port: 5060, Priority: 10, Weight: 10},
	}, first) {
		fmt.Println("try", r.Target, r.Port)
	}
	// Output:
	// first lookup is NAPTR: true
	// SRV _sip._tcp.biloxi.example.com TCP
	// SRV _sip._udp.biloxi.example.com UDP
	// try sip.biloxi.example.com 5060
	// try backup.biloxi.example.com 5060
}
