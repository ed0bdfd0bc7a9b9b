package message

import (
	"errors"
	"fmt"
	"iter"
	"strconv"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

// Errors from editing, matchable with errors.Is.
var (
	// ErrInvalid reports a name or value that the grammar does not allow,
	// or that would break the message (a CR, LF or NUL in it).
	ErrInvalid = errors.New("invalid header field")
	// ErrNoHeader reports an edit that needs a header field the message
	// lacks.
	ErrNoHeader = errors.New("no such header field")
	// ErrTooManyHops reports a Max-Forwards of 0 that cannot be decremented
	// (the request must be answered 483, RFC 3261 §16.3 step 3).
	ErrTooManyHops = errors.New("Max-Forwards exhausted")
	// ErrWrongKind reports an edit for a request made on a response, or the
	// other way round.
	ErrWrongKind = errors.New("wrong kind of message")
)

// matches reports whether f is a field of the header with id and name.
func matches(f *parser.Field, id header.ID, name string) bool {
	if id != header.Unknown {
		return f.ID == id
	}
	return f.ID == header.Unknown && abnf.EqualFold(f.Name(), name)
}

// HasToken reports whether any field of the named list header (Allow,
// Supported, Require, Proxy-Require, Unsupported, ...) holds the element
// token, compared exactly as methods and option tags are (RFC 3261 §7.1,
// §19.2). Unlike All it parses nothing into values and never allocates, so
// it suits checks made on every message; an element that is not a token
// simply does not match.
func HasToken(m *Message, name, token string) bool {
	id := header.Lookup(name)
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		if !matches(f, id, name) {
			continue
		}
		for s := f.RawValue(); ; {
			first, rest, comma, ok := header.CutList(s)
			if first == token {
				return true
			}
			if !ok || !comma {
				break
			}
			s = rest
		}
	}
	return false
}

// Headers yields each header field's name, as written, and value, with
// line folds replaced by single spaces, in order.
func (m *Message) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := range m.x.Fields {
			f := &m.x.Fields[i]
			if !yield(f.Name(), f.Value()) {
				return
			}
		}
	}
}

// NumHeaders returns the number of header field lines.
func (m *Message) NumHeaders() int { return len(m.x.Fields) }

// Get returns the value of the first header field named name (long or
// compact form, any case), and whether there is one. For a list-valued
// header the value is the whole line; Values splits it.
func (m *Message) Get(name string) (string, bool) {
	id := header.Lookup(name)
	for i := range m.x.Fields {
		if f := &m.x.Fields[i]; matches(f, id, name) {
			return f.Value(), true
		}
	}
	return "", false
}

// Has reports whether the message has a header field named name.
func (m *Message) Has(name string) bool {
	_, ok := m.Get(name)
	return ok
}

// Values returns every value of the header named name. For a list-valued
// header (RFC 3261 §7.3.1), values in one line and values on several lines
// are the same: each element is one value.
func (m *Message) Values(name string) []string {
	id := header.Lookup(name)
	var out []string
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		if !matches(f, id, name) {
			continue
		}
		if !id.IsList() {
			out = append(out, f.Value())
			continue
		}
		if id.AllowsEmpty() && f.RawValue() == "" {
			continue
		}
		for e := range header.Elements(f.Value()) {
			out = append(out, e)
		}
	}
	return out
}

// checkField validates a header field name and value for insertion.
func checkField(name, value string) (header.ID, error) {
	if !header.ValidName(name) {
		return 0, fmt.Errorf("%w: name %q", ErrInvalid, name)
	}
	id := header.Lookup(name)
	if err := header.ValidateValue(id, name, value); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if id == header.IDContentLength {
		return 0, fmt.Errorf("%w: Content-Length follows the body; use SetBody", ErrInvalid)
	}
	return id, nil
}

// CheckField reports whether a header field with this name and value may
// be written into a message (Add, Set, Prepend): the name a token, the
// value free of CR, LF and NUL and valid for the header's grammar, and not
// Content-Length, which follows the body. The error wraps ErrInvalid.
func CheckField(name, value string) error {
	_, err := checkField(name, value)
	return err
}

