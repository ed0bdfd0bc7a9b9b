package digest

import (
	"crypto/sha512"
	"encoding/hex"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/header"
)

// The inputs of the RFC 7616 §3.9.1 example.
const (
	rfc7616User   = "Mufasa"
	rfc7616Pass   = "Circle of Life"
	rfc7616Realm  = "http-auth@example.org"
	rfc7616Nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
	rfc7616CNonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	rfc7616Opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
	rfc7616URI    = "/dir/index.html"

	// RFC 7616 §3.9.2.
	jasonUser   = "J\u00e4s\u00f8n Doe"
	jasonPass   = "Secret, or not?"
	jasonRealm  = "api@example.org"
	jasonNonce  = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK"
	jasonCNonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"
	jasonOpaque = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS"

	// RFC 2617 §3.5.
	rfc2617User   = "Mufasa"
	rfc2617Pass   = "Circle Of Life"
	rfc2617Realm  = "testrealm@host.com"
	rfc2617Nonce  = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
	rfc2617CNonce = "0a4f113b"
	rfc2617Opaque = "5ccc069c403ebaf9f0171e9517f40e41"
)

type vector struct {
	name              string
	alg               Algorithm
	user, pass, realm string
	nonce, cnonce, nc string
	qop, method, uri  string
	body              string
	want              string
}

