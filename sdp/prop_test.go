package sdp

// Property tests with gopter.
//
// Each property runs with a fixed seed by default, so that `go test` is
// deterministic; set SANSIP_PROP_SEED=<n> to replay or explore another seed
// (SANSIP_PROP_SEED=random picks one from the clock and logs it), and
// SANSIP_PROP_ITERS=<k> to multiply the number of iterations.

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

const sdpDefaultPropSeed = 20260301

func propSeed(t *testing.T) int64 {
	s := os.Getenv("SANSIP_PROP_SEED")
	switch s {
	case "":
		return sdpDefaultPropSeed
	case "random":
		return time.Now().UnixNano()
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("SANSIP_PROP_SEED=%q: %v", s, err)
	}
	return n
}

func propIters(t *testing.T, n int) int {
	if s := os.Getenv("SANSIP_PROP_ITERS"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			t.Fatalf("SANSIP_PROP_ITERS=%q: want a positive integer", s)
		}
		n *= k
	}
	if testing.Short() {
		n /= 5
	}
	return n
}

func checkProp(t *testing.T, iters int, p gopter.Prop) {
	t.Helper()
	seed := propSeed(t)
	params := gopter.DefaultTestParametersWithSeed(seed)
	params.MinSuccessfulTests = propIters(t, iters)
	params.MaxShrinkCount = 200
	t.Logf("seed %d, %d iterations (replay: SANSIP_PROP_SEED=%d go test -run '^%s$' ./sdp/)",
		seed, params.MinSuccessfulTests, seed, t.Name())
	props := gopter.NewProperties(params)
	props.Property(t.Name(), p)
	props.TestingRun(t)
}

// guard turns a panic in a check into a failure message.
func guard(f func() string) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	return f()
}

// Generators of the pieces of a session description, each within what the
// grammar allows and in the form Parse produces (nil for absent lists).

const (
	tokenChars = "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~"
	digits     = "0123456789"
)

func charOf(set string) gopter.Gen {
	return gen.IntRange(0, len(set)-1).Map(func(i int) byte { return set[i] })
}

func textOf(min, max int, chars gopter.Gen) gopter.Gen {
	return gen.IntRange(min, max).FlatMap(func(n interface{}) gopter.Gen {
		return gen.SliceOfN(n.(int), chars).Map(func(b []byte) string { return string(b) })
	}, reflect.TypeOf(""))
}

// textByte: any octet but NUL, CR and LF, biased to printable ones.
func textByte() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 8, Gen: gen.UInt8Range(0x20, 0x7e)},
		{Weight: 1, Gen: gen.UInt8Range(0x80, 0xff)},
		{Weight: 1, Gen: gen.OneConstOf(byte(1), byte(9), byte(0x0b), byte(0x0c), byte(0x7f))},
	})
}

// nonWSByte: VCHAR / %x80-FF.
func nonWSByte() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 9, Gen: gen.UInt8Range(0x21, 0x7e)},
		{Weight: 1, Gen: gen.UInt8Range(0x80, 0xff)},
	})
}

func tokenGen(max int) gopter.Gen { return textOf(1, max, charOf(tokenChars)) }

func numberGen() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 2, Gen: gen.Const(uint64(0))},
		{Weight: 3, Gen: gen.UInt64Range(0, 1<<32)},
		{Weight: 1, Gen: gen.UInt64()},
	})
}

// nonEmpty turns an empty list into nil, as Parse leaves absent lists.
func nonEmpty[T any](l []T) []T {
	if len(l) == 0 {
		return nil
	}
	return l
}

func listOf(max int, g gopter.Gen, typ reflect.Type) gopter.Gen {
	return gen.IntRange(0, max).FlatMap(func(n interface{}) gopter.Gen {
		return gen.SliceOfN(n.(int), g, typ)
	}, reflect.SliceOf(typ))
}

func originGen() gopter.Gen {
	return gopter.CombineGens(textOf(1, 8, nonWSByte()), numberGen(), numberGen(), tokenGen(3), tokenGen(4), textOf(1, 12, nonWSByte())).
		Map(func(v []interface{}) Origin {
			return Origin{v[0].(string), v[1].(uint64), v[2].(uint64), v[3].(string), v[4].(string), v[5].(string)}
		})
}

