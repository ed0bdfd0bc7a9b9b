// Package uri parses, renders and compares the URIs SIP carries: sip and
// sips (RFC 3261 §19.1), tel (RFC 3966), and any other absolute URI, which is
// kept opaque.
//
// A URI's components are kept in their escaped form, exactly as written, so
// that rendering never changes what a peer sent and nothing is ever unescaped
// twice. Decoding is explicit (DecodedUser, Unescape) and happens once.
//
// Parsing does not allocate for sip, sips and tel URIs: every component is a
// substring of the input.
package uri

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sansip/sansip/internal/abnf"
)

// Scheme identifies the kind of a URI.
type Scheme uint8

// The schemes sansip understands. Absolute covers every other scheme.
const (
	Absolute Scheme = iota // any other scheme, kept opaque in URI.Opaque
	SIP                    // sip: (RFC 3261 §19.1)
	SIPS                   // sips: (RFC 3261 §19.1)
	Tel                    // tel: (RFC 3966)
)

// String returns the scheme name in lower case, or "absolute".
func (s Scheme) String() string {
	switch s {
	case SIP:
		return "sip"
	case SIPS:
		return "sips"
	case Tel:
		return "tel"
	}
	return "absolute"
}

// URI is a parsed URI. The zero value is not a valid URI.
//
// For sip and sips URIs, User, Password, Host, Port, Params and Headers hold
// the components as written (escaped). For tel URIs, User holds the
// telephone-subscriber's number and Params its parameters. For any other
// scheme, Opaque holds the whole URI text and the other fields are empty.
type URI struct {
	Scheme   Scheme
	User     string // user or telephone-subscriber, escaped as written; "" if none
	Password string // password, escaped as written; "" if none
	Host     string // hostname, IPv4 address, or IPv6 reference with its brackets
	Port     uint16 // 0 when the URI has no port
	Params   Params // uri-parameters: ";name=value;flag", escaped as written
	Headers  string // the headers component without its '?': "name=value&name2=value2"
	Opaque   string // for Absolute: the whole URI, scheme included
}

// Errors returned by Parse, matchable with errors.Is.
var (
	ErrSyntax = errors.New("malformed URI")
	ErrScheme = errors.New("malformed URI scheme")
	ErrHost   = errors.New("malformed host")
	ErrPort   = errors.New("malformed port")
	ErrUser   = errors.New("malformed user part")
	ErrParam  = errors.New("malformed URI parameter")
	ErrHeader = errors.New("malformed URI header")
)

// Error is a URI parse error: what is wrong (Err, one of the sentinels
// above) and at which byte offset of the URI text.
type Error struct {
	Offset int
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("uri: %v at offset %d", e.Err, e.Offset) }

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func fail(off int, err error) error { return &Error{Offset: off, Err: err} }

// Parse parses a URI in any scheme. sip, sips and tel URIs are parsed into
// their components; any other syntactically valid absolute URI is kept in
// Opaque.
func Parse(s string) (URI, error) {
	var u URI
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			colon = i
			break
		}
		if !abnf.Is(c, abnf.SchemeChar) || (i == 0 && !isAlpha(c)) {
			return u, fail(i, ErrScheme)
		}
	}
	if colon <= 0 {
		return u, fail(0, ErrScheme)
	}
	scheme := s[:colon]
	switch {
	case abnf.EqualFold(scheme, "sip"):
		u.Scheme = SIP
		return u, u.parseSIP(s, colon+1)
	case abnf.EqualFold(scheme, "sips"):
		u.Scheme = SIPS
		return u, u.parseSIP(s, colon+1)
	case abnf.EqualFold(scheme, "tel"):
		u.Scheme = Tel
		return u, u.parseTel(s, colon+1)
	}
	u.Scheme = Absolute
	if colon+1 >= len(s) {
		return u, fail(colon+1, ErrSyntax)
	}
	for i := colon + 1; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || abnf.Unhex(s[i+1]) < 0 || abnf.Unhex(s[i+2]) < 0 {
				return u, fail(i, ErrSyntax)
			}
			i += 2
			continue
		}
		if !abnf.Is(c, abnf.Unreserved|abnf.Reserved) && c != '#' && c != '[' && c != ']' {
			return u, fail(i, ErrSyntax)
		}
	}
	u.Opaque = s
	return u, nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func (u *URI) parseSIP(s string, i int) error {
	// userinfo: everything before the first '@'. Neither '@' nor any of the
	// delimiters after hostport may appear unescaped in a user, so the first
	// '@' ends it (RFC 4475 semiuri: "user;par=u%40example.net").
	if at := strings.IndexByte(s[i:], '@'); at >= 0 {
		at += i
		userinfo := s[i:at]
		user, pass := userinfo, ""
		if c := strings.IndexByte(userinfo, ':'); c >= 0 {
			user, pass = userinfo[:c], userinfo[c+1:]
		}
		if user == "" || !abnf.Escaped(user, abnf.Unreserved|abnf.UserExtra) {
			return fail(i, ErrUser)
		}
		if !abnf.Escaped(pass, abnf.Unreserved|abnf.PasswordExtra) {
			return fail(i+len(user)+1, ErrUser)
		}
		u.User, u.Password = user, pass
		i = at + 1
	}
	end, err := u.parseHostPort(s, i)
	if err != nil {
		return err
	}
	i = end
	if i < len(s) && s[i] == ';' {
		start := i
		if q := strings.IndexByte(s[i:], '?'); q >= 0 {
			i += q
		} else {
			i = len(s)
		}
		if err := checkParams(s[start:i], start); err != nil {
			return err
		}
		u.Params = Params(s[start:i])
	}
	if i < len(s) && s[i] == '?' {
		if err := checkHeaders(s[i+1:], i+1); err != nil {
			return err
		}
		u.Headers = s[i+1:]
		i = len(s)
	}
	if i != len(s) {
		return fail(i, ErrSyntax)
	}
	return nil
}

