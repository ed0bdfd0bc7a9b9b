package digest

import (
	"errors"
	"strings"
	"testing"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
)

func mustChallenge(t testing.TB, s string) header.Challenge {
	t.Helper()
	var ch header.Challenge
	if err := ch.Parse(s); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return ch
}

func TestPick(t *testing.T) {
	tests := []struct {
		rfc        string
		challenges []string
		want       int // index of the expected pick, -1 for none
	}{
		{"RFC 8760 §2.4: strongest of several", []string{
			`Digest realm="a", nonce="1", algorithm=MD5, qop="auth"`,
			`Digest realm="a", nonce="1", algorithm=SHA-256, qop="auth"`,
			`Digest realm="a", nonce="1", algorithm=SHA-512-256, qop="auth"`,
		}, 2},
		{"RFC 8760 §2.4: strongest, listed first", []string{
			`Digest realm="a", nonce="1", algorithm=SHA-256, qop="auth"`,
			`Digest realm="a", nonce="1", algorithm=MD5, qop="auth"`,
		}, 0},
		{"RFC 7616 §3.3: absent algorithm is MD5", []string{
			`Digest realm="a", nonce="1"`,
			`Digest realm="a", nonce="1", algorithm=SHA-256-sess`,
		}, 1},
		{"RFC 2617 §3.2.1: unknown algorithms are skipped", []string{
			`Digest realm="a", nonce="1", algorithm=SHA-3-512`,
			`Digest realm="a", nonce="1", algorithm=AKAv1-MD5`,
			`Digest realm="a", nonce="1", algorithm=MD5-sess`,
		}, 2},
		{"RFC 8760 §2.4: a -sess form is as strong as its hash; the first wins", []string{
			`Digest realm="a", nonce="1", algorithm=SHA-256-sess`,
			`Digest realm="a", nonce="1", algorithm=SHA-256`,
		}, 0},
		{"RFC 7235 §2.1: other schemes are skipped", []string{
			`Bearer realm="a", scope="sip"`,
			`Basic realm="a"`,
			`Digest realm="a", nonce="1", algorithm=MD5`,
		}, 2},
		{"RFC 7616 §3.3: no nonce, no answer", []string{`Digest realm="a", algorithm=SHA-256`}, -1},
		{"RFC 7616 §3.3: only unknown qop-values", []string{
			`Digest realm="a", nonce="1", algorithm=SHA-256, qop="auth-conf"`,
			`Digest realm="a", nonce="1", algorithm=MD5, qop="auth-conf,auth-int"`,
		}, 1},
		{"nothing answerable", []string{`Digest realm="a", nonce="1", algorithm=SHA-1`}, -1},
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		var chs []header.Challenge
		for _, s := range tt.challenges {
			chs = append(chs, mustChallenge(t, s))
		}
		got, ok := Pick(chs)
		switch {
		case tt.want < 0 && ok:
			t.Errorf("%s: picked %v, want none", tt.rfc, got)
		case tt.want >= 0 && (!ok || got != chs[tt.want]):
			t.Errorf("%s: picked %v (%v), want %v", tt.rfc, got, ok, chs[tt.want])
		}
	}
}

