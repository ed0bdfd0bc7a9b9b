package ua

import "github.com/sansip/sansip/sdp"

// onHold reports whether the peer's session description puts the session
// on hold (RFC 3264 §8.4, RFC 6337 §5.3): it has active streams and every
// one of them is sendonly or inactive, or uses the legacy connection
// address 0.0.0.0. A body that is not a valid description holds nothing.
func onHold(body []byte) bool {
	if len(body) == 0 {
		return false
	}
	s, err := sdp.Parse(body)
	if err != nil {
		return false
	}
	active := 0
	for i := range s.Media {
		m := &s.Media[i]
		if m.Port == 0 {
			continue
		}
		active++
		if !m.OnHold(s) {
			return false
		}
	}
	return active > 0
}
