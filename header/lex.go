package header

import (
	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// Small scanners shared by the typed values of media.go, auth.go, event.go,
// session.go and misc.go.

// parseDigits reads 1*DIGIT from s at i and returns its value, which must
// be at most max, and the offset after it.
func parseDigits(h, s string, i int, max uint64) (uint64, int, error) {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		if i >= len(s) {
			return 0, i, errAt(h, i, ErrEmpty)
		}
		return 0, i, errAt(h, i, ErrSyntax)
	}
	n, ok := abnf.ParseUint(s[i:j], max)
	if !ok {
		return 0, i, errAt(h, i, ErrRange)
	}
	return n, j, nil
}

// parseTokenAt reads a token from s at i and returns it and the offset
// after it.
func parseTokenAt(h, s string, i int) (string, int, error) {
	j := abnf.Span(s, i, abnf.Token)
	if j == i {
		if i >= len(s) {
			return "", i, errAt(h, i, ErrEmpty)
		}
		return "", i, errAt(h, i, ErrSyntax)
	}
	return s[i:j], j, nil
}

// parseParamsEnd reads *( SEMI generic-param ) from s at i up to the end of
// s.
func parseParamsEnd(h, s string, i int) (Params, error) {
	p, next, err := parseParams(h, s, i)
	if err != nil {
		return "", err
	}
	return p, expectEnd(h, s, next)
}

// parseTokenParams parses token *( SEMI generic-param ), the shape of
// Event, Subscription-State, Content-Disposition, Reason and others.
func parseTokenParams(h, s string) (string, Params, error) {
	i := abnf.SkipLWS(s, 0)
	t, j, err := parseTokenAt(h, s, i)
	if err != nil {
		return "", "", err
	}
	p, err := parseParamsEnd(h, s, j)
	return t, p, err
}

// parseDeltaParams parses delta-seconds *( SEMI generic-param ), the shape
// of Session-Expires and Min-SE.
func parseDeltaParams(h, s string) (uint32, Params, error) {
	i := abnf.SkipLWS(s, 0)
	n, j, err := parseDigits(h, s, i, 1<<32-1)
	if err != nil {
		return 0, "", err
	}
	p, err := parseParamsEnd(h, s, j)
	return uint32(n), p, err
}

// parseCallIDParams parses callid *( SEMI generic-param ), the shape of
// Replaces and Target-Dialog. The Call-ID ends at the first ';' or LWS.
func parseCallIDParams(h, s string) (string, Params, error) {
	i := abnf.SkipLWS(s, 0)
	j := i
	for j < len(s) && s[j] != ';' && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' {
		j++
	}
	if j == i {
		return "", "", errAt(h, i, ErrEmpty)
	}
	if !ValidCallID(s[i:j]) {
		return "", "", errAt(h, i, ErrSyntax)
	}
	p, err := parseParamsEnd(h, s, j)
	return s[i:j], p, err
}

// parseAngleURI parses LAQUOT absoluteURI RAQUOT *( SEMI generic-param ),
// the shape of Call-Info, Alert-Info, Error-Info and Identity-Info.
func parseAngleURI(h, s string) (uri.URI, Params, error) {
	i := abnf.SkipLWS(s, 0)
	if i >= len(s) {
		return uri.URI{}, "", errAt(h, i, ErrEmpty)
	}
	if s[i] != '<' {
		return uri.URI{}, "", errAt(h, i, ErrSyntax)
	}
	end := i + 1
	for end < len(s) && s[end] != '>' {
		end++
	}
	if end >= len(s) {
		return uri.URI{}, "", errAt(h, i, ErrSyntax)
	}
	u, err := uri.Parse(s[i+1 : end])
	if err != nil {
		return uri.URI{}, "", errAt(h, i+1, err)
	}
	p, err := parseParamsEnd(h, s, end+1)
	return u, p, err
}

// appendAngleURI appends "<uri>;params".
func appendAngleURI(b []byte, u uri.URI, p Params) []byte {
	b = append(b, '<')
	b = u.AppendTo(b)
	b = append(b, '>')
	return append(b, p...)
}

// checkMParams checks that every parameter of p has a value that is a
// token or a quoted-string, as m-parameter = m-attribute EQUAL m-value and
// m-value = token / quoted-string require (RFC 3261 §25.1). off is the
// offset of p in the value, for errors.
func checkMParams(h string, p Params, off int) error {
	for i := 0; i < len(p); {
		_, v, hasValue, next := abnf.NextParam(string(p), i, ';')
		if !hasValue || (v[0] != '"' && !abnf.IsToken(v)) {
			return errAt(h, off, ErrSyntax)
		}
		i = next
	}
	return nil
}

// paramUint returns the parameter name of p as a number of at most max,
// and whether it is present and valid.
func paramUint(p Params, name string, max uint64) (uint64, bool) {
	v, ok := p.Get(name)
	if !ok {
		return 0, false
	}
	return abnf.ParseUint(v, max)
}

// paramQ returns the q parameter of p in thousandths and whether it is
// present and a valid qvalue (RFC 3261 §25.1).
func paramQ(p Params) (int, bool) {
	v, ok := p.Get("q")
	if !ok {
		return 0, false
	}
	return parseQ(v)
}

// commentEnd scans a comment (RFC 3261 §25.1) that starts with the '(' at
// s[i]: ctext, quoted-pairs and nested comments, with LWS allowed. It
// returns the offset just past the closing ')' and whether the comment
// holds a line fold; ok is false if it is unterminated or holds a
// character that the grammar does not allow.
func commentEnd(s string, i int) (end int, folded, ok bool) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch c := s[j]; c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1, folded, true
			}
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\r' || s[j+1] == '\n' || s[j+1] >= 0x80 {
				return j, folded, false
			}
			j++
		case '\r':
			if j+2 < len(s) && s[j+1] == '\n' && (s[j+2] == ' ' || s[j+2] == '\t') {
				folded = true
				j += 2
				continue
			}
			return j, folded, false
		default:
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return j, folded, false
			}
		}
	}
	return len(s), folded, false
}
