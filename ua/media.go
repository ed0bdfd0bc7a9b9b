package ua

import (
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sdp"
)

// mediaChanged works out the streams the session's completed offer/answer
// exchange negotiated and reports how they differ from the last exchange's
// (issue: media start, change and stop): MediaStarted when the first
// stream becomes active, MediaStopped when the last one stops (hold to
// inactive, port 0), MediaChanged for any other change of address, port,
// codecs or direction. Descriptions that do not parse as SDP report
// nothing: the application reads its own body types.
func (s *session) mediaChanged(m *message.Message, out []effects.Effect) []effects.Effect {
	local, err1 := sdp.Parse(s.local)
	remote, err2 := sdp.Parse(s.remote)
	if err1 != nil || err2 != nil {
		return out
	}
	streams := sdp.Streams(local, remote)
	changes := sdp.Compare(s.streams, streams)
	wasActive, isActive := anyActive(s.streams), anyActive(streams)
	s.streams = streams
	switch {
	case len(changes) == 0:
		return out
	case !wasActive && isActive:
		return sessionEvent(out, s, effects.MediaStarted, m)
	case wasActive && !isActive:
		return sessionEvent(out, s, effects.MediaStopped, m)
	}
	return sessionEvent(out, s, effects.MediaChanged, m)
}

func anyActive(streams []sdp.Stream) bool {
	for _, st := range streams {
		if st.Active {
			return true
		}
	}
	return false
}

// Media returns the media streams the call's last completed offer/answer
// exchange negotiated, seen from this side (where to send, which codecs,
// which direction; see sdp.Stream), or nil when there are none yet. The
// slice is the UA's: read it, do not keep it past the next input.
func (u *UA) Media(id CallID) []sdp.Stream {
	c := u.calls[id]
	if c == nil {
		return nil
	}
	if c.kept != nil {
		return c.kept.streams
	}
	if live := liveSessions(c); len(live) == 1 {
		return live[0].streams
	}
	return nil
}
