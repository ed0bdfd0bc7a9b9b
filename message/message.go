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
	"errors"
	"unsafe"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

// inlineFields is how many header fields a Message holds without a second
// allocation; typical calls have 10 to 20.
const inlineFields = 20

// Message is a SIP request or response. One type serves both: most
// layers (transactions, proxies, the wire) treat them alike; IsRequest tells
// them apart, and the start line accessors of the other kind return zero
// values.
//
// A Message refers to its own storage; it must not be copied by value
// (use Clone). The zero Message is empty; messages come from Parse,
// ParseInto, NewRequest and NewResponse.
type Message struct {
	x      parser.Index
	inline [inlineFields]parser.Field
	buf    []byte // the bytes parsed by ParseInto, reused by the next one

	trailing int // octets of the datagram after the message, ignored

	ruri       uri.URI // the parsed Request-URI, for requests
	startDirty bool    // the start line must be rendered from its parts

	// What the layers above read on every message, kept current: a bit of
	// stale is set by an edit to that header field until the next read.
	stale   uint8
	viaOK   bool
	topVia  header.Via
	fromTag string
	toTag   string
	callID  string
	cseq    header.CSeq
	maxFwd  int16 // -1 when absent

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
	if err := m.parseFrom(src, mode, lim); err != nil {
		if m.x.StartLine == "" {
			return nil, err
		}
		return m, err
	}
	return m, nil
}

// ParseInto parses the datagram b into m, reusing the memory m holds from
// an earlier parse: once m has grown to the size of the messages it sees,
// parsing allocates nothing. It suits a driver that handles a message and
// lets go of it before reading the next, such as a stateless proxy.
//
// Every string read from m refers to m's buffer, and the next ParseInto
// overwrites it: copy what must outlive it, or keep m.Clone() instead. On
// error, m holds what could be read, as with Parse.
func ParseInto(m *Message, b []byte, lim *parser.Limits) error {
	buf := append(m.buf[:0], b...)
	*m = Message{buf: buf}
	return m.parseFrom(unsafe.String(unsafe.SliceData(buf), len(buf)), parser.Datagram, lim)
}

func (m *Message) parseFrom(src string, mode parser.Mode, lim *parser.Limits) error {
	err := parser.ScanInto(&m.x, src, mode, lim, m.inline[:0])
	if m.x.StartLine == "" {
		return err
	}
	if err == nil {
		m.trailing = len(src) - m.x.End
	}
	if verr := m.check(); err == nil {
		err = verr
	}
	return err
}

