package ua

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sdp"
)

func offerV(version, port int, dir string) string {
	return fmt.Sprintf("v=0\r\no=alice 2890844526 %d IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n%s", version, port, dir)
}

func answerV(version, port int, dir string) string {
	return fmt.Sprintf("v=0\r\no=bob 2808844564 %d IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n%s", version, port, dir)
}

// Media start, change and stop on a dialog, from its offer/answer
// exchanges (RFC 3264 §5, §6, §8): the first exchange starts media; a new
// port changes it; both sides inactive stops it (§8.4); a later exchange
// starts it again. Each side sees the streams from its own end: where to
// send, with which codecs (those both lists share, §6.1), in which
// direction.
func TestMediaEvents(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	var bobCall CallID
	steps := []struct {
		offer, answer string
		alice, bob    effects.EventKind
		aliceSends    netip.AddrPort // where Alice sends media, if active
		bobSends      netip.AddrPort
		aliceDir      sdp.Direction
	}{
		{offerV(1, 49170, ""), answerV(1, 3456, ""), effects.MediaStarted, effects.MediaStarted,
			netip.MustParseAddrPort("192.0.2.2:3456"), netip.MustParseAddrPort("192.0.2.1:49170"), sdp.SendRecv},
		{offerV(2, 49172, ""), answerV(2, 3458, ""), effects.MediaChanged, effects.MediaChanged,
			netip.MustParseAddrPort("192.0.2.2:3458"), netip.MustParseAddrPort("192.0.2.1:49172"), sdp.SendRecv},
		{offerV(3, 49172, "a=sendonly\r\n"), answerV(3, 3458, "a=recvonly\r\n"), effects.MediaChanged, effects.MediaChanged,
			netip.MustParseAddrPort("192.0.2.2:3458"), netip.MustParseAddrPort("192.0.2.1:49172"), sdp.SendOnly},
		{offerV(4, 49172, "a=inactive\r\n"), answerV(4, 3458, "a=inactive\r\n"), effects.MediaStopped, effects.MediaStopped,
			netip.AddrPort{}, netip.AddrPort{}, sdp.Inactive},
		{offerV(5, 49174, ""), answerV(5, 3460, ""), effects.MediaStarted, effects.MediaStarted,
			netip.MustParseAddrPort("192.0.2.2:3460"), netip.MustParseAddrPort("192.0.2.1:49174"), sdp.SendRecv},
	}
	step := 0
	b.on = func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			bobCall = ev.ID
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(steps[0].answer), out)
			})
		case effects.CallReinvite:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(steps[step].answer), out)
			})
		}
	}
	call := a.callTo(b, CallOptions{Body: []byte(steps[0].offer)})
	for i, st := range steps {
		step = i
		if i > 0 {
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return a.ua.Update(now, call, []byte(st.offer), UpdateOptions{}, out)
			})
		}
		a.events, b.events = nil, nil
		n.run(time.Duration(i+1) * time.Second)
		if got := mediaKinds(a.events); !cmp.Equal(got, []effects.EventKind{st.alice}) {
			t.Errorf("step %d: Alice's media events %v, want %v", i, got, st.alice)
		}
		if got := mediaKinds(b.events); !cmp.Equal(got, []effects.EventKind{st.bob}) {
			t.Errorf("step %d: Bob's media events %v, want %v", i, got, st.bob)
		}
		am, bm := a.ua.Media(call), b.ua.Media(bobCall)
		if len(am) != 1 || len(bm) != 1 {
			t.Fatalf("step %d: streams %d and %d", i, len(am), len(bm))
		}
		if st.aliceSends.IsValid() && (am[0].Addr != st.aliceSends || bm[0].Addr != st.bobSends || !am[0].Active || !bm[0].Active) {
			t.Errorf("step %d: Alice sends to %v (want %v), Bob to %v (want %v)", i, am[0].Addr, st.aliceSends, bm[0].Addr, st.bobSends)
		}
		if !st.aliceSends.IsValid() && (am[0].Active || bm[0].Active) {
			t.Errorf("step %d: inactive streams still active", i)
		}
		if am[0].Direction != st.aliceDir {
			t.Errorf("step %d: Alice's direction %v, want %v", i, am[0].Direction, st.aliceDir)
		}
		// §6.1: the codecs to send are those both sides list: PCMA only.
		if len(am[0].Codecs) != 1 || am[0].Codecs[0].Name != "PCMA" {
			t.Errorf("step %d: Alice's codecs %+v", i, am[0].Codecs)
		}
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, call, out)
	})
	n.quiesce()
	if a.ua.Media(call) != nil {
		t.Error("an ended call still has media")
	}
}

func mediaKinds(evs []effects.Event) []effects.EventKind {
	var out []effects.EventKind
	for _, e := range evs {
		if e.Kind >= effects.MediaStarted && e.Kind <= effects.MediaStopped {
			out = append(out, e.Kind)
		}
	}
	return out
}
