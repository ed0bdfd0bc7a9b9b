package header

import (
	"strings"

	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// NameAddr is an address with an optional display name and header
// parameters: ( name-addr / addr-spec ) *( SEMI generic-param ), the value
// shape of From, To, Contact, Route, Record-Route, Path, Refer-To,
// P-Asserted-Identity and others.
//
// Display is the display name with quotes and quoted-pairs resolved, so it
// may hold any octet but CR and LF (RFC 4475 intmeth keeps a NUL there).
type NameAddr struct {
	Display string
	URI     uri.URI
	Params  Params
}

// Tag returns the tag parameter.
func (n NameAddr) Tag() string {
	v, _ := n.Params.Get("tag")
	return v
}

// AppendTo appends the name-addr form: `"Display" <uri>;params`. The URI is
// always enclosed in angle brackets, which every form allows.
func (n NameAddr) AppendTo(b []byte) []byte {
	if n.Display != "" {
		b, _ = abnf.AppendQuoted(b, n.Display)
		b = append(b, ' ')
	}
	b = append(b, '<')
	b = n.URI.AppendTo(b)
	b = append(b, '>')
	return append(b, n.Params...)
}

// String returns the name-addr text.
func (n NameAddr) String() string {
	var buf [128]byte
	return string(n.AppendTo(buf[:0]))
}

// parseNameAddr parses ( name-addr / addr-spec ) *( SEMI generic-param )
// from the whole of s. h names the header, for errors.
func parseNameAddr(h, s string, n *NameAddr) error {
	*n = NameAddr{}
	i := abnf.SkipLWS(s, 0)
	if i >= len(s) {
		return errAt(h, i, ErrEmpty)
	}
	angle := -1
	switch {
	case s[i] == '"':
		e, esc, ok := abnf.QuotedEnd(s, i)
		if !ok {
			return errAt(h, i, ErrSyntax)
		}
		if esc || hasFold(s[i:e]) {
			n.Display = abnf.Unquote(s[i:e])
		} else {
			n.Display = s[i+1 : e-1]
		}
		j := abnf.SkipLWS(s, e)
		if j >= len(s) || s[j] != '<' {
			return errAt(h, j, ErrSyntax)
		}
		angle = j
	case s[i] == '<':
		angle = i
	default:
		// A display name of tokens, or an addr-spec. Tokens and LWS up to a
		// '<' make a display name (RFC 4475 lwsdisp: no LWS before '<').
		j := i
		for j < len(s) {
			if abnf.Is(s[j], abnf.Token) {
				j++
				continue
			}
			k := abnf.SkipLWS(s, j) // white space and line folds only
			if k == j {
				break
			}
			j = k
		}
		if j < len(s) && s[j] == '<' {
			d := abnf.TrimLWS(s[i:j])
			if d == "" {
				return errAt(h, i, ErrSyntax)
			}
			if hasFold(d) {
				d = unfold(d)
			}
			n.Display = d
			angle = j
		}
	}
	if angle >= 0 {
		end := strings.IndexByte(s[angle+1:], '>') + angle + 1
		if end <= angle {
			return errAt(h, angle, ErrSyntax)
		}
		u, err := uri.Parse(s[angle+1 : end])
		if err != nil {
			return errAt(h, angle+1, err)
		}
		n.URI = u
		i = end + 1
	} else {
		// addr-spec: the URI ends at the first ';' or white space. A URI
		// holding ',', ';' or '?' must be in angle brackets (RFC 3261 §20),
		// so an addr-spec with headers is rejected (RFC 4475 regbadct).
		end := i
		for end < len(s) && s[end] != ';' && s[end] != ' ' && s[end] != '\t' && s[end] != '\r' {
			end++
		}
		u, err := uri.Parse(s[i:end])
		if err != nil {
			return errAt(h, i, err)
		}
		if u.Headers != "" {
			return errAt(h, i, ErrSyntax)
		}
		n.URI = u
		i = end
	}
	p, next, err := parseParams(h, s, i)
	if err != nil {
		return err
	}
	n.Params = p
	return expectEnd(h, s, next)
}

func hasFold(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}

// unfold replaces each line fold (CRLF followed by white space) with one
// space.
func unfold(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			b = append(b, ' ')
			i++
			for i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t') {
				i++
			}
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// The header fields whose values are name-addrs. Each is its own type so
// that typed access knows the header; all convert to and from NameAddr.
type (
	// From is the From header field (RFC 3261 §20.20).
	From NameAddr
	// To is the To header field (RFC 3261 §20.39).
	To NameAddr
	// Route is one Route value (RFC 3261 §20.34).
	Route NameAddr
	// RecordRoute is one Record-Route value (RFC 3261 §20.30).
	RecordRoute NameAddr
	// Path is one Path value (RFC 3327).
	Path NameAddr
	// ServiceRoute is one Service-Route value (RFC 3608).
	ServiceRoute NameAddr
	// PAssertedIdentity is one P-Asserted-Identity value (RFC 3325).
	PAssertedIdentity NameAddr
	// PPreferredIdentity is one P-Preferred-Identity value (RFC 3325).
	PPreferredIdentity NameAddr
	// ReferTo is the Refer-To header field (RFC 3515); its URI may carry
	// headers, such as Replaces for an attended transfer.
	ReferTo NameAddr
	// ReferredBy is the Referred-By header field (RFC 3892).
	ReferredBy NameAddr
	// ReplyTo is the Reply-To header field (RFC 3261 §20.31).
	ReplyTo NameAddr
)

// HeaderName returns "From".
func (From) HeaderName() string { return "From" }

// Parse parses a From value.
func (v *From) Parse(s string) error { return parseNameAddr("From", s, (*NameAddr)(v)) }

// AppendTo appends the From value.
func (v From) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// Tag returns the tag parameter.
func (v From) Tag() string { return NameAddr(v).Tag() }

// HeaderName returns "To".
func (To) HeaderName() string { return "To" }

// Parse parses a To value.
func (v *To) Parse(s string) error { return parseNameAddr("To", s, (*NameAddr)(v)) }

// AppendTo appends the To value.
func (v To) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// Tag returns the tag parameter.
func (v To) Tag() string { return NameAddr(v).Tag() }

// HeaderName returns "Route".
func (Route) HeaderName() string { return "Route" }

// Parse parses one Route value.
func (v *Route) Parse(s string) error { return parseNameAddr("Route", s, (*NameAddr)(v)) }

// AppendTo appends the Route value.
func (v Route) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Record-Route".
func (RecordRoute) HeaderName() string { return "Record-Route" }

// Parse parses one Record-Route value.
func (v *RecordRoute) Parse(s string) error { return parseNameAddr("Record-Route", s, (*NameAddr)(v)) }

// AppendTo appends the Record-Route value.
func (v RecordRoute) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Path".
func (Path) HeaderName() string { return "Path" }

// Parse parses one Path value.
func (v *Path) Parse(s string) error { return parseNameAddr("Path", s, (*NameAddr)(v)) }

// AppendTo appends the Path value.
func (v Path) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Service-Route".
func (ServiceRoute) HeaderName() string { return "Service-Route" }

// Parse parses one Service-Route value.
func (v *ServiceRoute) Parse(s string) error {
	return parseNameAddr("Service-Route", s, (*NameAddr)(v))
}

// AppendTo appends the Service-Route value.
func (v ServiceRoute) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "P-Asserted-Identity".
func (PAssertedIdentity) HeaderName() string { return "P-Asserted-Identity" }

// Parse parses one P-Asserted-Identity value.
func (v *PAssertedIdentity) Parse(s string) error {
	return parseNameAddr("P-Asserted-Identity", s, (*NameAddr)(v))
}

// AppendTo appends the P-Asserted-Identity value.
func (v PAssertedIdentity) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "P-Preferred-Identity".
func (PPreferredIdentity) HeaderName() string { return "P-Preferred-Identity" }

// Parse parses one P-Preferred-Identity value.
func (v *PPreferredIdentity) Parse(s string) error {
	return parseNameAddr("P-Preferred-Identity", s, (*NameAddr)(v))
}

// AppendTo appends the P-Preferred-Identity value.
func (v PPreferredIdentity) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Refer-To".
func (ReferTo) HeaderName() string { return "Refer-To" }

// Parse parses a Refer-To value.
func (v *ReferTo) Parse(s string) error { return parseNameAddr("Refer-To", s, (*NameAddr)(v)) }

// AppendTo appends the Refer-To value.
func (v ReferTo) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Referred-By".
func (ReferredBy) HeaderName() string { return "Referred-By" }

// Parse parses a Referred-By value.
func (v *ReferredBy) Parse(s string) error { return parseNameAddr("Referred-By", s, (*NameAddr)(v)) }

// AppendTo appends the Referred-By value.
func (v ReferredBy) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }

// HeaderName returns "Reply-To".
func (ReplyTo) HeaderName() string { return "Reply-To" }

// Parse parses a Reply-To value.
func (v *ReplyTo) Parse(s string) error { return parseNameAddr("Reply-To", s, (*NameAddr)(v)) }

// AppendTo appends the Reply-To value.
func (v ReplyTo) AppendTo(b []byte) []byte { return NameAddr(v).AppendTo(b) }