// connectionGen generates IP4 (with multicast TTL and count), IP6 (with
// count) and other address types (whose address may hold spaces and
// slashes).
func connectionGen() gopter.Gen {
	addr := textOf(1, 15, nonWSByte()).Map(func(s string) string { return strings.ReplaceAll(s, "/", ".") })
	other := textOf(1, 15, gen.Weighted([]gen.WeightedGen{
		{Weight: 9, Gen: nonWSByte()}, {Weight: 1, Gen: gen.Const(byte(' '))},
	})).Map(func(s string) string {
		s = trimSP(s)
		if s == "" {
			s = "x"
		}
		return s
	})
	count := gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.IntRange(1, 1000)}})
	return gopter.CombineGens(gen.IntRange(0, 2), tokenGen(3), addr, other, gen.IntRange(0, 255), count, tokenGen(4)).
		Map(func(v []interface{}) Connection {
			c := Connection{NetType: v[1].(string), Address: v[2].(string)}
			switch v[0].(int) {
			case 0:
				c.AddrType, c.TTL, c.Count = "IP4", v[4].(int), v[5].(int)
			case 1:
				c.AddrType, c.Count = "IP6", v[5].(int)
			default:
				c.AddrType, c.Address = v[6].(string), v[3].(string)
				if c.AddrType == "IP4" || c.AddrType == "IP6" {
					c.AddrType = "X" + c.AddrType
				}
			}
			return c
		})
}

func bandwidthGen() gopter.Gen {
	return gopter.CombineGens(gen.OneGenOf(gen.OneConstOf("AS", "CT", "TIAS", "RR", "RS"), tokenGen(6)), numberGen()).
		Map(func(v []interface{}) Bandwidth { return Bandwidth{v[0].(string), v[1].(uint64)} })
}

func typedTimeGen() gopter.Gen {
	return gopter.CombineGens(textOf(1, 6, charOf(digits)), gen.OneConstOf("", "d", "h", "m", "s")).
		Map(func(v []interface{}) string { return v[0].(string) + v[1].(string) })
}

func timeGen() gopter.Gen {
	repeat := gen.SliceOfN(4, typedTimeGen()).Map(func(t []string) string { return strings.Join(t, " ") })
	zone := gopter.CombineGens(numberGen(), gen.Bool(), typedTimeGen(), gen.Bool(), numberGen(), typedTimeGen()).
		Map(func(v []interface{}) string {
			z := strconv.FormatUint(v[0].(uint64), 10) + " "
			if v[1].(bool) {
				z += "-"
			}
			z += v[2].(string)
			if v[3].(bool) {
				z += " " + strconv.FormatUint(v[4].(uint64), 10) + " " + v[5].(string)
			}
			return z
		})
	return gopter.CombineGens(numberGen(), numberGen(), listOf(2, repeat, reflect.TypeOf("")), gen.Bool(), zone).
		Map(func(v []interface{}) Time {
			t := Time{Start: v[0].(uint64), Stop: v[1].(uint64), Repeats: nonEmpty(v[2].([]string))}
			if v[3].(bool) {
				t.Zones = v[4].(string)
			}
			return t
		})
}

func attributeGen() gopter.Gen {
	name := gen.Weighted([]gen.WeightedGen{
		{Weight: 2, Gen: gen.OneConstOf("rtpmap", "fmtp", "sendrecv", "sendonly", "recvonly", "inactive", "mid", "candidate", "rtcp-mux", "group", "ice-ufrag", "fingerprint", "setup")},
		{Weight: 3, Gen: tokenGen(10)},
	})
	return gopter.CombineGens(name, textOf(0, 20, textByte()), gen.Bool()).Map(func(v []interface{}) Attribute {
		a := Attribute{Name: v[0].(string)}
		if v[2].(bool) {
			a.Value, a.HasValue = v[1].(string), true
		}
		return a
	})
}

func protoGen() gopter.Gen {
	return gen.OneGenOf(
		gen.OneConstOf("RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", "udptl", "TCP/BFCP"),
		gen.SliceOfN(3, tokenGen(5)).Map(func(t []string) string { return strings.Join(t, "/") }),
	)
}

func optText() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const("")}, {Weight: 1, Gen: textOf(1, 20, textByte())}})
}

