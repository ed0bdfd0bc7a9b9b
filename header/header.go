// Package header holds the typed values of SIP header fields: how each is
// parsed from and rendered to its text, for every header field RFC 3261 and
// the common extensions define, and the names (long and compact) by which a
// message refers to them.
//
// Each typed value T has a pointer type *T that satisfies Value[T]: it
// parses one value (one element of a comma-separated list) and appends one
// value's text. Package message uses that to give typed access to any
// header field: message.All[header.Contact](m).
//
// Parsers accept the whole RFC 3261 grammar, line folds and linear white
// space included, and return errors that say what is wrong and where.
// Parsed values keep substrings of their input, so parsing allocates only
// where a value has to be normalised (white space inside a parameter list, a
// quoted display name with escapes).
package header

import (
	"errors"
	"fmt"

	"github.com/sansip/sansip/uri"
)

// Value is the constraint that a pointer to every typed header value
// satisfies.
type Value[T any] interface {
	*T
	// HeaderName returns the canonical name of the header field the value
	// belongs to.
	HeaderName() string
	// Parse parses one value: the whole header value for a single-valued
	// header, one element of the list for a list-valued one.
	Parse(s string) error
	// AppendTo appends the value's text.
	AppendTo(b []byte) []byte
}

// Errors returned by the parsers, matchable with errors.Is.
var (
	ErrSyntax = errors.New("malformed value")
	ErrEmpty  = errors.New("empty value")
	ErrRange  = errors.New("number out of range")
)

// Error is a parse error in a header value: which header, at which byte
// offset of the value, and what (one of the sentinels above or a uri error).
type Error struct {
	Header string
	Offset int
	Err    error
}

// Error returns "Header: what at offset N".
func (e *Error) Error() string {
	var ue *uri.Error
	if errors.As(e.Err, &ue) {
		return fmt.Sprintf("%s: %v at offset %d", e.Header, ue.Err, e.Offset+ue.Offset)
	}
	return fmt.Sprintf("%s: %v at offset %d", e.Header, e.Err, e.Offset)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func errAt(h string, off int, err error) error { return &Error{Header: h, Offset: off, Err: err} }

// String renders any header value with its AppendTo method.
func String[T any, P Value[T]](v *T) string {
	var buf [96]byte
	return string(P(v).AppendTo(buf[:0]))
}

// ParseValue parses one value of type T.
func ParseValue[T any, P Value[T]](s string) (T, error) {
	var v T
	err := P(&v).Parse(s)
	return v, err
}
