package boltstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/uri"
)

const benchAORs = 10000

// fill registers benchAORs addresses of record, one outbound contact
// each, and returns their URIs and updates.
func fill(b *testing.B, s *boltstore.Store) ([]uri.URI, []location.Update) {
	b.Helper()
	aors := make([]uri.URI, benchAORs)
	ups := make([]location.Update, benchAORs)
	for i := range aors {
		aors[i] = mustURI(b, fmt.Sprintf("sip:user%d@biloxi.example.com", i))
		ups[i] = location.Update{CallID: fmt.Sprintf("call%d@192.0.2.%d", i, i%250), CSeq: 1, Contacts: []location.Binding{
			contact(b, fmt.Sprintf(`<sip:user%d@192.0.2.%d:5060;transport=tcp>;+sip.instance="<urn:uuid:%08d-0000-1000-8000-000A95A0E128>";reg-id=1`, i, i%250, i), time.Hour),
		}}
	}
	// From 64 goroutines, so that group commit makes few transactions.
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < benchAORs; i += 64 {
				if _, err := s.Apply(context.Background(), t0, aors[i], ups[i]); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return aors, ups
}

// BenchmarkApply refreshes registrations (the REGISTER a client sends
// before its binding expires: same Call-ID, next CSeq, a later expiry) in
// a store of 10,000 addresses of record: one after another ("serial",
// each Apply its own transaction and fsync) and from 16 goroutines at
// once ("parallel16", as the service's workers: group commit shares
// transactions between them), with fsync and with NoSync.
func BenchmarkApply(b *testing.B) {
	for _, nosync := range []bool{false, true} {
		for _, par := range []int{1, 16} {
			name := fmt.Sprintf("nosync=%v/serial", nosync)
			if par > 1 {
				name = fmt.Sprintf("nosync=%v/parallel%d", nosync, par)
			}
			b.Run(name, func(b *testing.B) {
				s := open(b, tempFile(b), boltstore.Options{NoSync: nosync})
				aors, ups := fill(b, s)
				ctx := context.Background()
				// Goroutine w refreshes the AORs i with i%par == w, so
				// that the CSeqs of each stay in order.
				refresh := func(w, n int) {
					for k := range n {
						i := (w + k*par) % benchAORs
						u := ups[i]
						u.CSeq++
						ups[i].CSeq = u.CSeq
						c := u.Contacts[0]
						now := at(time.Duration(k) * time.Millisecond)
						c.Expires, c.Updated = now.Add(time.Hour), now
						u.Contacts = []location.Binding{c}
						if _, err := s.Apply(ctx, now, aors[i], u); err != nil {
							b.Error(err)
							return
						}
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := range par {
					n := b.N / par
					if w < b.N%par {
						n++
					}
					wg.Go(func() { refresh(w, n) })
				}
				wg.Wait()
			})
		}
	}
}

// BenchmarkLookup looks up addresses of record, by URI, in a store of
// 10,000 (one binding each, outbound).
func BenchmarkLookup(b *testing.B) {
	s := open(b, tempFile(b), boltstore.Options{NoSync: true})
	aors, _ := fill(b, s)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		bs, err := s.Lookup(ctx, t0, aors[i%len(aors)])
		if err != nil || len(bs) != 1 {
			b.Fatal(len(bs), err)
		}
	}
}