func mediaGen() gopter.Gen {
	portCount := gen.Weighted([]gen.WeightedGen{{Weight: 4, Gen: gen.Const(0)}, {Weight: 1, Gen: gen.IntRange(1, 65535)}})
	return gopter.CombineGens(
		gen.OneGenOf(gen.OneConstOf("audio", "video", "application", "image", "text", "message"), tokenGen(8)),
		gen.IntRange(0, 65535), portCount, protoGen(), listOf(6, tokenGen(4), reflect.TypeOf("")), optText(),
		listOf(2, connectionGen(), reflect.TypeOf(Connection{})), listOf(2, bandwidthGen(), reflect.TypeOf(Bandwidth{})),
		optText(), listOf(6, attributeGen(), reflect.TypeOf(Attribute{})),
	).Map(func(v []interface{}) Media {
		return Media{
			Type: v[0].(string), Port: v[1].(int), PortCount: v[2].(int), Proto: v[3].(string),
			Formats: nonEmpty(v[4].([]string)), Info: v[5].(string), Connections: nonEmpty(v[6].([]Connection)),
			Bandwidths: nonEmpty(v[7].([]Bandwidth)), Key: v[8].(string), Attributes: nonEmpty(v[9].([]Attribute)),
		}
	})
}

func sessionGen() gopter.Gen {
	conn := gen.PtrOf(connectionGen())
	return gopter.CombineGens(
		originGen(), textOf(0, 20, textByte()), optText(), optText(),
		listOf(2, textOf(1, 20, textByte()), reflect.TypeOf("")), listOf(2, textOf(1, 20, textByte()), reflect.TypeOf("")),
		conn, listOf(2, bandwidthGen(), reflect.TypeOf(Bandwidth{})), gen.SliceOfN(1, timeGen(), reflect.TypeOf(Time{})),
		listOf(2, timeGen(), reflect.TypeOf(Time{})), optText(), listOf(5, attributeGen(), reflect.TypeOf(Attribute{})),
		listOf(4, mediaGen(), reflect.TypeOf(Media{})),
	).Map(func(v []interface{}) *Session {
		c, _ := v[6].(*Connection)
		return &Session{
			Origin: v[0].(Origin), Name: v[1].(string), Info: v[2].(string), URI: v[3].(string),
			Emails: nonEmpty(v[4].([]string)), Phones: nonEmpty(v[5].([]string)), Connection: c,
			Bandwidths: nonEmpty(v[7].([]Bandwidth)), Times: append(v[8].([]Time), v[9].([]Time)...),
			Key: v[10].(string), Attributes: nonEmpty(v[11].([]Attribute)), Media: nonEmpty(v[12].([]Media)),
		}
	})
}

// TestPropRoundTrip: for any session description the grammar allows,
// Parse(Marshal(s)) equals s, and Marshal is a fixpoint.
func TestPropRoundTrip(t *testing.T) {
	checkProp(t, 500, prop.ForAll(func(s *Session) string {
		return guard(func() string {
			out := s.Marshal()
			p, err := Parse(out)
			if err != nil {
				return fmt.Sprintf("%v\n%q", err, out)
			}
			if d := cmp.Diff(s, p); d != "" {
				return fmt.Sprintf("(-generated +parsed):\n%s\n%q", d, out)
			}
			if again := p.Marshal(); string(again) != string(out) {
				return "render is not a fixpoint"
			}
			if lf, err := Parse([]byte(strings.ReplaceAll(string(out), "\r\n", "\n"))); err != nil || !Equal(lf, s) {
				return fmt.Sprintf("LF line ends: %v", err)
			}
			if err := s.Check(); err != nil {
				return err.Error()
			}
			return ""
		})
	}, sessionGen()))
}

// The codec pool offers and capabilities draw from: static payload types,
// dynamic ones, and the formats whose fmtp decides a match.
var codecPool = []Codec{
	{0, "PCMU", 8000, 0, ""},
	{8, "PCMA", 8000, 0, ""},
	{9, "G722", 8000, 0, ""},
	{18, "G729", 8000, 0, "annexb=no"},
	{13, "CN", 8000, 0, ""},
	{-1, "opus", 48000, 2, "useinbandfec=1"},
	{-1, "iLBC", 8000, 0, "mode=30"},
	{-1, "telephone-event", 8000, 0, "0-15"},
	{-1, "telephone-event", 8000, 0, "0-16"},
	{-1, "telephone-event", 48000, 0, ""},
	{-1, "AMR", 8000, 0, "octet-align=1"},
	{-1, "AMR", 8000, 0, ""},
	{-1, "H264", 90000, 0, "packetization-mode=1;profile-level-id=42e01f"},
	{-1, "H264", 90000, 0, "packetization-mode=0;profile-level-id=42e01f"},
	{-1, "H264", 90000, 0, "packetization-mode=1;profile-level-id=640c1f"},
	{-1, "VP8", 90000, 0, ""},
	{-1, "rtx", 90000, 0, ""},
}

var (
	offerTypes  = []string{"audio", "video", "application", "image"}
	offerProtos = []string{"RTP/AVP", "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udptl", "UDP/DTLS/SCTP"}
	otherFmts   = []string{"t38", "webrtc-datachannel", "*"}
	directions  = []Direction{0, SendRecv, SendOnly, RecvOnly, Inactive}
)

