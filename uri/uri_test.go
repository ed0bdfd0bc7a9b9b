package uri

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseCases are valid URIs with every component they must parse into.
// Unless render says otherwise, String() must give the input back.
var parseCases = []struct {
	ref    string // where the example comes from
	in     string
	want   URI
	render string // String() when it differs from in (non-canonical input)
}{
	// RFC 3261 §19.1.3, every example.
	{ref: "RFC 3261 §19.1.3", in: "sip:alice@atlanta.com",
		want: URI{Scheme: SIP, User: "alice", Host: "atlanta.com"}},
	{ref: "RFC 3261 §19.1.3", in: "sip:alice:secretword@atlanta.com;transport=tcp",
		want: URI{Scheme: SIP, User: "alice", Password: "secretword", Host: "atlanta.com", Params: ";transport=tcp"}},
	{ref: "RFC 3261 §19.1.3", in: "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
		want: URI{Scheme: SIPS, User: "alice", Host: "atlanta.com", Headers: "subject=project%20x&priority=urgent"}},
	{ref: "RFC 3261 §19.1.3", in: "sip:+1-212-555-1212:1234@gateway.com;user=phone",
		want: URI{Scheme: SIP, User: "+1-212-555-1212", Password: "1234", Host: "gateway.com", Params: ";user=phone"}},
	{ref: "RFC 3261 §19.1.3", in: "sips:1212@gateway.com",
		want: URI{Scheme: SIPS, User: "1212", Host: "gateway.com"}},
	{ref: "RFC 3261 §19.1.3", in: "sip:alice@192.0.2.4",
		want: URI{Scheme: SIP, User: "alice", Host: "192.0.2.4"}},
	{ref: "RFC 3261 §19.1.3", in: "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
		want: URI{Scheme: SIP, Host: "atlanta.com", Params: ";method=REGISTER", Headers: "to=alice%40atlanta.com"}},
	{ref: "RFC 3261 §19.1.3", in: "sip:alice;day=tuesday@atlanta.com",
		want: URI{Scheme: SIP, User: "alice;day=tuesday", Host: "atlanta.com"}},

	// RFC 3261 §19.1.4 and §25.1 corners.
	{ref: "RFC 3261 §19.1.4", in: "sip:carol@chicago.com;security=on;transport=tcp;method=REFER?Subject=next%20meeting",
		want: URI{Scheme: SIP, User: "carol", Host: "chicago.com", Params: ";security=on;transport=tcp;method=REFER", Headers: "Subject=next%20meeting"}},
	{ref: "RFC 3261 §19.1.4", in: "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		want: URI{Scheme: SIP, Host: "biloxi.com", Params: ";transport=tcp;method=REGISTER", Headers: "to=sip:bob%40biloxi.com"}},
	{ref: "RFC 3261 §25.1 port", in: "sip:bob@biloxi.com:5060",
		want: URI{Scheme: SIP, User: "bob", Host: "biloxi.com", Port: 5060}},
	{ref: "RFC 3261 §25.1 port", in: "sip:bob@biloxi.com:65535",
		want: URI{Scheme: SIP, User: "bob", Host: "biloxi.com", Port: 65535}},
	{ref: "RFC 3261 §25.1 port, leading zeros", in: "sip:bob@biloxi.com:05060",
		want: URI{Scheme: SIP, User: "bob", Host: "biloxi.com", Port: 5060}, render: "sip:bob@biloxi.com:5060"},
	{ref: "RFC 3261 §25.1 scheme case", in: "SIP:bob@BILOXI.com",
		want: URI{Scheme: SIP, User: "bob", Host: "BILOXI.com"}, render: "sip:bob@BILOXI.com"},
	{ref: "RFC 3261 §25.1 sips scheme case", in: "SiPs:bob@biloxi.com",
		want: URI{Scheme: SIPS, User: "bob", Host: "biloxi.com"}, render: "sips:bob@biloxi.com"},
	{ref: "RFC 3261 §25.1 toplabel with trailing dot", in: "sip:bob@biloxi.com.",
		want: URI{Scheme: SIP, User: "bob", Host: "biloxi.com."}},
	{ref: "RFC 3261 §25.1 single label", in: "sip:localhost:5070",
		want: URI{Scheme: SIP, Host: "localhost", Port: 5070}},
	{ref: "RFC 3261 §25.1 hyphenated label", in: "sip:a-b.c-d.example",
		want: URI{Scheme: SIP, Host: "a-b.c-d.example"}},
	{ref: "RFC 3261 §25.1 IPv4 leading zeros", in: "sip:192.000.002.004",
		want: URI{Scheme: SIP, Host: "192.000.002.004"}},
	{ref: "RFC 3261 §25.1 empty password", in: "sip:alice:@atlanta.com",
		want: URI{Scheme: SIP, User: "alice", Host: "atlanta.com"}, render: "sip:alice@atlanta.com"},
	{ref: "RFC 3261 §25.1 flag and valued params", in: "sip:proxy.example.com;lr;maddr=239.255.255.1;ttl=15",
		want: URI{Scheme: SIP, Host: "proxy.example.com", Params: ";lr;maddr=239.255.255.1;ttl=15"}},
	{ref: "RFC 3261 §25.1 param-unreserved", in: "sip:h;a=[::1]/:&+$;b-_.!~*'()=%20",
		want: URI{Scheme: SIP, Host: "h", Params: ";a=[::1]/:&+$;b-_.!~*'()=%20"}},
	{ref: "RFC 3261 §25.1 hnv-unreserved, empty hvalue", in: "sip:h?a=[]/?:+$&b=",
		want: URI{Scheme: SIP, Host: "h", Headers: "a=[]/?:+$&b="}},
	{ref: "RFC 3261 §25.1 user with '?' and '/'", in: "sip:a?b/c@h",
		want: URI{Scheme: SIP, User: "a?b/c", Host: "h"}},
	{ref: "RFC 3261 §25.1 unescaped '@' ends the user", in: "sip:host;a=b?x=y@z",
		want: URI{Scheme: SIP, User: "host;a=b?x=y", Host: "z"}},

	// RFC 4475.
	{ref: "RFC 4475 §3.1.1.2 intmeth", in: "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
		want: URI{Scheme: SIP, User: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", Password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", Host: "example.com"}},
	{ref: "RFC 4475 §3.1.1.2 intmeth To", in: "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
		want: URI{Scheme: SIP, User: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", Host: "example.com"}},
	{ref: "RFC 4475 §3.1.1.3 esc01 R-URI", in: "sip:sips%3Auser%40example.com@example.net",
		want: URI{Scheme: SIP, User: "sips%3Auser%40example.com", Host: "example.net"}},
	{ref: "RFC 4475 §3.1.1.3 esc01 Contact", in: "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
		want: URI{Scheme: SIP, User: "cal%6Cer", Host: "host5.example.net", Params: ";%6C%72;n%61me=v%61lue%25%34%31"}},
	{ref: "RFC 4475 §3.1.1.3 esc01 From", in: "sip:I%20have%20spaces@example.net",
		want: URI{Scheme: SIP, User: "I%20have%20spaces", Host: "example.net"}},
	{ref: "RFC 4475 §3.1.1.3 esc01 To", in: "sip:%75se%72@example.com",
		want: URI{Scheme: SIP, User: "%75se%72", Host: "example.com"}},
	{ref: "RFC 4475 §3.1.1.4 escnull", in: "sip:null-%00-null@example.com",
		want: URI{Scheme: SIP, User: "null-%00-null", Host: "example.com"}},
	{ref: "RFC 4475 §3.1.1.4 escnull Contact", in: "sip:%00@host5.example.com",
		want: URI{Scheme: SIP, User: "%00", Host: "host5.example.com"}},
	{ref: "RFC 4475 §3.1.1.4 escnull Contact", in: "sip:%00%00@host5.example.com",
		want: URI{Scheme: SIP, User: "%00%00", Host: "host5.example.com"}},
	{ref: "RFC 4475 §3.1.1.9 semiuri", in: "sip:user;par=u%40example.net@example.com",
		want: URI{Scheme: SIP, User: "user;par=u%40example.net", Host: "example.com"}},
	{ref: "RFC 4475 §3.1.1.1 wsinv", in: "sip:vivekg@chair-dnrc.example.com;unknownparam",
		want: URI{Scheme: SIP, User: "vivekg", Host: "chair-dnrc.example.com", Params: ";unknownparam"}},
	{ref: "RFC 4475 §3.1.1.1 wsinv Route", in: "sip:services.example.com;lr;unknownwith=value;unknown-no-value",
		want: URI{Scheme: SIP, Host: "services.example.com", Params: ";lr;unknownwith=value;unknown-no-value"}},
	{ref: "RFC 4475 §3.1.1.7 longreq", in: "sip:user@example.com:6000;unknownparam1=verylonglonglonglonglonglonglongvalue;longparamnamenamenamename=shortvalue;verylonglonglongParameterNameWithNoValue",
		want: URI{Scheme: SIP, User: "user", Host: "example.com", Port: 6000, Params: ";unknownparam1=verylonglonglonglonglonglonglongvalue;longparamnamenamenamename=shortvalue;verylonglonglongParameterNameWithNoValue"}},
	{ref: "RFC 4475 §3.1.2.4 escruri", in: "sip:user@example.com?Route=%3Csip:example.com%3E",
		want: URI{Scheme: SIP, User: "user", Host: "example.com", Headers: "Route=%3Csip:example.com%3E"}},
	{ref: "RFC 4475 §3.1.1.13 cparam02", in: "sip:+19725552222@gw1.example.net;unknownparam",
		want: URI{Scheme: SIP, User: "+19725552222", Host: "gw1.example.net", Params: ";unknownparam"}},
	{ref: "RFC 4475 §3.3.3 inv2543", in: "sip:UserB@example.com;maddr=ss1.example.com",
		want: URI{Scheme: SIP, User: "UserB", Host: "example.com", Params: ";maddr=ss1.example.com"}},
	{ref: "RFC 4475 §3.1.1.11 mpart01", in: "sip:fluffy@127.0.0.1:5070",
		want: URI{Scheme: SIP, User: "fluffy", Host: "127.0.0.1", Port: 5070}},
	{ref: "RFC 4475 §3.1.1.12 unkscm", in: "nobodyKnowsThisScheme:totallyopaquecontent",
		want: URI{Scheme: Absolute, Opaque: "nobodyKnowsThisScheme:totallyopaquecontent"}},
	{ref: "RFC 4475 §3.1.1.12 unkscm (brief)", in: "nobodyKnowsThisScheme:totallyopaque",
		want: URI{Scheme: Absolute, Opaque: "nobodyKnowsThisScheme:totallyopaque"}},
	{ref: "RFC 4475 §3.1.1.11 novelsc", in: "soap.beep://192.0.2.103:3002",
		want: URI{Scheme: Absolute, Opaque: "soap.beep://192.0.2.103:3002"}},
	{ref: "RFC 4475 §3.1.1.13 unksm2", in: "isbn:2983792873",
		want: URI{Scheme: Absolute, Opaque: "isbn:2983792873"}},
	{ref: "RFC 4475 §3.1.1.13 unksm2", in: "http://www.example.com",
		want: URI{Scheme: Absolute, Opaque: "http://www.example.com"}},
	{ref: "RFC 4475 §3.1.1.13 unksm2", in: "name:John_Smith",
		want: URI{Scheme: Absolute, Opaque: "name:John_Smith"}},
	{ref: "RFC 3261 §25.1 absoluteURI with query and escapes", in: "mailto:bob%40example.com?subject=hi",
		want: URI{Scheme: Absolute, Opaque: "mailto:bob%40example.com?subject=hi"}},

	// RFC 5118.
	{ref: "RFC 5118 §4.1 ipv6-good", in: "sip:[2001:db8::10]",
		want: URI{Scheme: SIP, Host: "[2001:db8::10]"}},
	{ref: "RFC 5118 §4.4 port-unambiguous", in: "sip:[2001:db8::10]:5070",
		want: URI{Scheme: SIP, Host: "[2001:db8::10]", Port: 5070}},
	{ref: "RFC 5118 §4.3 port-ambiguous", in: "sip:[2001:db8::10:5070]",
		want: URI{Scheme: SIP, Host: "[2001:db8::10:5070]"}},
	{ref: "RFC 5118 §4.10 ipv6-bug-abnf-3-colons", in: "sip:user@[2001:db8:::192.0.2.1]",
		want: URI{Scheme: SIP, User: "user", Host: "[2001:db8:::192.0.2.1]"}},
	{ref: "RFC 5118 §4.10 ipv6-correct-abnf-2-colons", in: "sip:user@[2001:db8::192.0.2.1]",
		want: URI{Scheme: SIP, User: "user", Host: "[2001:db8::192.0.2.1]"}},
	{ref: "RFC 5118 §4.10 three colons, empty hexseq", in: "sip:[:::192.0.2.1]",
		want: URI{Scheme: SIP, Host: "[:::192.0.2.1]"}},
	{ref: "RFC 5118 §4.11 ipv4-mapped-ipv6", in: "sip:ted@[::ffff:192.0.2.2]",
		want: URI{Scheme: SIP, User: "ted", Host: "[::ffff:192.0.2.2]"}},
	{ref: "RFC 5118 §4.11 mapped with port", in: "sip:[::ffff:192.0.2.10]:19823",
		want: URI{Scheme: SIP, Host: "[::ffff:192.0.2.10]", Port: 19823}},
	{ref: "RFC 5118 §4.9 mult-ip-in-sdp", in: "sip:caller@[2001:db8::9:1]",
		want: URI{Scheme: SIP, User: "caller", Host: "[2001:db8::9:1]"}},
	{ref: "RFC 4291 §2.2 full form", in: "sips:[2001:0DB8:0000:0000:0008:0800:200C:417A]:5061;transport=tls",
		want: URI{Scheme: SIPS, Host: "[2001:0DB8:0000:0000:0008:0800:200C:417A]", Port: 5061, Params: ";transport=tls"}},
	{ref: "RFC 4291 §2.2 unspecified", in: "sip:[::]",
		want: URI{Scheme: SIP, Host: "[::]"}},

	// RFC 3966.
	{ref: "RFC 3966 §6 global", in: "tel:+1-201-555-0123",
		want: URI{Scheme: Tel, User: "+1-201-555-0123"}},
	{ref: "RFC 3966 §6 local, domain context", in: "tel:7042;phone-context=example.com",
		want: URI{Scheme: Tel, User: "7042", Params: ";phone-context=example.com"}},
	{ref: "RFC 3966 §6 local, global context", in: "tel:863-1234;phone-context=+1-914-555",
		want: URI{Scheme: Tel, User: "863-1234", Params: ";phone-context=+1-914-555"}},
	{ref: "RFC 3966 §3 ext and isub", in: "tel:+1-201-555-0123;ext=1234;isub=abc%20d",
		want: URI{Scheme: Tel, User: "+1-201-555-0123", Params: ";ext=1234;isub=abc%20d"}},
	{ref: "RFC 3966 §3 local hex, * and #", in: "tel:*21#;phone-context=+44",
		want: URI{Scheme: Tel, User: "*21#", Params: ";phone-context=+44"}},
	{ref: "RFC 3966 §3 separators", in: "TEL:+(1).201",
		want: URI{Scheme: Tel, User: "+(1).201"}, render: "tel:+(1).201"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("%s: Parse(%q): %v", tc.ref, tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: Parse(%q) (-want +got):\n%s", tc.ref, tc.in, diff)
			}
			render := tc.render
			if render == "" {
				render = tc.in
			}
			if s := got.String(); s != render {
				t.Errorf("%s: String() = %q, want %q", tc.ref, s, render)
			}
			if s := string(got.AppendTo([]byte("x"))); s != "x"+render {
				t.Errorf("%s: AppendTo = %q", tc.ref, s)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("%s: Validate: %v", tc.ref, err)
			}
			if !Equal(got, got) {
				t.Errorf("%s: Equal(u, u) is false", tc.ref)
			}
		})
	}
}

// TestParseRFC4475Decoding checks the decoded forms RFC 4475 asks for.
func TestParseRFC4475Decoding(t *testing.T) {
	for _, tc := range []struct {
		ref, in, user, password string
	}{
		{"RFC 4475 §3.1.1.2 intmeth", "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
			"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"},
		{"RFC 4475 §3.1.1.3 esc01", "sip:sips%3Auser%40example.com@example.net", "sips:user@example.com", ""},
		{"RFC 4475 §3.1.1.3 esc01", "sip:%75se%72@example.com", "user", ""},
		{"RFC 4475 §3.1.1.3 esc01", "sip:I%20have%20spaces@example.net", "I have spaces", ""},
		{"RFC 4475 §3.1.1.4 escnull", "sip:null-%00-null@example.com", "null-\x00-null", ""},
		{"RFC 4475 §3.1.1.4 escnull", "sip:%00@host5.example.com", "\x00", ""},
		{"RFC 4475 §3.1.1.4 escnull", "sip:%00%00@host5.example.com", "\x00\x00", ""},
		{"RFC 4475 §3.1.1.9 semiuri", "sip:user;par=u%40example.net@example.com", "user;par=u@example.net", ""},
	} {
		u, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tc.ref, tc.in, err)
		}
		user, err := u.DecodedUser()
		if err != nil || user != tc.user {
			t.Errorf("%s: DecodedUser() = %q, %v; want %q", tc.ref, user, err, tc.user)
		}
		pass, err := Unescape(u.Password)
		if err != nil || pass != tc.password {
			t.Errorf("%s: password = %q, %v; want %q", tc.ref, pass, err, tc.password)
		}
	}

	// esc01 Contact: the params decode once, names included.
	u, err := Parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := u.Params.Decoded("name"); !ok || err != nil || v != "value%41" {
		t.Errorf("RFC 4475 esc01: Decoded(name) = %q, %v, %v; want value%%41", v, ok, err)
	}
	if v, ok := u.Params.Get("name"); !ok || v != "v%61lue%25%34%31" {
		t.Errorf("RFC 4475 esc01: Get(name) = %q, %v", v, ok)
	}
	if !u.Params.Has("lr") || !u.Params.Has("LR") || !u.Params.Has("%6c%72") {
		t.Errorf("RFC 4475 esc01: the %%6C%%72 flag is lr")
	}
	if u.Params.Has("l") || u.Params.Has("nam") || u.Params.Has("%6C") {
		t.Errorf("RFC 4475 esc01: prefix of a name matched")
	}
	if n := u.Params.Len(); n != 2 {
		t.Errorf("Params.Len() = %d, want 2", n)
	}
	if user, _ := u.DecodedUser(); user != "caller" {
		t.Errorf("RFC 4475 esc01: user = %q", user)
	}
}

