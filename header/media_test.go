package header

import "testing"

var contentTypeCases = []valueCase[ContentType]{
	{rfc: "RFC 3261 §20.15", in: "application/sdp",
		want: ContentType{MediaType{Type: "application", Subtype: "sdp"}}, out: "application/sdp"},
	{rfc: "RFC 3261 §20.15 charset", in: `text/html; charset=ISO-8859-4`,
		want: ContentType{MediaType{Type: "text", Subtype: "html", Params: ";charset=ISO-8859-4"}}, out: "text/html;charset=ISO-8859-4"},
	{rfc: "RFC 4475 mpart01 boundary", in: " multipart/mixed;boundary=7a9cbec02ceef655",
		want: ContentType{MediaType{Type: "multipart", Subtype: "mixed", Params: ";boundary=7a9cbec02ceef655"}}},
	{rfc: "RFC 3261 §25.1 SLASH and EQUAL with LWS", in: "multipart/signed ;\r\n protocol = \"application/pkcs7-signature\" ; micalg=sha1",
		want: ContentType{MediaType{Type: "multipart", Subtype: "signed", Params: `;protocol="application/pkcs7-signature";micalg=sha1`}}},
	{rfc: "RFC 3261 §25.1 SLASH = SWS / SWS", in: "application \r\n / sdp",
		want: ContentType{MediaType{Type: "application", Subtype: "sdp"}}, out: "application/sdp"},
	{rfc: "RFC 4475 invut unknown type", in: "application/unknownformat",
		want: ContentType{MediaType{Type: "application", Subtype: "unknownformat"}}},
	{rfc: "RFC 3261 §20.15 no subtype", in: "application", err: ErrSyntax},
	{rfc: "RFC 3261 §20.15 empty subtype", in: "application/", err: ErrEmpty},
	{rfc: "RFC 3261 §20.15 empty", in: "", err: ErrEmpty},
	{rfc: "RFC 3261 §25.1 m-parameter needs a value", in: "multipart/mixed;boundary", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 m-value is token or quoted-string", in: "text/plain;x=[::1]", err: ErrSyntax},
	{rfc: "RFC 3261 §20.15 one media type", in: "application/sdp, text/plain", err: ErrSyntax},
	{rfc: "RFC 3261 §20.15 trailing ';'", in: "application/sdp;", err: ErrSyntax},
}

func TestContentType(t *testing.T) { runCases(t, contentTypeCases) }

var acceptCases = []valueCase[Accept]{
	{rfc: "RFC 3261 §20.1", in: "application/sdp;level=1",
		want: Accept{MediaType{Type: "application", Subtype: "sdp", Params: ";level=1"}}},
	{rfc: "RFC 3261 §20.1 any subtype", in: "application/*", want: Accept{MediaType{Type: "application", Subtype: "*"}}},
	{rfc: "RFC 3261 §20.1 any type with q", in: "*/*; q = 0.5", want: Accept{MediaType{Type: "*", Subtype: "*", Params: ";q=0.5"}}, out: "*/*;q=0.5"},
	{rfc: "RFC 4475 semiuri folded list element", in: "\r\n        multipart/mixed",
		want: Accept{MediaType{Type: "multipart", Subtype: "mixed"}}},
	{rfc: "RFC 4475 unksm2", in: "text/nobodyKnowsThis", want: Accept{MediaType{Type: "text", Subtype: "nobodyKnowsThis"}}},
	{rfc: "RFC 3261 §20.1 accept-param flag", in: "text/plain;x", want: Accept{MediaType{Type: "text", Subtype: "plain", Params: ";x"}}},
	{rfc: "RFC 3261 §20.1 junk", in: "text", err: ErrSyntax},
	{rfc: "RFC 3261 §20.1 empty element", in: "", err: ErrEmpty},
}

func TestAccept(t *testing.T) { runCases(t, acceptCases) }

func TestMediaTypeMatching(t *testing.T) {
	ct := ParseValueMust[ContentType](t, `Application/SDP; charset="utf-8"`)
	if !ct.Is("application", "sdp") || ct.Is("application", "pidf+xml") {
		t.Error("Is")
	}
	if ct.Charset() != "utf-8" || ct.Boundary() != "" {
		t.Errorf("Charset %q Boundary %q", ct.Charset(), ct.Boundary())
	}
	if v, ok := ct.Param("CHARSET"); v != "utf-8" || !ok {
		t.Errorf("Param = %q, %v", v, ok)
	}
	if ct.String() != `Application/SDP;charset="utf-8"` {
		t.Errorf("String = %q", ct.String())
	}
	for _, tc := range []struct {
		r    string
		want bool
	}{
		{"*/*", true}, {"application/*", true}, {"APPLICATION/*", true}, {"application/sdp", true},
		{"application/sdp;level=1", true}, {"text/*", false}, {"application/pidf+xml", false}, {"*/sdp", false},
	} {
		a := ParseValueMust[Accept](t, tc.r)
		if got := a.Accepts(ct.MediaType); got != tc.want {
			t.Errorf("%s accepts %s = %v", tc.r, ct, got)
		}
	}
	a := ParseValueMust[Accept](t, "application/sdp;q=0.8")
	if q, ok := a.Q(); q != 800 || !ok {
		t.Errorf("Q = %d, %v", q, ok)
	}
	mp := ParseValueMust[ContentType](t, `multipart/mixed;boundary="unique-boundary-1"`)
	if mp.Boundary() != "unique-boundary-1" {
		t.Errorf("Boundary = %q", mp.Boundary())
	}
}

var contentDispositionCases = []valueCase[ContentDisposition]{
	{rfc: "RFC 3261 §20.11", in: "session", want: ContentDisposition{Type: "session"}},
	{rfc: "RFC 3261 §20.11 handling", in: "session ;\r\n handling = optional",
		want: ContentDisposition{Type: "session", Params: ";handling=optional"}, out: "session;handling=optional"},
	{rfc: "RFC 3261 §20.11 render", in: "render;handling=required",
		want: ContentDisposition{Type: "render", Params: ";handling=required"}},
	{rfc: "RFC 3261 §20.11 junk", in: "session handling", err: ErrSyntax},
	{rfc: "RFC 3261 §20.11 empty", in: "", err: ErrEmpty},
}

func TestContentDisposition(t *testing.T) {
	runCases(t, contentDispositionCases)
	d := ParseValueMust[ContentDisposition](t, "Session")
	if d.Handling() != "required" || d.Optional() || !d.Is("session") {
		t.Errorf("default handling: %q %v", d.Handling(), d.Optional())
	}
	d = ParseValueMust[ContentDisposition](t, "icon;handling=OPTIONAL")
	if d.Handling() != "OPTIONAL" || !d.Optional() {
		t.Errorf("handling: %q %v", d.Handling(), d.Optional())
	}
}

var contentLanguageCases = []valueCase[ContentLanguage]{
	{rfc: "RFC 3261 §20.13", in: "fr", want: "fr"},
	{rfc: "RFC 3261 §20.13 subtag", in: " en-GB ", want: "en-GB", out: "en-GB"},
	{rfc: "RFC 5646 §2.1 digits in a subtag", in: "es-419", want: "es-419"},
	{rfc: "RFC 3261 §20.13 primary tag too long", in: "abcdefghi", err: ErrSyntax},
	{rfc: "RFC 3261 §20.13 digit in primary tag", in: "e1", err: ErrSyntax},
	{rfc: "RFC 3261 §20.13 empty subtag", in: "en-", err: ErrSyntax},
	{rfc: "RFC 3261 §20.13 empty", in: "", err: ErrEmpty},
}

func TestContentLanguage(t *testing.T) { runCases(t, contentLanguageCases) }

var acceptLanguageCases = []valueCase[AcceptLanguage]{
	{rfc: "RFC 3261 §20.3", in: "da", want: AcceptLanguage{Range: "da"}},
	{rfc: "RFC 3261 §20.3 q", in: "en-gb;q=0.8", want: AcceptLanguage{Range: "en-gb", Params: ";q=0.8"}},
	{rfc: "RFC 3261 §20.3 any", in: "* ; q = 0.1", want: AcceptLanguage{Range: "*", Params: ";q=0.1"}, out: "*;q=0.1"},
	{rfc: "RFC 3261 §20.3 junk", in: "en_GB", err: ErrSyntax},
	{rfc: "RFC 3261 §20.3 star in a tag", in: "en-*", err: ErrSyntax},
	{rfc: "RFC 3261 §20.3 empty", in: "", err: ErrEmpty},
}

func TestAcceptLanguage(t *testing.T) {
	runCases(t, acceptLanguageCases)
	if q, ok := ParseValueMust[AcceptLanguage](t, "en;q=0.7").Q(); q != 700 || !ok {
		t.Errorf("Q = %d, %v", q, ok)
	}
}

var acceptEncodingCases = []valueCase[AcceptEncoding]{
	{rfc: "RFC 3261 §20.2", in: "gzip", want: AcceptEncoding{Coding: "gzip"}},
	{rfc: "RFC 3261 §20.2 any with q", in: "*;q=0", want: AcceptEncoding{Coding: "*", Params: ";q=0"}},
	{rfc: "RFC 3261 §20.2 identity", in: " identity ; q=1.0 ", want: AcceptEncoding{Coding: "identity", Params: ";q=1.0"}, out: "identity;q=1.0"},
	{rfc: "RFC 3261 §20.2 junk", in: "gzip deflate", err: ErrSyntax},
	{rfc: "RFC 3261 §20.2 empty", in: "", err: ErrEmpty},
}

func TestAcceptEncoding(t *testing.T) {
	runCases(t, acceptEncodingCases)
	if q, ok := ParseValueMust[AcceptEncoding](t, "gzip;q=0.5").Q(); q != 500 || !ok {
		t.Errorf("Q = %d, %v", q, ok)
	}
}
