package digest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
)

var allAlgorithms = []Algorithm{MD5, MD5Sess, SHA256, SHA256Sess, SHA512_256, SHA512_256Sess}

const t0 = effects.Time(1_000_000_000_000)

func newServer() *Server {
	return &Server{
		Realm:        "biloxi.example.com",
		Secret:       []byte("0123456789abcdef0123456789abcdef"),
		Algorithms:   allAlgorithms,
		QOP:          []string{QOPAuth, QOPAuthInt},
		AllowRFC2069: true,
	}
}

var bob = Credentials{Username: "bob", Password: "zanzibar"}

// challengeWith returns the server's challenge for alg at now, with its
// qop-options replaced by qop (none if "").
func challengeWith(t testing.TB, s *Server, now effects.Time, alg Algorithm, qop string) header.Challenge {
	t.Helper()
	for _, ch := range s.Challenge(now, false, "") {
		if ch.Algorithm() == alg.String() {
			if qop == "" {
				ch.Params = ch.Params.Without("qop")
			} else {
				ch.Params = ch.Params.With("qop", header.Quote(qop))
			}
			return ch
		}
	}
	t.Fatalf("no %v challenge", alg)
	return header.Challenge{}
}

const ruri = "sip:bob@biloxi.example.com"

// TestRoundTrip: a registrar challenges, a UA answers with each
// algorithm and qop, the registrar verifies (RFC 3261 §22.2, §22.4; RFC
// 8760).
func TestRoundTrip(t *testing.T) {
	body := []byte("v=0\r\no=bob 2890844526 2890844526 IN IP4 biloxi.example.com\r\n")
	for _, alg := range allAlgorithms {
		for _, qop := range []string{QOPAuth, QOPAuthInt, ""} {
			t.Run(fmt.Sprintf("%v/%q", alg, qop), func(t *testing.T) {
				s := newServer()
				ch := challengeWith(t, s, t0, alg, qop)
				cr, err := Authorize(ch, bob, "INVITE", ruri, body, "0a4f113b", 1)
				if err != nil {
					t.Fatal(err)
				}
				if cr.QOP() != qop {
					t.Fatalf("qop %q, want %q", cr.QOP(), qop)
				}
				now := t0.Add(time.Second)
				if r, err := s.Verify(now, cr, "INVITE", ruri, body, bob); r != OK || err != nil {
					t.Fatalf("Verify = %v, %v", r, err)
				}
				// With a stored HA1 instead of the password.
				stored := Credentials{Username: "bob", HA1: map[Algorithm]string{alg.Hash(): HA1(alg.Hash(), "bob", s.Realm, "zanzibar", "", "")}}
				cr2, _ := Authorize(ch, bob, "INVITE", ruri, body, "cn2", 2)
				if r, err := s.Verify(now, cr2, "INVITE", ruri, body, stored); r != OK || err != nil {
					t.Fatalf("Verify with HA1 = %v, %v", r, err)
				}
				// A wrong password.
				cr3, _ := Authorize(ch, Credentials{Username: "bob", Password: "zanzibaR"}, "INVITE", ruri, body, "cn3", 3)
				if r, err := s.Verify(now, cr3, "INVITE", ruri, body, bob); r != Bad || !errors.Is(err, ErrResponse) {
					t.Fatalf("wrong password: %v, %v", r, err)
				}
				// Another method.
				cr4, _ := Authorize(ch, bob, "INVITE", ruri, body, "cn4", 4)
				if r, err := s.Verify(now, cr4, "BYE", ruri, body, bob); r != Bad || !errors.Is(err, ErrResponse) {
					t.Fatalf("other method: %v, %v", r, err)
				}
				// Another body matters for auth-int only.
				cr5, _ := Authorize(ch, bob, "INVITE", ruri, body, "cn5", 5)
				r, err := s.Verify(now, cr5, "INVITE", ruri, []byte("v=1\r\n"), bob)
				if qop == QOPAuthInt && (r != Bad || !errors.Is(err, ErrResponse)) || qop != QOPAuthInt && r != OK {
					t.Fatalf("other body: %v, %v", r, err)
				}
			})
		}
	}
}

