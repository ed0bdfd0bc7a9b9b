package sdp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// webrtcOffer is shaped like a browser's offer (JSEP, RFC 8829): one BUNDLE
// group, ICE (RFC 8839) with trickle and candidates of every type, DTLS-SRTP
// (RFC 5763, RFC 8122), rtcp-mux (RFC 5761), header extensions (RFC 8285),
// RTX (RFC 4588), RED, SSRC attributes (RFC 5576) and a data channel
// (RFC 8841). Addresses are documentation addresses (RFC 5737).
const webrtcOffer = `v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS stream0
m=audio 54400 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 203.0.113.7
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1467250027 1 udp 2122260223 192.0.2.10 54400 typ host generation 0 network-id 1
a=candidate:435653019 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 network-id 1
a=candidate:1853887674 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 192.0.2.10 rport 54400 generation 0
a=candidate:2157334355 1 udp 41885439 198.51.100.3 3478 typ relay raddr 203.0.113.7 rport 54400
a=candidate:3 1 UDP 2130706431 4a9b6c1e-1f2b-4c5d-9e8f-0a1b2c3d4e5f.local 54401 typ host
a=end-of-candidates
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:stream0 audio0
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:4TOk42mSjXCkVIa6
a=ssrc:3735928559 msid:stream0 audio0
m=video 54400 UDP/TLS/RTP/SAVPF 96 97 102 103
c=IN IP4 203.0.113.7
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:stream0 video0
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 2231627014 632943048
a=ssrc:2231627014 cname:4TOk42mSjXCkVIa6
a=ssrc:632943048 cname:4TOk42mSjXCkVIa6
m=application 54400 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 203.0.113.7
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
`

const webrtcFingerprint = "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F"

