package message

// A gopter generator of valid SIP messages, each with the model of what a
// correct parser must report for it.
//
// The generator draws structured values (GMsg and the types below) with
// gopter's combinators; render turns one into wire bytes and the model. The
// renderer is total: every value of these types, whatever gopter shrinks it
// to, renders to a valid message, so a failing case shrinks to a smaller
// valid message rather than to garbage.
//
// Free choices that are not worth a field of their own (white space at each
// LWS position, the form and case of each header name, how list values are
// spread over lines, the order of the header fields) are read from small
// cyclic "tapes" of integers; a tape shrinks towards empty, which renders
// the plain canonical form.

import (
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/uri"
)

// GHost is a host: Kind%4 is 0 for a hostname built from Chars, 1 for an
// IPv4 address, 2 for an IPv6 reference, 3 for one of a table of tricky
// hosts.
type GHost struct {
	Kind  int
	Bits  uint32
	Chars []int
}

// GURIParam is a uri-parameter: Name indexes a table, Value is escaped text
// (empty for a flag where the name allows one).
type GURIParam struct {
	Name  int
	Value []int
}

// GURIHeader is one hname=hvalue of a URI's headers.
type GURIHeader struct {
	Name  []int
	Value []int
}

// GURI is a URI. Scheme%10: 0-5 sip, 6-7 sips, 8 tel, 9 an absolute URI
// where the context allows one (else sip).
type GURI struct {
	Scheme   int
	Case     uint32
	User     []int
	Password []int
	Host     GHost
	Port     int
	Params   []GURIParam
	Headers  []GURIHeader
	TelLocal bool
	Abs      int
}

// GParam is a header parameter (generic-param): Name indexes the table of
// the context, Kind%4 is 0 flag, 1 token, 2 host, 3 quoted-string.
type GParam struct {
	Name  int
	Kind  int
	Value []int
	Case  uint32
}

// GNameAddr is a name-addr or addr-spec. Disp%3: 0 no display name, 1
// quoted-string, 2 token sequence.
type GNameAddr struct {
	Disp     int
	DispText []int
	URI      GURI
	Bare     bool
	Params   []GParam
}

// GVia is one via-parm.
type GVia struct {
	Proto     uint32
	Transport int
	Host      GHost
	Port      int
	Branch    []int
	NoBranch  bool
	BranchPos int
	Params    []GParam
}

// GExt is an extension header field with a free-text value.
type GExt struct {
	Name int
	Case uint32
	Text []int
}

// GBody is a body: Kind%4 is 0 empty, 1 text, 2 SDP-like, 3 binary.
type GBody struct {
	Kind int
	Data []int
}

// GMsg is a whole message.
type GMsg struct {
	Request      bool
	Method       int
	MethodChars  []int
	RURI         GURI
	Version      uint32
	Code         int
	Reason       []int
	Vias         []GVia
	From         GNameAddr
	FromTag      []int
	To           GNameAddr
	ToTag        []int
	ToHasTag     bool
	CallID       []int
	CallHost     []int
	CSeq         uint32
	CSeqZeros    int
	CSeqMethod   int
	MaxFwd       int
	NoMaxFwd     bool
	Contacts     []GNameAddr
	ContactStar  bool
	Routes       []GNameAddr
	RecordRoutes []GNameAddr
	Allow        []int
	Supported    []int
	Expires      []uint32
	Subject      [][]int
	UserAgent    [][]int
	Ext          []GExt
	Body         GBody
	CLForm       int
	WS           []int
	Forms        []uint32
	Split        []int
	Order        []int
}

// ---------------------------------------------------------------------------
// gopter generators

// sliceUpTo generates slices of 0 to n elements, whatever the size that
// gopter is at, and shrinks them like gen.SliceOf.
func sliceUpTo(n int, el gopter.Gen) gopter.Gen {
	g := gen.SliceOf(el)
	return func(p *gopter.GenParameters) *gopter.GenResult {
		q := *p
		q.MinSize, q.MaxSize = 0, n+1
		return g(&q)
	}
}

// chars generates up to n character indices (0 shrinks to the simplest).
func chars(n int) gopter.Gen { return sliceUpTo(n, gen.IntRange(0, 255)) }

// sometimes generates g's value pct percent of the time and zero otherwise.
func sometimes(pct int, g gopter.Gen, zero any) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		if p.Rng.Intn(100) < pct {
			return g(p)
		}
		return gopter.NewGenResult(zero, gopter.NoShrinker)
	}
}

// flag generates true pct percent of the time; true shrinks to false.
func flag(pct int) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(p.Rng.Intn(100) < pct, func(v any) gopter.Shrink {
			done := !v.(bool)
			return func() (any, bool) {
				if done {
					return nil, false
				}
				done = true
				return false, true
			}
		})
	}
}

func caseBits(pct int) gopter.Gen { return sometimes(pct, gen.UInt32(), uint32(0)) }

func genHost() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GHost{}), map[string]gopter.Gen{
		"Kind":  gen.IntRange(0, 3),
		"Bits":  gen.UInt32(),
		"Chars": chars(14),
	})
}

func genPort(pct int) gopter.Gen { return sometimes(pct, gen.IntRange(1, 70000), 0) }

func genURI() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GURI{}), map[string]gopter.Gen{
		"Scheme":   gen.IntRange(0, 9),
		"Case":     caseBits(20),
		"User":     sometimes(85, chars(10), []int(nil)),
		"Password": sometimes(15, chars(5), []int(nil)),
		"Host":     genHost(),
		"Port":     genPort(40),
		"Params": sliceUpTo(3, gen.Struct(reflect.TypeOf(GURIParam{}), map[string]gopter.Gen{
			"Name":  gen.IntRange(0, 15),
			"Value": chars(6),
		})),
		"Headers": sometimes(30, sliceUpTo(2, gen.Struct(reflect.TypeOf(GURIHeader{}), map[string]gopter.Gen{
			"Name":  chars(5),
			"Value": chars(6),
		})), []GURIHeader(nil)),
		"TelLocal": flag(40),
		"Abs":      gen.IntRange(0, 9),
	})
}

