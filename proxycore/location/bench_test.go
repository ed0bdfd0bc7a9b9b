package location_test

import (
	"fmt"
	"testing"

	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// fillStore returns a store with n AORs of one binding each, and their
// URIs.
func fillStore(b *testing.B, n int) (*location.Store, []uri.URI) {
	s := &location.Store{}
	aors := make([]uri.URI, n)
	for i := range aors {
		aors[i] = mustURI(b, fmt.Sprintf("sip:user%d@biloxi.example.com", i))
		u := location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(b, fmt.Sprintf("<sip:user%d@192.0.2.%d:5060>", i, i%250), 1<<62)}}
		if _, err := s.Apply(0, aors[i], u); err != nil {
			b.Fatal(err)
		}
	}
	return s, aors
}

// BenchmarkLookup looks up AORs, by URI, in a store of 100,000.
func BenchmarkLookup(b *testing.B) {
	s, aors := fillStore(b, 100000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(s.Lookup(1, aors[i%len(aors)])) != 1 {
			b.Fatal("not found")
		}
	}
}

// BenchmarkLookupKey looks up by precomputed key into a reused slice.
func BenchmarkLookupKey(b *testing.B) {
	s, aors := fillStore(b, 100000)
	keys := make([]string, len(aors))
	for i, a := range aors {
		keys[i], _ = location.Key(a)
	}
	var dst []location.Binding
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = s.AppendKey(dst[:0], 1, keys[i%len(keys)])
		if len(dst) != 1 {
			b.Fatal("not found")
		}
	}
}
