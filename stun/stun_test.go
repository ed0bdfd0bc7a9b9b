package stun

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// unhex turns hex written as RFC 5769 prints it (spaces, line breaks) into
// bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The test vectors of RFC 5769 §2.1 to §2.3 (data, byte for byte; their
// SOFTWARE and USERNAME padding is 0x20 on purpose, RFC 5769 §2).
const (
	rfc5769Request = `
		00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
		80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
		00 24 00 04 6e 00 01 ff
		80 29 00 08 93 2f f9 b1 51 26 3b 36
		00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
		00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
		80 28 00 04 e5 7a 3b cf`
	rfc5769IPv4 = `
		01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
		80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
		00 20 00 08 00 01 a1 47 e1 12 a6 43
		00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
		80 28 00 04 c0 7d 4c 96`
	rfc5769IPv6 = `
		01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
		80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
		00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
		00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
		80 28 00 04 c8 fb 0b 4c`
)

var vectorTxID = TransactionID{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae}

// RFC 5769 §2.1-§2.3: the sample messages parse, their FINGERPRINT checks
// out (RFC 5389 §15.5), and the responses' XOR-MAPPED-ADDRESS (§15.2)
// reads as the RFC says; the request's PRIORITY (an ICE attribute,
// comprehension-required) is unknown here, so a server answers it 420
// (§7.3.1).
func TestRFC5769Vectors(t *testing.T) {
	tests := []struct {
		name     string
		hex      string
		typ      Type
		software string
		addr     netip.AddrPort
		unknown  []AttrType
	}{
		{"§2.1 sample request", rfc5769Request, BindingRequest, "STUN test client", netip.AddrPort{}, []AttrType{0x0024}},
		{"§2.2 sample IPv4 response", rfc5769IPv4, BindingSuccess, "test vector", netip.MustParseAddrPort("192.0.2.1:32853"), nil},
		{"§2.3 sample IPv6 response", rfc5769IPv6, BindingSuccess, "test vector", netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:32853"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			if !IsSTUN(b) {
				t.Error("IsSTUN false")
			}
			m, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != tc.typ || m.TxID != vectorTxID || !m.Fingerprint {
				t.Errorf("type %v, id %x, fingerprint %v", m.Type, m.TxID, m.Fingerprint)
			}
			if sw, _ := m.Get(AttrSoftware); string(sw) != tc.software {
				t.Errorf("SOFTWARE %q", sw)
			}
			if diff := cmp.Diff(tc.unknown, m.UnknownRequired()); diff != "" {
				t.Errorf("unknown required attributes: %s", diff)
			}
			if tc.addr.IsValid() {
				a, err := m.XORMappedAddress()
				if err != nil || a != tc.addr {
					t.Errorf("XOR-MAPPED-ADDRESS %v, %v; want %v", a, err, tc.addr)
				}
				if a, err := m.ReflexiveAddress(); err != nil || a != tc.addr {
					t.Errorf("reflexive address %v, %v", a, err)
				}
				// The attribute is written as the RFC has it.
				var w Message
				w.TxID = vectorTxID
				w.AddXORMappedAddress(tc.addr)
				got, _ := m.Get(AttrXORMappedAddress)
				if !bytes.Equal(w.Attrs[0].Value, got) {
					t.Errorf("XOR-MAPPED-ADDRESS written %x, RFC %x", w.Attrs[0].Value, got)
				}
			}
			// Written again (with zero padding), it parses to the same.
			out, err := m.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m, again); diff != "" {
				t.Error(diff)
			}
			// A flipped bit anywhere before the FINGERPRINT is caught
			// (§15.5), if nothing else catches it first.
			for i := 0; i < len(b)-8; i++ {
				c := bytes.Clone(b)
				c[i] ^= 0x10
				if _, err := Parse(c); err == nil {
					t.Fatalf("byte %d flipped: parsed", i)
				}
			}
		})
	}
}