func genParam() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GParam{}), map[string]gopter.Gen{
		"Name":  gen.IntRange(0, 31),
		"Kind":  gen.IntRange(0, 3),
		"Value": chars(10),
		"Case":  caseBits(15),
	})
}

func genNameAddr() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GNameAddr{}), map[string]gopter.Gen{
		"Disp":     gen.IntRange(0, 2),
		"DispText": chars(14),
		"URI":      genURI(),
		"Bare":     flag(40),
		"Params":   sliceUpTo(3, genParam()),
	})
}

func genVia() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GVia{}), map[string]gopter.Gen{
		"Proto":     caseBits(20),
		"Transport": gen.IntRange(0, 12),
		"Host":      genHost(),
		"Port":      genPort(60),
		"Branch":    chars(12),
		"NoBranch":  flag(20),
		"BranchPos": gen.IntRange(0, 3),
		"Params":    sliceUpTo(3, genParam()),
	})
}

func genExt() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GExt{}), map[string]gopter.Gen{
		"Name": gen.IntRange(0, len(extNames)-1),
		"Case": caseBits(30),
		"Text": chars(24),
	})
}

// genMsg generates a valid SIP request or response.
func genMsg() gopter.Gen {
	return gen.Struct(reflect.TypeOf(GMsg{}), map[string]gopter.Gen{
		"Request":      flag(60),
		"Method":       gen.IntRange(0, len(methods)),
		"MethodChars":  chars(8),
		"RURI":         genURI(),
		"Version":      caseBits(10),
		"Code":         gen.IntRange(100, 699),
		"Reason":       chars(16),
		"Vias":         sliceUpTo(4, genVia()),
		"From":         genNameAddr(),
		"FromTag":      chars(10),
		"To":           genNameAddr(),
		"ToTag":        chars(10),
		"ToHasTag":     flag(50),
		"CallID":       chars(20),
		"CallHost":     sometimes(50, chars(12), []int(nil)),
		"CSeq":         gen.UInt32(),
		"CSeqZeros":    sometimes(15, gen.IntRange(1, 3), 0),
		"CSeqMethod":   gen.IntRange(0, len(methods)),
		"MaxFwd":       gen.IntRange(0, 300),
		"NoMaxFwd":     flag(8),
		"Contacts":     sliceUpTo(3, genNameAddr()),
		"ContactStar":  flag(5),
		"Routes":       sometimes(40, sliceUpTo(3, genNameAddr()), []GNameAddr(nil)),
		"RecordRoutes": sometimes(40, sliceUpTo(3, genNameAddr()), []GNameAddr(nil)),
		"Allow":        sometimes(40, sliceUpTo(6, gen.IntRange(0, 255)), []int(nil)),
		"Supported":    sometimes(40, sliceUpTo(5, gen.IntRange(0, 255)), []int(nil)),
		"Expires":      sliceUpTo(1, gen.UInt32()),
		"Subject":      sliceUpTo(1, chars(20)),
		"UserAgent":    sliceUpTo(1, chars(20)),
		"Ext":          sliceUpTo(4, genExt()),
		"Body": gen.Struct(reflect.TypeOf(GBody{}), map[string]gopter.Gen{
			"Kind": gen.IntRange(0, 3),
			"Data": chars(60),
		}),
		"CLForm": gen.IntRange(0, 19),
		"WS":     sliceUpTo(24, gen.IntRange(0, 40)),
		"Forms":  sliceUpTo(12, caseBits(60)),
		"Split":  sliceUpTo(8, gen.IntRange(0, 3)),
		"Order":  sometimes(50, sliceUpTo(16, gen.IntRange(0, 20)), []int(nil)),
	})
}

// ---------------------------------------------------------------------------
// tables

const (
	alnum       = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	tokenChars  = alnum + "-.!%*_+`'~"
	markChars   = "-_.!~*'()"
	userChars   = alnum + markChars + "&=+$,;?/"
	passChars   = alnum + markChars + "&=+$,"
	uparamChars = alnum + markChars + "[]/:&+$"
	uhdrChars   = alnum + markChars + "[]/?:+$"
	wordChars   = alnum + "-.!%*_+`'~()<>:\\\"/[]?{}"
	hostChars   = "abcdefghijklmnopqrstuvwxyz0123456789-."
)

// escBytes are the octets written as %-escapes in URIs.
var escBytes = []byte{0x00, ' ', '@', ':', '%', 0xc3, 0xa9, 'a', '<', '>', '"', 0x7f, 0xff, ';', '?', '#', '\r', '\n', ',', '&'}

var methods = []string{"INVITE", "REGISTER", "OPTIONS", "BYE", "ACK", "CANCEL", "SUBSCRIBE", "NOTIFY",
	"MESSAGE", "INFO", "PRACK", "UPDATE", "REFER", "PUBLISH", "FOO", "invite", "X-NEW.method!%*_+`'~"}

var transports = []string{"UDP", "TCP", "TLS", "SCTP", "WS", "WSS", "udp", "tcp", "Tls", "TLS-SCTP", "X-Proto", "ws", "sctp"}

// trickyHosts are hosts as written that a parser must accept.
var trickyHosts = []string{"example.com", "a", "localhost", "EXAMPLE.COM", "example.com.", "x-y--z.example",
	"1a.example.org", "123.example.org", "a1", "192.0.2.1", "0.0.0.0", "255.255.255.255",
	"[::1]", "[2001:db8::1]", "[2001:DB8::A]", "[2001:db8:0:0:0:0:0:1]", "[::ffff:192.0.2.1]",
	"[2001:db8::192.0.2.1]", "[fe80::1:2:3:4]", "host.example.co.uk"}

