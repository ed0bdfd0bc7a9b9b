package sdp

import (
	"fmt"
	"slices"
	"strconv"
)

// AppendTo appends the session description to b: every line in RFC 8866 §5's
// order, each ended by CRLF.
//
// Empty fields that a line cannot do without are filled in: an empty
// Origin.Username is written "-", an empty NetType "IN", an empty AddrType
// "IP4" (or "IP6" when the address has a colon), an empty Origin.Address
// "0.0.0.0"; a session without Times gets "t=0 0". Nothing else is checked:
// Check reports whether the result parses back to s.
func (s *Session) AppendTo(b []byte) []byte {
	b = append(b, "v="...)
	b = strconv.AppendInt(b, int64(s.Version), 10)
	b = append(b, "\r\no="...)
	o := &s.Origin
	b = append(b, or(o.Username, "-")...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, o.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, o.SessionVersion, 10)
	b = append(b, ' ')
	b = append(b, or(o.NetType, "IN")...)
	b = append(b, ' ')
	b = append(b, or(o.AddrType, addrType(o.Address))...)
	b = append(b, ' ')
	b = append(b, or(o.Address, "0.0.0.0")...)
	b = line(b, 's', s.Name)
	if s.Info != "" {
		b = line(b, 'i', s.Info)
	}
	if s.URI != "" {
		b = line(b, 'u', s.URI)
	}
	for _, e := range s.Emails {
		b = line(b, 'e', e)
	}
	for _, p := range s.Phones {
		b = line(b, 'p', p)
	}
	if s.Connection != nil {
		b = s.Connection.appendLine(b)
	}
	for _, bw := range s.Bandwidths {
		b = bw.appendLine(b)
	}
	if len(s.Times) == 0 {
		b = append(b, "\r\nt=0 0"...)
	}
	for _, t := range s.Times {
		b = append(b, "\r\nt="...)
		b = strconv.AppendUint(b, t.Start, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, t.Stop, 10)
		for _, r := range t.Repeats {
			b = line(b, 'r', r)
		}
		if t.Zones != "" {
			b = line(b, 'z', t.Zones)
		}
	}
	if s.Key != "" {
		b = line(b, 'k', s.Key)
	}
	b = s.Attributes.appendLines(b)
	for i := range s.Media {
		b = s.Media[i].appendTo(b)
	}
	return append(b, "\r\n"...)
}

// appendTo appends a media description, starting with the CRLF that ends
// the line before it.
func (m *Media) appendTo(b []byte) []byte {
	b = append(b, "\r\nm="...)
	b = append(b, m.Type...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.Port), 10)
	if m.PortCount != 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(m.PortCount), 10)
	}
	b = append(b, ' ')
	b = append(b, m.Proto...)
	for _, f := range m.Formats {
		b = append(b, ' ')
		b = append(b, f...)
	}
	if m.Info != "" {
		b = line(b, 'i', m.Info)
	}
	for i := range m.Connections {
		b = m.Connections[i].appendLine(b)
	}
	for _, bw := range m.Bandwidths {
		b = bw.appendLine(b)
	}
	if m.Key != "" {
		b = line(b, 'k', m.Key)
	}
	return m.Attributes.appendLines(b)
}

// line appends CRLF and "x=value".
func line(b []byte, typ byte, v string) []byte {
	b = append(b, '\r', '\n', typ, '=')
	return append(b, v...)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// addrType guesses the address type of an address: IP6 when it has a colon.
func addrType(addr string) string {
	if indexByte(addr, ':') >= 0 {
		return "IP6"
	}
	return "IP4"
}

func (c *Connection) appendLine(b []byte) []byte {
	b = append(b, "\r\nc="...)
	return c.AppendTo(b)
}

// AppendTo appends the value of the c= line: "IN IP4 233.252.0.1/127/3".
func (c *Connection) AppendTo(b []byte) []byte {
	b = append(b, or(c.NetType, "IN")...)
	b = append(b, ' ')
	at := or(c.AddrType, addrType(c.Address))
	b = append(b, at...)
	b = append(b, ' ')
	b = append(b, c.Address...)
	switch at {
	case "IP4":
		if c.TTL != 0 || c.Count != 0 {
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.TTL), 10)
		}
		fallthrough
	case "IP6":
		if c.Count != 0 {
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.Count), 10)
		}
	}
	return b
}

// String returns the value of the c= line.
func (c Connection) String() string { return string(c.AppendTo(nil)) }

func (bw Bandwidth) appendLine(b []byte) []byte {
	b = append(b, "\r\nb="...)
	b = append(b, bw.Type...)
	b = append(b, ':')
	return strconv.AppendUint(b, bw.Value, 10)
}

// String returns the value of the a= line: "name" or "name:value".
func (a Attribute) String() string {
	if !a.HasValue {
		return a.Name
	}
	return a.Name + ":" + a.Value
}

func (as Attributes) appendLines(b []byte) []byte {
	for _, a := range as {
		b = append(b, "\r\na="...)
		b = append(b, a.Name...)
		if a.HasValue {
			b = append(b, ':')
			b = append(b, a.Value...)
		}
	}
	return b
}

