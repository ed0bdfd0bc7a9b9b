package sdp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// attr returns a media-level attribute, else the session-level one (s may be
// nil).
func (m *Media) attr(s *Session, name string) (string, bool) {
	if v, ok := m.Attributes.Get(name); ok {
		return v, true
	}
	if s != nil {
		return s.Attributes.Get(name)
	}
	return "", false
}

// ICEUfrag returns the ICE username fragment of the stream (RFC 8839 §5.4):
// its a=ice-ufrag, else the session's (s may be nil); "" if neither has one.
func (m *Media) ICEUfrag(s *Session) string {
	v, _ := m.attr(s, "ice-ufrag")
	return v
}

// ICEPwd returns the ICE password of the stream (RFC 8839 §5.4): its
// a=ice-pwd, else the session's (s may be nil); "" if neither has one.
func (m *Media) ICEPwd(s *Session) string {
	v, _ := m.attr(s, "ice-pwd")
	return v
}

// ICEOptions returns the ICE options of the stream (RFC 8839 §5.6): its
// a=ice-options, else the session's, split at spaces.
func (m *Media) ICEOptions(s *Session) []string {
	v, _ := m.attr(s, "ice-options")
	return splitSP(v, nil)
}

// ICELite reports whether the session's agent is an ICE lite
// implementation (a=ice-lite, RFC 8839 §5.3).
func (s *Session) ICELite() bool { return s.Attributes.Has("ice-lite") }

// Fingerprint returns the certificate fingerprint of the stream (RFC 8122
// §5): the hash function and the fingerprint of its first a=fingerprint,
// else the session's (s may be nil).
func (m *Media) Fingerprint(s *Session) (hash, value string, ok bool) {
	v, ok := m.attr(s, "fingerprint")
	if !ok {
		return "", "", false
	}
	hash, value, ok = cut(trimSP(v), ' ')
	if !ok || hash == "" {
		return "", "", false
	}
	return hash, trimSP(value), true
}

// Setup returns the stream's a=setup role (RFC 4145 §4, RFC 5763 §5):
// "active", "passive", "actpass" or "holdconn", else the session's (s may be
// nil); "" if neither has one.
func (m *Media) Setup(s *Session) string {
	v, _ := m.attr(s, "setup")
	return v
}

// MID returns the stream's identification tag, a=mid (RFC 5888 §4); "" if it
// has none.
func (m *Media) MID() string {
	v, _ := m.Attributes.Get("mid")
	return v
}

// RTCPMux reports whether the stream multiplexes RTP and RTCP on one port
// (a=rtcp-mux, RFC 5761 §5.1.1).
func (m *Media) RTCPMux() bool { return m.Attributes.Has("rtcp-mux") }

// EndOfCandidates reports whether the stream (or the session) says that no
// more candidates will follow (a=end-of-candidates, RFC 8840 §8.2).
func (m *Media) EndOfCandidates(s *Session) bool {
	_, ok := m.attr(s, "end-of-candidates")
	return ok
}

// Group is an a=group line (RFC 5888 §5): semantics and the mids it groups.
type Group struct {
	Semantics string   // "BUNDLE", "LS", "FID", ...
	MIDs      []string // identification tags, in order
}

// Groups returns the session's a=group lines with the given semantics
// (compared case-insensitively), or every group if semantics is "".
func (s *Session) Groups(semantics string) []Group {
	var gs []Group
	for _, v := range s.Attributes.All("group") {
		f := splitSP(v, nil)
		if len(f) == 0 || (semantics != "" && !equalFold(f[0], semantics)) {
			continue
		}
		gs = append(gs, Group{Semantics: f[0], MIDs: f[1:]})
	}
	return gs
}

// BundleGroups returns the mids of each a=group:BUNDLE line (RFC 8843 §7.1).
func (s *Session) BundleGroups() [][]string {
	var bs [][]string
	for _, g := range s.Groups("BUNDLE") {
		bs = append(bs, g.MIDs)
	}
	return bs
}

// MediaByMID returns the media description with the given a=mid.
func (s *Session) MediaByMID(mid string) (*Media, bool) {
	for i := range s.Media {
		if v, ok := s.Media[i].Attributes.Get("mid"); ok && v == mid {
			return &s.Media[i], true
		}
	}
	return nil, false
}