// paramHosts are host values of generic parameters.
var paramHosts = []string{"192.0.2.7", "[2001:db8::9]", "example.net", "relay-1.example.org.", "[::1]", "10.0.0.1"}

var absURIs = []string{"mailto:alice@example.com", "urn:service:sos", "im:bob@example.org",
	"http://example.com/path?x=1&y=2#frag", "x-custom+scheme.v1:opaque%20data", "pres:carol@example.net"}

var uparamNames = []string{"transport", "user", "method", "ttl", "maddr", "lr", "x", "foo-bar", "a.b",
	"%41b", "p[1]", "Key", "lr", "transport", "ob", "gr"}

var viaParamNames = []string{"rport", "received", "maddr", "ttl", "alias", "comp", "keep", "sigcomp-id"}

var toParamNames = []string{"x", "foo", "X-Param", "a.b!c", "~p", "p%1", "epid"}

var contactParamNames = []string{"expires", "q", "+sip.instance", "reg-id", "methods", "+sip.ice", "pub-gruu"}

var genericParamNames = []string{"p", "foo", "X-Y", "a.b", "~x!", "ext", "P%", "k`'", "Param-9"}

var optionTags = []string{"100rel", "timer", "path", "gruu", "outbound", "replaces", "norefersub", "X-ext.tag!",
	"precondition", "Resource-Priority"}

var extNames = []string{"X-Foo", "X-Custom-Header", "X-a.b!c%d'e~", "NewFangledHeader", "P-Visited-Network-ID",
	"Z", "ContentLength", "Content-Lengthy", "Viaduct", "X-Empty", "Tos", "Via-X"}

