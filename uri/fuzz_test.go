package uri

import (
	"errors"
	"strings"
	"testing"
)

// rfcSeeds are the URIs of the RFC 4475 and RFC 5118 torture messages in
// ../testdata (request-URIs and the URIs of From, To, Contact and Route),
// extracted by hand, the malformed ones included.
var rfcSeeds = []string{
	// RFC 4475
	"sip:vivekg@chair-dnrc.example.com;unknownparam", // wsinv
	"sip:jdrosen@example.com",
	"sip:services.example.com;lr;unknownwith=value;unknown-no-value",
	"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com", // intmeth
	"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
	"sip:mundane@example.com",
	"sip:sips%3Auser%40example.com@example.net", // esc01
	"sip:I%20have%20spaces@example.net",
	"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	"sip:%75se%72@example.com",
	"sip:registrar.example.com", // esc02
	"sip:resource@example.com",
	"sip:alias1@host1.example.com",
	"sip:null-%00-null@example.com", // escnull
	"sip:%00@host5.example.com",
	"sip:%00%00@host5.example.com",
	"sip:user;par=u%40example.net@example.com", // semiuri
	"sip:amazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallername@example.net", // longreq
	"sip:user@example.com:6000;unknownparam1=verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglongvalue;longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename=shortvalue;verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglongParameterNameWithNoValue",
	"sip:user@example.com?Route=%3Csip:example.com%3E",     // escruri
	"sip:user@example.com?Route=%3Csip:sip.example.com%3E", // regescrt
	"sip:user@example.com;",                                // lwsruri
	"<sip:user@example.com>",                               // ltgtruri
	"sip:user@example.com SIP/2.0",                         // lwsruri
	"nobodyKnowsThisScheme:totallyopaquecontent",           // unkscm
	"soap.beep://192.0.2.103:3002",                         // novelsc
	"isbn:2983792873",                                      // unksm2
	"http://www.example.com",
	"name:John_Smith",
	"sip:+19725552222@gw1.example.net;unknownparam", // cparam01/02
	"sip:UserB@example.com;maddr=ss1.example.com",   // inv2543
	"sip:+13035551111@ift.client.example.net;user=phone",
	"sip:127.0.0.1:5080", // mpart01
	"sip:fluffy@127.0.0.1:5070",
	"sip:joe@example.org", // badinv01
	"sip:t.watson@example.org",
	"sip:j_user@example.com", // bext01
	"sip:caller@host39923.example.net",
	"sip:alan@jasomi.com", // test.dat
	// RFC 5118
	"sip:[2001:db8::10]",
	"sip:2001:db8::10",
	"sip:caller@[2001:db8::1]",
	"sip:[2001:db8::10:5070]",
	"sip:[2001:db8::10]:5070",
	"sip:user@[2001:db8:::192.0.2.1]",
	"sip:user@[2001:db8::192.0.2.1]",
	"sip:ted@[::ffff:192.0.2.2]",
	"sip:[::ffff:192.0.2.10]:19823",
	"sip:caller@[2001:db8::9:1]",
	"sip:[2001:db8::9:255]",
	"sip:user@host.example.net",
}

func fuzzSeeds() []string {
	seeds := append([]string(nil), rfcSeeds...)
	for _, tc := range parseCases {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range invalidCases {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range equalCases {
		seeds = append(seeds, tc.a, tc.b)
	}
	return seeds
}

// FuzzParse checks that Parse never panics, that its errors say where, and
// that whatever it accepts renders to text that parses back to the same
// URI, is equal to itself and validates.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(s) {
				t.Fatalf("Parse(%q): error %v without a valid offset", s, err)
			}
			return
		}
		r := u.String()
		v, err := Parse(r)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its rendering %q fails: %v", s, r, err)
		}
		if v != u {
			t.Fatalf("Parse(%q) = %#v, but Parse(%q) = %#v", s, u, r, v)
		}
		if want := normalized(s, u); r != want {
			t.Fatalf("Parse(%q) renders as %q, want %q: text was lost or changed", s, r, want)
		}
		if r2 := v.String(); r2 != r {
			t.Fatalf("rendering is not stable: %q then %q", r, r2)
		}
		if !Equal(u, u) {
			t.Fatalf("Equal(%q, itself) = false", s)
		}
		if err := u.Validate(); err != nil {
			t.Fatalf("Validate(%q): %v", s, err)
		}
		// Accessors never panic on a parsed URI.
		_, _ = u.DecodedUser()
		_, _ = u.Addr()
		_ = u.HostPort() + u.Hostname() + u.Transport() + u.SchemeName()
		for n := range u.Params.All() {
			if !u.Params.Has(n) {
				t.Fatalf("%q: parameter %q from All() not found by Has", s, n)
			}
		}
		if u.IsSIP() && !ValidHost(u.Host) {
			t.Fatalf("%q: parsed host %q is not ValidHost", s, u.Host)
		}
	})
}

