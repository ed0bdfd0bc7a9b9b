package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/uri"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The Store is what the service expects of a persistent store: it is
// called on workers (not Immediate), expires and counts.
var (
	_ service.Store   = (*boltstore.Store)(nil)
	_ service.Expirer = (*boltstore.Store)(nil)
	_ service.Counter = (*boltstore.Store)(nil)
)

func TestNotImmediate(t *testing.T) {
	s := open(t, tempFile(t), boltstore.Options{NoSync: true})
	if _, ok := any(s).(service.Immediate); ok {
		t.Error("a Store on disk must not be Immediate: the service would call it on its shards")
	}
}

// TestRestart: the bindings a REGISTER set (RFC 3261 §10.3 step 7, with
// RFC 3327 Path and RFC 5626 instance, reg-id and flow) are in the file
// after Close and Open, every field intact; expiry goes on by time across
// the restart; the counters are right at once.
func TestRestart(t *testing.T) {
	path := tempFile(t)
	ctx := context.Background()
	alice := mustURI(t, "sip:alice@Atlanta.example.com;transport=tcp")
	bob := mustURI(t, "sip:bob@biloxi.example.com")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob := outbound(t, time.Hour)
	desk := contact(t, "<sip:alice@192.0.2.10>", 30*time.Second)
	want, err := s.Apply(ctx, t0, alice, location.Update{CallID: "c1@a", CSeq: 7, Contacts: []location.Binding{ob, desk}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, t0, bob, location.Update{CallID: "b1", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:bob@192.0.2.20>", 10*time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, boltstore.Options{})
	if a, b := s.Counts(); a != 2 || b != 3 {
		t.Errorf("Counts after reopen = %d, %d; want 2, 3", a, b)
	}
	got, err := s.Lookup(ctx, at(5*time.Second), alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("Lookup after reopen: %d bindings, want %d (2)", len(got), len(want))
	}
	canon, _ := location.Canonical(alice)
	for i := range got {
		if d := sameBinding(got[i], want[i]); d != "" {
			t.Errorf("binding %d: %s", i, d)
		}
		if !uri.Equal(got[i].AOR, canon) {
			t.Errorf("binding %d: AOR %s, want the canonical %s", i, got[i].AOR.String(), canon.String())
		}
	}
	if got[0].Q != location.DefaultQ || got[0].CallID != "c1@a" || got[0].CSeq != 7 || got[1].Instance == "" || got[1].RegID != 2 {
		t.Errorf("order or fields: %+v", got)
	}

	// One minute later, after another restart: desk and bob have expired.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, boltstore.Options{})
	later := at(time.Minute)
	got, err = s.Lookup(ctx, later, alice)
	if err != nil || len(got) != 1 || got[0].Contact.URI.Host != "192.0.2.4" {
		t.Fatalf("Lookup a minute later = %+v, %v; want the outbound binding alone", got, err)
	}
	if got, err := s.Lookup(ctx, later, bob); err != nil || len(got) != 0 {
		t.Errorf("bob a minute later = %+v, %v; want none", got, err)
	}
	s.Expire(later)
	if a, b := s.Counts(); a != 1 || b != 1 {
		t.Errorf("Counts after Expire = %d, %d; want 1, 1", a, b)
	}
}

// TestExpiry: a binding lasts until its Expires and no longer (RFC 3261
// §10.2.1: Lookup never returns an expired one); Expire releases them and
// the addresses of record left empty, and the counters follow.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempFile(t), boltstore.Options{NoSync: true})
	aor := mustURI(t, "sip:carol@chicago.example.com")
	other := mustURI(t, "sip:dave@chicago.example.com")
	if _, err := s.Apply(ctx, t0, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{
		contact(t, "<sip:carol@192.0.2.1>", 10*time.Second),
		contact(t, "<sip:carol@192.0.2.2>", 20*time.Second),
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, t0, other, location.Update{CallID: "d", CSeq: 1, Contacts: []location.Binding{
		contact(t, "<sip:dave@192.0.2.3>", 15*time.Second),
	}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		now          time.Duration
		expire       bool
		carol, dave  int
		aors, counts int
	}{
		{"before any expiry", 9 * time.Second, false, 2, 1, 2, 3},
		{"at the first Expires (RFC 3261 §10.3: gone once reached)", 10 * time.Second, false, 1, 1, 2, 3},
		{"Expire releases it", 10 * time.Second, true, 1, 1, 2, 2},
		{"dave expired, not yet released", 16 * time.Second, false, 1, 0, 2, 2},
		{"Expire releases dave's AOR", 16 * time.Second, true, 1, 0, 1, 1},
		{"all expired and released", time.Hour, true, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := at(tc.now)
			if tc.expire {
				s.Expire(now)
			}
			for _, c := range []struct {
				aor  string
				want int
			}{{"sip:carol@chicago.example.com", tc.carol}, {"sip:dave@chicago.example.com", tc.dave}} {
				got, err := s.Lookup(ctx, now, mustURI(t, c.aor))
				if err != nil || len(got) != c.want {
					t.Errorf("Lookup %s = %d bindings, %v; want %d", c.aor, len(got), err, c.want)
				}
				for _, b := range got {
					if b.Expired(now) {
						t.Errorf("expired binding returned: %+v", b)
					}
				}
			}
			if a, b := s.Counts(); a != tc.aors || b != tc.counts {
				t.Errorf("Counts = %d, %d; want %d, %d", a, b, tc.aors, tc.counts)
			}
		})
	}
}

// TestApplyRefused: updates RFC 3261 §10.3 refuses, and the bounds, leave
// the stored bindings as they were.
func TestApplyRefused(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	alice := mustURI(t, "sip:alice@atlanta.example.com")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		aor  string
		u    location.Update
		want error
	}{
		{"§10.3 step 7: lower CSeq, same Call-ID", ctx, "sip:alice@atlanta.example.com",
			location.Update{CallID: "c1", CSeq: 4, Contacts: []location.Binding{contact(t, "<sip:alice@192.0.2.1>", time.Hour)}}, location.ErrOutOfOrder},
		{"§10.3 step 7: replayed CSeq", ctx, "sip:alice@atlanta.example.com",
			location.Update{CallID: "c1", CSeq: 5, Contacts: []location.Binding{contact(t, "<sip:alice@192.0.2.1>", time.Hour)}}, location.ErrOutOfOrder},
		{"§10.3 step 7: Contact: * out of order", ctx, "sip:alice@atlanta.example.com",
			location.Update{CallID: "c1", CSeq: 3, RemoveAll: true}, location.ErrOutOfOrder},
		{"MaxBindings", ctx, "sip:alice@atlanta.example.com",
			location.Update{CallID: "c2", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:alice@192.0.2.7>", time.Hour), contact(t, "<sip:alice@192.0.2.8>", time.Hour)}}, location.ErrTooManyBindings},
		{"MaxAORs", ctx, "sip:bob@biloxi.example.com",
			location.Update{CallID: "b", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:bob@192.0.2.9>", time.Hour)}}, location.ErrFull},
		{"§10.2: AOR not a SIP URI", ctx, "tel:+15555550100",
			location.Update{CallID: "t", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:x@192.0.2.9>", time.Hour)}}, location.ErrAOR},
		{"cancelled context", cancelled, "sip:alice@atlanta.example.com",
			location.Update{CallID: "c3", CSeq: 1, RemoveAll: true}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tempFile(t), boltstore.Options{NoSync: true, MaxBindings: 2, MaxAORs: 1})
			before, err := s.Apply(ctx, t0, alice, location.Update{CallID: "c1", CSeq: 5, Contacts: []location.Binding{contact(t, "<sip:alice@192.0.2.1>", time.Hour)}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Apply(tc.ctx, at(time.Second), mustURI(t, tc.aor), tc.u)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Apply = %v, want %v", err, tc.want)
			}
			after, err := s.Lookup(ctx, at(time.Second), alice)
			if err != nil || len(after) != 1 || sameBinding(after[0], before[0]) != "" {
				t.Errorf("bindings changed by a refused update: %+v, %v", after, err)
			}
			if a, b := s.Counts(); a != 1 || b != 1 {
				t.Errorf("Counts = %d, %d; want 1, 1", a, b)
			}
		})
	}
}

// TestCancelledLookup: a look-up whose context is done does not start.
func TestCancelledLookup(t *testing.T) {
	s := open(t, tempFile(t), boltstore.Options{NoSync: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Lookup(ctx, t0, mustURI(t, "sip:a@example.com")); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup = %v, want context.Canceled", err)
	}
}

// TestLookupNotAnAOR: as in location.Store, a URI that cannot be an
// address of record (RFC 3261 §10.2) has no bindings: not an error, which
// the service would answer 503.
func TestLookupNotAnAOR(t *testing.T) {
	s := open(t, tempFile(t), boltstore.Options{NoSync: true})
	if bs, err := s.Lookup(context.Background(), t0, mustURI(t, "tel:+15555550100")); err != nil || bs != nil {
		t.Errorf("Lookup tel: = %v, %v; want nil, nil", bs, err)
	}
}

// TestRemove: RFC 3261 §10.2.2: Contact: * with Expires: 0 removes every
// binding, and a contact with expires=0 removes its own; an address of
// record left without bindings is deleted.
func TestRemove(t *testing.T) {
	ctx := context.Background()
	path := tempFile(t)
	s := open(t, path, boltstore.Options{NoSync: true})
	aor := mustURI(t, "sip:erin@example.com")
	if _, err := s.Apply(ctx, t0, aor, location.Update{CallID: "e", CSeq: 1, Contacts: []location.Binding{
		contact(t, "<sip:erin@192.0.2.1>", time.Hour), contact(t, "<sip:erin@192.0.2.2>", time.Hour), contact(t, "<sip:erin@192.0.2.3>", time.Hour),
	}}); err != nil {
		t.Fatal(err)
	}
	// expires=0 on one contact (§10.2.2).
	bs, err := s.Apply(ctx, t0, aor, location.Update{CallID: "e", CSeq: 2, Contacts: []location.Binding{contact(t, "<sip:erin@192.0.2.2>", 0)}})
	if err != nil || len(bs) != 2 {
		t.Fatalf("remove one = %d bindings, %v; want 2", len(bs), err)
	}
	if a, b := s.Counts(); a != 1 || b != 2 {
		t.Errorf("Counts = %d, %d; want 1, 2", a, b)
	}
	bs, err = s.Apply(ctx, t0, aor, location.Update{CallID: "other", CSeq: 1, RemoveAll: true})
	if err != nil || len(bs) != 0 {
		t.Fatalf("Contact: * = %+v, %v; want none", bs, err)
	}
	if a, b := s.Counts(); a != 0 || b != 0 {
		t.Errorf("Counts = %d, %d; want 0, 0", a, b)
	}
	if bs, err := s.Lookup(ctx, t0, aor); err != nil || len(bs) != 0 {
		t.Errorf("Lookup = %+v, %v; want none", bs, err)
	}
	// Removing what is not there changes nothing and is no error.
	if bs, err := s.Apply(ctx, t0, aor, location.Update{CallID: "x", CSeq: 1, RemoveAll: true}); err != nil || bs != nil {
		t.Errorf("Contact: * again = %+v, %v", bs, err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		for _, name := range []string{"bindings", "expiry"} {
			if n := tx.Bucket([]byte(name)).Stats().KeyN; n != 0 {
				t.Errorf("bucket %s holds %d keys after the last binding went", name, n)
			}
		}
		return nil
	})
}

// TestFullReleasesExpired: like location.Store, a store at MaxAORs first
// releases expired addresses of record before refusing a new one.
func TestFullReleasesExpired(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempFile(t), boltstore.Options{NoSync: true, MaxAORs: 2})
	for i, d := range []time.Duration{time.Second, time.Hour} {
		if _, err := s.Apply(ctx, t0, mustURI(t, fmt.Sprintf("sip:u%d@example.com", i)), location.Update{CallID: "c", CSeq: 1,
			Contacts: []location.Binding{contact(t, fmt.Sprintf("<sip:u%d@192.0.2.1>", i), d)}}); err != nil {
			t.Fatal(err)
		}
	}
	u := location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:new@192.0.2.1>", 2*time.Hour)}}
	if _, err := s.Apply(ctx, t0, mustURI(t, "sip:new@example.com"), u); !errors.Is(err, location.ErrFull) {
		t.Fatalf("Apply while full = %v, want ErrFull", err)
	}
	if _, err := s.Apply(ctx, at(time.Minute), mustURI(t, "sip:new@example.com"), u); err != nil {
		t.Fatalf("Apply once u0 expired = %v", err)
	}
	if a, b := s.Counts(); a != 2 || b != 2 {
		t.Errorf("Counts = %d, %d; want 2, 2", a, b)
	}
}

// TestConcurrentApply: REGISTERs from many goroutines on a few addresses
// of record, grouped into shared transactions, lose no update (RFC 3261
// §10.3: the update of an AOR is atomic).
func TestConcurrentApply(t *testing.T) {
	const (
		workers = 16
		each    = 8
		aors    = 3
	)
	ctx := context.Background()
	path := tempFile(t)
	s := open(t, path, boltstore.Options{MaxBindings: workers * each})
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				aor := mustURI(t, fmt.Sprintf("sip:user%d@example.com", (w+i)%aors))
				u := location.Update{CallID: fmt.Sprintf("call-%d-%d", w, i), CSeq: 1, Contacts: []location.Binding{
					contact(t, fmt.Sprintf("<sip:w%d-%d@192.0.2.1>", w, i), time.Hour),
				}}
				if _, err := s.Apply(ctx, t0, aor, u); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for a := range aors {
		bs, err := s.Lookup(ctx, t0, mustURI(t, fmt.Sprintf("sip:user%d@example.com", a)))
		if err != nil {
			t.Fatal(err)
		}
		total += len(bs)
	}
	if total != workers*each {
		t.Errorf("%d bindings stored, want %d", total, workers*each)
	}
	if a, b := s.Counts(); a != aors || b != workers*each {
		t.Errorf("Counts = %d, %d; want %d, %d", a, b, aors, workers*each)
	}
	s.Close()
	s = open(t, path, boltstore.Options{})
	if a, b := s.Counts(); a != aors || b != workers*each {
		t.Errorf("Counts after reopen = %d, %d; want %d, %d", a, b, aors, workers*each)
	}
}

// TestLocked: a second Open of a file in use fails within the timeout
// instead of waiting for the lock for ever.
func TestLocked(t *testing.T) {
	path := tempFile(t)
	open(t, path, boltstore.Options{NoSync: true})
	start := time.Now()
	s, err := boltstore.Open(path, boltstore.Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, boltstore.ErrLocked) || !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

// TestOpenForeign: a file that is not a location store is refused, not
// overwritten.
func TestOpenForeign(t *testing.T) {
	dir := t.TempDir()
	other := dir + "/other.db"
	db, err := bbolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("accounts"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	newer := dir + "/newer.db"
	s, err := boltstore.Open(newer, boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err = bbolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("sansip-location/2"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := dir + "/text.db"
	if err := os.WriteFile(text, []byte("not a bbolt file, but long enough to have a page header or two..."), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"another application's buckets", other, boltstore.ErrFormat},
		{"a later format", newer, boltstore.ErrFormat},
		{"not a bbolt file", text, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := boltstore.Open(tc.path, boltstore.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestClosed: a closed store answers errors, and Counts zeros.
func TestClosed(t *testing.T) {
	s, err := boltstore.Open(tempFile(t), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ctx := context.Background()
	aor := mustURI(t, "sip:a@example.com")
	if _, err := s.Lookup(ctx, t0, aor); err == nil {
		t.Error("Lookup on a closed store succeeded")
	}
	if _, err := s.Apply(ctx, t0, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:a@192.0.2.1>", time.Hour)}}); err == nil {
		t.Error("Apply on a closed store succeeded")
	}
	s.Expire(t0)
	if a, b := s.Counts(); a != 0 || b != 0 {
		t.Errorf("Counts = %d, %d", a, b)
	}
}
