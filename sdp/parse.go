package sdp

import "fmt"

// Ranks of the lines in RFC 8866 §5's fixed order: the session-level lines,
// then the lines of a media description.
const (
	rNone = iota
	rV
	rO
	rS
	rI
	rU
	rE
	rP
	rC
	rB
	rT
	rR
	rZ
	rK
	rA
	rM
	rMI
	rMC
	rMB
	rMK
	rMA
)

// Parse parses a session description.
//
// Lines end in CRLF or, as RFC 8866 §5 asks parsers to tolerate, in a bare
// LF; the last line may lack its end, and empty lines after the last one are
// ignored. Parse is strict about what the grammar of §9 fixes (line order,
// type letters, the subfields of v=, o=, c=, b=, t=, r=, z=, m= and the
// attribute name) and lenient in three ways seen in the wild: an empty s=
// line, runs of spaces between subfields, and an m= line without formats.
// It does not require a c= line for every stream.
//
// A type letter other than those of §5 makes the whole description invalid
// (§5: a parser must ignore or reject it); unknown attributes are kept.
// The returned session's strings are substrings of one copy of b.
func Parse(b []byte) (*Session, error) {
	text := string(b)
	p := parser{s: &Session{}}
	line := 0
	for i := 0; i < len(text); {
		var l string
		if j := indexByte(text[i:], '\n'); j >= 0 {
			l, i = text[i:i+j], i+j+1
		} else {
			l, i = text[i:], len(text)
		}
		line++
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if l == "" {
			if blank(text[i:]) {
				break
			}
			return nil, &Error{Line: line, Err: fmt.Errorf("%w: empty line", ErrSyntax)}
		}
		if err := p.line(l); err != nil {
			var typ byte
			if len(l) > 0 {
				typ = l[0]
			}
			return nil, &Error{Line: line, Type: typ, Err: err}
		}
	}
	switch {
	case p.last == rNone:
		return nil, &Error{Line: line + 1, Err: fmt.Errorf("%w: v=", ErrMissing)}
	case p.last < rS:
		return nil, &Error{Line: line + 1, Err: fmt.Errorf("%w: %s", ErrMissing, [...]string{rV: "o=", rO: "s="}[p.last])}
	case p.last < rT:
		return nil, &Error{Line: line + 1, Err: fmt.Errorf("%w: t=", ErrMissing)}
	}
	return p.s, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// blank reports whether s holds only line ends.
func blank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			return false
		}
	}
	return true
}

type parser struct {
	s    *Session
	last int // rank of the last line
	buf  [8]string
}

func errf(err error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
}