// fieldName returns the name to write for a new field: the canonical name
// of a known header, or name as given.
func fieldName(id header.ID, name string) string {
	if id != header.Unknown {
		return id.Name()
	}
	return name
}

// Add appends a header field after the last field of the same name, or at
// the end. The value is checked against the header's grammar.
func (m *Message) Add(name, value string) error {
	id, err := checkField(name, value)
	if err != nil {
		return err
	}
	m.insertField(m.afterLast(id, name), parser.NewField(fieldName(id, name), value))
	m.touched(id, name)
	return nil
}

// afterLast returns the index just after the last field of the header, or
// the end of the header fields.
func (m *Message) afterLast(id header.ID, name string) int {
	for i := len(m.x.Fields) - 1; i >= 0; i-- {
		if matches(&m.x.Fields[i], id, name) {
			return i + 1
		}
	}
	return len(m.x.Fields)
}

// Prepend inserts a header field before the first field of the same name,
// or at the top of the header fields.
func (m *Message) Prepend(name, value string) error {
	id, err := checkField(name, value)
	if err != nil {
		return err
	}
	m.insertField(m.firstIndex(id, name, 0), parser.NewField(fieldName(id, name), value))
	m.touched(id, name)
	return nil
}

// firstIndex returns the index of the first field of the header, or def.
func (m *Message) firstIndex(id header.ID, name string, def int) int {
	for i := range m.x.Fields {
		if matches(&m.x.Fields[i], id, name) {
			return i
		}
	}
	return def
}

// Set replaces every header field named name with one field holding value,
// where the first of them was, or at the end.
func (m *Message) Set(name, value string) error {
	id, err := checkField(name, value)
	if err != nil {
		return err
	}
	m.setField(id, name, value)
	return nil
}

func (m *Message) setField(id header.ID, name, value string) {
	m.replaceFields(id, name, value)
}

// replaceFields replaces every field of the header with one field per
// value, where the first of them was (or at the end).
func (m *Message) replaceFields(id header.ID, name string, values ...string) {
	at := m.firstIndex(id, name, len(m.x.Fields))
	m.deleteFields(id, name)
	at = min(at, len(m.x.Fields))
	for i, v := range values {
		m.insertField(at+i, parser.NewField(fieldName(id, name), v))
	}
	m.touched(id, name)
}

// Del removes every header field named name and returns how many there
// were. Content-Length cannot be removed this way; SetBody keeps it.
func (m *Message) Del(name string) int {
	id := header.Lookup(name)
	if id == header.IDContentLength {
		return 0
	}
	n := m.deleteFields(id, name)
	if n > 0 {
		m.touched(id, name)
	}
	return n
}

func (m *Message) deleteFields(id header.ID, name string) int {
	k := 0
	for i := range m.x.Fields {
		if !matches(&m.x.Fields[i], id, name) {
			m.x.Fields[k] = m.x.Fields[i]
			k++
		}
	}
	n := len(m.x.Fields) - k
	clear(m.x.Fields[k:])
	m.x.Fields = m.x.Fields[:k]
	return n
}

func (m *Message) insertField(at int, f parser.Field) {
	m.x.Fields = append(m.x.Fields, parser.Field{})
	copy(m.x.Fields[at+1:], m.x.Fields[at:])
	m.x.Fields[at] = f
}

func (m *Message) removeField(at int) {
	copy(m.x.Fields[at:], m.x.Fields[at+1:])
	m.x.Fields[len(m.x.Fields)-1] = parser.Field{}
	m.x.Fields = m.x.Fields[:len(m.x.Fields)-1]
}

// touched drops the cached typed values of a header after an edit.
func (m *Message) touched(id header.ID, name string) {
	m.stale |= staleBit(id)
	if m.cache != nil {
		delete(m.cache, cacheKey(id, name))
	}
}

func cacheKey(id header.ID, name string) string {
	if id != header.Unknown {
		return id.Name()
	}
	return abnf.Lower(name)
}

