package sdp

import (
	"strconv"
	"strings"
)

// Codec is an RTP payload format of a media description: its payload type
// and what a=rtpmap (RFC 8866 §6.6) and a=fmtp (§6.15) say of it, or what
// RFC 3551 §6 assigns to a static payload type without an rtpmap.
type Codec struct {
	Payload   int    // RTP payload type, 0-127
	Name      string // encoding name as written: PCMU, opus, telephone-event; "" when unknown
	ClockRate int    // Hz
	Channels  int    // encoding parameters (channels for audio); 0 when not given, meaning one
	Fmtp      string // format parameters, "" when none
}

// String returns the rtpmap form "name/rate[/channels]".
func (c Codec) String() string {
	s := c.Name + "/" + strconv.Itoa(c.ClockRate)
	if c.Channels != 0 {
		s += "/" + strconv.Itoa(c.Channels)
	}
	return s
}

// staticCodecs are the static payload types of RFC 3551 §6, tables 4 and 5.
var staticCodecs = [35]Codec{
	0:  {0, "PCMU", 8000, 0, ""},
	3:  {3, "GSM", 8000, 0, ""},
	4:  {4, "G723", 8000, 0, ""},
	5:  {5, "DVI4", 8000, 0, ""},
	6:  {6, "DVI4", 16000, 0, ""},
	7:  {7, "LPC", 8000, 0, ""},
	8:  {8, "PCMA", 8000, 0, ""},
	9:  {9, "G722", 8000, 0, ""},
	10: {10, "L16", 44100, 2, ""},
	11: {11, "L16", 44100, 0, ""},
	12: {12, "QCELP", 8000, 0, ""},
	13: {13, "CN", 8000, 0, ""},
	14: {14, "MPA", 90000, 0, ""},
	15: {15, "G728", 8000, 0, ""},
	16: {16, "DVI4", 11025, 0, ""},
	17: {17, "DVI4", 22050, 0, ""},
	18: {18, "G729", 8000, 0, ""},
	25: {25, "CelB", 90000, 0, ""},
	26: {26, "JPEG", 90000, 0, ""},
	28: {28, "nv", 90000, 0, ""},
	31: {31, "H261", 90000, 0, ""},
	32: {32, "MPV", 90000, 0, ""},
	33: {33, "MP2T", 90000, 0, ""},
	34: {34, "H263", 90000, 0, ""},
}

// StaticCodec returns the codec RFC 3551 §6 assigns to a static payload
// type, if any.
func StaticCodec(pt int) (Codec, bool) {
	if pt < 0 || pt >= len(staticCodecs) || staticCodecs[pt].Name == "" {
		return Codec{}, false
	}
	return staticCodecs[pt], true
}

// staticPayload returns the static payload type of a codec, if it has one.
func staticPayload(c Codec) (int, bool) {
	for pt, s := range staticCodecs {
		if s.Name != "" && sameFormat(s, c) {
			return pt, true
		}
	}
	return 0, false
}

// IsRTP reports whether the stream's transport is an RTP profile (RTP/AVP,
// RTP/SAVPF, UDP/TLS/RTP/SAVPF, ...), whose formats are payload types.
func (m *Media) IsRTP() bool { return strings.Contains(lower(m.Proto), "rtp/") }

// ParseRTPMap parses the value of an rtpmap attribute: "96 opus/48000/2".
func ParseRTPMap(v string) (Codec, bool) {
	pt, rest, ok := cut(v, ' ')
	if !ok {
		return Codec{}, false
	}
	n, ok := parseInt(pt, 127)
	if !ok {
		return Codec{}, false
	}
	name, rest, ok := cut(trimSP(rest), '/')
	if !ok || !isToken(name) {
		return Codec{}, false
	}
	rate, chans, hasChans := cut(rest, '/')
	c := Codec{Payload: n, Name: name}
	if c.ClockRate, ok = parseInt(rate, 1<<31-1); !ok {
		return Codec{}, false
	}
	if hasChans {
		if c.Channels, ok = parseInt(chans, 1<<31-1); !ok {
			return Codec{}, false
		}
	}
	return c, true
}

