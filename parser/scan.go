// Package parser finds the parts of SIP messages in bytes: the start line,
// the header fields and the body of one message in a UDP datagram (RFC 3261
// §18.3), and the boundaries of messages and keep-alives in a TCP, TLS or
// WebSocket byte stream. It enforces Limits and reports what is wrong as
// error values with byte offsets; it never panics on any input.
//
// Scanning does not allocate and does not copy: an Index refers to the
// scanned string. Package message builds typed messages on top of it.
package parser

import (
	"strings"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/internal/abnf"
)

// Mode says how the body of a message is delimited.
type Mode uint8

const (
	// Datagram: the input is one UDP datagram (RFC 3261 §18.3). Octets after
	// Content-Length bytes of body are ignored; without a Content-Length the
	// body is the rest of the datagram; a Content-Length larger than what is
	// there is an error. A missing empty line after the last header field
	// is tolerated at the end of the datagram.
	Datagram Mode = iota
	// Stream: the input is exactly one message framed from a stream (see
	// Framer): Content-Length is mandatory and the body is exactly that long.
	Stream
)

// Field is one header field as it appears in a message: its whole text,
// folds and CRLF included, and where its name and value are in it.
type Field struct {
	Line     string // the field's text, ending in CRLF
	nameEnd  uint16
	valStart uint16
	valEnd   uint16
	ID       header.ID // the field's header, or header.Unknown
	folded   bool
}

// NewField returns the field "name: value\r\n". It does not check name or
// value; callers validate them first. A value may hold line folds (a rest
// of a received value kept as written).
func NewField(name, value string) Field {
	line := name + ": " + value + "\r\n"
	return Field{
		Line:     line,
		ID:       header.Lookup(name),
		nameEnd:  uint16(len(name)),
		valStart: uint16(len(name) + 2),
		valEnd:   uint16(len(name) + 2 + len(value)),
		folded:   strings.IndexByte(value, '\r') >= 0,
	}
}

// FieldOf returns the field whose text is line ("Name: value\r\n"), with
// the name ending at nameEnd and the value at line[valStart:valEnd]. Like
// NewField it does not check the text; it spares the caller who built the
// line a second copy.
func FieldOf(line string, nameEnd, valStart, valEnd int) Field {
	return Field{
		Line:     line,
		ID:       header.Lookup(line[:nameEnd]),
		nameEnd:  uint16(nameEnd),
		valStart: uint16(valStart),
		valEnd:   uint16(valEnd),
		folded:   strings.IndexByte(line[valStart:valEnd], '\r') >= 0,
	}
}

// Name returns the field's name as written ("v", "MaX-fOrWaRdS").
func (f *Field) Name() string { return f.Line[:f.nameEnd] }

// RawValue returns the field's value as written, without surrounding white
// space; line folds inside it are kept.
func (f *Field) RawValue() string { return f.Line[f.valStart:f.valEnd] }

// ValueOffset returns where the value starts in Line.
func (f *Field) ValueOffset() int { return int(f.valStart) }

