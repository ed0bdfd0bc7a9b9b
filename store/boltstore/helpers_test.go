package boltstore_test

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/uri"
)

// t0 is a wall-clock time, as the service gives a persistent store.
var t0 = effects.Time(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())

func at(d time.Duration) effects.Time { return t0.Add(d) }

func mustURI(tb testing.TB, s string) uri.URI {
	tb.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// contact returns a binding for the Contact text, expiring after d, as a
// registrar makes it at t0.
func contact(tb testing.TB, text string, d time.Duration) location.Binding {
	tb.Helper()
	c, err := header.ParseValue[header.Contact](text)
	if err != nil {
		tb.Fatal(err)
	}
	b := location.Binding{Contact: c, Q: location.DefaultQ, Expires: at(d), Updated: t0, Instance: c.Instance()}
	b.RegID, _ = c.RegID()
	return b
}

// outbound returns an outbound binding (RFC 5626) behind an edge proxy
// (RFC 3327 Path), with every field set.
func outbound(tb testing.TB, d time.Duration) location.Binding {
	tb.Helper()
	b := contact(tb, `<sip:alice@192.0.2.4:5070;transport=tcp;ob>;q=0.5;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=2`, d)
	p, err := header.ParseValue[header.Path]("<sip:tok3n@198.51.100.1:5071;lr;ob>")
	if err != nil {
		tb.Fatal(err)
	}
	b.Q = 500
	b.Path = []header.Path{p}
	b.Flow = effects.Peer{Addr: netip.MustParseAddrPort("[2001:db8::1]:40000"), Transport: effects.TLS, Conn: 99}
	b.FlowToken = "ft1"
	return b
}

// open opens a store in the file, closed when the test ends.
func open(tb testing.TB, path string, o boltstore.Options) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(path, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func tempFile(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "sub", "location.db")
}

// sameBinding reports how got differs from want, field by field, or "".
func sameBinding(got, want location.Binding) string {
	switch {
	case !uri.Equal(got.AOR, want.AOR):
		return "AOR " + got.AOR.String() + ", want " + want.AOR.String()
	case string(got.Contact.AppendTo(nil)) != string(want.Contact.AppendTo(nil)):
		return "Contact " + string(got.Contact.AppendTo(nil))
	case got.Q != want.Q, got.Expires != want.Expires, got.Updated != want.Updated:
		return "Q, Expires or Updated"
	case got.CallID != want.CallID, got.CSeq != want.CSeq:
		return "CallID or CSeq"
	case got.Instance != want.Instance, got.RegID != want.RegID:
		return "Instance or RegID"
	case got.Flow != want.Flow, got.FlowToken != want.FlowToken:
		return "Flow " + got.Flow.String() + " token " + got.FlowToken
	case len(got.Path) != len(want.Path):
		return "Path length"
	}
	for i := range got.Path {
		if string(got.Path[i].AppendTo(nil)) != string(want.Path[i].AppendTo(nil)) {
			return "Path " + string(got.Path[i].AppendTo(nil))
		}
	}
	return ""
}
