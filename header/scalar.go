package header

import (
	"strconv"

	"github.com/sansip/sansip/internal/abnf"
)

// CSeq is the CSeq header field (RFC 3261 §20.16): a sequence number below
// 2**32 and the request method.
type CSeq struct {
	Seq    uint32
	Method string
}

// HeaderName returns "CSeq".
func (CSeq) HeaderName() string { return "CSeq" }

// Parse parses "1*DIGIT LWS Method". Leading zeros are allowed (RFC 4475
// wsinv: "0009" is 9); a number above 2**32-1 is an error (scalar02).
func (c *CSeq) Parse(s string) error {
	const h = "CSeq"
	i := abnf.SkipLWS(s, 0)
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return errAt(h, i, ErrSyntax)
	}
	n, ok := abnf.ParseUint(s[i:j], 1<<32-1)
	if !ok {
		return errAt(h, i, ErrRange)
	}
	k := abnf.SkipLWS(s, j)
	if k == j {
		return errAt(h, j, ErrSyntax)
	}
	m := abnf.Span(s, k, abnf.Token)
	if m == k {
		return errAt(h, k, ErrSyntax)
	}
	c.Seq, c.Method = uint32(n), s[k:m]
	return expectEnd(h, s, m)
}

// AppendTo appends "seq METHOD".
func (c CSeq) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(c.Seq), 10)
	b = append(b, ' ')
	return append(b, c.Method...)
}

// CallID is the Call-ID header field (RFC 3261 §20.8): word [ "@" word ].
type CallID string

// HeaderName returns "Call-ID".
func (CallID) HeaderName() string { return "Call-ID" }

// Parse parses a Call-ID.
func (c *CallID) Parse(s string) error {
	off := abnf.SkipLWS(s, 0)
	s = abnf.TrimLWS(s)
	if s == "" {
		return errAt("Call-ID", off, ErrEmpty)
	}
	if !ValidCallID(s) {
		return errAt("Call-ID", off, ErrSyntax)
	}
	*c = CallID(s)
	return nil
}

// ValidCallID reports whether s is word [ "@" word ].
func ValidCallID(s string) bool {
	at := false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '@' {
			if at || i == start {
				return false
			}
			at = true
			start = i + 1
			continue
		}
		if !abnf.Is(c, abnf.Word) {
			return false
		}
	}
	return len(s) > start
}

// AppendTo appends the Call-ID.
func (c CallID) AppendTo(b []byte) []byte { return append(b, c...) }

func parseUint(h, s string, max uint64) (uint64, error) {
	off := abnf.SkipLWS(s, 0)
	t := abnf.TrimLWS(s)
	if t == "" {
		return 0, errAt(h, off, ErrEmpty)
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, errAt(h, off+i, ErrSyntax)
		}
	}
	n, ok := abnf.ParseUint(t, max)
	if !ok {
		return 0, errAt(h, off, ErrRange)
	}
	return n, nil
}

// MaxForwards is the Max-Forwards header field (RFC 3261 §20.22), 0 to 255.
type MaxForwards uint8

// HeaderName returns "Max-Forwards".
func (MaxForwards) HeaderName() string { return "Max-Forwards" }

// Parse parses a number from 0 to 255 (leading zeros allowed).
func (m *MaxForwards) Parse(s string) error {
	n, err := parseUint("Max-Forwards", s, 255)
	*m = MaxForwards(n)
	return err
}

// AppendTo appends the number.
func (m MaxForwards) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(m), 10) }

// ContentLength is the Content-Length header field (RFC 3261 §20.14).
type ContentLength uint32

// HeaderName returns "Content-Length".
func (ContentLength) HeaderName() string { return "Content-Length" }

// Parse parses a non-negative number below 2**32.
func (c *ContentLength) Parse(s string) error {
	n, err := parseUint("Content-Length", s, 1<<32-1)
	*c = ContentLength(n)
	return err
}

// AppendTo appends the number.
func (c ContentLength) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(c), 10) }

// Expires is the Expires header field (RFC 3261 §20.19), in seconds.
type Expires uint32

// HeaderName returns "Expires".
func (Expires) HeaderName() string { return "Expires" }