// SetRequestURI replaces the Request-URI of a request.
func (m *Message) SetRequestURI(u uri.URI) error {
	if !m.x.Request {
		return ErrWrongKind
	}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("%w: Request-URI: %w", ErrInvalid, err)
	}
	if u.Headers != "" {
		return fmt.Errorf("%w: Request-URI with headers", ErrInvalid)
	}
	m.ruri = u
	m.x.RequestURI = u.String()
	m.startDirty = true
	return nil
}

// SetStatus sets a response's status code and reason phrase ("" for the
// standard phrase).
func (m *Message) SetStatus(code int, reason string) error {
	if m.x.Request {
		return ErrWrongKind
	}
	if code < 100 || code > 699 {
		return fmt.Errorf("%w: status code %d", ErrInvalid, code)
	}
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	if err := header.CheckText("Reason-Phrase", reason); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	m.x.StatusCode, m.x.Reason = code, reason
	m.startDirty = true
	return nil
}

// SetBody replaces the body, and sets Content-Type (removed when
// contentType is "") and Content-Length to match.
func (m *Message) SetBody(contentType string, body []byte) error {
	if contentType != "" {
		if _, err := checkField("Content-Type", contentType); err != nil {
			return err
		}
		m.setField(header.IDContentType, "Content-Type", contentType)
	} else {
		m.Del("Content-Type")
	}
	m.x.Body = string(body)
	m.setContentLength(len(body))
	return nil
}

// setContentLength writes Content-Length, replacing the field in place.
func (m *Message) setContentLength(n int) {
	m.x.ContentLength = n
	m.setField(header.IDContentLength, "Content-Length", strconv.Itoa(n))
}

