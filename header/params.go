package header

import (
	"iter"

	"github.com/sansip/sansip/internal/abnf"
)

// Params is a list of header parameters (generic-param, RFC 3261 §25.1),
// each introduced by ';', with no white space: ";tag=1928301774;rport".
// Values are kept as written: a quoted-string value keeps its quotes (use
// Unquoted for its content). Names compare case-insensitively.
//
// Parsers normalise parameters written with white space or line folds
// (";  tag  =  x") to this form.
type Params string

// Get returns the value of the parameter name as written (quotes
// included), and whether it is present. A flag parameter has the value "".
func (p Params) Get(name string) (string, bool) {
	v, _, ok := abnf.FindParam(string(p), name, ';')
	return v, ok
}

// Has reports whether the parameter name is present.
func (p Params) Has(name string) bool {
	_, _, ok := abnf.FindParam(string(p), name, ';')
	return ok
}

// Unquoted returns the value of the parameter name with the quotes and
// quoted-pairs of a quoted-string resolved.
func (p Params) Unquoted(name string) (string, bool) {
	v, ok := p.Get(name)
	if ok && len(v) >= 2 && v[0] == '"' {
		return abnf.Unquote(v), true
	}
	return v, ok
}

// With returns p with the parameter name set to value, replacing an
// existing one. value is written as given: it must be a token, a host or a
// quoted-string (see Quote); a flag parameter has the value "". Use Validate
// (or a message setter, which validates) before sending values that came
// from outside.
func (p Params) With(name, value string) Params {
	return Params(abnf.SetParam(string(p), name, value, value != "", ';'))
}

// Without returns p without the parameter name.
func (p Params) Without(name string) Params {
	return Params(abnf.RemoveParam(string(p), name, ';'))
}

// Len returns the number of parameters.
func (p Params) Len() int { return abnf.CountParams(string(p), ';') }

// All yields each parameter's name and value as written.
func (p Params) All() iter.Seq2[string, string] { return abnf.AllParams(string(p), ';') }

// Validate checks that p is a well-formed parameter list in normalised
// form.
func (p Params) Validate() error {
	q, n, err := parseParams("params", string(p), 0)
	if err != nil {
		return err
	}
	if n != len(p) || q != p {
		return errAt("params", n, ErrSyntax)
	}
	return nil
}

// Quote returns s as a quoted-string, for use as a parameter value.
func Quote(s string) string {
	b, ok := abnf.AppendQuoted(nil, s)
	if !ok {
		return ""
	}
	return string(b)
}

// isParamValueChar reports the characters of an unquoted gen-value: token
// characters, plus those of a host (':' '[' ']'), which RFC 3261 allows for
// gen-value and RFC 5118 for an IPv6 received parameter.
func isParamValueChar(c byte) bool {
	return abnf.Is(c, abnf.Token) || c == ':' || c == '[' || c == ']'
}

// parseParams reads *( SEMI generic-param ) from s at i, allowing LWS
// around ';' and '=' and line folds inside quoted-strings (which become a
// single space, so that the list renders on one line). It stops before the first character that cannot
// continue the list (',' or the end) and returns the normalised list and
// that offset. h names the header, for errors.
func parseParams(h, s string, i int) (Params, int, error) {
	start := i
	spaced := false
	end := i
	for {
		j := abnf.SkipLWS(s, i)
		if j >= len(s) || s[j] != ';' {
			break
		}
		if j != i {
			spaced = true
		}
		j++
		k := abnf.SkipLWS(s, j)
		if k != j {
			spaced = true
		}
		n := abnf.Span(s, k, abnf.Token)
		if n == k {
			return "", k, errAt(h, k, ErrSyntax)
		}
		i = n
		k = abnf.SkipLWS(s, n)
		if k < len(s) && s[k] == '=' {
			if k != n {
				spaced = true
			}
			k++
			v := abnf.SkipLWS(s, k)
			if v != k {
				spaced = true
			}
			if v < len(s) && s[v] == '"' {
				e, _, ok := abnf.QuotedEnd(s, v)
				if !ok {
					return "", v, errAt(h, v, ErrSyntax)
				}
				if hasFold(s[v:e]) {
					spaced = true // a fold inside the quotes becomes one space
				}
				i = e
			} else {
				e := v
				for e < len(s) && isParamValueChar(s[e]) {
					e++
				}
				if e == v {
					return "", v, errAt(h, v, ErrSyntax)
				}
				i = e
			}
		}
		end = i
	}
	if end == start {
		return "", start, nil
	}
	if !spaced {
		return Params(s[start:end]), end, nil
	}
	return normaliseParams(s[start:end]), end, nil
}

// normaliseParams rewrites a validated parameter list without white space
// and with each line fold inside a quoted-string replaced by one space.
func normaliseParams(s string) Params {
	b := make([]byte, 0, len(s))
	i := 0
	for {
		i = abnf.SkipLWS(s, i)
		if i >= len(s) {
			break
		}
		// s[i] == ';'
		b = append(b, ';')
		i = abnf.SkipLWS(s, i+1)
		n := abnf.Span(s, i, abnf.Token)
		b = append(b, s[i:n]...)
		i = abnf.SkipLWS(s, n)
		if i < len(s) && s[i] == '=' {
			b = append(b, '=')
			i = abnf.SkipLWS(s, i+1)
			if s[i] == '"' {
				e, _, _ := abnf.QuotedEnd(s, i)
				if q := s[i:e]; hasFold(q) {
					b = append(b, unfold(q)...)
				} else {
					b = append(b, q...)
				}
				i = e
			} else {
				e := i
				for e < len(s) && isParamValueChar(s[e]) {
					e++
				}
				b = append(b, s[i:e]...)
				i = e
			}
		}
	}
	return Params(b)
}

// expectEnd checks that only LWS remains in s from i.
func expectEnd(h, s string, i int) error {
	i = abnf.SkipLWS(s, i)
	if i != len(s) {
		return errAt(h, i, ErrSyntax)
	}
	return nil
}

// CutList returns the first element of a comma-separated header value
// and the rest after the comma, both trimmed of LWS; the rest is a
// substring of s, as written. Commas inside quoted-strings and angle
// brackets do not split. (No list-valued SIP header carries comments, and
// parentheses are legal unescaped in URIs, so they are plain characters.) comma reports
// whether a comma was found; ok is false if the value ends inside a
// quoted-string, a comment or brackets.
func CutList(s string) (first, rest string, comma, ok bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			e, _, qok := abnf.QuotedEnd(s, i)
			if !qok {
				return abnf.TrimLWS(s), "", false, false
			}
			i = e - 1
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				return abnf.TrimLWS(s[:i]), abnf.TrimLWS(s[i+1:]), true, true
			}
		}
	}
	return abnf.TrimLWS(s), "", false, depth == 0
}

// Elements yields each element of a comma-separated header value (RFC 3261
// §7.3.1), trimmed of LWS, with ok=true. Commas inside quoted-strings,
// comments and angle brackets do not split. An empty element is yielded as
// "" (callers reject it); a value that ends inside a quoted-string or
// brackets yields its remainder with ok=false and stops.
func Elements(s string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		for {
			first, rest, comma, ok := CutList(s)
			if !yield(first, ok) || !ok || !comma {
				return
			}
			s = rest
		}
	}
}
