package header

import (
	"testing"

	"github.com/sansip/sansip/uri"
)

// mustURI parses a URI for a test table.
func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

var viaCases = []valueCase[Via]{
	{rfc: "RFC 3261 §20.42", in: "SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7",
		want: Via{Transport: "UDP", Host: "erlang.bell-telephone.com", Port: 5060, Params: ";branch=z9hG4bK87asdks7"},
		out:  "SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7"},
	{rfc: "RFC 3261 §20.42 received", in: "SIP/2.0/UDP 192.0.2.1:5060 ;received=192.0.2.207\r\n ;branch=z9hG4bK77asjd",
		want: Via{Transport: "UDP", Host: "192.0.2.1", Port: 5060, Params: ";received=192.0.2.207;branch=z9hG4bK77asjd"},
		out:  "SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.207;branch=z9hG4bK77asjd"},
	{rfc: "RFC 3261 §7.3.1 compact lower case", in: "sip/2.0/tcp host.example.com",
		want: Via{Transport: "tcp", Host: "host.example.com"}, out: "SIP/2.0/tcp host.example.com"},
	{rfc: "RFC 4475 wsinv", in: "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw",
		want: Via{Transport: "UDP", Host: "192.0.2.2", Params: ";branch=390skdjuw"}},
	{rfc: "RFC 4475 wsinv", in: " SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ",
		want: Via{Transport: "TCP", Host: "spindle.example.com", Params: ";branch=z9hG4bK9ikj8"}},
	{rfc: "RFC 4475 wsinv", in: "SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
		want: Via{Transport: "UDP", Host: "192.168.255.111", Params: ";branch=z9hG4bK30239"}},
	{rfc: "RFC 4475 transports", in: "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
		want: Via{Transport: "UNKNOWN", Host: "t4.example.com", Params: ";branch=z9hG4bKasd0f3en"}},
	{rfc: "RFC 4475 esc02", in: "SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234",
		want: Via{Transport: "TCP", Host: "host.example.com", Params: ";branch=z9hG4bK209%fzsnel234"}},
	{rfc: "RFC 4475 intmeth", in: "SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
		want: Via{Transport: "TCP", Host: "host1.example.com", Params: ";branch=z9hG4bK-.!%66*_+`'~"}},
	{rfc: "RFC 4475 badvers: other versions are the message layer's to reject", in: "SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw",
		want: Via{Protocol: "SIP/7.0", Transport: "UDP", Host: "c.example.com", Params: ";branch=z9hG4bKkdjuw"}},
	{rfc: "RFC 5118 §4.5 IPv6 sent-by and received", in: "SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3-111;received=[2001:db8::9:255]",
		want: Via{Transport: "UDP", Host: "[2001:db8::9:1]", Port: 5060, Params: ";branch=z9hG4bKas3-111;received=[2001:db8::9:255]"}},
	{rfc: "RFC 3581 rport flag", in: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport",
		want: Via{Transport: "UDP", Host: "127.0.0.1", Port: 5070, Params: ";branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport"}},
	{rfc: "RFC 3261 §20.42 quoted param value", in: `SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKxyz;x="a;b"`,
		want: Via{Transport: "WSS", Host: "df7jal23ls0d.invalid", Params: `;branch=z9hG4bKxyz;x="a;b"`}},
	{rfc: "RFC 4475 badinv01", in: " SIP/2.0/UDP 192.0.2.15;;,;,,", err: ErrSyntax},
	{rfc: "RFC 3261 §20.42 empty", in: "", err: ErrSyntax},
	{rfc: "RFC 3261 §20.42 no transport", in: "SIP/2.0 host.example.com", err: ErrSyntax},
	{rfc: "RFC 3261 §20.42 LWS before sent-by", in: "SIP/2.0/UDPhost.example.com", err: ErrSyntax},
	{rfc: "RFC 3261 §20.42 no sent-by", in: "SIP/2.0/UDP ;branch=z9hG4bK1", err: errAny},
	{rfc: "RFC 3261 §25.1 port 0", in: "SIP/2.0/UDP host:0", err: uri.ErrPort},
	{rfc: "RFC 3261 §25.1 port range", in: "SIP/2.0/UDP host:65536", err: uri.ErrPort},
	{rfc: "RFC 3261 §25.1 bad host", in: "SIP/2.0/UDP [::1", err: uri.ErrHost},
	{rfc: "RFC 3261 §25.1 empty param value", in: "SIP/2.0/UDP host;branch=", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 two values", in: "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b", err: ErrSyntax},
}

func TestVia(t *testing.T) { runCases(t, viaCases) }

func TestViaAccessors(t *testing.T) {
	v, err := ParseValue[Via]("SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=[2001:db8::9:255];rport=5070;maddr=224.2.0.1;ttl=16")
	if err != nil {
		t.Fatal(err)
	}
	if v.Branch() != "z9hG4bKas3" || !v.HasCookie() {
		t.Errorf("Branch = %q, HasCookie = %v", v.Branch(), v.HasCookie())
	}
	if v.Received() != "2001:db8::9:255" {
		t.Errorf("Received = %q", v.Received())
	}
	if p, ok := v.RPort(); p != 5070 || !ok {
		t.Errorf("RPort = %d, %v", p, ok)
	}
	if v.MAddr() != "224.2.0.1" {
		t.Errorf("MAddr = %q", v.MAddr())
	}
	if ttl, ok := v.TTL(); ttl != 16 || !ok {
		t.Errorf("TTL = %d, %v", ttl, ok)
	}
	if v.SentBy() != "[2001:db8::9:1]:5060" {
		t.Errorf("SentBy = %q", v.SentBy())
	}
	w, _ := ParseValue[Via]("SIP/2.0/UDP h;branch=z9hG4bK;rport")
	if w.HasCookie() {
		t.Error("a bare magic cookie identifies no transaction (RFC 4475 badbranch)")
	}
	if p, ok := w.RPort(); p != 0 || !ok {
		t.Errorf("RPort flag = %d, %v", p, ok)
	}
	if _, ok := w.TTL(); ok {
		t.Error("TTL present")
	}
}

func TestViaParseFirst(t *testing.T) {
	// RFC 4475 wsinv: two via-parms in one field, folded.
	s := "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239"
	var v Via
	rest, err := v.ParseFirst(s)
	if err != nil {
		t.Fatal(err)
	}
	if v.Host != "spindle.example.com" || v.Branch() != "z9hG4bK9ikj8" {
		t.Errorf("first = %+v", v)
	}
	rest, err = v.ParseFirst(rest)
	if err != nil || rest != "" {
		t.Fatalf("second: rest %q, %v", rest, err)
	}
	if v.Host != "192.168.255.111" || v.Branch() != "z9hG4bK30239" {
		t.Errorf("second = %+v", v)
	}
	if _, err := v.ParseFirst("SIP/2.0/UDP a b"); err == nil {
		t.Error("ParseFirst accepted trailing garbage")
	}
}

var fromCases = []valueCase[From]{
	{rfc: "RFC 3261 §20.20", in: `"A. G. Bell" <sip:agb@bell-telephone.com> ;tag=a48s`,
		want: From{Display: "A. G. Bell", URI: mustURI("sip:agb@bell-telephone.com"), Params: ";tag=a48s"},
		out:  `"A. G. Bell" <sip:agb@bell-telephone.com>;tag=a48s`},
	{rfc: "RFC 3261 §20.20 addr-spec: params belong to the header", in: "sip:+12125551212@server.phone2net.com;tag=887s",
		want: From{URI: mustURI("sip:+12125551212@server.phone2net.com"), Params: ";tag=887s"},
		out:  "<sip:+12125551212@server.phone2net.com>;tag=887s"},
	{rfc: "RFC 3261 §20.20 token display name", in: "Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8",
		want: From{Display: "Anonymous", URI: mustURI("sip:c8oqz84zk7z@privacy.org"), Params: ";tag=hyh8"},
		out:  `"Anonymous" <sip:c8oqz84zk7z@privacy.org>;tag=hyh8`},
	{rfc: "RFC 4475 wsinv quoted display with escapes and folds", in: "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
		want: From{Display: `J Rosenberg \"`, URI: mustURI("sip:jdrosen@example.com"), Params: ";tag=98asjd8"},
		out:  `"J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8`},
	{rfc: "RFC 4475 lwsdisp no LWS before '<'", in: "caller<sip:caller@example.com>;tag=323",
		want: From{Display: "caller", URI: mustURI("sip:caller@example.com"), Params: ";tag=323"}},
	{rfc: "RFC 4475 intmeth token display name and odd param", in: "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
		want: From{Display: "token1~` token2'+_ token3*%!.-", URI: mustURI("sip:mundane@example.com"), Params: ";fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-."}},
	{rfc: "RFC 3261 §25.1 display name folded over lines", in: "Bob\r\n Smith <sip:bob@biloxi.com>",
		want: From{Display: "Bob Smith", URI: mustURI("sip:bob@biloxi.com")}},
	{rfc: "RFC 3261 §25.1 quoted display without LWS before '<'", in: `"Bob"<sip:bob@biloxi.com>`,
		want: From{Display: "Bob", URI: mustURI("sip:bob@biloxi.com")}},
	{rfc: "RFC 3261 §25.1 empty quoted display", in: `"" <sip:bob@biloxi.com>`,
		want: From{URI: mustURI("sip:bob@biloxi.com")}},
	{rfc: "RFC 4475 esc02 escapes in display name are not decoded", in: `"%Z%45" <sip:resource@example.com>;tag=f232jadfj23`,
		want: From{Display: "%Z%45", URI: mustURI("sip:resource@example.com"), Params: ";tag=f232jadfj23"}},
	{rfc: "RFC 3966 tel URI", in: "<tel:+1-201-555-0123>;tag=1",
		want: From{URI: mustURI("tel:+1-201-555-0123"), Params: ";tag=1"}},
	{rfc: "RFC 4475 baddn unquoted display with ','", in: "    Bell, Alexander <sip:a.g.bell@example.com>;tag=43", err: errAny},
	{rfc: "RFC 4475 quotbal unterminated quote", in: ` "Mr. J. User <sip:j.user@example.com>`, err: ErrSyntax},
	{rfc: "RFC 4475 badaspec LWS inside angle brackets", in: ` "Watson, Thomas" < sip:t.watson@example.org >`, err: errAny},
	{rfc: "RFC 4475 test.dat no scheme", in: " ralph@example.com", err: errAny},
	{rfc: "RFC 3261 §25.1 empty", in: "  ", err: ErrEmpty},
	{rfc: "RFC 3261 §25.1 unclosed '<'", in: "<sip:a@b;tag=1", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 trailing garbage", in: "<sip:a@b> x", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 quoted display then addr-spec", in: `"a" sip:a@b`, err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty parameter", in: "<sip:a@b>;;tag=1", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 bare CR in display name", in: "a\rb <sip:a@b>", err: errAny},
}

func TestFrom(t *testing.T) { runCases(t, fromCases) }

var toCases = []valueCase[To]{
	{rfc: "RFC 3261 §20.39", in: `The Operator <sip:operator@cs.columbia.edu>;tag=287447`,
		want: To{Display: "The Operator", URI: mustURI("sip:operator@cs.columbia.edu"), Params: ";tag=287447"}},
	{rfc: "RFC 4475 wsinv folded addr-spec with spaced params", in: "\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
		want: To{URI: mustURI("sip:vivekg@chair-dnrc.example.com"), Params: ";tag=1918181833n"}},
	{rfc: "RFC 4475 intmeth NUL kept in the display name", in: "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
		want: To{Display: "BEL:\x07 NUL:\x00 DEL:\x7f", URI: mustURI("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com")},
		out:  "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>"},
	{rfc: "RFC 4475 escnull escaped NUL in the user part", in: "sip:null-%00-null@example.com",
		want: To{URI: mustURI("sip:null-%00-null@example.com")}},
	{rfc: "RFC 4475 baddn", in: "      Watson, Thomas <sip:t.watson@example.org>", err: errAny},
	{rfc: "RFC 3261 §20.39 URI headers need angle brackets", in: "sip:a@b?subject=x", err: ErrSyntax},
}

func TestTo(t *testing.T) { runCases(t, toCases) }

func TestTag(t *testing.T) {
	f, _ := ParseValue[From]("<sip:a@b>;tag=1928301774")
	to, _ := ParseValue[To]("<sip:a@b>;TAG=x")
	if f.Tag() != "1928301774" || to.Tag() != "x" {
		t.Errorf("Tag = %q, %q", f.Tag(), to.Tag())
	}
	if NameAddr(f).String() != "<sip:a@b>;tag=1928301774" {
		t.Errorf("String = %q", NameAddr(f).String())
	}
}

var contactCases = []valueCase[Contact]{
	{rfc: "RFC 3261 §20.10 wildcard", in: "*", want: Contact{Star: true}, out: "*"},
	{rfc: "RFC 3261 §20.10 wildcard with LWS", in: " \r\n *  ", want: Contact{Star: true}},
	{rfc: "RFC 3261 §20.10", in: `"Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600`,
		want: Contact{Display: "Mr. Watson", URI: mustURI("sip:watson@worcester.bell-telephone.com"), Params: ";q=0.7;expires=3600"},
		out:  `"Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7;expires=3600`},
	{rfc: "RFC 3261 §20.10 mailto", in: `"Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1`,
		want: Contact{Display: "Mr. Watson", URI: mustURI("mailto:watson@bell-telephone.com"), Params: ";q=0.1"}},
	{rfc: "RFC 4475 cparam01 addr-spec params are contact-params", in: " sip:+19725552222@gw1.example.net;unknownparam",
		want: Contact{URI: mustURI("sip:+19725552222@gw1.example.net"), Params: ";unknownparam"}},
	{rfc: "RFC 4475 cparam02 params inside brackets are URI params", in: "<sip:+19725552222@gw1.example.net;unknownparam>",
		want: Contact{URI: mustURI("sip:+19725552222@gw1.example.net;unknownparam")}},
	{rfc: "RFC 4475 wsinv", in: "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33",
		want: Contact{Display: `Quoted string ""`, URI: mustURI("sip:jdrosen@example.com"), Params: ";newparam=newvalue;secondparam;q=0.33"}},
	{rfc: "RFC 4475 esc01", in: "\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
		want: Contact{URI: mustURI("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")}},
	{rfc: "RFC 4475 regescrt URI headers inside brackets", in: "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
		want: Contact{URI: mustURI("sip:user@example.com?Route=%3Csip:sip.example.com%3E")}},
	{rfc: "RFC 5626 §4.1 instance and reg-id", in: `<sip:line1@192.0.2.2;transport=tcp>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"`,
		want: Contact{URI: mustURI("sip:line1@192.0.2.2;transport=tcp"), Params: `;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"`}},
	{rfc: "RFC 5118 §4.2 IPv6", in: "<sip:[2001:db8::10]:5070>;expires=60",
		want: Contact{URI: mustURI("sip:[2001:db8::10]:5070"), Params: ";expires=60"}},
	{rfc: "RFC 3261 §25.1 fold inside a quoted param value becomes a space", in: "<sip:a@b>;x=\"a\r\n b\";q=1",
		want: Contact{URI: mustURI("sip:a@b"), Params: `;x="a b";q=1`}, out: `<sip:a@b>;x="a b";q=1`},
	{rfc: "RFC 4475 regbadct addr-spec with '?'", in: " sip:user@example.com?Route=%3Csip:sip.example.com%3E", err: ErrSyntax},
	{rfc: "RFC 4475 badinv01 empty params", in: ` "Joe" <sip:joe@example.org>;;;;`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.10 wildcard takes no params", in: "*;expires=0", err: errAny},
	{rfc: "RFC 3261 §20.10 empty", in: "", err: ErrEmpty},
}

func TestContact(t *testing.T) { runCases(t, contactCases) }

func TestContactAccessors(t *testing.T) {
	c, err := ParseValue[Contact](`<sip:line1@192.0.2.2>;expires=3600;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1`)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Expires(); e != 3600 || !ok {
		t.Errorf("Expires = %d, %v", e, ok)
	}
	if q, ok := c.Q(); q != 700 || !ok {
		t.Errorf("Q = %d, %v", q, ok)
	}
	if c.Instance() != "urn:uuid:00000000-0000-1000-8000-000A95A0E128" {
		t.Errorf("Instance = %q", c.Instance())
	}
	if r, ok := c.RegID(); r != 1 || !ok {
		t.Errorf("RegID = %d, %v", r, ok)
	}
	if c.NameAddr().URI.Host != "192.0.2.2" {
		t.Errorf("NameAddr = %+v", c.NameAddr())
	}
	// RFC 4475 scalar02: an overlarge expires is not a valid value.
	big, _ := ParseValue[Contact]("<sip:user@host129.example.com>;expires=280297596632815")
	if _, ok := big.Expires(); ok {
		t.Error("expires=280297596632815 accepted")
	}
	for _, tc := range []struct {
		q    string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"1", 1000, true}, {"1.000", 1000, true}, {"0.33", 330, true},
		{"0.001", 1, true}, {"1.001", 0, false}, {"0.0001", 0, false}, {"2", 0, false}, {".5", 0, false},
	} {
		c, _ := ParseValue[Contact]("<sip:a@b>;q=" + tc.q)
		if q, ok := c.Q(); q != tc.want || ok != tc.ok {
			t.Errorf("q=%s: Q = %d, %v; want %d, %v", tc.q, q, ok, tc.want, tc.ok)
		}
	}
	if _, ok := (Contact{}).Q(); ok {
		t.Error("Q present on an empty contact")
	}
	if r, ok := ParseValueMust[Contact](t, "<sip:a@b>;reg-id=0").RegID(); ok {
		t.Errorf("reg-id=0 accepted: %d", r)
	}
}

// ParseValueMust parses s or fails the test.
func ParseValueMust[T any, P Value[T]](t *testing.T, s string) T {
	t.Helper()
	v, err := ParseValue[T, P](s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return v
}

var routeCases = []valueCase[Route]{
	{rfc: "RFC 4475 wsinv folded Route", in: "\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
		want: Route{URI: mustURI("sip:services.example.com;lr;unknownwith=value;unknown-no-value")}},
	{rfc: "RFC 3261 §20.34", in: "<sip:bigbox3.site3.atlanta.com;lr>",
		want: Route{URI: mustURI("sip:bigbox3.site3.atlanta.com;lr")}},
	{rfc: "RFC 3261 §20.34 name-addr", in: "Proxy <sip:p1.example.com;lr>;x=1",
		want: Route{Display: "Proxy", URI: mustURI("sip:p1.example.com;lr"), Params: ";x=1"}},
	{rfc: "RFC 3261 §20.34 route needs a name-addr", in: "<sip:p1.example.com;lr", err: ErrSyntax},
}

func TestRoute(t *testing.T) { runCases(t, routeCases) }

var recordRouteCases = []valueCase[RecordRoute]{
	{rfc: "RFC 3261 §20.30", in: "<sip:server10.biloxi.com;lr>",
		want: RecordRoute{URI: mustURI("sip:server10.biloxi.com;lr")}},
	{rfc: "RFC 3261 §20.30 empty", in: "", err: ErrEmpty},
}

func TestRecordRoute(t *testing.T) { runCases(t, recordRouteCases) }

var pathCases = []valueCase[Path]{
	{rfc: "RFC 3327", in: "<sip:P3.EXAMPLEHOME.COM;lr>",
		want: Path{URI: mustURI("sip:P3.EXAMPLEHOME.COM;lr")}},
	{rfc: "RFC 5626 ob", in: "<sip:VskztcQ/S8p4WPbOnHbuyh5iJvJIW3ib@ep1.example.com;lr;ob>",
		want: Path{URI: mustURI("sip:VskztcQ/S8p4WPbOnHbuyh5iJvJIW3ib@ep1.example.com;lr;ob")}},
	{rfc: "RFC 3327 junk", in: "<>", err: errAny},
}

func TestPath(t *testing.T) { runCases(t, pathCases) }

var serviceRouteCases = []valueCase[ServiceRoute]{
	{rfc: "RFC 3608", in: "<sip:P2.HOME.EXAMPLE.COM;lr>",
		want: ServiceRoute{URI: mustURI("sip:P2.HOME.EXAMPLE.COM;lr")}},
	{rfc: "RFC 3608 junk", in: "sip:", err: errAny},
}

func TestServiceRoute(t *testing.T) { runCases(t, serviceRouteCases) }

var pAssertedIdentityCases = []valueCase[PAssertedIdentity]{
	{rfc: "RFC 3325 §9.1", in: `"Cullen Jennings" <sip:fluffy@cisco.com>`,
		want: PAssertedIdentity{Display: "Cullen Jennings", URI: mustURI("sip:fluffy@cisco.com")}},
	{rfc: "RFC 3325 §9.1 tel", in: "tel:+14085264000",
		want: PAssertedIdentity{URI: mustURI("tel:+14085264000")}},
	{rfc: "RFC 3325 §9.1 junk", in: `"x"`, err: ErrSyntax},
}

func TestPAssertedIdentity(t *testing.T) { runCases(t, pAssertedIdentityCases) }

var pPreferredIdentityCases = []valueCase[PPreferredIdentity]{
	{rfc: "RFC 3325 §9.2", in: `"Cullen Jennings" <sip:fluffy@cisco.com>`,
		want: PPreferredIdentity{Display: "Cullen Jennings", URI: mustURI("sip:fluffy@cisco.com")}},
	{rfc: "RFC 3325 §9.2 junk", in: "<sip:a@b", err: ErrSyntax},
}

func TestPPreferredIdentity(t *testing.T) { runCases(t, pPreferredIdentityCases) }

var referToCases = []valueCase[ReferTo]{
	{rfc: "RFC 3515 §2.1", in: "sip:alice@atlanta.example.com",
		want: ReferTo{URI: mustURI("sip:alice@atlanta.example.com")}},
	{rfc: "RFC 3891 Replaces in the URI's headers", in: "<sip:bob@example.com?Replaces=12345%40192.0.2.1%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>",
		want: ReferTo{URI: mustURI("sip:bob@example.com?Replaces=12345%40192.0.2.1%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994")}},
	{rfc: "RFC 3515 §2.1 headers need brackets", in: "sip:bob@example.com?Replaces=1", err: ErrSyntax},
}

func TestReferTo(t *testing.T) { runCases(t, referToCases) }

var referredByCases = []valueCase[ReferredBy]{
	{rfc: "RFC 3892", in: `<sip:referrer@referrer.example>;cid="20398823.2UWQFN309shb3@referrer.example"`,
		want: ReferredBy{URI: mustURI("sip:referrer@referrer.example"), Params: `;cid="20398823.2UWQFN309shb3@referrer.example"`}},
	{rfc: "RFC 3892 junk", in: ";cid=1", err: errAny},
}

func TestReferredBy(t *testing.T) { runCases(t, referredByCases) }

var replyToCases = []valueCase[ReplyTo]{
	{rfc: "RFC 3261 §20.31", in: "Bob <sip:bob@biloxi.com>",
		want: ReplyTo{Display: "Bob", URI: mustURI("sip:bob@biloxi.com")}},
	{rfc: "RFC 3261 §20.31 junk", in: "Bob", err: errAny},
}

func TestReplyTo(t *testing.T) { runCases(t, replyToCases) }

var cseqCases = []valueCase[CSeq]{
	{rfc: "RFC 3261 §20.16", in: "4711 INVITE", want: CSeq{Seq: 4711, Method: "INVITE"}, out: "4711 INVITE"},
	{rfc: "RFC 4475 wsinv leading zeros and fold", in: " 0009\r\n  INVITE", want: CSeq{Seq: 9, Method: "INVITE"}, out: "9 INVITE"},
	{rfc: "RFC 4475 intmeth", in: "139122385 !interesting-Method0123456789_*+`.%indeed'~",
		want: CSeq{Seq: 139122385, Method: "!interesting-Method0123456789_*+`.%indeed'~"}},
	{rfc: "RFC 3261 §8.1.1.5 largest", in: "4294967295 ACK", want: CSeq{Seq: 4294967295, Method: "ACK"}},
	{rfc: "RFC 4475 esc02 method with escapes is a token", in: "29344 RE%47IST%45R", want: CSeq{Seq: 29344, Method: "RE%47IST%45R"}},
	{rfc: "RFC 3261 §8.1.1.5 above 2**32-1", in: "4294967296 ACK", err: ErrRange},
	{rfc: "RFC 4475 scalarlg", in: " 9292394834772304023312 OPTIONS", err: ErrRange},
	{rfc: "RFC 3261 §20.16 no number", in: "INVITE", err: ErrSyntax},
	{rfc: "RFC 3261 §20.16 no method", in: "1", err: ErrSyntax},
	{rfc: "RFC 3261 §20.16 no LWS", in: "1INVITE", err: ErrSyntax},
	{rfc: "RFC 3261 §20.16 trailing", in: "1 INVITE x", err: ErrSyntax},
	{rfc: "RFC 3261 §20.16 negative", in: "-1 INVITE", err: ErrSyntax},
}

func TestCSeq(t *testing.T) { runCases(t, cseqCases) }

var callIDCases = []valueCase[CallID]{
	{rfc: "RFC 3261 §20.8", in: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com", want: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com"},
	{rfc: "RFC 3261 §20.8 no host", in: " 3848276298220188511 ", want: "3848276298220188511", out: "3848276298220188511"},
	{rfc: "RFC 4475 intmeth word characters", in: "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", want: "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"},
	{rfc: "RFC 4475 mpart01", in: "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", want: "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA.."},
	{rfc: "RFC 3261 §25.1 empty", in: "", err: ErrEmpty},
	{rfc: "RFC 3261 §25.1 space", in: "a b", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 two '@'", in: "a@b@c", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty word", in: "@b", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 empty host word", in: "a@", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 ';' is not a word character", in: "a;b", err: ErrSyntax},
}

func TestCallID(t *testing.T) { runCases(t, callIDCases) }

var maxForwardsCases = []valueCase[MaxForwards]{
	{rfc: "RFC 3261 §20.22", in: "70", want: 70, out: "70"},
	{rfc: "RFC 4475 wsinv leading zeros", in: " 0068", want: 68, out: "68"},
	{rfc: "RFC 4475 zeromf", in: "0", want: 0},
	{rfc: "RFC 4475 intmeth", in: "255", want: 255},
	{rfc: "RFC 4475 scalar02", in: " 300", err: ErrRange},
	{rfc: "RFC 3261 §20.22 above 255", in: "256", err: ErrRange},
	{rfc: "RFC 3261 §20.22 negative", in: "-1", err: ErrSyntax},
	{rfc: "RFC 3261 §20.22 two numbers", in: "7 0", err: ErrSyntax},
	{rfc: "RFC 3261 §20.22 empty", in: "", err: ErrEmpty},
}

func TestMaxForwards(t *testing.T) { runCases(t, maxForwardsCases) }

var contentLengthCases = []valueCase[ContentLength]{
	{rfc: "RFC 3261 §20.14", in: "349", want: 349, out: "349"},
	{rfc: "RFC 4475 regescrt compact, no LWS", in: "0", want: 0},
	{rfc: "RFC 4475 clerr: framing is the parser's", in: " 9999", want: 9999},
	{rfc: "RFC 4475 ncl negative", in: " -999", err: ErrSyntax},
	{rfc: "RFC 3261 §20.14 range", in: "4294967296", err: ErrRange},
	{rfc: "RFC 3261 §20.14 empty", in: " ", err: ErrEmpty},
}

func TestContentLength(t *testing.T) { runCases(t, contentLengthCases) }

var expiresCases = []valueCase[Expires]{
	{rfc: "RFC 3261 §20.19", in: "5", want: 5, out: "5"},
	{rfc: "RFC 3261 §20.19 largest", in: "4294967295", want: 4294967295},
	{rfc: "RFC 4475 scalar02", in: " 10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", err: ErrRange},
	{rfc: "RFC 3261 §20.19 date form is obsolete", in: "Thu, 01 Dec 1994 16:00:00 GMT", err: ErrSyntax},
}

func TestExpires(t *testing.T) { runCases(t, expiresCases) }

var minExpiresCases = []valueCase[MinExpires]{
	{rfc: "RFC 3261 §20.23", in: "60", want: 60},
	{rfc: "RFC 3261 §20.23 junk", in: "6O", err: ErrSyntax},
}

func TestMinExpires(t *testing.T) { runCases(t, minExpiresCases) }

var rseqCases = []valueCase[RSeq]{
	{rfc: "RFC 3262 §7.1", in: "988789", want: 988789},
	{rfc: "RFC 3262 §7.1 junk", in: "x", err: ErrSyntax},
}

func TestRSeq(t *testing.T) { runCases(t, rseqCases) }

var maxBreadthCases = []valueCase[MaxBreadth]{
	{rfc: "RFC 5393 §5.8", in: "60", want: 60},
	{rfc: "RFC 5393 §5.8 junk", in: "", err: ErrEmpty},
}

func TestMaxBreadth(t *testing.T) { runCases(t, maxBreadthCases) }

var flowTimerCases = []valueCase[FlowTimer]{
	{rfc: "RFC 5626 §10.3", in: "120", want: 120},
	{rfc: "RFC 5626 §10.3 junk", in: "1 2", err: ErrSyntax},
}

func TestFlowTimer(t *testing.T) { runCases(t, flowTimerCases) }

var allowCases = []valueCase[Allow]{
	{rfc: "RFC 3261 §20.5", in: "INVITE", want: "INVITE"},
	{rfc: "RFC 3261 §20.5 LWS", in: "\r\n OPTIONS ", want: "OPTIONS", out: "OPTIONS"},
	{rfc: "RFC 3261 §20.5 two methods are two elements", in: "INVITE ACK", err: ErrSyntax},
	{rfc: "RFC 3261 §20.5 ','", in: "INVITE,ACK", err: ErrSyntax},
	{rfc: "RFC 3261 §20.5 empty", in: "", err: ErrEmpty},
}

func TestAllow(t *testing.T) { runCases(t, allowCases) }

var supportedCases = []valueCase[Supported]{
	{rfc: "RFC 3261 §20.37", in: "100rel", want: "100rel"},
	{rfc: "RFC 3261 §20.37 junk", in: "a/b", err: ErrSyntax},
}

func TestSupported(t *testing.T) { runCases(t, supportedCases) }

var requireCases = []valueCase[Require]{
	{rfc: "RFC 4475 unksm2", in: " nothingSupportsThis", want: "nothingSupportsThis"},
	{rfc: "RFC 3261 §20.32 junk", in: "a b", err: ErrSyntax},
}

func TestRequire(t *testing.T) { runCases(t, requireCases) }

var proxyRequireCases = []valueCase[ProxyRequire]{
	{rfc: "RFC 4475 unksm2", in: "noProxiesSupportThis", want: "noProxiesSupportThis"},
	{rfc: "RFC 3261 §20.29 junk", in: "\"x\"", err: ErrSyntax},
}

func TestProxyRequire(t *testing.T) { runCases(t, proxyRequireCases) }

var unsupportedCases = []valueCase[Unsupported]{
	{rfc: "RFC 3261 §20.40", in: "foo", want: "foo"},
	{rfc: "RFC 3261 §20.40 junk", in: "", err: ErrEmpty},
}

func TestUnsupported(t *testing.T) { runCases(t, unsupportedCases) }

var allowEventsCases = []valueCase[AllowEvents]{
	{rfc: "RFC 6665 §8.2.2", in: "presence.winfo", want: "presence.winfo"},
	{rfc: "RFC 6665 §8.2.2 junk", in: "a;b", err: ErrSyntax},
}

func TestAllowEvents(t *testing.T) { runCases(t, allowEventsCases) }

var contentEncodingCases = []valueCase[ContentEncoding]{
	{rfc: "RFC 3261 §20.12", in: "gzip", want: "gzip"},
	{rfc: "RFC 3261 §20.12 junk", in: "gz ip", err: ErrSyntax},
}

func TestContentEncoding(t *testing.T) { runCases(t, contentEncodingCases) }

var userAgentCases = []valueCase[UserAgent]{
	{rfc: "RFC 4475 mpart01", in: " SIPimp.org/0.2.5 (curses)", want: "SIPimp.org/0.2.5 (curses)"},
	{rfc: "RFC 3261 §20.41 folded", in: "Softphone\r\n Beta1.5", want: "Softphone Beta1.5", out: "Softphone Beta1.5"},
	{rfc: "RFC 3261 §25.1 bare CR", in: "a\rb", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 NUL", in: "a\x00b", err: ErrSyntax},
}

func TestUserAgent(t *testing.T) { runCases(t, userAgentCases) }

var serverCases = []valueCase[Server]{
	{rfc: "RFC 3261 §20.35", in: "HomeServer v2", want: "HomeServer v2"},
	{rfc: "RFC 3261 §25.1 bare LF", in: "a\nb", err: ErrSyntax},
}

func TestServer(t *testing.T) { runCases(t, serverCases) }

var subjectCases = []valueCase[Subject]{
	{rfc: "RFC 3261 §20.36", in: "Need more boxes", want: "Need more boxes"},
	{rfc: "RFC 4475 wsinv empty subject", in: "\r\n", want: ""},
	{rfc: "RFC 3261 §25.1 UTF-8", in: "Привет", want: "Привет"},
	{rfc: "RFC 3261 §25.1 DEL", in: "a\x7f", err: ErrSyntax},
}

func TestSubject(t *testing.T) { runCases(t, subjectCases) }
