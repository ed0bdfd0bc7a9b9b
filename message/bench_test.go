package message

import (
	"os"
	"testing"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/uri"
)

func loadInvite(b *testing.B) []byte {
	data, err := os.ReadFile("../testdata/bench/invite.sip")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

var sinkStr string
var sinkInt uint32

// BenchmarkParseInvite parses the reference INVITE and reads what a
// transaction layer needs: the top Via's branch, CSeq, Call-ID, From tag.
func BenchmarkParseInvite(b *testing.B) {
	data := loadInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(data, nil)
		if err != nil {
			b.Fatal(err)
		}
		sinkStr = m.Branch()
		sinkInt = m.CSeq().Seq
		sinkStr = m.CallID()
		sinkStr = m.FromTag()
	}
}

// BenchmarkParseRenderInvite parses the reference INVITE and renders it.
func BenchmarkParseRenderInvite(b *testing.B) {
	data := loadInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		m, err := Parse(data, nil)
		if err != nil {
			b.Fatal(err)
		}
		buf = m.AppendTo(buf[:0])
	}
}

// BenchmarkParseIntoInvite is BenchmarkParseInvite with one Message reused
// for every parse, as a stateless driver would.
func BenchmarkParseIntoInvite(b *testing.B) {
	data := loadInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m Message
	for b.Loop() {
		if err := ParseInto(&m, data, nil); err != nil {
			b.Fatal(err)
		}
		sinkStr = m.Branch()
		sinkInt = m.CSeq().Seq
		sinkStr = m.CallID()
		sinkStr = m.FromTag()
	}
}

// BenchmarkForwardInvite is what a stateless proxy does per request:
// parse into a reused message, add a Via, decrement Max-Forwards, add a
// Record-Route and render.
func BenchmarkForwardInvite(b *testing.B) {
	data := loadInvite(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m Message
	buf := make([]byte, 0, 2048)
	via := header.Via{Transport: "UDP", Host: "proxy.example.org", Params: ";branch=z9hG4bKnashds8"}
	rr := header.RecordRoute{URI: uri.URI{Scheme: uri.SIP, Host: "proxy.example.org", Params: ";lr"}}
	for b.Loop() {
		if err := ParseInto(&m, data, nil); err != nil {
			b.Fatal(err)
		}
		if err := m.PrependVia(via); err != nil {
			b.Fatal(err)
		}
		if _, err := m.DecrementMaxForwards(); err != nil {
			b.Fatal(err)
		}
		if err := m.PrependRecordRoute(rr); err != nil {
			b.Fatal(err)
		}
		buf = m.AppendTo(buf[:0])
	}
}

// BenchmarkNewRequest builds an INVITE as a UA does: Via, Max-Forwards,
// To, From, Call-ID, CSeq, Contact, Supported, Allow, a body (§8.1.1).
func BenchmarkNewRequest(b *testing.B) {
	ruri := mustParseURI(b, "sip:bob@biloxi.example.com")
	contact := header.Contact{URI: mustParseURI(b, "sip:alice@pc33.atlanta.example.com")}
	o := RequestOptions{
		From:        header.From{URI: mustParseURI(b, "sip:alice@atlanta.example.com"), Params: ";tag=1928301774"},
		CallID:      "a84b4c76e66710@pc33.atlanta.example.com",
		CSeq:        314159,
		Via:         header.Via{Transport: "UDP", Host: "pc33.atlanta.example.com", Params: ";branch=z9hG4bK776asdhds"},
		Contact:     &contact,
		Supported:   []string{"100rel", "timer"},
		Allow:       []string{"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "PRACK"},
		ContentType: "application/sdp",
		Body:        []byte("v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"),
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := NewRequest("INVITE", ruri, o); err != nil {
			b.Fatal(err)
		}
	}
}

func mustParseURI(b *testing.B, s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return u
}
