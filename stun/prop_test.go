package stun

import (
	"net/netip"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// genMessage generates messages: any type with the top bits clear (RFC
// 7983's first byte 0-3 only below 0x400), any
// transaction id, up to 6 attributes (FINGERPRINT aside, which only the
// Fingerprint flag writes) of up to 40 bytes each, with or without a
// FINGERPRINT.
func genMessage() gopter.Gen {
	attr := gopter.CombineGens(gen.UInt16(), gen.SliceOfN(40, gen.UInt8()), gen.IntRange(0, 40)).Map(func(v []any) Attr {
		t := AttrType(v[0].(uint16))
		if t == AttrFingerprint {
			t = AttrSoftware
		}
		b := v[1].([]byte)
		return Attr{Type: t, Value: b[:v[2].(int)]}
	})
	return gopter.CombineGens(
		gen.UInt16Range(0, 0x3fff),
		gen.SliceOfN(12, gen.UInt8()),
		gen.SliceOfN(6, attr),
		gen.IntRange(0, 6),
		gen.Bool(),
	).Map(func(v []any) Message {
		m := Message{Type: Type(v[0].(uint16)), Fingerprint: v[4].(bool)}
		copy(m.TxID[:], v[1].([]byte))
		m.Attrs = v[2].([]Attr)[:v[3].(int)]
		if len(m.Attrs) == 0 {
			m.Attrs = nil
		}
		return m
	})
}

// RFC 5389 §6, §15: parse(render(m)) equals m for any message, and the
// rendering is padded to 4 bytes with the length the header says.
func TestPropRoundTrip(t *testing.T) {
	p := gopter.DefaultTestParameters()
	seed := int64(20260517)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	p.MinSuccessfulTests = 500
	props := gopter.NewProperties(p)
	props.Property("parse(render(m)) == m", prop.ForAll(func(m Message) string {
		b, err := m.AppendTo(nil)
		if err != nil {
			return err.Error()
		}
		if len(b)%4 != 0 || IsSTUN(b) != (m.Type < 0x400) {
			return "bad length or first byte"
		}
		got, err := Parse(b)
		if err != nil {
			return err.Error()
		}
		if got.Attrs == nil && m.Attrs == nil {
			got.Attrs = nil
		}
		if diff := cmp.Diff(m, got, cmp.Transformer("bytes", func(b []byte) string { return string(b) })); diff != "" {
			return diff
		}
		return ""
	}, genMessage()))
	props.Property("XOR-MAPPED-ADDRESS round-trips", prop.ForAll(func(ip []byte, port uint16, id []byte, v6 bool) string {
		var a netip.Addr
		if v6 {
			a = netip.AddrFrom16([16]byte(ip))
		} else {
			a = netip.AddrFrom4([4]byte(ip[:4]))
		}
		a = a.Unmap()
		src := netip.AddrPortFrom(a, port)
		var tx TransactionID
		copy(tx[:], id)
		resp, err := Parse(AppendBindingSuccess(nil, tx, src))
		if err != nil {
			return err.Error()
		}
		got, err := resp.XORMappedAddress()
		if err != nil || got != src || resp.TxID != tx {
			return "got " + got.String() + " want " + src.String()
		}
		return ""
	}, gen.SliceOfN(16, gen.UInt8()), gen.UInt16(), gen.SliceOfN(12, gen.UInt8()), gen.Bool()))
	props.TestingRun(t)
}
