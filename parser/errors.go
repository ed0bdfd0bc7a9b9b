package parser

import (
	"errors"
	"fmt"
)

// What went wrong in a message, matchable with errors.Is on an *Error.
var (
	ErrStartLine     = errors.New("malformed start line")
	ErrVersion       = errors.New("unsupported SIP version")
	ErrStatusCode    = errors.New("malformed status code")
	ErrHeaderLine    = errors.New("malformed header field")
	ErrContentLength = errors.New("invalid Content-Length")
	ErrTruncated     = errors.New("message shorter than its Content-Length")
	ErrNoEnd         = errors.New("header section does not end")
	ErrKeepAlive     = errors.New("keep-alive, not a message")
	ErrLimit         = errors.New("limit exceeded")
	// The message layer reports problems with the typed values of header
	// fields with these.
	ErrMissingHeader  = errors.New("missing mandatory header field")
	ErrMultipleValues = errors.New("several values in a single-value header field")
	ErrHeaderValue    = errors.New("malformed header value")
	ErrMethodMismatch = errors.New("CSeq method differs from request method")
	ErrRequestURI     = errors.New("malformed Request-URI")
)

// Error is a parse error: what is wrong (Err, one of the sentinels above,
// possibly wrapping a header or uri error in Cause), in which header field
// (Header, "" for the start line, the framing or the body) and at which
// byte offset of the message.
type Error struct {
	Err    error
	Header string
	Offset int
	Cause  error
}

func (e *Error) Error() string {
	var s string
	if e.Header != "" {
		s = fmt.Sprintf("sip: %s: %v at offset %d", e.Header, e.Err, e.Offset)
	} else {
		s = fmt.Sprintf("sip: %v at offset %d", e.Err, e.Offset)
	}
	if e.Cause != nil {
		s += ": " + innermost(e.Cause).Error()
	}
	return s
}

// innermost follows a chain of wrapped errors to the sentinel at its end,
// whose text says what was wrong without repeating where.
func innermost(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// LimitError reports that a message went over one of its Limits. It
// matches ErrLimit with errors.Is.
type LimitError struct {
	Limit string // the Limits field's name, e.g. "MaxHeaderLine"
	Max   int    // the limit
	Got   int    // the size seen (at least this much)
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("sip: %s exceeded: %d > %d", e.Limit, e.Got, e.Max)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// StatusFor returns the response code a server sends for a request that
// failed to parse with err: 505 for an unsupported version, 513 for a
// message over a size limit, 400 for everything else.
func StatusFor(err error) int {
	switch {
	case errors.Is(err, ErrVersion):
		return 505
	case errors.Is(err, ErrLimit):
		return 513
	}
	return 400
}

// ReasonFor returns a short reason phrase that names what was wrong, for
// the response to a request that failed to parse with err.
func ReasonFor(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return "Message Too Large (" + le.Limit + ")"
	}
	var pe *Error
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, ErrVersion):
			return "Version Not Supported"
		case pe.Header != "":
			return "Bad Request (" + pe.Err.Error() + ": " + pe.Header + ")"
		default:
			return "Bad Request (" + pe.Err.Error() + ")"
		}
	}
	return "Bad Request"
}
