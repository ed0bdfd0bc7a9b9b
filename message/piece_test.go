package message

import (
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
	"testing"
)

func BenchmarkPieceScan(b *testing.B) {
	data := string(loadInvite(b))
	var f [20]parser.Field
	b.ReportAllocs()
	for b.Loop() {
		parser.Scan(data, parser.Datagram, nil, f[:0])
	}
}
func BenchmarkPieceCheck(b *testing.B) {
	data := string(loadInvite(b))
	m, _ := ParseString(data, nil)
	b.ReportAllocs()
	for b.Loop() {
		m.loaded = false
		m.check()
	}
}
func BenchmarkPieceVia(b *testing.B) {
	var v header.Via
	for b.Loop() {
		v.Parse("SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport")
	}
}
func BenchmarkPieceTo(b *testing.B) {
	var v header.To
	for b.Loop() {
		v.Parse(`"Bob" <sip:bob@biloxi.example.com>`)
	}
}
func BenchmarkPieceFrom(b *testing.B) {
	var v header.From
	for b.Loop() {
		v.Parse(`"Alice" <sip:alice@atlanta.example.com>;tag=1928301774`)
	}
}
func BenchmarkPieceURI(b *testing.B) {
	for b.Loop() {
		uri.Parse("sip:bob@biloxi.example.com")
	}
}
func BenchmarkPieceLookup(b *testing.B) {
	for b.Loop() {
		header.Lookup("Content-Length")
		header.Lookup("Via")
		header.Lookup("To")
	}
}
func BenchmarkPieceAlloc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m := new(Message)
		_ = m
	}
}

var sinkM *Message
var sinkS string

func BenchmarkPieceAllocEsc(b *testing.B) {
	data := loadInvite(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkM = new(Message)
		sinkS = string(data)
	}
}
func BenchmarkPieceAllocMsg(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkM = new(Message)
	}
}
func BenchmarkPieceAllocStr(b *testing.B) {
	data := loadInvite(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkS = string(data)
	}
}
