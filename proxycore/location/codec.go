package location

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/uri"
)

// ErrEncoding reports stored bytes that are not a binding Marshal wrote.
var ErrEncoding = errors.New("location: malformed stored binding")

// stored is a Binding as stored: every header value in its SIP text, so
// that the bytes can be read with redis-cli or bbolt's tools, and a
// version for later changes of the format.
type stored struct {
	V        int      `json:"v"`
	AOR      string   `json:"aor"`
	Contact  string   `json:"contact"`
	Q        int      `json:"q"`
	Expires  int64    `json:"expires"`
	Updated  int64    `json:"updated"`
	CallID   string   `json:"callid"`
	CSeq     uint32   `json:"cseq"`
	Path     []string `json:"path,omitempty"`
	Instance string   `json:"instance,omitempty"`
	RegID    uint32   `json:"regid,omitempty"`
	Flow     string   `json:"flow,omitempty"`
	Token    string   `json:"token,omitempty"`
}

// Marshal encodes bindings for a store that keeps them outside the
// process (a file, Redis): a JSON array, each binding's header values in
// their SIP text, times as the effects.Time values given (a store that
// outlives the process stores wall-clock times; see service.Store).
// Unmarshal reads it back.
func Marshal(bs []Binding) ([]byte, error) {
	out := make([]stored, len(bs))
	for i := range bs {
		b := &bs[i]
		s := stored{
			V: 1, AOR: b.AOR.String(), Contact: string(b.Contact.AppendTo(nil)), Q: b.Q,
			Expires: int64(b.Expires), Updated: int64(b.Updated), CallID: b.CallID, CSeq: b.CSeq,
			Instance: b.Instance, RegID: b.RegID, Token: b.FlowToken,
		}
		for _, p := range b.Path {
			s.Path = append(s.Path, string(p.AppendTo(nil)))
		}
		if b.Flow.Addr.IsValid() {
			s.Flow = b.Flow.String()
		}
		out[i] = s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // <sip:…> as written, for redis-cli and bbolt's tools
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes what Marshal wrote; an error wraps ErrEncoding and
// names the part that is wrong.
func Unmarshal(data []byte) ([]Binding, error) {
	var in []stored
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncoding, err)
	}
	bs := make([]Binding, 0, len(in))
	for i, s := range in {
		b, err := s.binding()
		if err != nil {
			return nil, fmt.Errorf("%w: binding %d: %w", ErrEncoding, i, err)
		}
		bs = append(bs, b)
	}
	return bs, nil
}

func (s *stored) binding() (Binding, error) {
	if s.V != 1 {
		return Binding{}, fmt.Errorf("version %d", s.V)
	}
	aor, err := uri.Parse(s.AOR)
	if err != nil {
		return Binding{}, fmt.Errorf("aor: %w", err)
	}
	if aor, err = Canonical(aor); err != nil {
		return Binding{}, err
	}
	c, err := header.ParseValue[header.Contact](s.Contact)
	if err != nil {
		return Binding{}, fmt.Errorf("contact: %w", err)
	}
	if c.Star {
		return Binding{}, errors.New("contact: *")
	}
	if s.Q < 0 || s.Q > 1000 {
		return Binding{}, fmt.Errorf("q %d", s.Q)
	}
	b := Binding{
		AOR: aor, Contact: c, Q: s.Q, Expires: effects.Time(s.Expires), Updated: effects.Time(s.Updated),
		CallID: s.CallID, CSeq: s.CSeq, Instance: s.Instance, RegID: s.RegID, FlowToken: s.Token,
	}
	for _, p := range s.Path {
		v, err := header.ParseValue[header.Path](p)
		if err != nil {
			return Binding{}, fmt.Errorf("path: %w", err)
		}
		b.Path = append(b.Path, v)
	}
	if s.Flow != "" {
		if b.Flow, err = ParsePeer(s.Flow); err != nil {
			return Binding{}, err
		}
	}
	return b, nil
}

// ParsePeer reads what effects.Peer.String writes: "transport:addr" with
// "#conn" when the peer names a connection.
func ParsePeer(s string) (effects.Peer, error) {
	tr, rest, ok := strings.Cut(s, ":")
	if !ok {
		return effects.Peer{}, fmt.Errorf("flow %q: no transport", s)
	}
	var p effects.Peer
	if p.Transport = effects.ParseTransport(tr); p.Transport == 0 {
		return effects.Peer{}, fmt.Errorf("flow %q: transport", s)
	}
	if addr, conn, ok := strings.Cut(rest, "#"); ok {
		n, err := strconv.ParseUint(conn, 10, 64)
		if err != nil {
			return effects.Peer{}, fmt.Errorf("flow %q: connection: %w", s, err)
		}
		p.Conn, rest = effects.ConnID(n), addr
	}
	a, err := netip.ParseAddrPort(rest)
	if err != nil {
		return effects.Peer{}, fmt.Errorf("flow %q: %w", s, err)
	}
	p.Addr = a
	return p, nil
}
