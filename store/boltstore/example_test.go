package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/uri"
)

// Bob registers two contacts; the server restarts; the bindings are still
// there, the short one expires on time.
func Example() {
	dir, err := os.MkdirTemp("", "boltstore")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "location.db")
	ctx := context.Background()
	aor, _ := uri.Parse("sip:bob@biloxi.example.com")
	office, _ := header.ParseValue[header.Contact]("<sip:bob@192.0.2.4>;q=0.5")
	mobile, _ := header.ParseValue[header.Contact]("<sip:bob@198.51.100.7>;q=0.9")
	// Wall-clock times, as the service gives them.
	now := effects.Time(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())

	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Apply(ctx, now, aor, location.Update{CallID: "843817637684230@998sdasdh09", CSeq: 1826, Contacts: []location.Binding{
		{Contact: office, Q: 500, Expires: now.Add(time.Hour), Updated: now},
		{Contact: mobile, Q: 900, Expires: now.Add(time.Minute), Updated: now},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Close()

	s, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for _, after := range []time.Duration{0, 2 * time.Minute} {
		at := now.Add(after)
		bs, err := s.Lookup(ctx, at, aor)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("after", after)
		for _, b := range bs {
			fmt.Println(" ", b.Target().String(), b.Q, b.RemainingSeconds(at))
		}
	}
	s.Expire(now.Add(2 * time.Minute))
	fmt.Println(s.Counts())
	// Output:
	// after 0s
	//   sip:bob@198.51.100.7 900 60
	//   sip:bob@192.0.2.4 500 3600
	// after 2m0s
	//   sip:bob@192.0.2.4 500 3480
	// 1 1
}