// parseHostPort parses host [":" port] at s[i:] and returns the offset just
// past it.
func (u *URI) parseHostPort(s string, i int) (int, error) {
	start := i
	if i < len(s) && s[i] == '[' {
		j := i + 1
		for j < len(s) && s[j] != ']' {
			j++
		}
		if j >= len(s) || !validIPv6(s[i+1:j]) {
			return i, fail(i, ErrHost)
		}
		i = j + 1
	} else {
		end, ok := scanHostname(s, i)
		if !ok {
			return start, fail(start, ErrHost)
		}
		i = end
	}
	u.Host = s[start:i]
	if i < len(s) && s[i] == ':' {
		j := abnf.Span(s, i+1, abnf.Alnum)
		p, ok := abnf.ParseUint(s[i+1:j], 65535)
		if !ok || p == 0 {
			return i, fail(i+1, ErrPort)
		}
		u.Port = uint16(p)
		i = j
	}
	return i, nil
}

// validHostname checks hostname / IPv4address (RFC 3261 §25.1). A name made
// only of digits and dots must be a dotted-quad IPv4 address (so that
// "sip:2001:db8::10" is rejected, RFC 5118 §4.2). Labels are alphanumeric
// with inner hyphens; a trailing dot is allowed.
func validHostname(h string) bool {
	end, ok := scanHostname(h, 0)
	return ok && end == len(h)
}

// scanHostname reads the longest run of hostname characters (alphanumerics,
// '-', '.') from s[i:] and checks it as validHostname documents, in one
// pass. It returns where the run ends.
func scanHostname(s string, i int) (int, bool) {
	start, label := i, i
	numeric := true
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			numeric = false
		case c >= '0' && c <= '9':
		case c == '.':
			if i == label || s[i-1] == '-' {
				return i, false
			}
			label = i + 1
		case c == '-':
			if i == label {
				return i, false
			}
			numeric = false
		default:
			goto done
		}
	}
done:
	if i == start || (i > label && s[i-1] == '-') {
		return i, false
	}
	if numeric {
		return i, validIPv4(s[start:i])
	}
	return i, true
}

func validIPv4(h string) bool {
	_, ok := parseIPv4(h)
	return ok
}

// parseIPv4 parses IPv4address (RFC 3261 §25.1): four dot-separated
// decimal octets of one to three digits each (leading zeros allowed).
func parseIPv4(h string) ([4]byte, bool) {
	var b [4]byte
	for n := 0; n < 4; n++ {
		j := 0
		for j < len(h) && h[j] != '.' {
			j++
		}
		v, ok := abnf.ParseUint(h[:j], 255)
		if !ok || j > 3 {
			return b, false
		}
		b[n] = byte(v)
		if n < 3 {
			if j == len(h) {
				return b, false
			}
			h = h[j+1:]
		} else if j != len(h) {
			return b, false
		}
	}
	return b, true
}

// validIPv6 checks the text inside an IPv6 reference (RFC 5118).
func validIPv6(h string) bool {
	_, ok := parseIPv6(h)
	return ok
}

