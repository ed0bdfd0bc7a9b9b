package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
	"go.etcd.io/bbolt"
)

var t0 = effects.Time(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())

func testStore(tb testing.TB, o Options) *Store {
	tb.Helper()
	o.NoSync = true
	s, err := Open(filepath.Join(tb.TempDir(), "location.db"), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// cseq numbers the REGISTERs of register.
var cseq uint32

func register(tb testing.TB, s *Store, aor string, now effects.Time, contacts ...string) []location.Binding {
	tb.Helper()
	cseq++
	u := location.Update{CallID: "c-" + aor, CSeq: cseq}
	for i, text := range contacts {
		c, err := header.ParseValue[header.Contact](text)
		if err != nil {
			tb.Fatal(err)
		}
		u.Contacts = append(u.Contacts, location.Binding{Contact: c, Q: location.DefaultQ, Expires: now.Add(time.Duration(i+1) * time.Minute), Updated: now})
	}
	a, err := uri.Parse(aor)
	if err != nil {
		tb.Fatal(err)
	}
	bs, err := s.Apply(context.Background(), now, a, u)
	if err != nil {
		tb.Fatal(err)
	}
	return bs
}

// put writes raw bytes as the stored value of aor.
func put(tb testing.TB, s *Store, aor string, v []byte) {
	tb.Helper()
	a, err := uri.Parse(aor)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := location.Key(a)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketBindings).Put([]byte(key), v)
	}); err != nil {
		tb.Fatal(err)
	}
}

// TestCorrupt: a stored value that is not bindings (a damaged file, a
// later format) is reported, wrapping location.ErrEncoding and naming the
// address of record, by Lookup and Apply, and left as it is; the other
// addresses of record work on, and the file still opens.
func TestCorrupt(t *testing.T) {
	ctx := context.Background()
	s := testStore(t, Options{})
	register(t, s, "sip:bad@example.com", t0, "<sip:bad@192.0.2.1>")
	register(t, s, "sip:good@example.com", t0, "<sip:good@192.0.2.1>")
	for _, tc := range []struct{ name, value string }{
		{"truncated JSON", `[{"v":1,"aor":"sip:bad@example.com"`},
		{"later version", `[{"v":2,"aor":"sip:bad@example.com","contact":"<sip:bad@192.0.2.1>"}]`},
		{"bad contact", `[{"v":1,"aor":"sip:bad@example.com","contact":"<sip:bad@"}]`},
		{"binary", "\x00\xff\x01"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(t, s, "sip:bad@example.com", []byte(tc.value))
			bad, _ := uri.Parse("sip:bad@example.com")
			_, err := s.Lookup(ctx, t0, bad)
			if !errors.Is(err, location.ErrEncoding) {
				t.Errorf("Lookup = %v, want ErrEncoding", err)
			}
			if err != nil && !strings.Contains(err.Error(), "sip:bad@example.com") {
				t.Errorf("Lookup error %q does not name the AOR", err)
			}
			_, err = s.Apply(ctx, t0, bad, location.Update{CallID: "x", CSeq: 1, RemoveAll: true})
			if !errors.Is(err, location.ErrEncoding) {
				t.Errorf("Apply = %v, want ErrEncoding", err)
			}
			if _, err := s.expire(t0.Add(time.Hour)); err != nil {
				t.Errorf("Expire: %v", err)
			}
			s.db.View(func(tx *bbolt.Tx) error {
				if v := tx.Bucket(bucketBindings).Get([]byte("sip:bad@example.com")); string(v) != tc.value {
					t.Errorf("stored value changed to %q", v)
				}
				return nil
			})
			good := register(t, s, "sip:good@example.com", t0.Add(time.Hour), "<sip:good@192.0.2.2>")
			if len(good) != 1 {
				t.Errorf("another AOR: %d bindings", len(good))
			}
		})
	}
	path := s.Path()
	s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopening a file with a bad value: %v", err)
	}
	s.Close()
}

// TestCountsRebuilt: a file whose counters are missing (written by hand,
// or damaged) is counted again at Open.
func TestCountsRebuilt(t *testing.T) {
	s := testStore(t, Options{})
	register(t, s, "sip:a@example.com", t0, "<sip:a@192.0.2.1>", "<sip:a@192.0.2.2>")
	register(t, s, "sip:b@example.com", t0, "<sip:b@192.0.2.1>")
	put(t, s, "sip:c@example.com", []byte("garbage"))
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		return errors.Join(m.Delete(keyAORs), m.Delete(keyBindings))
	}); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, b := s.Counts(); a != 3 || b != 3 {
		t.Errorf("Counts = %d, %d; want 3 AORs (one undecodable), 3 bindings", a, b)
	}
}

// TestDueKeyOrder: the expiry index sorts by time, negative times
// included, then by address of record.
func TestDueKeyOrder(t *testing.T) {
	times := []effects.Time{-1 << 63, -5, -1, 0, 1, 1e9, t0, 1<<63 - 1}
	var keys []string
	for _, tm := range times {
		for _, k := range []string{"sip:a@x", "sip:b@x"} {
			dk := dueKey(tm, k)
			if dueOf(dk) != tm || string(dk[8:]) != k {
				t.Errorf("dueKey(%d, %s) reads back as %d, %s", tm, k, dueOf(dk), dk[8:])
			}
			keys = append(keys, string(dk))
		}
	}
	if !slices.IsSorted(keys) {
		t.Error("expiry keys do not sort by time")
	}
}

