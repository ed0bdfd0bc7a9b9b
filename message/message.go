// Package message is the SIP message: a request or a response with its
// start line, ordered header fields and body (RFC 3261 §7).
//
// A parsed Message keeps the bytes it was parsed from and an index over
// them. Header fields are kept as received; typed values are parsed on
// first use and cached. Editing re-renders only the fields it touches, so a
// proxy that adds a Via and decrements Max-Forwards sends every other byte
// exactly as it arrived.
//
// Parsing checks, eagerly, what every layer above needs: the start line,
// the Request-URI, the top Via, From, To, Call-ID, CSeq (and that its
// method matches the request's), Max-Forwards and Content-Length. Other
// header fields are checked when first read (All, First) or by Validate.
//
// Every API that puts text into a message (Add, Set, the typed setters, the
// builders) rejects names and values that would break the grammar or smuggle
// in a line: no caller can inject a header field.
//
// A Message is not safe for concurrent use.
package message

import (
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

// inlineFields is how many header fields a Message holds without a second
// allocation; typical calls have 10 to 20.
const inlineFields = 20

// Cached typed values of the core header fields.
const (
	haveVia uint8 = 1 << iota
	haveFrom
	haveTo
	haveCallID
	haveCSeq
	haveMaxFwd
	noMaxFwd // Max-Forwards is known to be absent
)

// Message is a SIP request or response.
type Message struct {
	x      parser.Index
	inline [inlineFields]parser.Field

	ruri       uri.URI // the parsed Request-URI, for requests
	startDirty bool    // the start line must be rendered from its parts

	have   uint8
	topVia header.Via
	from   header.From
	to     header.To
	callID header.CallID
	cseq   header.CSeq
	maxFwd header.MaxForwards

	cache map[string]any // typed values of other headers, by canonical name
}

// Parse parses the message in a UDP datagram (RFC 3261 §18.3): octets after
// the body that Content-Length delimits are ignored, and without a
// Content-Length the body is the rest of the datagram. b is copied; the
// Message does not refer to it afterwards.
//
// On error, the returned Message (nil only if not even a start line was
// found) holds what could be read, so that ErrorResponse can still answer a
// malformed request. The error is a *parser.Error or *parser.LimitError.
func Parse(b []byte, lim *parser.Limits) (*Message, error) {
	return parse(string(b), parser.Datagram, lim)
}

// ParseStream parses one message framed from a byte stream by a
// parser.Framer: Content-Length is mandatory and the body is exactly that
// long. b is copied.
func ParseStream(b []byte, lim *parser.Limits) (*Message, error) {
	return parse(string(b), parser.Stream, lim)
}

// ParseString is Parse for a string; the Message refers to s without
// copying it.
func ParseString(s string, lim *parser.Limits) (*Message, error) {
	return parse(s, parser.Datagram, lim)
}

func parse(src string, mode parser.Mode, lim *parser.Limits) (*Message, error) {
	m := new(Message)
	x, err := parser.Scan(src, mode, lim, m.inline[:0])
	m.x = x
	if x.StartLine == "" {
		return nil, err
	}
	if verr := m.check(); err == nil {
		err = verr
	}
	return m, err
}

// check parses and validates the start line's Request-URI and the core
// header fields, filling the typed caches. It returns the first problem, but
// goes on so that as much as possible is cached for an error response.
func (m *Message) check() error {
	var first error
	note := func(e error) {
		if first == nil {
			first = e
		}
	}
	if m.x.Request {
		u, err := uri.Parse(m.x.RequestURI)
		switch {
		case err != nil:
			note(&parser.Error{Err: parser.ErrRequestURI, Offset: m.x.Start + len(m.x.Method) + 1, Cause: err})
		case u.Headers != "":
			// RFC 3261 §19.1.1: headers are not allowed in a Request-URI
			// (RFC 4475 escruri).
			note(&parser.Error{Err: parser.ErrRequestURI, Offset: m.x.Start + len(m.x.Method) + 1, Cause: uri.ErrHeader})
		default:
			m.ruri = u
		}
	}
	var idxVia, idxFrom, idxTo, idxCallID, idxCSeq, idxMaxFwd = -1, -1, -1, -1, -1, -1
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		var p *int
		switch f.ID {
		case header.IDVia:
			if idxVia < 0 {
				idxVia = i
			}
			continue
		case header.IDFrom:
			p = &idxFrom
		case header.IDTo:
			p = &idxTo
		case header.IDCallID:
			p = &idxCallID
		case header.IDCSeq:
			p = &idxCSeq
		case header.IDMaxForwards:
			p = &idxMaxFwd
		default:
			continue
		}
		if *p >= 0 {
			// RFC 4475 multi01: several values where one is allowed.
			note(m.fieldError(i, parser.ErrMultipleValues, nil))
			continue
		}
		*p = i
	}
	if idxVia < 0 {
		note(&parser.Error{Err: parser.ErrMissingHeader, Header: "Via", Offset: m.x.Start})
	} else {
		if _, err := m.topVia.ParseFirst(m.x.Fields[idxVia].RawValue()); err != nil {
			note(m.fieldError(idxVia, parser.ErrHeaderValue, err))
		} else {
			m.have |= haveVia
		}
	}
	parseCore(m, idxFrom, "From", &m.from, haveFrom, note)
	parseCore(m, idxTo, "To", &m.to, haveTo, note)
	parseCore(m, idxCallID, "Call-ID", &m.callID, haveCallID, note)
	parseCore(m, idxCSeq, "CSeq", &m.cseq, haveCSeq, note)
	if idxMaxFwd >= 0 {
		if err := m.maxFwd.Parse(m.x.Fields[idxMaxFwd].RawValue()); err != nil {
			note(m.fieldError(idxMaxFwd, parser.ErrHeaderValue, err))
		} else {
			m.have |= haveMaxFwd
		}
	} else {
		m.have |= noMaxFwd
	}
	if m.x.Request && m.have&haveCSeq != 0 && m.cseq.Method != m.x.Method {
		note(m.fieldError(idxCSeq, parser.ErrMethodMismatch, nil))
	}
	return first
}

