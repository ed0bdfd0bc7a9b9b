package header

import (
	"strconv"

	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// MagicCookie starts every branch parameter built by an RFC 3261 element
// (§8.1.1.7).
const MagicCookie = "z9hG4bK"

// Via is one Via value (RFC 3261 §20.42): sent-protocol, sent-by and
// via-params.
type Via struct {
	// Protocol is protocol-name "/" protocol-version, "" for "SIP/2.0".
	Protocol string
	// Transport is the transport token as written: "UDP", "TCP", "TLS",
	// "SCTP", "WS", "WSS" or any other token.
	Transport string
	Host      string // hostname, IPv4 address or IPv6 reference with brackets
	Port      uint16 // 0 if sent-by has no port
	Params    Params
}

// HeaderName returns "Via".
func (Via) HeaderName() string { return "Via" }

// Branch returns the branch parameter.
func (v Via) Branch() string {
	b, _ := v.Params.Get("branch")
	return b
}

// Received returns the received parameter, without the brackets some
// senders put around an IPv6 address (RFC 5118 §4.5).
func (v Via) Received() string {
	r, _ := v.Params.Get("received")
	if len(r) > 2 && r[0] == '[' && r[len(r)-1] == ']' {
		return r[1 : len(r)-1]
	}
	return r
}

// RPort returns the rport parameter (RFC 3581): present reports whether
// the parameter is there, port is its value or 0 when it has none.
func (v Via) RPort() (port uint16, present bool) {
	r, ok := v.Params.Get("rport")
	if !ok {
		return 0, false
	}
	n, _ := abnf.ParseUint(r, 65535)
	return uint16(n), true
}

// MAddr returns the maddr parameter.
func (v Via) MAddr() string {
	m, _ := v.Params.Get("maddr")
	return m
}

// TTL returns the ttl parameter and whether it is present and valid.
func (v Via) TTL() (uint8, bool) {
	t, ok := v.Params.Get("ttl")
	if !ok {
		return 0, false
	}
	n, ok := abnf.ParseUint(t, 255)
	return uint8(n), ok
}

// SentBy returns "host" or "host:port".
func (v Via) SentBy() string {
	if v.Port == 0 {
		return v.Host
	}
	return v.Host + ":" + strconv.Itoa(int(v.Port))
}

// HasCookie reports whether the branch starts with the RFC 3261 magic
// cookie, so that it identifies the transaction (§17.2.3).
func (v Via) HasCookie() bool {
	b := v.Branch()
	return len(b) > len(MagicCookie) && b[:len(MagicCookie)] == MagicCookie
}

// AppendTo appends the via-parm text.
func (v Via) AppendTo(b []byte) []byte {
	if v.Protocol == "" {
		b = append(b, "SIP/2.0/"...)
	} else {
		b = append(b, v.Protocol...)
		b = append(b, '/')
	}
	b = append(b, v.Transport...)
	b = append(b, ' ')
	b = append(b, v.Host...)
	if v.Port != 0 {
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(v.Port), 10)
	}
	return append(b, v.Params...)
}

// String returns the via-parm text.
func (v Via) String() string {
	var buf [96]byte
	return string(v.AppendTo(buf[:0]))
}

// Parse parses one via-parm, allowing LWS around '/', ':', ';' and '='
// (RFC 4475 wsinv).
func (v *Via) Parse(s string) error {
	end, err := v.parse(s)
	if err != nil {
		return err
	}
	return expectEnd("Via", s, end)
}

// ParseFirst parses the first via-parm of a Via header value that may hold
// several, and returns the rest after the comma (trimmed) without looking
// at it.
func (v *Via) ParseFirst(s string) (rest string, err error) {
	end, err := v.parse(s)
	if err != nil {
		return "", err
	}
	i := abnf.SkipLWS(s, end)
	switch {
	case i == len(s):
		return "", nil
	case s[i] == ',':
		return abnf.TrimLWS(s[i+1:]), nil
	}
	return "", errAt("Via", i, ErrSyntax)
}

// parse reads a via-parm from the start of s and returns where it ended.
func (v *Via) parse(s string) (int, error) {
	*v = Via{}
	const h = "Via"
	i := abnf.SkipLWS(s, 0)
	// Fast path for the usual "SIP/2.0/" prefix.
	if len(s) >= i+8 && (s[i]|0x20) == 's' && (s[i+1]|0x20) == 'i' && (s[i+2]|0x20) == 'p' &&
		s[i+3] == '/' && s[i+4] == '2' && s[i+5] == '.' && s[i+6] == '0' && s[i+7] == '/' {
		i = abnf.SkipLWS(s, i+8) // SLASH = SWS "/" SWS
	} else {
		n := abnf.Span(s, i, abnf.Token)
		if n == i {
			return 0, errAt(h, i, ErrSyntax)
		}
		name := s[i:n]
		j := abnf.SkipLWS(s, n)
		if j >= len(s) || s[j] != '/' {
			return 0, errAt(h, j, ErrSyntax)
		}
		j = abnf.SkipLWS(s, j+1)
		k := abnf.Span(s, j, abnf.Token)
		if k == j {
			return 0, errAt(h, j, ErrSyntax)
		}
		version := s[j:k]
		j = abnf.SkipLWS(s, k)
		if j >= len(s) || s[j] != '/' {
			return 0, errAt(h, j, ErrSyntax)
		}
		if !abnf.EqualFold(name, "SIP") || version != "2.0" {
			v.Protocol = name + "/" + version
		}
		i = abnf.SkipLWS(s, j+1)
	}
	n := abnf.Span(s, i, abnf.Token)
	if n == i {
		return 0, errAt(h, i, ErrSyntax)
	}
	v.Transport = s[i:n]
	i = abnf.SkipLWS(s, n)
	if i == n {
		return 0, errAt(h, i, ErrSyntax) // LWS is required before sent-by
	}
	// sent-by = host [ COLON port ]
	start := i
	i, ok := uri.ScanHost(s, i)
	if i == start || !ok {
		return 0, errAt(h, start, uri.ErrHost)
	}
	v.Host = s[start:i]
	j := abnf.SkipLWS(s, i)
	if j < len(s) && s[j] == ':' {
		j = abnf.SkipLWS(s, j+1)
		k := abnf.Span(s, j, abnf.Alnum)
		p, ok := abnf.ParseUint(s[j:k], 65535)
		if !ok || p == 0 {
			return 0, errAt(h, j, uri.ErrPort)
		}
		v.Port = uint16(p)
		i = k
	}
	p, next, err := parseParams(h, s, i)
	if err != nil {
		return 0, err
	}
	v.Params = p
	return next, nil
}
