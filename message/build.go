package message

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

// ErrNoGenerator reports a builder that needed a fresh identifier but was
// given no ident.Generator.
var ErrNoGenerator = errors.New("no identifier generator")

// RequestOptions are the parts of a new request (RFC 3261 §8.1.1). Zero
// fields take the defaults their documentation gives.
type RequestOptions struct {
	// From is the request's originator. Its URI is required; a tag is added
	// from Gen when it has none.
	From header.From
	// To is the logical recipient; by default the Request-URI, no tag.
	To header.To
	// CallID defaults to Gen.CallID().
	CallID string
	// CSeq defaults to 1.
	CSeq uint32
	// MaxForwards defaults to 70. To send another value, 0 included, set
	// it after building with message.Set(m, header.MaxForwards(n)).
	MaxForwards int
	// Via is the top Via: its transport (default "UDP") and sent-by are
	// required; a branch is added from Gen when it has none.
	Via header.Via
	// Contact is required for requests that can create a dialog (INVITE,
	// SUBSCRIBE, REFER, RFC 3261 §8.1.1.8).
	Contact *header.Contact
	// Routes is a pre-existing route set, in order.
	Routes []header.Route
	// Supported, Require and Allow become their header fields.
	Supported, Require, Allow []string
	// ContentType and Body are the body and its type.
	ContentType string
	Body        []byte
	// Gen makes the branch, tag and Call-ID.
	Gen ident.Generator
}

// NewRequest builds a request with every header field RFC 3261 §8.1.1
// makes mandatory: To, From (with a tag), CSeq, Call-ID, Max-Forwards, Via
// (with a branch), Contact where a dialog may result, and Content-Length.
// Every part is checked, so that no field can break the grammar.
func NewRequest(method string, ruri uri.URI, o RequestOptions) (*Message, error) {
	if !abnf.IsToken(method) {
		return nil, fmt.Errorf("%w: method %q", ErrInvalid, method)
	}
	if err := ruri.Validate(); err != nil || ruri.Headers != "" {
		return nil, fmt.Errorf("%w: Request-URI %q", ErrInvalid, ruri.String())
	}
	if o.From.URI.Scheme == uri.Absolute && o.From.URI.Opaque == "" {
		return nil, fmt.Errorf("%w: From has no URI", ErrInvalid)
	}
	if o.Via.Host == "" {
		return nil, fmt.Errorf("%w: Via has no sent-by", ErrInvalid)
	}
	needGen := o.From.Tag() == "" || o.CallID == "" || o.Via.Branch() == ""
	if needGen && o.Gen == nil {
		return nil, ErrNoGenerator
	}
	switch method {
	case "INVITE", "SUBSCRIBE", "REFER":
		if o.Contact == nil {
			return nil, fmt.Errorf("%w: %s needs a Contact", ErrInvalid, method)
		}
	}
	if o.From.Tag() == "" {
		o.From.Params = o.From.Params.With("tag", o.Gen.Tag())
	}
	if o.To.URI.Scheme == uri.Absolute && o.To.URI.Opaque == "" {
		o.To.URI = ruri
	}
	if o.CallID == "" {
		o.CallID = o.Gen.CallID()
	}
	if o.CSeq == 0 {
		o.CSeq = 1
	}
	if o.MaxForwards <= 0 || o.MaxForwards > 255 {
		o.MaxForwards = 70
	}
	if o.Via.Transport == "" {
		o.Via.Transport = "UDP"
	}
	if o.Via.Branch() == "" {
		o.Via.Params = o.Via.Params.With("branch", o.Gen.Branch())
	}

	b := make([]byte, 0, 512+len(o.Body))
	b = append(b, method...)
	b = append(b, ' ')
	b = ruri.AppendTo(b)
	b = append(b, " SIP/2.0\r\n"...)
	var err error
	mf := header.MaxForwards(o.MaxForwards)
	b, err = appendTyped(b, &o.Via, err)
	b, err = appendTyped(b, &mf, err)
	for i := range o.Routes {
		b, err = appendTyped(b, &o.Routes[i], err)
	}
	b, err = appendTyped(b, &o.To, err)
	b, err = appendTyped(b, &o.From, err)
	callID, cseq := header.CallID(o.CallID), header.CSeq{Seq: o.CSeq, Method: method}
	b, err = appendTyped(b, &callID, err)
	b, err = appendTyped(b, &cseq, err)
	if o.Contact != nil {
		b, err = appendTyped(b, o.Contact, err)
	}
	b, err = appendTokens(b, "Supported", o.Supported, err)
	b, err = appendTokens(b, "Require", o.Require, err)
	b, err = appendTokens(b, "Allow", o.Allow, err)
	if err != nil {
		return nil, err
	}
	if len(o.Body) > 0 || o.ContentType != "" {
		if e := header.ValidateValue(header.IDContentType, "Content-Type", o.ContentType); e != nil || o.ContentType == "" {
			return nil, fmt.Errorf("%w: Content-Type %q", ErrInvalid, o.ContentType)
		}
		b = append(b, "Content-Type: "...)
		b = append(b, o.ContentType...)
		b = append(b, '\r', '\n')
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(o.Body)), 10)
	b = append(b, '\r', '\n')
	b = append(b, '\r', '\n')
	b = append(b, o.Body...)
	m, err := parseBuilt(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return m, nil
}

