package header

import (
	"github.com/sansip/sansip/internal/abnf"
)

// MediaType is a media type with its parameters, m-type SLASH m-subtype
// *( SEMI m-parameter ) (RFC 3261 §20.15 and §25.1, RFC 2045 §5.1), as
// Content-Type carries it; in Accept it is a media-range whose type or
// subtype may be "*".
//
// Type and Subtype are kept as written and compare case-insensitively (Is,
// Matches). Parameter values keep their quotes (Param resolves them).
type MediaType struct {
	Type    string
	Subtype string
	Params  Params
}

// AppendTo appends "type/subtype;params".
func (m MediaType) AppendTo(b []byte) []byte {
	b = append(b, m.Type...)
	b = append(b, '/')
	b = append(b, m.Subtype...)
	return append(b, m.Params...)
}

// String returns "type/subtype;params".
func (m MediaType) String() string {
	var buf [64]byte
	return string(m.AppendTo(buf[:0]))
}

// Is reports whether the media type is typ/subtype, compared
// case-insensitively (RFC 2045 §5.1), whatever its parameters.
func (m MediaType) Is(typ, subtype string) bool {
	return abnf.EqualFold(m.Type, typ) && abnf.EqualFold(m.Subtype, subtype)
}

// Matches reports whether the media type falls within the media-range r
// (RFC 3261 §20.1): "*/*" matches every type, "type/*" every subtype of
// type, and "type/subtype" that type only. Parameters are not compared.
func (m MediaType) Matches(r MediaType) bool {
	if r.Type == "*" {
		return r.Subtype == "*"
	}
	if !abnf.EqualFold(m.Type, r.Type) {
		return false
	}
	return r.Subtype == "*" || abnf.EqualFold(m.Subtype, r.Subtype)
}

// Param returns the value of the parameter name, with the quotes and
// quoted-pairs of a quoted-string resolved, and whether it is present.
func (m MediaType) Param(name string) (string, bool) { return m.Params.Unquoted(name) }

// Charset returns the charset parameter (RFC 2046 §4.1.2), or "".
func (m MediaType) Charset() string {
	v, _ := m.Params.Unquoted("charset")
	return v
}

// Boundary returns the boundary parameter of a multipart type (RFC 2046
// §5.1.1), or "".
func (m MediaType) Boundary() string {
	v, _ := m.Params.Unquoted("boundary")
	return v
}

// parseMediaType parses m-type SLASH m-subtype *( SEMI param ) from the
// whole of s, with LWS allowed around '/', ';' and '=' (SLASH, SEMI and
// EQUAL, RFC 3261 §25.1). With strict, every parameter must be an
// m-parameter (a token or quoted-string value); otherwise any
// generic-param is allowed, as accept-params are.
func parseMediaType(h, s string, strict bool) (MediaType, error) {
	var m MediaType
	i := abnf.SkipLWS(s, 0)
	t, j, err := parseTokenAt(h, s, i)
	if err != nil {
		return m, err
	}
	k := abnf.SkipLWS(s, j)
	if k >= len(s) || s[k] != '/' {
		return m, errAt(h, k, ErrSyntax)
	}
	k = abnf.SkipLWS(s, k+1)
	st, j, err := parseTokenAt(h, s, k)
	if err != nil {
		return m, err
	}
	p, err := parseParamsEnd(h, s, j)
	if err != nil {
		return m, err
	}
	if strict {
		if err := checkMParams(h, p, j); err != nil {
			return m, err
		}
	}
	m.Type, m.Subtype, m.Params = t, st, p
	return m, nil
}

// ContentType is the Content-Type header field (RFC 3261 §20.15): the
// media type of the message body.
type ContentType struct {
	MediaType
}

// HeaderName returns "Content-Type".
func (ContentType) HeaderName() string { return "Content-Type" }

// Parse parses a media-type. Every parameter must have a token or
// quoted-string value.
func (c *ContentType) Parse(s string) error {
	m, err := parseMediaType("Content-Type", s, true)
	c.MediaType = m
	return err
}

// Accept is one media-range of an Accept list (RFC 3261 §20.1): "*/*",
// "type/*" or "type/subtype", with media parameters and accept-params (q
// and any generic-param) together in Params.
//
// An Accept header field with no value means that no body is acceptable;
// it has no elements to parse.
type Accept struct {
	MediaType
}

// HeaderName returns "Accept".
func (Accept) HeaderName() string { return "Accept" }

// Parse parses one accept-range.
func (a *Accept) Parse(s string) error {
	m, err := parseMediaType("Accept", s, false)
	a.MediaType = m
	return err
}

// Q returns the q parameter in thousandths (0 to 1000) and whether it is
// present and a valid qvalue. An absent q means 1000 (RFC 2616 §14.1).
func (a Accept) Q() (int, bool) { return paramQ(a.Params) }

// Accepts reports whether the media type m falls within the range.
func (a Accept) Accepts(m MediaType) bool { return m.Matches(a.MediaType) }

// ContentDisposition is the Content-Disposition header field (RFC 3261
// §20.11): disp-type *( SEMI disp-param ), where disp-type is "render",
// "session", "icon", "alert" or any token.
type ContentDisposition struct {
	Type   string
	Params Params
}

