package uri

import (
	"net/netip"

	"github.com/sansip/sansip/internal/abnf"
)

// Equal reports whether a and b are equivalent.
//
// For sip and sips it follows RFC 3261 §19.1.4: the schemes must be the
// same; user and password compare case-sensitively, host case-insensitively
// and port exactly (an absent port never equals an explicit one); escaped
// characters other than reserved ones equal their unescaped form; the user,
// ttl, method, maddr and transport parameters must be present in both or
// neither and match; other parameters must match when present in both and
// are ignored otherwise; headers must all be present in both and match, in
// any order.
//
// For tel it follows RFC 3966 §4: the numbers compare without visual
// separators, and both must have the same set of parameters with equal
// values, in any order. Other schemes compare case-insensitively in the
// scheme and exactly, after normalising escapes, in the rest.
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
	return abnf.EqualFold(sa, sb) && canonical(a.Opaque[len(sa):], false) == canonical(b.Opaque[len(sb):], false)
}

func equalSIP(a, b URI) bool {
	if a.Port != b.Port ||
		canonical(a.User, false) != canonical(b.User, false) ||
		canonical(a.Password, false) != canonical(b.Password, false) ||
		!equalHost(a.Host, b.Host) {
		return false
	}
	for _, name := range [...]string{"user", "ttl", "method", "maddr", "transport"} {
		va, oka := a.Params.Get(name)
		vb, okb := b.Params.Get(name)
		if oka != okb || (oka && canonical(va, true) != canonical(vb, true)) {
			return false
		}
	}
	for n, va := range a.Params.All() {
		if vb, ok := b.Params.Get(n); ok && canonical(va, true) != canonical(vb, true) {
			return false
		}
	}
	return equalHeaders(a.Headers, b.Headers)
}

func equalHost(a, b string) bool {
	if abnf.EqualFold(a, b) {
		return true
	}
	if len(a) > 2 && a[0] == '[' && len(b) > 2 && b[0] == '[' {
		x, err1 := netip.ParseAddr(a[1 : len(a)-1])
		y, err2 := netip.ParseAddr(b[1 : len(b)-1])
		return err1 == nil && err2 == nil && x == y
	}
	return false
}

// equalHeaders compares two URI header components as multisets of
// name=value items: names case-insensitively, values after normalising
// escapes.
func equalHeaders(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := splitHeaders(a), splitHeaders(b)
	if len(ia) != len(ib) {
		return false
	}
	used := make([]bool, len(ib))
outer:
	for _, x := range ia {
		for j, y := range ib {
			if !used[j] && abnf.EqualFold(canonical(x[0], false), canonical(y[0], false)) &&
				canonical(x[1], false) == canonical(y[1], false) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func splitHeaders(h string) [][2]string {
	if h == "" {
		return nil
	}
	var out [][2]string
	for len(h) > 0 {
		j := 0
		for j < len(h) && h[j] != '&' {
			j++
		}
		item := h[:j]
		name, value := item, ""
		for k := 0; k < len(item); k++ {
			if item[k] == '=' {
				name, value = item[:k], item[k+1:]
				break
			}
		}
		out = append(out, [2]string{name, value})
		if j == len(h) {
			break
		}
		h = h[j+1:]
	}
	return out
}

func equalTel(a, b URI) bool {
	if (a.User[0] == '+') != (b.User[0] == '+') || !abnf.EqualFold(telDigits(a.User), telDigits(b.User)) {
		return false
	}
	if a.Params.Len() != b.Params.Len() {
		return false
	}
	for n, va := range a.Params.All() {
		vb, ok := b.Params.Get(n)
		if !ok {
			return false
		}
		if abnf.EqualFold(n, "phone-context") && len(va) > 0 && va[0] == '+' {
			va, vb = telDigits(va), telDigits(vb)
		}
		if canonical(va, true) != canonical(vb, true) {
			return false
		}
	}
	return true
}

// telDigits drops visual separators from a phone number.
func telDigits(n string) string {
	clean := true
	for i := 0; i < len(n); i++ {
		if isVisualSeparator(n[i]) {
			clean = false
			break
		}
	}
	if clean {
		return n
	}
	b := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if !isVisualSeparator(n[i]) {
			b = append(b, n[i])
		}
	}
	return string(b)
}