// payloadAttr returns the payload type and the rest of an rtpmap or fmtp
// value.
func payloadAttr(v string) (int, string, bool) {
	pt, rest, _ := cut(v, ' ')
	n, ok := parseInt(pt, 127)
	return n, rest, ok
}

// Codecs returns the stream's RTP payload formats in the order of its m=
// line, described by its rtpmap and fmtp attributes (the first of each for
// a payload type) or, for a static payload type without an rtpmap, by
// RFC 3551. A payload type that is neither has a Codec with an empty Name.
// Codecs returns nil for a stream whose transport is not RTP.
func (m *Media) Codecs() []Codec {
	if !m.IsRTP() || len(m.Formats) == 0 {
		return nil
	}
	var idx codecIndex
	idx.build(m.Attributes)
	codecs := make([]Codec, 0, len(m.Formats))
	for _, f := range m.Formats {
		if pt, ok := parseInt(f, 127); ok {
			codecs = append(codecs, idx.codec(pt))
		}
	}
	return codecs
}

// Codec returns the codec of payload type pt, if the m= line lists it.
func (m *Media) Codec(pt int) (Codec, bool) {
	if !m.IsRTP() {
		return Codec{}, false
	}
	for _, f := range m.Formats {
		if n, ok := parseInt(f, 127); ok && n == pt {
			var idx codecIndex
			idx.build(m.Attributes)
			return idx.codec(pt), true
		}
	}
	return Codec{}, false
}

// codecIndex holds, for each payload type, where its first valid rtpmap
// and its first fmtp are (index+1 in the attributes, 0 for none), found in
// one pass over the attributes.
type codecIndex struct {
	as           Attributes
	rtpmap, fmtp [128]int32
}

func (x *codecIndex) build(as Attributes) {
	x.as = as
	for i, a := range as {
		switch a.Name {
		case "rtpmap":
			if r, ok := ParseRTPMap(a.Value); ok && x.rtpmap[r.Payload] == 0 {
				x.rtpmap[r.Payload] = int32(i + 1)
			}
		case "fmtp":
			if n, _, ok := payloadAttr(a.Value); ok && x.fmtp[n] == 0 {
				x.fmtp[n] = int32(i + 1)
			}
		}
	}
}

func (x *codecIndex) codec(pt int) Codec {
	c := Codec{Payload: pt}
	if i := x.fmtp[pt]; i != 0 {
		_, c.Fmtp, _ = payloadAttr(x.as[i-1].Value)
	}
	if i := x.rtpmap[pt]; i != 0 {
		r, _ := ParseRTPMap(x.as[i-1].Value)
		c.Name, c.ClockRate, c.Channels = r.Name, r.ClockRate, r.Channels
	} else if s, ok := StaticCodec(pt); ok {
		c.Name, c.ClockRate, c.Channels = s.Name, s.ClockRate, s.Channels
	}
	return c
}

func channels(n int) int {
	if n == 0 {
		return 1
	}
	return n
}

// sameFormat reports whether two codecs have the same encoding name (case
// does not matter, RFC 4855 §3), clock rate and number of channels.
func sameFormat(a, b Codec) bool {
	return a.Name != "" && equalFold(a.Name, b.Name) && a.ClockRate == b.ClockRate &&
		channels(a.Channels) == channels(b.Channels)
}