func TestWebRTCOffer(t *testing.T) {
	s, err := Parse([]byte(crlf(webrtcOffer)))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Marshal()); got != crlf(webrtcOffer) {
		t.Errorf("render:\n%s", got)
	}
	if d := cmp.Diff([][]string{{"0", "1", "2"}}, s.BundleGroups()); d != "" {
		t.Errorf("BUNDLE (RFC 8843 §7.1): %s", d)
	}
	if v, _ := s.Attr("msid-semantic"); v != " WMS stream0" {
		t.Errorf("msid-semantic %q", v)
	}
	for i := range s.Media {
		m := &s.Media[i]
		if m.ICEUfrag(s) != "EsAw" || m.ICEPwd(s) != "bP+XJMM09aR8AiX1jdukzR6Y" {
			t.Errorf("media %d ICE credentials %q %q", i, m.ICEUfrag(s), m.ICEPwd(s))
		}
		if d := cmp.Diff([]string{"trickle"}, m.ICEOptions(s)); d != "" {
			t.Errorf("media %d ice-options: %s", i, d)
		}
		if h, v, ok := m.Fingerprint(s); !ok || h != "sha-256" || v != webrtcFingerprint {
			t.Errorf("media %d fingerprint %q %q %v", i, h, v, ok)
		}
		if m.Setup(s) != "actpass" || m.MID() != string(rune('0'+i)) {
			t.Errorf("media %d setup %q mid %q", i, m.Setup(s), m.MID())
		}
		if m.RTCPMux() != (i < 2) {
			t.Errorf("media %d rtcp-mux %v", i, m.RTCPMux())
		}
		if mm, ok := s.MediaByMID(m.MID()); !ok || mm != m {
			t.Errorf("MediaByMID(%q)", m.MID())
		}
	}
	audio := &s.Media[0]
	if !audio.EndOfCandidates(s) || s.Media[1].EndOfCandidates(s) {
		t.Error("end-of-candidates")
	}
	wantCands := []Candidate{
		{Foundation: "1467250027", Component: 1, Transport: "udp", Priority: 2122260223, Address: "192.0.2.10", Port: 54400, Type: "host",
			Extensions: []Extension{{"generation", "0"}, {"network-id", "1"}}},
		{Foundation: "435653019", Component: 1, Transport: "tcp", Priority: 1518280447, Address: "192.0.2.10", Port: 9, Type: "host",
			Extensions: []Extension{{"tcptype", "active"}, {"generation", "0"}, {"network-id", "1"}}},
		{Foundation: "1853887674", Component: 1, Transport: "udp", Priority: 1686052607, Address: "203.0.113.7", Port: 54400, Type: "srflx",
			RelAddr: "192.0.2.10", RelPort: 54400, HasRelPort: true, Extensions: []Extension{{"generation", "0"}}},
		{Foundation: "2157334355", Component: 1, Transport: "udp", Priority: 41885439, Address: "198.51.100.3", Port: 3478, Type: "relay",
			RelAddr: "203.0.113.7", RelPort: 54400, HasRelPort: true},
		{Foundation: "3", Component: 1, Transport: "UDP", Priority: 2130706431, Address: "4a9b6c1e-1f2b-4c5d-9e8f-0a1b2c3d4e5f.local", Port: 54401, Type: "host"},
	}
	cands := audio.Candidates()
	if d := cmp.Diff(wantCands, cands); d != "" {
		t.Errorf("candidates (RFC 8839 §5.1): %s", d)
	}
	for i, v := range audio.Attrs("candidate") {
		if cands[i].String() != v {
			t.Errorf("candidate %d renders %q, was %q", i, cands[i].String(), v)
		}
	}
	if d := cmp.Diff([]string{
		"1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
		"2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
		"3 urn:ietf:params:rtp-hdrext:sdes:mid",
	}, audio.Attrs("extmap")); d != "" {
		t.Errorf("extmap: %s", d)
	}
	if d := cmp.Diff([]string{"3735928559 cname:4TOk42mSjXCkVIa6", "3735928559 msid:stream0 audio0"}, audio.Attrs("ssrc")); d != "" {
		t.Errorf("ssrc: %s", d)
	}
	wantCodecs := []Codec{
		{111, "opus", 48000, 2, "minptime=10;useinbandfec=1"},
		{63, "red", 48000, 2, "111/111"},
		{9, "G722", 8000, 0, ""},
		{0, "PCMU", 8000, 0, ""},
		{8, "PCMA", 8000, 0, ""},
		{13, "CN", 8000, 0, ""},
		{110, "telephone-event", 48000, 0, ""},
		{126, "telephone-event", 8000, 0, ""},
	}
	if d := cmp.Diff(wantCodecs, audio.Codecs()); d != "" {
		t.Errorf("audio codecs: %s", d)
	}
	if s.Media[2].Codecs() != nil {
		t.Error("a data channel has no RTP codecs")
	}
}