// line parses one line (without its end) into p.s.
func (p *parser) line(l string) error {
	if len(l) < 2 || l[1] != '=' {
		return errf(ErrSyntax, "not <type>=<value>")
	}
	typ, v := l[0], l[2:]
	if !isText(v) {
		return errf(ErrSyntax, "NUL or CR in value")
	}
	// The fixed order (§5): v, o and s open the description.
	switch {
	case p.last == rNone && typ != 'v':
		return errf(ErrMissing, "v= must be the first line")
	case p.last == rV && typ != 'o':
		return errf(ErrMissing, "o= must follow v=")
	case p.last == rO && typ != 's':
		return errf(ErrMissing, "s= must follow o=")
	}
	s := p.s
	inMedia := p.last >= rM
	var m *Media
	if inMedia {
		m = &s.Media[len(s.Media)-1]
	}
	in := func(lo, hi int) bool { return p.last >= lo && p.last <= hi }
	order := func() error {
		if inMedia {
			return errf(ErrOrder, "%c= not allowed in a media description here", typ)
		}
		return errf(ErrOrder, "%c= not allowed here", typ)
	}
	switch typ {
	case 'v':
		if p.last != rNone {
			return order()
		}
		n, ok := parseUint(v, 1<<31-1)
		if !ok {
			return errf(ErrSyntax, "version %q", v)
		}
		if n != 0 {
			return errf(ErrVersion, "v=%s", v)
		}
		p.last = rV
	case 'o':
		if p.last != rV {
			return order()
		}
		if err := p.origin(v); err != nil {
			return err
		}
		p.last = rO
	case 's':
		if p.last != rO {
			return order()
		}
		s.Name = v
		p.last = rS
	case 'i':
		if v == "" {
			return errf(ErrSyntax, "empty i=")
		}
		switch {
		case p.last == rS:
			s.Info, p.last = v, rI
		case p.last == rM:
			m.Info, p.last = v, rMI
		default:
			return order()
		}
	case 'u':
		if !in(rS, rI) {
			return order()
		}
		if v == "" {
			return errf(ErrSyntax, "empty u=")
		}
		s.URI, p.last = v, rU
	case 'e':
		if !in(rS, rE) {
			return order()
		}
		if v == "" {
			return errf(ErrSyntax, "empty e=")
		}
		s.Emails, p.last = append(s.Emails, v), rE
	case 'p':
		if !in(rS, rP) {
			return order()
		}
		if v == "" {
			return errf(ErrSyntax, "empty p=")
		}
		s.Phones, p.last = append(s.Phones, v), rP
	case 'c':
		var c Connection
		if err := parseConnection(v, &c); err != nil {
			return err
		}
		switch {
		case in(rS, rP):
			s.Connection, p.last = &c, rC
		case in(rM, rMC):
			m.Connections, p.last = append(m.Connections, c), rMC
		default:
			return order()
		}
	case 'b':
		var bw Bandwidth
		if err := parseBandwidth(v, &bw); err != nil {
			return err
		}
		switch {
		case in(rS, rB):
			s.Bandwidths, p.last = append(s.Bandwidths, bw), rB
		case in(rM, rMB):
			m.Bandwidths, p.last = append(m.Bandwidths, bw), rMB
		default:
			return order()
		}
	case 't':
		if !in(rS, rZ) {
			return order()
		}
		f := splitSP(v, p.buf[:0])
		if len(f) != 2 {
			return errf(ErrSyntax, "t= needs a start and a stop time")
		}
		start, ok1 := parseUint(f[0], 1<<64-1)
		stop, ok2 := parseUint(f[1], 1<<64-1)
		if !ok1 || !ok2 {
			return errf(ErrSyntax, "malformed time")
		}
		s.Times, p.last = append(s.Times, Time{Start: start, Stop: stop}), rT
	case 'r':
		if !in(rT, rR) {
			return order()
		}
		if !validRepeat(v, p.buf[:0]) {
			return errf(ErrSyntax, "malformed repeat times")
		}
		t := &s.Times[len(s.Times)-1]
		t.Repeats, p.last = append(t.Repeats, v), rR
	case 'z':
		if !in(rT, rR) {
			return order()
		}
		if !validZones(v, p.buf[:0]) {
			return errf(ErrSyntax, "malformed time zone adjustments")
		}
		s.Times[len(s.Times)-1].Zones, p.last = v, rZ
	case 'k':
		if v == "" {
			return errf(ErrSyntax, "empty k=")
		}
		switch {
		case in(rS, rB):
			return errf(ErrMissing, "t= must come before k=")
		case in(rT, rZ):
			s.Key, p.last = v, rK
		case in(rM, rMB):
			m.Key, p.last = v, rMK
		default:
			return order()
		}
	case 'a':
		a, err := parseAttribute(v)
		if err != nil {
			return err
		}
		switch {
		case in(rS, rB):
			return errf(ErrMissing, "t= must come before a=")
		case in(rT, rA):
			s.Attributes, p.last = append(s.Attributes, a), rA
		default: // in a media description, after anything
			m.Attributes, p.last = append(m.Attributes, a), rMA
		}
	case 'm':
		if in(rS, rB) {
			return errf(ErrMissing, "t= must come before m=")
		}
		var md Media
		if err := p.media(v, &md); err != nil {
			return err
		}
		s.Media, p.last = append(s.Media, md), rM
	default:
		return errf(ErrUnknownType, "%q", typ)
	}
	return nil
}

// origin parses the value of an o= line (§5.2).
func (p *parser) origin(v string) error {
	f := splitSP(v, p.buf[:0])
	if len(f) != 6 {
		return errf(ErrSyntax, "o= needs 6 subfields, has %d", len(f))
	}
	o := &p.s.Origin
	var ok1, ok2 bool
	o.SessionID, ok1 = parseUint(f[1], 1<<64-1)
	o.SessionVersion, ok2 = parseUint(f[2], 1<<64-1)
	switch {
	case !isNonWS(f[0]):
		return errf(ErrSyntax, "malformed username")
	case !ok1:
		return errf(ErrSyntax, "malformed sess-id %q", f[1])
	case !ok2:
		return errf(ErrSyntax, "malformed sess-version %q", f[2])
	case !isToken(f[3]):
		return errf(ErrSyntax, "malformed nettype")
	case !isToken(f[4]):
		return errf(ErrSyntax, "malformed addrtype")
	case !isNonWS(f[5]):
		return errf(ErrSyntax, "malformed address")
	}
	o.Username, o.NetType, o.AddrType, o.Address = f[0], f[3], f[4], f[5]
	return nil
}