// Matches reports whether two codecs are the same payload format, whatever
// their payload types: same encoding name, clock rate and channels, and,
// for the formats whose fmtp parameters define incompatible variants, the
// same variant: H.264 packetization-mode and profile (RFC 6184 §8.2.2), H.265
// profile-id, VP9 profile-id, AV1 profile, AMR and AMR-WB octet-align
// (RFC 4867 §8.3.1), and telephone-event events in common (RFC 4733 §7.1.1).
func (c Codec) Matches(o Codec) bool {
	if !sameFormat(c, o) {
		return false
	}
	switch lower(c.Name) {
	case "h264":
		return fmtpParam(c.Fmtp, "packetization-mode", "0") == fmtpParam(o.Fmtp, "packetization-mode", "0") &&
			equalFold(profileIDC(c.Fmtp), profileIDC(o.Fmtp))
	case "h265":
		return fmtpParam(c.Fmtp, "profile-id", "1") == fmtpParam(o.Fmtp, "profile-id", "1")
	case "vp9":
		return fmtpParam(c.Fmtp, "profile-id", "0") == fmtpParam(o.Fmtp, "profile-id", "0")
	case "av1":
		return fmtpParam(c.Fmtp, "profile", "0") == fmtpParam(o.Fmtp, "profile", "0")
	case "amr", "amr-wb":
		return fmtpParam(c.Fmtp, "octet-align", "0") == fmtpParam(o.Fmtp, "octet-align", "0")
	case "telephone-event":
		return intersectEvents(c.Fmtp, o.Fmtp) != ""
	}
	return true
}

// profileIDC returns the profile_idc of an H.264 profile-level-id: its first
// byte in hex ("42" for baseline when absent, RFC 6184 §8.1).
func profileIDC(fmtp string) string {
	p := fmtpParam(fmtp, "profile-level-id", "42")
	if len(p) >= 2 {
		return p[:2]
	}
	return p
}

// fmtpParam returns the value of a "name=value" parameter of an fmtp
// parameter list ("a=1; b=2"), names compared case-insensitively.
func fmtpParam(fmtp, name, def string) string {
	for fmtp != "" {
		var p string
		p, fmtp, _ = cut(fmtp, ';')
		k, v, _ := cut(trimSP(p), '=')
		if equalFold(trimSP(k), name) {
			return trimSP(v)
		}
	}
	return def
}

// isAuxiliary reports whether a format carries no media of its own: DTMF
// events, comfort noise, redundancy, FEC and retransmission.
func isAuxiliary(name string) bool {
	switch lower(name) {
	case "telephone-event", "cn", "red", "ulpfec", "flexfec", "flexfec-03", "rtx":
		return true
	}
	return false
}

// eventRange is an inclusive range of RFC 4733 event codes.
type eventRange struct{ lo, hi int }

// parseEvents parses an RFC 4733 events list, "0-15,66,70"; an empty list
// means the default, 0-15 (RFC 4733 §7.1.1). Malformed items are skipped.
func parseEvents(s string) []eventRange {
	s = trimSP(s)
	if s == "" {
		s = "0-15"
	}
	var rs []eventRange
	for s != "" {
		var item string
		item, s, _ = cut(s, ',')
		a, b, isRange := cut(trimSP(item), '-')
		lo, ok1 := parseInt(trimSP(a), 255)
		hi, ok2 := lo, true
		if isRange {
			hi, ok2 = parseInt(trimSP(b), 255)
		}
		if ok1 && ok2 && lo <= hi {
			rs = append(rs, eventRange{lo, hi})
		}
	}
	return rs
}

// intersectEvents returns the events two lists have in common, as a list in
// ascending order ("0-15"), or "" if they have none.
func intersectEvents(a, b string) string {
	var in [256]bool
	ra, rb := parseEvents(a), parseEvents(b)
	for _, x := range ra {
		for _, y := range rb {
			for e := max(x.lo, y.lo); e <= min(x.hi, y.hi); e++ {
				in[e] = true
			}
		}
	}
	var sb strings.Builder
	for e := 0; e < len(in); e++ {
		if !in[e] {
			continue
		}
		start := e
		for e+1 < len(in) && in[e+1] {
			e++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(start))
		if e > start {
			sb.WriteByte('-')
			sb.WriteString(strconv.Itoa(e))
		}
	}
	return sb.String()
}
