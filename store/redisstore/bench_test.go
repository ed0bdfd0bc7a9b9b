package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/redisstore"
	"github.com/sansip/sansip/store/redistest"
	"github.com/sansip/sansip/uri"
)

const benchAORs = 1000

// fill registers one binding for each of n addresses of record.
func fill(b *testing.B, s *redisstore.Store, n int) []uri.URI {
	aors := make([]uri.URI, n)
	for i := range aors {
		aors[i] = mustURI(b, fmt.Sprintf("sip:user%d@biloxi.example.com", i))
		now := wallNow()
		u := location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{
			contact(b, fmt.Sprintf("<sip:user%d@192.0.2.%d:5060>", i, i%250), now.Add(time.Hour))}}
		if _, err := s.Apply(b.Context(), now, aors[i], u); err != nil {
			b.Fatal(err)
		}
	}
	return aors
}

// BenchmarkApply: a REGISTER refresh (WATCH, GET, MULTI SET EXEC) over
// loopback.
func BenchmarkApply(b *testing.B) {
	s := newStore(b, redistest.Shared(b), redisstore.Options{})
	aors := fill(b, s, benchAORs)
	contacts := make([]location.Binding, len(aors))
	for i := range contacts {
		contacts[i] = contact(b, fmt.Sprintf("<sip:user%d@192.0.2.%d:5060>", i, i%250), 0)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := wallNow()
		c := contacts[i%len(aors)]
		c.Expires = now.Add(time.Hour)
		u := location.Update{CallID: "c", CSeq: uint32(2 + i/len(aors)), Contacts: []location.Binding{c}}
		if _, err := s.Apply(b.Context(), now, aors[i%len(aors)], u); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLookup: a look-up answered from the cache, and one that reads
// Redis (GET) every time.
func BenchmarkLookup(b *testing.B) {
	addr := redistest.Shared(b)
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := newStore(b, addr, redisstore.Options{CacheTTL: bc.ttl})
			aors := fill(b, s, benchAORs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bs, err := s.Lookup(b.Context(), wallNow(), aors[i%len(aors)])
				if err != nil || len(bs) != 1 {
					b.Fatal(len(bs), err)
				}
				i++
			}
		})
	}
}
