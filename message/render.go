package message

import "strconv"

// appendStartLine appends the start line (without CRLF).
func (m *Message) appendStartLine(b []byte) []byte {
	if !m.startDirty {
		return append(b, m.x.StartLine...)
	}
	if m.x.Request {
		b = append(b, m.x.Method...)
		b = append(b, ' ')
		b = append(b, m.x.RequestURI...)
		b = append(b, ' ')
		return append(b, m.x.Version...)
	}
	b = append(b, m.x.Version...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.x.StatusCode), 10)
	b = append(b, ' ')
	return append(b, m.x.Reason...)
}

// Size returns the length of the rendered message.
func (m *Message) Size() int {
	n := len(m.x.StartLine) + 4 + len(m.x.Body)
	if m.startDirty {
		n = len(m.appendStartLine(nil)) + 4 + len(m.x.Body)
	}
	for i := range m.x.Fields {
		n += len(m.x.Fields[i].Line)
	}
	return n
}

// AppendTo appends the message's wire form to b. Header fields that were
// not edited are written exactly as they were received.
func (m *Message) AppendTo(b []byte) []byte {
	b = m.appendStartLine(b)
	b = append(b, '\r', '\n')
	for i := range m.x.Fields {
		b = append(b, m.x.Fields[i].Line...)
	}
	b = append(b, '\r', '\n')
	return append(b, m.x.Body...)
}

// Bytes returns the message's wire form in a new slice.
func (m *Message) Bytes() []byte {
	return m.AppendTo(make([]byte, 0, m.Size()))
}

// String returns the message's wire form.
func (m *Message) String() string { return string(m.Bytes()) }