// RFC 5389 §6, §15, §15.5: what Parse refuses, and why.
func TestParseErrors(t *testing.T) {
	req := AppendBindingRequest(nil, vectorTxID)
	noFP := Message{Type: BindingRequest, TxID: vectorTxID}
	plain, _ := noFP.AppendTo(nil)
	mod := func(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short header", plain[:19], ErrMalformed},
		{"SIP text (§6: first two bits zero)", []byte("REGISTER sip:example.com SIP/2.0\r\n\r\n"), ErrNotSTUN},
		{"no magic cookie (RFC 3489)", mod(plain, func(b []byte) []byte { b[4] = 0; return b }), ErrNotSTUN},
		{"length not a multiple of 4", mod(plain, func(b []byte) []byte { b[3] = 2; return append(b, 0, 0) }), ErrMalformed},
		{"length past the datagram", mod(plain, func(b []byte) []byte { b[3] = 4; return b }), ErrMalformed},
		{"bytes after the message", append(bytes.Clone(plain), 0, 0, 0, 0), ErrMalformed},
		{"attribute runs past the end", mod(plain, func(b []byte) []byte {
			b[3] = 8
			return append(b, 0x80, 0x22, 0, 9, 'a', 'b', 'c', 'd')
		}), ErrMalformed},
		{"FINGERPRINT wrong", mod(req, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrFingerprint},
		{"FINGERPRINT not last", mod(req, func(b []byte) []byte {
			b[3] += 8
			return append(b, 0x80, 0x22, 0, 4, 'a', 'b', 'c', 'd')
		}), ErrFingerprint},
		{"FINGERPRINT of 8 bytes", mod(plain, func(b []byte) []byte {
			b[3] = 12
			return append(b, 0x80, 0x28, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0)
		}), ErrFingerprint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// RFC 5389 §15.1, §15.2: address attributes, both families, read and
// written; a bad family or length is ErrAddress, a missing one
// ErrNoAddress.
func TestAddresses(t *testing.T) {
	id := TransactionID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, s := range []string{"192.0.2.1:5060", "[2001:db8::1]:5062", "0.0.0.0:0", "[::]:65535"} {
		a := netip.MustParseAddrPort(s)
		m := Message{Type: BindingSuccess, TxID: id}
		m.AddXORMappedAddress(a)
		m.AddMappedAddress(a)
		b, err := m.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		x, errX := p.XORMappedAddress()
		y, errY := p.MappedAddress()
		if errX != nil || errY != nil || x != a || y != a {
			t.Errorf("%s: XOR-MAPPED %v %v, MAPPED %v %v", s, x, errX, y, errY)
		}
	}
	// An IPv4-mapped IPv6 address goes as IPv4.
	m := Message{TxID: id}
	m.AddXORMappedAddress(netip.MustParseAddrPort("[::ffff:192.0.2.7]:1"))
	if a, err := m.XORMappedAddress(); err != nil || a != netip.MustParseAddrPort("192.0.2.7:1") {
		t.Errorf("mapped: %v %v", a, err)
	}
	// MAPPED-ADDRESS alone (an RFC 3489 server) is the fallback.
	m = Message{TxID: id}
	m.AddMappedAddress(netip.MustParseAddrPort("192.0.2.8:2"))
	if a, err := m.ReflexiveAddress(); err != nil || a != netip.MustParseAddrPort("192.0.2.8:2") {
		t.Errorf("fallback: %v %v", a, err)
	}
	bad := []struct {
		name string
		v    []byte
	}{
		{"short", []byte{0, 1, 0}},
		{"family 3", []byte{0, 3, 0, 0, 1, 2, 3, 4}},
		{"IPv4 of 5 bytes", []byte{0, 1, 0, 0, 1, 2, 3, 4, 5}},
		{"IPv6 of 4 bytes", []byte{0, 2, 0, 0, 1, 2, 3, 4}},
	}
	for _, tc := range bad {
		m := Message{Attrs: []Attr{{Type: AttrXORMappedAddress, Value: tc.v}}}
		if _, err := m.XORMappedAddress(); !errors.Is(err, ErrAddress) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := (&Message{}).ReflexiveAddress(); !errors.Is(err, ErrNoAddress) {
		t.Errorf("none: %v", err)
	}
}

// RFC 5389 §6: the method and class bits interleave in the type.
func TestTypes(t *testing.T) {
	tests := []struct {
		m    Method
		c    Class
		want Type
		name string
	}{
		{MethodBinding, ClassRequest, BindingRequest, "Binding request"},
		{MethodBinding, ClassIndication, BindingIndication, "Binding indication"},
		{MethodBinding, ClassSuccess, BindingSuccess, "Binding success response"},
		{MethodBinding, ClassError, BindingError, "Binding error response"},
		{0x003, ClassRequest, 0x0003, "method 0x003 request"},      // TURN Allocate (RFC 5766)
		{0xfff, ClassError, 0x3fff, "method 0xfff error response"}, // every bit
	}
	for _, tc := range tests {
		got := NewType(tc.m, tc.c)
		if got != tc.want || got.Method() != tc.m || got.Class() != tc.c || got.String() != tc.name {
			t.Errorf("NewType(%#x, %v) = %#04x (%v, %v, %q), want %#04x", tc.m, tc.c, uint16(got), got.Method(), got.Class(), got, uint16(tc.want))
		}
	}
}

// RFC 5389 §7.3, §7.3.1; RFC 5626 §8: what a server on a SIP port
// answers.
func TestAppendResponse(t *testing.T) {
	src := netip.MustParseAddrPort("198.51.100.7:40000")
	id := TransactionID{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	unknown := NewBindingRequest(id)
	unknown.Add(0x0024, []byte{1, 2, 3, 4})             // PRIORITY: required, unknown here
	unknown.Add(0x8029, []byte{1, 2, 3, 4, 5, 6, 7, 8}) // ICE-CONTROLLED: optional
	unknown.Add(0x0024, []byte{5, 6, 7, 8})
	unknown.Add(0x7fff, nil)
	known := NewBindingRequest(id)
	known.Add(AttrUsername, []byte("alice"))
	known.Add(AttrSoftware, []byte("sansip"))
	tests := []struct {
		name    string
		req     Message
		answer  bool
		typ     Type
		code    int
		unknown []AttrType
	}{
		{"Binding request", NewBindingRequest(id), true, BindingSuccess, 0, nil},
		{"known attributes", known, true, BindingSuccess, 0, nil},
		{"unknown comprehension-required attributes", unknown, true, BindingError, 420, []AttrType{0x0024, 0x7fff}},
		{"indication", Message{Type: BindingIndication, TxID: id}, false, 0, 0, nil},
		{"response", NewBindingSuccess(id, src), false, 0, 0, nil},
		{"other method", Message{Type: NewType(0x003, ClassRequest), TxID: id}, false, 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.req.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			out, ok := AppendResponse(nil, &req, src)
			if ok != tc.answer {
				t.Fatalf("answer %v", ok)
			}
			if !ok {
				if len(out) != 0 {
					t.Errorf("wrote %x", out)
				}
				return
			}
			resp, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Type != tc.typ || resp.TxID != id || !resp.Fingerprint {
				t.Errorf("response %v %x %v", resp.Type, resp.TxID, resp.Fingerprint)
			}
			if tc.code == 0 {
				if a, err := resp.XORMappedAddress(); err != nil || a != src {
					t.Errorf("XOR-MAPPED-ADDRESS %v %v", a, err)
				}
				return
			}
			if code, reason, ok := resp.ErrorCode(); !ok || code != tc.code || reason != "Unknown Attribute" {
				t.Errorf("ERROR-CODE %d %q %v", code, reason, ok)
			}
			if diff := cmp.Diff(tc.unknown, resp.UnknownAttributes()); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// The append helpers write what the Message forms write, byte for byte,
// and without allocating into a buffer with room.
func TestAppendHelpers(t *testing.T) {
	id := TransactionID{0xde, 0xad, 0xbe, 0xef}
	for _, s := range []string{"192.0.2.1:5060", "[2001:db8::9]:5060"} {
		src := netip.MustParseAddrPort(s)
		m := NewBindingSuccess(id, src)
		want, _ := m.AppendTo(nil)
		if got := AppendBindingSuccess(nil, id, src); !bytes.Equal(got, want) {
			t.Errorf("%s: AppendBindingSuccess %x, want %x", s, got, want)
		}
	}
	r := NewBindingRequest(id)
	want, _ := r.AppendTo(nil)
	if got := AppendBindingRequest(nil, id); !bytes.Equal(got, want) || len(got) != 28 {
		t.Errorf("AppendBindingRequest %x, want %x", got, want)
	}
	buf := make([]byte, 0, 64)
	src := netip.MustParseAddrPort("[2001:db8::9]:5060")
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendBindingSuccess(buf[:0], id, src)
		buf = AppendBindingRequest(buf[:0], id)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// RFC 7983 §7: the first byte tells STUN (0-3) from SIP (a letter) and
// CRLF keep-alives (13).
func TestIsSTUN(t *testing.T) {
	tests := []struct {
		b    []byte
		want bool
	}{
		{nil, false},
		{[]byte{0}, true},
		{[]byte{3, 0xff}, true},
		{[]byte{4}, false},
		{[]byte("\r\n\r\n"), false},
		{[]byte("SIP/2.0 200 OK\r\n"), false},
		{[]byte("INVITE sip:a@b SIP/2.0\r\n"), false},
		{AppendBindingRequest(nil, TransactionID{}), true},
	}
	for _, tc := range tests {
		if got := IsSTUN(tc.b); got != tc.want {
			t.Errorf("IsSTUN(%q) = %v", tc.b, got)
		}
	}
}

// AppendTo refuses what a length field cannot say.
func TestTooLarge(t *testing.T) {
	m := Message{Attrs: []Attr{{Type: AttrSoftware, Value: make([]byte, 70000)}}}
	if _, err := m.AppendTo(nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one big attribute: %v", err)
	}
	m = Message{Fingerprint: true}
	for i := 0; i < 3; i++ {
		m.Add(AttrSoftware, make([]byte, 30000))
	}
	if _, err := m.AppendTo(nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("many: %v", err)
	}
}

// ERROR-CODE (RFC 5389 §15.6) reads back; out-of-range classes do not.
func TestErrorCode(t *testing.T) {
	var m Message
	m.AddErrorCode(438, "Stale Nonce")
	if c, r, ok := m.ErrorCode(); c != 438 || r != "Stale Nonce" || !ok {
		t.Errorf("%d %q %v", c, r, ok)
	}
	m = Message{Attrs: []Attr{{Type: AttrErrorCode, Value: []byte{0, 0, 7, 0}}}}
	if _, _, ok := m.ErrorCode(); ok {
		t.Error("class 7 read")
	}
	if _, _, ok := (&Message{}).ErrorCode(); ok {
		t.Error("none read")
	}
}