func parseCore[T any, P header.Value[T]](m *Message, idx int, name string, dst *T, bit uint8, note func(error)) {
	if idx < 0 {
		note(&parser.Error{Err: parser.ErrMissingHeader, Header: name, Offset: m.x.Start})
		return
	}
	if err := P(dst).Parse(m.x.Fields[idx].RawValue()); err != nil {
		note(m.fieldError(idx, parser.ErrHeaderValue, err))
		return
	}
	m.have |= bit
}

// fieldError builds an error about field i.
func (m *Message) fieldError(i int, what, cause error) error {
	f := &m.x.Fields[i]
	return &parser.Error{Err: what, Header: header.CanonicalName(f.Name()), Offset: m.fieldOffset(i), Cause: cause}
}

// fieldOffset returns the byte offset of field i in the rendered message,
// which is its offset in the parsed bytes while nothing before it changed.
func (m *Message) fieldOffset(i int) int {
	off := m.x.Start + len(m.x.StartLine) + 2
	for k := 0; k < i; k++ {
		off += len(m.x.Fields[k].Line)
	}
	return off
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.x.Request }

// IsResponse reports whether m is a response.
func (m *Message) IsResponse() bool { return !m.x.Request }

// Method returns the request's method, or for a response the method of its
// CSeq.
func (m *Message) Method() string {
	if m.x.Request {
		return m.x.Method
	}
	return m.cseq.Method
}

// RequestURI returns the request's Request-URI (the zero URI for a
// response).
func (m *Message) RequestURI() uri.URI { return m.ruri }

// Version returns the SIP-Version as written ("SIP/2.0").
func (m *Message) Version() string { return m.x.Version }

// StatusCode returns the response's status code (0 for a request).
func (m *Message) StatusCode() int { return m.x.StatusCode }