func TestChallenge(t *testing.T) {
	s := newServer()
	s.Algorithms = []Algorithm{MD5, SHA512_256, MD5Sess, SHA256}
	s.Domain = "sip:biloxi.example.com sip:ss1.biloxi.example.com"
	s.UserHash = true
	chs := s.Challenge(t0, true, "5ccc069c403ebaf9f0171e9517f40e41")
	var algs []string
	for _, ch := range chs {
		algs = append(algs, ch.Algorithm())
		if !ch.IsDigest() || ch.Realm() != s.Realm || ch.Domain() != s.Domain || ch.QOP() != "auth,auth-int" ||
			!ch.Stale() || !ch.UserHash() || ch.Nonce() != chs[0].Nonce() || len(ch.Nonce()) != 43 {
			t.Errorf("challenge %s", ch)
		}
		if o, ok := ch.Opaque(); !ok || o != "5ccc069c403ebaf9f0171e9517f40e41" {
			t.Errorf("opaque %q", o)
		}
		// What we render parses back to the same.
		var back header.WWWAuthenticate
		if err := back.Parse(ch.String()); err != nil || back.Challenge != ch {
			t.Errorf("round trip of %s: %v", ch, err)
		}
	}
	// RFC 8760 §2.3: the preferred, strongest, first.
	if got := strings.Join(algs, " "); got != "SHA-512-256 SHA-256 MD5 MD5-sess" {
		t.Errorf("algorithms %s", got)
	}
	// The default: MD5 alone (deployed MD5-only clients fail on any
	// other challenge, see Server.Algorithms), qop auth, no stale, no
	// opaque.
	d := &Server{Realm: "r", Secret: []byte("k")}
	chs = d.Challenge(t0, false, "")
	if len(chs) != 1 || chs[0].String() != `Digest realm="r", qop="auth", nonce="`+chs[0].Nonce()+`", algorithm=MD5` {
		t.Errorf("default challenges %v", chs)
	}
	// Nonces are unique even at the same instant.
	if d.Challenge(t0, false, "")[0].Nonce() == chs[0].Nonce() {
		t.Error("same nonce twice")
	}
}

func TestChallengeEmptySecretPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	(&Server{Realm: "r"}).Challenge(t0, false, "")
}

