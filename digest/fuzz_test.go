package digest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
)

func fuzzServer() *Server {
	return &Server{
		Realm:        "biloxi.example.com",
		Secret:       []byte("fuzz secret, fixed for the run.."),
		Algorithms:   allAlgorithms,
		QOP:          []string{QOPAuth, QOPAuthInt},
		AllowRFC2069: true,
		NonceTTL:     time.Minute,
		MaxNonces:    4,
	}
}

var fuzzBody = []byte("v=0\r\n")

// FuzzVerify parses arbitrary Authorization header text and verifies it
// against a fixed server, user and request: Verify never panics, and says
// OK only when the response is the right one for the parameters as sent,
// computed here independently with the exported functions; the same
// credentials with a qop are never OK twice.
func FuzzVerify(f *testing.F) {
	s := fuzzServer()
	for _, alg := range allAlgorithms {
		for _, qop := range []string{QOPAuth, QOPAuthInt, ""} {
			for _, ch := range s.Challenge(t0, false, "op") {
				if ch.Algorithm() != alg.String() {
					continue
				}
				if qop == "" {
					ch.Params = ch.Params.Without("qop")
				} else {
					ch.Params = ch.Params.With("qop", header.Quote(qop))
				}
				if alg == SHA256 {
					ch.Params = ch.Params.With("userhash", "true")
				}
				cr, err := Authorize(ch, bob, "INVITE", ruri, fuzzBody, "0a4f113b", 1)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(cr.String())
			}
		}
	}
	f.Add(`Digest username="bob", realm="biloxi.example.com", nonce="x", uri="sip:bob@biloxi.example.com", response="00"`)
	f.Add(`Basic Ym9iOnphbnppYmFy`)
	f.Fuzz(func(t *testing.T, text string) {
		var a header.Authorization
		if a.Parse(text) != nil {
			return
		}
		cred := a.Credentials
		s := fuzzServer()
		now := t0.Add(time.Second)
		r, err := s.Verify(now, cred, "INVITE", ruri, fuzzBody, bob)
		if (r == OK) != (err == nil) {
			t.Fatalf("result %v with error %v", r, err)
		}
		if r == Stale {
			t.Fatalf("stale at once: %v", err)
		}
		if r != OK {
			if s.Tracked() != 0 {
				t.Fatal("a refused answer was tracked")
			}
			return
		}
		// Independently: the response is the one these parameters give.
		alg, ok := ParseAlgorithm(cred.Algorithm())
		if !ok || cred.Realm() != s.Realm {
			t.Fatalf("OK with algorithm %q realm %q", cred.Algorithm(), cred.Realm())
		}
		if cred.UserHash() {
			if !strings.EqualFold(cred.Username(), UserHash(alg, "bob", s.Realm)) {
				t.Fatalf("OK with userhash %q", cred.Username())
			}
		} else if cred.Username() != "bob" {
			t.Fatalf("OK with username %q", cred.Username())
		}
		nc, _ := cred.Params.Unquoted("nc")
		ha1 := HA1(alg, "bob", s.Realm, "zanzibar", cred.Nonce(), cred.CNonce())
		ha2 := HA2(alg, "INVITE", cred.URI(), cred.QOP(), fuzzBody)
		want := Response(alg, ha1, cred.Nonce(), nc, cred.CNonce(), cred.QOP(), ha2)
		if !strings.EqualFold(cred.Response(), want) {
			t.Fatalf("OK with response %s, want %s", cred.Response(), want)
		}
		if cred.QOP() != "" {
			if r, _ := s.Verify(now, cred, "INVITE", ruri, fuzzBody, bob); r == OK {
				t.Fatal("replay accepted")
			}
		}
		if _, err := s.AuthenticationInfo(cred, bob, nil); err != nil && cred.QOP() != "" {
			t.Fatalf("AuthenticationInfo: %v", err)
		}
	})
}

// FuzzAuthorize answers arbitrary challenge text: Authorize never panics,
// and what it builds parses as an Authorization header field and carries
// the response its parameters give.
func FuzzAuthorize(f *testing.F) {
	for _, ch := range fuzzServer().Challenge(t0, true, "opaque") {
		f.Add(ch.String(), []byte("body"))
	}
	f.Add(`Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`, []byte(nil))
	f.Add(`Digest realm="a\"b", nonce="n", algorithm=md5-SESS, userhash=TRUE, qop="auth-int"`, []byte("x"))
	f.Fuzz(func(t *testing.T, text string, body []byte) {
		var w header.WWWAuthenticate
		if w.Parse(text) != nil {
			return
		}
		chs := []header.Challenge{w.Challenge, w.Challenge}
		Pick(chs)
		PickAll(chs)
		cr, err := Authorize(w.Challenge, bob, "MESSAGE", ruri, body, "cn", 1)
		if err != nil {
			return
		}
		var a header.Authorization
		if err := a.Parse(cr.String()); err != nil {
			t.Fatalf("%s does not parse: %v", cr, err)
		}
		if a.Credentials != cr {
			t.Fatalf("round trip: %s became %s", cr, a.Credentials)
		}
		alg, ok := ParseAlgorithm(w.Algorithm())
		if !ok {
			t.Fatalf("answered algorithm %q", w.Algorithm())
		}
		nc, _ := cr.Params.Unquoted("nc")
		ha1 := HA1(alg, "bob", w.Realm(), "zanzibar", w.Nonce(), cr.CNonce())
		ha2 := HA2(alg, "MESSAGE", ruri, cr.QOP(), body)
		if want := Response(alg, ha1, w.Nonce(), nc, cr.CNonce(), cr.QOP(), ha2); cr.Response() != want {
			t.Fatalf("response %s, want %s", cr.Response(), want)
		}
	})
}

// FuzzNonceCounts feeds a small tracker any sequence of uses: it never
// holds more than Max nonces, its index and heap agree, and no (nonce,
// count) is accepted twice.
func FuzzNonceCounts(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 1, 1, 1, 2, 5, 2, 9, 1, 3, 0, 200})
	f.Fuzz(func(t *testing.T, ops []byte) {
		c := NonceCounts{Max: 5}
		seen := map[string]bool{}
		for i := 0; i+3 <= len(ops); i += 3 {
			n, at, nc := ops[i]%16, effects.Time(ops[i+1]%32), uint32(ops[i+2])
			if ops[i] >= 240 {
				c.Expire(at)
				continue
			}
			// A nonce's issue time is part of it, as in a Server's.
			nonce := fmt.Sprint(n, "@", at)
			key := fmt.Sprint(nonce, "#", nc)
			if c.Use(nonce, at, nc) == nil {
				if seen[key] {
					t.Fatalf("%s accepted twice", key)
				}
				seen[key] = true
			}
			if c.Len() > 5 || len(c.index) != c.Len() {
				t.Fatalf("Len %d, index %d", c.Len(), len(c.index))
			}
		}
		checkHeap(t, &c)
	})
}
