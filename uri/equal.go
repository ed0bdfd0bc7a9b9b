package uri

import (
	"github.com/sansip/sansip/internal/abnf"
)

// Equal reports whether a and b are equivalent.
//
// For sip and sips it follows RFC 3261 §19.1.4: the schemes must be the
// same; user and password compare case-sensitively, host case-insensitively
// (IPv6 references as addresses) and port exactly (an absent port never
// equals an explicit one); an escaped character other than a reserved one
// equals its literal form; the user, ttl, method, maddr and transport
// parameters must be present in both or neither and match; other
// parameters must match when present in both and are ignored otherwise;
// headers must all be present in both and match, in any order (names
// case-insensitively, values exactly).
//
// For tel it follows RFC 3966 §4: both numbers must be global or both local
// and compare without visual separators; both must have the same set of
// parameters with equal values, in any order; phone-context and ext values
// that are numbers compare without visual separators; everything compares
// case-insensitively. Other schemes compare case-insensitively in the scheme
// and exactly, after normalising escapes, in the rest.
//
// A parameter repeated in one URI counts with its first value, the one
// Params.Get returns. Equal does not allocate unless a URI has more than 64
// headers.
func Equal(a, b URI) bool {
	if a.Scheme != b.Scheme {
		return false
	}
	switch a.Scheme {
	case SIP, SIPS:
		return equalSIP(a, b)
	case Tel:
		return equalTel(a, b)
	}
	sa, sb := a.SchemeName(), b.SchemeName()
	return abnf.EqualFold(sa, sb) && equalEscaped(a.Opaque[len(sa):], b.Opaque[len(sb):], false)
}

// sipParamsPresence lists the uri-parameters that must be present in both
// URIs or in neither (RFC 3261 §19.1.4).
var sipParamsPresence = [...]string{"user", "ttl", "method", "maddr", "transport"}

func equalSIP(a, b URI) bool {
	if a.Port != b.Port ||
		!equalEscaped(a.User, b.User, false) ||
		!equalEscaped(a.Password, b.Password, false) ||
		!equalHost(a.Host, b.Host) {
		return false
	}
	for _, name := range sipParamsPresence {
		if a.Params.Has(name) != b.Params.Has(name) {
			return false
		}
	}
	// Any parameter in both must match; checking from both sides keeps
	// Equal symmetric when a name is repeated.
	if !paramsMatch(a.Params, b.Params) || !paramsMatch(b.Params, a.Params) {
		return false
	}
	return equalHeaders(a.Headers, b.Headers)
}

// paramsMatch reports whether every parameter of a that b also has holds
// the same value there (compared case-insensitively, escapes normalised).
func paramsMatch(a, b Params) bool {
	for i := 0; i < len(a); {
		n, va, _, next := abnf.NextParam(string(a), i, ';')
		if !a[:i].Has(n) { // a repeated name counts with its first value
			if vb, ok := b.Get(n); ok && !equalEscaped(va, vb, true) &&
				!(paramNameEqual(n, "maddr") && equalHost(va, vb)) {
				return false
			}
		}
		i = next
	}
	return true
}

func equalHost(a, b string) bool {
	if abnf.EqualFold(a, b) {
		return true
	}
	if len(a) > 2 && a[0] == '[' && a[len(a)-1] == ']' && len(b) > 2 && b[0] == '[' && b[len(b)-1] == ']' {
		x, ok1 := parseIPv6(a[1 : len(a)-1])
		y, ok2 := parseIPv6(b[1 : len(b)-1])
		return ok1 && ok2 && x == y
	}
	return false
}

