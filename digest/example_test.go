package digest_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
)

// A registrar challenges a REGISTER, the UA answers the strongest
// challenge, the registrar verifies the answer; the same answer replayed is
// refused, and an answer with a nonce past its lifetime is stale.
func Example() {
	registrar := &digest.Server{
		Realm:      "biloxi.example.com",
		Secret:     []byte("a secret of at least 16 random bytes"),
		Algorithms: []digest.Algorithm{digest.MD5, digest.SHA256},
		NonceTTL:   time.Minute,
	}
	var now effects.Time // the driver's clock, passed in

	// 401 Unauthorized with one WWW-Authenticate per algorithm.
	challenges := registrar.Challenge(now, false, "")
	for _, ch := range challenges {
		fmt.Println("WWW-Authenticate:", ch.Algorithm())
	}

	// The UA: credentials per realm from the application, cnonces from
	// the generator.
	ua := digest.Client{Lookup: func(realm string) (digest.Credentials, bool) {
		return digest.Credentials{Username: "bob", Password: "zanzibar"}, realm == "biloxi.example.com"
	}}
	gen := ident.Seeded(1)
	answers, err := ua.Answer(challenges, "REGISTER", "sip:biloxi.example.com", nil, gen)
	if err != nil {
		fmt.Println(err)
		return
	}
	auth := header.Authorization{Credentials: answers[0]}
	nc, _ := auth.NC()
	fmt.Println("Authorization:", auth.Username(), auth.Algorithm(), auth.QOP(), nc)

	// The registrar looks bob up (an effect its embedder answers) and
	// verifies.
	bob := digest.Credentials{Username: "bob", Password: "zanzibar"}
	now = now.Add(time.Second)
	result, err := registrar.Verify(now, auth.Credentials, "REGISTER", "sip:biloxi.example.com", nil, bob)
	fmt.Println(result, err)
	result, err = registrar.Verify(now, auth.Credentials, "REGISTER", "sip:biloxi.example.com", nil, bob)
	fmt.Println(result, err)

	// A later request reuses the nonce with the next count; past the
	// nonce's lifetime it is stale, and the next challenge says so.
	again, _, _ := ua.Reauthorize("biloxi.example.com", "REGISTER", "sip:biloxi.example.com", nil, gen)
	nc, _ = again.NC()
	result, err = registrar.Verify(now.Add(2*time.Minute), again, "REGISTER", "sip:biloxi.example.com", nil, bob)
	fmt.Println(nc, result, err)
	fmt.Println(registrar.Challenge(now.Add(2*time.Minute), true, "")[0].Stale())
	// Output:
	// WWW-Authenticate: SHA-256
	// WWW-Authenticate: MD5
	// Authorization: bob SHA-256 auth 1
	// ok <nil>
	// bad digest: replayed nonce count: count 1
	// 2 stale digest: stale nonce: issued 2m1s ago
	// true
}

// Compute a response by hand, as RFC 7616 §3.4.1 defines it (the §3.9.1
// example).
func ExampleResponse() {
	const nonce, cnonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	ha1 := digest.HA1(digest.SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", nonce, cnonce)
	ha2 := digest.HA2(digest.SHA256, "GET", "/dir/index.html", "auth", nil)
	fmt.Println(digest.Response(digest.SHA256, ha1, nonce, "00000001", cnonce, "auth", ha2))
	// Output:
	// 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1
}

// Choose among the challenges of a response.
func ExamplePick() {
	var chs []header.Challenge
	for _, s := range []string{
		`Digest realm="atlanta.example.com", nonce="84a4cc6f", algorithm=MD5, qop="auth"`,
		`Digest realm="atlanta.example.com", nonce="84a4cc6f", algorithm=SHA-512-256, qop="auth"`,
		`Digest realm="atlanta.example.com", nonce="84a4cc6f", algorithm=SHA3-256, qop="auth"`,
	} {
		var ch header.Challenge
		ch.Parse(s)
		chs = append(chs, ch)
	}
	best, _ := digest.Pick(chs)
	fmt.Println(best.Algorithm())
	// Output:
	// SHA-512-256
}
