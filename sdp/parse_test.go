package sdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// crlf turns the LF line ends of a test text into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// rfc8866Example is the example session description of RFC 8866 §5.
const rfc8866Example = `v=0
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1
s=Call to John Smith
i=SDP Offer #1
u=http://www.jdoe.example.com/home.html
e=Jane Doe <jane@jdoe.example.com>
p=+1 617 555-6011
c=IN IP4 198.51.100.1
t=0 0
m=audio 49170 RTP/AVP 0
m=audio 49180 RTP/AVP 0
m=video 51372 RTP/AVP 99
c=IN IP6 2001:db8::2
a=rtpmap:99 h263-1998/90000
`

func TestParseRFC8866Example(t *testing.T) {
	s, err := Parse([]byte(crlf(rfc8866Example)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Session{
		Origin:     Origin{Username: "jdoe", SessionID: 3724394400, SessionVersion: 3724394405, NetType: "IN", AddrType: "IP4", Address: "198.51.100.1"},
		Name:       "Call to John Smith",
		Info:       "SDP Offer #1",
		URI:        "http://www.jdoe.example.com/home.html",
		Emails:     []string{"Jane Doe <jane@jdoe.example.com>"},
		Phones:     []string{"+1 617 555-6011"},
		Connection: &Connection{NetType: "IN", AddrType: "IP4", Address: "198.51.100.1"},
		Times:      []Time{{}},
		Media: []Media{
			{Type: "audio", Port: 49170, Proto: "RTP/AVP", Formats: []string{"0"}},
			{Type: "audio", Port: 49180, Proto: "RTP/AVP", Formats: []string{"0"}},
			{Type: "video", Port: 51372, Proto: "RTP/AVP", Formats: []string{"99"},
				Connections: []Connection{{NetType: "IN", AddrType: "IP6", Address: "2001:db8::2"}},
				Attributes:  Attributes{{Name: "rtpmap", Value: "99 h263-1998/90000", HasValue: true}}},
		},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("RFC 8866 §5 example (-want +got):\n%s", d)
	}
	if got := string(s.Marshal()); got != crlf(rfc8866Example) {
		t.Errorf("render:\n%q\nwant\n%q", got, crlf(rfc8866Example))
	}
	// §5: each audio description behaves as if it had the session's c=.
	st := Streams(nil, s)
	if st[0].Addr.String() != "198.51.100.1:49170" || st[2].Addr.String() != "[2001:db8::2]:51372" {
		t.Errorf("stream addresses %v %v", st[0].Addr, st[2].Addr)
	}
	if c := s.Media[2].Codecs(); len(c) != 1 || c[0].Name != "h263-1998" || c[0].ClockRate != 90000 {
		t.Errorf("video codecs %+v", c)
	}
	if c := s.Media[0].Codecs(); len(c) != 1 || c[0] != (Codec{Payload: 0, Name: "PCMU", ClockRate: 8000}) {
		t.Errorf("audio codecs %+v", c)
	}
}

// everyLine uses every line type of RFC 8866 §5, each repeatable one
// repeated, with the multicast forms of §5.7, the repeat and zone examples
// of §5.10 and §5.11, and a property, a value and an empty-value attribute.
const everyLine = `v=0
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1
s=Call to John Smith
i=SDP Offer #1
u=http://www.jdoe.example.com/home.html
e=Jane Doe <jane@jdoe.example.com>
e=j.doe@example.com (Jane Doe)
p=+1 617 555-6011
p=+44 20 7946 0000 (Office)
c=IN IP4 233.252.0.1/127/3
b=CT:128
b=X-YZ:128
t=3724394400 3754123200
r=604800 3600 0 90000
r=7d 1h 0 25h
z=3730928400 -1h 3749680800 0
t=3724484400 3724488000
k=prompt
a=recvonly
a=tool:sansip 1.0
m=audio 49170 RTP/AVP 0
m=video 49170/2 RTP/AVP 31
i=Video of the speaker
c=IN IP6 ff00::db8:0:101/3
c=IN IP6 ff00::db8:0:102
b=AS:256
b=TIAS:256000
k=clear:secret
a=orient:landscape
a=x-empty:
a=sendrecv
m=image 0 udptl t38
c=IN IP4 233.252.0.1/127
c=IN ATM NSAP 47.0091.8100.0000.0060.3e64.fd01
`

func TestParseEveryLine(t *testing.T) {
	s, err := Parse([]byte(crlf(everyLine)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Session{
		Origin: Origin{Username: "jdoe", SessionID: 3724394400, SessionVersion: 3724394405, NetType: "IN", AddrType: "IP4", Address: "198.51.100.1"},
		Name:   "Call to John Smith", Info: "SDP Offer #1", URI: "http://www.jdoe.example.com/home.html",
		Emails:     []string{"Jane Doe <jane@jdoe.example.com>", "j.doe@example.com (Jane Doe)"},
		Phones:     []string{"+1 617 555-6011", "+44 20 7946 0000 (Office)"},
		Connection: &Connection{NetType: "IN", AddrType: "IP4", Address: "233.252.0.1", TTL: 127, Count: 3},
		Bandwidths: []Bandwidth{{"CT", 128}, {"X-YZ", 128}},
		Times: []Time{
			{Start: 3724394400, Stop: 3754123200, Repeats: []string{"604800 3600 0 90000", "7d 1h 0 25h"}, Zones: "3730928400 -1h 3749680800 0"},
			{Start: 3724484400, Stop: 3724488000},
		},
		Key:        "prompt",
		Attributes: Attributes{{Name: "recvonly"}, {Name: "tool", Value: "sansip 1.0", HasValue: true}},
		Media: []Media{
			{Type: "audio", Port: 49170, Proto: "RTP/AVP", Formats: []string{"0"}},
			{Type: "video", Port: 49170, PortCount: 2, Proto: "RTP/AVP", Formats: []string{"31"}, Info: "Video of the speaker",
				Connections: []Connection{{"IN", "IP6", "ff00::db8:0:101", 0, 3}, {"IN", "IP6", "ff00::db8:0:102", 0, 0}},
				Bandwidths:  []Bandwidth{{"AS", 256}, {"TIAS", 256000}},
				Key:         "clear:secret",
				Attributes:  Attributes{{"orient", "landscape", true}, {"x-empty", "", true}, {"sendrecv", "", false}}},
			{Type: "image", Port: 0, Proto: "udptl", Formats: []string{"t38"},
				Connections: []Connection{{"IN", "IP4", "233.252.0.1", 127, 0}, {"IN", "ATM", "NSAP 47.0091.8100.0000.0060.3e64.fd01", 0, 0}}},
		},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := string(s.Marshal()); got != crlf(everyLine) {
		t.Errorf("render:\n%s\nwant\n%s", got, crlf(everyLine))
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	if d := s.Media[0].Direction(s); d != RecvOnly {
		t.Errorf("session-level direction: %v", d)
	}
	if d := s.Media[1].Direction(s); d != SendRecv {
		t.Errorf("media-level direction wins: %v", d)
	}
}

// TestParseLineEnds: RFC 8866 §5 asks parsers to accept a bare LF; a
// missing end on the last line and empty lines after it are tolerated too.
func TestParseLineEnds(t *testing.T) {
	want, err := Parse([]byte(crlf(rfc8866Example)))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"LF":                rfc8866Example,
		"mixed":             strings.Replace(rfc8866Example, "\n", "\r\n", 5),
		"no final line end": strings.TrimSuffix(crlf(rfc8866Example), "\r\n"),
		"trailing empty":    crlf(rfc8866Example) + "\r\n\r\n",
		"trailing LF":       rfc8866Example + "\n",
	} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: (-want +got):\n%s", name, d)
		}
	}
}

// TestParseLenient: what Parse accepts beyond the grammar, and how it
// renders it.
func TestParseLenient(t *testing.T) {
	for _, tc := range []struct {
		ref, in, render string
	}{
		{"RFC 4317 §1 (s= with a single space) and empty s= seen in the wild", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=\nt=0 0\n", ""},
		{"runs of spaces between subfields", "v=0\no=-  1 1 IN IP4 192.0.2.1 \ns=-\nc=IN  IP4 192.0.2.1\nt=0  0\nm=audio  4000 RTP/AVP 0  8 \n",
			"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0 8\n"},
		{"m= without formats", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 0 RTP/AVP\n", ""},
		{"leading zeros", "v=00\no=- 01 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 04000 RTP/AVP 0\n",
			"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n"},
		{"RFC 8866 §5.7: TTL 0 is written as no TTL", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 233.252.0.1/0\nt=0 0\n",
			"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 233.252.0.1\nt=0 0\n"},
		{"RFC 4566 z= after t= without r=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nz=2882844526 -1h\n", ""},
		{"leading space in a text value is part of it (§5)", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns= \ni= x \nt=0 0\n", ""},
		{"8-bit text and attribute values", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=Gr\xfc\xdfe\nt=0 0\na=x:\xff\x01\n", ""},
	} {
		s, err := Parse([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.ref, err)
			continue
		}
		want := tc.render
		if want == "" {
			want = tc.in
		}
		if got := string(s.Marshal()); got != crlf(want) {
			t.Errorf("%s: renders\n%q\nwant\n%q", tc.ref, got, crlf(want))
		}
	}
}

func TestParseErrors(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n"
	for _, tc := range []struct {
		ref  string
		in   string
		line int
		typ  byte
		err  error
	}{
		{"§5: v= first", "", 1, 0, ErrMissing},
		{"§5: v= first", "o=- 1 1 IN IP4 192.0.2.1\n", 1, 'o', ErrMissing},
		{"§5.1: version 0", "v=1\n", 1, 'v', ErrVersion},
		{"§5.1: 1*DIGIT", "v=zero\n", 1, 'v', ErrSyntax},
		{"§5: o= second", "v=0\ns=-\n", 2, 's', ErrMissing},
		{"§5: s= third", "v=0\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n", 3, 't', ErrMissing},
		{"§5: o= missing at the end", "v=0\n", 2, 0, ErrMissing},
		{"§9: 1*time-description", head, 4, 0, ErrMissing},
		{"§9: 1*time-description before m=", head + "m=audio 0 RTP/AVP 0\n", 4, 'm', ErrMissing},
		{"§9: 1*time-description before a=", head + "a=x\n", 4, 'a', ErrMissing},
		{"§9: 1*time-description before k=", head + "k=prompt\n", 4, 'k', ErrMissing},
		{"§5: unknown type letter", head + "t=0 0\nx=foo\n", 5, 'x', ErrUnknownType},
		{"§5: unknown type letter in media", head + "t=0 0\nm=audio 0 RTP/AVP 0\ny=1\n", 6, 'y', ErrUnknownType},
		{"§5: upper-case type letter", head + "T=0 0\n", 4, 'T', ErrUnknownType},
		{"§5: <type>=<value>", head + "t 0 0\n", 4, 't', ErrSyntax},
		{"§5: no space around =", head + "t =0 0\n", 4, 't', ErrSyntax},
		{"§5: one letter", head + "tt=0 0\n", 4, 't', ErrSyntax},
		{"§5.2: six subfields", "v=0\no=- 1 1 IN IP4\n", 2, 'o', ErrSyntax},
		{"§9: sess-id 1*DIGIT", "v=0\no=- x1 1 IN IP4 192.0.2.1\n", 2, 'o', ErrSyntax},
		{"§9: sess-version fits", "v=0\no=- 1 18446744073709551616 IN IP4 192.0.2.1\n", 2, 'o', ErrSyntax},
		{"§9: nettype token", "v=0\no=- 1 1 I/N IP4 192.0.2.1\n", 2, 'o', ErrSyntax},
		{"§5.3: one s=", head + "s=again\n", 4, 's', ErrOrder},
		{"§5: order i= before c=", head + "c=IN IP4 192.0.2.1\ni=late\n", 5, 'i', ErrOrder},
		{"§5: order u= before e=", head + "e=a@example.com\nu=http://example.com\n", 5, 'u', ErrOrder},
		{"§5.7: one session-level c=", head + "c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\n", 5, 'c', ErrOrder},
		{"§5: b= before t=", head + "t=0 0\nb=AS:1\n", 5, 'b', ErrOrder},
		{"§5: e= before c=", head + "c=IN IP4 192.0.2.1\ne=a@example.com\n", 5, 'e', ErrOrder},
		{"§5.4: text not empty", head + "i=\n", 4, 'i', ErrSyntax},
		{"§5.5: uri not empty", head + "u=\n", 4, 'u', ErrSyntax},
		{"§5.7: three subfields", head + "c=IN IP4\n", 4, 'c', ErrSyntax},
		{"§5.7: IP4 TTL 0-255", head + "c=IN IP4 233.252.0.1/256\n", 4, 'c', ErrSyntax},
		{"§5.7: no TTL for IP6", head + "c=IN IP6 ff00::db8:0:101/127/3\n", 4, 'c', ErrSyntax},
		{"§9: numaddr POS-DIGIT", head + "c=IN IP4 233.252.0.1/127/0\n", 4, 'c', ErrSyntax},
		{"§5.7: nothing after an IP address", head + "c=IN IP4 192.0.2.1 extra\n", 4, 'c', ErrSyntax},
		{"§5.8: bwtype:bandwidth", head + "b=AS\n", 4, 'b', ErrSyntax},
		{"§5.8: bandwidth 1*DIGIT", head + "b=AS:fast\n", 4, 'b', ErrSyntax},
		{"§5.9: start and stop", head + "t=0\n", 4, 't', ErrSyntax},
		{"§5.9: times are numbers", head + "t=now 0\n", 4, 't', ErrSyntax},
		{"§5.10: r= after t=", head + "r=7d 1h 0\n", 4, 'r', ErrOrder},
		{"§5.10: r= needs an offset", head + "t=0 0\nr=7d 1h\n", 5, 'r', ErrSyntax},
		{"§5.10: typed-time units", head + "t=0 0\nr=7w 1h 0\n", 5, 'r', ErrSyntax},
		{"§5.11: z= pairs", head + "t=0 0\nz=3730928400\n", 5, 'z', ErrSyntax},
		{"§5.11: z= after t=", head + "z=3730928400 -1h\n", 4, 'z', ErrOrder},
		{"§5: k= before a=", head + "t=0 0\na=x\nk=prompt\n", 6, 'k', ErrOrder},
		{"§5: r= after k=", head + "t=0 0\nk=prompt\nr=7d 1h 0\n", 6, 'r', ErrOrder},
		{"§5.13: attribute-name token", head + "t=0 0\na=:x\n", 5, 'a', ErrSyntax},
		{"§5.13: attribute-name token", head + "t=0 0\na=na me:x\n", 5, 'a', ErrSyntax},
		{"§5.13: attribute-name not empty", head + "t=0 0\na=\n", 5, 'a', ErrSyntax},
		{"§5.14: media, port, proto", head + "t=0 0\nm=audio 4000\n", 5, 'm', ErrSyntax},
		{"§5.14: port range", head + "t=0 0\nm=audio 65536 RTP/AVP 0\n", 5, 'm', ErrSyntax},
		{"§5.14: number of ports", head + "t=0 0\nm=audio 4000/0 RTP/AVP 0\n", 5, 'm', ErrSyntax},
		{"§9: proto token *(/ token)", head + "t=0 0\nm=audio 4000 RTP//AVP 0\n", 5, 'm', ErrSyntax},
		{"§9: fmt token", head + "t=0 0\nm=audio 4000 RTP/AVP 0 (8)\n", 5, 'm', ErrSyntax},
		{"§9: media token", head + "t=0 0\nm=au:dio 4000 RTP/AVP 0\n", 5, 'm', ErrSyntax},
		{"§5: u= not in media", head + "t=0 0\nm=audio 4000 RTP/AVP 0\nu=http://example.com\n", 6, 'u', ErrOrder},
		{"§5: t= not in media", head + "t=0 0\nm=audio 4000 RTP/AVP 0\nt=0 0\n", 6, 't', ErrOrder},
		{"§5: media i= first", head + "t=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 192.0.2.1\ni=late\n", 7, 'i', ErrOrder},
		{"§5: media c= before b=", head + "t=0 0\nm=audio 4000 RTP/AVP 0\nb=AS:1\nc=IN IP4 192.0.2.1\n", 7, 'c', ErrOrder},
		{"§5: media a= last", head + "t=0 0\nm=audio 4000 RTP/AVP 0\na=x\nb=AS:1\n", 7, 'b', ErrOrder},
		{"§5: text without NUL", head + "i=a\x00b\n", 4, 'i', ErrSyntax},
		{"§5: text without CR", head + "t=0 0\na=x:a\rb\n", 5, 'a', ErrSyntax},
		{"§5: no empty line inside", head + "\nt=0 0\n", 4, 0, ErrSyntax},
	} {
		s, err := Parse([]byte(tc.in))
		var pe *Error
		switch {
		case err == nil:
			t.Errorf("%s: %q parsed: %+v", tc.ref, tc.in, s)
		case !errors.As(err, &pe):
			t.Errorf("%s: %q: error %v is not an *Error", tc.ref, tc.in, err)
		case !errors.Is(err, tc.err) || pe.Line != tc.line || pe.Type != tc.typ:
			t.Errorf("%s: %q: got %v (line %d type %q), want %v on line %d type %q", tc.ref, tc.in, err, pe.Line, pe.Type, tc.err, tc.line, tc.typ)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n"))
	if got, want := err.Error(), `sdp: line 5 (m=): malformed line: malformed port "70000"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"))
	if got, want := err.Error(), `sdp: line 4: mandatory line missing: t=`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestRenderDefaults: what AppendTo writes for empty mandatory fields.
func TestRenderDefaults(t *testing.T) {
	var s Session
	if got, want := string(s.Marshal()), "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=\r\nt=0 0\r\n"; got != want {
		t.Errorf("zero session: %q, want %q", got, want)
	}
	s = Session{Name: "-", Origin: Origin{Address: "2001:db8::1"}, Connection: &Connection{Address: "2001:db8::1"}}
	if got, want := string(s.Marshal()), "v=0\r\no=- 0 0 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"; got != want {
		t.Errorf("IPv6 session: %q, want %q", got, want)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

func TestCheck(t *testing.T) {
	base := func() *Session {
		s, err := Parse([]byte(crlf(rfc8866Example)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, edit := range map[string]func(s *Session){
		"CRLF in a value":      func(s *Session) { s.Name = "x\r\na=injected" },
		"space in a username":  func(s *Session) { s.Origin.Username = "a b" },
		"port out of range":    func(s *Session) { s.Media[0].Port = 70000 },
		"attribute name colon": func(s *Session) { s.Attributes.Add("a:b", "c") },
		"empty format":         func(s *Session) { s.Media[0].Formats = []string{""} },
		"empty media type":     func(s *Session) { s.Media[0].Type = "" },
	} {
		s := base()
		edit(s)
		if err := s.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Check() = %v", name, err)
		}
	}
	if err := base().Check(); err != nil {
		t.Error(err)
	}
}

func TestClone(t *testing.T) {
	s, err := Parse([]byte(crlf(everyLine)))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	if d := cmp.Diff(s, c); d != "" {
		t.Fatalf("clone differs:\n%s", d)
	}
	c.Connection.Address = "x"
	c.Times[0].Repeats[0] = "x"
	c.Media[1].Attributes[0].Value = "x"
	c.Media[1].Formats[0] = "x"
	c.Attributes[0].Name = "x"
	if string(s.Marshal()) != crlf(everyLine) {
		t.Error("editing a clone changed the original")
	}
}
