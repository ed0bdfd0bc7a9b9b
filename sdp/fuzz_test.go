package sdp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzSeeds adds every description the tests use, in CRLF and in LF, and
// a few broken ones.
func fuzzSeeds(f *testing.F) {
	f.Helper()
	texts := []string{rfc8866Example, everyLine, webrtcOffer, webrtcAnswer, audioOffer}
	for _, x := range rfc4317Exchanges {
		for _, s := range x.sdp {
			texts = append(texts, rfc4317(s))
		}
	}
	for _, s := range texts {
		f.Add([]byte(crlf(strings.ReplaceAll(s, "\r\n", "\n"))))
		f.Add([]byte(strings.ReplaceAll(s, "\r\n", "\n")))
	}
	for _, s := range []string{
		"", "v=0", "v=0\r\no=", "v=0\r\no=- 1 1 IN IP4 x\r\ns=\r\nt=0 0\r\nm=audio 1/2 RTP/AVP 0\r\nc=IN IP4 233.252.0.1/3/2\r\n",
		"v=0\no=- 1 1 IN IP4 x\ns=-\nt=0 0\nr=1 2 3\nz=1 -1h\nk=prompt\na=x:\nm=a 0 b\ni=x\nc=IN X a b/c\nb=AS:1\nk=x\na=y\n",
		"v=0\no=- 1 1 IN IP4 x\ns=-\nt=0 0\nm=audio 0 RTP/AVP 96 97\na=rtpmap:96 telephone-event/8000\na=fmtp:96 0-15,66\na=rtpmap:97 rtx/8000\na=fmtp:97 apt=96\na=candidate:1 1 udp 1 x 1 typ host raddr y rport 2\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse: Parse never panics, and a description it accepts renders to
// one that parses into the same session, whose rendering is a fixpoint.
// The accessors never panic on it either.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		out := s.Marshal()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("render of an accepted description does not parse: %v\n%q\nfrom\n%q", err, out, data)
		}
		if d := cmp.Diff(s, s2); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
		if !bytes.Equal(out, s2.Marshal()) {
			t.Fatal("render is not a fixpoint")
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		for i := range s.Media {
			m := &s.Media[i]
			_ = m.Codecs()
			_ = m.Candidates()
			_, _, _ = m.Fingerprint(s)
			_ = m.ICEUfrag(s) + m.ICEPwd(s) + m.Setup(s) + m.MID()
			_ = m.OnHold(s)
			_ = m.RTCPMux()
		}
		_ = s.BundleGroups()
		st := Streams(s, s)
		_ = Compare(st, Streams(nil, s))
		if err := Hold(s).Check(); err != nil {
			t.Fatalf("Hold: %v", err)
		}
		if err := Resume(s).Check(); err != nil {
			t.Fatalf("Resume: %v", err)
		}
	})
}

// fuzzCaps are fixed capabilities with a bit of everything: plain and
// secure RTP audio with DTMF, WebRTC video with RTX, H.264 in one mode,
// a data channel, T.38, BUNDLE, session attributes.
func fuzzCaps() Capabilities {
	return Capabilities{
		Username: "fuzz", SessionID: 1, SessionVersion: 1, Address: "192.0.2.99", Bundle: true,
		Attributes: Attributes{{Name: "ice-ufrag", Value: "abcd", HasValue: true}, {Name: "ice-lite"}},
		Media: []MediaCapability{
			{Type: "audio", Protos: []string{"RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF"}, Port: 10000, RTCPMux: true,
				Codecs: []Codec{pcmu, pcma, {Name: "opus", ClockRate: 48000, Channels: 2}, {Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"}}},
			{Type: "video", Protos: []string{"RTP/AVP", "UDP/TLS/RTP/SAVPF"}, Port: 20000, Direction: RecvOnly,
				Codecs: []Codec{{Name: "VP8", ClockRate: 90000}, {Name: "rtx", ClockRate: 90000}, {Name: "H264", ClockRate: 90000, Fmtp: "packetization-mode=1"}}},
			{Type: "application", Protos: []string{"UDP/DTLS/SCTP"}, Port: 30000, Formats: []string{"webrtc-datachannel"}},
			{Type: "image", Protos: []string{"udptl"}, Port: 40000, Formats: []string{"t38"}},
		},
	}
}

// FuzzAnswer: for any description Parse accepts, taken as an offer, Answer
// with fixed capabilities never panics and, when it succeeds, gives an
// answer Validate accepts.
func FuzzAnswer(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		offer, err := Parse(data)
		if err != nil {
			return
		}
		caps := fuzzCaps()
		a, err := Answer(offer, caps)
		if err != nil {
			return
		}
		if err := Validate(offer, a); err != nil {
			t.Fatalf("%v\noffer:\n%s\nanswer:\n%s", err, offer, a)
		}
		caps.Previous = a
		again, err := Answer(offer, caps)
		if err != nil || again.Origin != a.Origin {
			t.Fatalf("the same answer again: %v, origin %+v, was %+v", err, again.Origin, a.Origin)
		}
		_ = Compare(Streams(a, offer), Streams(offer, a))
	})
}
