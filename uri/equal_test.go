package uri

import "testing"

// equalCases are pairs of URIs and whether they are equivalent. Every pair
// is checked both ways round: equivalence is symmetric.
var equalCases = []struct {
	ref   string
	a, b  string
	equal bool
}{
	// RFC 3261 §19.1.4, the equivalent pairs.
	{"RFC 3261 §19.1.4", "sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
	{"RFC 3261 §19.1.4", "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
	{"RFC 3261 §19.1.4", "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
	{"RFC 3261 §19.1.4", "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
	{"RFC 3261 §19.1.4", "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
	{"RFC 3261 §19.1.4", "sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},

	// RFC 3261 §19.1.4, the pairs that are not equivalent.
	{"RFC 3261 §19.1.4 different usernames", "SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
	{"RFC 3261 §19.1.4 different ports", "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
	{"RFC 3261 §19.1.4 different transports", "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
	{"RFC 3261 §19.1.4 different port and transport", "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
	{"RFC 3261 §19.1.4 different header component", "sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
	{"RFC 3261 §19.1.4 host vs its address", "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
	// Equality is not transitive.
	{"RFC 3261 §19.1.4 not transitive", "sip:carol@chicago.com", "sip:carol@chicago.com;security=off", true},
	{"RFC 3261 §19.1.4 not transitive", "sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false},

	// Schemes.
	{"RFC 3261 §19.1.4 sip vs sips", "sip:alice@atlanta.com", "sips:alice@atlanta.com", false},
	{"RFC 3261 §19.1.4 sip vs sips, port", "sip:alice@atlanta.com:5061", "sips:alice@atlanta.com:5061", false},
	{"scheme case", "SIP:alice@atlanta.com", "sip:alice@atlanta.com", true},
	{"sip vs tel", "sip:+1-201-555-0123@atlanta.com;user=phone", "tel:+1-201-555-0123", false},

	// userinfo: case-sensitive, escapes of unreserved characters are the
	// characters, escapes of reserved characters are not.
	{"RFC 3261 §19.1.4 user case-sensitive", "sip:alice@atlanta.com", "sip:Alice@atlanta.com", false},
	{"RFC 3261 §19.1.4 escaped unreserved", "sip:%61lice@atlanta.com", "sip:alice@atlanta.com", true},
	{"RFC 3261 §19.1.4 escaped unreserved, lower hex", "sip:%7e%2A@atlanta.com", "sip:~*@atlanta.com", true},
	{"RFC 3261 §19.1.4 escape decodes case-sensitively", "sip:%41lice@atlanta.com", "sip:alice@atlanta.com", false},
	{"RFC 3261 §19.1.4 escaped reserved ';'", "sip:alice%3Bday=tuesday@atlanta.com", "sip:alice;day=tuesday@atlanta.com", false},
	{"RFC 3261 §19.1.4 escaped reserved '&'", "sip:a%26b@atlanta.com", "sip:a&b@atlanta.com", false},
	{"RFC 3261 §19.1.4 escaped reserved '+'", "sip:%2B1212@gateway.com", "sip:+1212@gateway.com", false},
	{"RFC 3261 §19.1.4 hex digit case", "sip:a%3bb@atlanta.com", "sip:a%3Bb@atlanta.com", true},
	{"RFC 3261 §19.1.4 hex digit case, non-ASCII", "sip:%c3%a9@atlanta.com", "sip:%C3%A9@atlanta.com", true},
	{"RFC 4475 §3.1.1.3 esc01 user", "sip:sips%3Auser%40example.com@example.net", "sip:sips%3auser%40example.com@example.net", true},
	{"RFC 4475 §3.1.1.3 never unescape twice", "sip:%2561@atlanta.com", "sip:%61@atlanta.com", false},
	{"RFC 4475 §3.1.1.4 escnull", "sip:%00@host5.example.com", "sip:%00%00@host5.example.com", false},
	{"RFC 4475 §3.1.1.4 escnull, same", "sip:null-%00-null@example.com", "sip:null-%00-null@example.com", true},
	{"RFC 4475 §3.1.1.9 semiuri", "sip:user;par=u%40example.net@example.com", "sip:user;par=u%40EXAMPLE.net@example.com", false},
	{"RFC 3261 §19.1.4 user present in one", "sip:alice@atlanta.com", "sip:atlanta.com", false},
	{"RFC 3261 §19.1.4 password present in one", "sip:alice:pw@atlanta.com", "sip:alice@atlanta.com", false},
	{"RFC 3261 §19.1.4 password case-sensitive", "sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com", false},
	{"RFC 3261 §19.1.4 password escapes", "sip:alice:p%77@atlanta.com", "sip:alice:pw@atlanta.com", true},
	{"RFC 3261 §19.1.4 telephone-subscriber is userinfo", "sip:+1-212-555-1212:1234@gateway.com;user=phone", "sip:+12125551212:1234@gateway.com;user=phone", false},

	// host.
	{"RFC 3261 §19.1.4 host case", "sip:alice@ATLANTA.com", "sip:alice@atlanta.COM", true},
	{"RFC 3261 §19.1.4 different hosts", "sip:alice@atlanta.com", "sip:alice@atlanta.co", false},
	{"RFC 5118 IPv6 textual forms", "sip:[2001:db8::10]", "sip:[2001:DB8:0:0:0:0:0:10]", true},
	{"RFC 5118 IPv6 textual forms, leading zeros", "sip:[2001:0db8::0010]:5060", "sip:[2001:db8::10]:5060", true},
	{"RFC 5118 §4.10 three colons are two", "sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::192.0.2.1]", true},
	{"RFC 5118 §4.10 three colons, hex tail", "sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::c000:201]", true},
	{"RFC 5118 §4.11 mapped", "sip:[::ffff:192.0.2.10]", "sip:[::FFFF:c000:20a]", true},
	{"RFC 5118 §4.11 mapped vs IPv4", "sip:[::ffff:192.0.2.10]", "sip:192.0.2.10", false},
	{"RFC 5118 different addresses", "sip:[2001:db8::10]", "sip:[2001:db8::11]", false},
	{"RFC 5118 §4.3 port inside the reference", "sip:[2001:db8::10:5070]", "sip:[2001:db8::10]:5070", false},

	// port.
	{"RFC 3261 §19.1.4 port", "sip:bob@biloxi.com:5060", "sip:bob@biloxi.com:05060", true},
	{"RFC 3261 §19.1.4 port differs", "sip:bob@biloxi.com:5060", "sip:bob@biloxi.com:5061", false},

	// uri-parameters.
	{"RFC 3261 §19.1.4 transport in one", "sip:bob@biloxi.com;transport=udp", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 transport differs", "sip:bob@biloxi.com;transport=udp", "sip:bob@biloxi.com;transport=tcp", false},
	{"RFC 3261 §19.1.4 transport case", "sip:bob@biloxi.com;TRANSPORT=UDP", "sip:bob@biloxi.com;transport=udp", true},
	{"RFC 3261 §19.1.4 user param in one", "sip:+1212@gateway.com;user=phone", "sip:+1212@gateway.com", false},
	{"RFC 3261 §19.1.4 user param, default value", "sip:bob@biloxi.com;user=ip", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 ttl in one", "sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 ttl differs", "sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com;ttl=2", false},
	{"RFC 3261 §19.1.4 method in one", "sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 method in both", "sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com;method=INVITE", true},
	{"RFC 3261 §19.1.4 maddr in one", "sip:bob@biloxi.com;maddr=239.255.255.1", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 maddr case", "sip:bob@biloxi.com;maddr=Proxy.Biloxi.com", "sip:bob@biloxi.com;maddr=proxy.biloxi.com", true},
	{"RFC 3261 §19.1.4 maddr IPv6 spellings", "sip:bob@biloxi.com;maddr=[2001:db8::1]", "sip:bob@biloxi.com;maddr=[2001:DB8:0::1]", true},
	{"RFC 3261 §19.1.4 maddr different IPv6", "sip:bob@biloxi.com;maddr=[2001:db8::1]", "sip:bob@biloxi.com;maddr=[2001:db8::2]", false},
	{"RFC 3261 §19.1.4 lr in one is ignored", "sip:proxy.biloxi.com;lr", "sip:proxy.biloxi.com", true},
	{"RFC 3261 §19.1.4 other param in both must match", "sip:bob@biloxi.com;x=1", "sip:bob@biloxi.com;x=2", false},
	{"RFC 3261 §19.1.4 flag vs valued param", "sip:bob@biloxi.com;x", "sip:bob@biloxi.com;x=1", false},
	{"RFC 3261 §19.1.4 param value escapes", "sip:bob@biloxi.com;x=%61b", "sip:bob@biloxi.com;x=AB", true},
	{"RFC 3261 §19.1.4 param name escapes", "sip:bob@biloxi.com;tr%61nsport=tcp", "sip:bob@biloxi.com;transport=tcp", true},
	{"RFC 3261 §19.1.4 escaped param name in one", "sip:bob@biloxi.com;tr%61nsport=tcp", "sip:bob@biloxi.com", false},
	{"RFC 3261 §19.1.4 param value reserved escape", "sip:bob@biloxi.com;x=a%3Ab", "sip:bob@biloxi.com;x=a:b", false},
	{"RFC 4475 §3.1.1.3 esc01 Contact", "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", "sip:caller@host5.example.net;lr;name=valueA", false},
	{"RFC 4475 §3.1.1.3 esc01 Contact, decoded once", "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", "sip:caller@host5.example.net;lr;name=value%2541", true},
	{"RFC 4475 §3.1.1.3 esc01 Contact, name spelled out", "sip:caller@host5.example.net;lr;n%61me=v%61lue%25%34%31", "sip:caller@host5.example.net;name=valueA", false},
	{"a repeated param counts with its first value", "sip:h;x=1;x=2", "sip:h;x=1", true},
	{"a repeated param counts with its first value", "sip:h;x=1;x=2", "sip:h;x=2", false},
	{"a repeated param counts with its first value", "sip:h;x=1;x=2", "sip:h;x=1;x=3", true},

	// headers.
	{"RFC 3261 §19.1.4 headers in one", "sip:carol@chicago.com?Subject=next%20meeting", "sip:carol@chicago.com", false},
	{"RFC 3261 §19.1.4 header order", "sip:h?a=1&b=2&c=3", "sip:h?c=3&a=1&b=2", true},
	{"RFC 3261 §19.1.4 header name case", "sip:h?Subject=x", "sip:h?subject=x", true},
	{"RFC 3261 §19.1.4 header value escapes", "sip:h?subject=project%20x", "sip:h?subject=project%20%78", true},
	{"RFC 3261 §19.1.4 header value differs", "sip:h?subject=x", "sip:h?subject=y", false},
	{"RFC 3261 §19.1.4 header value case", "sip:h?subject=x", "sip:h?subject=X", false},
	{"RFC 3261 §19.1.4 header multiset, repeats", "sip:h?a=1&a=1", "sip:h?a=1", false},
	{"RFC 3261 §19.1.4 header multiset, repeats, other", "sip:h?a=1&a=1", "sip:h?a=1&b=1", false},
	{"RFC 3261 §19.1.4 header multiset, repeats, same", "sip:h?a=1&b=2&a=1", "sip:h?a=1&a=1&b=2", true},
	{"RFC 3261 §19.1.4 header multiset, two values", "sip:h?a=1&a=2", "sip:h?a=2&a=1", true},
	{"RFC 3261 §19.1.4 header multiset, counts differ", "sip:h?a=1&a=2&a=2", "sip:h?a=2&a=1&a=1", false},
	{"RFC 3261 §19.1.4 header empty value", "sip:h?a=", "sip:h?a=x", false},
	{"RFC 3261 §19.1.4 header reserved escape", "sip:h?to=sip:bob%40biloxi.com", "sip:h?to=sip%3Abob%40biloxi.com", false},

	// tel, RFC 3966 §4.
	{"RFC 3966 §4 visual separators", "tel:+1-201-555-0123", "tel:+12015550123", true},
	{"RFC 3966 §4 visual separators", "tel:+1(201)555.0123", "tel:+1-201-555-0123", true},
	{"RFC 3966 §4 different numbers", "tel:+1-201-555-0123", "tel:+1-201-555-0124", false},
	{"RFC 3966 §4 prefix", "tel:+1-201-555-012", "tel:+1-201-555-0123", false},
	{"RFC 3966 §4 global vs local", "tel:+1234;phone-context=+1", "tel:1234;phone-context=+1", false},
	{"RFC 3966 §4 local, domain context case", "tel:7042;phone-context=Example.COM", "tel:7042;phone-context=example.com", true},
	{"RFC 3966 §4 local, different context", "tel:7042;phone-context=example.com", "tel:7042;phone-context=example.net", false},
	{"RFC 3966 §4 local, global context separators", "tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555", true},
	{"RFC 3966 §4 local, global vs domain context", "tel:863-1234;phone-context=+1-914-555", "tel:863-1234;phone-context=1-914-555.example", false},
	{"RFC 3966 §4 local hex digits case", "tel:AB-12;phone-context=example.com", "tel:ab12;phone-context=example.com", true},
	{"RFC 3966 §4 parameter order", "tel:+1-201-555-0123;ext=1;isub=2", "tel:+1-201-555-0123;isub=2;ext=1", true},
	{"RFC 3966 §4 parameter in one", "tel:+1-201-555-0123;ext=1", "tel:+1-201-555-0123", false},
	{"RFC 3966 §4 unknown parameter in one", "tel:+1-201-555-0123;foo=bar", "tel:+1-201-555-0123", false},
	{"RFC 3966 §4 different parameter", "tel:+1-201-555-0123;ext=1", "tel:+1-201-555-0123;isub=1", false},
	{"RFC 3966 §4 ext separators", "tel:+1-201-555-0123;ext=1-2", "tel:+1-201-555-0123;ext=12", true},
	{"RFC 3966 §4 case-insensitive", "tel:+1-201-555-0123;FOO=Bar", "TEL:+1-201-555-0123;foo=bar", true},
	{"RFC 3966 §4 flag", "tel:+1-201-555-0123;foo", "tel:+1-201-555-0123;foo", true},
	{"RFC 3966 §4 flag vs value", "tel:+1-201-555-0123;foo", "tel:+1-201-555-0123;foo=1", false},
	{"RFC 3966 §4 escapes", "tel:+1;isub=%61", "tel:+1;isub=a", true},
	{"RFC 3966 §4 duplicate names stay symmetric", "tel:+1;x=1;x=1", "tel:+1;x=1;y=1", false},
	{"RFC 3966 §4 a repeated param counts with its first value", "tel:+1;x=1;x=2", "tel:+1;x=1;X=3", true},
	{"RFC 3966 §4 a repeated param counts with its first value", "tel:+1;x=1;x=2", "tel:+1;x=2;x=1", false},

	// Any other scheme.
	{"RFC 4475 §3.1.1.13 unksm2", "http://www.example.com", "http://www.example.com", true},
	{"absolute scheme case", "HTTP://www.example.com", "http://www.example.com", true},
	{"absolute rest is case-sensitive", "http://www.example.com/A", "http://www.example.com/a", false},
	{"absolute escapes", "urn:%61b", "urn:ab", true},
	{"absolute reserved escape", "urn:a%3Ab", "urn:a:b", false},
	{"absolute schemes differ", "isbn:2983792873", "urn:2983792873", false},
}

func TestEqual(t *testing.T) {
	for _, tc := range equalCases {
		a, err := Parse(tc.a)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tc.ref, tc.a, err)
		}
		b, err := Parse(tc.b)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tc.ref, tc.b, err)
		}
		if got := Equal(a, b); got != tc.equal {
			t.Errorf("%s: Equal(%q, %q) = %v, want %v", tc.ref, tc.a, tc.b, got, tc.equal)
		}
		if got := Equal(b, a); got != tc.equal {
			t.Errorf("%s: Equal(%q, %q) = %v, want %v", tc.ref, tc.b, tc.a, got, tc.equal)
		}
		if !Equal(a, a) || !Equal(b, b) {
			t.Errorf("%s: not reflexive", tc.ref)
		}
	}
}

// TestEqualZero checks that Equal never panics on URIs that were not parsed.
func TestEqualZero(t *testing.T) {
	for _, u := range []URI{{}, {Scheme: SIP}, {Scheme: SIPS}, {Scheme: Tel}, {Scheme: Tel, User: "+"}, {Scheme: Absolute, Opaque: "x"}} {
		if !Equal(u, u) {
			t.Errorf("Equal(%#v, itself) = false", u)
		}
	}
	if Equal(URI{Scheme: Tel}, URI{Scheme: Tel, User: "+1"}) {
		t.Errorf("empty tel equals +1")
	}
}

func TestEqualManyHeaders(t *testing.T) {
	// More than 64 header items takes the allocating path.
	a, b := "sip:h?", "sip:h?"
	for i := 0; i < 70; i++ {
		if i > 0 {
			a += "&"
			b += "&"
		}
		a += "h" + string(rune('a'+i%26)) + "=" + string(rune('0'+i%10))
		j := 69 - i
		b += "h" + string(rune('a'+j%26)) + "=" + string(rune('0'+j%10))
	}
	ua, err := Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(ua, ub) {
		t.Errorf("70 reordered headers are not equal")
	}
	uc, _ := Parse(b[:len(b)-1] + "x")
	if Equal(ua, uc) {
		t.Errorf("70 headers, one different, are equal")
	}
}

func TestEqualDoesNotAllocate(t *testing.T) {
	a, _ := Parse("sip:%61lice@AtLanTa.CoM;Transport=tcp;n%61me=x?subject=project%20x&priority=urgent")
	b, _ := Parse("sip:alice@atlanta.com;transport=TCP;name=X?priority=urgent&Subject=project%20x")
	if !Equal(a, b) {
		t.Fatal("not equal")
	}
	if n := testing.AllocsPerRun(100, func() { Equal(a, b) }); n != 0 {
		t.Errorf("Equal allocates %v times", n)
	}
}
