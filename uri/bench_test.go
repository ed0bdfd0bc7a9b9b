package uri

import "testing"

var sinkURI URI

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, err := Parse("sip:bob@biloxi.example.com;transport=tcp")
		if err != nil {
			b.Fatal(err)
		}
		sinkURI = u
	}
}

func BenchmarkParseComplex(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, err := Parse("sips:alice:secret@[2001:db8::10]:5061;transport=tls;lr;maddr=192.0.2.1?subject=project%20x&priority=urgent")
		if err != nil {
			b.Fatal(err)
		}
		sinkURI = u
	}
}

func BenchmarkParseTel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, err := Parse("tel:863-1234;phone-context=+1-914-555")
		if err != nil {
			b.Fatal(err)
		}
		sinkURI = u
	}
}

func BenchmarkString(b *testing.B) {
	u, _ := Parse("sip:bob@biloxi.example.com:5060;transport=tcp")
	b.ReportAllocs()
	for b.Loop() {
		_ = u.String()
	}
}

func BenchmarkEqual(b *testing.B) {
	x, _ := Parse("sip:%61lice@atlanta.com;transport=TCP;lr?subject=project%20x&priority=urgent")
	y, _ := Parse("sip:alice@AtLanTa.CoM;Transport=tcp?priority=urgent&subject=project%20x")
	b.ReportAllocs()
	for b.Loop() {
		if !Equal(x, y) {
			b.Fatal("not equal")
		}
	}
}