// webrtcAnswerer is a WebRTC endpoint answering with opus, DTMF at 48 kHz,
// VP8 with RTX and a data channel, all bundled.
func webrtcAnswerer() Capabilities {
	srtp := []string{"UDP/TLS/RTP/SAVPF"}
	return Capabilities{
		SessionID: 5027139120387126, SessionVersion: 1, Address: "198.51.100.20", Bundle: true,
		Attributes: Attributes{
			{"ice-ufrag", "Xy7q", true}, {"ice-pwd", "4Lz1yW0tmXjHz0pIkp6M2bEf", true},
			{"fingerprint", "sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0", true},
		},
		Media: []MediaCapability{
			{Type: "audio", Protos: srtp, Port: 40000, RTCPMux: true, Codecs: []Codec{
				{Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
				{Name: "telephone-event", ClockRate: 48000},
			}},
			{Type: "video", Protos: srtp, Port: 40002, RTCPMux: true, Codecs: []Codec{
				{Name: "VP8", ClockRate: 90000}, {Name: "rtx", ClockRate: 90000},
				{Name: "H264", ClockRate: 90000, Fmtp: "packetization-mode=0;profile-level-id=42e01f"},
			}},
			{Type: "application", Protos: []string{"UDP/DTLS/SCTP"}, Port: 40004, Formats: []string{"webrtc-datachannel"},
				Attributes: Attributes{{"sctp-port", "5000", true}}},
		},
	}
}

const webrtcAnswer = `v=0
o=- 5027139120387126 1 IN IP4 198.51.100.20
s=-
c=IN IP4 198.51.100.20
t=0 0
a=ice-ufrag:Xy7q
a=ice-pwd:4Lz1yW0tmXjHz0pIkp6M2bEf
a=fingerprint:sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0
a=group:BUNDLE 0 1 2
m=audio 40000 UDP/TLS/RTP/SAVPF 111 110
a=mid:0
a=rtpmap:111 opus/48000/2
a=fmtp:111 useinbandfec=1
a=rtpmap:110 telephone-event/48000
a=rtcp-mux
a=setup:active
m=video 40000 UDP/TLS/RTP/SAVPF 96 97
a=mid:1
a=rtpmap:96 VP8/90000
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtcp-mux
a=setup:active
m=application 40000 UDP/DTLS/SCTP webrtc-datachannel
a=mid:2
a=setup:active
a=sctp-port:5000
`

func TestWebRTCAnswer(t *testing.T) {
	offer, err := Parse([]byte(crlf(webrtcOffer)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Answer(offer, webrtcAnswerer())
	if err != nil {
		t.Fatal(err)
	}
	// H.264 is not answered: the offer's packetization-mode=1 is not the
	// local mode 0 (RFC 6184 §8.2.2), so neither is its RTX (apt=102).
	// telephone-event/8000 is not answered: only the 48 kHz one matches.
	if got := string(a.Marshal()); got != crlf(webrtcAnswer) {
		t.Errorf("got\n%s\nwant\n%s", got, webrtcAnswer)
	}
	if err := Validate(offer, a); err != nil {
		t.Error(err)
	}
	if d := cmp.Diff([][]string{{"0", "1", "2"}}, a.BundleGroups()); d != "" {
		t.Error(d)
	}
	// Without BUNDLE support, each stream has its own port and no group.
	c := webrtcAnswerer()
	c.Bundle = false
	a, err = Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	if a.Media[0].Port != 40000 || a.Media[1].Port != 40002 || a.Media[2].Port != 40004 || a.HasAttr("group") {
		t.Errorf("unbundled answer:\n%s", a)
	}
	// An answerer without the data channel rejects it, and leaves it out
	// of the group.
	c = webrtcAnswerer()
	c.Media = c.Media[:2]
	a, err = Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Attr("group"); v != "BUNDLE 0 1" || a.Media[2].Port != 0 || a.Media[2].MID() != "2" {
		t.Errorf("answer without a data channel:\n%s", a)
	}
	if err := Validate(offer, a); err != nil {
		t.Error(err)
	}
}

func TestParseCandidateErrors(t *testing.T) {
	for _, v := range []string{
		"",
		"1 1 udp 2122260223 192.0.2.10 54400 host",                // no typ
		"1 0 udp 2122260223 192.0.2.10 54400 typ host",            // component 0
		"1 1 udp 4294967296 192.0.2.10 54400 typ host",            // priority > 2^32-1
		"1 1 udp 1 192.0.2.10 65536 typ host",                     // port
		"1 1 udp 1 192.0.2.10 1 typ host raddr",                   // extension without value
		"1 1 udp 1 192.0.2.10 1 typ host raddr 192.0.2.1 rport x", // rport
	} {
		if c, err := ParseCandidate(v); err == nil {
			t.Errorf("%q parsed: %+v", v, c)
		}
	}
	c, err := ParseCandidate("candidate:1 1 udp 1 192.0.2.10 1 typ prflx raddr 0.0.0.0 rport 0")
	if err != nil || !c.HasRelPort || c.RelPort != 0 || c.RelAddr != "0.0.0.0" {
		t.Errorf("%+v %v", c, err)
	}
}