// TestExpireBatches: Expire releases any number of expired addresses of
// record in bounded transactions, and leaves the live ones with their
// index entry moved to their next expiry.
func TestExpireBatches(t *testing.T) {
	s := testStore(t, Options{})
	n := expireBatch*2 + 10
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		for i := range n {
			a, _ := uri.Parse(fmt.Sprintf("sip:u%d@example.com", i))
			c, _ := header.ParseValue[header.Contact](fmt.Sprintf("<sip:u%d@192.0.2.1>", i))
			u := location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{{Contact: c, Q: 1000, Expires: t0.Add(time.Minute), Updated: t0}}}
			if i%3 == 0 {
				c2, _ := header.ParseValue[header.Contact](fmt.Sprintf("<sip:u%d@192.0.2.2>", i))
				u.Contacts = append(u.Contacts, location.Binding{Contact: c2, Q: 1000, Expires: t0.Add(time.Hour), Updated: t0})
			}
			key, _ := location.Key(a)
			u.Contacts[0].AOR, _ = location.Canonical(a)
			if len(u.Contacts) > 1 {
				u.Contacts[1].AOR = u.Contacts[0].AOR
			}
			_, refused, err := s.apply(tx, t0, key, u)
			if err := errors.Join(refused, err); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	live := (n + 2) / 3
	if a, b := s.Counts(); a != n || b != n+live {
		t.Fatalf("Counts = %d, %d; want %d, %d", a, b, n, n+live)
	}
	released, err := s.expire(t0.Add(2 * time.Minute))
	if err != nil || released != n {
		t.Errorf("expire = %d, %v; want %d", released, err, n)
	}
	if a, b := s.Counts(); a != live || b != live {
		t.Errorf("Counts = %d, %d; want %d, %d", a, b, live, live)
	}
	if released, err := s.expire(t0.Add(59 * time.Minute)); err != nil || released != 0 {
		t.Errorf("second expire = %d, %v; want 0", released, err)
	}
	s.db.View(func(tx *bbolt.Tx) error {
		if k := tx.Bucket(bucketExpiry).Stats().KeyN; k != live {
			t.Errorf("expiry index: %d entries, want %d", k, live)
		}
		first, _ := tx.Bucket(bucketExpiry).Cursor().First()
		if dueOf(first) != t0.Add(time.Hour) {
			t.Errorf("first index entry due at %v", dueOf(first))
		}
		return nil
	})
	if released, err := s.expire(t0.Add(time.Hour)); err != nil || released != live {
		t.Errorf("last expire = %d, %v; want %d", released, err, live)
	}
	if a, b := s.Counts(); a != 0 || b != 0 {
		t.Errorf("Counts = %d, %d; want 0, 0", a, b)
	}
}

// FuzzStoredValue: whatever bytes are stored for an address of record,
// Lookup, Apply and Expire return an error or valid bindings, never
// panic, and the counters never go negative.
func FuzzStoredValue(f *testing.F) {
	good, _ := location.Marshal([]location.Binding{{
		AOR: mustParse("sip:f@example.com"), Contact: header.Contact{URI: mustParse("sip:f@192.0.2.1")},
		Q: 1000, Expires: t0.Add(time.Hour), Updated: t0, CallID: "c", CSeq: 1,
	}})
	f.Add(good)
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"v":1,"aor":"sip:f@example.com","contact":"*","q":1000}]`))
	f.Add([]byte(`[{"v":1,"aor":"sip:f@example.com","contact":"<sip:f@h>","q":2000}]`))
	f.Add([]byte(`[{"v":1,"aor":"sip:f@example.com","contact":"<sip:f@h>","flow":"udp:1.2.3.4:5#x"}]`))
	f.Add([]byte{})
	s := testStore(f, Options{})
	aor := mustParse("sip:f@example.com")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, v []byte) {
		put(t, s, "sip:f@example.com", v)
		check := func(op string, bs []location.Binding, err error) {
			if err != nil {
				return
			}
			for _, b := range bs {
				if b.Expired(t0) || b.Q < 0 || b.Q > 1000 || b.Contact.Star {
					t.Errorf("%s returned an invalid binding %+v", op, b)
				}
			}
		}
		bs, err := s.Lookup(ctx, t0, aor)
		check("Lookup", bs, err)
		c, _ := header.ParseValue[header.Contact]("<sip:f@192.0.2.9>")
		bs, err = s.Apply(ctx, t0, aor, location.Update{CallID: "fuzz", CSeq: 1, Contacts: []location.Binding{{Contact: c, Q: 1000, Expires: t0.Add(time.Minute), Updated: t0}}})
		check("Apply", bs, err)
		if _, err := s.expire(t0.Add(30 * time.Minute)); err != nil {
			t.Errorf("expire: %v", err)
		}
		bs, err = s.Lookup(ctx, t0.Add(30*time.Minute), aor)
		check("Lookup", bs, err)
		if a, b := s.Counts(); a < 0 || b < 0 {
			t.Errorf("Counts = %d, %d", a, b)
		}
	})
}

func mustParse(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
