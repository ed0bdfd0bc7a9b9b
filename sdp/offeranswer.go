package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Capabilities is what one side of an offer/answer exchange (RFC 3264) can
// do, from which Offer and Answer build its session descriptions.
type Capabilities struct {
	// Origin of a new session (RFC 8866 §5.2). The package has no random
	// source or clock: a fresh SessionID (and a SessionVersion, often the
	// same number) comes from the caller, e.g. from the embedder's
	// identifier generator. Ignored when Previous is set.
	Username       string // "-" when empty
	SessionID      uint64
	SessionVersion uint64
	OriginAddress  string // o= address; Address when empty

	// Address is the session-level c= address: an IP address (IP4 or IP6
	// follows from it) or a domain name (IP4). It must not be empty.
	Address string
	// SessionName is the s= line, "-" when empty. Ignored when Previous
	// is set.
	SessionName string
	// Direction is the direction this side wants for every stream (zero:
	// SendRecv); a MediaCapability may override it.
	Direction Direction
	// Media lists what this side supports, per media type. Answer uses
	// the first entry whose Type and Protos match an offered stream and
	// that has a codec (or format) in common with it; Offer offers one
	// stream per entry, in order.
	Media []MediaCapability
	// Port, if set, picks the port of the stream at index (the offered
	// stream for Answer, the new one for Offer); 0 rejects it (Answer) or
	// disables it (Offer). Without it, a stream reuses its port in
	// Previous, or takes MediaCapability.Port plus 2 for each earlier
	// stream that used the same capability.
	Port func(index int, m *Media) int
	// Previous is the last description this side sent in the session, if
	// any. Its o= line is kept, with the version incremented only if the
	// new description differs (RFC 3264 §8), and its s= line and ports are
	// reused.
	Previous *Session
	// Bundle accepts a=group:BUNDLE (RFC 8843): Answer answers each
	// offered BUNDLE group with its accepted mids and gives the group's
	// streams one port; Offer gives streams mids "0", "1", ... and offers
	// them in one group.
	Bundle bool
	// Attributes are session-level attributes to add: ice-ufrag, ice-pwd,
	// fingerprint, ice-options, ...
	Attributes Attributes
}

// MediaCapability is what one side supports for one media type.
type MediaCapability struct {
	Type   string   // "audio", "video", "application", "image", ...
	Protos []string // transports accepted, compared case-insensitively; RTP/AVP when empty
	// Codecs, for RTP transports, in order of preference. Payload is
	// ignored by Answer (the offerer's numbers are kept); Offer uses the
	// static payload type of RFC 3551 if the codec has one, else Payload
	// if dynamic (96-127), else the next free dynamic number. Fmtp, when
	// set, is what the answer carries for the codec (for telephone-event,
	// the events both sides support).
	Codecs []Codec
	// Formats, for other transports: the fmt values supported
	// ("webrtc-datachannel", "t38", "*").
	Formats   []string
	Port      int       // port of the first such stream (see Capabilities.Port)
	Address   string    // media-level c= address, when it differs from the session's
	Direction Direction // overrides Capabilities.Direction when non-zero
	RTCPMux   bool      // offers a=rtcp-mux, and accepts it when offered (RFC 5761)
	// Attributes are media-level attributes to add to every stream this
	// capability accepts: ptime, candidates, ...
	Attributes Attributes
}

func (mc *MediaCapability) protos() []string {
	if len(mc.Protos) == 0 {
		return []string{"RTP/AVP"}
	}
	return mc.Protos
}

func (mc *MediaCapability) accepts(m *Media) bool {
	if !equalFold(mc.Type, m.Type) {
		return false
	}
	for _, p := range mc.protos() {
		if equalFold(p, m.Proto) {
			return true
		}
	}
	return false
}

func (local *Capabilities) direction(mc *MediaCapability) Direction {
	switch {
	case mc.Direction != 0:
		return mc.Direction
	case local.Direction != 0:
		return local.Direction
	}
	return SendRecv
}