// parseIPv6 parses the text inside an IPv6 reference. It accepts what
// RFC 4291 allows, without a zone and never a bare IPv4 address, and, as
// RFC 5118 §4.10 asks, the three-colon form that RFC 3261's ABNF admits
// before an IPv4 tail ("2001:db8:::192.0.2.1", the same address as
// "2001:db8::192.0.2.1"). It does not allocate for valid input.
func parseIPv6(h string) (netip.Addr, bool) {
	if len(h) < 2 {
		return netip.Addr{}, false
	}
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == ':' && i+2 < len(h) && h[i+1] == ':' && h[i+2] == ':':
			return parseIPv6ThreeColons(h[:i], h[i+3:])
		case c != ':' && c != '.' && !abnf.Is(c, abnf.HexDigit):
			return netip.Addr{}, false // a zone, or anything else
		}
	}
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// parseIPv6ThreeColons parses RFC 3261's hexseq "::" ":" IPv4address (or
// "::" ":" IPv4address when head is empty): head must be hex groups joined
// by single colons, and leave room for the "::" to stand for at least one
// group of zeros.
func parseIPv6ThreeColons(head, v4 string) (netip.Addr, bool) {
	tail, ok := parseIPv4(v4)
	if !ok {
		return netip.Addr{}, false
	}
	var b [16]byte
	n := 0
	for len(head) > 0 {
		j := abnf.Span(head, 0, abnf.HexDigit)
		if j == 0 || j > 4 || n == 5 {
			return netip.Addr{}, false
		}
		var g uint16
		for k := 0; k < j; k++ {
			g = g<<4 | uint16(abnf.Unhex(head[k]))
		}
		b[2*n], b[2*n+1] = byte(g>>8), byte(g)
		n++
		if j == len(head) {
			break
		}
		if head[j] != ':' || j+1 == len(head) {
			return netip.Addr{}, false
		}
		head = head[j+1:]
	}
	copy(b[12:], tail[:])
	return netip.AddrFrom16(b), true
}

// checkParams validates ";pname[=pvalue]" items; off is p's offset in the URI.
func checkParams(p string, off int) error {
	for i := 0; i < len(p); {
		if p[i] != ';' {
			return fail(off+i, ErrParam)
		}
		j := i + 1
		for j < len(p) && p[j] != ';' && p[j] != '=' {
			j++
		}
		if j == i+1 || !abnf.Escaped(p[i+1:j], abnf.Unreserved|abnf.ParamExtra) {
			return fail(off+i+1, ErrParam)
		}
		if j < len(p) && p[j] == '=' {
			k := j + 1
			for k < len(p) && p[k] != ';' {
				k++
			}
			if k == j+1 || !abnf.Escaped(p[j+1:k], abnf.Unreserved|abnf.ParamExtra) {
				return fail(off+j+1, ErrParam)
			}
			j = k
		}
		i = j
	}
	return nil
}

// checkHeaders validates "hname=hvalue *(&hname=hvalue)".
func checkHeaders(h string, off int) error {
	if h == "" {
		return fail(off, ErrHeader)
	}
	for i := 0; i <= len(h); {
		j := i
		for j < len(h) && h[j] != '&' {
			j++
		}
		item := h[i:j]
		eq := -1
		for k := 0; k < len(item); k++ {
			if item[k] == '=' {
				eq = k
				break
			}
		}
		if eq <= 0 || !abnf.Escaped(item[:eq], abnf.Unreserved|abnf.HeaderExtra) ||
			!abnf.Escaped(item[eq+1:], abnf.Unreserved|abnf.HeaderExtra) {
			return fail(off+i, ErrHeader)
		}
		if j == len(h) {
			break
		}
		i = j + 1
	}
	return nil
}

// parseTel parses a tel URI (RFC 3966 §3): a global number ("+" digits with
// visual separators) or a local number (hex digits, "*", "#", separators)
// followed by parameters. A local number needs a phone-context parameter.
func (u *URI) parseTel(s string, i int) error {
	start := i
	for i < len(s) && s[i] != ';' {
		i++
	}
	num := s[start:i]
	if !validTelNumber(num) {
		return fail(start, ErrUser)
	}
	if i < len(s) {
		if err := checkParams(s[i:], i); err != nil {
			return err
		}
		u.Params = Params(s[i:])
	}
	if num[0] != '+' {
		// A local number needs its context (RFC 3966 §5.1.5).
		ctx, ok := u.Params.Get("phone-context")
		if !ok {
			return fail(start, ErrUser)
		}
		if !validPhoneContext(ctx) {
			return fail(start+len(num), ErrParam)
		}
	}
	u.User = num
	return nil
}

// validPhoneContext checks descriptor = domainname / global-number-digits
// (RFC 3966 §3).
func validPhoneContext(d string) bool {
	if d != "" && d[0] == '+' {
		return validTelNumber(d)
	}
	return validHostname(d) && !validIPv4(d)
}

func validTelNumber(n string) bool {
	if n == "" {
		return false
	}
	digits := 0
	if n[0] == '+' {
		for i := 1; i < len(n); i++ {
			switch c := n[i]; {
			case c >= '0' && c <= '9':
				digits++
			case isVisualSeparator(c):
			default:
				return false
			}
		}
		return digits > 0
	}
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case abnf.Is(c, abnf.HexDigit) || c == '*' || c == '#':
			digits++
		case isVisualSeparator(c):
		default:
			return false
		}
	}
	return digits > 0
}

