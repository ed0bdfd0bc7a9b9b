package abnf

import "iter"

// Parameter lists are kept as the text they were written in, without white
// space: ";name=value;flag;name2=\"quoted;value\"". The functions here walk
// such a list; they assume it was validated when it was parsed.

// NextParam reads the parameter that starts at p[i], where p[i] is the
// separator (';' or, for auth-params, ','). It returns the name, the value as
// written (quotes included), whether an '=' was present, and the offset of
// the next separator or len(p).
func NextParam(p string, i int, sep byte) (name, value string, hasValue bool, next int) {
	i++ // separator
	start := i
	for i < len(p) && p[i] != '=' && p[i] != sep {
		i++
	}
	name = p[start:i]
	if i >= len(p) || p[i] == sep {
		return name, "", false, i
	}
	i++ // '='
	start = i
	if i < len(p) && p[i] == '"' {
		end, _, ok := QuotedEnd(p, i)
		if ok {
			i = end
		} else {
			i = len(p)
		}
	}
	for i < len(p) && p[i] != sep {
		i++
	}
	return name, p[start:i], true, i
}

// FindParam looks up name (case-insensitively) in the list p whose
// parameters are separated by sep.
func FindParam(p string, name string, sep byte) (value string, hasValue, found bool) {
	for i := 0; i < len(p); {
		n, v, hv, next := NextParam(p, i, sep)
		if EqualFold(n, name) {
			return v, hv, true
		}
		i = next
	}
	return "", false, false
}

// RemoveParam returns p without the parameters named name.
func RemoveParam(p string, name string, sep byte) string {
	for i := 0; i < len(p); {
		n, _, _, next := NextParam(p, i, sep)
		if EqualFold(n, name) {
			rest := RemoveParam(p[next:], name, sep)
			return p[:i] + rest
		}
		i = next
	}
	return p
}

// SetParam returns p with the parameter name set to value (or to a bare
// flag when hasValue is false), replacing the first parameter of that name
// and removing any others, or appending it.
func SetParam(p, name, value string, hasValue bool, sep byte) string {
	item := string(sep) + name
	if hasValue {
		item += "=" + value
	}
	for i := 0; i < len(p); {
		n, _, _, next := NextParam(p, i, sep)
		if EqualFold(n, name) {
			return p[:i] + item + RemoveParam(p[next:], name, sep)
		}
		i = next
	}
	return p + item
}

// CountParams returns how many parameters p holds.
func CountParams(p string, sep byte) int {
	n := 0
	for i := 0; i < len(p); {
		_, _, _, i = NextParam(p, i, sep)
		n++
	}
	return n
}

// AllParams yields each parameter's name and value as written.
func AllParams(p string, sep byte) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := 0; i < len(p); {
			n, v, _, next := NextParam(p, i, sep)
			if !yield(n, v) {
				return
			}
			i = next
		}
	}
}
