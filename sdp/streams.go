package sdp

import (
	"net/netip"
	"strconv"
	"strings"
)

// Stream is one media stream of a negotiated session, seen from the local
// side: where to send, with which codecs, in which direction. Streams builds
// them from the two descriptions of an offer/answer exchange; Compare tells
// what changed between two exchanges.
type Stream struct {
	Index      int            // position of the m= line
	Type       string         // audio, video, ...
	Proto      string         // the remote description's transport
	Host       string         // the remote connection address as written (media c=, else session c=); "" if none
	Addr       netip.AddrPort // Host and Port, when Host is an IP address and Port is not 0
	Port       int            // the remote port; 0 when the remote disabled the stream
	LocalPort  int            // the local port; 0 when the local side disabled the stream
	Codecs     []Codec        // the remote's RTP codecs the local side also lists, in the remote's order and with its payload types: what to send
	Direction  Direction      // what the local side may do: SendOnly means send but do not expect media
	Active     bool           // both ports non-zero and Direction not Inactive
	LocalHold  bool           // the local description holds the stream (Media.OnHold)
	RemoteHold bool           // the remote description holds the stream
}

// Streams describes the streams a local and a remote description negotiate,
// one per m= line of the longer of the two. Either may be nil: without a
// local description, every remote codec counts and the direction is the
// remote's reversed.
//
// The direction combines both sides: the local one's, the remote one's
// reversed (RFC 3264 §6.1), and the legacy hold of RFC 3264 §8.4 (a c= of
// 0.0.0.0 means "do not send to me").
func Streams(local, remote *Session) []Stream {
	var nl, nr int
	if local != nil {
		nl = len(local.Media)
	}
	if remote != nil {
		nr = len(remote.Media)
	}
	out := make([]Stream, max(nl, nr))
	for i := range out {
		st := &out[i]
		st.Index = i
		dir := SendRecv
		var lm, rm *Media
		if i < nl {
			lm = &local.Media[i]
			st.Type, st.Proto, st.LocalPort = lm.Type, lm.Proto, lm.Port
			dir = lm.Direction(local)
			if lm.blackHole(local) {
				dir = direction(dir.Sends(), false)
			}
			st.LocalHold = lm.OnHold(local)
		}
		if i < nr {
			rm = &remote.Media[i]
			st.Type, st.Proto, st.Port = rm.Type, rm.Proto, rm.Port
			if c := rm.connection(remote); c != nil {
				st.Host = c.Address
				if ip, err := netip.ParseAddr(c.Address); err == nil && rm.Port > 0 && rm.Port <= 65535 {
					st.Addr = netip.AddrPortFrom(ip, uint16(rm.Port))
				}
			}
			rd := rm.Direction(remote).Reverse()
			if rm.blackHole(remote) {
				rd = direction(false, rd.Receives())
			}
			dir = dir.Intersect(rd)
			st.RemoteHold = rm.OnHold(remote)
			switch {
			case lm == nil:
				st.Codecs = rm.Codecs()
			case rm.IsRTP():
				lcs := lm.Codecs()
				for _, rc := range rm.Codecs() {
					for _, lc := range lcs {
						if rc.Matches(lc) {
							st.Codecs = append(st.Codecs, rc)
							break
						}
					}
				}
			}
		}
		st.Direction = dir
		st.Active = st.Port != 0 && (local == nil || st.LocalPort != 0) && (remote != nil && i < nr) && dir != Inactive
	}
	return out
}

// ChangeKind says what happened to a stream between two exchanges.
type ChangeKind uint8

// The kinds of change.
const (
	Started  ChangeKind = iota + 1 // the stream became active
	Stopped                        // the stream is no longer active (disabled, removed or inactive)
	Modified                       // the stream stayed active but changed
)

// String returns "started", "stopped" or "modified".
func (k ChangeKind) String() string {
	switch k {
	case Started:
		return "started"
	case Stopped:
		return "stopped"
	case Modified:
		return "modified"
	}
	return "none"
}

// Changed is a set of the things that changed in a stream.
type Changed uint8

// What may change in a stream.
const (
	ChangedAddr      Changed = 1 << iota // the remote address or port
	ChangedLocalPort                     // the local port
	ChangedCodecs                        // the codec list, payload types or fmtp
	ChangedDirection                     // the direction
	ChangedHold                          // LocalHold or RemoteHold
	ChangedTransport                     // the media type or transport
)

// String returns the changed things joined by "|": "addr|codecs".
func (c Changed) String() string {
	names := [...]string{"addr", "localport", "codecs", "direction", "hold", "transport"}
	var parts []string
	for i, n := range names {
		if c&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "|")
}

// Change is one stream's change between two exchanges.
type Change struct {
	Kind   ChangeKind
	Index  int
	Stream Stream  // the stream after the change (before it, for a stream that is gone)
	Old    Stream  // the stream before the change; zero for a new stream
	What   Changed // for Modified, what changed; for Started and Stopped, what differs from Old
}

// String returns "stream 0 (audio) modified: direction|hold".
func (c Change) String() string {
	s := "stream " + strconv.Itoa(c.Index) + " (" + c.Stream.Type + ") " + c.Kind.String()
	if c.What != 0 {
		s += ": " + c.What.String()
	}
	return s
}

// Compare returns what changed from the streams of one exchange to those of
// the next, in stream order: streams that became active (Started), stopped
// being active (Stopped; a hold to inactive is one, with RemoteHold or
// LocalHold set), or stayed active with a new address, port, codec list,
// direction or hold state (Modified). It returns nil when nothing changed;
// the first exchange of a dialog compares against nil.
func Compare(before, after []Stream) []Change {
	var out []Change
	for i := 0; i < max(len(before), len(after)); i++ {
		var o, n Stream
		if i < len(before) {
			o = before[i]
		}
		if i < len(after) {
			n = after[i]
		}
		what := diff(o, n)
		ch := Change{Index: i, Stream: n, Old: o, What: what}
		switch {
		case !o.Active && n.Active:
			ch.Kind = Started
		case o.Active && !n.Active:
			ch.Kind = Stopped
			if i >= len(after) {
				ch.Stream = o
			}
		case o.Active && n.Active && what != 0:
			ch.Kind = Modified
		default:
			continue
		}
		out = append(out, ch)
	}
	return out
}

func diff(o, n Stream) Changed {
	var c Changed
	if o.Host != n.Host || o.Port != n.Port {
		c |= ChangedAddr
	}
	if o.LocalPort != n.LocalPort {
		c |= ChangedLocalPort
	}
	if !equalCodecs(o.Codecs, n.Codecs) {
		c |= ChangedCodecs
	}
	if o.Direction != n.Direction {
		c |= ChangedDirection
	}
	if o.LocalHold != n.LocalHold || o.RemoteHold != n.RemoteHold {
		c |= ChangedHold
	}
	if o.Type != n.Type || !equalFold(o.Proto, n.Proto) {
		c |= ChangedTransport
	}
	return c
}

func equalCodecs(a, b []Codec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
