package sdp

import "strconv"

// Attributes is a list of a= lines in the order they appear. Names compare
// exactly (RFC 8866 §5: values are case-significant).
type Attributes []Attribute

// Get returns the value of the first attribute named name, and whether
// there is one. A property attribute has the value "".
func (as Attributes) Get(name string) (string, bool) {
	for _, a := range as {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Has reports whether there is an attribute named name.
func (as Attributes) Has(name string) bool {
	_, ok := as.Get(name)
	return ok
}

// All returns the values of every attribute named name, in order.
func (as Attributes) All(name string) []string {
	var vs []string
	for _, a := range as {
		if a.Name == name {
			vs = append(vs, a.Value)
		}
	}
	return vs
}

// newAttr makes a value attribute, or a property attribute if value is "".
func newAttr(name, value string) Attribute {
	return Attribute{Name: name, Value: value, HasValue: value != ""}
}

// Set makes name's value value: the first attribute named name takes the
// value and later ones are removed; without one, the attribute is appended.
// An empty value makes a property attribute ("a=name").
func (as *Attributes) Set(name, value string) {
	l := *as
	for i := range l {
		if l[i].Name == name {
			l[i] = newAttr(name, value)
			rest := l[i+1:]
			n := i + 1
			for _, a := range rest {
				if a.Name != name {
					l[n] = a
					n++
				}
			}
			clear(l[n:])
			*as = l[:n]
			return
		}
	}
	*as = append(l, newAttr(name, value))
}

// Add appends an attribute; an empty value makes a property attribute.
func (as *Attributes) Add(name, value string) {
	*as = append(*as, newAttr(name, value))
}

// Del removes every attribute named name and returns how many there were.
func (as *Attributes) Del(name string) int {
	l := *as
	n := 0
	for _, a := range l {
		if a.Name != name {
			l[n] = a
			n++
		}
	}
	clear(l[n:])
	*as = l[:n]
	return len(l) - n
}

// Attr returns the value of the first session-level attribute named name.
func (s *Session) Attr(name string) (value string, ok bool) { return s.Attributes.Get(name) }

// Attrs returns the values of every session-level attribute named name.
func (s *Session) Attrs(name string) []string { return s.Attributes.All(name) }

// HasAttr reports whether the session has an attribute named name.
func (s *Session) HasAttr(name string) bool { return s.Attributes.Has(name) }

// SetAttr sets a session-level attribute (see Attributes.Set).
func (s *Session) SetAttr(name, value string) { s.Attributes.Set(name, value) }

// AddAttr appends a session-level attribute (see Attributes.Add).
func (s *Session) AddAttr(name, value string) { s.Attributes.Add(name, value) }

// DelAttr removes every session-level attribute named name.
func (s *Session) DelAttr(name string) int { return s.Attributes.Del(name) }

// Attr returns the value of the first media-level attribute named name.
func (m *Media) Attr(name string) (value string, ok bool) { return m.Attributes.Get(name) }

// Attrs returns the values of every media-level attribute named name.
func (m *Media) Attrs(name string) []string { return m.Attributes.All(name) }

// HasAttr reports whether the media description has an attribute named name.
func (m *Media) HasAttr(name string) bool { return m.Attributes.Has(name) }

// SetAttr sets a media-level attribute (see Attributes.Set).
func (m *Media) SetAttr(name, value string) { m.Attributes.Set(name, value) }

// AddAttr appends a media-level attribute (see Attributes.Add).
func (m *Media) AddAttr(name, value string) { m.Attributes.Add(name, value) }

// DelAttr removes every media-level attribute named name.
func (m *Media) DelAttr(name string) int { return m.Attributes.Del(name) }

// Direction is a media stream's direction attribute (RFC 8866 §6.7, RFC 3264
// §5.1): whether its sender wants to send media, receive it, both or
// neither. The zero value means unspecified, which SDP reads as SendRecv.
type Direction uint8

// The four directions.
const (
	SendRecv Direction = iota + 1 // a=sendrecv, the default
	SendOnly                      // a=sendonly
	RecvOnly                      // a=recvonly
	Inactive                      // a=inactive
)

var dirNames = [...]string{SendRecv: "sendrecv", SendOnly: "sendonly", RecvOnly: "recvonly", Inactive: "inactive"}

// String returns the attribute name: "sendrecv", "sendonly", "recvonly",
// "inactive"; "" for the zero value.
func (d Direction) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// ParseDirection returns the direction an attribute name stands for.
func ParseDirection(name string) (Direction, bool) {
	switch name {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}

// direction returns sendrecv, sendonly, recvonly or inactive.
func direction(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Sends reports whether the direction includes sending (sendrecv, sendonly,
// or unspecified).
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly || d == 0 }

// Receives reports whether the direction includes receiving (sendrecv,
// recvonly, or unspecified).
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly || d == 0 }

// Reverse returns the direction seen from the other end: sendonly and
// recvonly swap, the others stay. An offer's reverse is the most an answer
// may accept (RFC 3264 §6.1).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case 0:
		return SendRecv
	}
	return d
}

// Intersect returns what both directions allow: the answer of RFC 3264 §6.1
// is local.Intersect(offer.Reverse()).
func (d Direction) Intersect(o Direction) Direction {
	return direction(d.Sends() && o.Sends(), d.Receives() && o.Receives())
}

// attrDirection returns the last direction attribute of as.
func attrDirection(as Attributes) (Direction, bool) {
	var d Direction
	for _, a := range as {
		if a.HasValue {
			continue
		}
		if x, ok := ParseDirection(a.Name); ok {
			d = x
		}
	}
	return d, d != 0
}

// Direction returns the stream's direction (RFC 8866 §6.7): its own
// direction attribute (the last one, if it has several), else the
// session's (s may be nil), else SendRecv.
func (m *Media) Direction(s *Session) Direction {
	if d, ok := attrDirection(m.Attributes); ok {
		return d
	}
	if s != nil {
		if d, ok := attrDirection(s.Attributes); ok {
			return d
		}
	}
	return SendRecv
}

// SetDirection writes the stream's direction attribute: it replaces the
// first direction attribute in place, removes any other, or appends one. A
// zero d writes sendrecv.
func (m *Media) SetDirection(d Direction) {
	if d == 0 {
		d = SendRecv
	}
	setDirection(&m.Attributes, d)
}

// SetDirection writes the session-level direction attribute, which applies
// to every stream without its own.
func (s *Session) SetDirection(d Direction) {
	if d == 0 {
		d = SendRecv
	}
	setDirection(&s.Attributes, d)
}

func setDirection(as *Attributes, d Direction) {
	l := *as
	n, done := 0, false
	for _, a := range l {
		if _, ok := ParseDirection(a.Name); ok && !a.HasValue {
			if done {
				continue
			}
			a, done = Attribute{Name: d.String()}, true
		}
		l[n] = a
		n++
	}
	clear(l[n:])
	*as = l[:n]
	if !done {
		*as = append(*as, Attribute{Name: d.String()})
	}
}

// delDirection removes every direction attribute.
func delDirection(as *Attributes) bool {
	l := *as
	n := 0
	for _, a := range l {
		if _, ok := ParseDirection(a.Name); ok && !a.HasValue {
			continue
		}
		l[n] = a
		n++
	}
	clear(l[n:])
	*as = l[:n]
	return n != len(l)
}

// OnHold reports whether the stream is held by the side that wrote it: its
// direction is sendonly or inactive (RFC 3264 §8.4), or its connection
// address is the unspecified address 0.0.0.0 of RFC 2543, which §8.4 asks
// answerers to treat alike. A disabled stream (port 0) is not on hold.
func (m *Media) OnHold(s *Session) bool {
	if m.Port == 0 {
		return false
	}
	if d := m.Direction(s); d == SendOnly || d == Inactive {
		return true
	}
	return m.blackHole(s)
}

// blackHole reports whether the stream's connection address is 0.0.0.0 or ::.
func (m *Media) blackHole(s *Session) bool {
	c := m.connection(s)
	return c != nil && (c.Address == "0.0.0.0" || c.Address == "::")
}

// connection returns the stream's first c= line, or the session's.
func (m *Media) connection(s *Session) *Connection {
	if len(m.Connections) > 0 {
		return &m.Connections[0]
	}
	if s != nil {
		return s.Connection
	}
	return nil
}
