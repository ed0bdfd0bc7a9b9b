package redisstore_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/store/redisstore"
	"github.com/sansip/sansip/uri"
)

// Example configures the Store of a node and shows where Redis keeps the
// bindings of an address of record. New does not connect: a node starts
// while Redis is down, and its look-ups fail with ErrUnavailable (503)
// until Redis answers.
func Example() {
	s, err := redisstore.New(redisstore.Options{
		Addr:     "127.0.0.1:6379",
		Prefix:   "sansip:",
		Timeout:  500 * time.Millisecond, // then 503
		CacheTTL: time.Second,            // other nodes' registrations seen at most 1 s late
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	aor, _ := uri.Parse("sip:Bob@BILOXI.example.com;transport=tcp")
	key, _ := s.Key(aor)
	fmt.Println(key)
	// Output: sansip:aor:sip:Bob@biloxi.example.com
}