// offerMediaGen generates an offered stream: its codecs (with dynamic
// payload types assigned in order, rtpmap for every dynamic one and now and
// then for a static one, fmtp where the codec has one, RTX pointing at the
// stream's first codec), direction and port.
func offerMediaGen() gopter.Gen {
	port := gen.Weighted([]gen.WeightedGen{{Weight: 1, Gen: gen.Const(0)}, {Weight: 5, Gen: gen.IntRange(1, 65535)}})
	return gopter.CombineGens(gen.IntRange(0, len(offerTypes)-1), gen.IntRange(0, len(offerProtos)-1), port,
		listOf(6, gen.IntRange(0, len(codecPool)-1), reflect.TypeOf(0)), gen.IntRange(0, len(directions)-1), gen.Bool(),
		listOf(2, gen.IntRange(0, len(otherFmts)-1), reflect.TypeOf(0)), gen.Bool()).
		Map(func(v []interface{}) Media {
			m := Media{Type: offerTypes[v[0].(int)], Proto: offerProtos[v[1].(int)], Port: v[2].(int)}
			if m.IsRTP() {
				next := 96
				for _, ci := range v[3].([]int) {
					c := codecPool[ci]
					if c.Payload < 0 {
						c.Payload = next
						next++
					}
					pt := strconv.Itoa(c.Payload)
					m.Formats = append(m.Formats, pt)
					if c.Payload >= 96 || v[5].(bool) {
						m.AddAttr("rtpmap", pt+" "+c.String())
					}
					if c.Name == "rtx" && len(m.Formats) > 1 {
						c.Fmtp = "apt=" + m.Formats[0]
					}
					if c.Fmtp != "" {
						m.AddAttr("fmtp", pt+" "+c.Fmtp)
					}
				}
			} else {
				for _, fi := range v[6].([]int) {
					m.Formats = append(m.Formats, otherFmts[fi])
				}
			}
			if len(m.Formats) == 0 {
				m.Formats = []string{"0"}
			}
			if d := directions[v[4].(int)]; d != 0 {
				m.AddAttr(d.String(), "")
			}
			if v[7].(bool) {
				m.AddAttr("mid", "m"+strconv.Itoa(v[0].(int)))
			}
			return m
		})
}

func offerGen() gopter.Gen {
	return gopter.CombineGens(listOf(5, offerMediaGen(), reflect.TypeOf(Media{})), gen.IntRange(0, len(directions)-1), gen.Bool()).
		Map(func(v []interface{}) *Session {
			s := &Session{Origin: Origin{"alice", 1, 1, "IN", "IP4", "192.0.2.1"}, Name: "-",
				Connection: &Connection{NetType: "IN", AddrType: "IP4", Address: "192.0.2.1"}, Times: []Time{{}},
				Media: nonEmpty(v[0].([]Media))}
			if d := directions[v[1].(int)]; d != 0 {
				s.AddAttr(d.String(), "")
			}
			if v[2].(bool) {
				var mids []string
				for i := range s.Media {
					if mid := s.Media[i].MID(); mid != "" {
						mids = append(mids, mid)
					}
				}
				s.AddAttr("group", joinSP("BUNDLE", mids))
			}
			return s
		})
}

// capsGen generates capabilities: for each media type, now and then none,
// else one or two capabilities, each with a random subset of the
// transports, codecs and formats the offers use, so that offers and
// capabilities meet often but not always.
func capsGen() gopter.Gen {
	mask := func(n int) gopter.Gen { return gen.SliceOfN(n, gen.Bool()) }
	mc := gopter.CombineGens(gen.IntRange(0, len(offerTypes)-1), mask(len(offerProtos)), mask(len(codecPool)), mask(len(otherFmts)),
		gen.IntRange(0, 60000)).
		Map(func(v []interface{}) MediaCapability {
			c := MediaCapability{Type: offerTypes[v[0].(int)], Port: v[4].(int)}
			for i, ok := range v[1].([]bool) {
				if ok && !contains(c.Protos, offerProtos[i]) {
					c.Protos = append(c.Protos, offerProtos[i])
				}
			}
			for i, ok := range v[2].([]bool) {
				if ok {
					c.Codecs = append(c.Codecs, codecPool[i])
				}
			}
			for i, ok := range v[3].([]bool) {
				if ok {
					c.Formats = append(c.Formats, otherFmts[i])
				}
			}
			return c
		})
	return gopter.CombineGens(listOf(8, mc, reflect.TypeOf(MediaCapability{})), gen.IntRange(0, len(directions)-1), gen.Bool(), gen.UInt64()).
		Map(func(v []interface{}) Capabilities {
			return Capabilities{Username: "bob", SessionID: v[3].(uint64), SessionVersion: 1, Address: "2001:db8::b0b",
				Media: v[0].([]MediaCapability), Direction: directions[v[1].(int)], Bundle: v[2].(bool)}
		})
}