// quotedAlpha pairs the content of a quoted-string with how it is written.
var quotedAlpha = func() [][2]string {
	var q [][2]string
	for i := 0; i < len(alnum); i++ {
		q = append(q, [2]string{alnum[i : i+1], alnum[i : i+1]})
	}
	for _, s := range []string{" ", " ", " ", "\t", ",", ";", ":", "<", ">", "@", "=", "(", ")", "'", "/", "?",
		"é", "ñ", "中文", "😀", "Ω", "#", "%", "{", "}", "[", "]", "~"} {
		q = append(q, [2]string{s, s})
	}
	return append(q,
		[2]string{`"`, `\"`}, [2]string{`\`, `\\`}, [2]string{"x", `\x`}, [2]string{" ", `\ `},
		[2]string{"\t", "\\\t"}, [2]string{`"`, `\"`}, [2]string{`\`, `\\`})
}()

// quotedCtl are control characters a quoted-pair may carry (RFC 3261
// quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)).
var quotedCtl = [][2]string{{"\x00", "\\\x00"}, {"\x01", "\\\x01"}, {"\x07", "\\\x07"}, {"\x7f", "\\\x7f"}}

// textAlpha is for TEXT-UTF8 values: Subject, User-Agent, extension headers.
var textAlpha = func() []string {
	var t []string
	for i := 0; i < len(alnum); i++ {
		t = append(t, alnum[i:i+1])
	}
	return append(t, " ", " ", " ", " ", "\t", ",", ";", ":", `"`, "<", ">", "(", ")", "/", "=", "é", "日本語", "😀",
		"%", `\`, "Content-Length: 99", "l: 7", "~", "[", "]", "{", "}", "?", "!", "#", "*", "+", "'", "@", "&", "|", "^", "$")
}()

var reasonAlpha = func() []string {
	var t []string
	for i := 0; i < len(alnum); i++ {
		t = append(t, alnum[i:i+1])
	}
	return append(t, " ", " ", " ", "\t", ";", "/", "?", ":", "@", "&", "=", "+", "$", ",", "-", "_", ".", "!", "~",
		"*", "'", "(", ")", "%20", "%C3%A9", "é", "日本", "😀", "Très bien")
}()

var bodyTextAlpha = func() []string {
	var t []string
	for c := 0x20; c < 0x7f; c++ {
		t = append(t, string(rune(c)))
	}
	return append(t, "\r\n", "\r\n", "\t", "é", "\r\n\r\n", "Content-Length: 5\r\n")
}()

// ---------------------------------------------------------------------------
// white-space and other tapes

var (
	// swsTab is optional white space; half of it is none.
	swsTab = []string{"", "", "", "", "", "", "", "", " ", "  ", "\t", " \t", "\r\n ", "\r\n\t", " \r\n  ", "\t\r\n\t"}
	// beforeColon is the white space between a field name and its colon.
	beforeColon = []string{"", "", "", "", "", "", " ", "\t", "  ", " \t"}
	// afterColon is the white space after the colon.
	afterColon = []string{" ", " ", " ", " ", " ", "", "", "  ", "\t", "\r\n ", " \r\n\t"}
	// trailing is the white space after a value.
	trailing = []string{"", "", "", "", "", "", "", " ", "\t", "  "}
	// spaceTab writes one SP of text content, maybe as a line fold.
	spaceTab = []string{" ", " ", " ", " ", " ", "\r\n ", "\r\n\t", "\r\n   "}
)

type renderer struct {
	g                      *GMsg
	wi, fi, si, oi, ctlCnt int
	ctl                    bool // quoted-strings may carry escaped control characters
}

func tapeAt(t []int, i *int) int {
	if len(t) == 0 {
		return 0
	}
	v := t[*i%len(t)]
	*i++
	return v
}

func (r *renderer) ws() int       { return tapeAt(r.g.WS, &r.wi) }
func (r *renderer) sws() string   { return swsTab[r.ws()%len(swsTab)] }
func (r *renderer) space() string { return spaceTab[r.ws()%len(spaceTab)] }

// lws is required white space.
func (r *renderer) lws() string {
	if s := r.sws(); s != "" {
		return s
	}
	return " "
}

func (r *renderer) form() uint32 {
	if len(r.g.Forms) == 0 {
		return 0
	}
	v := r.g.Forms[r.fi%len(r.g.Forms)]
	r.fi++
	return v
}

// flipCase flips the case of the letters of s whose index's bit is set.
func flipCase(s string, bits uint32) string {
	if bits == 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if bits>>(uint(i)%32)&1 == 0 {
			continue
		}
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func pick[T any](tab []T, v int) T { return tab[((v%len(tab))+len(tab))%len(tab)] }

// text renders indices over an alphabet, with def for an empty result.
func text(alpha string, idx []int, def string) string {
	if len(idx) == 0 {
		return def
	}
	b := make([]byte, len(idx))
	for i, v := range idx {
		b[i] = alpha[v%len(alpha)]
	}
	return string(b)
}

// escaped renders indices over alpha plus %-escapes of escBytes.
func escaped(alpha string, idx []int) string {
	var b strings.Builder
	const hexU, hexL = "0123456789ABCDEF", "0123456789abcdef"
	for _, v := range idx {
		m := v % (len(alpha) + len(escBytes))
		if m < len(alpha) {
			b.WriteByte(alpha[m])
			continue
		}
		c := escBytes[m-len(alpha)]
		hex := hexU
		if v%2 == 1 {
			hex = hexL
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// refUnfold replaces each line fold (CRLF followed by SP or HTAB) and the
// white space after it with one SP: what Headers, Values and Get report.
func refUnfold(s string) string {
	if !strings.Contains(s, "\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && i+2 < len(s) && s[i+1] == '\n' && (s[i+2] == ' ' || s[i+2] == '\t') {
			b.WriteByte(' ')
			i += 2
			for i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t') {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// hosts and URIs

func (r *renderer) host(h GHost) string {
	switch h.Kind % 4 {
	case 1:
		b := h.Bits
		return strconv.Itoa(int(b>>24)) + "." + strconv.Itoa(int(b>>16&255)) + "." + strconv.Itoa(int(b>>8&255)) + "." + strconv.Itoa(int(b&255))
	case 2:
		var a [16]byte
		for i := range a {
			v := 0
			if i < len(h.Chars) {
				v = h.Chars[i]
			}
			if v%3 != 0 { // mostly zero bytes, so that "::" appears
				a[i] = byte(v) ^ byte(h.Bits>>(uint(i)%4*8))
			}
		}
		a[0], a[1] = 0x20, 0x01
		addr := netip.AddrFrom16(a)
		var s string
		switch h.Bits % 3 {
		case 0:
			s = addr.String()
		case 1:
			s = addr.StringExpanded()
		default:
			s = strings.ToUpper(addr.String())
		}
		return "[" + s + "]"
	case 3:
		return pick(trickyHosts, int(h.Bits%1000))
	}
	raw := text(hostChars, h.Chars, "example.com")
	var labels []string
	for _, l := range strings.Split(raw, ".") {
		l = strings.Trim(l, "-")
		if l != "" {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		labels = []string{"example"}
	}
	if top := labels[len(labels)-1]; top[0] < 'a' || top[0] > 'z' {
		labels[len(labels)-1] = "h" + top
	}
	s := strings.Join(labels, ".")
	if h.Bits&1 != 0 && h.Bits&6 == 0 {
		s += "."
	}
	return flipCase(s, h.Bits>>3)
}

// port returns the text after ':' and the value.
func port(p int) (string, uint16) {
	if p <= 0 {
		return "", 0
	}
	if p <= 65535 {
		return strconv.Itoa(p), uint16(p)
	}
	v := p - 65535
	return "0" + strconv.Itoa(v), uint16(v)
}

// URI contexts.
const (
	ctxRURI = iota
	ctxAddr
	ctxContact
	ctxRoute
)

func (r *renderer) uriParam(p GURIParam) string {
	name := pick(uparamNames, p.Name)
	switch name {
	case "transport":
		return ";" + name + "=" + pick([]string{"udp", "tcp", "TLS", "sctp", "ws", "x-tr"}, len(p.Value))
	case "user":
		return ";" + name + "=" + pick([]string{"phone", "ip", "dialstring"}, len(p.Value))
	case "method":
		return ";" + name + "=" + pick(methods, len(p.Value))
	case "ttl":
		return ";" + name + "=" + strconv.Itoa(len(p.Value)*23%256)
	case "maddr":
		return ";" + name + "=" + pick(paramHosts, len(p.Value))
	case "lr", "ob":
		return ";" + name
	}
	v := escaped(uparamChars, p.Value)
	if v == "" {
		return ";" + name
	}
	return ";" + name + "=" + v
}

func (r *renderer) uri(u GURI, ctx int) (string, uri.URI) {
	sc := u.Scheme % 10
	if sc == 9 && ctx != ctxRURI {
		sc = 0
	}
	if sc == 8 && ctx == ctxRoute {
		sc = 6
	}
	switch {
	case sc == 9:
		s := pick(absURIs, u.Abs)
		return s, uri.URI{Scheme: uri.Absolute, Opaque: s}
	case sc == 8:
		return r.telURI(u)
	}
	var m uri.URI
	var b strings.Builder
	if sc >= 6 {
		m.Scheme = uri.SIPS
		b.WriteString(flipCase("sips", u.Case))
	} else {
		m.Scheme = uri.SIP
		b.WriteString(flipCase("sip", u.Case))
	}
	b.WriteByte(':')
	if len(u.User) > 0 {
		m.User = escaped(userChars, u.User)
		b.WriteString(m.User)
		if len(u.Password) > 0 {
			m.Password = escaped(passChars, u.Password)
			b.WriteString(":" + m.Password)
		}
		b.WriteByte('@')
	}
	m.Host = r.host(u.Host)
	b.WriteString(m.Host)
	if pt, pv := port(u.Port); pv != 0 {
		m.Port = pv
		b.WriteString(":" + pt)
	}
	var params strings.Builder
	for _, p := range u.Params {
		params.WriteString(r.uriParam(p))
	}
	m.Params = uri.Params(params.String())
	b.WriteString(params.String())
	if ctx == ctxContact && len(u.Headers) > 0 {
		var hs []string
		for _, h := range u.Headers {
			hs = append(hs, text(uhdrChars, h.Name, "h")+"="+escaped(uhdrChars, h.Value))
		}
		m.Headers = strings.Join(hs, "&")
		b.WriteString("?" + m.Headers)
	}
	return b.String(), m
}

func (r *renderer) telURI(u GURI) (string, uri.URI) {
	m := uri.URI{Scheme: uri.Tel}
	var num string
	if u.TelLocal {
		num = text("0123456789ABCDEFabcdef*#-.()", u.User, "")
		if !strings.ContainsAny(num, "0123456789ABCDEFabcdef*#") {
			num = "7042" + num
		}
	} else {
		num = "+" + text("0123456789-.()0123456789", u.User, "")
		if !strings.ContainsAny(num, "0123456789") {
			num += "1"
		}
	}
	m.User = num
	var params strings.Builder
	if u.TelLocal {
		params.WriteString(";phone-context=" + pick([]string{"example.com", "+1-212", "EXAMPLE.org"}, int(u.Case%7)))
	}
	for _, p := range u.Params {
		name := pick([]string{"ext", "isub", "x", "foo-bar", "Tgrp"}, p.Name)
		if v := escaped(uparamChars, p.Value); v != "" {
			params.WriteString(";" + name + "=" + v)
		} else {
			params.WriteString(";" + name)
		}
	}
	m.Params = uri.Params(params.String())
	return flipCase("tel", u.Case) + ":" + num + params.String(), m
}

// ---------------------------------------------------------------------------
// header parameters, name-addrs, Via

// hparam is one rendered header parameter.
type hparam struct {
	written string // as written, with white space
	norm    string // normalised: ";name=value" without white space
	name    string
	content string // the value with a quoted-string's quotes and escapes resolved
	quoted  bool
}

func (r *renderer) mkParam(name, value string, hasValue bool) hparam {
	w := r.sws() + ";" + r.sws() + name
	n := ";" + name
	if hasValue {
		w += r.sws() + "=" + r.sws() + value
		n += "=" + value
	}
	return hparam{written: w, norm: n, name: name, content: value}
}

// quoted renders content indices as a quoted-string; folds may stand for
// SP when fold is set.
func (r *renderer) quoted(idx []int, fold bool) (written, content string) {
	var w, c strings.Builder
	w.WriteByte('"')
	for i, v := range idx {
		var q [2]string
		if r.ctl && v%41 == 40 {
			q = pick(quotedCtl, v+i)
			r.ctlCnt++
		} else {
			q = pick(quotedAlpha, v)
		}
		c.WriteString(q[0])
		if fold && q[1] == " " {
			w.WriteString(r.space())
			continue
		}
		w.WriteString(q[1])
	}
	w.WriteByte('"')
	return w.String(), c.String()
}

// genericParam renders a generic-param with a name from names.
func (r *renderer) genericParam(p GParam, names []string) hparam {
	name := flipCase(pick(names, p.Name), p.Case)
	switch p.Kind % 4 {
	case 1:
		return r.mkParam(name, text(tokenChars, p.Value, "1"), true)
	case 2:
		return r.mkParam(name, pick(paramHosts, len(p.Value)), true)
	case 3:
		w, c := r.quoted(p.Value, false)
		hp := r.mkParam(name, w, true)
		hp.content, hp.quoted = c, true
		return hp
	}
	return r.mkParam(name, "", false)
}

func (r *renderer) contactParam(p GParam) hparam {
	name := pick(contactParamNames, p.Name)
	switch name {
	case "expires":
		return r.mkParam(flipCase(name, p.Case), strconv.Itoa(len(p.Value)*397), true)
	case "q":
		return r.mkParam(name, pick([]string{"0", "0.5", "1", "1.0", "0.001", "0.75", "1.000"}, len(p.Value)), true)
	case "+sip.instance":
		hp := r.mkParam(name, `"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"`, true)
		hp.content, hp.quoted = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", true
		return hp
	case "reg-id":
		return r.mkParam(name, strconv.Itoa(1+len(p.Value)), true)
	case "methods":
		hp := r.mkParam(name, `"INVITE,BYE, OPTIONS"`, true)
		hp.content, hp.quoted = "INVITE,BYE, OPTIONS", true
		return hp
	}
	return r.genericParam(p, genericParamNames)
}

func (r *renderer) viaParam(p GParam) hparam {
	name := pick(viaParamNames, p.Name)
	if p.Name%3 == 0 { // a third of them are generic
		return r.genericParam(p, genericParamNames)
	}
	switch name {
	case "rport":
		if len(p.Value) == 0 {
			return r.mkParam(name, "", false)
		}
		return r.mkParam(name, strconv.Itoa(1+len(p.Value)*4111), true)
	case "received":
		return r.mkParam(name, pick([]string{"192.0.2.101", "2001:db8::9", "[2001:db8::9]", "10.1.2.3"}, len(p.Value)), true)
	case "maddr":
		return r.mkParam(name, pick(paramHosts, len(p.Value)), true)
	case "ttl":
		return r.mkParam(name, strconv.Itoa(len(p.Value)*31%256), true)
	case "alias":
		return r.mkParam(name, "", false)
	}
	return r.genericParam(p, genericParamNames)
}

// assemble writes params (with extra inserted at pos) and returns the
// written text and the normalised list.
func assemble(ps []hparam) (string, header.Params) {
	var w, n strings.Builder
	for _, p := range ps {
		w.WriteString(p.written)
		n.WriteString(p.norm)
	}
	return w.String(), header.Params(n.String())
}

func insertAt(ps []hparam, pos int, p hparam) []hparam {
	pos = pos % (len(ps) + 1)
	ps = append(ps, hparam{})
	copy(ps[pos+1:], ps[pos:])
	ps[pos] = p
	return ps
}

// rendered is one rendered header value with its model.
type rendered struct {
	raw    string
	params []hparam
}

func (r *renderer) nameAddr(na GNameAddr, ctx int, special []hparam) (rendered, header.NameAddr) {
	var m header.NameAddr
	ut, um := r.uri(na.URI, ctx)
	m.URI = um
	var ps []hparam
	for _, p := range na.Params {
		switch ctx {
		case ctxContact:
			ps = append(ps, r.contactParam(p))
		case ctxRoute:
			ps = append(ps, r.genericParam(p, genericParamNames))
		default:
			ps = append(ps, r.genericParam(p, toParamNames))
		}
	}
	for i, sp := range special {
		ps = insertAt(ps, len(na.DispText)+i, sp)
	}
	pw, pn := assemble(ps)
	m.Params = pn
	var b strings.Builder
	angle := true
	switch na.Disp % 3 {
	case 1:
		w, c := r.quoted(na.DispText, true)
		m.Display = c
		b.WriteString(w)
		b.WriteString(r.sws())
	case 2:
		var words []string
		for _, wd := range strings.Split(text(tokenChars+"     ", na.DispText, "Anonymous"), " ") {
			if wd != "" {
				words = append(words, wd)
			}
		}
		if len(words) == 0 {
			words = []string{"Anonymous"}
		}
		for i, wd := range words {
			if i > 0 {
				sep := r.lws()
				b.WriteString(sep)
				m.Display += refUnfold(sep)
			}
			b.WriteString(wd)
			m.Display += wd
		}
		b.WriteString(r.lws())
	default:
		angle = !na.Bare || ctx == ctxRoute || strings.ContainsAny(ut, ";,?") || um.Scheme == uri.Absolute
	}
	if angle {
		b.WriteString("<" + ut + ">")
	} else {
		b.WriteString(ut)
	}
	b.WriteString(pw)
	return rendered{raw: b.String(), params: ps}, m
}

func (r *renderer) via(v GVia, top bool) (rendered, header.Via) {
	var m header.Via
	var b strings.Builder
	b.WriteString(flipCase("SIP", v.Proto))
	b.WriteString(r.sws() + "/" + r.sws() + "2.0" + r.sws() + "/" + r.sws())
	m.Transport = pick(transports, v.Transport)
	b.WriteString(m.Transport)
	b.WriteString(r.lws())
	m.Host = r.host(v.Host)
	b.WriteString(m.Host)
	if pt, pv := port(v.Port); pv != 0 {
		m.Port = pv
		b.WriteString(r.sws() + ":" + r.sws() + pt)
	}
	var ps []hparam
	for _, p := range v.Params {
		ps = append(ps, r.viaParam(p))
	}
	if top || !v.NoBranch {
		br := header.MagicCookie + text(tokenChars, v.Branch, "x")
		if !top && v.NoBranch {
			br = text(tokenChars, v.Branch, "1")
		}
		name := "branch"
		if len(v.Params) > 0 {
			name = flipCase(name, v.Params[0].Case)
		}
		ps = insertAt(ps, v.BranchPos, r.mkParam(name, br, true))
	}
	pw, pn := assemble(ps)
	m.Params = pn
	b.WriteString(pw)
	return rendered{raw: b.String(), params: ps}, m
}

// ---------------------------------------------------------------------------
// whole messages

// genLine is one header field line of a generated message.
type genLine struct {
	Key    string   // canonical name of a known header, lower-case name of another
	Name   string   // the name as written
	Raw    string   // the value as written, without the white space around it
	Elems  []string // the values' raw texts, for a list-valued header
	List   bool
	Text   string // the whole line, CRLF included
	ValOff int    // offset of Raw in Text
}

// genCase is a rendered message and its model.
type genCase struct {
	Bytes   []byte
	Lines   []genLine
	Start   string
	Want    view
	Queries []string
	// Unquoted lists the quoted parameter values to look up:
	// header key, value index, parameter name, content.
	Unquoted []unq
	HasCL    bool
	CtlChars int // escaped control characters in quoted-strings
}

type unq struct {
	Key     string
	Index   int
	Name    string
	Content string
}

type renderOpts struct {
	forceCL bool // always write Content-Length (stream framing)
	ctl     bool // allow escaped control characters in quoted-strings
}

func (r *renderer) line(key, canonical, compact, raw string, elems []string) genLine {
	f := r.form()
	name := canonical
	if key == canonical && f&1 == 1 && compact != "" {
		name = compact
	}
	name = flipCase(name, f>>1)
	v := r.ws()
	before := pick(beforeColon, v)
	after := pick(afterColon, v/len(beforeColon))
	if raw == "" && strings.Contains(after, "\r") {
		after = " "
	}
	head := name + before + ":" + after
	text := head + raw + pick(trailing, r.ws()) + "\r\n"
	return genLine{Key: key, Name: name, Raw: raw, Elems: elems, List: elems != nil, Text: text, ValOff: len(head)}
}

// listLines spreads the values of a list-valued header over lines.
func (r *renderer) listLines(canonical, compact string, elems []string) []genLine {
	var groups [][]string
	for i, e := range elems {
		if i == 0 || tapeAt(r.g.Split, &r.si)%2 == 1 {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], e)
	}
	var out []genLine
	for _, g := range groups {
		raw := g[0]
		for _, e := range g[1:] {
			raw += r.sws() + "," + r.sws() + e
		}
		out = append(out, r.line(canonical, canonical, compact, raw, g))
	}
	return out
}

func methodName(g *GMsg, i int) string {
	if i%(len(methods)+1) == len(methods) {
		return text(tokenChars, g.MethodChars, "NEWMETHOD")
	}
	return pick(methods, i)
}

// render renders g and its model.
func (g GMsg) render(o renderOpts) *genCase {
	r := &renderer{g: &g, ctl: o.ctl}
	c := &genCase{}
	w := &c.Want
	w.Values = map[string][]string{}
	w.Gets = map[string]getResult{}

	// Start line.
	version := flipCase("SIP/2.0", g.Version)
	w.Version = version
	var method string
	if g.Request {
		method = methodName(&g, g.Method)
		ut, um := r.uri(g.RURI, ctxRURI)
		c.Start = method + " " + ut + " " + version
		w.Request, w.Method, w.RequestURI = true, method, um
	} else {
		method = methodName(&g, g.CSeqMethod)
		code := 100 + (g.Code-100)%600
		if code < 100 {
			code = 100
		}
		var reason strings.Builder
		for _, v := range g.Reason {
			reason.WriteString(pick(reasonAlpha, v))
		}
		c.Start = version + " " + strconv.Itoa(code) + " " + reason.String()
		w.Method, w.StatusCode, w.Reason = method, code, reason.String()
	}
	w.StartLine = c.Start

	var lines []genLine
	add := func(ls ...genLine) { lines = append(lines, ls...) }
	noteQuoted := func(key string, idx int, ps []hparam) {
		seen := map[string]int{}
		for _, p := range ps {
			seen[strings.ToLower(p.name)]++
		}
		for _, p := range ps {
			if p.quoted && seen[strings.ToLower(p.name)] == 1 {
				c.Unquoted = append(c.Unquoted, unq{key, idx, p.name, p.content})
			}
		}
	}

	// Via.
	vias := g.Vias
	if len(vias) == 0 {
		vias = []GVia{{}}
	}
	var viaRaw []string
	for i, v := range vias {
		rv, mv := r.via(v, i == 0)
		viaRaw = append(viaRaw, rv.raw)
		w.Vias = append(w.Vias, mv)
		noteQuoted("Via", i, rv.params)
	}
	w.TopVia = w.Vias[0]
	add(r.listLines("Via", "v", viaRaw)...)

	// Route (requests only).
	if g.Request && len(g.Routes) > 0 {
		var raw []string
		for i, na := range g.Routes {
			rv, mv := r.nameAddr(na, ctxRoute, nil)
			raw = append(raw, rv.raw)
			w.Routes = append(w.Routes, header.Route(mv))
			noteQuoted("Route", i, rv.params)
		}
		add(r.listLines("Route", "", raw)...)
	}

	// Max-Forwards.
	if g.Request && !g.NoMaxFwd {
		n := g.MaxFwd % 256
		txt := strconv.Itoa(n)
		if g.MaxFwd > 255 {
			txt = "0" + txt
		}
		w.MaxForwards, w.HasMaxForwards = n, true
		add(r.line("Max-Forwards", "Max-Forwards", "", txt, nil))
	}

	// To and From.
	var toSpecial []hparam
	if g.ToHasTag || (!g.Request && w.StatusCode > 100 && len(g.ToTag) > 0) {
		toSpecial = append(toSpecial, r.mkParam(flipCase("tag", g.To.URI.Case>>7), text(tokenChars, g.ToTag, "a1"), true))
	}
	rt, mt := r.nameAddr(g.To, ctxAddr, toSpecial)
	w.To = header.To(mt)
	noteQuoted("To", 0, rt.params)
	add(r.line("To", "To", "t", rt.raw, nil))
	rf, mf := r.nameAddr(g.From, ctxAddr, []hparam{r.mkParam(flipCase("tag", g.From.URI.Case>>7), text(tokenChars, g.FromTag, "1"), true)})
	w.From = header.From(mf)
	noteQuoted("From", 0, rf.params)
	add(r.line("From", "From", "f", rf.raw, nil))

	// Call-ID.
	callID := text(wordChars, g.CallID, "c1")
	if len(g.CallHost) > 0 {
		callID += "@" + text(wordChars, g.CallHost, "h")
	}
	w.CallID = callID
	add(r.line("Call-ID", "Call-ID", "i", callID, nil))

	// CSeq.
	w.CSeq = header.CSeq{Seq: g.CSeq, Method: method}
	add(r.line("CSeq", "CSeq", "", strings.Repeat("0", g.CSeqZeros)+strconv.FormatUint(uint64(g.CSeq), 10)+r.lws()+method, nil))

	// Contact.
	if g.ContactStar && g.Request {
		w.Contacts = []header.Contact{{Star: true}}
		add(r.line("Contact", "Contact", "m", "*", []string{"*"}))
	} else if len(g.Contacts) > 0 {
		var raw []string
		for i, na := range g.Contacts {
			rv, mv := r.nameAddr(na, ctxContact, nil)
			raw = append(raw, rv.raw)
			w.Contacts = append(w.Contacts, header.Contact{Display: mv.Display, URI: mv.URI, Params: mv.Params})
			noteQuoted("Contact", i, rv.params)
		}
		add(r.listLines("Contact", "m", raw)...)
	}

	// Record-Route.
	if len(g.RecordRoutes) > 0 {
		var raw []string
		for i, na := range g.RecordRoutes {
			rv, mv := r.nameAddr(na, ctxRoute, nil)
			raw = append(raw, rv.raw)
			w.RecordRoutes = append(w.RecordRoutes, header.RecordRoute(mv))
			noteQuoted("Record-Route", i, rv.params)
		}
		add(r.listLines("Record-Route", "", raw)...)
	}

	// Allow and Supported.
	if len(g.Allow) > 0 {
		var raw []string
		for _, v := range g.Allow {
			m := methodName(&g, v)
			raw = append(raw, m)
			w.Allow = append(w.Allow, header.Allow(m))
		}
		add(r.listLines("Allow", "", raw)...)
	}
	if len(g.Supported) > 0 {
		var raw []string
		for _, v := range g.Supported {
			t := pick(optionTags, v)
			raw = append(raw, t)
			w.Supported = append(w.Supported, header.Supported(t))
		}
		add(r.listLines("Supported", "k", raw)...)
	}

	// Expires, Subject, User-Agent.
	for _, e := range g.Expires {
		txt := strconv.FormatUint(uint64(e), 10)
		if e%5 == 0 {
			txt = "00" + txt
		}
		w.Expires = append(w.Expires, header.Expires(e))
		add(r.line("Expires", "Expires", "", txt, nil))
	}
	for _, s := range g.Subject {
		t := r.freeText(s)
		w.Subject = append(w.Subject, header.Subject(refUnfold(t)))
		add(r.line("Subject", "Subject", "s", t, nil))
	}
	for _, s := range g.UserAgent {
		t := r.freeText(s)
		if t == "" {
			t = "sansip/0.1"
		}
		w.UserAgent = append(w.UserAgent, header.UserAgent(refUnfold(t)))
		add(r.line("User-Agent", "User-Agent", "", t, nil))
	}

	// Extension headers.
	for _, e := range g.Ext {
		name := flipCase(pick(extNames, e.Name), e.Case)
		t := r.freeText(e.Text)
		if name == "X-Empty" || strings.EqualFold(name, "x-empty") {
			t = ""
		}
		add(r.line(strings.ToLower(name), name, "", t, nil))
	}

	// Body, Content-Type, Content-Length.
	body, ctype := g.Body.render()
	w.Body = body
	if ctype != "" {
		add(r.line("Content-Type", "Content-Type", "c", ctype, nil))
	}
	w.ContentLength = -1
	if o.forceCL || g.CLForm%20 != 19 {
		txt := strconv.Itoa(len(body))
		if g.CLForm%20 >= 16 {
			txt = "00" + txt
		}
		w.ContentLength = len(body)
		c.HasCL = true
		add(r.line("Content-Length", "Content-Length", "l", txt, nil))
	}

	// Order.
	lines = r.shuffle(lines)
	c.Lines = lines

	var b strings.Builder
	b.WriteString(c.Start + "\r\n")
	for _, l := range lines {
		b.WriteString(l.Text)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	c.Bytes = []byte(b.String())
	c.CtlChars = r.ctlCnt

	// Header lines, values and lookups.
	w.NumHeaders = len(lines)
	byKey := map[string][]string{}
	first := map[string]string{}
	var keys []string
	for _, l := range lines {
		w.Headers = append(w.Headers, nameValue{l.Name, refUnfold(l.Raw)})
		if _, ok := first[l.Key]; !ok {
			first[l.Key] = refUnfold(l.Raw)
			keys = append(keys, l.Key)
		}
		if l.List {
			for _, e := range l.Elems {
				byKey[l.Key] = append(byKey[l.Key], refUnfold(e))
			}
		} else {
			byKey[l.Key] = append(byKey[l.Key], refUnfold(l.Raw))
		}
	}
	query := func(q, key string) {
		c.Queries = append(c.Queries, q)
		w.Values[q] = byKey[key]
		if v, ok := first[key]; ok {
			w.Gets[q] = getResult{v, true}
		} else {
			w.Gets[q] = getResult{}
		}
	}
	for i, k := range keys {
		id := header.Lookup(k)
		if id == header.Unknown {
			query(k, k)
			query(strings.ToUpper(k), k)
			continue
		}
		query(id.Name(), k)
		query(flipCase(id.Name(), uint32(i)*0x9e3779b9|1), k)
		if id.Compact() != "" {
			query(strings.ToUpper(id.Compact()), k)
		}
	}
	for _, k := range []string{"Expires", "Route", "Record-Route", "Contact", "Subject", "x-absent", "Allow", "k"} {
		id := header.Lookup(k)
		key := k
		if id != header.Unknown {
			key = id.Name()
		}
		if _, ok := first[key]; !ok {
			query(k, key)
		}
	}
	return c
}

// freeText renders TEXT-UTF8 content without white space at its ends; a
// SP inside may be written as a line fold.
func (r *renderer) freeText(idx []int) string {
	var t strings.Builder
	for _, v := range idx {
		t.WriteString(pick(textAlpha, v))
	}
	s := strings.Trim(t.String(), " \t")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			b.WriteString(r.space())
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shuffle reorders the lines by the Order tape, keeping the lines of each
// header in their order.
func (r *renderer) shuffle(lines []genLine) []genLine {
	if len(r.g.Order) == 0 {
		return lines
	}
	keys := make([]int, len(lines))
	for i := range keys {
		keys[i] = tapeAt(r.g.Order, &r.oi)
	}
	idx := make([]int, len(lines))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]genLine, len(lines))
	// Positions taken by each header, in output order, get its lines in
	// their original order.
	next := map[string][]genLine{}
	for _, l := range lines {
		next[l.Key] = append(next[l.Key], l)
	}
	for pos, i := range idx {
		k := lines[i].Key
		out[pos] = next[k][0]
		next[k] = next[k][1:]
	}
	return out
}

func (b GBody) render() (body, ctype string) {
	switch b.Kind % 4 {
	case 1:
		var s strings.Builder
		for _, v := range b.Data {
			s.WriteString(pick(bodyTextAlpha, v))
		}
		if s.Len() == 0 {
			s.WriteString("hello")
		}
		return s.String(), pick([]string{"text/plain", "text/plain;charset=utf-8", "text/plain ; charset=\"UTF-8\""}, len(b.Data))
	case 2:
		n := 0
		for _, v := range b.Data {
			n = n*7 + v
		}
		sdp := "v=0\r\no=alice " + strconv.Itoa(n%100000) + " " + strconv.Itoa(n%977) + " IN IP4 host.example.com\r\n" +
			"s=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio " + strconv.Itoa(49170+n%1000) + " RTP/AVP 0 8 97\r\n" +
			"a=rtpmap:0 PCMU/8000\r\na=rtpmap:97 iLBC/8000\r\n"
		return sdp, "application/sdp"
	case 3:
		d := []byte{0, '\n'}
		for _, v := range b.Data {
			d = append(d, byte(v))
		}
		return string(d), "application/octet-stream"
	}
	return "", ""
}