// Reason returns the response's reason phrase.
func (m *Message) Reason() string { return m.x.Reason }

// StartLine returns the start line as it will be rendered, without CRLF.
func (m *Message) StartLine() string {
	if !m.startDirty {
		return m.x.StartLine
	}
	return string(m.appendStartLine(nil))
}

// Body returns the body.
func (m *Message) Body() string { return m.x.Body }

// TopVia returns the first Via value (the zero Via if there is none).
func (m *Message) TopVia() header.Via {
	if m.have&haveVia == 0 {
		m.loadCore()
	}
	return m.topVia
}

// From returns the From header field.
func (m *Message) From() header.From {
	if m.have&haveFrom == 0 {
		m.loadCore()
	}
	return m.from
}

// To returns the To header field.
func (m *Message) To() header.To {
	if m.have&haveTo == 0 {
		m.loadCore()
	}
	return m.to
}

// CallID returns the Call-ID.
func (m *Message) CallID() string {
	if m.have&haveCallID == 0 {
		m.loadCore()
	}
	return string(m.callID)
}

// CSeq returns the CSeq header field.
func (m *Message) CSeq() header.CSeq {
	if m.have&haveCSeq == 0 {
		m.loadCore()
	}
	return m.cseq
}

// MaxForwards returns the Max-Forwards value and whether the message has
// one (an RFC 2543 request may not).
func (m *Message) MaxForwards() (int, bool) {
	if m.have&(haveMaxFwd|noMaxFwd) == 0 {
		m.loadCore()
	}
	return int(m.maxFwd), m.have&haveMaxFwd != 0
}

// ContentLength returns the Content-Length value, or -1 if the message has
// none.
func (m *Message) ContentLength() int { return m.x.ContentLength }

// loadCore re-reads the core header fields after an edit.
func (m *Message) loadCore() {
	var x header.Via
	m.topVia, m.from, m.to, m.callID, m.cseq, m.maxFwd = x, header.From{}, header.To{}, "", header.CSeq{}, 0
	m.have = 0
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		switch f.ID {
		case header.IDVia:
			if m.have&haveVia == 0 {
				if _, err := m.topVia.ParseFirst(f.RawValue()); err == nil {
					m.have |= haveVia
				}
			}
		case header.IDFrom:
			if m.have&haveFrom == 0 && m.from.Parse(f.RawValue()) == nil {
				m.have |= haveFrom
			}
		case header.IDTo:
			if m.have&haveTo == 0 && m.to.Parse(f.RawValue()) == nil {
				m.have |= haveTo
			}
		case header.IDCallID:
			if m.have&haveCallID == 0 && m.callID.Parse(f.RawValue()) == nil {
				m.have |= haveCallID
			}
		case header.IDCSeq:
			if m.have&haveCSeq == 0 && m.cseq.Parse(f.RawValue()) == nil {
				m.have |= haveCSeq
			}
		case header.IDMaxForwards:
			if m.have&haveMaxFwd == 0 && m.maxFwd.Parse(f.RawValue()) == nil {
				m.have |= haveMaxFwd
			}
		}
	}
	if m.have&haveMaxFwd == 0 {
		m.have |= noMaxFwd
	}
	// Anything not found stays zero; mark it loaded so that we do not scan
	// again until the next edit.
	m.have |= haveVia | haveFrom | haveTo | haveCallID | haveCSeq
}

// Validate checks every header field that sansip has a typed parser for
// against its grammar, beyond the core fields that parsing checks, and
// returns the first problem as a *parser.Error. A strict server calls it
// before acting on a request (RFC 4475 regbadct: a Contact whose URI has
// headers but no angle brackets).
func (m *Message) Validate() error {
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		if f.ID == header.Unknown || !header.Parses(f.ID) {
			continue
		}
		if err := header.ValidateValue(f.ID, f.Name(), f.RawValue()); err != nil {
			return m.fieldError(i, parser.ErrHeaderValue, err)
		}
	}
	return nil
}