// invalidCases must fail to parse with the given sentinel.
var invalidCases = []struct {
	ref string
	in  string
	err error
}{
	{"empty", "", ErrScheme},
	{"no scheme", "alice@atlanta.com", ErrScheme},
	{"no scheme, colon first", ":alice@atlanta.com", ErrScheme},
	{"scheme starts with a digit", "1sip:alice@atlanta.com", ErrScheme},
	{"bad scheme char", "si_p:alice@atlanta.com", ErrScheme},
	{"RFC 4475 §3.1.2.5 ltgtruri", "<sip:user@example.com>", ErrScheme},
	{"sip, nothing else", "sip:", ErrHost},
	{"absolute, nothing after colon", "http:", ErrSyntax},
	{"absolute with space", "http://www.example.com/a b", ErrSyntax},
	{"absolute with bad escape", "http://www.example.com/%2", ErrSyntax},
	{"absolute with '<'", "urn:<x>", ErrSyntax},
	{"escape cut short", "sip:a%2@b", ErrUser},
	{"escape not hex", "sip:a%zz@b", ErrUser},
	{"escape at end of user", "sip:a%@b", ErrUser},
	{"escape in password", "sip:a:b%g0@b", ErrUser},
	{"escape in param", "sip:b;x=%4", ErrParam},
	{"escape in header", "sip:b?x=%4g", ErrHeader},
	{"empty user", "sip:@atlanta.com", ErrUser},
	{"empty user with password", "sip::pw@atlanta.com", ErrUser},
	{"colon in password", "sip:a:b:c@atlanta.com", ErrUser},
	{"'<' in user", "sip:a<b@atlanta.com", ErrUser},
	{"two '@'", "sip:a@b@c", ErrSyntax},
	{"empty host after user", "sip:alice@", ErrHost},
	{"empty host before port", "sip::5060", ErrHost},
	{"underscore in host", "sip:alice@atl_anta.com", ErrSyntax},
	{"host starts with dot", "sip:.atlanta.com", ErrHost},
	{"empty label", "sip:atlanta..com", ErrHost},
	{"label starts with hyphen", "sip:-atlanta.com", ErrHost},
	{"label ends with hyphen", "sip:atlanta-.com", ErrHost},
	{"toplabel ends with hyphen", "sip:atlanta.com-", ErrHost},
	{"non-ASCII host", "sip:bücher.example", ErrSyntax},
	{"numeric host, three parts", "sip:192.0.2", ErrHost},
	{"numeric host, five parts", "sip:192.0.2.4.5", ErrHost},
	{"IPv4 octet over 255", "sip:192.0.2.256", ErrHost},
	{"IPv4 octet with four digits", "sip:192.0.2.0004", ErrHost},
	{"IPv4 trailing dot", "sip:192.0.2.4.", ErrHost},
	{"RFC 5118 §4.2 ipv6-bad", "sip:2001:db8::10", ErrHost},
	{"RFC 5118 §4.2 unbracketed, with user", "sip:user@2001:db8::10", ErrHost},
	{"RFC 5118 §4.2 unbracketed, letters first", "sip:db8::10", ErrPort},
	{"IPv6 reference unclosed", "sip:[2001:db8::10", ErrHost},
	{"IPv6 reference empty", "sip:[]", ErrHost},
	{"IPv6 reference too short", "sip:[:]", ErrHost},
	{"IPv4 in brackets", "sip:[192.0.2.1]", ErrHost},
	{"IPv6 zone", "sip:[fe80::1%25eth0]", ErrHost},
	{"IPv6 too many groups", "sip:[1:2:3:4:5:6:7:8:9]", ErrHost},
	{"IPv6 two '::'", "sip:[1::2::3]", ErrHost},
	{"IPv6 group of five digits", "sip:[12345::1]", ErrHost},
	{"IPv6 three colons, no IPv4 tail", "sip:[1:::2]", ErrHost},
	{"IPv6 three colons alone", "sip:[:::1]", ErrHost},
	{"IPv6 three colons after '::'", "sip:[1::2:::192.0.2.1]", ErrHost},
	{"IPv6 three colons, hexseq too long", "sip:[1:2:3:4:5:6:::192.0.2.1]", ErrHost},
	{"IPv6 four colons", "sip:[2001:db8::::192.0.2.1]", ErrHost},
	{"IPv6 bad IPv4 tail", "sip:[::ffff:192.0.2.256]", ErrHost},
	{"IPv6 trailing junk", "sip:[::1]x", ErrSyntax},
	{"port 0", "sip:alice@atlanta.com:0", ErrPort},
	{"port 65536", "sip:alice@atlanta.com:65536", ErrPort},
	{"port huge", "sip:alice@atlanta.com:99999999999999999999999", ErrPort},
	{"port letters", "sip:alice@atlanta.com:abc", ErrPort},
	{"port digits then letters", "sip:alice@atlanta.com:50a", ErrPort},
	{"port empty", "sip:alice@atlanta.com:", ErrPort},
	{"port empty then params", "sip:alice@atlanta.com:;lr", ErrPort},
	{"port negative", "sip:alice@atlanta.com:-1", ErrPort},
	{"two ports", "sip:alice@atlanta.com:5060:5060", ErrSyntax},
	{"IPv6 port empty", "sip:[::1]:", ErrPort},
	{"empty param name", "sip:host;=x", ErrParam},
	{"empty param", "sip:host;;lr", ErrParam},
	{"trailing ';'", "sip:host;", ErrParam},
	{"empty param value", "sip:host;transport=", ErrParam},
	{"'=' in param value", "sip:host;a=b=c", ErrParam},
	{"'@' in param value", "sip:host;a=b@", ErrHost},
	{"'\"' in param", "sip:host;a=\"b\"", ErrParam},
	{"empty headers", "sip:host?", ErrHeader},
	{"header without '='", "sip:host?subject", ErrHeader},
	{"header with empty name", "sip:host?=x", ErrHeader},
	{"empty header item", "sip:host?a=b&&c=d", ErrHeader},
	{"trailing '&'", "sip:host?a=b&", ErrHeader},
	{"'=' in header value", "sip:host?a=b=c", ErrHeader},
	{"';' in headers", "sip:host?a=b;c", ErrHeader},
	{"space before user", "sip: alice@atlanta.com", ErrUser},
	{"space in user", "sip:al ice@atlanta.com", ErrUser},
	{"space in host", "sip:atlanta .com", ErrSyntax},
	{"space before port", "sip:atlanta.com :5060", ErrSyntax},
	{"space in port", "sip:atlanta.com:50 60", ErrSyntax},
	{"space in param", "sip:atlanta.com;transport= tcp", ErrParam},
	{"space before param", "sip:atlanta.com ;lr", ErrSyntax},
	{"space in header", "sip:atlanta.com?a=b c", ErrHeader},
	{"trailing space", "sip:alice@atlanta.com ", ErrSyntax},
	{"leading space", " sip:alice@atlanta.com", ErrScheme},
	{"space after scheme", "sip :alice@atlanta.com", ErrScheme},
	{"CRLF", "sip:alice@atlanta.com\r\n", ErrSyntax},
	{"NUL", "sip:al\x00ice@atlanta.com", ErrUser},
	{"tel, empty", "tel:", ErrUser},
	{"tel, '+' only", "tel:+", ErrUser},
	{"tel, separators only", "tel:+-.()", ErrUser},
	{"RFC 3966 §5.1.5 local number without phone-context", "tel:7042", ErrUser},
	{"RFC 3966 §5.1.5 local number with other params", "tel:7042;ext=1", ErrUser},
	{"RFC 3966 §3 phone-context without value", "tel:7042;phone-context", ErrParam},
	{"RFC 3966 §3 phone-context not a descriptor", "tel:7042;phone-context=a_b", ErrParam},
	{"RFC 3966 §3 phone-context IPv4", "tel:7042;phone-context=192.0.2.1", ErrParam},
	{"RFC 3966 §3 phone-context '+' only", "tel:7042;phone-context=+", ErrParam},
	{"RFC 3966 §3 letter in global number", "tel:+1-201-555-01a3", ErrUser},
	{"RFC 3966 §3 space in number", "tel:+1 201", ErrUser},
	{"RFC 3966 §3 '%' in number", "tel:+1%32", ErrUser},
	{"tel trailing ';'", "tel:+1;", ErrParam},
	{"tel with headers", "tel:+1?a=b", ErrUser},
	{"tel with header after param", "tel:+1;a=b?c=d", ErrParam},
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		u, err := Parse(tc.in)
		if err == nil {
			t.Errorf("%s: Parse(%q) = %#v, want an error", tc.ref, tc.in, u)
			continue
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: Parse(%q) = %v, want %v", tc.ref, tc.in, err, tc.err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(tc.in) {
			t.Errorf("%s: Parse(%q) error %v has no valid offset", tc.ref, tc.in, err)
		}
		if !strings.Contains(err.Error(), "offset") {
			t.Errorf("%s: Error() = %q does not say where", tc.ref, err)
		}
	}
}