// Candidate is an ICE candidate, the value of an a=candidate attribute
// (RFC 8839 §5.1).
type Candidate struct {
	Foundation string
	Component  int    // 1 for RTP, 2 for RTCP
	Transport  string // "UDP", "TCP", ...
	Priority   uint32
	Address    string // IP address or FQDN (an mDNS ".local" name, say)
	Port       int
	Type       string // host, srflx, prflx, relay
	RelAddr    string // raddr, "" when absent
	RelPort    int    // rport, 0 when absent
	HasRelPort bool   // whether rport is present (it may be 0)
	Extensions []Extension
}

// Extension is a name/value pair after a candidate's type, such as
// "tcptype active" or "generation 0".
type Extension struct{ Name, Value string }

// ErrCandidate is the error of ParseCandidate, matchable with errors.Is.
var ErrCandidate = errors.New("malformed candidate")

// ParseCandidate parses the value of an a=candidate attribute:
// "1 1 UDP 2130706431 192.0.2.1 54400 typ host", with or without the
// "candidate:" prefix the WebRTC API puts in front of it.
func ParseCandidate(v string) (Candidate, error) {
	v = strings.TrimPrefix(v, "candidate:")
	f := splitSP(v, make([]string, 0, 16))
	bad := func(what string) (Candidate, error) {
		return Candidate{}, fmt.Errorf("sdp: %w: %s", ErrCandidate, what)
	}
	if len(f) < 8 || f[6] != "typ" {
		return bad("too few fields or no typ")
	}
	var c Candidate
	var ok bool
	c.Foundation, c.Transport, c.Address, c.Type = f[0], f[2], f[4], f[7]
	if c.Component, ok = parseInt(f[1], 256); !ok || c.Component == 0 {
		return bad("component")
	}
	p, ok := parseUint(f[3], 1<<32-1)
	if !ok {
		return bad("priority")
	}
	c.Priority = uint32(p)
	if c.Port, ok = parseInt(f[5], 65535); !ok {
		return bad("port")
	}
	if c.Foundation == "" || !isToken(c.Transport) || !isNonWS(c.Address) || !isToken(c.Type) {
		return bad("field syntax")
	}
	rest := f[8:]
	if len(rest) >= 2 && rest[0] == "raddr" {
		c.RelAddr, rest = rest[1], rest[2:]
	}
	if len(rest) >= 2 && rest[0] == "rport" {
		if c.RelPort, ok = parseInt(rest[1], 65535); !ok {
			return bad("rport")
		}
		c.HasRelPort, rest = true, rest[2:]
	}
	if len(rest)%2 != 0 {
		return bad("extension without a value")
	}
	for i := 0; i < len(rest); i += 2 {
		c.Extensions = append(c.Extensions, Extension{rest[i], rest[i+1]})
	}
	return c, nil
}

// String returns the value of the a=candidate attribute.
func (c Candidate) String() string {
	b := make([]byte, 0, 96)
	b = append(b, c.Foundation...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(c.Component), 10)
	b = append(b, ' ')
	b = append(b, c.Transport...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(c.Priority), 10)
	b = append(b, ' ')
	b = append(b, c.Address...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(c.Port), 10)
	b = append(b, " typ "...)
	b = append(b, c.Type...)
	if c.RelAddr != "" {
		b = append(b, " raddr "...)
		b = append(b, c.RelAddr...)
	}
	if c.HasRelPort {
		b = append(b, " rport "...)
		b = strconv.AppendInt(b, int64(c.RelPort), 10)
	}
	for _, e := range c.Extensions {
		b = append(b, ' ')
		b = append(b, e.Name...)
		b = append(b, ' ')
		b = append(b, e.Value...)
	}
	return string(b)
}

// Candidates returns the stream's ICE candidates in order, skipping any
// a=candidate line that does not parse.
func (m *Media) Candidates() []Candidate {
	var cs []Candidate
	for _, a := range m.Attributes {
		if a.Name != "candidate" {
			continue
		}
		if c, err := ParseCandidate(a.Value); err == nil {
			cs = append(cs, c)
		}
	}
	return cs
}
