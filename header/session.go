package header

import (
	"strconv"

	"github.com/sansip/sansip/internal/abnf"
)

// SessionExpires is the Session-Expires header field (RFC 4028 §4): the
// session interval in seconds, delta-seconds *( SEMI se-params ), with the
// refresher parameter.
type SessionExpires struct {
	Delta  uint32
	Params Params
}

// HeaderName returns "Session-Expires".
func (SessionExpires) HeaderName() string { return "Session-Expires" }

// Parse parses a Session-Expires value.
func (v *SessionExpires) Parse(s string) error {
	n, p, err := parseDeltaParams("Session-Expires", s)
	*v = SessionExpires{}
	if err == nil {
		v.Delta, v.Params = n, p
	}
	return err
}

// AppendTo appends "delta;params".
func (v SessionExpires) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(v.Delta), 10)
	return append(b, v.Params...)
}

// Refresher returns the refresher parameter in lower case: "uac", "uas",
// or "" when absent or another value.
func (v SessionExpires) Refresher() string {
	r, _ := v.Params.Get("refresher")
	switch {
	case abnf.EqualFold(r, "uac"):
		return "uac"
	case abnf.EqualFold(r, "uas"):
		return "uas"
	}
	return ""
}

// MinSE is the Min-SE header field (RFC 4028 §5): the minimum session
// interval in seconds, delta-seconds *( SEMI generic-param ).
type MinSE struct {
	Delta  uint32
	Params Params
}

// HeaderName returns "Min-SE".
func (MinSE) HeaderName() string { return "Min-SE" }

// Parse parses a Min-SE value.
func (v *MinSE) Parse(s string) error {
	n, p, err := parseDeltaParams("Min-SE", s)
	*v = MinSE{}
	if err == nil {
		v.Delta, v.Params = n, p
	}
	return err
}

// AppendTo appends "delta;params".
func (v MinSE) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(v.Delta), 10)
	return append(b, v.Params...)
}

// RAck is the RAck header field (RFC 3262 §7.2): the RSeq of the
// reliable provisional response a PRACK acknowledges, and the CSeq number
// and method of its request.
type RAck struct {
	RSeq   uint32
	CSeq   uint32
	Method string
}

// HeaderName returns "RAck".
func (RAck) HeaderName() string { return "RAck" }

// Parse parses "response-num LWS CSeq-num LWS Method".
func (r *RAck) Parse(s string) error {
	const h = "RAck"
	*r = RAck{}
	i := abnf.SkipLWS(s, 0)
	rseq, j, err := parseDigits(h, s, i, 1<<32-1)
	if err != nil {
		return err
	}
	k := abnf.SkipLWS(s, j)
	if k == j {
		return errAt(h, j, ErrSyntax)
	}
	cseq, j, err := parseDigits(h, s, k, 1<<32-1)
	if err != nil {
		return err
	}
	k = abnf.SkipLWS(s, j)
	if k == j {
		return errAt(h, j, ErrSyntax)
	}
	m, j, err := parseTokenAt(h, s, k)
	if err != nil {
		return err
	}
	if err := expectEnd(h, s, j); err != nil {
		return err
	}
	r.RSeq, r.CSeq, r.Method = uint32(rseq), uint32(cseq), m
	return nil
}

// AppendTo appends "rseq cseq METHOD".
func (r RAck) AppendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(r.RSeq), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.CSeq), 10)
	b = append(b, ' ')
	return append(b, r.Method...)
}

// Reason is one value of a Reason list (RFC 3326 §2): a protocol ("SIP",
// "Q.850" or another token) with reason-params, cause and text among them.
type Reason struct {
	Protocol string
	Params   Params
}

// HeaderName returns "Reason".
func (Reason) HeaderName() string { return "Reason" }

// Parse parses one reason-value.
func (r *Reason) Parse(s string) error {
	t, p, err := parseTokenParams("Reason", s)
	*r = Reason{}
	if err == nil {
		r.Protocol, r.Params = t, p
	}
	return err
}

// AppendTo appends "protocol;params".
func (r Reason) AppendTo(b []byte) []byte {
	b = append(b, r.Protocol...)
	return append(b, r.Params...)
}

// Cause returns the cause parameter (a SIP status code, or a Q.850 cause)
// and whether it is present and a valid number.
func (r Reason) Cause() (uint32, bool) {
	n, ok := paramUint(r.Params, "cause", 1<<32-1)
	return uint32(n), ok
}

// Text returns the text parameter with its quotes resolved, or "".
func (r Reason) Text() string {
	v, _ := r.Params.Unquoted("text")
	return v
}

// Is reports whether the protocol is p ("SIP", "Q.850"), compared
// case-insensitively.
func (r Reason) Is(p string) bool { return abnf.EqualFold(r.Protocol, p) }
