package uri

import (
	"iter"

	"github.com/sansip/sansip/internal/abnf"
)

// Params is a list of uri-parameters as written, each introduced by ';':
// ";transport=tcp;lr". Values are kept escaped; Decoded returns a value with
// its escapes decoded once.
//
// Names compare case-insensitively and, as RFC 3261 §19.1.4 says of every
// component, an escaped character other than a reserved one matches its
// literal form: Get("name") finds ";n%61me=x" (RFC 4475 esc01).
type Params string

// Get returns the value of the parameter name as written, and whether the
// parameter is present. A flag parameter (";lr") has the value "". name is
// itself in written form: a name holding characters that a parameter
// cannot carry literally is looked up as EscapeParam(name).
func (p Params) Get(name string) (string, bool) {
	for i := 0; i < len(p); {
		n, v, _, next := abnf.NextParam(string(p), i, ';')
		if paramNameEqual(n, name) {
			return v, true
		}
		i = next
	}
	return "", false
}

// Has reports whether the parameter name is present.
func (p Params) Has(name string) bool {
	_, ok := p.Get(name)
	return ok
}

// Decoded returns the value of the parameter name with escapes decoded
// once (RFC 4475 esc01: "v%61lue%25%34%31" is "value%41", never "valueA").
func (p Params) Decoded(name string) (string, bool, error) {
	v, ok := p.Get(name)
	if !ok {
		return "", false, nil
	}
	d, err := Unescape(v)
	return d, true, err
}

// Len returns the number of parameters.
func (p Params) Len() int { return abnf.CountParams(string(p), ';') }

// All yields each parameter's name and value as written.
func (p Params) All() iter.Seq2[string, string] { return abnf.AllParams(string(p), ';') }

// without returns p without the parameters named name.
func (p Params) without(name string) Params {
	for i := 0; i < len(p); {
		n, _, _, next := abnf.NextParam(string(p), i, ';')
		if paramNameEqual(n, name) {
			return p[:i] + p[next:].without(name)
		}
		i = next
	}
	return p
}

// with returns p with the parameter name set to the item ";name[=value]"
// (name and value already escaped), replacing the first parameter of that
// name and removing any others, or appending it.
func (p Params) with(name, value string, hasValue bool) Params {
	item := ";" + name
	if hasValue {
		item += "=" + value
	}
	for i := 0; i < len(p); {
		n, _, _, next := abnf.NextParam(string(p), i, ';')
		if paramNameEqual(n, name) {
			return p[:i] + Params(item) + p[next:].without(name)
		}
		i = next
	}
	return p + Params(item)
}

// paramNameEqual compares two parameter names, as written, case-insensitively
// and with escapes of non-reserved characters equal to their literal form.
func paramNameEqual(a, b string) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == '%' || y == '%' {
			// The prefix so far was literal and equal.
			return equalEscaped(a[i:], b[i:], true)
		}
		if x != y && lower(x) != lower(y) {
			return false
		}
	}
	return len(a) == len(b)
}