// equalHeaders compares two URI header components as multisets of
// name=value items: names case-insensitively, values exactly, escapes of
// non-reserved characters equal to their literal form.
func equalHeaders(a, b string) bool {
	if a == b {
		return true
	}
	na, nb := countHeaders(a), countHeaders(b)
	if na != nb {
		return false
	}
	var small uint64
	var big []bool
	if nb > 64 {
		big = make([]bool, nb)
	}
	used := func(j int) bool {
		if big != nil {
			return big[j]
		}
		return small&(1<<j) != 0
	}
outer:
	for i := 0; i < len(a); {
		xn, xv, next := nextHeader(a, i)
		i = next
		for j, k := 0, 0; k < len(b); j++ {
			yn, yv, kn := nextHeader(b, k)
			k = kn
			if !used(j) && equalEscaped(xn, yn, true) && equalEscaped(xv, yv, false) {
				if big != nil {
					big[j] = true
				} else {
					small |= 1 << j
				}
				continue outer
			}
		}
		return false
	}
	return true
}

func countHeaders(h string) int {
	n := 0
	for i := 0; i < len(h); n++ {
		_, _, i = nextHeader(h, i)
	}
	return n
}

// nextHeader reads the header item at h[i:] ("name=value") and returns its
// name, its value and the offset of the next item, past the '&'.
func nextHeader(h string, i int) (name, value string, next int) {
	j := i
	for j < len(h) && h[j] != '&' {
		j++
	}
	item := h[i:j]
	name = item
	for k := 0; k < len(item); k++ {
		if item[k] == '=' {
			name, value = item[:k], item[k+1:]
			break
		}
	}
	if j < len(h) {
		j++ // '&'
	}
	return name, value, j
}

func equalTel(a, b URI) bool {
	if isGlobal(a.User) != isGlobal(b.User) || !equalDigits(a.User, b.User) {
		return false
	}
	if a.Params.Len() != b.Params.Len() {
		return false
	}
	return telParamsMatch(a.Params, b.Params) && telParamsMatch(b.Params, a.Params)
}

// telParamsMatch reports whether every parameter of a is in b with an
// equal value (RFC 3966 §4).
func telParamsMatch(a, b Params) bool {
	for i := 0; i < len(a); {
		n, va, _, next := abnf.NextParam(string(a), i, ';')
		first := !a[:i].Has(n) // a repeated name counts with its first value
		i = next
		if !first {
			continue
		}
		vb, ok := b.Get(n)
		if !ok {
			return false
		}
		switch {
		case paramNameEqual(n, "phone-context") && isGlobal(va):
			if !isGlobal(vb) || !equalDigits(va, vb) {
				return false
			}
		case paramNameEqual(n, "ext"):
			if !equalDigits(va, vb) {
				return false
			}
		default:
			if !equalEscaped(va, vb, true) {
				return false
			}
		}
	}
	return true
}

func isGlobal(n string) bool { return n != "" && n[0] == '+' }

// equalDigits compares two phone numbers case-insensitively (local numbers
// may hold hex digits), ignoring visual separators.
func equalDigits(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isVisualSeparator(a[i]) {
			i++
		}
		for j < len(b) && isVisualSeparator(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i++
		j++
	}
}

// equalEscaped compares two escaped components octet by octet after
// decoding "%" HEX HEX once. As RFC 3261 §19.1.4 says, a character other
// than a reserved one (RFC 2396: ";/?:@&=+$,") equals its escaped form; a
// reserved character matches only a character escaped the same way. '%'
// itself must be escaped alike too, so that a stray '%' never matches
// "%25". With fold, ASCII letters compare case-insensitively. It does not
// allocate.
func equalEscaped(a, b string, fold bool) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, ea, ni := octet(a, i)
		cb, eb, nj := octet(b, j)
		if fold {
			ca, cb = lower(ca), lower(cb)
		}
		if ca != cb || (ea != eb && (ca == '%' || abnf.Is(ca, abnf.Reserved))) {
			return false
		}
		i, j = ni, nj
	}
	return i == len(a) && j == len(b)
}

// octet returns the octet at s[i], decoding an escape, whether it was
// escaped, and the offset of the next one.
func octet(s string, i int) (c byte, escaped bool, next int) {
	if s[i] == '%' && i+2 < len(s) {
		hi, lo := abnf.Unhex(s[i+1]), abnf.Unhex(s[i+2])
		if hi >= 0 && lo >= 0 {
			return byte(hi<<4 | lo), true, i + 3
		}
	}
	return s[i], false, i + 1
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