// parseConnection parses the value of a c= line (§5.7).
func parseConnection(v string, c *Connection) error {
	var buf [3]string
	f := splitSP(v, buf[:0])
	if len(f) < 3 || !isToken(f[0]) || !isToken(f[1]) {
		return errf(ErrSyntax, "c= needs nettype, addrtype and address")
	}
	c.NetType, c.AddrType = f[0], f[1]
	ip4, ip6 := f[1] == "IP4", f[1] == "IP6"
	if !ip4 && !ip6 {
		// Another address type: the address and any subfields after it,
		// kept whole (§5.7 lets address types define more subfields).
		rest := trimSP(v)
		rest = trimSP(rest[len(f[0]):])
		rest = trimSP(rest[len(f[1]):])
		for i := 0; i < len(rest); i++ {
			if c := rest[i]; c < 0x20 || c == 0x7f || c == '\t' {
				return errf(ErrSyntax, "malformed address")
			}
		}
		c.Address = rest
		return nil
	}
	if len(f) != 3 {
		return errf(ErrSyntax, "c= has subfields after the address")
	}
	addr, rest, slash := cut(f[2], '/')
	if !isNonWS(addr) {
		return errf(ErrSyntax, "malformed address")
	}
	c.Address = addr
	if !slash {
		return nil
	}
	first, second, two := cut(rest, '/')
	if ip4 {
		ttl, ok := parseInt(first, 255)
		if !ok {
			return errf(ErrSyntax, "malformed TTL %q", first)
		}
		c.TTL = ttl
		if !two {
			return nil
		}
		first = second
	} else if two {
		return errf(ErrSyntax, "IP6 address with a TTL")
	}
	n, ok := parseInt(first, 1<<31-1)
	if !ok || n == 0 {
		return errf(ErrSyntax, "malformed number of addresses %q", first)
	}
	c.Count = n
	return nil
}

// parseBandwidth parses the value of a b= line (§5.8).
func parseBandwidth(v string, bw *Bandwidth) error {
	typ, val, ok := cut(v, ':')
	if !ok || !isToken(typ) {
		return errf(ErrSyntax, "b= needs <bwtype>:<bandwidth>")
	}
	n, ok := parseUint(val, 1<<64-1)
	if !ok {
		return errf(ErrSyntax, "malformed bandwidth %q", val)
	}
	bw.Type, bw.Value = typ, n
	return nil
}

// typedTime reports whether s is 1*DIGIT [fixed-len-time-unit].
func typedTime(s string) bool {
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'd', 'h', 'm', 's':
			s = s[:n-1]
		}
	}
	_, ok := parseUint(s, 1<<64-1)
	return ok
}

// validRepeat checks an r= value: repeat-interval SP typed-time
// 1*(SP typed-time) (§5.10).
func validRepeat(v string, buf []string) bool {
	f := splitSP(v, buf)
	if len(f) < 3 {
		return false
	}
	for _, t := range f {
		if !typedTime(t) {
			return false
		}
	}
	return true
}

// validZones checks a z= value: time SP ["-"] typed-time *(SP time SP ["-"]
// typed-time) (§5.11).
func validZones(v string, buf []string) bool {
	f := splitSP(v, buf)
	if len(f) == 0 || len(f)%2 != 0 {
		return false
	}
	for i := 0; i < len(f); i += 2 {
		if _, ok := parseUint(f[i], 1<<64-1); !ok {
			return false
		}
		off := f[i+1]
		if len(off) > 0 && off[0] == '-' {
			off = off[1:]
		}
		if !typedTime(off) {
			return false
		}
	}
	return true
}

// parseAttribute parses the value of an a= line (§5.13).
func parseAttribute(v string) (Attribute, error) {
	name, val, hasVal := cut(v, ':')
	if !isToken(name) {
		return Attribute{}, errf(ErrSyntax, "malformed attribute name %q", name)
	}
	return Attribute{Name: name, Value: val, HasValue: hasVal}, nil
}

// media parses the value of an m= line (§5.14).
func (p *parser) media(v string, m *Media) error {
	f := splitSP(v, p.buf[:0])
	if len(f) < 3 {
		return errf(ErrSyntax, "m= needs media, port and proto")
	}
	if !isToken(f[0]) {
		return errf(ErrSyntax, "malformed media %q", f[0])
	}
	port, count, hasCount := cut(f[1], '/')
	var ok bool
	if m.Port, ok = parseInt(port, 65535); !ok {
		return errf(ErrSyntax, "malformed port %q", f[1])
	}
	if hasCount {
		if m.PortCount, ok = parseInt(count, 65535); !ok || m.PortCount == 0 {
			return errf(ErrSyntax, "malformed number of ports %q", f[1])
		}
	}
	if !isProto(f[2]) {
		return errf(ErrSyntax, "malformed proto %q", f[2])
	}
	m.Type, m.Proto = f[0], f[2]
	if len(f) > 3 {
		m.Formats = make([]string, len(f)-3)
		for i, fm := range f[3:] {
			if !isToken(fm) {
				return errf(ErrSyntax, "malformed format %q", fm)
			}
			m.Formats[i] = fm
		}
	}
	return nil
}
