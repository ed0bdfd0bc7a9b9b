package header

import (
	"iter"
	"strconv"
	"time"

	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// RetryAfter is the Retry-After header field (RFC 3261 §20.33):
// delta-seconds [ comment ] *( SEMI retry-param ), with the duration
// parameter.
type RetryAfter struct {
	Delta uint32
	// Comment is the text between the comment's outer parentheses as
	// written (nested comments and quoted-pairs kept), with line folds
	// replaced by a space; "" if there is none.
	Comment string
	Params  Params
}

// HeaderName returns "Retry-After".
func (RetryAfter) HeaderName() string { return "Retry-After" }

// Parse parses a Retry-After value. A delta-seconds above 2**32-1 is an
// ErrRange error (RFC 4475 scalarlg).
func (r *RetryAfter) Parse(s string) error {
	const h = "Retry-After"
	*r = RetryAfter{}
	i := abnf.SkipLWS(s, 0)
	n, j, err := parseDigits(h, s, i, 1<<32-1)
	if err != nil {
		return err
	}
	var comment string
	if k := abnf.SkipLWS(s, j); k < len(s) && s[k] == '(' {
		end, folded, ok := commentEnd(s, k)
		if !ok {
			return errAt(h, end, ErrSyntax)
		}
		comment = s[k+1 : end-1]
		if folded {
			comment = unfold(comment)
		}
		j = end
	}
	p, err := parseParamsEnd(h, s, j)
	if err != nil {
		return err
	}
	r.Delta, r.Comment, r.Params = uint32(n), comment, p
	return nil
}

// AppendTo appends "delta (comment);params".
func (r RetryAfter) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(r.Delta), 10)
	if r.Comment != "" {
		b = append(b, " ("...)
		b = append(b, r.Comment...)
		b = append(b, ')')
	}
	return append(b, r.Params...)
}

// Duration returns the duration parameter, how long the callee will be
// reachable from the retry time on, and whether it is present and a valid
// delta-seconds.
func (r RetryAfter) Duration() (uint32, bool) {
	n, ok := paramUint(r.Params, "duration", 1<<32-1)
	return uint32(n), ok
}

// After returns Delta as a time.Duration.
func (r RetryAfter) After() time.Duration { return time.Duration(r.Delta) * time.Second }

// Timestamp is the Timestamp header field (RFC 3261 §20.38):
// 1*DIGIT [ "." *DIGIT ] [ LWS delay ], kept as written.
type Timestamp struct {
	Value string // "54" or "54.02"
	Delay string // "" if absent, else *DIGIT [ "." *DIGIT ]
}

// HeaderName returns "Timestamp".
func (Timestamp) HeaderName() string { return "Timestamp" }

// spanDecimal returns the end of *DIGIT [ "." *DIGIT ] at s[i].
func spanDecimal(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i
}

// Parse parses a Timestamp value.
func (t *Timestamp) Parse(s string) error {
	const h = "Timestamp"
	*t = Timestamp{}
	i := abnf.SkipLWS(s, 0)
	if i >= len(s) {
		return errAt(h, i, ErrEmpty)
	}
	if s[i] < '0' || s[i] > '9' {
		return errAt(h, i, ErrSyntax)
	}
	j := spanDecimal(s, i)
	k := abnf.SkipLWS(s, j)
	var delay string
	if k < len(s) {
		if k == j {
			return errAt(h, j, ErrSyntax)
		}
		e := spanDecimal(s, k)
		if e == k {
			return errAt(h, k, ErrSyntax)
		}
		if err := expectEnd(h, s, e); err != nil {
			return err
		}
		delay = s[k:e]
	}
	t.Value, t.Delay = s[i:j], delay
	return nil
}

// AppendTo appends "value delay".
func (t Timestamp) AppendTo(b []byte) []byte {
	b = append(b, t.Value...)
	if t.Delay != "" {
		b = append(b, ' ')
		b = append(b, t.Delay...)
	}
	return b
}