// vectors are published examples and, marked "cross-check", values
// computed independently with Python's hashlib (OpenSSL) from the same
// formulas, for the cases the RFCs print no example of (the -sess forms,
// auth-int, RFC 2069 answers, SHA-512/256 on the §3.9.1 inputs).
var vectors = []vector{
	{name: "RFC 2617 §3.5 MD5 qop=auth", alg: MD5, user: rfc2617User, pass: rfc2617Pass, realm: rfc2617Realm,
		nonce: rfc2617Nonce, cnonce: rfc2617CNonce, nc: "00000001", qop: "auth", method: "GET", uri: "/dir/index.html",
		want: "6629fae49393a05397450978507c4ef1"},
	{name: "RFC 7616 §3.9.1 SHA-256", alg: SHA256, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	{name: "RFC 7616 §3.9.1 MD5", alg: MD5, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "8ca523f5e9506fed4657c9700eebdbec"},
	{name: "RFC 7616 §3.9.2 SHA-512-256 (FIPS 180-4 SHA-512/256, as corrected by the RFC's errata)", alg: SHA512_256,
		user: jasonUser, pass: jasonPass, realm: jasonRealm,
		nonce: jasonNonce, cnonce: jasonCNonce, nc: "00000001", qop: "auth", method: "GET", uri: "/doe.json",
		want: "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"},
	{name: "cross-check SHA-512-256 on §3.9.1 inputs", alg: SHA512_256, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0"},
	{name: "cross-check MD5-sess", alg: MD5Sess, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "e783283f46242139c486a698fec7211d"},
	{name: "cross-check SHA-256-sess", alg: SHA256Sess, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"},
	{name: "cross-check SHA-512-256-sess", alg: SHA512_256Sess, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000001", qop: "auth", method: "GET", uri: rfc7616URI,
		want: "3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e"},
	{name: "cross-check MD5 auth-int INVITE", alg: MD5, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000002", qop: "auth-int", method: "INVITE", uri: "sip:bob@example.org",
		body: "v=0\r\n", want: "3dbb0971468cf612bdccd7dff696c5e6"},
	{name: "cross-check SHA-256 auth-int INVITE", alg: SHA256, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000002", qop: "auth-int", method: "INVITE", uri: "sip:bob@example.org",
		body: "v=0\r\n", want: "21468b02aafd4fe0a3d84bfddaf3618cc087adff4bb3c92d0a5f99c3035fcb9a"},
	{name: "cross-check SHA-512-256 auth-int INVITE", alg: SHA512_256, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, cnonce: rfc7616CNonce, nc: "00000002", qop: "auth-int", method: "INVITE", uri: "sip:bob@example.org",
		body: "v=0\r\n", want: "959ca26f4f77c10a9a54b19ac24811fbc7f3c7bda8eec5d8521fb4586ed10e90"},
	{name: "cross-check MD5 without qop (RFC 2069)", alg: MD5, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, method: "GET", uri: rfc7616URI, want: "7b2cc3b30e75b4777ea31027084363fd"},
	{name: "cross-check SHA-256 without qop (RFC 2069)", alg: SHA256, user: rfc7616User, pass: rfc7616Pass, realm: rfc7616Realm,
		nonce: rfc7616Nonce, method: "GET", uri: rfc7616URI, want: "a1306b0595a6c7fe96c448631fb5cfbd5107bd1fe1da729d978dd7446b812363"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			ha1 := HA1(v.alg, v.user, v.realm, v.pass, v.nonce, v.cnonce)
			ha2 := HA2(v.alg, v.method, v.uri, v.qop, []byte(v.body))
			if got := Response(v.alg, ha1, v.nonce, v.nc, v.cnonce, v.qop, ha2); got != v.want {
				t.Errorf("Response = %s, want %s", got, v.want)
			}
			// The same from a stored HA1 instead of the password.
			stored := HA1(v.alg.Hash(), v.user, v.realm, v.pass, "", "")
			if got := SessionHA1(v.alg, stored, v.nonce, v.cnonce); got != ha1 {
				t.Errorf("SessionHA1 = %s, want %s", got, ha1)
			}
			// And through Authorize, as a client builds it.
			ch := challengeFor(v)
			nc := uint32(0)
			if v.nc != "" {
				n, _ := parseHex8(v.nc)
				nc = n
			}
			for _, c := range []Credentials{
				{Username: v.user, Password: v.pass},
				{Username: v.user, HA1: map[Algorithm]string{v.alg.Hash(): strings.ToUpper(stored)}},
			} {
				cred, err := Authorize(ch, c, v.method, v.uri, []byte(v.body), v.cnonce, nc)
				if err != nil {
					t.Fatal(err)
				}
				if cred.Response() != v.want {
					t.Errorf("Authorize response = %s, want %s", cred.Response(), v.want)
				}
			}
		})
	}
}

func parseHex8(s string) (uint32, bool) {
	var c header.Credentials
	c.Params = header.AuthParams(",nc=" + s)
	return c.NC()
}

// challengeFor is the challenge a server would have sent for v.
func challengeFor(v vector) header.Challenge {
	p := header.AuthParams("").With("realm", header.Quote(v.realm)).With("nonce", header.Quote(v.nonce)).
		With("algorithm", v.alg.String())
	if v.qop != "" {
		p = p.With("qop", header.Quote(v.qop))
	}
	return header.Challenge{Scheme: header.SchemeDigest, Params: p}
}

// RFC 7616 §3.9.2 prints a userhash and a response computed with SHA-512
// truncated to 256 bits, not with SHA-512/256 as §3.2 defines it (FIPS
// 180-4: other initial values); the RFC's errata correct them. The printed
// values come back with the truncated hash, the corrected ones with the
// real one.
func TestRFC7616Section392(t *testing.T) {
	const (
		printedUserHash = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
		printedResponse = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
		fipsUserHash    = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
		fipsResponse    = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
	)
	truncated := func(s string) string {
		h := sha512.Sum512([]byte(s))
		return hex.EncodeToString(h[:32])
	}
	if got := truncated(jasonUser + ":" + jasonRealm); got != printedUserHash {
		t.Errorf("truncated-SHA-512 userhash = %s, want the printed %s", got, printedUserHash)
	}
	ha1 := truncated(jasonUser + ":" + jasonRealm + ":" + jasonPass)
	ha2 := truncated("GET:/doe.json")
	if got := truncated(ha1 + ":" + jasonNonce + ":00000001:" + jasonCNonce + ":auth:" + ha2); got != printedResponse {
		t.Errorf("truncated-SHA-512 response = %s, want the printed %s", got, printedResponse)
	}

	if got := UserHash(SHA512_256, jasonUser, jasonRealm); got != fipsUserHash {
		t.Errorf("UserHash = %s, want %s", got, fipsUserHash)
	}
	// The whole answer to the §3.9.2 challenge, as the RFC shows it but
	// with the corrected digests.
	var ch header.WWWAuthenticate
	if err := ch.Parse("Digest\r\n realm=\"api@example.org\",\r\n qop=\"auth\",\r\n algorithm=SHA-512-256,\r\n" +
		" nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\",\r\n opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\",\r\n" +
		" charset=UTF-8,\r\n userhash=true"); err != nil {
		t.Fatal(err)
	}
	cred, err := Authorize(ch.Challenge, Credentials{Username: jasonUser, Password: jasonPass}, "GET", "/doe.json", nil, jasonCNonce, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"username": `"` + fipsUserHash + `"`, "realm": `"api@example.org"`, "uri": `"/doe.json"`,
		"algorithm": "SHA-512-256", "nonce": `"` + jasonNonce + `"`, "nc": "00000001",
		"cnonce": `"` + jasonCNonce + `"`, "qop": "auth", "response": `"` + fipsResponse + `"`,
		"opaque": `"` + jasonOpaque + `"`, "userhash": "true",
	}
	if diff := cmp.Diff(want, params(cred.Params)); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}
}

