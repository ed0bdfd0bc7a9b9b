package message

import (
	"os"
	"testing"
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