func decimal(s string) float64 {
	if s == "" || s == "." {
		return 0
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// Float returns the timestamp value as a number.
func (t Timestamp) Float() float64 { return decimal(t.Value) }

// DelayFloat returns the delay as a number of seconds, 0 if absent.
func (t Timestamp) DelayFloat() float64 { return decimal(t.Delay) }

// Date is the Date header field (RFC 3261 §20.17): an rfc1123-date in GMT,
// "Sat, 13 Nov 2010 23:29:00 GMT". Time is in UTC with a whole number of
// seconds, so that Date values compare with ==.
type Date struct {
	Time time.Time
}

// NewDate returns the Date of t: in UTC, truncated to the second.
func NewDate(t time.Time) Date { return Date{Time: t.UTC().Truncate(time.Second)} }

// HeaderName returns "Date".
func (Date) HeaderName() string { return "Date" }

var (
	wkdays = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// Parse parses wkday "," SP date1 SP time SP "GMT" with its single spaces
// (RFC 3261 §25.1). Only GMT is valid (RFC 4475 baddate: "EST" is
// rejected). The names of days and months are case-insensitive, as ABNF
// strings are; the day of the week is not checked against the date.
func (d *Date) Parse(s string) error {
	const h = "Date"
	*d = Date{}
	t := abnf.TrimLWS(s)
	off := abnf.SkipLWS(s, 0)
	if t == "" {
		return errAt(h, off, ErrEmpty)
	}
	// As in "Sun, 06 Nov 1994 08:49:37 GMT":
	const layout = "www, dd mmm yyyy hh:mm:ss GMT"
	if len(t) != len(layout) {
		return errAt(h, off, ErrSyntax)
	}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		switch c {
		case 'd', 'y', 'h', 's':
			if t[i] < '0' || t[i] > '9' {
				return errAt(h, off+i, ErrSyntax)
			}
		case 'm':
			if i > 13 && (t[i] < '0' || t[i] > '9') {
				return errAt(h, off+i, ErrSyntax)
			}
		case 'w':
		case 'G', 'M', 'T':
			if t[i]&^0x20 != c {
				return errAt(h, off+i, ErrSyntax)
			}
		default:
			if t[i] != c {
				return errAt(h, off+i, ErrSyntax)
			}
		}
	}
	wk := false
	for _, w := range wkdays {
		if abnf.EqualFold(t[0:3], w) {
			wk = true
		}
	}
	if !wk {
		return errAt(h, off, ErrSyntax)
	}
	month := 0
	for i, m := range months {
		if abnf.EqualFold(t[8:11], m) {
			month = i + 1
		}
	}
	if month == 0 {
		return errAt(h, off+8, ErrSyntax)
	}
	num := func(a, b int) int {
		n, _ := abnf.ParseUint(t[a:b], 9999)
		return int(n)
	}
	year, day := num(12, 16), num(5, 7)
	hour, min, sec := num(17, 19), num(20, 22), num(23, 25)
	if day < 1 || day > daysIn(month, year) {
		return errAt(h, off+5, ErrRange)
	}
	if hour > 23 || min > 59 || sec > 59 {
		return errAt(h, off+17, ErrRange)
	}
	d.Time = time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	return nil
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// AppendTo appends the rfc1123-date of Time in UTC.
func (d Date) AppendTo(b []byte) []byte {
	return d.Time.UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
}

// Warning is one value of a Warning list (RFC 3261 §20.43):
// warn-code SP warn-agent SP warn-text.
type Warning struct {
	Code uint16 // three digits: 300 to 399 for the codes RFC 3261 defines
	// Agent is the warn-agent: the hostport or pseudonym of the element
	// that added the warning.
	Agent string
	// Text is the warn-text with its quotes and quoted-pairs resolved.
	Text string
}

// HeaderName returns "Warning".
func (Warning) HeaderName() string { return "Warning" }

// validHostPort reports whether s is host [ ":" port ].
func validHostPort(s string) bool {
	host, port := s, ""
	if len(s) > 0 && s[0] == '[' {
		i := 0
		for i < len(s) && s[i] != ']' {
			i++
		}
		if i >= len(s) {
			return false
		}
		host = s[:i+1]
		if i+1 < len(s) {
			if s[i+1] != ':' {
				return false
			}
			port = s[i+2:]
			if port == "" {
				return false
			}
		}
	} else {
		for i := 0; i < len(s); i++ {
			if s[i] == ':' {
				host, port = s[:i], s[i+1:]
				if port == "" {
					return false
				}
				break
			}
		}
	}
	if port != "" {
		if _, ok := abnf.ParseUint(port, 65535); !ok {
			return false
		}
	}
	return uri.ValidHost(host)
}

// Parse parses one warning-value. The warn-code must have exactly three
// digits (RFC 4475 scalarlg: "1812" is rejected) and the separators are
// single spaces, as the grammar has them.
func (w *Warning) Parse(s string) error {
	const h = "Warning"
	*w = Warning{}
	i := abnf.SkipLWS(s, 0)
	if i >= len(s) {
		return errAt(h, i, ErrEmpty)
	}
	if i+4 > len(s) {
		return errAt(h, i, ErrSyntax)
	}
	code, ok := abnf.ParseUint(s[i:i+3], 999)
	if !ok {
		return errAt(h, i, ErrSyntax)
	}
	if s[i+3] != ' ' {
		return errAt(h, i+3, ErrSyntax)
	}
	a := i + 4
	e := a
	for e < len(s) && s[e] != ' ' && s[e] != '\t' && s[e] != '\r' && s[e] != '"' {
		e++
	}
	agent := s[a:e]
	if agent == "" || (!abnf.IsToken(agent) && !validHostPort(agent)) {
		return errAt(h, a, ErrSyntax)
	}
	if e >= len(s) || s[e] != ' ' {
		return errAt(h, e, ErrSyntax)
	}
	q := e + 1
	end, esc, ok := abnf.QuotedEnd(s, q)
	if !ok {
		return errAt(h, q, ErrSyntax)
	}
	if err := expectEnd(h, s, end); err != nil {
		return err
	}
	text := s[q+1 : end-1]
	if esc || hasFold(text) {
		text = abnf.Unquote(s[q:end])
	}
	w.Code, w.Agent, w.Text = uint16(code), agent, text
	return nil
}

// AppendTo appends `code agent "text"`.
func (w Warning) AppendTo(b []byte) []byte {
	if w.Code < 100 {
		b = append(b, '0')
		if w.Code < 10 {
			b = append(b, '0')
		}
	}
	b = strconv.AppendUint(b, uint64(w.Code), 10)
	b = append(b, ' ')
	b = append(b, w.Agent...)
	b = append(b, ' ')
	b, _ = abnf.AppendQuoted(b, w.Text)
	return b
}

// CallInfo is one value of a Call-Info list (RFC 3261 §20.9): a URI with
// more information about the caller or callee, and its purpose.
type CallInfo struct {
	URI    uri.URI
	Params Params
}

// HeaderName returns "Call-Info".
func (CallInfo) HeaderName() string { return "Call-Info" }

// Parse parses LAQUOT absoluteURI RAQUOT *( SEMI info-param ).
func (c *CallInfo) Parse(s string) error {
	u, p, err := parseAngleURI("Call-Info", s)
	*c = CallInfo{}
	if err == nil {
		c.URI, c.Params = u, p
	}
	return err
}

// AppendTo appends "<uri>;params".
func (c CallInfo) AppendTo(b []byte) []byte { return appendAngleURI(b, c.URI, c.Params) }

// Purpose returns the purpose parameter ("icon", "info", "card" or another
// token), or "".
func (c CallInfo) Purpose() string {
	v, _ := c.Params.Get("purpose")
	return v
}

// AlertInfo is one value of an Alert-Info list (RFC 3261 §20.4): a URI of
// an alternative ring tone.
type AlertInfo struct {
	URI    uri.URI
	Params Params
}

// HeaderName returns "Alert-Info".
func (AlertInfo) HeaderName() string { return "Alert-Info" }

// Parse parses LAQUOT absoluteURI RAQUOT *( SEMI generic-param ).
func (a *AlertInfo) Parse(s string) error {
	u, p, err := parseAngleURI("Alert-Info", s)
	*a = AlertInfo{}
	if err == nil {
		a.URI, a.Params = u, p
	}
	return err
}

// AppendTo appends "<uri>;params".
func (a AlertInfo) AppendTo(b []byte) []byte { return appendAngleURI(b, a.URI, a.Params) }

// ErrorInfo is one value of an Error-Info list (RFC 3261 §20.18): a URI
// with more information about an error response.
type ErrorInfo struct {
	URI    uri.URI
	Params Params
}

// HeaderName returns "Error-Info".
func (ErrorInfo) HeaderName() string { return "Error-Info" }

// Parse parses LAQUOT absoluteURI RAQUOT *( SEMI generic-param ).
func (e *ErrorInfo) Parse(s string) error {
	u, p, err := parseAngleURI("Error-Info", s)
	*e = ErrorInfo{}
	if err == nil {
		e.URI, e.Params = u, p
	}
	return err
}

// AppendTo appends "<uri>;params".
func (e ErrorInfo) AppendTo(b []byte) []byte { return appendAngleURI(b, e.URI, e.Params) }

// IdentityInfo is the Identity-Info header field (RFC 4474 §9): the URI of
// the certificate of the signer of an Identity header field, with the alg
// parameter.
type IdentityInfo struct {
	URI    uri.URI
	Params Params
}

// HeaderName returns "Identity-Info".
func (IdentityInfo) HeaderName() string { return "Identity-Info" }

// Parse parses LAQUOT absoluteURI RAQUOT *( SEMI ident-info-params ).
func (v *IdentityInfo) Parse(s string) error {
	u, p, err := parseAngleURI("Identity-Info", s)
	*v = IdentityInfo{}
	if err == nil {
		v.URI, v.Params = u, p
	}
	return err
}

// AppendTo appends "<uri>;params".
func (v IdentityInfo) AppendTo(b []byte) []byte { return appendAngleURI(b, v.URI, v.Params) }

// Alg returns the alg parameter ("rsa-sha1"), or "".
func (v IdentityInfo) Alg() string {
	a, _ := v.Params.Get("alg")
	return a
}

// Priority is the Priority header field (RFC 3261 §20.26): "emergency",
// "urgent", "normal", "non-urgent" or another token.
type Priority string

// HeaderName returns "Priority".
func (Priority) HeaderName() string { return "Priority" }

// Parse parses the priority token.
func (p *Priority) Parse(s string) error {
	t, err := parseToken("Priority", s)
	*p = Priority(t)
	return err
}

// AppendTo appends the priority.
func (p Priority) AppendTo(b []byte) []byte { return append(b, p...) }

// Organization is the Organization header field (RFC 3261 §20.25), kept as
// text; it may be empty.
type Organization string

// HeaderName returns "Organization".
func (Organization) HeaderName() string { return "Organization" }

// Parse parses the text.
func (o *Organization) Parse(s string) error {
	t, err := parseText("Organization", s)
	*o = Organization(t)
	return err
}

// AppendTo appends the text.
func (o Organization) AppendTo(b []byte) []byte { return append(b, o...) }

// MIMEVersion is the MIME-Version header field (RFC 3261 §20.24):
// 1*DIGIT "." 1*DIGIT, "1.0".
type MIMEVersion struct {
	Major, Minor uint32
}

// HeaderName returns "MIME-Version".
func (MIMEVersion) HeaderName() string { return "MIME-Version" }

// Parse parses the version.
func (m *MIMEVersion) Parse(s string) error {
	const h = "MIME-Version"
	*m = MIMEVersion{}
	i := abnf.SkipLWS(s, 0)
	major, j, err := parseDigits(h, s, i, 1<<32-1)
	if err != nil {
		return err
	}
	if j >= len(s) || s[j] != '.' {
		return errAt(h, j, ErrSyntax)
	}
	minor, k, err := parseDigits(h, s, j+1, 1<<32-1)
	if err != nil {
		return err
	}
	if err := expectEnd(h, s, k); err != nil {
		return err
	}
	m.Major, m.Minor = uint32(major), uint32(minor)
	return nil
}

// AppendTo appends "major.minor".
func (m MIMEVersion) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(m.Major), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(m.Minor), 10)
}

// InReplyTo is one Call-ID of an In-Reply-To list (RFC 3261 §20.21): a
// call that this one returns.
type InReplyTo string

// HeaderName returns "In-Reply-To".
func (InReplyTo) HeaderName() string { return "In-Reply-To" }

// Parse parses a Call-ID.
func (r *InReplyTo) Parse(s string) error {
	const h = "In-Reply-To"
	off := abnf.SkipLWS(s, 0)
	t := abnf.TrimLWS(s)
	*r = ""
	if t == "" {
		return errAt(h, off, ErrEmpty)
	}
	if !ValidCallID(t) {
		return errAt(h, off, ErrSyntax)
	}
	*r = InReplyTo(t)
	return nil
}

// AppendTo appends the Call-ID.
func (r InReplyTo) AppendTo(b []byte) []byte { return append(b, r...) }

// Privacy is the Privacy header field (RFC 3323 §4.2): priv-values
// separated by ';' ("id;header"), kept without white space. The values
// are "header", "session", "user", "none", "critical", "id" (RFC 3325) or
// other tokens.
type Privacy string

// HeaderName returns "Privacy".
func (Privacy) HeaderName() string { return "Privacy" }

// Parse parses priv-value *( ";" priv-value ). White space around ';' is
// accepted and dropped.
func (p *Privacy) Parse(s string) error {
	const h = "Privacy"
	*p = ""
	i := abnf.SkipLWS(s, 0)
	start, spaced := i, false
	end := i
	for {
		_, j, err := parseTokenAt(h, s, i)
		if err != nil {
			return err
		}
		end = j
		k := abnf.SkipLWS(s, j)
		if k >= len(s) || s[k] != ';' {
			break
		}
		i = abnf.SkipLWS(s, k+1)
		if k != j || i != k+1 {
			spaced = true
		}
	}
	if err := expectEnd(h, s, end); err != nil {
		return err
	}
	if !spaced {
		*p = Privacy(s[start:end])
		return nil
	}
	b := make([]byte, 0, end-start)
	for i := start; i < end; {
		j := abnf.Span(s, i, abnf.Token)
		if len(b) > 0 {
			b = append(b, ';')
		}
		b = append(b, s[i:j]...)
		i = abnf.SkipLWS(s, j)
		if i < end {
			i = abnf.SkipLWS(s, i+1) // ';'
		}
	}
	*p = Privacy(b)
	return nil
}

// AppendTo appends the priv-values.
func (p Privacy) AppendTo(b []byte) []byte { return append(b, p...) }

// Values yields each priv-value.
func (p Privacy) Values() iter.Seq[string] {
	return func(yield func(string) bool) {
		s := string(p)
		for s != "" {
			i := 0
			for i < len(s) && s[i] != ';' {
				i++
			}
			if !yield(s[:i]) || i == len(s) {
				return
			}
			s = s[i+1:]
		}
	}
}

// Has reports whether the priv-value v is present, compared
// case-insensitively.
func (p Privacy) Has(v string) bool {
	for x := range p.Values() {
		if abnf.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// SIPETag is the SIP-ETag header field (RFC 3903 §11.3.1): the entity-tag
// a state agent assigned to published state.
type SIPETag string

// HeaderName returns "SIP-ETag".
func (SIPETag) HeaderName() string { return "SIP-ETag" }

// Parse parses the entity-tag, a token.
func (e *SIPETag) Parse(s string) error {
	t, err := parseToken("SIP-ETag", s)
	*e = SIPETag(t)
	return err
}

// AppendTo appends the entity-tag.
func (e SIPETag) AppendTo(b []byte) []byte { return append(b, e...) }

// SIPIfMatch is the SIP-If-Match header field (RFC 3903 §11.3.2): the
// entity-tag of the published state a PUBLISH refreshes, modifies or
// removes.
type SIPIfMatch string

// HeaderName returns "SIP-If-Match".
func (SIPIfMatch) HeaderName() string { return "SIP-If-Match" }

// Parse parses the entity-tag, a token.
func (e *SIPIfMatch) Parse(s string) error {
	t, err := parseToken("SIP-If-Match", s)
	*e = SIPIfMatch(t)
	return err
}

// AppendTo appends the entity-tag.
func (e SIPIfMatch) AppendTo(b []byte) []byte { return append(b, e...) }

// parseStarParams parses "*" *( SEMI params ), the shape of Accept-Contact
// and Reject-Contact values.
func parseStarParams(h, s string) (Params, error) {
	i := abnf.SkipLWS(s, 0)
	if i >= len(s) {
		return "", errAt(h, i, ErrEmpty)
	}
	if s[i] != '*' {
		return "", errAt(h, i, ErrSyntax)
	}
	return parseParamsEnd(h, s, i+1)
}

// AcceptContact is one value of an Accept-Contact list (RFC 3841 §10):
// "*" with feature parameters ("+sip.audio", methods="INVITE") and the
// require and explicit flags.
type AcceptContact struct {
	Params Params
}

// HeaderName returns "Accept-Contact".
func (AcceptContact) HeaderName() string { return "Accept-Contact" }

// Parse parses "*" *( SEMI ac-params ).
func (a *AcceptContact) Parse(s string) error {
	p, err := parseStarParams("Accept-Contact", s)
	a.Params = p
	return err
}

// AppendTo appends "*;params".
func (a AcceptContact) AppendTo(b []byte) []byte {
	b = append(b, '*')
	return append(b, a.Params...)
}

// Require reports whether the require flag is present.
func (a AcceptContact) Require() bool { return a.Params.Has("require") }

// Explicit reports whether the explicit flag is present.
func (a AcceptContact) Explicit() bool { return a.Params.Has("explicit") }

// RejectContact is one value of a Reject-Contact list (RFC 3841 §10): "*"
// with feature parameters.
type RejectContact struct {
	Params Params
}

// HeaderName returns "Reject-Contact".
func (RejectContact) HeaderName() string { return "Reject-Contact" }

// Parse parses "*" *( SEMI rc-params ).
func (r *RejectContact) Parse(s string) error {
	p, err := parseStarParams("Reject-Contact", s)
	r.Params = p
	return err
}

// AppendTo appends "*;params".
func (r RejectContact) AppendTo(b []byte) []byte {
	b = append(b, '*')
	return append(b, r.Params...)
}

// RequestDisposition is one directive of a Request-Disposition list (RFC
// 3841 §10): "proxy", "redirect", "cancel", "no-cancel", "fork",
// "no-fork", "recurse", "no-recurse", "parallel", "sequential", "queue" or
// "no-queue".
type RequestDisposition string

// HeaderName returns "Request-Disposition".
func (RequestDisposition) HeaderName() string { return "Request-Disposition" }

// Parse parses a directive token.
func (d *RequestDisposition) Parse(s string) error {
	t, err := parseToken("Request-Disposition", s)
	*d = RequestDisposition(t)
	return err
}

// AppendTo appends the directive.
func (d RequestDisposition) AppendTo(b []byte) []byte { return append(b, d...) }