func params(p header.AuthParams) map[string]string {
	return maps.Collect(p.All())
}

// The Authorization header fields the RFCs print, rebuilt from their
// challenges.
func TestAuthorizeRFCExamples(t *testing.T) {
	tests := []struct {
		rfc        string
		challenge  string
		c          Credentials
		uri        string
		cnonce     string
		credential string
	}{
		{
			rfc: "RFC 7616 §3.9.1 SHA-256",
			challenge: "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=SHA-256,\r\n" +
				" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
			c: Credentials{Username: rfc7616User, Password: rfc7616Pass}, uri: rfc7616URI, cnonce: rfc7616CNonce,
			credential: "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n uri=\"/dir/index.html\",\r\n" +
				" algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n nc=00000001,\r\n" +
				" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n qop=auth,\r\n" +
				" response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n" +
				" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
		},
		{
			rfc: "RFC 7616 §3.9.1 MD5",
			challenge: "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=MD5,\r\n" +
				" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
			c: Credentials{Username: rfc7616User, Password: rfc7616Pass}, uri: rfc7616URI, cnonce: rfc7616CNonce,
			credential: "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n uri=\"/dir/index.html\",\r\n" +
				" algorithm=MD5,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n nc=00000001,\r\n" +
				" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n qop=auth,\r\n" +
				" response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n" +
				" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
		},
		{
			rfc: "RFC 2617 §3.5 (no algorithm in the challenge: none in the answer)",
			challenge: "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n" +
				" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
			c: Credentials{Username: rfc2617User, Password: rfc2617Pass}, uri: "/dir/index.html", cnonce: rfc2617CNonce,
			credential: "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n" +
				" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n qop=auth,\r\n" +
				" nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n response=\"6629fae49393a05397450978507c4ef1\",\r\n" +
				" opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.rfc, func(t *testing.T) {
			var ch header.WWWAuthenticate
			if err := ch.Parse(tt.challenge); err != nil {
				t.Fatal(err)
			}
			got, err := Authorize(ch.Challenge, tt.c, "GET", tt.uri, nil, tt.cnonce, 1)
			if err != nil {
				t.Fatal(err)
			}
			var want header.Authorization
			if err := want.Parse(tt.credential); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(params(want.Params), params(got.Params)); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
			// What we render parses back to the same.
			var back header.Authorization
			if err := back.Parse(got.String()); err != nil || back.Credentials != got {
				t.Errorf("round trip of %s: %v, %+v", got, err, back)
			}
		})
	}
}

// RFC 2617 §3.5's HA1, as a registrar would store it.
func TestStoredHA1(t *testing.T) {
	if got := HA1(MD5, rfc2617User, rfc2617Realm, rfc2617Pass, "", ""); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Errorf("HA1 = %s", got)
	}
}
