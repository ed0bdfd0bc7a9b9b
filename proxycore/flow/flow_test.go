package flow_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/flow"
	"github.com/sansip/sansip/uri"
)

func tokens(t testing.TB, key string) *flow.Tokens {
	t.Helper()
	f, err := flow.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRoundTrip: a token names its flow exactly (RFC 5626 §5.2), for each
// transport and address family, and is a valid SIP URI user part.
func TestRoundTrip(t *testing.T) {
	f := tokens(t, "0123456789abcdef")
	for _, p := range []effects.Peer{
		{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP},
		{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Transport: effects.TCP, Conn: 1<<61 + 7},
		{Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Transport: effects.WSS, Conn: 3},
		{Addr: netip.MustParseAddrPort("[::ffff:192.0.2.1]:5061"), Transport: effects.TLS, Conn: 9},
	} {
		tok := f.Token(p)
		if len(tok) != flow.TokenLen {
			t.Errorf("%v: length %d, want %d", p, len(tok), flow.TokenLen)
		}
		got, ok := f.Peer(tok)
		if !ok || got != p {
			t.Errorf("%v: got %v %v", p, got, ok)
		}
		u, err := uri.Parse("sip:" + tok + "@127.0.0.1:5060;lr;ob")
		if err != nil || u.User != tok {
			t.Errorf("%v: as a URI user part: %v %q", p, err, u.User)
		}
	}
}

// TestRefused: only this key's unaltered tokens name a flow.
func TestRefused(t *testing.T) {
	f := tokens(t, "0123456789abcdef")
	other := tokens(t, "fedcba9876543210")
	p := effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Transport: effects.TCP, Conn: 5}
	tok := f.Token(p)
	flip := []byte(tok)
	flip[10] ^= 1
	if flip[10] == '-' || flip[10] == '_' {
		flip[10] = 'A'
	}
	for name, s := range map[string]string{
		"another key": other.Token(p), "altered": string(flip), "cut": tok[:len(tok)-1],
		"longer": tok + "A", "empty": "", "user name": "alice", "not base64": strings.Repeat("*", len(tok)),
	} {
		if got, ok := f.Peer(s); ok {
			t.Errorf("%s: accepted as %v", name, got)
		}
	}
	if _, err := flow.New([]byte("short")); !errors.Is(err, flow.ErrKey) {
		t.Errorf("short key: %v", err)
	}
}

// FuzzPeer: no text makes Peer panic, and what it accepts is a token of
// the key that Token writes again identically.
func FuzzPeer(f *testing.F) {
	tk := tokens(f, "0123456789abcdef")
	f.Add(tk.Token(effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.1:1"), Transport: effects.TCP, Conn: 1}))
	f.Add("alice")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := tk.Peer(s)
		if ok && tk.Token(p) != s {
			t.Fatalf("%q accepted as %v, which is %q", s, p, tk.Token(p))
		}
	})
}