// appendTyped appends the header field of the typed value *p to b, as
// render checks it: no CR, LF or NUL, and a value that parses back and
// renders to the same text. It does nothing once err is set, so that calls
// chain. It works in b itself, costing one allocation (the parse's copy)
// where render costs several.
func appendTyped[T any, P header.Value[T]](b []byte, p P, err error) ([]byte, error) {
	if err != nil {
		return b, err
	}
	name := p.HeaderName()
	b = append(b, name...)
	b = append(b, ": "...)
	start := len(b)
	b = p.AppendTo(b)
	text := string(b[start:])
	if err := header.CheckLine(name, text); err != nil {
		return b, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var back T
	if err := P(&back).Parse(text); err != nil {
		return b, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// Render the parsed value after the end of b, in its spare capacity.
	if again := P(&back).AppendTo(b[len(b):]); string(again) != text {
		return b, fmt.Errorf("%w: %s value %q does not survive a round trip", ErrInvalid, name, text)
	}
	return append(b, '\r', '\n'), nil
}

// appendTokens appends a list header of tokens (Supported, Require, Allow)
// on one line, if vals has any.
func appendTokens(b []byte, name string, vals []string, err error) ([]byte, error) {
	if err != nil || len(vals) == 0 {
		return b, err
	}
	b = append(b, name...)
	b = append(b, ": "...)
	for i, v := range vals {
		if !abnf.IsToken(v) {
			return b, fmt.Errorf("%w: %s value %q", ErrInvalid, name, v)
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
	}
	return append(b, '\r', '\n'), nil
}

// field renders a typed value as a header field's name and text.
func field[T any, P header.Value[T]](v T) (string, string, error) {
	text, err := render[T, P](v)
	return P(&v).HeaderName(), text, err
}

func tokenList(name string, vals []string) (string, string, error) {
	s := ""
	for i, v := range vals {
		if !abnf.IsToken(v) {
			return "", "", fmt.Errorf("%w: %s value %q", ErrInvalid, name, v)
		}
		if i > 0 {
			s += ", "
		}
		s += v
	}
	return name, s, nil
}

// ResponseOptions tune NewResponse.
type ResponseOptions struct {
	// ToTag is the tag to add to To when the request has none. All
	// responses of one transaction must use the same tag (RFC 3261
	// §8.2.6.2). When empty, Gen.Tag() is used; a 100 gets no tag.
	ToTag string
	// Gen makes the To tag when ToTag is empty.
	Gen ident.Generator
	// Delay is how long the request waited before this 100 (Trying) was
	// made; it is added to the copied Timestamp (RFC 3261 §8.2.6.1).
	Delay time.Duration
}

// NewResponse builds a response to req (RFC 3261 §8.2.6): the status line
// with code and reason (the standard phrase when ""), the Via values, From,
// Call-ID and CSeq copied from the request as received, To copied with a
// tag added when it has none (not for 100), and for a 100 the request's
// Timestamp.
func NewResponse(req *Message, code int, reason string, o ResponseOptions) (*Message, error) {
	if req == nil || !req.x.Request {
		return nil, ErrWrongKind
	}
	if code < 100 || code > 699 {
		return nil, fmt.Errorf("%w: status code %d", ErrInvalid, code)
	}
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	if err := header.CheckText("Reason-Phrase", reason); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	tag := ""
	if code > 100 && req.ToTag() == "" {
		tag = o.ToTag
		if tag == "" {
			if o.Gen == nil {
				return nil, ErrNoGenerator
			}
			tag = o.Gen.Tag()
		}
		if !abnf.IsToken(tag) {
			return nil, fmt.Errorf("%w: tag %q", ErrInvalid, tag)
		}
	}
	b, seen := req.appendResponse(make([]byte, 0, req.responseSize(reason, tag)), code, reason, tag, o.Delay)
	if seen != 31 {
		return nil, fmt.Errorf("%w: the request lacks Via, From, To, Call-ID or CSeq", ErrNoHeader)
	}
	m, err := parseBuilt(b)
	if m == nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return m, err
}

// appendResponse writes a response to m with the fields RFC 3261 §8.2.6.2
// copies. It reports which of Via, From, Call-ID, CSeq and To it copied, as
// bits 1, 2, 4, 8 and 16. A field whose line holds a CR, LF or NUL other
// than its line end and folds (possible only in a message that failed to
// parse) is never echoed.
func (m *Message) appendResponse(b []byte, code int, reason, tag string, delay time.Duration) ([]byte, uint8) {
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, '\r', '\n')
	var seen uint8
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		var bit uint8
		switch f.ID {
		case header.IDVia:
			bit = 1
		case header.IDFrom:
			bit = 2
		case header.IDCallID:
			bit = 4
		case header.IDCSeq:
			bit = 8
		case header.IDTo:
			bit = 16
		case header.IDTimestamp:
			if code != 100 || !safeLine(f.Line) {
				continue
			}
			if delay <= 0 {
				b = append(b, f.Line...)
				continue
			}
			b = append(b, "Timestamp: "...)
			b = append(b, timestampValue(f.Value())...)
			b = append(b, ' ')
			b = strconv.AppendFloat(b, delay.Seconds(), 'f', 3, 64)
			b = append(b, '\r', '\n')
			continue
		default:
			continue
		}
		if !safeLine(f.Line) {
			continue
		}
		seen |= bit
		if bit != 16 || tag == "" {
			b = append(b, f.Line...)
			continue
		}
		b = append(b, f.Line[:len(f.Name())]...)
		b = append(b, ": "...)
		b = append(b, f.RawValue()...)
		b = append(b, ";tag="...)
		b = append(b, tag...)
		b = append(b, '\r', '\n')
	}
	b = append(b, "Content-Length: 0\r\n\r\n"...)
	return b, seen
}

// responseSize estimates the length of a response appendResponse writes,
// so that its buffer is allocated once.
func (m *Message) responseSize(reason, tag string) int {
	n := 64 + len(reason) + len(tag)
	for i := range m.x.Fields {
		switch m.x.Fields[i].ID {
		case header.IDVia, header.IDFrom, header.IDTo, header.IDCallID, header.IDCSeq, header.IDTimestamp:
			n += len(m.x.Fields[i].Line)
		}
	}
	return n
}

// safeLine reports whether a field line holds CR and LF only as its line
// end and in folds, and no NUL outside a quoted-pair.
func safeLine(line string) bool {
	body := line[:len(line)-2]
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\r':
			if i+2 >= len(body) || body[i+1] != '\n' || (body[i+2] != ' ' && body[i+2] != '\t') {
				return false
			}
			i++
		case '\n':
			return false
		case 0:
			if i == 0 || body[i-1] != '\\' {
				return false
			}
		}
	}
	return true
}

