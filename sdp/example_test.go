package sdp_test

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/sdp"
)

func Example() {
	// An offer (RFC 4317 §2.4): two audio streams, the second one for
	// DTMF, send-only.
	offer, err := sdp.Parse([]byte("v=0\r\n" +
		"o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n" +
		"s=-\r\n" +
		"c=IN IP4 host.atlanta.example.com\r\n" +
		"t=0 0\r\n" +
		"m=audio 49170 RTP/AVP 0 97\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:97 iLBC/8000\r\n" +
		"m=audio 49172 RTP/AVP 98\r\n" +
		"a=rtpmap:98 telephone-event/8000\r\n" +
		"a=sendonly\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range offer.Media {
		m := &offer.Media[i]
		fmt.Println(m.Type, m.Port, m.Codecs(), m.Direction(offer))
	}

	// Bob supports iLBC and DTMF. The session id comes from the caller:
	// the package has no clock and no random source.
	answer, err := sdp.Answer(offer, sdp.Capabilities{
		Username: "bob", SessionID: 2808844564, SessionVersion: 2808844564,
		Address: "host.biloxi.example.com",
		Media: []sdp.MediaCapability{{Type: "audio", Port: 49172, Codecs: []sdp.Codec{
			{Name: "iLBC", ClockRate: 8000},
			{Name: "telephone-event", ClockRate: 8000},
		}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(answer.String(), "\r\n", "\n"))
	fmt.Println("valid:", sdp.Validate(offer, answer) == nil)

	// What the exchange set up, from Bob's side.
	for _, st := range sdp.Streams(answer, offer) {
		fmt.Println(st.Index, st.Host, st.Port, st.Codecs, st.Direction, st.Active)
	}

	// Output:
	// audio 49170 [PCMU/8000 iLBC/8000] sendrecv
	// audio 49172 [telephone-event/8000] sendonly
	// v=0
	// o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
	// s=-
	// c=IN IP4 host.biloxi.example.com
	// t=0 0
	// m=audio 49172 RTP/AVP 97
	// a=rtpmap:97 iLBC/8000
	// m=audio 49174 RTP/AVP 98
	// a=rtpmap:98 telephone-event/8000
	// a=recvonly
	// valid: true
	// 0 host.atlanta.example.com 49170 [iLBC/8000] sendrecv true
	// 1 host.atlanta.example.com 49172 [telephone-event/8000] recvonly true
}

func ExampleHold() {
	s, _ := sdp.Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	held := sdp.Hold(s)
	fmt.Println(held.Origin.SessionVersion, held.Media[0].Direction(held), held.Media[0].OnHold(held))
	resumed := sdp.Resume(held)
	fmt.Println(resumed.Origin.SessionVersion, resumed.Media[0].Direction(resumed))

	// What a user agent reports when the peer's answer to the hold comes.
	peer, _ := sdp.Parse([]byte("v=0\r\no=- 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"))
	peerHeld, _ := sdp.Parse([]byte("v=0\r\no=- 2 3 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n"))
	for _, c := range sdp.Compare(sdp.Streams(s, peer), sdp.Streams(held, peerHeld)) {
		fmt.Println(c)
	}
	// Output:
	// 2 sendonly true
	// 3 sendrecv
	// stream 0 (audio) modified: direction|hold
}

func ExampleParse_errors() {
	for _, s := range []string{
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nx=unknown\r\n",
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 192.0.2.1\r\n",
	} {
		_, err := sdp.Parse([]byte(s))
		fmt.Println(err)
	}
	// Output:
	// sdp: line 6 (x=): unknown line type: 'x'
	// sdp: line 3 (t=): mandatory line missing: s= must follow o=
	// sdp: line 5 (c=): line out of order: c= not allowed here
}
