package sdp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// addrs lets cmp compare netip values.
var addrs = cmpopts.EquateComparable(netip.AddrPort{})

// section returns the parsed descriptions of an RFC 4317 section.
func section(t *testing.T, sec string) []*Session {
	for _, x := range rfc4317Exchanges {
		if x.section == sec {
			return x.parsed(t)
		}
	}
	t.Fatalf("no section %s", sec)
	return nil
}

// kinds summarises changes as "0 started addr|...".
func kinds(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

var ilbc97 = []Codec{{97, "iLBC", 8000, 0, ""}}

// TestStreamsHoldUnhold follows RFC 4317 §3.1 from Alice's side: Bob
// answers on hold (sendonly, from a placeholder address), then takes her
// off hold from his real address while she changes port.
func TestStreamsHoldUnhold(t *testing.T) {
	s := section(t, "3.1")
	first := Streams(s[0], s[1]) // Alice offered, Bob answered
	want := []Stream{{Index: 0, Type: "audio", Proto: "RTP/AVP", Host: "placeholder.biloxi.example.com", Port: 49172, LocalPort: 49170,
		Codecs: ilbc97, Direction: RecvOnly, Active: true, RemoteHold: true}}
	if d := cmp.Diff(want, first, addrs); d != "" {
		t.Errorf("first exchange (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"stream 0 (audio) started: addr|localport|codecs|direction|hold|transport"}, kinds(Compare(nil, first))); d != "" {
		t.Error(d)
	}
	second := Streams(s[3], s[2]) // Bob offered, Alice answered
	want = []Stream{{Index: 0, Type: "audio", Proto: "RTP/AVP", Host: "host.biloxi.example.com", Port: 49170, LocalPort: 49178,
		Codecs: ilbc97, Direction: SendRecv, Active: true}}
	if d := cmp.Diff(want, second, addrs); d != "" {
		t.Errorf("second exchange (-want +got):\n%s", d)
	}
	ch := Compare(first, second)
	if d := cmp.Diff([]string{"stream 0 (audio) modified: addr|localport|direction|hold"}, kinds(ch)); d != "" {
		t.Error(d)
	}
	if ch[0].Old.RemoteHold != true || ch[0].Stream.RemoteHold {
		t.Error("resume: RemoteHold goes from true to false")
	}
	// Bob's side of the same exchanges.
	bob := Streams(s[1], s[0])
	if bob[0].Direction != SendOnly || !bob[0].LocalHold || bob[0].RemoteHold || bob[0].Addr.IsValid() || bob[0].Host != "host.atlanta.example.com" {
		t.Errorf("Bob's view: %+v", bob[0])
	}
	if Compare(second, second) != nil {
		t.Error("no change, no changes")
	}
}

// TestStreamsHoldOneOfTwo: RFC 4317 §3.2 from Bob's side: he holds the
// audio stream, the tone stream stays as it was.
func TestStreamsHoldOneOfTwo(t *testing.T) {
	s := section(t, "3.2")
	first := Streams(s[1], s[0])
	if first[0].Direction != SendRecv || first[1].Direction != RecvOnly || !first[0].Active || !first[1].Active {
		t.Fatalf("first: %+v", first)
	}
	// Bob sends only iLBC: the codecs Alice offered that he lists.
	if d := cmp.Diff(ilbc97, first[0].Codecs); d != "" {
		t.Error(d)
	}
	second := Streams(s[2], s[3])
	if d := cmp.Diff([]string{"stream 0 (audio) modified: direction|hold"}, kinds(Compare(first, second))); d != "" {
		t.Error(d)
	}
	if second[0].Direction != SendOnly || !second[0].LocalHold {
		t.Errorf("held stream: %+v", second[0])
	}
}

// TestStreamsAddDelete: streams added (RFC 4317 §4.2, §5.1) start, a
// stream disabled (§4.3) stops.
func TestStreamsAddDelete(t *testing.T) {
	s := section(t, "4.2")
	ch := Compare(Streams(s[0], s[1]), Streams(s[2], s[3]))
	if d := cmp.Diff([]string{"stream 1 (video) started: addr|localport|codecs|direction|transport"}, kinds(ch)); d != "" {
		t.Error(d)
	}
	if ch[0].Stream.Addr.IsValid() || ch[0].Stream.Host != "host.biloxi.example.com" || ch[0].Stream.Port != 49168 {
		t.Errorf("video stream %+v", ch[0].Stream)
	}
	s = section(t, "4.3")
	ch = Compare(Streams(s[1], s[0]), Streams(s[2], s[3]))
	if d := cmp.Diff([]string{"stream 1 (video) stopped: addr|localport"}, kinds(ch)); d != "" {
		t.Error(d)
	}
	s = section(t, "5.1")
	first := Streams(s[0], s[1])
	if len(first) != 0 {
		t.Errorf("no media: %+v", first)
	}
	ch = Compare(first, Streams(s[2], s[3]))
	if len(ch) != 1 || ch[0].Kind != Started || ch[0].Stream.Port != 49172 {
		t.Errorf("audio added: %v", ch)
	}
}

// TestStreamsLegacyHold: RFC 4317 §5.2 from Bob's side: Alice's c=0.0.0.0
// (RFC 3264 §8.4) means Bob must not send.
func TestStreamsLegacyHold(t *testing.T) {
	s := section(t, "5.2")
	first := Streams(s[1], s[0])
	want := Stream{Index: 0, Type: "audio", Proto: "RTP/AVP", Host: "0.0.0.0", Addr: netip.MustParseAddrPort("0.0.0.0:23442"), Port: 23442,
		LocalPort: 49170, Codecs: ilbc97, Direction: RecvOnly, Active: true, RemoteHold: true}
	if d := cmp.Diff(want, first[0], addrs); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	ch := Compare(first, Streams(s[3], s[2]))
	if d := cmp.Diff([]string{"stream 0 (audio) modified: addr|direction|hold"}, kinds(ch)); d != "" {
		t.Error(d)
	}
	// Alice's side: she said "do not send to me", so she only sends.
	if a := Streams(s[0], s[1]); a[0].Direction != SendOnly || !a[0].LocalHold {
		t.Errorf("Alice: %+v", a[0])
	}
}

// TestStreamsInactive: a hold to inactive stops the stream; resuming
// starts it again.
func TestStreamsInactive(t *testing.T) {
	offer := mustParse(t, audioOffer)
	answer, err := Answer(offer, phone(0))
	if err != nil {
		t.Fatal(err)
	}
	before := Streams(offer, answer)
	if !before[0].Active || before[0].Direction != SendRecv || before[0].Addr.String() != "192.0.2.2:4000" {
		t.Fatalf("%+v", before[0])
	}
	held := mustParse(t, audioOffer+"a=inactive\n")
	heldAnswer, err := Answer(held, phone(0))
	if err != nil {
		t.Fatal(err)
	}
	during := Streams(held, heldAnswer)
	ch := Compare(before, during)
	if len(ch) != 1 || ch[0].Kind != Stopped || !ch[0].Stream.LocalHold {
		t.Fatalf("hold: %v", ch)
	}
	ch = Compare(during, before)
	if len(ch) != 1 || ch[0].Kind != Started || !ch[0].Old.LocalHold {
		t.Fatalf("resume: %v", ch)
	}
	// A removed stream (fewer m= lines, as after a new dialog) stops.
	ch = Compare(before, nil)
	if len(ch) != 1 || ch[0].Kind != Stopped || ch[0].Stream.Index != 0 || ch[0].Stream.Type != "audio" {
		t.Fatalf("removed: %v", ch)
	}
	// Without a local description, every remote codec counts.
	if st := Streams(nil, offer); len(st[0].Codecs) != 3 || !st[0].Active {
		t.Errorf("remote only: %+v", st[0])
	}
	// Codec change: the answer narrows to PCMA.
	c := phone(0)
	c.Media[0].Codecs = []Codec{pcma}
	narrowed, err := Answer(offer, c)
	if err != nil {
		t.Fatal(err)
	}
	ch = Compare(before, Streams(offer, narrowed))
	if len(ch) != 1 || ch[0].Kind != Modified || ch[0].What != ChangedCodecs {
		t.Errorf("codec change: %v", ch)
	}
}

func TestChangeStrings(t *testing.T) {
	if ChangeKind(0).String() != "none" || Started.String() != "started" || Stopped.String() != "stopped" || Modified.String() != "modified" {
		t.Error("ChangeKind strings")
	}
	if s := (ChangedAddr | ChangedTransport).String(); s != "addr|transport" {
		t.Error(s)
	}
}
