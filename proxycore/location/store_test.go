package location_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

func mustURI(t testing.TB, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func contact(t testing.TB, s string, exp effects.Time) location.Binding {
	t.Helper()
	c, err := header.ParseValue[header.Contact](s)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := c.Q()
	if !ok {
		q = location.DefaultQ
	}
	return location.Binding{Contact: c, Q: q, Expires: exp}
}

// TestCanonical: RFC 3261 §10.3 step 5: the AOR is the To URI with its
// parameters dropped and escapes decoded; equal AORs index the same
// bindings.
func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:bob@biloxi.example.com", "sip:bob@biloxi.example.com"},
		{"sip:bob@BILOXI.example.COM;user=phone?subject=x", "sip:bob@biloxi.example.com"},
		{"sip:%62ob@biloxi.example.com:5060;transport=tcp", "sip:bob@biloxi.example.com:5060"},
		{"sips:bob:secret@biloxi.example.com", "sips:bob@biloxi.example.com"},
		{"sip:bob@[2001:DB8:0::1]", "sip:bob@[2001:db8::1]"},
		{"sip:a%20b@h", "sip:a%20b@h"},
	}
	for _, tc := range tests {
		c, err := location.Canonical(mustURI(t, tc.in))
		if err != nil || c.String() != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.in, c.String(), err, tc.want)
		}
	}
	for _, bad := range []string{"tel:+15551234", "mailto:bob@biloxi.example.com"} {
		if _, err := location.Canonical(mustURI(t, bad)); !errors.Is(err, location.ErrAOR) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// The user part is case-sensitive (§19.1.4).
	a, _ := location.Key(mustURI(t, "sip:Bob@h"))
	b, _ := location.Key(mustURI(t, "sip:bob@h"))
	if a == b {
		t.Error("user parts compared case-insensitively")
	}
}

// TestExpire: bindings expire by time alone: Lookup never returns an
// expired one, and Expire releases them (and their AORs) in order of
// expiry, without a look-up.
func TestExpire(t *testing.T) {
	s := &location.Store{}
	sec := func(n int) effects.Time { return effects.Time(0).Add(time.Duration(n) * time.Second) }
	for i := range 100 {
		aor := mustURI(t, fmt.Sprintf("sip:u%d@h", i))
		u := location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{
			contact(t, "<sip:a@10.0.0.1>", sec(10+i)), contact(t, "<sip:b@10.0.0.1>", sec(200)),
		}}
		if _, err := s.Apply(0, aor, u); err != nil {
			t.Fatal(err)
		}
	}
	if next, ok := s.NextExpiry(); !ok || next != sec(10) {
		t.Fatalf("next expiry %v", next)
	}
	if got := s.Lookup(sec(50), mustURI(t, "sip:u39@h")); len(got) != 1 || got[0].Contact.URI.User != "b" {
		t.Errorf("lookup at 50 s: %+v", got)
	}
	if n := s.Expire(sec(59)); n != 50 || s.Count() != 150 {
		t.Errorf("released %d, %d left", n, s.Count())
	}
	if n := s.Expire(sec(200)); n != 150 || s.Len() != 0 || s.Count() != 0 {
		t.Errorf("released %d, %d AORs and %d bindings left", n, s.Len(), s.Count())
	}
	if _, ok := s.NextExpiry(); ok {
		t.Error("an empty store has a next expiry")
	}
}

// TestBounds: the store refuses beyond its bounds with an error value, and
// changes nothing.
func TestBounds(t *testing.T) {
	s := &location.Store{MaxAORs: 2, MaxBindings: 2}
	add := func(aor string, cseq uint32, cs ...string) error {
		u := location.Update{CallID: "c", CSeq: cseq}
		for _, c := range cs {
			u.Contacts = append(u.Contacts, contact(t, c, 1000))
		}
		_, err := s.Apply(0, mustURI(t, aor), u)
		return err
	}
	if err := add("sip:a@h", 1, "<sip:1@h>", "<sip:2@h>", "<sip:3@h>"); !errors.Is(err, location.ErrTooManyBindings) {
		t.Errorf("3 bindings: %v", err)
	}
	if add("sip:a@h", 2, "<sip:1@h>") != nil || add("sip:b@h", 1, "<sip:1@h>") != nil {
		t.Fatal("refused within bounds")
	}
	if err := add("sip:c@h", 1, "<sip:1@h>"); !errors.Is(err, location.ErrFull) {
		t.Errorf("third AOR: %v", err)
	}
	if s.Len() != 2 || s.Count() != 2 {
		t.Errorf("%d AORs, %d bindings", s.Len(), s.Count())
	}
	// Removing every binding releases the AOR at once.
	if _, err := s.Apply(0, mustURI(t, "sip:b@h"), location.Update{CallID: "c", CSeq: 2, RemoveAll: true}); err != nil || s.Len() != 1 {
		t.Errorf("remove all: %v, %d AORs", err, s.Len())
	}
	if err := add("sip:c@h", 1, "<sip:1@h>"); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// TestRoutes: the Path becomes the route set and an outbound binding
// reached directly has its flow as destination.
func TestRoutes(t *testing.T) {
	p, _ := header.ParseValue[header.Path]("<sip:edge.example.com;lr;ob>")
	b := contact(t, `<sip:bob@10.0.0.1>;+sip.instance="<urn:uuid:a>";reg-id=1`, 10)
	b.Instance, b.RegID = "urn:uuid:a", 1
	b.Flow = effects.Peer{Transport: effects.TCP, Conn: 3}
	if f, ok := b.Direct(); !ok || f.Conn != 3 {
		t.Errorf("direct %v %v", f, ok)
	}
	b.Path = []header.Path{p}
	if _, ok := b.Direct(); ok || len(b.Routes()) != 1 || b.Routes()[0].URI.Host != "edge.example.com" {
		t.Errorf("routes %v", b.Routes())
	}
}
