package ua

import (
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// RFC 3264 §8.4 and RFC 6337 §5.3: what puts a session on hold.
func TestOnHold(t *testing.T) {
	two := sdpOffer + "m=video 51372 RTP/AVP 31\r\n"
	for _, tc := range []struct {
		name string
		body string
		want bool
	}{
		{"sendrecv", sdpOffer, false},
		{"sendonly", hold(sdpOffer), true},
		{"inactive", strings.Replace(sdpOffer, "PCMU/8000\r\n", "PCMU/8000\r\na=inactive\r\n", 1), true},
		{"recvonly", strings.Replace(sdpOffer, "PCMU/8000\r\n", "PCMU/8000\r\na=recvonly\r\n", 1), false},
		{"session-level sendonly", strings.Replace(sdpOffer, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1), true},
		{"media overrides session", strings.Replace(strings.Replace(sdpOffer, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1), "PCMU/8000\r\n", "PCMU/8000\r\na=sendrecv\r\n", 1), false},
		{"c=0.0.0.0 (RFC 2543)", strings.Replace(sdpOffer, "c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0", 1), true},
		{"one of two streams", strings.Replace(two, "PCMU/8000\r\n", "PCMU/8000\r\na=sendonly\r\n", 1), false},
		{"disabled streams do not count", strings.Replace(strings.Replace(two, "PCMU/8000\r\n", "PCMU/8000\r\na=sendonly\r\n", 1), "m=video 51372", "m=video 0", 1), true},
		{"every stream disabled", strings.Replace(sdpOffer, "m=audio 49170", "m=audio 0", 1), false},
		{"not SDP", "hello", false},
		{"empty", "", false},
	} {
		if got := onHold([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: onHold = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// RFC 6337 §5.3: Hold and Resume offer the last description again with the
// direction changed; the peer sees the session held, then resumed, and
// each offer has the next o= version (RFC 3264 §8).
func TestHoldResumeCommands(t *testing.T) {
	n, a, b := pair(t, effects.UDP, Config{}, Config{})
	b.on = func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
			})
		case effects.CallReinvite:
			answer := sdpAnswer
			if strings.Contains(ev.Msg.Body(), "a=sendonly") {
				answer = strings.Replace(sdpAnswer, "PCMU/8000\r\n", "PCMU/8000\r\na=recvonly\r\n", 1)
			}
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(answer), out)
			})
		}
	}
	a.callTo(b, CallOptions{Body: []byte(sdpOffer)})
	n.run(time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hold(now, a.call, UpdateOptions{}, out)
	})
	n.run(2 * time.Second)
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Resume(now, a.call, UpdateOptions{UseUpdate: true}, out)
	})
	n.run(3 * time.Second)
	wantKinds(t, b, "incoming", "session-established", "answered", "reinvite", "session-modified", "session-held", "reinvite", "session-modified", "session-resumed")
	var offers []string
	for _, w := range n.wire {
		if w.from == "alice" && w.msg.IsRequest() && (w.msg.Method() == "INVITE" || w.msg.Method() == "UPDATE") {
			offers = append(offers, w.msg.Body())
		}
	}
	if len(offers) != 3 || !strings.Contains(offers[1], "a=sendonly") || !strings.Contains(offers[2], "a=sendrecv") ||
		!strings.Contains(offers[1], "o=alice 2890844526 2890844527 ") || !strings.Contains(offers[2], "o=alice 2890844526 2890844528 ") {
		t.Errorf("offers %q", offers)
	}
	if _, err := b.ua.Hold(n.now, 999, UpdateOptions{}, nil); err != ErrNoCall {
		t.Errorf("Hold of no call: %v", err)
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.ua.Hangup(now, a.call, out)
	})
	n.quiesce()
}