// FuzzEqual checks that Equal never panics and is symmetric.
func FuzzEqual(f *testing.F) {
	for _, tc := range equalCases {
		f.Add(tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ua, err := Parse(a)
		if err != nil {
			return
		}
		ub, err := Parse(b)
		if err != nil {
			return
		}
		if Equal(ua, ub) != Equal(ub, ua) {
			t.Fatalf("Equal(%q, %q) = %v but Equal(%q, %q) = %v", a, b, Equal(ua, ub), b, a, Equal(ub, ua))
		}
		if Identical(ua, ub) && !Equal(ua, ub) {
			t.Fatalf("identical URIs %q and %q are not Equal", a, b)
		}
	})
}

// FuzzUnescape checks that Unescape never panics and undoes every escaping
// helper, and that what the helpers produce parses in its place.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"", "alice", "a b@c", "%", "%4", "%41", "%zz", "v%61lue%25%34%31", "null-%00-null", "\x00\xff", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := Unescape(s); err == nil {
			if len(d) > len(s) {
				t.Fatalf("Unescape(%q) = %q grew", s, d)
			}
			// Re-escaping a decoded string and decoding it again is
			// the identity on the decoded string.
			if d2, err := Unescape(EscapeParam(d)); err != nil || d2 != d {
				t.Fatalf("Unescape(EscapeParam(%q)) = %q, %v", d, d2, err)
			}
		} else if !errors.Is(err, ErrEscape) {
			t.Fatalf("Unescape(%q): %v is not ErrEscape", s, err)
		}
		for name, esc := range map[string]func(string) string{
			"EscapeUser": EscapeUser, "EscapePassword": EscapePassword,
			"EscapeParam": EscapeParam, "EscapeHeader": EscapeHeader,
		} {
			e := esc(s)
			if d, err := Unescape(e); err != nil || d != s {
				t.Fatalf("Unescape(%s(%q)) = %q, %v", name, s, d, err)
			}
		}
		if s == "" {
			return
		}
		in := "sip:" + EscapeUser(s) + ":" + EscapePassword(s) + "@h;" + EscapeParam(s) + "=" + EscapeParam(s) + "?" + EscapeHeader(s) + "=" + EscapeHeader(s)
		u, err := Parse(in)
		if err != nil {
			t.Fatalf("escaped %q does not parse: %q: %v", s, in, err)
		}
		if d, _ := u.DecodedUser(); d != s {
			t.Fatalf("user of %q decodes to %q", in, d)
		}
	})
}

// normalized returns the text s that parsed into u as String() must render
// it: components are kept as written, so only the spellings that URI
// cannot hold change: the scheme's case for sip, sips and tel, the ':' of
// an empty password, and leading zeros of a port.
func normalized(s string, u URI) string {
	if u.Scheme == Absolute {
		return s
	}
	colon := strings.IndexByte(s, ':')
	rest := s[colon+1:]
	out := u.Scheme.String() + ":"
	if u.Scheme == Tel {
		return out + rest
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		if strings.HasSuffix(userinfo, ":") {
			userinfo = userinfo[:len(userinfo)-1]
		}
		out += userinfo + "@"
		rest = rest[at+1:]
	}
	out += u.Host
	rest = rest[len(u.Host):]
	if u.Port != 0 {
		digits := strings.TrimLeft(rest[1:], "0")
		rest = ":" + digits
	}
	return out + rest
}