func isVisualSeparator(c byte) bool { return c == '-' || c == '.' || c == '(' || c == ')' }

// AppendTo appends the URI's text to b.
func (u URI) AppendTo(b []byte) []byte {
	switch u.Scheme {
	case SIP:
		b = append(b, "sip:"...)
	case SIPS:
		b = append(b, "sips:"...)
	case Tel:
		b = append(b, "tel:"...)
		b = append(b, u.User...)
		return append(b, u.Params...)
	default:
		return append(b, u.Opaque...)
	}
	if u.User != "" {
		b = append(b, u.User...)
		if u.Password != "" {
			b = append(b, ':')
			b = append(b, u.Password...)
		}
		b = append(b, '@')
	}
	b = append(b, u.Host...)
	if u.Port != 0 {
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(u.Port), 10)
	}
	b = append(b, u.Params...)
	if u.Headers != "" {
		b = append(b, '?')
		b = append(b, u.Headers...)
	}
	return b
}

// String returns the URI's text.
func (u URI) String() string {
	var buf [128]byte
	return string(u.AppendTo(buf[:0]))
}

// IsSIP reports whether the URI is a sip or sips URI.
func (u URI) IsSIP() bool { return u.Scheme == SIP || u.Scheme == SIPS }

// SchemeName returns the scheme as written for absolute URIs, or the
// canonical lower-case name for sip, sips and tel.
func (u URI) SchemeName() string {
	if u.Scheme != Absolute {
		return u.Scheme.String()
	}
	for i := 0; i < len(u.Opaque); i++ {
		if u.Opaque[i] == ':' {
			return u.Opaque[:i]
		}
	}
	return ""
}

// HostPort returns "host" or "host:port".
func (u URI) HostPort() string {
	if u.Port == 0 {
		return u.Host
	}
	return u.Host + ":" + strconv.Itoa(int(u.Port))
}

// Hostname returns the host without the brackets of an IPv6 reference.
func (u URI) Hostname() string {
	if len(u.Host) > 1 && u.Host[0] == '[' {
		return u.Host[1 : len(u.Host)-1]
	}
	return u.Host
}

// Addr returns the host as an IP address, if it is an IPv4 address or an
// IPv6 reference (the RFC 5118 §4.10 three-colon form included).
func (u URI) Addr() (netip.Addr, bool) {
	h := u.Host
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return parseIPv6(h[1 : len(h)-1])
	}
	if b, ok := parseIPv4(h); ok {
		return netip.AddrFrom4(b), true
	}
	return netip.Addr{}, false
}

// DecodedUser returns the user part with its escapes decoded once.
func (u URI) DecodedUser() (string, error) { return Unescape(u.User) }

// Transport returns the transport parameter in lower case, or "".
func (u URI) Transport() string {
	v, _ := u.Params.Get("transport")
	return abnf.Lower(v)
}

// WithParam returns a copy of u with the uri-parameter name set to value
// (escaped here), or to a flag when value is "".
func (u URI) WithParam(name, value string) URI {
	u.Params = u.Params.with(EscapeParam(name), EscapeParam(value), value != "")
	return u
}

// WithoutParam returns a copy of u without the uri-parameter name (matched
// as Params.Get matches it).
func (u URI) WithoutParam(name string) URI {
	u.Params = u.Params.without(name)
	return u
}

// Validate checks that the URI's fields hold what Parse would accept, so
// that rendering it cannot produce text that breaks the grammar. Code that
// builds a URI from parts calls it before use.
func (u URI) Validate() error {
	v, err := Parse(u.String())
	if err != nil {
		return err
	}
	if !Identical(u, v) {
		return fail(0, ErrSyntax)
	}
	return nil
}

// Identical reports whether a and b have exactly the same components, as
// written. Equal implements the protocol's equality instead.
func Identical(a, b URI) bool { return a == b }

// ScanHost reads a host (hostname, IPv4 address or bracketed IPv6
// reference) at s[i:] and returns where it ends, and whether it is valid.
func ScanHost(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '[' {
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			return i, false
		}
		return i + j + 1, validIPv6(s[i+1 : i+j])
	}
	return scanHostname(s, i)
}

// ValidHost reports whether h is a hostname, an IPv4 address or an IPv6
// reference (with brackets), as RFC 3261 §25.1 and RFC 5118 allow.
func ValidHost(h string) bool {
	if len(h) > 1 && h[0] == '[' {
		return h[len(h)-1] == ']' && validIPv6(h[1:len(h)-1])
	}
	return validHostname(h)
}