// TestPropAnswer: for any offer and any capabilities, Answer succeeds and
// its answer is valid (Validate); it has the offer's streams in the offer's
// order and of its types; it never has a codec the offer lacks (by name,
// clock rate and channels); a stream the offer disabled, or that no
// capability can take, has port 0; and an accepted stream's direction is
// exactly what the answerer wants within the reverse of the offer's
// (RFC 3264 §6.1).
func TestPropAnswer(t *testing.T) {
	checkProp(t, 1000, prop.ForAll(func(offer *Session, local Capabilities) string {
		return guard(func() string {
			// The offer travels as text.
			offer, err := Parse(offer.Marshal())
			if err != nil {
				return "offer: " + err.Error()
			}
			a, err := Answer(offer, local)
			if err != nil {
				return "Answer: " + err.Error()
			}
			if err := Validate(offer, a); err != nil {
				return fmt.Sprintf("Validate: %v\noffer:\n%s\nanswer:\n%s", err, offer, a)
			}
			if len(a.Media) != len(offer.Media) {
				return "stream count"
			}
			for i := range offer.Media {
				om, am := &offer.Media[i], &a.Media[i]
				if am.Type != om.Type || am.Proto != om.Proto {
					return fmt.Sprintf("stream %d: %s %s answered by %s %s", i, om.Type, om.Proto, am.Type, am.Proto)
				}
				takers := 0
				for j := range local.Media {
					if local.Media[j].accepts(om) {
						takers++
					}
				}
				if (om.Port == 0 || takers == 0) && am.Port != 0 {
					return fmt.Sprintf("stream %d accepted: offered port %d, %d capabilities", i, om.Port, takers)
				}
				if am.Port == 0 {
					continue
				}
				for _, ac := range am.Codecs() {
					found := false
					for _, oc := range om.Codecs() {
						if equalFold(ac.Name, oc.Name) && ac.ClockRate == oc.ClockRate && channels(ac.Channels) == channels(oc.Channels) {
							found = true
						}
					}
					if !found {
						return fmt.Sprintf("stream %d: codec %v not offered", i, ac)
					}
				}
				want := local.Direction
				if want == 0 {
					want = SendRecv
				}
				if got, exp := am.Direction(a), want.Intersect(om.Direction(offer).Reverse()); got != exp {
					return fmt.Sprintf("stream %d: direction %s, want %s", i, got, exp)
				}
			}
			again, _ := Answer(offer, local)
			if !Equal(a, again) {
				return "Answer is not deterministic"
			}
			st := Streams(a, offer)
			for i, s := range st {
				if s.Active && (a.Media[i].Port == 0 || s.Direction == Inactive) {
					return fmt.Sprintf("stream %d active: %+v", i, s)
				}
			}
			return ""
		})
	}, offerGen(), capsGen()))
}

// TestPropHoldResume: Hold stops every enabled stream receiving, keeps what
// it sends and increments the version; Resume makes it receive again.
func TestPropHoldResume(t *testing.T) {
	checkProp(t, 300, prop.ForAll(func(s *Session) string {
		return guard(func() string {
			h := Hold(s)
			r := Resume(h)
			if h.Origin.SessionVersion != s.Origin.SessionVersion+1 || r.Origin.SessionVersion != s.Origin.SessionVersion+2 {
				return "versions"
			}
			for i := range s.Media {
				d, hd, rd := s.Media[i].Direction(s), h.Media[i].Direction(h), r.Media[i].Direction(r)
				if s.Media[i].Port == 0 {
					if hd != d {
						return fmt.Sprintf("disabled stream %d changed", i)
					}
					continue
				}
				if hd.Receives() || hd.Sends() != d.Sends() || !h.Media[i].OnHold(h) {
					return fmt.Sprintf("stream %d: %s held is %s", i, d, hd)
				}
				if !rd.Receives() || rd.Sends() != d.Sends() {
					return fmt.Sprintf("stream %d: %s resumed is %s", i, d, rd)
				}
			}
			if err := h.Check(); err != nil {
				return err.Error()
			}
			return ""
		})
	}, offerGen()))
}