// Parse parses delta-seconds below 2**32.
func (e *Expires) Parse(s string) error {
	n, err := parseUint("Expires", s, 1<<32-1)
	*e = Expires(n)
	return err
}

// AppendTo appends the number.
func (e Expires) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(e), 10) }

// MinExpires is the Min-Expires header field (RFC 3261 §20.23), in seconds.
type MinExpires uint32

// HeaderName returns "Min-Expires".
func (MinExpires) HeaderName() string { return "Min-Expires" }

// Parse parses delta-seconds below 2**32.
func (e *MinExpires) Parse(s string) error {
	n, err := parseUint("Min-Expires", s, 1<<32-1)
	*e = MinExpires(n)
	return err
}

// AppendTo appends the number.
func (e MinExpires) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(e), 10) }

// RSeq is the RSeq header field (RFC 3262 §7.1), 1 to 2**31-1.
type RSeq uint32

// HeaderName returns "RSeq".
func (RSeq) HeaderName() string { return "RSeq" }

// Parse parses the response number.
func (r *RSeq) Parse(s string) error {
	n, err := parseUint("RSeq", s, 1<<32-1)
	*r = RSeq(n)
	return err
}

// AppendTo appends the number.
func (r RSeq) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(r), 10) }

// MaxBreadth is the Max-Breadth header field (RFC 5393 §5.8).
type MaxBreadth uint32

// HeaderName returns "Max-Breadth".
func (MaxBreadth) HeaderName() string { return "Max-Breadth" }

// Parse parses the number.
func (m *MaxBreadth) Parse(s string) error {
	n, err := parseUint("Max-Breadth", s, 1<<32-1)
	*m = MaxBreadth(n)
	return err
}

// AppendTo appends the number.
func (m MaxBreadth) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(m), 10) }

// FlowTimer is the Flow-Timer header field (RFC 5626 §10.3), in seconds.
type FlowTimer uint32

// HeaderName returns "Flow-Timer".
func (FlowTimer) HeaderName() string { return "Flow-Timer" }

// Parse parses the number.
func (f *FlowTimer) Parse(s string) error {
	n, err := parseUint("Flow-Timer", s, 1<<32-1)
	*f = FlowTimer(n)
	return err
}

// AppendTo appends the number.
func (f FlowTimer) AppendTo(b []byte) []byte { return strconv.AppendUint(b, uint64(f), 10) }

func parseToken(h, s string) (string, error) {
	off := abnf.SkipLWS(s, 0)
	t := abnf.TrimLWS(s)
	if t == "" {
		return "", errAt(h, off, ErrEmpty)
	}
	if n := abnf.Span(t, 0, abnf.Token); n != len(t) {
		return "", errAt(h, off+n, ErrSyntax)
	}
	return t, nil
}

// Allow is one method of an Allow list (RFC 3261 §20.5).
type Allow string

// HeaderName returns "Allow".
func (Allow) HeaderName() string { return "Allow" }

// Parse parses a method token.
func (a *Allow) Parse(s string) error { t, err := parseToken("Allow", s); *a = Allow(t); return err }

// AppendTo appends the method.
func (a Allow) AppendTo(b []byte) []byte { return append(b, a...) }

// Supported is one option tag of a Supported list (RFC 3261 §20.37).
type Supported string

// HeaderName returns "Supported".
func (Supported) HeaderName() string { return "Supported" }

// Parse parses an option tag.
func (o *Supported) Parse(s string) error {
	t, err := parseToken("Supported", s)
	*o = Supported(t)
	return err
}

// AppendTo appends the option tag.
func (o Supported) AppendTo(b []byte) []byte { return append(b, o...) }

// Require is one option tag of a Require list (RFC 3261 §20.32).
type Require string

// HeaderName returns "Require".
func (Require) HeaderName() string { return "Require" }

// Parse parses an option tag.
func (o *Require) Parse(s string) error {
	t, err := parseToken("Require", s)
	*o = Require(t)
	return err
}

// AppendTo appends the option tag.
func (o Require) AppendTo(b []byte) []byte { return append(b, o...) }

