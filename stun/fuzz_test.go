package stun

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzParse: any datagram parses without panic; a message that parses is
// written back to bytes that parse to the same message, and the server's
// answer to it, if any, parses too.
func FuzzParse(f *testing.F) {
	for _, v := range []string{rfc5769Request, rfc5769IPv4, rfc5769IPv6} {
		f.Add(unhex(f, v))
	}
	f.Add(AppendBindingRequest(nil, TransactionID{1}))
	f.Add(AppendBindingSuccess(nil, TransactionID{2}, netip.MustParseAddrPort("[2001:db8::1]:5060")))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte{0, 1, 0, 0})
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if IsSTUN(data) != (m.Type < 0x400) {
			t.Fatalf("type %v, but IsSTUN is %v", m.Type, IsSTUN(data))
		}
		for _, a := range m.Attrs {
			if len(a.Value) > len(data) {
				t.Fatal("attribute longer than the input")
			}
		}
		m.ReflexiveAddress()
		m.ErrorCode()
		m.UnknownAttributes()
		b, err := m.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("written again, does not parse: %v", err)
		}
		if again.Type != m.Type || again.TxID != m.TxID || again.Fingerprint != m.Fingerprint || len(again.Attrs) != len(m.Attrs) {
			t.Fatalf("written again, differs: %+v, %+v", m, again)
		}
		for i := range m.Attrs {
			if again.Attrs[i].Type != m.Attrs[i].Type || !bytes.Equal(again.Attrs[i].Value, m.Attrs[i].Value) {
				t.Fatalf("attribute %d differs", i)
			}
		}
		if out, ok := AppendResponse(nil, &m, src); ok {
			if _, err := Parse(out); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
		}
	})
}