// TestVerifyRejects: each check of Verify, RFC 7616 §3.4 and RFC 3261 §22.
func TestVerifyRejects(t *testing.T) {
	s := newServer()
	s.Algorithms = []Algorithm{SHA256, MD5}
	s.QOP = []string{QOPAuth}
	s.AllowRFC2069 = false
	ch := challengeWith(t, s, t0, SHA256, QOPAuth)
	now := t0.Add(time.Second)
	good, err := Authorize(ch, bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
	if err != nil {
		t.Fatal(err)
	}
	with := func(nv ...string) header.Credentials {
		c := good
		for i := 0; i+1 < len(nv); i += 2 {
			c.Params = c.Params.With(nv[i], nv[i+1])
		}
		return c
	}
	without := func(name string) header.Credentials {
		c := good
		c.Params = c.Params.Without(name)
		return c
	}
	other := &Server{Realm: s.Realm, Secret: []byte("another secret, same realm......")}
	otherRealm := &Server{Realm: "atlanta.example.com", Secret: s.Secret}
	foreignNonce := func(o *Server) header.Credentials {
		ch := o.Challenge(t0, false, "")[0]
		ch.Params = ch.Params.With("realm", header.Quote(s.Realm))
		c, _ := Authorize(ch, bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
		return c
	}
	md5Answer, _ := Authorize(challengeWith(t, s, t0, MD5, QOPAuth), bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
	noQOP, _ := Authorize(challengeWith(t, s, t0, SHA256, ""), bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
	authInt, _ := Authorize(challengeWith(t, s, t0, SHA256, QOPAuthInt), bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
	sess, _ := Authorize(challengeWith(t, &Server{Realm: s.Realm, Secret: s.Secret, Algorithms: []Algorithm{SHA256Sess}}, t0, SHA256Sess, QOPAuth),
		bob, "REGISTER", "sip:biloxi.example.com", nil, "cn", 1)
	// The last character of the nonce with its unused low bit flipped:
	// the same bytes to a lenient base64 decoder, another nonce to the
	// replay tracker if it were accepted.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flip := []byte(good.Nonce())
	flip[len(flip)-1] = alphabet[strings.IndexByte(alphabet, flip[len(flip)-1])^1]
	if raw, err := base64.RawURLEncoding.DecodeString(string(flip)); err != nil || base64.RawURLEncoding.EncodeToString(raw) != good.Nonce() {
		t.Fatalf("respelt nonce %s: %v", flip, err)
	}
	tests := []struct {
		rfc  string
		cred header.Credentials
		ruri string
		user Credentials
		err  error
	}{
		{"RFC 7235 §2.1 other scheme", header.Credentials{Scheme: "Basic", Token68: "Ym9iOnphbnppYmFy"}, "", bob, ErrScheme},
		{"RFC 3261 §22.4 realm", with("realm", `"atlanta.example.com"`), "", bob, ErrRealm},
		{"RFC 7616 §3.4 unknown algorithm", with("algorithm", "SHA-1"), "", bob, ErrAlgorithm},
		{"RFC 8760 §2.3 algorithm not offered", sess, "", bob, ErrAlgorithm},
		{"RFC 7616 §3.4 absent algorithm is MD5, here with a SHA-256 digest", without("algorithm"), "", bob, ErrMalformed},
		{"RFC 7616 §3.3 nonce of another secret", foreignNonce(other), "", bob, ErrNonce},
		{"RFC 7616 §3.3 nonce of another realm", foreignNonce(otherRealm), "", bob, ErrNonce},
		{"RFC 7616 §3.3 nonce not ours", with("nonce", `"dcd98b7102dd2f0e8b11d0f600bfb0c093"`), "", bob, ErrNonce},
		{"RFC 7616 §3.3 nonce respelt", with("nonce", header.Quote(string(flip))), "", bob, ErrNonce},
		{"RFC 7616 §3.3 nonce truncated", with("nonce", header.Quote(good.Nonce()[:42])), "", bob, ErrNonce},
		{"RFC 7616 §3.4 no uri", without("uri"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4.6 uri is not the Request-URI", good, "sip:alice@biloxi.example.com", bob, ErrURI},
		{"RFC 7616 §3.4 username", good, "", Credentials{Username: "bobby", Password: "zanzibar"}, ErrUsername},
		{"RFC 7616 §3.4.4 userhash of another user", with("userhash", "true"), "", bob, ErrUsername},
		{"RFC 7616 §3.4 qop absent, RFC 2069 not allowed", noQOP, "", bob, ErrQOP},
		{"RFC 7616 §3.4 qop not offered", authInt, "", bob, ErrQOP},
		{"RFC 7616 §3.4 qop unknown", with("qop", "auth-conf"), "", bob, ErrQOP},
		{"RFC 7616 §3.4 qop without nc", without("nc"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 nc not 8LHEX", with("nc", "1"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 nc zero", with("nc", "00000000"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 qop without cnonce", without("cnonce"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 no response", without("response"), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 response not hex", with("response", `"`+strings.Repeat("g", 64)+`"`), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 MD5-length response for SHA-256", with("response", `"`+strings.Repeat("0", 32)+`"`), "", bob, ErrMalformed},
		{"RFC 7616 §3.4 cnonce tampered", with("cnonce", `"cm"`), "", bob, ErrResponse},
		{"RFC 7616 §3.4 nc tampered", with("nc", "00000002"), "", bob, ErrResponse},
		{"RFC 7616 §3.4 uri tampered", with("uri", `"sip:biloxi.example.com;x"`), "", bob, ErrResponse},
		{"RFC 7616 §3.4 algorithm swapped", with("algorithm", "MD5", "response", header.Quote(md5Answer.Response())), "", bob, ErrResponse},
		{"HA1 of the wrong length", good, "", Credentials{Username: "bob", HA1: map[Algorithm]string{SHA256: "00"}}, ErrInvalid},
		{"no HA1 for the hash", good, "", Credentials{Username: "bob", HA1: map[Algorithm]string{MD5: strings.Repeat("0", 32)}}, ErrNoSecret},
	}
	for _, tt := range tests {
		r, err := s.Verify(now, tt.cred, "REGISTER", tt.ruri, nil, tt.user)
		if r != Bad || !errors.Is(err, tt.err) {
			t.Errorf("%s: Verify = %v, %v; want bad, %v", tt.rfc, r, err, tt.err)
		}
	}
	// None of this was recorded: the good answer still passes once.
	if r, err := s.Verify(now, good, "REGISTER", "sip:biloxi.example.com", nil, bob); r != OK {
		t.Fatalf("good: %v, %v", r, err)
	}
	if s.Tracked() != 1 {
		t.Errorf("%d nonces tracked, want 1", s.Tracked())
	}
}

// RFC 3261 §22.4 and RFC 7616 §3.4.6: the uri names the Request-URI;
// equal SIP URIs written differently match (RFC 3261 §19.1.4).
func TestVerifyURI(t *testing.T) {
	s := newServer()
	ch := challengeWith(t, s, t0, SHA256, QOPAuth)
	tests := []struct {
		digestURI, requestURI string
		ok                    bool
	}{
		{"sip:bob@biloxi.example.com", "sip:bob@biloxi.example.com", true},
		{"sip:bob@BILOXI.example.com;transport=tcp", "sip:bob@biloxi.example.com;Transport=TCP", true},
		{"sip:%62ob@biloxi.example.com", "sip:bob@biloxi.example.com", true},
		{"sip:bob@biloxi.example.com", "sip:Bob@biloxi.example.com", false},
		{"sip:bob@biloxi.example.com", "sips:bob@biloxi.example.com", false},
		{"/dir/index.html", "sip:bob@biloxi.example.com", false},
		{"sip:bob@biloxi.example.com", "", true}, // check skipped
	}
	for i, tt := range tests {
		cr, _ := Authorize(ch, bob, "INVITE", tt.digestURI, nil, "cn", uint32(i+1))
		r, err := s.Verify(t0, cr, "INVITE", tt.requestURI, nil, bob)
		if (r == OK) != tt.ok {
			t.Errorf("uri %q, Request-URI %q: %v, %v", tt.digestURI, tt.requestURI, r, err)
		}
	}
}

func TestVerifyStale(t *testing.T) {
	s := newServer()
	s.NonceTTL = 30 * time.Second
	ch := challengeWith(t, s, t0, SHA256, QOPAuth)
	answer := func(nc uint32, pw string) header.Credentials {
		cr, _ := Authorize(ch, Credentials{Username: "bob", Password: pw}, "REGISTER", ruri, nil, "cn", nc)
		return cr
	}
	if r, err := s.Verify(t0.Add(30*time.Second), answer(1, "zanzibar"), "REGISTER", ruri, nil, bob); r != OK {
		t.Errorf("at the TTL: %v, %v", r, err)
	}
	// RFC 7616 §3.3: right credentials, old nonce: stale.
	if r, err := s.Verify(t0.Add(31*time.Second), answer(2, "zanzibar"), "REGISTER", ruri, nil, bob); r != Stale || !errors.Is(err, ErrStale) {
		t.Errorf("past the TTL: %v, %v", r, err)
	}
	// Wrong credentials, old nonce: bad, never stale (RFC 2617 §3.2.1).
	if r, err := s.Verify(t0.Add(31*time.Second), answer(3, "wrong"), "REGISTER", ruri, nil, bob); r != Bad || !errors.Is(err, ErrResponse) {
		t.Errorf("wrong and old: %v, %v", r, err)
	}
	// A nonce from the future (another clock origin).
	if r, err := s.Verify(t0.Add(-time.Second), answer(4, "zanzibar"), "REGISTER", ruri, nil, bob); r != Stale || !errors.Is(err, ErrStale) {
		t.Errorf("from the future: %v, %v", r, err)
	}
	// The default lifetime.
	d := newServer()
	ch = challengeWith(t, d, t0, MD5, QOPAuth)
	cr, _ := Authorize(ch, bob, "REGISTER", ruri, nil, "cn", 1)
	if r, _ := d.Verify(t0.Add(DefaultNonceTTL+1), cr, "REGISTER", ruri, nil, bob); r != Stale {
		t.Errorf("default TTL: %v", r)
	}
	// The stale challenge that answers it says so; the client answers it
	// without asking the user, and that passes.
	fresh := d.Challenge(t0.Add(DefaultNonceTTL+1), true, "")
	c := Client{Lookup: func(string) (Credentials, bool) { return bob, true }}
	ans, err := c.Answer(fresh, "REGISTER", ruri, nil, ident.Seeded(1))
	if err != nil || !fresh[0].Stale() {
		t.Fatal(err)
	}
	if r, err := d.Verify(t0.Add(DefaultNonceTTL+2), ans[0], "REGISTER", ruri, nil, bob); r != OK {
		t.Errorf("after stale: %v, %v", r, err)
	}
}

// RFC 7616 §3.4 and §5.12: a nonce count is accepted once.
func TestVerifyReplay(t *testing.T) {
	s := newServer()
	ch := challengeWith(t, s, t0, SHA256, QOPAuth)
	answer := func(nc uint32) header.Credentials {
		cr, _ := Authorize(ch, bob, "REGISTER", ruri, nil, "cn", nc)
		return cr
	}
	verify := func(nc uint32) (Result, error) { return s.Verify(t0, answer(nc), "REGISTER", ruri, nil, bob) }
	steps := []struct {
		nc   uint32
		want Result
		err  error
	}{
		{1, OK, nil},
		{1, Bad, ErrReplay},
		{3, OK, nil},
		{2, OK, nil}, // overtaken, within the window
		{2, Bad, ErrReplay},
		{3, Bad, ErrReplay},
		{100, OK, nil},
		{37, OK, nil}, // Window-1 below the highest
		{37, Bad, ErrReplay},
		{36, Bad, ErrReplay}, // Window below the highest
		{4, Bad, ErrReplay},
		{101, OK, nil},
	}
	for i, st := range steps {
		r, err := verify(st.nc)
		if r != st.want || !errors.Is(err, st.err) {
			t.Errorf("step %d nc %d: %v, %v; want %v, %v", i, st.nc, r, err, st.want, st.err)
		}
	}
	// RFC 2069 answers carry no count: they pass while the nonce lives.
	noQOP, _ := Authorize(challengeWith(t, s, t0, SHA256, ""), bob, "REGISTER", ruri, nil, "", 0)
	for range 2 {
		if r, err := s.Verify(t0, noQOP, "REGISTER", ruri, nil, bob); r != OK {
			t.Errorf("RFC 2069 answer: %v, %v", r, err)
		}
	}
}

// The replay tracker stays within its bound under a flood of distinct
// nonces; the nonces it forgot are stale, never replayable.
func TestVerifyFlood(t *testing.T) {
	s := newServer()
	s.MaxNonces = 100
	s.NonceTTL = time.Hour
	var answers []header.Credentials
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		cr, _ := Authorize(challengeWith(t, s, now, MD5, QOPAuth), bob, "REGISTER", ruri, nil, "cn", 1)
		if r, err := s.Verify(now, cr, "REGISTER", ruri, nil, bob); r != OK {
			t.Fatalf("answer %d: %v, %v", i, r, err)
		}
		if s.Tracked() > 100 {
			t.Fatalf("%d nonces tracked, bound 100", s.Tracked())
		}
		answers = append(answers, cr)
	}
	if s.Tracked() != 100 {
		t.Errorf("%d tracked, want 100", s.Tracked())
	}
	now := t0.Add(time.Second)
	for i, cr := range answers {
		r, err := s.Verify(now, cr, "REGISTER", ruri, nil, bob)
		if i < 900 && (r != Stale || !errors.Is(err, ErrStale)) || i >= 900 && (r != Bad || !errors.Is(err, ErrReplay)) {
			t.Fatalf("replay of %d: %v, %v", i, r, err)
		}
	}
	// A forgotten nonce's client, told stale, carries on with a new one.
	fresh, _ := Authorize(challengeWith(t, s, now, MD5, QOPAuth), bob, "REGISTER", ruri, nil, "cn", 1)
	if r, err := s.Verify(now, fresh, "REGISTER", ruri, nil, bob); r != OK {
		t.Errorf("fresh nonce after the flood: %v, %v", r, err)
	}
	// Expired nonces leave the tracker.
	late := now.Add(2 * time.Hour)
	fresh, _ = Authorize(challengeWith(t, s, late, MD5, QOPAuth), bob, "REGISTER", ruri, nil, "cn", 1)
	if r, _ := s.Verify(late, fresh, "REGISTER", ruri, nil, bob); r != OK || s.Tracked() != 1 {
		t.Errorf("after expiry: %v, %d tracked", r, s.Tracked())
	}
}

// RFC 7616 §3.4.4: a hashed user name.
func TestVerifyUserHash(t *testing.T) {
	s := newServer()
	s.UserHash = true
	for _, alg := range allAlgorithms {
		ch := challengeWith(t, s, t0, alg, QOPAuth)
		cr, err := Authorize(ch, bob, "REGISTER", ruri, nil, "cn", 1)
		if err != nil || !cr.UserHash() || cr.Username() != UserHash(alg, "bob", s.Realm) {
			t.Fatalf("%v: %s, %v", alg, cr, err)
		}
		if r, err := s.Verify(t0, cr, "REGISTER", ruri, nil, bob); r != OK {
			t.Errorf("%v: %v, %v", alg, r, err)
		}
		cr2, _ := Authorize(ch, Credentials{Username: "alice", Password: "zanzibar"}, "REGISTER", ruri, nil, "cn", 2)
		if r, err := s.Verify(t0, cr2, "REGISTER", ruri, nil, bob); r != Bad || !errors.Is(err, ErrUsername) {
			t.Errorf("%v: other user: %v, %v", alg, r, err)
		}
	}
}

// RFC 7616 §3.5: rspauth proves the server knows the secret too.
func TestAuthenticationInfo(t *testing.T) {
	s := newServer()
	reqBody, respBody := []byte("request"), []byte("response")
	for _, alg := range allAlgorithms {
		for _, qop := range []string{QOPAuth, QOPAuthInt} {
			ch := challengeWith(t, s, t0, alg, qop)
			cr, _ := Authorize(ch, bob, "MESSAGE", ruri, reqBody, "cn", 1)
			if r, err := s.Verify(t0, cr, "MESSAGE", ruri, reqBody, bob); r != OK {
				t.Fatalf("%v %s: %v, %v", alg, qop, r, err)
			}
			info, err := s.AuthenticationInfo(cr, bob, respBody)
			if err != nil {
				t.Fatal(err)
			}
			var back header.AuthenticationInfo
			if err := back.Parse(string(info.AppendTo(nil))); err != nil || back != info {
				t.Errorf("round trip of %s: %v", info.AppendTo(nil), err)
			}
			if info.QOP() != qop || info.CNonce() != "cn" || len(info.RspAuth()) != alg.Size() {
				t.Errorf("%v %s: %s", alg, qop, info.AppendTo(nil))
			}
			if n, ok := info.NC(); !ok || n != 1 {
				t.Errorf("nc %d", n)
			}
			if err := VerifyRspAuth(info, cr, bob, respBody); err != nil {
				t.Errorf("%v %s: %v", alg, qop, err)
			}
			wrongBody := qop == QOPAuthInt
			if err := VerifyRspAuth(info, cr, bob, []byte("other")); (err != nil) != wrongBody {
				t.Errorf("%v %s other body: %v", alg, qop, err)
			}
			if err := VerifyRspAuth(info, cr, Credentials{Username: "bob", Password: "x"}, respBody); !errors.Is(err, ErrRspAuth) {
				t.Errorf("%v %s wrong secret: %v", alg, qop, err)
			}
		}
	}
	// No rspauth without a qop.
	cr, _ := Authorize(challengeWith(t, s, t0, MD5, ""), bob, "MESSAGE", ruri, nil, "", 0)
	if _, err := s.AuthenticationInfo(cr, bob, nil); !errors.Is(err, ErrQOP) {
		t.Errorf("no qop: %v", err)
	}
	if err := VerifyRspAuth(header.AuthenticationInfo{}, cr, bob, nil); !errors.Is(err, ErrRspAuth) {
		t.Errorf("absent rspauth: %v", err)
	}
}

func TestResultString(t *testing.T) {
	if OK.String() != "ok" || Stale.String() != "stale" || Bad.String() != "bad" || Result(9).String() != "bad" {
		t.Error("Result.String")
	}
}

// RFC 8760 §2.3: the server lists its challenges in its order of
// preference: strongest first by default, as configured with AsGiven.
func TestChallengeOrder(t *testing.T) {
	s := &Server{Realm: "r", Secret: []byte("0123456789abcdef"), Algorithms: []Algorithm{MD5, SHA256}}
	if got := s.Challenge(0, false, "")[0].Algorithm(); got != "SHA-256" {
		t.Errorf("default order starts with %s", got)
	}
	s.AsGiven = true
	if got := s.Challenge(0, false, "")[0].Algorithm(); got != "MD5" {
		t.Errorf("AsGiven order starts with %s", got)
	}
}