// Value returns the field's value with each line fold replaced by a single
// space. It allocates only for a folded value.
func (f *Field) Value() string {
	v := f.Line[f.valStart:f.valEnd]
	if !f.folded {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n' {
			b.WriteByte(' ')
			i++
			for i+1 < len(v) && (v[i+1] == ' ' || v[i+1] == '\t') {
				i++
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// Folded reports whether the field spans several lines.
func (f *Field) Folded() bool { return f.folded }

// Index locates the parts of one message inside the scanned string.
type Index struct {
	// Request is true for a request, false for a response.
	Request bool
	// StartLine is the first line without its CRLF.
	StartLine string
	// Method, RequestURI and Version are the request line's parts.
	Method, RequestURI string
	// Version is "SIP/2.0" (as written) for both kinds.
	Version string
	// StatusCode and Reason are the status line's parts.
	StatusCode int
	Reason     string
	// Fields are the header fields in order.
	Fields []Field
	// Body is the message body.
	Body string
	// ContentLength is the Content-Length value, or -1 if there is none.
	ContentLength int
	// Start is the offset of the start line (after any CRLFs before it);
	// End is the offset just past the body. Octets from End on are not part
	// of the message (RFC 4475 dblreq).
	Start, End int
	// Partial is true when scanning stopped before the end of the header
	// section (a limit, a broken line): fields after that point are not in
	// Fields, so their absence means nothing.
	Partial bool
}

// Scan indexes the message in src. fields is storage for the header
// fields, reused from index.Fields[:0] when the caller has some; Scan
// appends to it.
//
// Scan goes on past a malformed header field or start line so that the
// index is as complete as it can be (a server still needs the Via, From,
// To, Call-ID and CSeq to answer 400), and returns the first error. It
// stops early only when a limit is exceeded or the framing is broken.
func Scan(src string, mode Mode, lim *Limits, fields []Field) (Index, error) {
	var x Index
	err := ScanInto(&x, src, mode, lim, fields)
	return x, err
}

// ScanInto is Scan writing into x, which it resets first; it lets a caller
// that embeds an Index avoid copying one.
func ScanInto(x *Index, src string, mode Mode, lim *Limits, fields []Field) error {
	l := &DefaultLimits
	if lim != nil {
		r := lim.resolve()
		l = &r
	}
	*x = Index{Fields: fields[:0], ContentLength: -1, Partial: true}
	if len(src) > l.MaxMessageSize {
		return &LimitError{Limit: "MaxMessageSize", Max: l.MaxMessageSize, Got: len(src)}
	}
	// RFC 3261 §7.5: CRLFs before the start line are ignored.
	i := 0
	for i+1 < len(src) && src[i] == '\r' && src[i+1] == '\n' {
		i += 2
	}
	if i == len(src) {
		return &Error{Err: ErrKeepAlive, Offset: 0}
	}
	x.Start = i
	var first error
	note := func(e error) {
		if first == nil {
			first = e
		}
	}

	// Start line.
	nl := strings.IndexByte(src[i:], '\n')
	if nl < 1 || src[i+nl-1] != '\r' {
		return &Error{Err: ErrStartLine, Offset: i}
	}
	if nl-1 > l.MaxHeaderLine {
		return &LimitError{Limit: "MaxHeaderLine", Max: l.MaxHeaderLine, Got: nl - 1}
	}
	x.StartLine = src[i : i+nl-1]
	if err := scanStartLine(x, i); err != nil {
		note(err)
	}
	i += nl + 1

	// Header fields.
	hdrStart := i
	newlines := 0 // every '\n' seen is preceded by '\r'
	vias := 0
	ended := false
	var clErr error
	for i < len(src) {
		if src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			i += 2
			newlines++
			ended = true
			break
		}
		start := i
		folded := false
		end := -1
		for j := i; ; {
			n := strings.IndexByte(src[j:], '\n')
			if n < 0 {
				break
			}
			e := j + n
			if e == start || src[e-1] != '\r' {
				return &Error{Err: ErrHeaderLine, Offset: e}
			}
			newlines++
			if e+1 < len(src) && (src[e+1] == ' ' || src[e+1] == '\t') {
				folded = true
				j = e + 1
				if j-start > l.MaxHeaderLine {
					return &LimitError{Limit: "MaxHeaderLine", Max: l.MaxHeaderLine, Got: j - start}
				}
				continue
			}
			end = e + 1
			break
		}
		if end < 0 {
			return &Error{Err: ErrNoEnd, Offset: start}
		}
		if end-start-2 > l.MaxHeaderLine {
			return &LimitError{Limit: "MaxHeaderLine", Max: l.MaxHeaderLine, Got: end - start - 2}
		}
		if len(x.Fields) >= l.MaxHeaders {
			return &LimitError{Limit: "MaxHeaders", Max: l.MaxHeaders, Got: len(x.Fields) + 1}
		}
		x.Fields = append(x.Fields, Field{})
		f := &x.Fields[len(x.Fields)-1]
		i = end
		if err := scanField(f, src[start:end], folded); err != nil {
			x.Fields = x.Fields[:len(x.Fields)-1]
			err.Offset += start
			note(err)
			continue
		}
		switch f.ID {
		case header.IDContentLength:
			// A second Content-Length (RFC 4475 mcl01) or an invalid one
			// (ncl) leaves the body's end unknown: the header section is
			// still indexed, for a 400, but no body is.
			n, ok := abnf.ParseUint(abnf.TrimLWS(f.RawValue()), 1<<31-1)
			switch {
			case x.ContentLength >= 0 && clErr == nil:
				clErr = &Error{Err: ErrContentLength, Header: "Content-Length", Offset: start, Cause: ErrMultipleValues}
			case !ok && clErr == nil:
				clErr = &Error{Err: ErrContentLength, Header: "Content-Length", Offset: start + int(f.valStart)}
			case ok:
				x.ContentLength = int(n)
			}
		case header.IDVia:
			vias += 1 + strings.Count(f.RawValue(), ",")
			if vias > l.MaxVias {
				return &LimitError{Limit: "MaxVias", Max: l.MaxVias, Got: vias}
			}
		}
	}
	x.Partial = false
	if !ended && mode == Stream {
		return &Error{Err: ErrNoEnd, Offset: i}
	}
	// A CR that does not end a line breaks the grammar, and a peer that
	// took it for a line end would see another header field: every CR of
	// the header section must be followed by the LF already counted.
	if strings.Count(src[hdrStart:i], "\r") != newlines {
		return bareCR(src, hdrStart, i)
	}
	if clErr != nil {
		return clErr
	}

	// Body.
	rest := len(src) - i
	switch {
	case x.ContentLength >= 0:
		if x.ContentLength > l.MaxBodySize {
			return &LimitError{Limit: "MaxBodySize", Max: l.MaxBodySize, Got: x.ContentLength}
		}
		if x.ContentLength > rest {
			return &Error{Err: ErrTruncated, Header: "Content-Length", Offset: i}
		}
		if mode == Stream && x.ContentLength != rest {
			return &Error{Err: ErrContentLength, Header: "Content-Length", Offset: i}
		}
		x.Body = src[i : i+x.ContentLength]
	case mode == Stream:
		// RFC 3261 §18.3: Content-Length is mandatory on a stream.
		return &Error{Err: ErrContentLength, Header: "Content-Length", Offset: i, Cause: header.ErrEmpty}
	default:
		if rest > l.MaxBodySize {
			return &LimitError{Limit: "MaxBodySize", Max: l.MaxBodySize, Got: rest}
		}
		x.Body = src[i:]
	}
	x.End = i + len(x.Body)
	return first
}

// bareCR locates the first CR of src[from:to] that is not followed by LF.
func bareCR(src string, from, to int) *Error {
	for k := from; k < to; k++ {
		if src[k] == '\r' && (k+1 >= to || src[k+1] != '\n') {
			return &Error{Err: ErrHeaderLine, Offset: k}
		}
	}
	return &Error{Err: ErrHeaderLine, Offset: from}
}

// scanField splits one header field line (CRLF included) into name and
// value.
func scanField(f *Field, line string, folded bool) *Error {
	// field-name = token, then optional white space and ':' (RFC 4475
	// wsinv: "Via  :").
	ne := 0
	for ne < len(line) && abnf.Class[line[ne]]&abnf.Token != 0 {
		ne++
	}
	colon := ne
	for colon < len(line) && (line[colon] == ' ' || line[colon] == '\t') {
		colon++
	}
	if ne == 0 || colon >= len(line) || line[colon] != ':' {
		return &Error{Err: ErrHeaderLine, Offset: 0}
	}
	name := line[:ne]
	end := len(line) - 2
	vs := abnf.SkipLWS(line[:end], colon+1)
	// Trailing white space is not part of the value, and neither is a
	// fold whose line holds only white space: a fold is one SP (RFC 3261
	// §7.3.1).
	ve := end
	for ve > vs {
		if c := line[ve-1]; c == ' ' || c == '\t' {
			ve--
		} else if c == '\n' && ve-2 >= vs && line[ve-2] == '\r' {
			ve -= 2
		} else {
			break
		}
	}
	f.Line, f.folded = line, folded
	f.nameEnd, f.valStart, f.valEnd = uint16(ne), uint16(vs), uint16(ve)
	f.ID = header.Lookup(name)
	return nil
}

// scanStartLine splits the request or status line. off is its offset.
func scanStartLine(x *Index, off int) error {
	s := x.StartLine
	if len(s) >= 4 && abnf.EqualFold(s[:4], "SIP/") {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
		x.Request = false
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			return &Error{Err: ErrStartLine, Offset: off}
		}
		x.Version = s[:sp]
		rest := s[sp+1:]
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n != 3 || (n < len(rest) && rest[n] != ' ') {
			return &Error{Err: ErrStatusCode, Offset: off + sp + 1}
		}
		code := int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
		if code < 100 || code > 699 {
			return &Error{Err: ErrStatusCode, Offset: off + sp + 1}
		}
		x.StatusCode = code
		if n < len(rest) {
			x.Reason = rest[n+1:]
		}
		for k := 0; k < len(x.Reason); k++ {
			if c := x.Reason[k]; (c < 0x20 && c != '\t') || c == 0x7f {
				return &Error{Err: ErrStartLine, Offset: off + sp + 5 + k}
			}
		}
		return checkVersion(x.Version, off)
	}
	// Request-Line = Method SP Request-URI SP SIP-Version, single spaces
	// (RFC 4475 lwsstart, trws and lwsruri are rejected).
	x.Request = true
	sp1 := strings.IndexByte(s, ' ')
	if sp1 <= 0 {
		return &Error{Err: ErrStartLine, Offset: off}
	}
	x.Method = s[:sp1]
	sp2 := strings.IndexByte(s[sp1+1:], ' ')
	if sp2 < 0 {
		return &Error{Err: ErrStartLine, Offset: off + sp1}
	}
	sp2 += sp1 + 1
	x.RequestURI = s[sp1+1 : sp2]
	x.Version = s[sp2+1:]
	if !abnf.IsToken(x.Method) {
		return &Error{Err: ErrStartLine, Offset: off}
	}
	if x.RequestURI == "" {
		return &Error{Err: ErrStartLine, Offset: off + sp1 + 1}
	}
	return checkVersion(x.Version, off+sp2+1)
}

// checkVersion accepts "SIP/2.0" in any case; another well-formed version
// is ErrVersion (505), anything else ErrStartLine.
func checkVersion(v string, off int) error {
	if len(v) == 7 && abnf.EqualFold(v, "SIP/2.0") {
		return nil
	}
	if len(v) > 4 && abnf.EqualFold(v[:4], "SIP/") {
		dot := strings.IndexByte(v[4:], '.')
		if dot > 0 {
			major, minor := v[4:4+dot], v[5+dot:]
			if _, ok := abnf.ParseUint(major, 1<<31); ok {
				if _, ok := abnf.ParseUint(minor, 1<<31); ok {
					return &Error{Err: ErrVersion, Offset: off}
				}
			}
		}
	}
	return &Error{Err: ErrStartLine, Offset: off}
}
