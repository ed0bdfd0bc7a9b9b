package location_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

func codecBinding(t *testing.T) location.Binding {
	t.Helper()
	aor, err := uri.Parse("sip:alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c, err := header.ParseValue[header.Contact](`"Alice" <sip:alice@192.0.2.4:5070;transport=tcp;ob>;q=0.5;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=2`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := header.ParseValue[header.Path]("<sip:tok3n@127.0.0.1:5071;lr;ob>")
	if err != nil {
		t.Fatal(err)
	}
	return location.Binding{
		AOR: aor, Contact: c, Q: 500, Expires: 1_800_000_000_000_000_000, Updated: 1_799_999_000_000_000_000,
		CallID: "c1@host", CSeq: 7, Path: []header.Path{p}, Instance: "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
		RegID: 2, Flow: effects.Peer{Addr: netip.MustParseAddrPort("[2001:db8::1]:40000"), Transport: effects.TLS, Conn: 99},
		FlowToken: "ft",
	}
}

// TestCodecRoundTrip: every field a REGISTER set (RFC 3261 §10.3 step 7,
// RFC 3327 Path, RFC 5626 instance, reg-id and flow) survives the store.
func TestCodecRoundTrip(t *testing.T) {
	b := codecBinding(t)
	data, err := location.Marshal([]location.Binding{b, {AOR: b.AOR, Contact: header.Contact{URI: b.Contact.URI}, Q: 1000, CallID: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := location.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d bindings", len(got))
	}
	g := got[0]
	if !uri.Equal(g.AOR, b.AOR) || g.Q != b.Q || g.Expires != b.Expires || g.Updated != b.Updated || g.CallID != b.CallID ||
		g.CSeq != b.CSeq || g.Instance != b.Instance || g.RegID != b.RegID || g.Flow != b.Flow || g.FlowToken != b.FlowToken {
		t.Errorf("got %+v\nwant %+v", g, b)
	}
	if !g.Outbound() || string(g.Contact.AppendTo(nil)) != string(b.Contact.AppendTo(nil)) {
		t.Errorf("contact %s, outbound %v", g.Contact.AppendTo(nil), g.Outbound())
	}
	if len(g.Path) != 1 || g.Path[0].URI.User != "tok3n" || !g.Path[0].URI.Params.Has("ob") {
		t.Errorf("path %v", g.Path)
	}
	if got[1].Flow.Addr.IsValid() || len(got[1].Path) != 0 {
		t.Errorf("second binding %+v", got[1])
	}
	again, err := location.Marshal(got)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("re-encoded differently:\n%s\n%s", again, data)
	}
}

// TestCodecErrors: stored bytes that are not a binding are an error
// wrapping ErrEncoding, never a binding with holes.
func TestCodecErrors(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"not json", "{"},
		{"not an array", `{"v":1}`},
		{"version", `[{"v":2,"aor":"sip:a@b","contact":"<sip:a@c>"}]`},
		{"aor", `[{"v":1,"aor":"tel:+1","contact":"<sip:a@c>"}]`},
		{"contact", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c"}]`},
		{"star", `[{"v":1,"aor":"sip:a@b","contact":"*"}]`},
		{"q", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>","q":1001}]`},
		{"path", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>","path":["<"]}]`},
		{"flow transport", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>","flow":"FOO:1.2.3.4:5"}]`},
		{"flow addr", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>","flow":"TCP:1.2.3.4"}]`},
		{"flow conn", `[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>","flow":"TCP:1.2.3.4:5#x"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := location.Unmarshal([]byte(tc.data))
			if !errors.Is(err, location.ErrEncoding) {
				t.Fatalf("err = %v, want ErrEncoding", err)
			}
		})
	}
}

// FuzzUnmarshal: any stored bytes decode without panic, and what decodes
// encodes to bytes that decode to the same encoding.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`[{"v":1,"aor":"sip:a@b","contact":"<sip:a@c>;q=0.1","q":100,"flow":"TCP:1.2.3.4:5#6","path":["<sip:x@y;lr>"]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := location.Unmarshal(data)
		if err != nil {
			return
		}
		enc, err := location.Marshal(bs)
		if err != nil {
			t.Fatal(err)
		}
		bs2, err := location.Unmarshal(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		enc2, err := location.Marshal(bs2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
	})
}
