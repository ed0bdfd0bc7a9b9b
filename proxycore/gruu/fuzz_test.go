package gruu_test

import (
	"testing"

	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// FuzzParse reads arbitrary Request-URIs as GRUUs: no panic; whatever
// opens names a canonical AOR and an instance, and a pub-gruu made from
// them reads back the same.
func FuzzParse(f *testing.F) {
	k, err := gruu.New([]byte("0123456789abcdef-gruu"))
	if err != nil {
		f.Fatal(err)
	}
	tmp, _ := k.Temporary(uri.URI{Scheme: uri.SIP, User: "alice", Host: "example.com"}, inst, callID)
	f.Add(tmp.String())
	f.Add("sip:callee@example.com;gr=" + inst)
	f.Add("sip:example.com;gr=AAAA")
	f.Add("sips:a@b;gr=%ZZ")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := uri.Parse(s)
		if err != nil {
			return
		}
		g, err := k.Parse(u)
		if err != nil {
			return
		}
		if c, err := location.Canonical(g.AOR); err != nil || c != g.AOR || g.Instance == "" {
			t.Fatalf("%s: opened %+v", s, g)
		}
		if g.Temporary {
			return
		}
		pub, err := gruu.Public(g.AOR, g.Instance)
		if err != nil {
			// An instance in angle brackets loses them.
			return
		}
		back, err := k.Parse(pub)
		if err != nil || back.AOR != g.AOR {
			t.Fatalf("%s: pub-gruu %s reads back %+v, %v", s, pub, back, err)
		}
	})
}

// FuzzTemporary seals arbitrary AOR users, instance ids and Call-IDs:
// what Temporary makes, Parse opens to the same AOR and instance.
func FuzzTemporary(f *testing.F) {
	k, err := gruu.New([]byte("0123456789abcdef-gruu"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("alice", inst, callID)
	f.Add("a b", "x", "")
	f.Fuzz(func(t *testing.T, user, instance, call string) {
		aor, err := location.Canonical(uri.URI{Scheme: uri.SIP, User: uri.EscapeUser(user), Host: "example.com"})
		if err != nil {
			return
		}
		tmp, err := k.Temporary(aor, instance, call)
		if err != nil {
			return
		}
		u, err := uri.Parse(tmp.String())
		if err != nil {
			t.Fatalf("temp-gruu %q does not parse: %v", tmp.String(), err)
		}
		g, err := k.Parse(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		b := location.Binding{AOR: aor, Instance: g.Instance, CallID: call}
		if g.AOR != aor || !g.Matches(&b) {
			t.Fatalf("%s opened %+v, want %s", u, g, aor)
		}
	})
}
