package ua

import (
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sdp"
)

// Hold puts a call on hold (RFC 3264 §8.4, RFC 6337 §5.3): it offers again
// the session description this side sent last, with its next version and
// every active stream that received now not receiving (sendrecv becomes
// sendonly, recvonly inactive), in a re-INVITE, or an UPDATE with
// o.UseUpdate. It is Update with that offer: SessionModified follows the
// answer, and the peer's UA reports SessionHeld.
func (u *UA) Hold(now effects.Time, id CallID, o UpdateOptions, out []effects.Effect) ([]effects.Effect, error) {
	return u.redirect(now, id, o, sdp.Hold, out)
}

// Resume takes a call off hold: the same as Hold with the streams
// receiving again (sendonly becomes sendrecv, inactive recvonly).
func (u *UA) Resume(now effects.Time, id CallID, o UpdateOptions, out []effects.Effect) ([]effects.Effect, error) {
	return u.redirect(now, id, o, sdp.Resume, out)
}

func (u *UA) redirect(now effects.Time, id CallID, o UpdateOptions, change func(*sdp.Session, ...int) *sdp.Session, out []effects.Effect) ([]effects.Effect, error) {
	s, err := u.established(id)
	if err != nil && o.UseUpdate {
		s, err = u.early(id)
	}
	if err != nil {
		return out, err
	}
	if len(s.local) == 0 {
		return out, ErrState // no description of ours to change
	}
	desc, err := sdp.Parse(s.local)
	if err != nil {
		return out, err
	}
	return u.Update(now, id, change(desc).Marshal(), o, out)
}

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