// Marshal returns the session description as text, lines ended by CRLF.
func (s *Session) Marshal() []byte {
	n := 128
	for i := range s.Media {
		n += 64 + 32*len(s.Media[i].Attributes)
	}
	return s.AppendTo(make([]byte, 0, n+32*len(s.Attributes)))
}

// String returns the session description as text, lines ended by CRLF.
func (s *Session) String() string { return string(s.Marshal()) }

// Check reports whether the session renders to a description that Parse
// accepts and that parses back to s (Equal, with the defaults AppendTo fills
// in): no CR, LF or NUL in a value, tokens where the grammar wants tokens, a
// port in range, no TTL on an IP6 address, and so on. The error wraps
// ErrInvalid (and the parse error, if any).
func (s *Session) Check() error {
	out := s.Marshal()
	p, err := Parse(out)
	if err != nil {
		return fmt.Errorf("sdp: %w: %w", ErrInvalid, err)
	}
	if !Equal(withDefaults(s), p) {
		return fmt.Errorf("sdp: %w: %q parses into something else", ErrInvalid, out)
	}
	return nil
}

// withDefaults returns s, or a copy with the defaults AppendTo writes for
// empty fields filled in.
func withDefaults(s *Session) *Session {
	o := s.Origin
	fix := func(c *Connection) {
		c.NetType = or(c.NetType, "IN")
		c.AddrType = or(c.AddrType, addrType(c.Address))
	}
	needs := o.Username == "" || o.NetType == "" || o.AddrType == "" || o.Address == "" || len(s.Times) == 0
	if c := s.Connection; c != nil && (c.NetType == "" || c.AddrType == "") {
		needs = true
	}
	for i := range s.Media {
		for _, c := range s.Media[i].Connections {
			needs = needs || c.NetType == "" || c.AddrType == ""
		}
	}
	if !needs {
		return s
	}
	s = s.Clone()
	s.Origin.Username = or(o.Username, "-")
	s.Origin.NetType = or(o.NetType, "IN")
	s.Origin.AddrType = or(o.AddrType, addrType(o.Address))
	s.Origin.Address = or(o.Address, "0.0.0.0")
	if len(s.Times) == 0 {
		s.Times = []Time{{}}
	}
	if s.Connection != nil {
		fix(s.Connection)
	}
	for i := range s.Media {
		for j := range s.Media[i].Connections {
			fix(&s.Media[i].Connections[j])
		}
	}
	return s
}

// Equal reports whether two session descriptions are the same, field by
// field; a nil slice equals an empty one.
func Equal(a, b *Session) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Version != b.Version || a.Origin != b.Origin || a.Name != b.Name || a.Info != b.Info || a.URI != b.URI ||
		a.Key != b.Key || !slices.Equal(a.Emails, b.Emails) || !slices.Equal(a.Phones, b.Phones) ||
		(a.Connection == nil) != (b.Connection == nil) || (a.Connection != nil && *a.Connection != *b.Connection) ||
		!slices.Equal(a.Bandwidths, b.Bandwidths) || !slices.Equal(a.Attributes, b.Attributes) ||
		len(a.Times) != len(b.Times) || len(a.Media) != len(b.Media) {
		return false
	}
	for i := range a.Times {
		x, y := &a.Times[i], &b.Times[i]
		if x.Start != y.Start || x.Stop != y.Stop || x.Zones != y.Zones || !slices.Equal(x.Repeats, y.Repeats) {
			return false
		}
	}
	for i := range a.Media {
		x, y := &a.Media[i], &b.Media[i]
		if x.Type != y.Type || x.Port != y.Port || x.PortCount != y.PortCount || x.Proto != y.Proto || x.Info != y.Info ||
			x.Key != y.Key || !slices.Equal(x.Formats, y.Formats) || !slices.Equal(x.Connections, y.Connections) ||
			!slices.Equal(x.Bandwidths, y.Bandwidths) || !slices.Equal(x.Attributes, y.Attributes) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of the session.
func (s *Session) Clone() *Session {
	c := *s
	c.Emails = slices.Clone(s.Emails)
	c.Phones = slices.Clone(s.Phones)
	if s.Connection != nil {
		conn := *s.Connection
		c.Connection = &conn
	}
	c.Bandwidths = slices.Clone(s.Bandwidths)
	c.Times = slices.Clone(s.Times)
	for i := range c.Times {
		c.Times[i].Repeats = slices.Clone(c.Times[i].Repeats)
	}
	c.Attributes = slices.Clone(s.Attributes)
	c.Media = slices.Clone(s.Media)
	for i := range c.Media {
		c.Media[i] = c.Media[i].Clone()
	}
	return &c
}

// Clone returns a deep copy of the media description.
func (m Media) Clone() Media {
	m.Formats = slices.Clone(m.Formats)
	m.Connections = slices.Clone(m.Connections)
	m.Bandwidths = slices.Clone(m.Bandwidths)
	m.Attributes = slices.Clone(m.Attributes)
	return m
}
