package sdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The offer/answer examples of RFC 4317 ("SDP Offer/Answer Examples"),
// every section, transcribed from the RFC text. RFC 4317 §1: "Note that the
// subject line (s=) contains a single space character"; the texts below
// write "s=" and rfc4317 puts the space back, so that no editor strips it.

// rfc4317 turns a transcribed description into the RFC's bytes: the space of
// "s= " and CRLF line ends.
func rfc4317(s string) string {
	return crlf(strings.ReplaceAll(s, "\ns=\n", "\ns= \n"))
}

// rfc4317Exchange is one section: an offer and its answer, and in most
// sections a second offer and answer. secondBy says who makes the second
// offer.
type rfc4317Exchange struct {
	section, title string
	sdp            []string // offer, answer[, second offer, second answer]
	secondBy       string   // "alice" or "bob"
}

// The answerers' capabilities per section, for reproducing the RFC's
// answers with Answer: one for the first answer, one for the second.
func bobCaps(m ...MediaCapability) Capabilities {
	return Capabilities{Username: "bob", SessionID: 2808844564, SessionVersion: 2808844564,
		Address: "host.biloxi.example.com", SessionName: " ", Media: m}
}

func aliceCaps(m ...MediaCapability) Capabilities {
	return Capabilities{Username: "alice", SessionID: 2890844526, SessionVersion: 2890844526,
		Address: "host.atlanta.example.com", SessionName: " ", Media: m}
}

var (
	pcmu    = Codec{Name: "PCMU", ClockRate: 8000}
	pcma    = Codec{Name: "PCMA", ClockRate: 8000}
	ilbc    = Codec{Payload: 97, Name: "iLBC", ClockRate: 8000}
	tevent  = Codec{Payload: 101, Name: "telephone-event", ClockRate: 8000}
	h261    = Codec{Name: "H261", ClockRate: 90000}
	mpv     = Codec{Name: "MPV", ClockRate: 90000}
	audioAt = func(port int, c ...Codec) MediaCapability {
		return MediaCapability{Type: "audio", Port: port, Codecs: c}
	}
	videoAt = func(port int, c ...Codec) MediaCapability {
		return MediaCapability{Type: "video", Port: port, Codecs: c}
	}
)

