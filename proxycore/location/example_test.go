package location_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

func Example() {
	var s location.Store
	aor, _ := uri.Parse("sip:bob@biloxi.example.com")
	office, _ := header.ParseValue[header.Contact]("<sip:bob@192.0.2.4>;q=0.5")
	mobile, _ := header.ParseValue[header.Contact]("<sip:bob@198.51.100.7>;q=0.9")
	now := effects.Time(0)
	_, err := s.Apply(now, aor, location.Update{CallID: "843817637684230@998sdasdh09", CSeq: 1826, Contacts: []location.Binding{
		{Contact: office, Q: 500, Expires: now.Add(time.Hour)},
		{Contact: mobile, Q: 900, Expires: now.Add(time.Minute)},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, at := range []time.Duration{0, 2 * time.Minute} {
		fmt.Println("after", at)
		for _, b := range s.Lookup(now.Add(at), aor) {
			fmt.Println(" ", b.Target().String(), b.Q, b.RemainingSeconds(now.Add(at)))
		}
	}
	// Output:
	// after 0s
	//   sip:bob@198.51.100.7 900 60
	//   sip:bob@192.0.2.4 500 3600
	// after 2m0s
	//   sip:bob@192.0.2.4 500 3480
}
