package header

import (
	"slices"
	"testing"
)

// The RFC 7616 §3.9.1 SHA-256 example, folded as a SIP message would carry
// it.
const (
	rfc7616Challenge = "Digest\r\n    realm=\"http-auth@example.org\",\r\n    qop=\"auth, auth-int\",\r\n" +
		"    algorithm=SHA-256,\r\n    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n" +
		"    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
	rfc7616Credentials = "Digest username=\"Mufasa\",\r\n    realm=\"http-auth@example.org\",\r\n" +
		"    uri=\"/dir/index.html\",\r\n    algorithm=SHA-256,\r\n" +
		"    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n    nc=00000001,\r\n" +
		"    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n    qop=auth,\r\n" +
		"    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n" +
		"    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
)

var authorizationCases = []valueCase[Authorization]{
	{rfc: "RFC 3261 §20.7", in: "Digest username=\"Alice\", realm=\"atlanta.com\",\r\n nonce=\"84a4cc6f3082121f32b42a2187831a9e\",\r\n response=\"7587245234b3434cc3412213e5f113a5432\"",
		want: Authorization{Credentials{Scheme: "Digest",
			Params: `,username="Alice",realm="atlanta.com",nonce="84a4cc6f3082121f32b42a2187831a9e",response="7587245234b3434cc3412213e5f113a5432"`}},
		out: `Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", response="7587245234b3434cc3412213e5f113a5432"`},
	{rfc: "RFC 7616 §3.9.1 SHA-256", in: rfc7616Credentials,
		want: Authorization{Credentials{Scheme: "Digest",
			Params: `,username="Mufasa",realm="http-auth@example.org",uri="/dir/index.html",algorithm=SHA-256,` +
				`nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",nc=00000001,cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",` +
				`qop=auth,response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`}}},
	{rfc: "RFC 4475 regaut01 unknown scheme", in: " NoOneKnowsThisScheme opaque-data=here",
		want: Authorization{Credentials{Scheme: "NoOneKnowsThisScheme", Params: ",opaque-data=here"}},
		out:  "NoOneKnowsThisScheme opaque-data=here"},
	{rfc: "RFC 7617 §2 Basic token68", in: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		want: Authorization{Credentials{Scheme: "Basic", Token68: "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}}, out: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
	{rfc: "RFC 8898 Bearer token68", in: "Bearer mF_9.B5f-4.1JqM/+~",
		want: Authorization{Credentials{Scheme: "Bearer", Token68: "mF_9.B5f-4.1JqM/+~"}}},
	{rfc: "RFC 7235 §2.1 EQUAL with LWS", in: "digest  username = \"bob\" ,realm=\"b\"",
		want: Authorization{Credentials{Scheme: "digest", Params: `,username="bob",realm="b"`}}, out: `digest username="bob", realm="b"`},
	{rfc: "RFC 7235 §2.1 bare scheme", in: "Negotiate", want: Authorization{Credentials{Scheme: "Negotiate"}}},
	{rfc: "RFC 3261 §25.1 quoted-pair in a value", in: `Digest username="a\"b", realm="r"`,
		want: Authorization{Credentials{Scheme: "Digest", Params: `,username="a\"b",realm="r"`}}},
	{rfc: "RFC 3261 §25.1 fold inside a quoted value becomes a space", in: "Digest realm=\"a\r\n\tb\", nonce=\"n\"",
		want: Authorization{Credentials{Scheme: "Digest", Params: `,realm="a b",nonce="n"`}}, out: `Digest realm="a b", nonce="n"`},
	{rfc: "RFC 3261 §25.1 Digest needs params", in: "Digest", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 Digest has no token68", in: "Digest abc==", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty", in: "", err: ErrEmpty},
	{rfc: "RFC 3261 §25.1 param without value", in: "Digest realm", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty value", in: "Digest realm=", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty list element", in: "Digest realm=a,,nonce=b", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 trailing comma", in: "Digest realm=a,", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 unterminated quote", in: `Digest realm="a`, err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 LWS after scheme", in: "Digest,realm=a", err: ErrSyntax},
	{rfc: "RFC 7235 §2.1 token68 then junk", in: "Basic abc== def", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 EQUAL = SWS \"=\" SWS, so not a token68", in: "Basic abc= def",
		want: Authorization{Credentials{Scheme: "Basic", Params: ",abc=def"}}},
	{rfc: "RFC 3261 §25.1 value is a token or quoted-string", in: "Digest uri=sip:a@b", err: ErrSyntax},
}

func TestAuthorization(t *testing.T) { runCases(t, authorizationCases) }

var proxyAuthorizationCases = []valueCase[ProxyAuthorization]{
	{rfc: "RFC 3261 §20.28", in: "Digest username=\"Alice\", realm=\"atlanta.com\",\r\n nonce=\"c60f3082ee1212b402a21831ae\",\r\n response=\"245f23415f11432b3434341c022\"",
		want: ProxyAuthorization{Credentials{Scheme: "Digest",
			Params: `,username="Alice",realm="atlanta.com",nonce="c60f3082ee1212b402a21831ae",response="245f23415f11432b3434341c022"`}}},
	{rfc: "RFC 3261 §20.28 junk", in: "Digest =x", err: ErrSyntax},
}

func TestProxyAuthorization(t *testing.T) { runCases(t, proxyAuthorizationCases) }

var wwwAuthenticateCases = []valueCase[WWWAuthenticate]{
	{rfc: "RFC 3261 §20.44", in: "Digest realm=\"atlanta.com\",\r\n domain=\"sip:boxesbybob.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5",
		want: WWWAuthenticate{Challenge{Scheme: "Digest",
			Params: `,realm="atlanta.com",domain="sip:boxesbybob.com",qop="auth",nonce="f84f1cec41e6cbe5aea9c8e88d359",opaque="",stale=FALSE,algorithm=MD5`}},
		out: `Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`},
	{rfc: "RFC 7616 §3.9.1 SHA-256", in: rfc7616Challenge,
		want: WWWAuthenticate{Challenge{Scheme: "Digest",
			Params: `,realm="http-auth@example.org",qop="auth, auth-int",algorithm=SHA-256,nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`}}},
	{rfc: "RFC 8898 Bearer", in: `Bearer realm="atlanta.com", scope="sip", authz_server="https://as.example.com/token"`,
		want: WWWAuthenticate{Challenge{Scheme: "Bearer", Params: `,realm="atlanta.com",scope="sip",authz_server="https://as.example.com/token"`}}},
	{rfc: "RFC 3261 §20.44 junk", in: "Digest realm=\"a\" nonce=\"b\"", err: ErrSyntax},
}

func TestWWWAuthenticate(t *testing.T) { runCases(t, wwwAuthenticateCases) }

var proxyAuthenticateCases = []valueCase[ProxyAuthenticate]{
	{rfc: "RFC 3261 §20.27", in: "Digest realm=\"atlanta.com\",\r\n domain=\"sip:ss1.carrier.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5",
		want: ProxyAuthenticate{Challenge{Scheme: "Digest",
			Params: `,realm="atlanta.com",domain="sip:ss1.carrier.com",qop="auth",nonce="f84f1cec41e6cbe5aea9c8e88d359",opaque="",stale=FALSE,algorithm=MD5`}}},
	{rfc: "RFC 3261 §20.27 junk", in: "", err: ErrEmpty},
}

func TestProxyAuthenticate(t *testing.T) { runCases(t, proxyAuthenticateCases) }

var authenticationInfoCases = []valueCase[AuthenticationInfo]{
	{rfc: "RFC 3261 §20.6", in: `nextnonce="47364c23432d2e131a5fb210812c"`,
		want: AuthenticationInfo{Params: `,nextnonce="47364c23432d2e131a5fb210812c"`}, out: `nextnonce="47364c23432d2e131a5fb210812c"`},
	{rfc: "RFC 3261 §25.1 ainfo list", in: "qop=auth,\r\n rspauth=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", nc=00000001",
		want: AuthenticationInfo{Params: `,qop=auth,rspauth="6629fae49393a05397450978507c4ef1",cnonce="0a4f113b",nc=00000001`}},
	{rfc: "RFC 3261 §20.6 empty", in: " ", err: ErrEmpty},
	{rfc: "RFC 3261 §20.6 scheme is not allowed", in: `Digest nextnonce="a"`, err: ErrSyntax},
}

func TestAuthenticationInfo(t *testing.T) {
	runCases(t, authenticationInfoCases)
	a := ParseValueMust[AuthenticationInfo](t, authenticationInfoCases[1].in)
	if a.QOP() != "auth" || a.RspAuth() != "6629fae49393a05397450978507c4ef1" || a.CNonce() != "0a4f113b" || a.NextNonce() != "" {
		t.Errorf("accessors: %+v", a)
	}
	if nc, ok := a.NC(); nc != 1 || !ok {
		t.Errorf("NC = %d, %v", nc, ok)
	}
	if ParseValueMust[AuthenticationInfo](t, authenticationInfoCases[0].in).NextNonce() != "47364c23432d2e131a5fb210812c" {
		t.Error("NextNonce")
	}
}

func TestDigestCredentials(t *testing.T) {
	c := ParseValueMust[Authorization](t, rfc7616Credentials)
	if !c.IsDigest() {
		t.Error("IsDigest")
	}
	for _, f := range []struct{ name, got, want string }{
		{"Username", c.Username(), "Mufasa"},
		{"Realm", c.Realm(), "http-auth@example.org"},
		{"Nonce", c.Nonce(), "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"},
		{"URI", c.URI(), "/dir/index.html"},
		{"Response", c.Response(), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"Algorithm", c.Algorithm(), "SHA-256"},
		{"CNonce", c.CNonce(), "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"},
		{"Opaque", c.Opaque(), "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"},
		{"QOP", c.QOP(), "auth"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if nc, ok := c.NC(); nc != 1 || !ok {
		t.Errorf("NC = %d, %v", nc, ok)
	}
	if c.UserHash() {
		t.Error("UserHash")
	}
	// RFC 7616 §3.9.2: a hashed user name.
	h := ParseValueMust[Authorization](t, `Digest username="488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true`)
	if !h.UserHash() || h.Algorithm() != "SHA-512-256" {
		t.Errorf("UserHash %v Algorithm %q", h.UserHash(), h.Algorithm())
	}
	if _, ok := ParseValueMust[Authorization](t, "Digest nc=0000001").NC(); ok {
		t.Error("a 7-digit nc accepted")
	}
	if _, ok := ParseValueMust[Authorization](t, "Digest nc=0000000g").NC(); ok {
		t.Error("a non-hex nc accepted")
	}
	b := ParseValueMust[Authorization](t, "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
	if b.IsDigest() || !b.Scheme.Equal(SchemeBasic) || b.Username() != "" {
		t.Errorf("Basic: %+v", b)
	}
}

func TestDigestChallenge(t *testing.T) {
	c := ParseValueMust[WWWAuthenticate](t, rfc7616Challenge)
	if !c.IsDigest() || c.Realm() != "http-auth@example.org" || c.Nonce() != "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v" ||
		c.Algorithm() != "SHA-256" || c.QOP() != "auth, auth-int" {
		t.Errorf("accessors: %+v", c)
	}
	if o, ok := c.Opaque(); o != "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS" || !ok {
		t.Errorf("Opaque = %q, %v", o, ok)
	}
	if !c.HasQOP("auth") || !c.HasQOP("AUTH-INT") || c.HasQOP("auth-conf") {
		t.Error("HasQOP")
	}
	if got := slices.Collect(c.QOPOptions()); !slices.Equal(got, []string{"auth", "auth-int"}) {
		t.Errorf("QOPOptions = %q", got)
	}
	if c.Stale() || c.UserHash() || c.Charset() != "" || c.Domain() != "" {
		t.Error("absent fields")
	}
	r := ParseValueMust[ProxyAuthenticate](t, proxyAuthenticateCases[0].in)
	if r.Domain() != "sip:ss1.carrier.com" || r.Stale() {
		t.Errorf("Domain %q Stale %v", r.Domain(), r.Stale())
	}
	if o, ok := r.Opaque(); o != "" || !ok {
		t.Errorf("empty Opaque = %q, %v", o, ok)
	}
	s := ParseValueMust[WWWAuthenticate](t, `Digest realm="r", nonce="n", stale=TRUE, charset=UTF-8, userhash=true`)
	if !s.Stale() || s.Charset() != "UTF-8" || !s.UserHash() {
		t.Errorf("stale/charset/userhash: %+v", s)
	}
}

func TestAuthParams(t *testing.T) {
	var p AuthParams
	p = p.With("username", Quote("bob")).With("realm", Quote(`a "b"`)).With("nc", "00000001")
	if p != `,username="bob",realm="a \"b\"",nc=00000001` {
		t.Fatalf("With = %q", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Unquoted("REALM"); v != `a "b"` || !ok {
		t.Errorf("Unquoted = %q, %v", v, ok)
	}
	if v, ok := p.Get("nc"); v != "00000001" || !ok || !p.Has("Username") || p.Has("x") || p.Len() != 3 {
		t.Errorf("Get/Has/Len")
	}
	p = p.With("nc", "00000002").Without("username")
	if p != `,realm="a \"b\"",nc=00000002` {
		t.Errorf("With/Without = %q", p)
	}
	var names []string
	for n, v := range p.All() {
		names = append(names, n+"="+v)
	}
	if !slices.Equal(names, []string{`realm="a \"b\""`, "nc=00000002"}) {
		t.Errorf("All = %q", names)
	}
	if string(p.AppendTo(nil)) != `realm="a \"b\"", nc=00000002` {
		t.Errorf("AppendTo = %q", p.AppendTo(nil))
	}
	for _, bad := range []AuthParams{"realm=a", ",realm=a,", ", realm=a", ",realm=a b", ",realm"} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%q) = nil", bad)
		}
	}
	if AuthParams("").Validate() != nil {
		t.Error("empty list invalid")
	}
	cred := Authorization{Credentials{Scheme: SchemeDigest, Params: AuthParams("").With("username", Quote("bob"))}}
	if got := String(&cred); got != `Digest username="bob"` {
		t.Errorf("String = %q", got)
	}
	if cred.Credentials.String() != `Digest username="bob"` || (Challenge{Scheme: SchemeBearer, Token68: "x"}).String() != "Bearer x" {
		t.Error("String methods")
	}
}