// withoutDirection returns a copy of as without direction attributes, which
// Offer and Answer write themselves from Capabilities.Direction.
func withoutDirection(as Attributes) Attributes {
	var out Attributes
	for _, a := range as {
		if _, ok := ParseDirection(a.Name); ok && !a.HasValue {
			continue
		}
		out = append(out, a)
	}
	return out
}

// connectionFor returns a c= line for an address.
func connectionFor(addr string) Connection {
	at := "IP4"
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		at = "IP6"
	} else if err != nil && indexByte(addr, ':') >= 0 {
		at = "IP6"
	}
	return Connection{NetType: "IN", AddrType: at, Address: addr}
}

// base returns the session-level part of a new description.
func (local *Capabilities) base() (*Session, error) {
	if local.Address == "" {
		return nil, errors.New("sdp: Capabilities.Address is empty")
	}
	s := &Session{}
	if p := local.Previous; p != nil {
		s.Origin, s.Name = p.Origin, p.Name
	} else {
		oa := or(local.OriginAddress, local.Address)
		s.Origin = Origin{
			Username:       or(local.Username, "-"),
			SessionID:      local.SessionID,
			SessionVersion: local.SessionVersion,
			NetType:        "IN",
			AddrType:       connectionFor(oa).AddrType,
			Address:        oa,
		}
		s.Name = or(local.SessionName, "-")
	}
	c := connectionFor(local.Address)
	s.Connection = &c
	s.Attributes = withoutDirection(local.Attributes)
	return s, nil
}