// timestampValue returns the time part of a Timestamp value, dropping any
// delay already there.
func timestampValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' || v[i] == '\t' {
			return v[:i]
		}
	}
	return v
}

// AckFor builds the ACK that acknowledges resp, a non-2xx final response to
// the INVITE invite, as the client transaction sends it (RFC 3261
// §17.1.1.3): the INVITE's Request-URI, Call-ID, From, CSeq number and
// Route fields, its top Via as the only Via, and the response's To (with
// its tag).
func AckFor(invite, resp *Message) (*Message, error) {
	if invite == nil || !invite.x.Request || resp == nil || resp.x.Request {
		return nil, ErrWrongKind
	}
	ti := resp.firstIndex(header.IDTo, "", -1)
	if ti < 0 {
		return nil, fmt.Errorf("%w: response without To", ErrNoHeader)
	}
	return invite.derive("ACK", &resp.x.Fields[ti])
}

// CancelFor builds the CANCEL for req (RFC 3261 §9.1): the same
// Request-URI, Call-ID, To, From, CSeq number and Route fields, and req's
// top Via as the only Via, so that it reaches the same server transaction.
func CancelFor(req *Message) (*Message, error) {
	if req == nil || !req.x.Request {
		return nil, ErrWrongKind
	}
	return req.derive("CANCEL", nil)
}

