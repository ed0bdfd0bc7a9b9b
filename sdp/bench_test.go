package sdp

import "testing"

// typicalAudio is a 10-line audio offer as a SIP phone sends it.
var typicalAudio = []byte("v=0\r\n" +
	"o=- 3724394400 3724394400 IN IP4 192.0.2.10\r\n" +
	"s=-\r\n" +
	"c=IN IP4 192.0.2.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0 8 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\n")

var sinkSession *Session

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalAudio)))
	for b.Loop() {
		s, err := Parse(typicalAudio)
		if err != nil {
			b.Fatal(err)
		}
		sinkSession = s
	}
}

func BenchmarkParseWebRTC(b *testing.B) {
	data := []byte(crlf(webrtcOffer))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		sinkSession = s
	}
}

func BenchmarkMarshal(b *testing.B) {
	s, _ := Parse(typicalAudio)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.AppendTo(buf[:0])
	}
}

func BenchmarkAnswer(b *testing.B) {
	offer, _ := Parse(typicalAudio)
	caps := phone(0)
	b.ReportAllocs()
	for b.Loop() {
		a, err := Answer(offer, caps)
		if err != nil {
			b.Fatal(err)
		}
		sinkSession = a
	}
}

func BenchmarkStreamsCompare(b *testing.B) {
	offer, _ := Parse(typicalAudio)
	a, _ := Answer(offer, phone(0))
	held, _ := Answer(Hold(offer), phone(0))
	old := Streams(offer, a)
	b.ReportAllocs()
	for b.Loop() {
		_ = Compare(old, Streams(Hold(offer), held))
	}
}
