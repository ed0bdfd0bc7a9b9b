package ua

import (
	"bytes"
)

// onHold reports whether a session description puts the session on hold
// (RFC 3264 §8.4): every active media stream sendonly or inactive, or the
// legacy connection address 0.0.0.0.
func onHold(body []byte) bool {
	if len(body) == 0 {
		return false
	}
	sessionDir := "sendrecv"
	var media []string // the direction of each active stream
	inMedia, active := false, false
	dir := ""
	flush := func() {
		if inMedia && active {
			if dir == "" {
				dir = sessionDir
			}
			media = append(media, dir)
		}
	}
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		switch {
		case bytes.HasPrefix(line, []byte("m=")):
			flush()
			inMedia, dir = true, ""
			f := bytes.Fields(line[2:])
			active = len(f) > 1 && !bytes.Equal(f[1], []byte("0"))
		case bytes.HasPrefix(line, []byte("c=")) && bytes.HasSuffix(line, []byte(" 0.0.0.0")):
			return true
		case bytes.Equal(line, []byte("a=sendonly")), bytes.Equal(line, []byte("a=inactive")),
			bytes.Equal(line, []byte("a=recvonly")), bytes.Equal(line, []byte("a=sendrecv")):
			if inMedia {
				dir = string(line[2:])
			} else {
				sessionDir = string(line[2:])
			}
		}
	}
	flush()
	if len(media) == 0 {
		return false
	}
	for _, d := range media {
		if d != "sendonly" && d != "inactive" {
			return false
		}
	}
	return true
}
