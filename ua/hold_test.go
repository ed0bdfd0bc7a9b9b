package ua

import (
	"strings"
	"testing"
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