// PrependVia inserts v as the new top Via value (RFC 3261 §16.6 step 8).
func (m *Message) PrependVia(v header.Via) error {
	var buf, again [256]byte
	b := v.AppendTo(append(buf[:0], "Via: "...))
	line := string(append(b, '\r', '\n'))
	text := line[5 : len(line)-2]
	// The same check as render, without its generic detour: the value must
	// hold no CR, LF or NUL and survive parse and render unchanged.
	var back header.Via
	if err := header.CheckLine("Via", text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := back.Parse(text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if string(back.AppendTo(again[:0])) != text {
		return fmt.Errorf("%w: Via value %q does not survive a round trip", ErrInvalid, text)
	}
	m.insertField(m.firstIndex(header.IDVia, "", 0), parser.FieldOf(line, 3, 5, len(line)-2))
	m.touched(header.IDVia, "")
	m.topVia, m.viaOK = back, true
	m.stale &^= staleVia
	return nil
}

// RemoveTopVia removes the first Via value (RFC 3261 §16.7 step 3) and
// returns it. Other values in the same line stay, as written.
func (m *Message) RemoveTopVia() (header.Via, error) {
	cached, ok := m.topVia, m.viaOK && m.stale&staleVia == 0
	top, err := m.removeFirstElement(header.IDVia)
	if err != nil {
		return header.Via{}, err
	}
	if ok {
		return cached, nil // the value TopVia parsed: no need to again
	}
	return header.ParseValue[header.Via](top)
}

// removeFirstElement removes the first value of a list-valued header,
// keeping the rest of its line as written.
func (m *Message) removeFirstElement(id header.ID) (string, error) {
	i := m.firstIndex(id, "", -1)
	if i < 0 {
		return "", fmt.Errorf("%w: %s", ErrNoHeader, id.Name())
	}
	f := &m.x.Fields[i]
	first, rest, comma, _ := header.CutList(f.RawValue())
	if comma && rest != "" {
		m.x.Fields[i] = parser.NewField(f.Name(), rest)
	} else {
		m.removeField(i)
	}
	m.touched(id, "")
	return first, nil
}

// DecrementMaxForwards lowers Max-Forwards by one, or adds Max-Forwards: 70
// to a request without one (RFC 3261 §16.6 step 3). It returns the new
// value, or ErrTooManyHops when the value is already 0.
func (m *Message) DecrementMaxForwards() (int, error) {
	n, ok := m.MaxForwards()
	switch {
	case !ok:
		n = 70
	case n == 0:
		return 0, ErrTooManyHops
	default:
		n--
	}
	f := maxForwardsFields[n]
	if i := m.firstIndex(header.IDMaxForwards, "", -1); i >= 0 {
		m.deleteFields(header.IDMaxForwards, "")
		m.insertField(i, f)
	} else {
		m.insertField(len(m.x.Fields), f)
	}
	m.touched(header.IDMaxForwards, "")
	m.maxFwd = int16(n)
	m.stale &^= staleMaxFwd
	return n, nil
}

// maxForwardsFields holds the 256 possible Max-Forwards fields, so that a
// proxy's decrement allocates nothing.
var maxForwardsFields = func() (t [256]parser.Field) {
	for i := range t {
		t[i] = parser.NewField("Max-Forwards", strconv.Itoa(i))
	}
	return t
}()

// PrependRecordRoute inserts rr before any existing Record-Route values
// (RFC 3261 §16.6 step 4).
func (m *Message) PrependRecordRoute(rr header.RecordRoute) error {
	var buf, again [256]byte
	b := rr.AppendTo(append(buf[:0], "Record-Route: "...))
	line := string(append(b, '\r', '\n'))
	text := line[14 : len(line)-2]
	var back header.RecordRoute
	if err := header.CheckLine("Record-Route", text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := back.Parse(text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if string(back.AppendTo(again[:0])) != text {
		return fmt.Errorf("%w: Record-Route value %q does not survive a round trip", ErrInvalid, text)
	}
	m.insertField(m.firstIndex(header.IDRecordRoute, "", 0), parser.FieldOf(line, 12, 14, len(line)-2))
	m.touched(header.IDRecordRoute, "")
	return nil
}

// PrependRoute inserts r as the first Route value.
func (m *Message) PrependRoute(r header.Route) error {
	return Prepend(m, r)
}

// RemoveTopRoute removes the first Route value (RFC 3261 §16.4) and returns
// it.
func (m *Message) RemoveTopRoute() (header.Route, error) {
	top, err := m.removeFirstElement(header.IDRoute)
	if err != nil {
		return header.Route{}, err
	}
	return header.ParseValue[header.Route](top)
}

// Clone returns a copy of m that can be edited independently and that
// owns its bytes (it survives a later ParseInto into m).
func (m *Message) Clone() *Message {
	c := new(Message)
	*c = *m
	c.buf = nil
	c.cache = nil
	if m.buf != nil {
		// m's strings refer to a buffer that will be reused: re-parse a
		// copy of the rendered message, which then owns its bytes.
		_ = c.parseFrom(m.String(), parser.Datagram, &parser.Limits{MaxMessageSize: m.Size() + 1, MaxBodySize: len(m.x.Body) + 1, MaxHeaders: 1 << 16, MaxHeaderLine: 65000, MaxVias: 1 << 16})
		c.ruri, c.startDirty = m.ruri, false
		return c
	}
	c.x.Fields = append(c.inline[:0:inlineFields], m.x.Fields...)
	return c
}

// ReplaceTopVia replaces the first Via value with v, keeping any other
// values of its line as written. A server stamps received and rport on the
// top Via this way (RFC 3261 §18.2.1, RFC 3581 §4).
func (m *Message) ReplaceTopVia(v header.Via) error {
	var buf, again [256]byte
	text := string(v.AppendTo(buf[:0]))
	var back header.Via
	if err := header.CheckLine("Via", text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := back.Parse(text); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if string(back.AppendTo(again[:0])) != text {
		return fmt.Errorf("%w: Via value %q does not survive a round trip", ErrInvalid, text)
	}
	i := m.firstIndex(header.IDVia, "", -1)
	if i < 0 {
		return fmt.Errorf("%w: Via", ErrNoHeader)
	}
	f := &m.x.Fields[i]
	if _, rest, comma, _ := header.CutList(f.RawValue()); comma && rest != "" {
		text += ", " + rest
	}
	m.x.Fields[i] = parser.NewField(f.Name(), text)
	m.touched(header.IDVia, "")
	m.topVia, m.viaOK = back, true
	m.stale &^= staleVia
	return nil
}
