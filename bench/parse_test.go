// Package bench compares sansip's message layer with emiago/sipgo on the
// same messages, in one run, so that the ratio holds whatever the machine.
package bench

import (
	"bytes"
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sansip/sansip/message"
)

func invite(b *testing.B) []byte {
	data, err := os.ReadFile("../testdata/bench/invite.sip")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

var (
	sinkStr string
	sinkU   uint32
	sinkB   []byte
)

// BenchmarkParse parses the reference INVITE and reads the top Via's
// branch, the CSeq, the Call-ID and the From tag.
func BenchmarkParse(b *testing.B) {
	data := invite(b)
	b.Run("lib=sansip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := message.Parse(data, nil)
			if err != nil {
				b.Fatal(err)
			}
			sinkStr = m.Branch()
			sinkU = m.CSeq().Seq
			sinkStr = m.CallID()
			sinkStr = m.FromTag()
		}
	})
	b.Run("lib=sipgo", func(b *testing.B) {
		p := sip.NewParser()
		b.ReportAllocs()
		for b.Loop() {
			msg, err := p.ParseSIP(data)
			if err != nil {
				b.Fatal(err)
			}
			req := msg.(*sip.Request)
			branch, _ := req.Via().Params.Get("branch")
			sinkStr = branch
			sinkU = req.CSeq().SeqNo
			sinkStr = req.CallID().Value()
			tag, _ := req.From().Params.Get("tag")
			sinkStr = tag
		}
	})
}

// BenchmarkParseRender parses the reference INVITE and renders it back.
func BenchmarkParseRender(b *testing.B) {
	data := invite(b)
	b.Run("lib=sansip", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			m, err := message.Parse(data, nil)
			if err != nil {
				b.Fatal(err)
			}
			buf = m.AppendTo(buf[:0])
		}
		sinkB = buf
	})
	b.Run("lib=sipgo", func(b *testing.B) {
		p := sip.NewParser()
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			msg, err := p.ParseSIP(data)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			msg.StringWrite(&buf)
		}
		sinkB = buf.Bytes()
	})
}

// BenchmarkParseReuse is BenchmarkParse for a driver that parses each
// datagram into one reused message (message.ParseInto); sipgo has no such
// mode, so its figure is the same as in BenchmarkParse.
func BenchmarkParseReuse(b *testing.B) {
	data := invite(b)
	b.Run("lib=sansip", func(b *testing.B) {
		b.ReportAllocs()
		var m message.Message
		for b.Loop() {
			if err := message.ParseInto(&m, data, nil); err != nil {
				b.Fatal(err)
			}
			sinkStr = m.Branch()
			sinkU = m.CSeq().Seq
			sinkStr = m.CallID()
			sinkStr = m.FromTag()
		}
	})
}

// BenchmarkParseRenderReuse is BenchmarkParseRender through one reused
// message (message.ParseInto).
func BenchmarkParseRenderReuse(b *testing.B) {
	data := invite(b)
	b.Run("lib=sansip", func(b *testing.B) {
		b.ReportAllocs()
		var m message.Message
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			if err := message.ParseInto(&m, data, nil); err != nil {
				b.Fatal(err)
			}
			buf = m.AppendTo(buf[:0])
		}
		sinkB = buf
	})
}
