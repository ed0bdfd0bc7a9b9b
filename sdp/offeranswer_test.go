package sdp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustParse parses an LF-ended test description.
func mustParse(t testing.TB, s string) *Session {
	t.Helper()
	p, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return p
}

const audioOffer = `v=0
o=alice 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
`

func phone(dir Direction) Capabilities {
	return Capabilities{Username: "bob", SessionID: 7, SessionVersion: 7, Address: "192.0.2.2", Direction: dir,
		Media: []MediaCapability{{Type: "audio", Port: 4000, Codecs: []Codec{pcma, pcmu, {Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"}}}}}
}

// TestAnswerDirection is the table of RFC 3264 §6.1: the answer's direction
// for each offered direction and each direction the answerer wants.
func TestAnswerDirection(t *testing.T) {
	want := map[[2]Direction]Direction{
		{SendRecv, SendRecv}: SendRecv, {SendRecv, SendOnly}: SendOnly, {SendRecv, RecvOnly}: RecvOnly, {SendRecv, Inactive}: Inactive,
		{SendOnly, SendRecv}: RecvOnly, {SendOnly, SendOnly}: Inactive, {SendOnly, RecvOnly}: RecvOnly, {SendOnly, Inactive}: Inactive,
		{RecvOnly, SendRecv}: SendOnly, {RecvOnly, SendOnly}: SendOnly, {RecvOnly, RecvOnly}: Inactive, {RecvOnly, Inactive}: Inactive,
		{Inactive, SendRecv}: Inactive, {Inactive, SendOnly}: Inactive, {Inactive, RecvOnly}: Inactive, {Inactive, Inactive}: Inactive,
	}
	for k, w := range want {
		offer := mustParse(t, audioOffer+"a="+k[0].String()+"\n")
		a, err := Answer(offer, phone(k[1]))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Media[0].Direction(a); got != w {
			t.Errorf("RFC 3264 §6.1: offer %s, answerer wants %s: answer %s, want %s", k[0], k[1], got, w)
		}
		if has := a.Media[0].HasAttr("sendrecv"); has {
			t.Errorf("sendrecv, the default, is not written")
		}
		if err := Validate(offer, a); err != nil {
			t.Error(err)
		}
		if k[0].Intersect(k[1]) != k[1].Intersect(k[0]) {
			t.Errorf("Intersect is not symmetric for %v", k)
		}
	}
	// A session-level direction in the offer counts (RFC 8866 §6.7).
	offer := mustParse(t, strings.Replace(audioOffer, "t=0 0\n", "t=0 0\na=sendonly\n", 1))
	a, err := Answer(offer, phone(0))
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Media[0].Direction(a); d != RecvOnly {
		t.Errorf("session-level sendonly answered %s", d)
	}
}

func TestAnswerCodecs(t *testing.T) {
	offer := mustParse(t, audioOffer)
	a, err := Answer(offer, phone(0))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 3264 §6.1: the offerer's order and numbers; telephone-event
	// with the events both sides support (RFC 4733 §7.1.1).
	want := []Codec{{0, "PCMU", 8000, 0, ""}, {8, "PCMA", 8000, 0, ""}, {101, "telephone-event", 8000, 0, "0-15"}}
	if d := cmp.Diff(want, a.Media[0].Codecs()); d != "" {
		t.Error(d)
	}
	for _, tc := range []struct {
		name   string
		offer  string // m= line and attributes
		local  []Codec
		protos []string
		want   string // answer formats, "" for rejected
	}{
		{"no common codec", "m=audio 1 RTP/AVP 0\n", []Codec{pcma}, nil, ""},
		{"only DTMF in common, and the offer has a real codec", "m=audio 1 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n", []Codec{pcma, tevent}, nil, ""},
		{"RFC 4317 §2.4: a DTMF-only stream", "m=audio 1 RTP/AVP 101\na=rtpmap:101 telephone-event/8000\n", []Codec{pcma, tevent}, nil, "101"},
		{"dynamic type without rtpmap is unknown", "m=audio 1 RTP/AVP 96\n", []Codec{{Name: "opus", ClockRate: 48000, Channels: 2}}, nil, ""},
		{"name case does not matter (RFC 4855 §3)", "m=audio 1 RTP/AVP 96\na=rtpmap:96 OPUS/48000/2\n", []Codec{{Name: "opus", ClockRate: 48000, Channels: 2}}, nil, "96"},
		{"clock rate matters", "m=audio 1 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n", []Codec{{Name: "opus", ClockRate: 16000, Channels: 2}}, nil, ""},
		{"channels matter", "m=audio 1 RTP/AVP 96\na=rtpmap:96 L16/8000/2\n", []Codec{{Name: "L16", ClockRate: 8000}}, nil, ""},
		{"one channel is the default", "m=audio 1 RTP/AVP 96\na=rtpmap:96 L16/8000/1\n", []Codec{{Name: "L16", ClockRate: 8000}}, nil, "96"},
		{"rtpmap overrides the static table", "m=audio 1 RTP/AVP 0\na=rtpmap:0 G722/8000\n", []Codec{pcmu}, nil, ""},
		{"duplicate payload types once", "m=audio 1 RTP/AVP 0 0 8\n", []Codec{pcmu, pcma}, nil, "0 8"},
		{"transport not supported", "m=audio 1 RTP/SAVP 0\n", []Codec{pcmu}, nil, ""},
		{"transport supported", "m=audio 1 RTP/SAVP 0\n", []Codec{pcmu}, []string{"rtp/savp"}, "0"},
		{"disabled in the offer", "m=audio 0 RTP/AVP 0\n", []Codec{pcmu}, nil, ""},
		{"RTX without its codec", "m=audio 1 RTP/AVP 96 97 98\na=rtpmap:96 opus/48000/2\na=rtpmap:97 rtx/48000\na=fmtp:97 apt=96\na=rtpmap:98 rtx/48000\na=fmtp:98 apt=111\n",
			[]Codec{{Name: "opus", ClockRate: 48000, Channels: 2}, {Name: "rtx", ClockRate: 48000}}, nil, "96 97"},
		{"H.264 packetization modes", "m=audio 1 RTP/AVP 96 97\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=1\na=rtpmap:97 H264/90000\n",
			[]Codec{{Name: "H264", ClockRate: 90000}}, nil, "97"},
	} {
		offer := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"+tc.offer)
		c := phone(0)
		c.Media[0].Codecs, c.Media[0].Protos = tc.local, tc.protos
		a, err := Answer(offer, c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := strings.Join(a.Media[0].Formats, " ")
		if a.Media[0].Port == 0 {
			got = ""
		}
		if got != tc.want {
			t.Errorf("%s: answer formats %q, want %q\n%s", tc.name, got, tc.want, a)
		}
		if err := Validate(offer, a); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestAnswerSession(t *testing.T) {
	offer := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=3724394400 3754123200\nr=7d 1h 0 25h\nm=audio 1 RTP/AVP 0\n")
	c := phone(0)
	c.Address = "2001:db8::2"
	a, err := Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 3264 §6: "The "t=" line in the answer MUST equal that of the offer."
	if d := cmp.Diff(offer.Times, a.Times); d != "" {
		t.Error(d)
	}
	if *a.Connection != (Connection{"IN", "IP6", "2001:db8::2", 0, 0}) || a.Origin.AddrType != "IP6" || a.Origin.Username != "bob" || a.Name != "-" {
		t.Errorf("answer session lines:\n%s", a)
	}
	// Previous: the same answer again keeps the version (RFC 3264 §8),
	// a different one increments it.
	c.Previous = a
	again, err := Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	if again.Origin != a.Origin {
		t.Errorf("unchanged answer: %+v, was %+v", again.Origin, a.Origin)
	}
	c.Direction = SendOnly
	held, err := Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	if held.Origin.SessionVersion != a.Origin.SessionVersion+1 || held.Origin.SessionID != a.Origin.SessionID {
		t.Errorf("changed answer: %+v, was %+v", held.Origin, a.Origin)
	}
	if _, err := Answer(offer, Capabilities{}); err == nil {
		t.Error("Answer without an address")
	}
	if _, err := Answer(nil, c); err == nil {
		t.Error("Answer without an offer")
	}
	c = phone(0)
	c.Media[0].Attributes = Attributes{{Name: "ptime", Value: "20\r\na=evil", HasValue: true}}
	if _, err := Answer(offer, c); !errors.Is(err, ErrInvalid) {
		t.Errorf("Answer with a CRLF in an attribute: %v", err)
	}
	// Direction attributes among the capability's attributes are
	// ignored: Direction says what to write.
	c = phone(RecvOnly)
	c.Attributes = Attributes{{Name: "sendonly"}}
	c.Media[0].Attributes = Attributes{{Name: "inactive"}, {Name: "ptime", Value: "20", HasValue: true}}
	a, err = Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	if a.HasAttr("sendonly") || a.Media[0].Direction(a) != RecvOnly || len(a.Media[0].Attrs("ptime")) != 1 {
		t.Errorf("answer:\n%s", a)
	}
	// A port allocator can refuse a stream.
	c = phone(0)
	c.Port = func(int, *Media) int { return 0 }
	if a, _ := Answer(offer, c); a.Media[0].Port != 0 {
		t.Error("allocator's port 0 does not reject")
	}
}

func TestOffer(t *testing.T) {
	c := Capabilities{SessionID: 42, SessionVersion: 42, Address: "192.0.2.9", Direction: SendOnly, Media: []MediaCapability{
		{Type: "audio", Port: 5004, Codecs: []Codec{
			{Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
			{Name: "pcmu", ClockRate: 8000}, // static, whatever the case
			{Payload: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"},
			{Payload: 8, Name: "speex", ClockRate: 16000}, // not static: next dynamic
		}},
		{Type: "image", Protos: []string{"udptl"}, Port: 5006, Formats: []string{"t38"}, Direction: SendRecv},
	}}
	o, err := Offer(c)
	if err != nil {
		t.Fatal(err)
	}
	want := crlf(`v=0
o=- 42 42 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5004 RTP/AVP 96 0 101 97
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:0 pcmu/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtpmap:97 speex/16000
a=sendonly
m=image 5006 udptl t38
`)
	if got := o.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	c.Media = append(c.Media, MediaCapability{Type: "video"})
	if _, err := Offer(c); err == nil {
		t.Error("offer of a stream without codecs")
	}
}

func TestValidateErrors(t *testing.T) {
	offer := mustParse(t, `v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 0 96
a=rtpmap:96 opus/48000/2
a=sendonly
m=video 0 RTP/AVP 31
m=application 5000 TCP/BFCP *
`)
	good := `v=0
o=- 2 2 IN IP4 192.0.2.2
s=-
c=IN IP4 192.0.2.2
t=0 0
m=audio 6000 RTP/AVP 100
a=rtpmap:100 OPUS/48000/2
a=recvonly
m=video 0 RTP/AVP 31
m=application 6002 TCP/BFCP *
`
	if err := Validate(offer, mustParse(t, good)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref, from, to string
		err           error
	}{
		{"RFC 3264 §6: same number of m= lines", "m=application 6002 TCP/BFCP *\n", "", ErrMediaCount},
		{"RFC 3264 §6: same media type", "m=video 0 RTP/AVP 31", "m=audio 0 RTP/AVP 31", ErrMediaType},
		{"RFC 3264 §6: same transport", "m=application 6002 TCP/BFCP", "m=application 6002 TCP/TLS/BFCP", ErrMediaType},
		{"RFC 3264 §6: a disabled stream stays disabled", "m=video 0 RTP/AVP 31", "m=video 6004 RTP/AVP 31", ErrPort},
		{"RFC 3264 §6.1: codecs of the offer", "a=rtpmap:100 OPUS/48000/2", "a=rtpmap:100 opus/48000/1", ErrCodec},
		{"RFC 3264 §6.1: codecs of the offer", "m=audio 6000 RTP/AVP 100", "m=audio 6000 RTP/AVP 100 8", ErrCodec},
		{"RFC 3264 §6.1: an unknown payload type", "m=audio 6000 RTP/AVP 100", "m=audio 6000 RTP/AVP 100 97", ErrCodec},
		{"RFC 3264 §6.1: a format", "m=audio 6000 RTP/AVP 100\na=rtpmap:100 OPUS/48000/2", "m=audio 6000 RTP/AVP", ErrCodec},
		{"RFC 3264 §6.1: formats of the offer", "TCP/BFCP *", "TCP/BFCP x", ErrCodec},
		{"RFC 3264 §6.1: sendonly answered recvonly", "a=recvonly", "a=sendrecv", ErrDirection},
		{"RFC 3264 §6.1: sendonly answered recvonly", "a=recvonly", "a=sendonly", ErrDirection},
	} {
		bad := strings.Replace(good, tc.from, tc.to, 1)
		if err := Validate(offer, mustParse(t, bad)); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.ref, err, tc.err)
		}
	}
	// A payload type without rtpmap that the offer lists with one is
	// accepted: it is the offer's.
	ok := strings.Replace(good, "m=audio 6000 RTP/AVP 100\na=rtpmap:100 OPUS/48000/2", "m=audio 6000 RTP/AVP 96", 1)
	if err := Validate(offer, mustParse(t, ok)); err != nil {
		t.Error(err)
	}
	if err := Validate(nil, offer); err == nil {
		t.Error("nil offer")
	}
}

func TestHoldResume(t *testing.T) {
	s := mustParse(t, `v=0
o=- 1 5 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 0
m=audio 4002 RTP/AVP 0
a=recvonly
m=audio 4004 RTP/AVP 0
a=sendonly
m=audio 4006 RTP/AVP 0
a=inactive
m=video 0 RTP/AVP 31
`)
	dirs := func(s *Session) string {
		var out []string
		for i := range s.Media {
			out = append(out, s.Media[i].Direction(s).String())
		}
		return strings.Join(out, " ")
	}
	// RFC 3264 §8.4: sendrecv becomes sendonly, recvonly inactive.
	h := Hold(s)
	if got, want := dirs(h), "sendonly inactive sendonly inactive sendrecv"; got != want {
		t.Errorf("Hold: %s, want %s", got, want)
	}
	if h.Origin.SessionVersion != 6 || s.Origin.SessionVersion != 5 {
		t.Errorf("versions %d %d", h.Origin.SessionVersion, s.Origin.SessionVersion)
	}
	if h.Media[4].HasAttr("sendonly") || h.Media[4].HasAttr("sendrecv") {
		t.Error("a disabled stream was changed")
	}
	for i := 0; i < 4; i++ {
		if !h.Media[i].OnHold(h) {
			t.Errorf("stream %d not on hold", i)
		}
	}
	r := Resume(h)
	if got, want := dirs(r), "sendrecv recvonly sendrecv recvonly sendrecv"; got != want {
		t.Errorf("Resume: %s, want %s", got, want)
	}
	if r.Origin.SessionVersion != 7 {
		t.Errorf("version %d", r.Origin.SessionVersion)
	}
	if got, want := dirs(Hold(s, 1, 3)), "sendrecv inactive sendonly inactive sendrecv"; got != want {
		t.Errorf("Hold(1, 3): %s, want %s", got, want)
	}
	// A session-level direction moves to the streams that relied on it.
	s = mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=recvonly\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=sendrecv\n")
	h = Hold(s, 1)
	if got, want := dirs(h), "recvonly sendonly"; got != want || h.HasAttr("recvonly") {
		t.Errorf("Hold with a session-level direction: %s, want %s\n%s", got, want, h)
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
	n := NextVersion(s)
	if n.Origin.SessionVersion != 2 || s.Origin.SessionVersion != 1 {
		t.Error("NextVersion")
	}
	n.Origin.SessionVersion = 1
	if !Equal(n, s) {
		t.Error("NextVersion changed more than the version")
	}
}

func TestOnHold(t *testing.T) {
	for _, tc := range []struct {
		ref, sdp string
		hold     bool
	}{
		{"RFC 3264 §8.4 sendonly", "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendonly\n", true},
		{"RFC 3264 §8.4 inactive", "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=inactive\n", true},
		{"RFC 3264 §8.4 c=0.0.0.0 (RFC 2543)", "c=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\n", true},
		{"RFC 3264 §8.4 media-level c=0.0.0.0", "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n", true},
		{"session-level sendonly", "c=IN IP4 192.0.2.1\nt=0 0\na=sendonly\nm=audio 4000 RTP/AVP 0\n", true},
		{"recvonly is not hold", "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=recvonly\n", false},
		{"disabled is not hold", "c=IN IP4 0.0.0.0\nt=0 0\nm=audio 0 RTP/AVP 0\na=inactive\n", false},
		{"sendrecv", "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n", false},
	} {
		s := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n"+tc.sdp)
		if got := s.Media[0].OnHold(s); got != tc.hold {
			t.Errorf("%s: OnHold %v", tc.ref, got)
		}
	}
}

func TestDirection(t *testing.T) {
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		p, ok := ParseDirection(d.String())
		if !ok || p != d {
			t.Errorf("%v", d)
		}
		if d.Reverse().Reverse() != d || d.Reverse().Sends() != d.Receives() {
			t.Errorf("Reverse %v", d)
		}
	}
	if Direction(0).String() != "" || Direction(9).String() != "Direction(9)" || Direction(0).Reverse() != SendRecv {
		t.Error("zero or out of range direction")
	}
	m := Media{Attributes: Attributes{{Name: "rtpmap", Value: "0 PCMU/8000", HasValue: true}, {Name: "recvonly"}, {Name: "ptime", Value: "20", HasValue: true}, {Name: "inactive"}}}
	if m.Direction(nil) != Inactive {
		t.Error("the last direction attribute counts")
	}
	m.SetDirection(SendOnly)
	if got := fmt.Sprint(m.Attributes); got != "[rtpmap:0 PCMU/8000 sendonly ptime:20]" {
		t.Errorf("SetDirection: %s", got)
	}
	m.SetDirection(0)
	if m.Direction(nil) != SendRecv || !m.HasAttr("sendrecv") {
		t.Error("SetDirection(0)")
	}
	var s Session
	s.SetDirection(Inactive)
	if (&Media{}).Direction(&s) != Inactive {
		t.Error("session SetDirection")
	}
}

func TestAttributes(t *testing.T) {
	var as Attributes
	as.Add("rtpmap", "0 PCMU/8000")
	as.Add("ptime", "20")
	as.Add("rtpmap", "8 PCMA/8000")
	as.Add("rtcp-mux", "")
	if v, ok := as.Get("rtpmap"); !ok || v != "0 PCMU/8000" {
		t.Errorf("Get %q %v", v, ok)
	}
	if d := cmp.Diff([]string{"0 PCMU/8000", "8 PCMA/8000"}, as.All("rtpmap")); d != "" {
		t.Error(d)
	}
	if v, ok := as.Get("rtcp-mux"); !ok || v != "" || as[3].HasValue {
		t.Errorf("property attribute %q %v", v, ok)
	}
	if _, ok := as.Get("RTCP-MUX"); ok {
		t.Error("names are case-sensitive")
	}
	as.Set("rtpmap", "9 G722/8000")
	if got := fmt.Sprint(as); got != "[rtpmap:9 G722/8000 ptime:20 rtcp-mux]" {
		t.Errorf("Set: %s", got)
	}
	as.Set("maxptime", "40")
	if n := as.Del("ptime"); n != 1 || as.Has("ptime") {
		t.Errorf("Del %d", n)
	}
	if got := fmt.Sprint(as); got != "[rtpmap:9 G722/8000 rtcp-mux maxptime:40]" {
		t.Errorf("Del: %s", got)
	}
	s := &Session{}
	s.AddAttr("tool", "x")
	s.SetAttr("tool", "y")
	if v, _ := s.Attr("tool"); v != "y" || len(s.Attrs("tool")) != 1 || !s.HasAttr("tool") || s.DelAttr("tool") != 1 {
		t.Error("session attribute helpers")
	}
	m := &Media{}
	m.AddAttr("x", "1")
	m.SetAttr("x", "2")
	if v, _ := m.Attr("x"); v != "2" || len(m.Attrs("x")) != 1 || !m.HasAttr("x") || m.DelAttr("x") != 1 {
		t.Error("media attribute helpers")
	}
}

func TestCodecMatches(t *testing.T) {
	h264 := func(fmtp string) Codec { return Codec{Name: "H264", ClockRate: 90000, Fmtp: fmtp} }
	te := func(fmtp string) Codec { return Codec{Name: "telephone-event", ClockRate: 8000, Fmtp: fmtp} }
	amr := func(fmtp string) Codec { return Codec{Name: "AMR", ClockRate: 8000, Fmtp: fmtp} }
	for _, tc := range []struct {
		ref  string
		a, b Codec
		want bool
	}{
		{"RFC 4855 §3 case-insensitive names", pcmu, Codec{Name: "pcmu", ClockRate: 8000}, true},
		{"rate", pcmu, Codec{Name: "PCMU", ClockRate: 16000}, false},
		{"one channel by default", pcmu, Codec{Name: "PCMU", ClockRate: 8000, Channels: 1}, true},
		{"unknown never matches", Codec{}, Codec{}, false},
		{"RFC 6184 §8.2.2 packetization-mode", h264("packetization-mode=1"), h264("packetization-mode=0"), false},
		{"RFC 6184 §8.2.2 default mode 0", h264(""), h264("packetization-mode=0; profile-level-id=42e01f"), true},
		{"RFC 6184 §8.1 profile, not level", h264("profile-level-id=42e01f"), h264("profile-level-id=42E034"), true},
		{"RFC 6184 §8.1 profile", h264("profile-level-id=42e01f"), h264("profile-level-id=640c1f"), false},
		{"RFC 4733 §7.1.1 events in common", te("0-15"), te("10,66"), true},
		{"RFC 4733 §7.1.1 no events in common", te("0-15"), te("66,70-72"), false},
		{"RFC 4733 §7.1.1 0-15 by default", te(""), te("15-20"), true},
		{"RFC 4867 §8.3.1 octet-align", amr("octet-align=1"), amr(""), false},
		{"RFC 4867 §8.3.1 octet-align", amr("octet-align=1; mode-set=0,2"), amr("mode-set=7;octet-align=1"), true},
		{"VP9 profile-id", Codec{Name: "VP9", ClockRate: 90000, Fmtp: "profile-id=2"}, Codec{Name: "VP9", ClockRate: 90000}, false},
	} {
		if got := tc.a.Matches(tc.b); got != tc.want {
			t.Errorf("%s: %v.Matches(%v) = %v", tc.ref, tc.a, tc.b, got)
		}
		if got := tc.b.Matches(tc.a); got != tc.want {
			t.Errorf("%s: not symmetric", tc.ref)
		}
	}
	for _, tc := range [][3]string{
		{"0-15", "10,66", "10"},
		{"0-15,66", "", "0-15"},
		{"0-16", "0-15,16,32", "0-16"},
		{"x,3-1,5", "0-255", "5"},
		{"1", "2", ""},
	} {
		if got := intersectEvents(tc[0], tc[1]); got != tc[2] {
			t.Errorf("intersectEvents(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestCodecs(t *testing.T) {
	// RFC 3551 §6: static payload types without rtpmap.
	for pt, want := range map[int]string{0: "PCMU/8000", 3: "GSM/8000", 4: "G723/8000", 8: "PCMA/8000", 9: "G722/8000",
		10: "L16/44100/2", 13: "CN/8000", 18: "G729/8000", 31: "H261/90000", 34: "H263/90000"} {
		c, ok := StaticCodec(pt)
		if !ok || c.String() != want || c.Payload != pt {
			t.Errorf("static %d: %v", pt, c)
		}
	}
	for _, pt := range []int{-1, 2, 19, 35, 96} {
		if _, ok := StaticCodec(pt); ok {
			t.Errorf("static %d", pt)
		}
	}
	m := Media{Type: "audio", Proto: "RTP/AVP", Formats: []string{"18", "96", "97", "x", "200"}, Attributes: Attributes{
		{"rtpmap", "96 opus/48000/2", true},
		{"rtpmap", "96 ignored/1", true},
		{"fmtp", "18 annexb=no", true},
		{"rtpmap", "97 bad name/8000", true},
	}}
	want := []Codec{{18, "G729", 8000, 0, "annexb=no"}, {96, "opus", 48000, 2, ""}, {97, "", 0, 0, ""}}
	if d := cmp.Diff(want, m.Codecs()); d != "" {
		t.Error(d)
	}
	if c, ok := m.Codec(96); !ok || c.Name != "opus" {
		t.Error("Codec(96)")
	}
	if _, ok := m.Codec(0); ok {
		t.Error("Codec(0) is not listed")
	}
	m.Proto = "udptl"
	if m.Codecs() != nil {
		t.Error("not RTP")
	}
	for _, v := range []string{"96", "96 opus", "128 x/1", "96 opus/x", "96 opus/48000/x", "x opus/1"} {
		if c, ok := ParseRTPMap(v); ok {
			t.Errorf("ParseRTPMap(%q) = %+v", v, c)
		}
	}
}

// AnswerTo answers an offer with the streams in common (RFC 3264 §6),
// offers when there is no offer (RFC 3261 §13.2.1), and says ErrNoMedia
// when nothing can be accepted (488, RFC 3261 §13.3.1.3).
func TestAnswerTo(t *testing.T) {
	local := Capabilities{Username: "svc", SessionID: 7, SessionVersion: 7, Address: "192.0.2.10",
		Media: []MediaCapability{{Type: "audio", Port: 40000, Codecs: []Codec{{Name: "PCMU", ClockRate: 8000}}}}}
	pcmu := "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
	g722 := "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n"
	for _, tc := range []struct {
		name, offer string
		want        string // a line the result holds
		err         error
	}{
		{"offer", pcmu, "m=audio 40000 RTP/AVP 0\r\n", nil},
		{"no offer", "", "m=audio 40000 RTP/AVP 0\r\n", nil},
		{"nothing in common", g722, "", ErrNoMedia},
		{"not SDP", "hello", "", ErrSyntax},
	} {
		got, err := AnswerTo([]byte(tc.offer), local)
		if !errors.Is(err, tc.err) || tc.err == nil && !strings.Contains(string(got), tc.want) {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
}
