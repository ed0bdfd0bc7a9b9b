package gruu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

const (
	inst   = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
	callID = "843817637684230@998sdasdh09"
)

func mustURI(t testing.TB, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func keys(t testing.TB, key string) *gruu.Keys {
	t.Helper()
	k, err := gruu.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPublic checks the pub-gruu of RFC 5627 §5.4: the AOR with gr set to
// the instance id, escaped as a uri-parameter value, read back by Parse.
func TestPublic(t *testing.T) {
	tests := []struct {
		name, aor, instance, want string
	}{
		{"a uuid URN, as in the RFC's examples", "sip:callee@example.com", "<" + inst + ">", "sip:callee@example.com;gr=" + inst},
		{"canonical AOR: host folded, parameters dropped", "sip:callee@EXAMPLE.com;transport=tcp", inst, "sip:callee@example.com;gr=" + inst},
		{"sips AOR keeps its scheme", "sips:callee@example.com", inst, "sips:callee@example.com;gr=" + inst},
		{"characters a parameter cannot carry are escaped", "sip:callee@example.com", "urn:x:a b;c", "sip:callee@example.com;gr=urn:x:a%20b%3Bc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := gruu.Public(mustURI(t, tc.aor), tc.instance)
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tc.want {
				t.Fatalf("pub-gruu %s, want %s", u, tc.want)
			}
			if err := u.Validate(); err != nil {
				t.Fatalf("not a valid URI: %v", err)
			}
			g, err := (*gruu.Keys)(nil).Parse(mustURI(t, u.String()))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(strings.TrimPrefix(tc.instance, "<"), ">")
			if g.Temporary || g.Instance != want || g.AOR.String() != strings.SplitN(tc.want, ";", 2)[0] {
				t.Fatalf("parsed %+v", g)
			}
		})
	}
	for _, bad := range []struct{ aor, instance string }{{"sip:example.com", inst}, {"sip:a@example.com", ""}, {"tel:+1234", inst}} {
		if _, err := gruu.Public(mustURI(t, bad.aor), bad.instance); err == nil {
			t.Errorf("Public(%s, %q) accepted", bad.aor, bad.instance)
		}
	}
}

// TestTemporary checks the temp-gruu of RFC 5627 §5.4: user-less, the same
// for the same registration, opened back to the AOR and instance, and
// refused when forged, altered, moved or read with another key.
func TestTemporary(t *testing.T) {
	k := keys(t, "0123456789abcdef-gruu")
	aor := mustURI(t, "sip:alice@example.com")
	tmp, err := k.Temporary(aor, inst, callID)
	if err != nil {
		t.Fatal(err)
	}
	if tmp.User != "" || tmp.Host != "example.com" || !gruu.Is(tmp) {
		t.Fatalf("temp-gruu %s: want a user-less GRUU of the AOR's host", tmp)
	}
	if err := tmp.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tmp.String(), "alice") || strings.Contains(tmp.String(), "f81d4fae") {
		t.Fatalf("temp-gruu %s reveals the AOR or instance (§3.1.2)", tmp)
	}
	again, _ := k.Temporary(aor, inst, callID)
	if again != tmp {
		t.Fatalf("refresh gave %s, then %s: want one temp-gruu per Call-ID", tmp, again)
	}
	other, _ := k.Temporary(aor, inst, "another-call-id")
	if other == tmp {
		t.Fatal("a new Call-ID gave the same temp-gruu")
	}
	g, err := k.Parse(mustURI(t, tmp.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !g.Temporary || g.AOR != aor || g.Instance != inst {
		t.Fatalf("opened %+v", g)
	}
	b := location.Binding{AOR: aor, Instance: inst, CallID: callID}
	if !g.Matches(&b) {
		t.Fatal("does not match the binding it was made for")
	}
	b.CallID = "another-call-id"
	if g.Matches(&b) || !g.SameInstance(&b) {
		t.Fatal("a binding re-registered with another Call-ID: want same instance, no match (§5.1)")
	}
	b = location.Binding{AOR: aor, Instance: "urn:uuid:00000000-0000-1000-8000-000a95a0e128", CallID: callID}
	if g.Matches(&b) {
		t.Fatal("matches another instance")
	}

	token, _ := tmp.Params.Get(gruu.Param)
	flip := []byte(token)
	if flip[len(flip)/2] == 'A' {
		flip[len(flip)/2] = 'B'
	} else {
		flip[len(flip)/2] = 'A'
	}
	bad := []struct{ name, u string }{
		{"forged token", "sip:example.com;gr=bm90LWEtdG9rZW4tYXQtYWxsLWJ1dC1sb25nLWVub3VnaC10by1wYXNz"},
		{"altered token", "sip:example.com;gr=" + string(flip)},
		{"cut token", "sip:example.com;gr=" + token[:len(token)-4]},
		{"another host", "sip:example.org;gr=" + token},
		{"another port", "sip:example.com:5070;gr=" + token},
		{"not base64url", "sip:example.com;gr=%21%21"},
		{"empty gr", "sip:example.com;gr"},
	}
	for _, tc := range bad {
		if _, err := k.Parse(mustURI(t, tc.u)); !errors.Is(err, gruu.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := keys(t, "another key of 16+ bytes").Parse(tmp); !errors.Is(err, gruu.ErrInvalid) {
		t.Errorf("another key: %v, want ErrInvalid", err)
	}
	if _, err := (*gruu.Keys)(nil).Parse(tmp); !errors.Is(err, gruu.ErrInvalid) {
		t.Errorf("no key: %v, want ErrInvalid", err)
	}
	for _, s := range []string{"sip:alice@example.com", "tel:+1234;gr=x"} {
		if _, err := k.Parse(mustURI(t, s)); !errors.Is(err, gruu.ErrNotGRUU) {
			t.Errorf("%s: %v, want ErrNotGRUU", s, err)
		}
	}
}

// TestTemporaryInstances checks instance ids other than a lower-case uuid
// URN, kept as text, and AORs with escapes and ports.
func TestTemporaryInstances(t *testing.T) {
	k := keys(t, "0123456789abcdef-gruu")
	tests := []struct{ aor, instance string }{
		{"sip:alice@example.com", "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6"},
		{"sip:alice@example.com", "urn:x-vendor:device;1"},
		{"sips:al%20ice@example.com:5071", inst},
		{"sip:+15551234567@[2001:db8::1]", inst},
	}
	for _, tc := range tests {
		aor, _ := location.Canonical(mustURI(t, tc.aor))
		tmp, err := k.Temporary(aor, tc.instance, callID)
		if err != nil {
			t.Fatalf("%s: %v", tc.aor, err)
		}
		g, err := k.Parse(mustURI(t, tmp.String()))
		if err != nil {
			t.Fatalf("%s: %v", tmp, err)
		}
		if g.AOR != aor || g.Instance != tc.instance {
			t.Errorf("%s %s: opened %+v", tc.aor, tc.instance, g)
		}
	}
	if _, err := k.Temporary(mustURI(t, "sip:example.com"), inst, callID); err == nil {
		t.Error("a user-less AOR got a temp-gruu")
	}
	if _, err := k.Temporary(mustURI(t, "sip:"+strings.Repeat("a", 256)+"@example.com"), inst, callID); err == nil {
		t.Error("a 256-byte user part got a temp-gruu")
	}
	if _, err := gruu.New([]byte("short")); !errors.Is(err, gruu.ErrKey) {
		t.Errorf("short key: %v", err)
	}
}