// derive builds an ACK or CANCEL from m: m's Request-URI, top Via only,
// Max-Forwards, Route fields, From, Call-ID, the CSeq number with method,
// and To from to (or m's own To when to is nil).
func (m *Message) derive(method string, to *parser.Field) (*Message, error) {
	vi := m.firstIndex(header.IDVia, "", -1)
	if vi < 0 {
		return nil, fmt.Errorf("%w: no Via", ErrNoHeader)
	}
	top, _, _, _ := header.CutList(m.x.Fields[vi].RawValue())
	cseq := m.CSeq()
	b := make([]byte, 0, 512)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, m.x.RequestURI...)
	b = append(b, " SIP/2.0\r\nVia: "...)
	b = append(b, top...)
	b = append(b, "\r\nMax-Forwards: 70\r\n"...)
	var seen uint8
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		switch f.ID {
		case header.IDRoute:
			b = append(b, f.Line...)
		case header.IDFrom:
			seen |= 1
			b = append(b, f.Line...)
		case header.IDCallID:
			seen |= 2
			b = append(b, f.Line...)
		case header.IDTo:
			if to == nil {
				seen |= 4
				b = append(b, f.Line...)
			}
		}
	}
	if to != nil {
		seen |= 4
		b = append(b, to.Line...)
	}
	if seen != 7 {
		return nil, fmt.Errorf("%w: From, To or Call-ID missing", ErrNoHeader)
	}
	b = append(b, "CSeq: "...)
	b = strconv.AppendUint(b, uint64(cseq.Seq), 10)
	b = append(b, ' ')
	b = append(b, method...)
	b = append(b, "\r\nContent-Length: 0\r\n\r\n"...)
	out, err := parseBuilt(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, nil
}

// parseBuilt parses a message a builder wrote into b, taking b over: the
// message's strings refer to it, so the caller must not touch b again. The
// limits are those of the builder's own output, which the caller checked.
func parseBuilt(b []byte) (*Message, error) {
	lim := parser.Limits{MaxMessageSize: len(b) + 1, MaxBodySize: len(b) + 1, MaxHeaderLine: 65000, MaxHeaders: 1 << 16, MaxVias: 1 << 16}
	return parse(unsafe.String(unsafe.SliceData(b), len(b)), parser.Stream, &lim)
}