// HeaderName returns "Content-Disposition".
func (ContentDisposition) HeaderName() string { return "Content-Disposition" }

// Parse parses a Content-Disposition value.
func (c *ContentDisposition) Parse(s string) error {
	t, p, err := parseTokenParams("Content-Disposition", s)
	c.Type, c.Params = t, p
	return err
}

// AppendTo appends "type;params".
func (c ContentDisposition) AppendTo(b []byte) []byte {
	b = append(b, c.Type...)
	return append(b, c.Params...)
}

// Handling returns the handling parameter as written, or "required" when
// it is absent, which is its default (RFC 3261 §20.11).
func (c ContentDisposition) Handling() string {
	if v, ok := c.Params.Get("handling"); ok {
		return v
	}
	return "required"
}

// Optional reports whether the handling parameter is "optional", so that a
// receiver that does not understand the body may ignore it.
func (c ContentDisposition) Optional() bool { return abnf.EqualFold(c.Handling(), "optional") }

// Is reports whether the disposition type is typ, compared
// case-insensitively.
func (c ContentDisposition) Is(typ string) bool { return abnf.EqualFold(c.Type, typ) }

// validLanguageTag reports whether s is a language-tag: primary-tag
// *( "-" subtag ) with 1*8ALPHA primary-tag (RFC 3261 §20.13). Subtags may
// hold digits as well as letters ("es-419"), as RFC 5646 tags do.
func validLanguageTag(s string) bool {
	n := 0
	primary := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			if n == 0 {
				return false
			}
			n, primary = 0, false
		case c|0x20 >= 'a' && c|0x20 <= 'z', !primary && c >= '0' && c <= '9':
			n++
			if n > 8 {
				return false
			}
		default:
			return false
		}
	}
	return n > 0
}

// ContentLanguage is one language-tag of a Content-Language list (RFC 3261
// §20.13), such as "fr" or "en-GB".
type ContentLanguage string

// HeaderName returns "Content-Language".
func (ContentLanguage) HeaderName() string { return "Content-Language" }

// Parse parses a language-tag.
func (c *ContentLanguage) Parse(s string) error {
	const h = "Content-Language"
	off := abnf.SkipLWS(s, 0)
	t := abnf.TrimLWS(s)
	*c = ""
	if t == "" {
		return errAt(h, off, ErrEmpty)
	}
	if !validLanguageTag(t) {
		return errAt(h, off, ErrSyntax)
	}
	*c = ContentLanguage(t)
	return nil
}

// AppendTo appends the language-tag.
func (c ContentLanguage) AppendTo(b []byte) []byte { return append(b, c...) }

// AcceptLanguage is one language-range of an Accept-Language list (RFC
// 3261 §20.3): a language-tag or "*", with accept-params.
type AcceptLanguage struct {
	Range  string
	Params Params
}

// HeaderName returns "Accept-Language".
func (AcceptLanguage) HeaderName() string { return "Accept-Language" }

// Parse parses one language-range with its accept-params.
func (a *AcceptLanguage) Parse(s string) error {
	const h = "Accept-Language"
	*a = AcceptLanguage{}
	i := abnf.SkipLWS(s, 0)
	j := i
	for j < len(s) && (abnf.Is(s[j], abnf.Alnum) || s[j] == '-' || s[j] == '*') {
		j++
	}
	if j == i {
		if i >= len(s) {
			return errAt(h, i, ErrEmpty)
		}
		return errAt(h, i, ErrSyntax)
	}
	if r := s[i:j]; r != "*" && !validLanguageTag(r) {
		return errAt(h, i, ErrSyntax)
	}
	p, err := parseParamsEnd(h, s, j)
	if err != nil {
		return err
	}
	a.Range, a.Params = s[i:j], p
	return nil
}

// AppendTo appends "range;params".
func (a AcceptLanguage) AppendTo(b []byte) []byte {
	b = append(b, a.Range...)
	return append(b, a.Params...)
}

// Q returns the q parameter in thousandths and whether it is present and
// valid; an absent q means 1000.
func (a AcceptLanguage) Q() (int, bool) { return paramQ(a.Params) }

// AcceptEncoding is one encoding of an Accept-Encoding list (RFC 3261
// §20.2): a content-coding token or "*", with accept-params.
type AcceptEncoding struct {
	Coding string
	Params Params
}

// HeaderName returns "Accept-Encoding".
func (AcceptEncoding) HeaderName() string { return "Accept-Encoding" }

// Parse parses one encoding with its accept-params.
func (a *AcceptEncoding) Parse(s string) error {
	t, p, err := parseTokenParams("Accept-Encoding", s)
	a.Coding, a.Params = t, p
	return err
}

// AppendTo appends "coding;params".
func (a AcceptEncoding) AppendTo(b []byte) []byte {
	b = append(b, a.Coding...)
	return append(b, a.Params...)
}

// Q returns the q parameter in thousandths and whether it is present and
// valid; an absent q means 1000.
func (a AcceptEncoding) Q() (int, bool) { return paramQ(a.Params) }