// ProxyRequire is one option tag of a Proxy-Require list (RFC 3261 §20.29).
type ProxyRequire string

// HeaderName returns "Proxy-Require".
func (ProxyRequire) HeaderName() string { return "Proxy-Require" }

// Parse parses an option tag.
func (o *ProxyRequire) Parse(s string) error {
	t, err := parseToken("Proxy-Require", s)
	*o = ProxyRequire(t)
	return err
}

// AppendTo appends the option tag.
func (o ProxyRequire) AppendTo(b []byte) []byte { return append(b, o...) }

// Unsupported is one option tag of an Unsupported list (RFC 3261 §20.40).
type Unsupported string

// HeaderName returns "Unsupported".
func (Unsupported) HeaderName() string { return "Unsupported" }

// Parse parses an option tag.
func (o *Unsupported) Parse(s string) error {
	t, err := parseToken("Unsupported", s)
	*o = Unsupported(t)
	return err
}

// AppendTo appends the option tag.
func (o Unsupported) AppendTo(b []byte) []byte { return append(b, o...) }

// AllowEvents is one event type of an Allow-Events list (RFC 6665 §8.2.2).
type AllowEvents string

// HeaderName returns "Allow-Events".
func (AllowEvents) HeaderName() string { return "Allow-Events" }

// Parse parses an event type (a token, which covers package.template).
func (a *AllowEvents) Parse(s string) error {
	t, err := parseToken("Allow-Events", s)
	*a = AllowEvents(t)
	return err
}

// AppendTo appends the event type.
func (a AllowEvents) AppendTo(b []byte) []byte { return append(b, a...) }

// ContentEncoding is one content coding of a Content-Encoding list
// (RFC 3261 §20.12).
type ContentEncoding string

// HeaderName returns "Content-Encoding".
func (ContentEncoding) HeaderName() string { return "Content-Encoding" }

// Parse parses a content coding token.
func (c *ContentEncoding) Parse(s string) error {
	t, err := parseToken("Content-Encoding", s)
	*c = ContentEncoding(t)
	return err
}

// AppendTo appends the content coding.
func (c ContentEncoding) AppendTo(b []byte) []byte { return append(b, c...) }

// parseText checks TEXT-UTF8 content with LWS: no CR or LF outside line
// folds and no other control characters but HTAB.
func parseText(h, s string) (string, error) {
	off := abnf.SkipLWS(s, 0)
	t := abnf.TrimLWS(s)
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '\r' {
			if i+2 < len(t) && t[i+1] == '\n' && (t[i+2] == ' ' || t[i+2] == '\t') {
				i += 2
				continue
			}
			return "", errAt(h, off+i, ErrSyntax)
		}
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return "", errAt(h, off+i, ErrSyntax)
		}
	}
	if hasFold(t) {
		t = unfold(t)
	}
	return t, nil
}

// UserAgent is the User-Agent header field (RFC 3261 §20.41), kept as text.
type UserAgent string

// HeaderName returns "User-Agent".
func (UserAgent) HeaderName() string { return "User-Agent" }

// Parse parses the product and comment text.
func (u *UserAgent) Parse(s string) error {
	t, err := parseText("User-Agent", s)
	*u = UserAgent(t)
	return err
}

// AppendTo appends the text.
func (u UserAgent) AppendTo(b []byte) []byte { return append(b, u...) }

// Server is the Server header field (RFC 3261 §20.35), kept as text.
type Server string

// HeaderName returns "Server".
func (Server) HeaderName() string { return "Server" }

// Parse parses the product and comment text.
func (v *Server) Parse(s string) error { t, err := parseText("Server", s); *v = Server(t); return err }

// AppendTo appends the text.
func (v Server) AppendTo(b []byte) []byte { return append(b, v...) }

// Subject is the Subject header field (RFC 3261 §20.36); it may be empty.
type Subject string

// HeaderName returns "Subject".
func (Subject) HeaderName() string { return "Subject" }

// Parse parses the text.
func (v *Subject) Parse(s string) error {
	t, err := parseText("Subject", s)
	*v = Subject(t)
	return err
}

// AppendTo appends the text.
func (v Subject) AppendTo(b []byte) []byte { return append(b, v...) }
