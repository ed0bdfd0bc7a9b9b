// Package abnf holds the character classes and small scanners of the RFC 3261
// §25 grammar that the uri and header packages share.
//
// Every function works on strings without allocating, except where its
// documentation says otherwise. Offsets are byte offsets.
package abnf

// Character class bits. A byte may belong to several classes.
const (
	Alnum         uint16 = 1 << iota // ALPHA / DIGIT
	Mark                             // "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
	Token                            // token characters (§25.1)
	Word                             // word characters (§25.1), used by Call-ID
	UserExtra                        // user-unreserved: "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
	PasswordExtra                    // "&" / "=" / "+" / "$" / ","
	ParamExtra                       // param-unreserved: "[" / "]" / "/" / ":" / "&" / "+" / "$"
	HeaderExtra                      // hnv-unreserved: "[" / "]" / "/" / "?" / ":" / "+" / "$"
	Reserved                         // ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
	HexDigit                         // HEXDIG
	Host                             // hostname characters: alnum / "-" / "."
	SchemeChar                       // ALPHA / DIGIT / "+" / "-" / "."
	Text                             // printable US-ASCII %x21-7E
)

// Unreserved is alphanum / mark.
const Unreserved = Alnum | Mark

// Class is the class table, indexed by byte.
var Class [256]uint16

func init() {
	set := func(chars string, bits uint16) {
		for i := 0; i < len(chars); i++ {
			Class[chars[i]] |= bits
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		Class[c] |= Alnum | Token | Word | Host | SchemeChar
		Class[c-'a'+'A'] |= Alnum | Token | Word | Host | SchemeChar
	}
	for c := '0'; c <= '9'; c++ {
		Class[c] |= Alnum | Token | Word | Host | SchemeChar | HexDigit
	}
	set("abcdefABCDEF", HexDigit)
	set("-_.!~*'()", Mark)
	set("-.!%*_+`'~", Token)
	set("-.!%*_+`'~()<>:\\\"/[]?{}", Word)
	set("&=+$,;?/", UserExtra)
	set("&=+$,", PasswordExtra)
	set("[]/:&+$", ParamExtra)
	set("[]/?:+$", HeaderExtra)
	set(";/?:@&=+$,", Reserved)
	set("-.", Host)
	set("+-.", SchemeChar)
	for c := 0x21; c <= 0x7e; c++ {
		Class[c] |= Text
	}
}

// Is reports whether c belongs to any of the classes in bits.
func Is(c byte, bits uint16) bool { return Class[c]&bits != 0 }

// All reports whether s is non-empty and every byte of s is in one of the
// classes in bits.
func All(s string, bits uint16) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if Class[s[i]]&bits == 0 {
			return false
		}
	}
	return true
}

// IsToken reports whether s is a token (§25.1).
func IsToken(s string) bool { return All(s, Token) }

// Span returns the length of the longest prefix of s[i:] whose bytes are all
// in the classes in bits, plus i.
func Span(s string, i int, bits uint16) int {
	for i < len(s) && Class[s[i]]&bits != 0 {
		i++
	}
	return i
}

// SkipWS skips spaces and horizontal tabs from i.
func SkipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// SkipLWS skips linear white space from i: SP, HTAB, and line folds (CRLF
// followed by SP or HTAB), as LWS = [*WSP CRLF] 1*WSP allows.
func SkipLWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t':
			i++
		case '\r':
			if i+2 < len(s) && s[i+1] == '\n' && (s[i+2] == ' ' || s[i+2] == '\t') {
				i += 3
				continue
			}
			return i
		default:
			return i
		}
	}
	return i
}

// TrimLWS removes leading and trailing linear white space.
func TrimLWS(s string) string {
	s = s[SkipLWS(s, 0):]
	j := len(s)
	for j > 0 {
		c := s[j-1]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			j--
			continue
		}
		break
	}
	return s[:j]
}

// HasLWS reports whether s contains SP, HTAB, CR or LF.
func HasLWS(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			return true
		}
	}
	return false
}

// QuotedEnd scans a quoted-string that starts with the DQUOTE at s[i]. It
// returns the offset just past the closing DQUOTE and whether the content
// holds quoted-pairs. ok is false if the string is unterminated or holds a
// character that qdtext and quoted-pair do not allow (a bare CR or LF that is
// not part of a line fold).
func QuotedEnd(s string, i int) (end int, escapes bool, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return i, false, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; c {
		case '"':
			return j + 1, escapes, true
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\r' || s[j+1] == '\n' || s[j+1] >= 0x80 {
				return j, escapes, false
			}
			escapes = true
			j++
		case '\r':
			if j+2 < len(s) && s[j+1] == '\n' && (s[j+2] == ' ' || s[j+2] == '\t') {
				j += 2
				continue
			}
			return j, escapes, false
		case '\n', 0:
			return j, escapes, false
		default:
			if c < 0x20 && c != '\t' {
				return j, escapes, false
			}
		}
	}
	return len(s), escapes, false
}

// Unquote returns the content of the quoted-string q (with its DQUOTEs) with
// quoted-pairs resolved and line folds replaced by a single space. It
// allocates only when q holds a quoted-pair or a fold.
func Unquote(q string) string {
	if len(q) < 2 {
		return ""
	}
	in := q[1 : len(q)-1]
	plain := true
	for i := 0; i < len(in); i++ {
		if in[i] == '\\' || in[i] == '\r' {
			plain = false
			break
		}
	}
	if plain {
		return in
	}
	b := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\\' && i+1 < len(in):
			i++
			b = append(b, in[i])
		case c == '\r' && i+2 < len(in) && in[i+1] == '\n':
			// A fold, CRLF and the white space after it, is one SP, as
			// everywhere else a value is unfolded.
			b = append(b, ' ')
			i += 2
			for i+1 < len(in) && (in[i+1] == ' ' || in[i+1] == '\t') {
				i++
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// AppendQuoted appends s as a quoted-string, escaping DQUOTE and backslash
// and any control character that quoted-pair allows. It reports false,
// appending nothing, if s holds CR or LF, which no quoted-string can carry.
func AppendQuoted(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return b, false
		}
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"'), true
}

// EqualFold reports whether a and b are equal under ASCII case folding.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// Lower returns s in ASCII lower case; it allocates only if s has an upper
// case letter.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ParseUint parses a decimal number of at most max. It accepts leading
// zeros (RFC 4475 wsinv: "0068" is 68) and rejects an empty string, any
// non-digit and any value above max, without overflowing.
func ParseUint(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// Unhex returns the value of a hexadecimal digit, or -1.
func Unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ValidEscapes reports whether every '%' in s starts a valid escape
// ("%" HEXDIG HEXDIG).
func ValidEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || Unhex(s[i+1]) < 0 || Unhex(s[i+2]) < 0 {
				return false
			}
			i += 2
		}
	}
	return true
}

// Escaped reports whether every byte of s is in the classes in bits or part
// of a valid escape. The empty string is allowed.
func Escaped(s string, bits uint16) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || Unhex(s[i+1]) < 0 || Unhex(s[i+2]) < 0 {
				return false
			}
			i += 2
			continue
		}
		if Class[c]&bits == 0 {
			return false
		}
	}
	return true
}