func TestErrorOffsets(t *testing.T) {
	for _, tc := range []struct {
		in  string
		off int
	}{
		{"sip:alice@atlanta.com:0", 22},
		{"sip:a%zz@b", 4},
		{"sip:a:b%g0@b", 6},
		{"sip:host;a=b;=c", 13},
		{"sip:host?a=b&c", 13},
		{"sip:alice@[::1", 10},
		{"sip:alice@atlanta.com x", 21},
		{"s_p:x", 1},
	} {
		_, err := Parse(tc.in)
		var e *Error
		if !errors.As(err, &e) || e.Offset != tc.off {
			t.Errorf("Parse(%q) = %v, want offset %d", tc.in, err, tc.off)
		}
	}
}

func TestSchemeAndAccessors(t *testing.T) {
	for _, tc := range []struct {
		in, scheme, hostport, hostname, transport string
		sip                                       bool
		addr                                      string
	}{
		{"sip:alice@atlanta.com", "sip", "atlanta.com", "atlanta.com", "", true, ""},
		{"SIPS:alice@atlanta.com:5061;TRANSPORT=TCP", "sips", "atlanta.com:5061", "atlanta.com", "tcp", true, ""},
		{"sip:[2001:db8::10]:5070;transport=udp", "sip", "[2001:db8::10]:5070", "2001:db8::10", "udp", true, "2001:db8::10"},
		{"sip:[2001:db8:::192.0.2.1]", "sip", "[2001:db8:::192.0.2.1]", "2001:db8:::192.0.2.1", "", true, "2001:db8::c000:201"},
		{"sip:[::ffff:192.0.2.2]", "sip", "[::ffff:192.0.2.2]", "::ffff:192.0.2.2", "", true, "::ffff:192.0.2.2"},
		{"sip:192.0.2.4:5060", "sip", "192.0.2.4:5060", "192.0.2.4", "", true, "192.0.2.4"},
		{"sip:192.000.002.004", "sip", "192.000.002.004", "192.000.002.004", "", true, "192.0.2.4"},
		{"tel:+1-201-555-0123", "tel", "", "", "", false, ""},
		{"soap.beep://192.0.2.103:3002", "soap.beep", "", "", "", false, ""},
		{"HTTP://www.example.com", "HTTP", "", "", "", false, ""},
	} {
		u, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := u.SchemeName(); got != tc.scheme {
			t.Errorf("%q: SchemeName() = %q, want %q", tc.in, got, tc.scheme)
		}
		if got := u.HostPort(); got != tc.hostport {
			t.Errorf("%q: HostPort() = %q, want %q", tc.in, got, tc.hostport)
		}
		if got := u.Hostname(); got != tc.hostname {
			t.Errorf("%q: Hostname() = %q, want %q", tc.in, got, tc.hostname)
		}
		if got := u.Transport(); got != tc.transport {
			t.Errorf("%q: Transport() = %q, want %q", tc.in, got, tc.transport)
		}
		if got := u.IsSIP(); got != tc.sip {
			t.Errorf("%q: IsSIP() = %v", tc.in, got)
		}
		a, ok := u.Addr()
		if tc.addr == "" {
			if ok {
				t.Errorf("%q: Addr() = %v, want none", tc.in, a)
			}
		} else if !ok || a != netip.MustParseAddr(tc.addr) {
			t.Errorf("%q: Addr() = %v, %v; want %s", tc.in, a, ok, tc.addr)
		}
	}
	for s, want := range map[Scheme]string{SIP: "sip", SIPS: "sips", Tel: "tel", Absolute: "absolute", Scheme(9): "absolute"} {
		if s.String() != want {
			t.Errorf("Scheme(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}

func TestParamsAccess(t *testing.T) {
	p := Params(";transport=TCP;lr;maddr=239.255.255.1;x=a%20b")
	if v, ok := p.Get("Transport"); !ok || v != "TCP" {
		t.Errorf("Get(Transport) = %q, %v", v, ok)
	}
	if v, ok := p.Get("lr"); !ok || v != "" {
		t.Errorf("Get(lr) = %q, %v", v, ok)
	}
	if _, ok := p.Get("ttl"); ok {
		t.Errorf("Get(ttl) found")
	}
	if v, ok, err := p.Decoded("x"); !ok || err != nil || v != "a b" {
		t.Errorf("Decoded(x) = %q, %v, %v", v, ok, err)
	}
	if _, ok, err := p.Decoded("nope"); ok || err != nil {
		t.Errorf("Decoded(nope) = %v, %v", ok, err)
	}
	if _, _, err := Params(";x=%zz").Decoded("x"); !errors.Is(err, ErrEscape) {
		t.Errorf("Decoded of a bad escape: %v", err)
	}
	if p.Len() != 4 || Params("").Len() != 0 {
		t.Errorf("Len() = %d", p.Len())
	}
	var names, values []string
	for n, v := range p.All() {
		names = append(names, n)
		values = append(values, v)
		if n == "maddr" {
			break
		}
	}
	if diff := cmp.Diff([]string{"transport", "lr", "maddr"}, names); diff != "" {
		t.Errorf("All() names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"TCP", "", "239.255.255.1"}, values); diff != "" {
		t.Errorf("All() values (-want +got):\n%s", diff)
	}
}

func TestWithParam(t *testing.T) {
	u, _ := Parse("sip:alice@atlanta.com;transport=udp;lr;Transport=sctp")
	for _, tc := range []struct {
		got  URI
		want string
	}{
		{u.WithParam("transport", "tcp"), "sip:alice@atlanta.com;transport=tcp;lr"},
		{u.WithParam("maddr", "239.255.255.1"), "sip:alice@atlanta.com;transport=udp;lr;Transport=sctp;maddr=239.255.255.1"},
		{u.WithParam("x", "a b;c"), "sip:alice@atlanta.com;transport=udp;lr;Transport=sctp;x=a%20b%3Bc"},
		{u.WithParam("ob", ""), "sip:alice@atlanta.com;transport=udp;lr;Transport=sctp;ob"},
		{u.WithoutParam("TRANSPORT"), "sip:alice@atlanta.com;lr"},
		{u.WithoutParam("lr"), "sip:alice@atlanta.com;transport=udp;Transport=sctp"},
		{u.WithoutParam("none"), "sip:alice@atlanta.com;transport=udp;lr;Transport=sctp"},
		{u.WithoutParam("transport").WithoutParam("lr"), "sip:alice@atlanta.com"},
	} {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("got %q, want %q", s, tc.want)
		}
		if err := tc.got.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", tc.want, err)
		}
	}
	// An escaped name is the same parameter (RFC 3261 §19.1.4).
	e, _ := Parse("sip:h;%6C%72;n%61me=v")
	if s := e.WithParam("name", "w").String(); s != "sip:h;%6C%72;name=w" {
		t.Errorf("WithParam over an escaped name: %q", s)
	}
	if s := e.WithoutParam("lr").String(); s != "sip:h;n%61me=v" {
		t.Errorf("WithoutParam of an escaped name: %q", s)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		u  URI
		ok bool
	}{
		{URI{Scheme: SIP, Host: "example.com"}, true},
		{URI{Scheme: SIP, User: "a", Password: "b", Host: "[::1]", Port: 5060, Params: ";lr", Headers: "a=b"}, true},
		{URI{Scheme: Tel, User: "+1"}, true},
		{URI{Scheme: Absolute, Opaque: "urn:x"}, true},
		{URI{}, false},
		{URI{Scheme: SIP}, false},
		{URI{Scheme: SIP, Host: "exa mple.com"}, false},
		{URI{Scheme: SIP, User: "a b", Host: "example.com"}, false},
		{URI{Scheme: SIP, Password: "p", Host: "example.com"}, false},
		{URI{Scheme: SIP, Host: "example.com", Params: "lr"}, false},
		{URI{Scheme: SIP, Host: "example.com", Params: ";lr?x=y"}, false},
		{URI{Scheme: SIP, Host: "example.com", Headers: "x"}, false},
		{URI{Scheme: SIP, Host: "2001:db8::1"}, false},
		{URI{Scheme: Tel, User: "+1", Host: "example.com"}, false},
		{URI{Scheme: Tel, User: "123"}, false},
		{URI{Scheme: Absolute, Opaque: "sip:example.com"}, false},
		{URI{Scheme: Absolute, Opaque: "urn:x", User: "u"}, false},
	} {
		err := tc.u.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%#v) = %v, want ok=%v", tc.u, err, tc.ok)
		}
		if err != nil && !errors.As(err, new(*Error)) {
			t.Errorf("Validate(%#v) = %v, not an *Error", tc.u, err)
		}
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"example.com": true, "EXAMPLE.COM.": true, "a": true, "a-1.b-2": true,
		"192.0.2.1": true, "[2001:db8::1]": true, "[::ffff:192.0.2.1]": true,
		"[2001:db8:::192.0.2.1]": true,
		"":                       false, "[": false, "[]": false, "[::1": false, "::1": false,
		"[192.0.2.1]": false, "192.0.2": false, "192.0.2.1.": false,
		"a..b": false, "-a": false, "a-": false, "a_b": false, "a b": false,
		"[fe80::1%eth0]": false, "[1:::2]": false,
	} {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	for _, s := range []string{
		"sip:bob@biloxi.example.com;transport=tcp",
		"sips:alice:secret@[2001:db8::10]:5061;lr;maddr=192.0.2.1?subject=project%20x&priority=urgent",
		"sip:user@[2001:db8:::192.0.2.1]",
		"tel:863-1234;phone-context=+1-914-555",
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Parse(s) }); n != 0 {
			t.Errorf("Parse(%q) allocates %v times", s, n)
		}
	}
}