func TestPickAll(t *testing.T) {
	// RFC 3261 §22.3: a forked request's 401 can challenge for several
	// realms; each gets its strongest.
	chs := []header.Challenge{
		mustChallenge(t, `Digest realm="b.example", nonce="1", algorithm=MD5`),
		mustChallenge(t, `Digest realm="a.example", nonce="2", algorithm=SHA-256`),
		mustChallenge(t, `Digest realm="b.example", nonce="3", algorithm=SHA-256`),
		mustChallenge(t, `Digest realm="c.example", nonce="4", algorithm=SHA-1`),
		mustChallenge(t, `Digest realm="a.example", nonce="5", algorithm=MD5`),
	}
	got := PickAll(chs)
	want := []header.Challenge{chs[2], chs[1]}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("PickAll = %v, want %v", got, want)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	c := Credentials{Username: "alice", Password: "pw"}
	tests := []struct {
		name      string
		challenge header.Challenge
		c         Credentials
		cnonce    string
		nc        uint32
		err       error
	}{
		{"not Digest", header.Challenge{Scheme: "Bearer", Params: `,realm="a"`}, c, "c", 1, ErrScheme},
		{"unknown algorithm", mustChallenge(t, `Digest realm="a", nonce="n", algorithm=SHA-1`), c, "c", 1, ErrAlgorithm},
		{"no nonce", mustChallenge(t, `Digest realm="a"`), c, "c", 1, ErrChallenge},
		{"unknown qop", mustChallenge(t, `Digest realm="a", nonce="n", qop="auth-conf"`), c, "c", 1, ErrQOP},
		{"no cnonce with qop", mustChallenge(t, `Digest realm="a", nonce="n", qop="auth"`), c, "", 1, ErrInvalid},
		{"no cnonce with -sess", mustChallenge(t, `Digest realm="a", nonce="n", algorithm=MD5-sess`), c, "", 1, ErrInvalid},
		{"nc 0", mustChallenge(t, `Digest realm="a", nonce="n", qop="auth"`), c, "c", 0, ErrInvalid},
		{"CR in username", mustChallenge(t, `Digest realm="a", nonce="n", qop="auth"`), Credentials{Username: "a\r\nb"}, "c", 1, ErrInvalid},
		{"HA1 for another hash only", mustChallenge(t, `Digest realm="a", nonce="n", algorithm=SHA-256`),
			Credentials{Username: "alice", HA1: map[Algorithm]string{MD5: strings.Repeat("0", 32)}}, "c", 1, ErrNoSecret},
		{"HA1 of the wrong length", mustChallenge(t, `Digest realm="a", nonce="n", algorithm=SHA-256`),
			Credentials{Username: "alice", HA1: map[Algorithm]string{SHA256: strings.Repeat("0", 32)}}, "c", 1, ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := Authorize(tt.challenge, tt.c, "REGISTER", "sip:example.com", nil, tt.cnonce, tt.nc); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestAuthorizeShape(t *testing.T) {
	c := Credentials{Username: "alice", Password: "pw"}
	// RFC 2069 compatibility: no qop, so no nc, no cnonce.
	cr, err := Authorize(mustChallenge(t, `Digest realm="a", nonce="n"`), c, "REGISTER", "sip:a", nil, "cn", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"nc", "cnonce", "qop", "algorithm", "opaque", "userhash"} {
		if cr.Params.Has(p) {
			t.Errorf("RFC 2069 answer has %s: %s", p, cr)
		}
	}
	// -sess without qop still needs its cnonce (RFC 2617 §3.2.2.2).
	cr, err = Authorize(mustChallenge(t, `Digest realm="a", nonce="n", algorithm=MD5-sess`), c, "REGISTER", "sip:a", nil, "cn", 1)
	if err != nil || cr.CNonce() != "cn" || cr.Params.Has("nc") {
		t.Errorf("MD5-sess without qop: %s, %v", cr, err)
	}
	// RFC 3261 §20.44's example: an empty opaque is echoed.
	cr, err = Authorize(mustChallenge(t, `Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`),
		c, "INVITE", "sip:bob@biloxi.com", nil, "cn", 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := cr.Params.Get("opaque"); !ok || v != `""` {
		t.Errorf("opaque = %q, %v", v, ok)
	}
	// RFC 7616 §3.4: algorithm, qop and nc are tokens, never quoted.
	if v, _ := cr.Params.Get("qop"); v != "auth" {
		t.Errorf("qop = %s", v)
	}
	if v, _ := cr.Params.Get("algorithm"); v != "MD5" {
		t.Errorf("algorithm = %s", v)
	}
	if v, _ := cr.Params.Get("nc"); v != "00000001" {
		t.Errorf("nc = %s", v)
	}
	if err := cr.Params.Validate(); err != nil {
		t.Error(err)
	}
	// Quotes and backslashes in values are escaped.
	cr, err = Authorize(mustChallenge(t, `Digest realm="a\"b", nonce="n\\m", qop="auth"`), Credentials{Username: `x"y`}, "REGISTER", "sip:a", nil, "cn", 1)
	if err != nil || cr.Realm() != `a"b` || cr.Nonce() != `n\m` || cr.Username() != `x"y` || cr.Params.Validate() != nil {
		t.Errorf("escaping: %s, %v", cr, err)
	}
}

func TestAuthorizeQOPChoice(t *testing.T) {
	c := Credentials{Username: "alice", Password: "pw"}
	tests := []struct {
		qop       string
		preferInt bool
		want      string
	}{
		{"auth", false, "auth"},
		{"auth-int", false, "auth-int"},
		{"auth,auth-int", false, "auth"},
		{"auth-int, auth", false, "auth"},
		{"auth,auth-int", true, "auth-int"},
		{"auth", true, "auth"},
		{"AUTH", false, "auth"},
		{"auth-conf, auth-int", false, "auth-int"},
	}
	for _, tt := range tests {
		ch := mustChallenge(t, `Digest realm="a", nonce="n", qop="`+tt.qop+`"`)
		f := read(ch)
		cr, err := authorize(ch, &f, &c, "MESSAGE", "sip:b", []byte("hi"), "cn", 1, tt.preferInt)
		if err != nil || cr.QOP() != tt.want {
			t.Errorf("qop %q prefer auth-int %v: got %q, %v; want %q", tt.qop, tt.preferInt, cr.QOP(), err, tt.want)
		}
	}
}

func TestClientNonceCount(t *testing.T) {
	gen := ident.Seeded(7)
	var asked []string
	c := Client{Lookup: func(realm string) (Credentials, bool) {
		asked = append(asked, realm)
		return Credentials{Username: "alice", Password: "pw"}, realm == "a.example"
	}}
	ch1 := mustChallenge(t, `Digest realm="a.example", nonce="n1", qop="auth", algorithm=SHA-256`)
	nc := func(cr header.Credentials) uint32 { n, _ := cr.NC(); return n }

	cr, err := c.Authorize(ch1, "REGISTER", "sip:a.example", nil, gen)
	if err != nil || nc(cr) != 1 {
		t.Fatalf("first answer: %s, %v", cr, err)
	}
	first := cr.CNonce()
	// RFC 7616 §3.4: the same nonce again counts up; each request has its
	// own cnonce.
	for want := uint32(2); want <= 4; want++ {
		cr, ok, err := c.Reauthorize("a.example", "INVITE", "sip:bob@a.example", nil, gen)
		if err != nil || !ok || nc(cr) != want || cr.Nonce() != "n1" || cr.CNonce() == first {
			t.Fatalf("reauthorize %d: %s, %v, %v", want, cr, ok, err)
		}
	}
	// Answering the same challenge again keeps counting too.
	if cr, _ := c.Authorize(ch1, "REGISTER", "sip:a.example", nil, gen); nc(cr) != 5 {
		t.Errorf("same challenge: nc %d, want 5", nc(cr))
	}
	// A new nonce starts again at 1.
	ch2 := mustChallenge(t, `Digest realm="a.example", nonce="n2", qop="auth", algorithm=SHA-256`)
	if cr, _ := c.Authorize(ch2, "REGISTER", "sip:a.example", nil, gen); nc(cr) != 1 || cr.Nonce() != "n2" {
		t.Errorf("new nonce: %s", cr)
	}
	if cr, _, _ := c.Reauthorize("a.example", "REGISTER", "sip:a.example", nil, gen); nc(cr) != 2 {
		t.Errorf("after new nonce: nc %d, want 2", nc(cr))
	}
	// stale=true (RFC 7616 §3.3) starts again too.
	stale := mustChallenge(t, `Digest realm="a.example", nonce="n2", qop="auth", algorithm=SHA-256, stale=true`)
	if cr, _ := c.Authorize(stale, "REGISTER", "sip:a.example", nil, gen); nc(cr) != 1 {
		t.Errorf("stale: nc %d, want 1", nc(cr))
	}
	// No credentials for the realm.
	other := mustChallenge(t, `Digest realm="b.example", nonce="n", qop="auth"`)
	if _, err := c.Authorize(other, "REGISTER", "sip:b.example", nil, gen); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("unknown realm: %v", err)
	}
	if _, ok, err := c.Reauthorize("b.example", "REGISTER", "sip:b.example", nil, gen); ok || err != nil {
		t.Errorf("reauthorize unknown realm: %v, %v", ok, err)
	}
	c.Forget("a.example")
	if _, ok, _ := c.Reauthorize("a.example", "REGISTER", "sip:a.example", nil, gen); ok || c.Realms() != 0 {
		t.Errorf("forgotten realm still answered")
	}
}

func TestClientBounded(t *testing.T) {
	gen := ident.Seeded(1)
	c := Client{MaxRealms: 4, Lookup: func(string) (Credentials, bool) { return Credentials{Username: "u", Password: "p"}, true }}
	for i := range 100 {
		realm := "r" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		ch := mustChallenge(t, `Digest realm="`+realm+`", nonce="n", qop="auth"`)
		if _, err := c.Authorize(ch, "REGISTER", "sip:x", nil, gen); err != nil {
			t.Fatal(err)
		}
		if c.Realms() > 4 {
			t.Fatalf("%d realms remembered, bound 4", c.Realms())
		}
	}
	// The most recently used are kept.
	if _, ok, _ := c.Reauthorize("rvd", "REGISTER", "sip:x", nil, gen); !ok {
		t.Error("latest realm forgotten")
	}
	if _, ok, _ := c.Reauthorize("raa", "REGISTER", "sip:x", nil, gen); ok {
		t.Error("oldest realm kept")
	}
}

func TestClientAnswer(t *testing.T) {
	gen := ident.Seeded(3)
	creds := map[string]Credentials{
		"a.example": {Username: "alice", Password: "pa"},
		"b.example": {Username: "alice", HA1: map[Algorithm]string{MD5: HA1(MD5, "alice", "b.example", "pb", "", "")}},
	}
	c := Client{Lookup: func(r string) (Credentials, bool) { v, ok := creds[r]; return v, ok }}
	chs := []header.Challenge{
		mustChallenge(t, `Digest realm="b.example", nonce="b1", qop="auth", algorithm=SHA-256`),
		mustChallenge(t, `Digest realm="b.example", nonce="b1", qop="auth", algorithm=MD5`),
		mustChallenge(t, `Digest realm="z.example", nonce="z1", qop="auth", algorithm=SHA-256`),
		mustChallenge(t, `Digest realm="a.example", nonce="a1", qop="auth", algorithm=MD5`),
		mustChallenge(t, `Digest realm="a.example", nonce="a1", qop="auth", algorithm=SHA-512-256`),
	}
	got, err := c.Answer(chs, "INVITE", "sip:bob@b.example", nil, gen)
	if err != nil {
		t.Fatal(err)
	}
	// b.example's credentials hold only an MD5 HA1: MD5 it is.
	if len(got) != 2 || got[0].Realm() != "b.example" || got[0].Algorithm() != "MD5" ||
		got[1].Realm() != "a.example" || got[1].Algorithm() != "SHA-512-256" {
		t.Fatalf("Answer = %v", got)
	}
	if _, err := c.Answer(chs[2:3], "INVITE", "sip:x", nil, gen); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := c.Answer([]header.Challenge{mustChallenge(t, `Digest realm="a.example", nonce="n", algorithm=SHA-1`)}, "INVITE", "sip:x", nil, gen); !errors.Is(err, ErrChallenge) {
		t.Errorf("nothing answerable: %v", err)
	}
	var zero Client
	if _, err := zero.Answer(chs, "INVITE", "sip:x", nil, gen); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("zero Client: %v", err)
	}
}

func TestRejected(t *testing.T) {
	c := Credentials{Username: "alice", Password: "pw"}
	ch := mustChallenge(t, `Digest realm="a", nonce="n1", qop="auth"`)
	first, _ := Authorize(ch, c, "REGISTER", "sip:a", nil, "cn", 1)
	reused, _ := Authorize(ch, c, "REGISTER", "sip:a", nil, "cn", 7)
	plain, _ := Authorize(mustChallenge(t, `Digest realm="a", nonce="n1"`), c, "REGISTER", "sip:a", nil, "", 0)
	again := mustChallenge(t, `Digest realm="a", nonce="n2", qop="auth"`)
	stale := mustChallenge(t, `Digest realm="a", nonce="n2", qop="auth", stale=TRUE`)
	otherRealm := mustChallenge(t, `Digest realm="b", nonce="n2", qop="auth"`)
	tests := []struct {
		name string
		sent header.Credentials
		ch   header.Challenge
		want bool
	}{
		{"RFC 7616 §3.3: fresh answer challenged again, not stale", first, again, true},
		{"RFC 2069 answer challenged again", plain, again, true},
		{"RFC 7616 §3.3: stale=true", first, stale, false},
		{"reused nonce: the server may just want a new one", reused, again, false},
		{"another realm", first, otherRealm, false},
		{"no credentials sent", header.Credentials{}, again, false},
	}
	for _, tt := range tests {
		if got := Rejected(tt.sent, tt.ch); got != tt.want {
			t.Errorf("%s: Rejected = %v", tt.name, got)
		}
	}
}

func TestCredentialsCan(t *testing.T) {
	pw := Credentials{Username: "u", Password: "p"}
	ha1 := Credentials{Username: "u", HA1: map[Algorithm]string{SHA256: strings.Repeat("a", 64)}}
	both := Credentials{Username: "u", Password: "p", HA1: ha1.HA1}
	for _, a := range []Algorithm{MD5, MD5Sess, SHA256, SHA256Sess, SHA512_256, SHA512_256Sess} {
		if !pw.Can(a) || !both.Can(a) {
			t.Errorf("password credentials cannot %v", a)
		}
		if want := a.Hash() == SHA256; ha1.Can(a) != want {
			t.Errorf("HA1 credentials Can(%v) = %v", a, !want)
		}
	}
	if pw.Can(0) {
		t.Error("Can(0)")
	}
}

func TestClientAuthorizeUnanswerable(t *testing.T) {
	c := Client{Lookup: func(string) (Credentials, bool) { return bob, true }}
	for s, want := range map[string]error{
		`Digest realm="a", nonce="n", algorithm=SHA-1`: ErrAlgorithm,
		`Digest realm="a", qop="auth"`:                 ErrChallenge,
		`Digest realm="a", nonce="n", qop="auth-conf"`: ErrQOP,
	} {
		if _, err := c.Authorize(mustChallenge(t, s), "REGISTER", "sip:a", nil, ident.Seeded(1)); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", s, err, want)
		}
	}
	if c.Realms() != 0 {
		t.Errorf("unanswerable challenges remembered: %d", c.Realms())
	}
}