// check parses and validates the start line's Request-URI and the core
// header fields, filling the typed caches. It returns the first problem, but
// goes on so that as much as possible is cached for an error response.
func (m *Message) check() error {
	var firstErr error
	note := func(e error) {
		if firstErr == nil {
			firstErr = e
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
	m.maxFwd = -1
	if idxVia < 0 {
		note(&parser.Error{Err: parser.ErrMissingHeader, Header: "Via", Offset: m.x.Start})
	} else if _, err := m.topVia.ParseFirst(m.x.Fields[idxVia].RawValue()); err != nil {
		note(m.fieldError(idxVia, parser.ErrHeaderValue, err))
	} else {
		m.viaOK = true
	}
	if v, ok := m.coreValue(idxFrom, "From", note); ok {
		var from header.From
		if err := from.Parse(v); err != nil {
			note(m.fieldError(idxFrom, parser.ErrHeaderValue, err))
		} else {
			m.fromTag = from.Tag()
		}
	}
	if v, ok := m.coreValue(idxTo, "To", note); ok {
		var to header.To
		if err := to.Parse(v); err != nil {
			note(m.fieldError(idxTo, parser.ErrHeaderValue, err))
		} else {
			m.toTag = to.Tag()
		}
	}
	if v, ok := m.coreValue(idxCallID, "Call-ID", note); ok {
		var callID header.CallID
		if err := callID.Parse(v); err != nil {
			note(m.fieldError(idxCallID, parser.ErrHeaderValue, err))
		} else {
			m.callID = string(callID)
		}
	}
	cseqOK := false
	if v, ok := m.coreValue(idxCSeq, "CSeq", note); ok {
		if err := m.cseq.Parse(v); err != nil {
			note(m.fieldError(idxCSeq, parser.ErrHeaderValue, err))
		} else {
			cseqOK = true
		}
	}
	if idxMaxFwd >= 0 {
		var mf header.MaxForwards
		if err := mf.Parse(m.x.Fields[idxMaxFwd].RawValue()); err != nil {
			note(m.fieldError(idxMaxFwd, parser.ErrHeaderValue, err))
		} else {
			m.maxFwd = int16(mf)
		}
	}
	if m.x.Request && cseqOK && m.cseq.Method != m.x.Method {
		note(m.fieldError(idxCSeq, parser.ErrMethodMismatch, nil))
	}
	return firstErr
}

// coreValue returns the value of a mandatory header field, noting its
// absence.
func (m *Message) coreValue(idx int, name string, note func(error)) (string, bool) {
	if idx < 0 {
		note(&parser.Error{Err: parser.ErrMissingHeader, Header: name, Offset: m.x.Start})
		return "", false
	}
	return m.x.Fields[idx].RawValue(), true
}

// fieldError builds an error about field i. A cause that knows where in
// the value it went wrong moves the offset there.
func (m *Message) fieldError(i int, what, cause error) error {
	f := &m.x.Fields[i]
	off := m.fieldOffset(i)
	var he *header.Error
	if errors.As(cause, &he) {
		off += f.ValueOffset() + he.Offset
	}
	return &parser.Error{Err: what, Header: header.CanonicalName(f.Name()), Offset: off, Cause: cause}
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
	return m.CSeq().Method
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

// Trailing returns how many octets followed the message in its datagram
// and were ignored (RFC 3261 §18.3, RFC 4475 dblreq).
func (m *Message) Trailing() int { return m.trailing }

// Body returns the body.
func (m *Message) Body() string { return m.x.Body }

// TopVia returns the first Via value (the zero Via if there is none).
func (m *Message) TopVia() header.Via {
	m.fresh(staleVia)
	return m.topVia
}

// Branch returns the top Via's branch parameter, which identifies the
// transaction (RFC 3261 §17.2.3).
func (m *Message) Branch() string {
	m.fresh(staleVia)
	return m.topVia.Branch()
}

// From returns the From header field (the zero value if it is missing or
// malformed).
func (m *Message) From() header.From {
	var v header.From
	if i := m.firstIndex(header.IDFrom, "", -1); i >= 0 {
		v.Parse(m.x.Fields[i].RawValue())
	}
	return v
}

// To returns the To header field (the zero value if it is missing or
// malformed).
func (m *Message) To() header.To {
	var v header.To
	if i := m.firstIndex(header.IDTo, "", -1); i >= 0 {
		v.Parse(m.x.Fields[i].RawValue())
	}
	return v
}

// FromTag returns the From tag.
func (m *Message) FromTag() string {
	m.fresh(staleFrom)
	return m.fromTag
}

// ToTag returns the To tag ("" outside a dialog).
func (m *Message) ToTag() string {
	m.fresh(staleTo)
	return m.toTag
}

// CallID returns the Call-ID.
func (m *Message) CallID() string {
	m.fresh(staleCallID)
	return m.callID
}

// CSeq returns the CSeq header field.
func (m *Message) CSeq() header.CSeq {
	m.fresh(staleCSeq)
	return m.cseq
}

// MaxForwards returns the Max-Forwards value and whether the message has
// one (an RFC 2543 request may not).
func (m *Message) MaxForwards() (int, bool) {
	m.fresh(staleMaxFwd)
	return int(m.maxFwd), m.maxFwd >= 0
}

// ContentLength returns the Content-Length value, or -1 if the message has
// none.
func (m *Message) ContentLength() int { return m.x.ContentLength }

// The core header fields whose cached values an edit makes stale.
const (
	staleVia uint8 = 1 << iota
	staleFrom
	staleTo
	staleCallID
	staleCSeq
	staleMaxFwd
)

// staleBit returns the stale bit of a core header, or 0.
func staleBit(id header.ID) uint8 {
	switch id {
	case header.IDVia:
		return staleVia
	case header.IDFrom:
		return staleFrom
	case header.IDTo:
		return staleTo
	case header.IDCallID:
		return staleCallID
	case header.IDCSeq:
		return staleCSeq
	case header.IDMaxForwards:
		return staleMaxFwd
	}
	return 0
}

// fresh re-reads a core header field after an edit made its cached value
// stale.
func (m *Message) fresh(bit uint8) {
	if m.stale&bit == 0 {
		return
	}
	m.stale &^= bit
	var v string
	found := false
	for i := range m.x.Fields {
		if f := &m.x.Fields[i]; staleBit(f.ID) == bit {
			v, found = f.RawValue(), true
			break
		}
	}
	switch bit {
	case staleVia:
		m.topVia, m.viaOK = header.Via{}, false
		if found {
			_, err := m.topVia.ParseFirst(v)
			m.viaOK = err == nil
		}
	case staleFrom:
		m.fromTag = ""
		var from header.From
		if found && from.Parse(v) == nil {
			m.fromTag = from.Tag()
		}
	case staleTo:
		m.toTag = ""
		var to header.To
		if found && to.Parse(v) == nil {
			m.toTag = to.Tag()
		}
	case staleCallID:
		m.callID = ""
		var c header.CallID
		if found && c.Parse(v) == nil {
			m.callID = string(c)
		}
	case staleCSeq:
		m.cseq = header.CSeq{}
		if found {
			m.cseq.Parse(v)
		}
	case staleMaxFwd:
		m.maxFwd = -1
		var mf header.MaxForwards
		if found && mf.Parse(v) == nil {
			m.maxFwd = int16(mf)
		}
	}
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
		// A received value was checked for bare CR and LF by the scanner;
		// here only its grammar is checked (folds and quoted NULs are
		// grammatical, RFC 4475 wsinv and intmeth).
		if _, err := header.ParseAny(f.ID, header.CanonicalName(f.Name()), f.RawValue()); err != nil {
			return m.fieldError(i, parser.ErrHeaderValue, err)
		}
	}
	return nil
}