// finish sets the o= version (RFC 3264 §8: the previous one if nothing
// changed, the next one otherwise) and checks that s renders faithfully.
func (local *Capabilities) finish(s *Session) (*Session, error) {
	if p := local.Previous; p != nil && !bytes.Equal(s.Marshal(), p.Marshal()) {
		s.Origin.SessionVersion = p.Origin.SessionVersion + 1
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// port picks the port of stream i (see Capabilities.Port).
func (local *Capabilities) port(i int, m *Media, mc *MediaCapability, used int) int {
	if local.Port != nil {
		return local.Port(i, m)
	}
	if p := local.Previous; p != nil && i < len(p.Media) && p.Media[i].Port != 0 && equalFold(p.Media[i].Type, m.Type) {
		return p.Media[i].Port
	}
	if mc.Port == 0 {
		return 0
	}
	return mc.Port + 2*used
}

// appendCodecAttrs appends the rtpmap and fmtp lines of codecs.
func appendCodecAttrs(as Attributes, codecs []Codec) Attributes {
	for _, c := range codecs {
		pt := strconv.Itoa(c.Payload)
		if c.Name != "" {
			as = append(as, Attribute{Name: "rtpmap", Value: pt + " " + c.String(), HasValue: true})
		}
		if c.Fmtp != "" {
			as = append(as, Attribute{Name: "fmtp", Value: pt + " " + c.Fmtp, HasValue: true})
		}
	}
	return as
}

// Offer builds an offer (RFC 3264 §5) with one stream per media capability,
// in order, each listing the capability's codecs (or formats) in order.
func Offer(local Capabilities) (*Session, error) {
	s, err := local.base()
	if err != nil {
		return nil, err
	}
	s.Times = []Time{{}}
	var mids []string
	for i := range local.Media {
		mc := &local.Media[i]
		m := Media{Type: mc.Type, Proto: mc.protos()[0]}
		if !isToken(m.Type) {
			return nil, fmt.Errorf("sdp: offer: media %d: malformed type %q", i, mc.Type)
		}
		var codecs []Codec
		if m.IsRTP() {
			var taken [128]bool
			for _, c := range mc.Codecs {
				if pt, ok := staticPayload(c); ok && !taken[pt] {
					c.Payload = pt
				} else if c.Payload < 96 || c.Payload > 127 || taken[c.Payload] {
					c.Payload = -1
					for pt := 96; pt < 128; pt++ {
						if !taken[pt] {
							c.Payload = pt
							break
						}
					}
					if c.Payload < 0 {
						return nil, fmt.Errorf("sdp: offer: media %d: more than 32 dynamic payload types", i)
					}
				}
				taken[c.Payload] = true
				codecs = append(codecs, c)
				m.Formats = append(m.Formats, strconv.Itoa(c.Payload))
			}
		} else {
			m.Formats = append(m.Formats, mc.Formats...)
		}
		if len(m.Formats) == 0 {
			return nil, fmt.Errorf("sdp: offer: media %d (%s) has no codecs or formats", i, mc.Type)
		}
		m.Port = local.port(i, &m, mc, 0)
		if mc.Address != "" {
			m.Connections = []Connection{connectionFor(mc.Address)}
		}
		if local.Bundle {
			mid := strconv.Itoa(i)
			m.Attributes = append(m.Attributes, Attribute{Name: "mid", Value: mid, HasValue: true})
			mids = append(mids, mid)
		}
		m.Attributes = appendCodecAttrs(m.Attributes, codecs)
		if mc.RTCPMux {
			m.Attributes = append(m.Attributes, Attribute{Name: "rtcp-mux"})
		}
		m.Attributes = append(m.Attributes, withoutDirection(mc.Attributes)...)
		if d := local.direction(mc); d != SendRecv {
			m.Attributes = append(m.Attributes, Attribute{Name: d.String()})
		}
		s.Media = append(s.Media, m)
	}
	if len(mids) > 0 {
		s.Attributes = append(s.Attributes, Attribute{Name: "group", Value: joinSP("BUNDLE", mids), HasValue: true})
	}
	return local.finish(s)
}

func joinSP(first string, rest []string) string {
	n := len(first)
	for _, r := range rest {
		n += 1 + len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, first...)
	for _, r := range rest {
		b = append(b, ' ')
		b = append(b, r...)
	}
	return string(b)
}

// Answer builds the answer to an offer (RFC 3264 §6) from this side's
// capabilities:
//
//   - one media description per offered one, in the same order, of the same
//     type and transport (§6);
//   - port 0 for a stream the offer disabled, whose type and transport no
//     capability accepts, with no format in common, or with only auxiliary
//     formats (telephone-event, CN, RED, FEC, RTX) in common when the offer
//     had a real codec; it keeps the first offered format and its rtpmap,
//     as in RFC 4317's examples, and its mid;
//   - for RTP, the offered codecs that match a local one (Codec.Matches),
//     in the offerer's order of preference, with the offerer's payload
//     types (§6.1), rtpmap and fmtp (the local fmtp when set; for
//     telephone-event the events both support); RTX only for a kept
//     codec; for other transports, the offered formats the capability
//     lists;
//   - the direction this side wants, limited by the offer's (§6.1):
//     local.Intersect(offered.Reverse()), written when not sendrecv;
//   - the offer's t= lines (§6), a=mid echoed, a=rtcp-mux when offered and
//     supported, a=setup answering the offer's (RFC 4145 §4.1), BUNDLE
//     groups if Bundle is set.
//
// Answer does not fail because no stream could be accepted: such an answer
// (every port 0) is valid, and whether to send it or reject the offer is
// the caller's choice (Streams tells which streams are active).
func Answer(offer *Session, local Capabilities) (*Session, error) {
	if offer == nil {
		return nil, errors.New("sdp: answer: no offer")
	}
	a, err := local.base()
	if err != nil {
		return nil, err
	}
	a.Times = make([]Time, len(offer.Times))
	for i, t := range offer.Times {
		t.Repeats = append([]string(nil), t.Repeats...)
		a.Times[i] = t
	}

	// BUNDLE groups: which group each offered mid belongs to.
	var groups [][]string
	groupOf := map[string]int{}
	if local.Bundle {
		groups = offer.BundleGroups()
		for gi, g := range groups {
			for _, mid := range g {
				if _, dup := groupOf[mid]; !dup && mid != "" {
					groupOf[mid] = gi
				}
			}
		}
	}
	groupPort := make([]int, len(groups))
	accepted := map[string]bool{}

	used := make([]int, len(local.Media))
	a.Media = make([]Media, len(offer.Media))
	for i := range offer.Media {
		om := &offer.Media[i]
		gi, bundled := groupOf[om.MID()]
		if !bundled {
			gi = -1
		}
		am, ci, ok := local.answerMedia(i, offer, om)
		if ok {
			mc := &local.Media[ci]
			switch {
			case gi >= 0 && groupPort[gi] != 0 && local.Port == nil:
				am.Port = groupPort[gi]
			default:
				am.Port = local.port(i, om, mc, used[ci])
			}
			if am.Port <= 0 || am.Port > 65535 {
				ok = false
			} else {
				used[ci]++
				if gi >= 0 && groupPort[gi] == 0 {
					groupPort[gi] = am.Port
				}
				if mid := om.MID(); mid != "" {
					accepted[mid] = true
				}
			}
		}
		if !ok {
			am = rejected(om)
		}
		a.Media[i] = am
	}
	for _, g := range groups {
		var mids []string
		for _, mid := range g {
			if accepted[mid] {
				mids = append(mids, mid)
			}
		}
		if len(mids) > 0 {
			a.Attributes = append(a.Attributes, Attribute{Name: "group", Value: joinSP("BUNDLE", mids), HasValue: true})
		}
	}
	return local.finish(a)
}

// rejected returns the answer's media description for a rejected stream.
func rejected(om *Media) Media {
	m := Media{Type: om.Type, Proto: om.Proto}
	if len(om.Formats) > 0 {
		m.Formats = []string{om.Formats[0]}
		if pt, ok := parseInt(om.Formats[0], 127); ok && om.IsRTP() {
			for _, at := range om.Attributes {
				if at.Name == "rtpmap" {
					if n, _, ok := payloadAttr(at.Value); ok && n == pt {
						m.Attributes = append(m.Attributes, at)
						break
					}
				}
			}
		}
	}
	if mid, ok := om.Attributes.Get("mid"); ok && mid != "" {
		m.Attributes = append(Attributes{{Name: "mid", Value: mid, HasValue: true}}, m.Attributes...)
	}
	return m
}

// answerMedia builds the answer to offered stream i, without its port; ok is
// false when the stream is rejected. ci is the capability that accepted it.
func (local *Capabilities) answerMedia(i int, offer *Session, om *Media) (m Media, ci int, ok bool) {
	if om.Port == 0 {
		return Media{}, 0, false
	}
	m = Media{Type: om.Type, Proto: om.Proto}
	var codecs []Codec
	var offered []Codec
	if om.IsRTP() {
		offered = om.Codecs()
	}
	ci = -1
	for j := range local.Media {
		mc := &local.Media[j]
		if !mc.accepts(om) {
			continue
		}
		if om.IsRTP() {
			if codecs = chooseCodecs(offered, mc.Codecs); codecs == nil {
				continue
			}
			m.Formats = make([]string, len(codecs))
			for k, c := range codecs {
				m.Formats[k] = strconv.Itoa(c.Payload)
			}
		} else {
			for _, f := range om.Formats {
				if contains(mc.Formats, f) {
					m.Formats = append(m.Formats, f)
				}
			}
			if len(m.Formats) == 0 {
				continue
			}
		}
		ci = j
		break
	}
	if ci < 0 {
		return Media{}, 0, false
	}
	mc := &local.Media[ci]
	if mc.Address != "" {
		m.Connections = []Connection{connectionFor(mc.Address)}
	}
	if mid, ok := om.Attributes.Get("mid"); ok && mid != "" {
		m.Attributes = append(m.Attributes, Attribute{Name: "mid", Value: mid, HasValue: true})
	}
	m.Attributes = appendCodecAttrs(m.Attributes, codecs)
	if mc.RTCPMux && om.RTCPMux() {
		m.Attributes = append(m.Attributes, Attribute{Name: "rtcp-mux"})
	}
	if setup := om.Setup(offer); setup != "" && !mc.Attributes.Has("setup") && !local.Attributes.Has("setup") {
		if r := answerSetup(setup); r != "" {
			m.Attributes = append(m.Attributes, Attribute{Name: "setup", Value: r, HasValue: true})
		}
	}
	m.Attributes = append(m.Attributes, withoutDirection(mc.Attributes)...)
	if d := local.direction(mc).Intersect(om.Direction(offer).Reverse()); d != SendRecv {
		m.Attributes = append(m.Attributes, Attribute{Name: d.String()})
	}
	return m, ci, true
}

// answerSetup returns the a=setup answer to an offered role (RFC 4145 §4.1;
// RFC 5763 §5 makes the answerer to actpass active).
func answerSetup(offered string) string {
	switch offered {
	case "actpass", "passive":
		return "active"
	case "active":
		return "passive"
	case "holdconn":
		return "holdconn"
	}
	return ""
}

// chooseCodecs returns the offered codecs that match a local one, in the
// offer's order, or nil if the stream should be rejected.
func chooseCodecs(offered, local []Codec) []Codec {
	var chosen []Codec
	var seen [128]bool
	real, offerReal := false, false
	for _, oc := range offered {
		if oc.Name != "" && !isAuxiliary(oc.Name) {
			offerReal = true
		}
		if seen[oc.Payload] {
			continue
		}
		for _, lc := range local {
			if !oc.Matches(lc) {
				continue
			}
			c := oc
			switch lower(oc.Name) {
			case "rtx":
				// apt names an offered payload type: keep the offer's.
			case "telephone-event":
				if lc.Fmtp != "" {
					c.Fmtp = intersectEvents(oc.Fmtp, lc.Fmtp)
				}
			default:
				if lc.Fmtp != "" {
					c.Fmtp = lc.Fmtp
				}
			}
			seen[c.Payload] = true
			chosen = append(chosen, c)
			if !isAuxiliary(c.Name) {
				real = true
			}
			break
		}
	}
	if !real && offerReal {
		return nil
	}
	// RTX streams only for a kept codec (RFC 4588 §8.6: apt).
	n := 0
	for _, c := range chosen {
		if equalFold(c.Name, "rtx") {
			apt, ok := parseInt(fmtpParam(c.Fmtp, "apt", ""), 127)
			if !ok || !seen[apt] || equalFold(codecByPT(chosen, apt).Name, "rtx") {
				continue
			}
		}
		chosen[n] = c
		n++
	}
	if n == 0 {
		return nil
	}
	return chosen[:n]
}

func codecByPT(cs []Codec, pt int) Codec {
	for _, c := range cs {
		if c.Payload == pt {
			return c
		}
	}
	return Codec{}
}

// Validate checks an answer against its offer (RFC 3264 §6): the same
// number of media descriptions, each of the same type, a stream the offer
// disabled disabled in the answer, and for each accepted stream the same
// transport, formats the offer has (RTP codecs compared with Codec.Matches,
// so payload types may differ) and a direction the offer allows. The error
// names the first problem and wraps ErrMediaCount, ErrMediaType, ErrPort,
// ErrCodec or ErrDirection.
func Validate(offer, answer *Session) error {
	if offer == nil || answer == nil {
		return errors.New("sdp: validate: missing offer or answer")
	}
	if len(offer.Media) != len(answer.Media) {
		return fmt.Errorf("sdp: %w: offer %d, answer %d", ErrMediaCount, len(offer.Media), len(answer.Media))
	}
	for i := range offer.Media {
		om, am := &offer.Media[i], &answer.Media[i]
		if !equalFold(om.Type, am.Type) {
			return fmt.Errorf("sdp: m-line %d: %w: %s answered by %s", i, ErrMediaType, om.Type, am.Type)
		}
		if am.Port == 0 {
			continue
		}
		if om.Port == 0 {
			return fmt.Errorf("sdp: m-line %d: %w", i, ErrPort)
		}
		if !equalFold(om.Proto, am.Proto) {
			return fmt.Errorf("sdp: m-line %d: %w: %s answered by %s", i, ErrMediaType, om.Proto, am.Proto)
		}
		if len(am.Formats) == 0 {
			return fmt.Errorf("sdp: m-line %d: %w: no format", i, ErrCodec)
		}
		if am.IsRTP() {
			for _, f := range am.Formats {
				if _, ok := parseInt(f, 127); !ok && !contains(om.Formats, f) {
					return fmt.Errorf("sdp: m-line %d: %w: %s", i, ErrCodec, f)
				}
			}
			offered := om.Codecs()
			for _, ac := range am.Codecs() {
				if !offeredCodec(offered, ac) {
					return fmt.Errorf("sdp: m-line %d: %w: %d %s", i, ErrCodec, ac.Payload, ac)
				}
			}
		} else {
			for _, f := range am.Formats {
				if !contains(om.Formats, f) {
					return fmt.Errorf("sdp: m-line %d: %w: %s", i, ErrCodec, f)
				}
			}
		}
		od, ad := om.Direction(offer), am.Direction(answer)
		if (ad.Sends() && !od.Receives()) || (ad.Receives() && !od.Sends()) {
			return fmt.Errorf("sdp: m-line %d: %w: %s answered by %s", i, ErrDirection, od, ad)
		}
	}
	return nil
}

// offeredCodec reports whether an answered codec is among the offered ones;
// a payload type the answer does not describe must be one the offer lists.
func offeredCodec(offered []Codec, ac Codec) bool {
	for _, oc := range offered {
		if ac.Matches(oc) || (ac.Name == "" && oc.Payload == ac.Payload) {
			return true
		}
	}
	return false
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// NextVersion returns a copy of s with its o= version incremented, as every
// new offer or answer that changes a session must have (RFC 3264 §8).
func NextVersion(s *Session) *Session {
	c := s.Clone()
	c.Origin.SessionVersion++
	return c
}

// Hold returns the offer that puts streams on hold (RFC 3264 §8.4): a copy
// of s, the description this side sent last, with the next version, in
// which each listed stream (every stream if none is listed) that is not
// disabled stops receiving: sendrecv becomes sendonly, recvonly becomes
// inactive. A session-level direction attribute is first moved to the
// streams that relied on it, so the others keep their direction.
func Hold(s *Session, streams ...int) *Session {
	return redirect(s, streams, false)
}

// Resume returns the offer that takes streams off hold: a copy of s with
// the next version in which each listed stream (every stream if none is
// listed) that is not disabled receives again: sendonly becomes sendrecv,
// inactive becomes recvonly. A stream held the legacy way (c=0.0.0.0)
// needs its address restored by the caller.
func Resume(s *Session, streams ...int) *Session {
	return redirect(s, streams, true)
}

func redirect(s *Session, streams []int, recv bool) *Session {
	c := NextVersion(s)
	if d, ok := attrDirection(c.Attributes); ok {
		for i := range c.Media {
			m := &c.Media[i]
			if _, own := attrDirection(m.Attributes); !own {
				m.SetDirection(d)
			}
		}
		delDirection(&c.Attributes)
	}
	for i := range c.Media {
		m := &c.Media[i]
		if m.Port == 0 || (len(streams) > 0 && !containsInt(streams, i)) {
			continue
		}
		d := m.Direction(c)
		if nd := direction(d.Sends(), recv); nd != d {
			m.SetDirection(nd)
		}
	}
	return c
}

func containsInt(l []int, n int) bool {
	for _, x := range l {
		if x == n {
			return true
		}
	}
	return false
}

// ErrNoMedia: no offered stream could be accepted: the offer is refused
// (488 Not Acceptable Here, RFC 3261 §13.3.1.3, §21.4.26).
var ErrNoMedia = errors.New("sdp: no offered stream is acceptable")

// AnswerTo returns the description a user agent sends back to offer, the
// body of an INVITE (RFC 3264 §6): Answer's, rendered. With no offer (an
// INVITE without a body, RFC 3261 §13.2.1) it returns an offer instead.
// It fails with an error wrapping ErrNoMedia when every stream of the
// answer would be rejected (port 0), so that the caller answers 488, and
// with the parse error of an offer that is not a session description.
func AnswerTo(offer []byte, local Capabilities) ([]byte, error) {
	if len(offer) == 0 {
		s, err := Offer(local)
		if err != nil {
			return nil, err
		}
		return s.Marshal(), nil
	}
	o, err := Parse(offer)
	if err != nil {
		return nil, fmt.Errorf("sdp: offer: %w", err)
	}
	a, err := Answer(o, local)
	if err != nil {
		return nil, err
	}
	for _, m := range a.Media {
		if m.Port != 0 {
			return a.Marshal(), nil
		}
	}
	return nil, fmt.Errorf("%w (%d offered)", ErrNoMedia, len(o.Media))
}
