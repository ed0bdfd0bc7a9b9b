package uri

import (
	"errors"

	"github.com/sansip/sansip/internal/abnf"
)

// ErrEscape reports a '%' that does not start a valid "%" HEXDIG HEXDIG.
var ErrEscape = errors.New("invalid %-escape")

// Unescape decodes every "%" HEXDIG HEXDIG in s once. The result may hold
// any octet, NUL included (RFC 4475 escnull); it is never decoded again.
func Unescape(s string) (string, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || abnf.Unhex(s[i+1]) < 0 || abnf.Unhex(s[i+2]) < 0 {
				return "", &Error{Offset: i, Err: ErrEscape}
			}
			n++
			i += 2
		}
	}
	if n == 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s)-2*n)
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			b = append(b, byte(abnf.Unhex(s[i+1])<<4|abnf.Unhex(s[i+2])))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), nil
}

func escape(s string, allowed uint16) string {
	need := false
	for i := 0; i < len(s); i++ {
		if !abnf.Is(s[i], allowed) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if abnf.Is(c, allowed) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

// EscapeUser escapes s for the user part of a sip or sips URI: every octet
// other than unreserved and user-unreserved characters becomes "%" HEX HEX.
func EscapeUser(s string) string { return escape(s, abnf.Unreserved|abnf.UserExtra) }

// EscapePassword escapes s for the password of a sip or sips URI.
func EscapePassword(s string) string { return escape(s, abnf.Unreserved|abnf.PasswordExtra) }

// EscapeParam escapes s for a uri-parameter name or value.
func EscapeParam(s string) string { return escape(s, abnf.Unreserved|abnf.ParamExtra) }

// EscapeHeader escapes s for a URI header name or value.
func EscapeHeader(s string) string { return escape(s, abnf.Unreserved|abnf.HeaderExtra) }