var rfc4317Exchanges = []rfc4317Exchange{
	{section: "2.1", title: "Audio and Video 1", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49170 RTP/AVP 32
a=rtpmap:32 MPV/90000
`}},
	{section: "2.2", title: "Audio and Video 2", secondBy: "alice", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 51372 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
`}},
	{section: "2.3", title: "Audio and Video 3", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51374 RTP/AVP 31
a=rtpmap:31 H261/90000
`}},
	{section: "2.4", title: "Two Audio Streams", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
m=audio 49172 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=sendonly
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=audio 49174 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=recvonly
`}},
	{section: "2.5", title: "Audio and Video 4", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 49170 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 newhost.biloxi.example.com
t=0 0
m=audio 49178 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 49188 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
`}},
	{section: "2.6", title: "Audio Only 1", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=audio 51372 RTP/AVP 97 101
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 0 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=audio 49170 RTP/AVP 97 101
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
`}},
	{section: "2.7", title: "Audio and Video 5", secondBy: "alice", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51374 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51374 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`}},
	{section: "2.8", title: "Audio and Video 6", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49172 RTP/AVP 32
c=IN IP4 otherhost.biloxi.example.com
a=rtpmap:32 MPV/90000
`}},
	{section: "3.1", title: "Hold and Unhold 1", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 placeholder.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
a=sendonly
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49178 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`}},
	{section: "3.2", title: "Hold with Two Streams", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
m=audio 49172 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=sendonly
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=audio 49174 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=recvonly
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
a=sendonly
m=audio 49174 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=recvonly
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
m=audio 49172 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=sendonly
`}},
	{section: "4.1", title: "Second Audio Stream Added", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=audio 48282 RTP/AVP 98
c=IN IP4 mediaserver.biloxi.example.com
a=rtpmap:98 telephone-event/8000
a=recvonly
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=audio 49172 RTP/AVP 98
c=IN IP4 host.atlanta.example.com
a=rtpmap:98 telephone-event/8000
a=sendonly
`}},
	{section: "4.2", title: "Audio, then Video Added", secondBy: "alice", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49172 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49168 RTP/AVP 31
a=rtpmap:31 H261/90000
`}},
	{section: "4.3", title: "Audio and Video, Then Video Deleted", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 49170 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
`}},
	{section: "5.1", title: "No Media, Then Audio Added", secondBy: "alice", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`}},
	{section: "5.2", title: "Hold and Unhold 2", secondBy: "alice", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 0.0.0.0
t=0 0
m=audio 23442 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`}},
	{section: "5.3", title: "Hold and Unhold 3", secondBy: "bob", sdp: []string{`v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 0.0.0.0
t=0 0
m=audio 9322 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`, `v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
`}},
}

// parsed parses every description of an exchange.
func (x rfc4317Exchange) parsed(t *testing.T) []*Session {
	t.Helper()
	var out []*Session
	for i, text := range x.sdp {
		s, err := Parse([]byte(rfc4317(text)))
		if err != nil {
			t.Fatalf("RFC 4317 §%s description %d: %v", x.section, i, err)
		}
		out = append(out, s)
	}
	return out
}

// TestRFC4317RoundTrip: every description of RFC 4317 parses and renders
// back byte for byte.
func TestRFC4317RoundTrip(t *testing.T) {
	for _, x := range rfc4317Exchanges {
		for i, s := range x.parsed(t) {
			if got, want := string(s.Marshal()), rfc4317(x.sdp[i]); got != want {
				t.Errorf("RFC 4317 §%s description %d renders\n%s\nwant\n%s", x.section, i, got, want)
			}
		}
	}
}

// TestRFC4317Validate: every answer of RFC 4317 is a valid answer to its
// offer, except the second answer of §3.2.
func TestRFC4317Validate(t *testing.T) {
	for _, x := range rfc4317Exchanges {
		s := x.parsed(t)
		for i := 0; i+1 < len(s); i += 2 {
			err := Validate(s[i], s[i+1])
			if x.section == "3.2" && i == 2 {
				// Alice "responds with identical SDP to the initial
				// offer": PCMU, which Bob's second offer no longer
				// lists, and sendrecv to a sendonly stream. RFC 3264
				// §6.1 forbids both ("If a stream is offered as
				// sendonly, the corresponding stream MUST be marked as
				// recvonly or inactive in the answer").
				if !errors.Is(err, ErrCodec) {
					t.Errorf("RFC 4317 §3.2 second answer: %v, want ErrCodec", err)
				}
				fixed := s[i+1].Clone()
				fixed.Media[0].Formats = []string{"97"}
				fixed.Media[0].DelAttr("rtpmap")
				fixed.Media[0].AddAttr("rtpmap", "97 iLBC/8000")
				if err := Validate(s[i], fixed); !errors.Is(err, ErrDirection) {
					t.Errorf("RFC 4317 §3.2 second answer without PCMU: %v, want ErrDirection", err)
				}
				continue
			}
			if err != nil {
				t.Errorf("RFC 4317 §%s exchange %d: %v", x.section, i/2+1, err)
			}
		}
	}
}

// rfc4317Answers are the capabilities with which Answer reproduces each
// answer of RFC 4317 byte for byte. The second answer is built with the
// answerer's previous description as Capabilities.Previous.
var rfc4317Answers = map[string][2]Capabilities{
	// Bob supports only PCMU and MPV.
	"2.1": {bobCaps(audioAt(49174, pcmu), videoAt(49170, mpv))},
	// Bob supports PCMU and PCMA, and no video.
	"2.2": {bobCaps(audioAt(49172, pcmu, pcma)), bobCaps(audioAt(49172, pcmu, pcma))},
	// Bob supports iLBC and telephone-event; the second stream is his
	// second audio stream, on the next port.
	"2.4": {bobCaps(audioAt(49172, ilbc, tevent))},
	// Alice's second answer is her first description, so its version
	// does not change (§2.5: "does not increment the version number").
	"2.5": {bobCaps(audioAt(49174, ilbc), videoAt(49170, h261)), aliceCaps(audioAt(49170, ilbc), videoAt(51372, h261))},
	// Bob does not support PCMU: the first stream is refused.
	"2.6": {bobCaps(audioAt(49170, ilbc, tevent))},
	"2.7": {bobCaps(audioAt(49172, ilbc), videoAt(51374, h261, mpv)), bobCaps(audioAt(49172, ilbc), videoAt(51374, h261, mpv))},
	// Video goes to another host: a media-level c= line.
	"2.8": {bobCaps(audioAt(49174, pcmu), func() MediaCapability {
		v := videoAt(49172, mpv)
		v.Address = "otherhost.biloxi.example.com"
		return v
	}())},
	// Bob answers on hold, from a placeholder address.
	"3.1": {func() Capabilities {
		c := bobCaps(audioAt(49172, ilbc))
		c.Address, c.OriginAddress, c.Direction = "placeholder.biloxi.example.com", "host.biloxi.example.com", SendOnly
		return c
	}(), func() Capabilities {
		// Alice "changes port number in the second exchange".
		c := aliceCaps(audioAt(0, pcmu, ilbc))
		c.Port = func(int, *Media) int { return 49178 }
		return c
	}()},
	"3.2": {bobCaps(audioAt(49172, ilbc, tevent))},
	// Alice answers the added DTMF stream from a second capability with
	// its own (media-level) address.
	"4.1": {bobCaps(audioAt(49170, ilbc)), aliceCaps(audioAt(49170, ilbc), MediaCapability{
		Type: "audio", Port: 49172, Codecs: []Codec{tevent}, Address: "host.atlanta.example.com"})},
	"4.2": {bobCaps(audioAt(49172, pcmu)), bobCaps(audioAt(49172, pcmu), videoAt(49168, h261))},
	"4.3": {bobCaps(audioAt(49174, ilbc), videoAt(49170, h261)), aliceCaps(audioAt(49170, ilbc), videoAt(51372, h261))},
	"5.1": {bobCaps(), bobCaps(audioAt(49172, ilbc))},
	// Bob's second answer is unchanged, and so is its version.
	"5.2": {bobCaps(audioAt(49170, ilbc)), bobCaps(audioAt(49170, ilbc))},
	// Bob answers with the black-hole address of RFC 2543.
	"5.3": {func() Capabilities {
		c := bobCaps(audioAt(9322, ilbc))
		c.Address, c.OriginAddress = "0.0.0.0", "host.biloxi.example.com"
		return c
	}(), aliceCaps(audioAt(49170, ilbc))},
}

func TestRFC4317Answers(t *testing.T) {
	for _, x := range rfc4317Exchanges {
		caps, ok := rfc4317Answers[x.section]
		if !ok {
			continue
		}
		s := x.parsed(t)
		for ex := 0; ex < 2 && 2*ex+1 < len(s); ex++ {
			local := caps[ex]
			if local.Address == "" {
				continue // §3.2's second answer: see TestRFC4317Validate
			}
			if ex == 1 {
				// The answerer's previous description: its answer if
				// the offerer offers again, else its offer.
				if x.secondBy == "alice" {
					local.Previous = s[1]
				} else {
					local.Previous = s[0]
				}
			}
			offer, want := s[2*ex], rfc4317(x.sdp[2*ex+1])
			a, err := Answer(offer, local)
			if err != nil {
				t.Errorf("RFC 4317 §%s answer %d: %v", x.section, ex+1, err)
				continue
			}
			if got := string(a.Marshal()); got != want {
				t.Errorf("RFC 4317 §%s (%s) answer %d:\n%s\nwant\n%s", x.section, x.title, ex+1, got, want)
			}
			if err := Validate(offer, a); err != nil {
				t.Errorf("RFC 4317 §%s answer %d: %v", x.section, ex+1, err)
			}
		}
	}
}

// TestRFC4317DynamicPayload: §2.3's Bob answers iLBC with his own payload
// type 99, which RFC 3264 §6.1 allows but advises against; Answer keeps the
// offerer's 97 and is otherwise the RFC's answer.
func TestRFC4317DynamicPayload(t *testing.T) {
	s := rfc4317Exchanges[2].parsed(t)
	a, err := Answer(s[0], bobCaps(audioAt(49172, ilbc), videoAt(51374, h261)))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(rfc4317(rfc4317Exchanges[2].sdp[1]), "99", "97")
	if got := string(a.Marshal()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Both answers select the same codecs.
	if d := cmp.Diff(names(s[1].Media[0].Codecs()), names(a.Media[0].Codecs())); d != "" {
		t.Error(d)
	}
}

func names(cs []Codec) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// TestRFC4317Offers: the second offers that are a hold, a resume or a new
// address come out of Hold, Offer and NextVersion byte for byte.
func TestRFC4317Offers(t *testing.T) {
	// §3.2: Bob puts Alice's audio stream on hold, not the tone stream.
	x := rfc4317Exchanges[9].parsed(t)
	if got, want := string(Hold(x[1], 0).Marshal()), rfc4317(rfc4317Exchanges[9].sdp[2]); got != want {
		t.Errorf("§3.2 hold:\n%s\nwant\n%s", got, want)
	}
	// §2.5: Bob moves his media to a new host.
	x = rfc4317Exchanges[4].parsed(t)
	ports := map[int]int{0: 49178, 1: 49188}
	c := bobCaps(audioAt(0, ilbc), videoAt(0, h261))
	c.Address, c.Previous = "newhost.biloxi.example.com", x[1]
	c.Port = func(i int, _ *Media) int { return ports[i] }
	o, err := Offer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(o.Marshal()), rfc4317(rfc4317Exchanges[4].sdp[2]); got != want {
		t.Errorf("§2.5 new address:\n%s\nwant\n%s", got, want)
	}
	// §3.1: Bob takes Alice off hold from his real address.
	x = rfc4317Exchanges[8].parsed(t)
	c = bobCaps(audioAt(0, ilbc))
	c.Previous = x[1]
	c.Port = func(int, *Media) int { return 49170 }
	o, err = Offer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(o.Marshal()), rfc4317(rfc4317Exchanges[8].sdp[2]); got != want {
		t.Errorf("§3.1 resume:\n%s\nwant\n%s", got, want)
	}
	// §2.2: Alice's second offer narrows audio to PCMU; the first offer
	// made by Offer is the RFC's.
	c = aliceCaps(audioAt(49170, pcmu, pcma, ilbc), videoAt(51372, h261, mpv))
	o, err = Offer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(o.Marshal()), rfc4317(rfc4317Exchanges[1].sdp[0]); got != want {
		t.Errorf("§2.2 offer:\n%s\nwant\n%s", got, want)
	}
}
