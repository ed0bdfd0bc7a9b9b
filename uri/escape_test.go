package uri

import (
	"errors"
	"strings"
	"testing"
)

// The character sets of RFC 3261 §25.1, spelled out here independently of
// internal/abnf's tables.
const (
	alphanum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mark          = "-_.!~*'()"
	unreserved    = alphanum + mark
	userUnres     = "&=+$,;?/"
	passwordExtra = "&=+$,"
	paramUnres    = "[]/:&+$"
	hnvUnres      = "[]/?:+$"
)

func TestEscapeExamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(string) string
		in   string
		want string
	}{
		{"EscapeUser", EscapeUser, "a b@c", "a%20b%40c"},
		{"EscapeUser", EscapeUser, "alice", "alice"},
		{"EscapeUser", EscapeUser, "", ""},
		{"EscapeUser", EscapeUser, "sips:user@example.com", "sips%3Auser%40example.com"},   // RFC 4475 esc01
		{"EscapeUser", EscapeUser, "user;par=u@example.net", "user;par=u%40example.net"},   // RFC 4475 semiuri
		{"EscapeUser", EscapeUser, "null-\x00-null", "null-%00-null"},                      // RFC 4475 escnull
		{"EscapeUser", EscapeUser, "100%", "100%25"},                                       // '%' is always escaped
		{"EscapeUser", EscapeUser, "+1-212-555-1212", "+1-212-555-1212"},                   // telephone-subscriber
		{"EscapeUser", EscapeUser, "a:b<c>\"d\"é", "a%3Ab%3Cc%3E%22d%22%C3%A9"},            // ':' ends the user
		{"EscapeUser", EscapeUser, unreserved + userUnres, unreserved + userUnres},         // nothing to do
		{"EscapePassword", EscapePassword, "secret word:;?/", "secret%20word%3A%3B%3F%2F"}, // §25.1 password
		{"EscapePassword", EscapePassword, "&=+$,", "&=+$,"},
		{"EscapeParam", EscapeParam, "a;b=c d", "a%3Bb%3Dc%20d"},
		{"EscapeParam", EscapeParam, "[2001:db8::1]/x&+$", "[2001:db8::1]/x&+$"},
		{"EscapeParam", EscapeParam, "?,@", "%3F%2C%40"},
		{"EscapeHeader", EscapeHeader, "a&b=c", "a%26b%3Dc"},
		{"EscapeHeader", EscapeHeader, "project x", "project%20x"},                   // RFC 3261 §19.1.3
		{"EscapeHeader", EscapeHeader, "alice@atlanta.com", "alice%40atlanta.com"},   // RFC 3261 §19.1.3
		{"EscapeHeader", EscapeHeader, "<sip:example.com>", "%3Csip:example.com%3E"}, // RFC 4475 escruri
		{"EscapeHeader", EscapeHeader, "[]/?:+$", "[]/?:+$"},
	} {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestEscapeSets checks every octet against the RFC 3261 §25.1 grammar:
// each helper leaves exactly its component's literal characters alone and
// escapes everything else as "%" HEX HEX with upper-case digits.
func TestEscapeSets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       func(string) string
		literal string
	}{
		{"EscapeUser", EscapeUser, unreserved + userUnres},
		{"EscapePassword", EscapePassword, unreserved + passwordExtra},
		{"EscapeParam", EscapeParam, unreserved + paramUnres},
		{"EscapeHeader", EscapeHeader, unreserved + hnvUnres},
	} {
		for c := 0; c < 256; c++ {
			s := string([]byte{byte(c)})
			want := s
			if !strings.Contains(tc.literal, s) {
				want = "%" + strings.ToUpper(hex2(byte(c)))
			}
			if got := tc.f(s); got != want {
				t.Errorf("%s(%q) = %q, want %q", tc.name, s, got, want)
			}
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// TestEscapeParses checks that what each helper produces is accepted by
// Parse in its place and decodes back to the input.
func TestEscapeParses(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{string(all), "a b@c", "%41", "x", "\x00", "é"} {
		u, err := Parse("sip:" + EscapeUser(s) + ":" + EscapePassword(s) + "@h;" + EscapeParam(s) + "=" + EscapeParam(s) + "?" + EscapeHeader(s) + "=" + EscapeHeader(s))
		if err != nil {
			t.Errorf("escaped %q does not parse: %v", s, err)
			continue
		}
		if d, err := u.DecodedUser(); err != nil || d != s {
			t.Errorf("user: %q, %v; want %q", d, err, s)
		}
		if d, err := Unescape(u.Password); err != nil || d != s {
			t.Errorf("password: %q, %v; want %q", d, err, s)
		}
		if d, ok, err := u.Params.Decoded(EscapeParam(s)); !ok || err != nil || d != s {
			t.Errorf("param: %q, %v, %v; want %q", d, ok, err, s)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", ""},
		{"alice", "alice"},
		{"%61lice", "alice"},
		{"%41%42%43", "ABC"},
		{"%7e%7E", "~~"},
		{"sips%3Auser%40example.com", "sips:user@example.com"}, // RFC 4475 esc01
		{"v%61lue%25%34%31", "value%41"},                       // RFC 4475 esc01: once only
		{"null-%00-null", "null-\x00-null"},                    // RFC 4475 escnull
		{"%00%00", "\x00\x00"},
		{"%C3%A9", "é"},
		{"%ff", "\xff"},
	} {
		got, err := Unescape(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in  string
		off int
	}{
		{"%", 0}, {"a%", 1}, {"%4", 0}, {"a%4", 1}, {"%zz", 0}, {"%4g", 0}, {"%g4", 0}, {"ok%41%2", 5}, {"%%41", 0},
	} {
		got, err := Unescape(tc.in)
		var e *Error
		if !errors.Is(err, ErrEscape) || !errors.As(err, &e) || e.Offset != tc.off {
			t.Errorf("Unescape(%q) = %q, %v; want ErrEscape at %d", tc.in, got, err, tc.off)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Unescape("no-escapes-here") }); n != 0 {
		t.Errorf("Unescape without escapes allocates %v times", n)
	}
}

// TestUnescapeRoundTrip checks Unescape(Escape(x)) == x for every single
// octet and pair of octets, with every helper.
func TestUnescapeRoundTrip(t *testing.T) {
	for _, f := range []func(string) string{EscapeUser, EscapePassword, EscapeParam, EscapeHeader} {
		for a := 0; a < 256; a++ {
			for _, b := range []int{-1, 0, '%', 'A', 0x7f, 0xff} {
				s := string([]byte{byte(a)})
				if b >= 0 {
					s += string([]byte{byte(b)})
				}
				got, err := Unescape(f(s))
				if err != nil || got != s {
					t.Fatalf("Unescape(%q) = %q, %v; want %q", f(s), got, err, s)
				}
			}
		}
	}
}
