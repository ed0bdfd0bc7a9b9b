package header

import (
	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// Contact is one Contact value (RFC 3261 §20.10): the wildcard "*" used to
// remove every binding, or an address with contact-params (expires, q,
// +sip.instance, reg-id and any others).
type Contact struct {
	Star    bool // the value is "*"; the other fields are empty
	Display string
	URI     uri.URI
	Params  Params
}

// HeaderName returns "Contact".
func (Contact) HeaderName() string { return "Contact" }

// Parse parses one Contact value. RFC 4475 cparam01: in an addr-spec
// without angle brackets, parameters after the URI are contact-params.
func (c *Contact) Parse(s string) error {
	*c = Contact{}
	if t := abnf.TrimLWS(s); t == "*" {
		c.Star = true
		return nil
	}
	var n NameAddr
	err := parseNameAddr("Contact", s, &n)
	c.Display, c.URI, c.Params = n.Display, n.URI, n.Params
	return err
}

// AppendTo appends the Contact value.
func (c Contact) AppendTo(b []byte) []byte {
	if c.Star {
		return append(b, '*')
	}
	return c.NameAddr().AppendTo(b)
}

// NameAddr returns the address part of the value.
func (c Contact) NameAddr() NameAddr {
	return NameAddr{Display: c.Display, URI: c.URI, Params: c.Params}
}

// Expires returns the expires parameter and whether it is present and a
// valid delta-seconds below 2**32 (RFC 4475 scalar02: an overlarge value is
// not valid, and the caller applies its default).
func (c Contact) Expires() (uint32, bool) {
	v, ok := c.Params.Get("expires")
	if !ok {
		return 0, false
	}
	n, ok := abnf.ParseUint(v, 1<<32-1)
	return uint32(n), ok
}

// Q returns the q parameter in thousandths (0 to 1000) and whether it is
// present and valid: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
func (c Contact) Q() (int, bool) {
	v, ok := c.Params.Get("q")
	if !ok {
		return 0, false
	}
	return parseQ(v)
}

func parseQ(v string) (int, bool) {
	if v == "" || (v[0] != '0' && v[0] != '1') {
		return 0, false
	}
	whole := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return whole, true
	}
	if v[1] != '.' || len(v) > 5 {
		return 0, false
	}
	frac, scale := 0, 100
	for i := 2; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		frac += int(v[i]-'0') * scale
		scale /= 10
	}
	if whole == 1000 && frac != 0 {
		return 0, false
	}
	return whole + frac, true
}

// Instance returns the +sip.instance parameter (RFC 5626 §4.1) without its
// quotes and angle brackets: "urn:uuid:...".
func (c Contact) Instance() string {
	v, ok := c.Params.Unquoted("+sip.instance")
	if !ok {
		return ""
	}
	if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
		return v[1 : len(v)-1]
	}
	return v
}

// RegID returns the reg-id parameter (RFC 5626 §4.2) and whether it is
// present and valid.
func (c Contact) RegID() (uint32, bool) {
	v, ok := c.Params.Get("reg-id")
	if !ok {
		return 0, false
	}
	n, ok := abnf.ParseUint(v, 1<<31-1)
	return uint32(n), ok && n > 0
}
