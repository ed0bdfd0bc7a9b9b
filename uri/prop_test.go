package uri

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// The generators below build valid URIs field by field, the way a program
// would (escaping with the Escape helpers), so that each property can check
// Parse against a URI whose components are known.

// charOf generates one byte of set.
func charOf(set string) gopter.Gen {
	return gen.IntRange(0, len(set)-1).Map(func(i int) byte { return set[i] })
}

// rawByte generates octets biased towards the interesting ones: unreserved
// characters, the delimiters of the grammar, '%', and now and then any octet.
func rawByte() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 6, Gen: charOf(alphanum)},
		{Weight: 2, Gen: charOf(mark)},
		{Weight: 3, Gen: charOf(";/?:@&=+$,%[]<> \"#\x00")},
		{Weight: 1, Gen: gen.UInt8()},
	})
}

// textOf generates a string of min to max bytes from chars.
func textOf(min, max int, chars gopter.Gen) gopter.Gen {
	return gen.IntRange(min, max).FlatMap(func(n interface{}) gopter.Gen {
		return gen.SliceOfN(n.(int), chars).Map(func(b []byte) string { return string(b) })
	}, reflect.TypeOf(""))
}

// labelGen generates a domain label: alphanumeric ends, hyphens inside; a
// top label starts with a letter.
func labelGen(top bool) gopter.Gen {
	first := charOf(alphanum)
	if top {
		first = charOf("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	}
	return gopter.CombineGens(first, textOf(0, 5, charOf(alphanum+"-")), charOf(alphanum), gen.Bool()).
		Map(func(v []interface{}) string {
			s := string(v[0].(byte))
			if v[3].(bool) {
				s += v[1].(string) + string(v[2].(byte))
			}
			return s
		})
}

func hostnameGen() gopter.Gen {
	return gopter.CombineGens(gen.SliceOfN(3, labelGen(false)), gen.IntRange(0, 3), labelGen(true), gen.IntRange(0, 5)).
		Map(func(v []interface{}) string {
			labels := v[0].([]string)[:v[1].(int)]
			h := strings.Join(append(labels, v[2].(string)), ".")
			if v[3].(int) == 0 {
				h += "." // a fully qualified name
			}
			return h
		})
}

func ipv4Gen() gopter.Gen {
	return gen.SliceOfN(4, gen.UInt8()).Map(func(b []uint8) string {
		return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	})
}

// ipv6Gen generates IPv6 references in the textual forms RFC 4291 and
// RFC 5118 allow: compressed, expanded, IPv4-mapped, and the three-colon
// form of RFC 5118 §4.10.
func ipv6Gen() gopter.Gen {
	return gopter.CombineGens(gen.SliceOfN(16, gen.UInt8()), gen.IntRange(0, 4), gen.IntRange(0, 4)).
		Map(func(v []interface{}) string {
			b := [16]byte(v[0].([]uint8))
			zeros := v[2].(int) // a run of zero groups, so that "::" shows up
			for i := 0; i < 2*zeros; i++ {
				b[4+i] = 0
			}
			a := netip.AddrFrom16(b)
			switch v[1].(int) {
			case 1:
				return "[" + strings.ToUpper(a.StringExpanded()) + "]"
			case 2:
				return "[::ffff:" + netip.AddrFrom4([4]byte(b[12:])).String() + "]"
			case 3:
				n := zeros % 4 // hex groups before ":::"
				var g []string
				for i := 0; i < n; i++ {
					g = append(g, fmt.Sprintf("%x", uint16(b[2*i])<<8|uint16(b[2*i+1])))
				}
				return "[" + strings.Join(g, ":") + ":::" + netip.AddrFrom4([4]byte(b[12:])).String() + "]"
			}
			return "[" + a.String() + "]"
		})
}

func hostGen() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 5, Gen: hostnameGen()},
		{Weight: 2, Gen: ipv4Gen()},
		{Weight: 2, Gen: ipv6Gen()},
	})
}

func portGen() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: gen.Const(uint16(0))},
		{Weight: 1, Gen: gen.OneConstOf(uint16(5060), uint16(5061))},
		{Weight: 2, Gen: gen.UInt16Range(1, 65535)},
	})
}

// paramsGen generates ";name[=value]" lists with distinct names (as
// Params.Get tells names apart), escaped with EscapeParam. Tel parameter
// names are restricted to RFC 3966's pname.
func paramsGen(tel bool) gopter.Gen {
	name := gen.Weighted([]gen.WeightedGen{
		{Weight: 2, Gen: gen.OneConstOf("transport", "lr", "maddr", "ttl", "user", "method", "ob", "x", "Transport")},
		{Weight: 3, Gen: textOf(1, 8, rawByte())},
	})
	if tel {
		name = gen.Weighted([]gen.WeightedGen{
			{Weight: 2, Gen: gen.OneConstOf("ext", "isub", "tgrp", "x")},
			{Weight: 3, Gen: textOf(1, 8, charOf(alphanum+"-"))},
		})
	}
	item := gopter.CombineGens(name, textOf(1, 10, rawByte()), gen.Bool())
	return gen.IntRange(0, 4).FlatMap(func(n interface{}) gopter.Gen {
		return gen.SliceOfN(n.(int), item).Map(func(items [][]interface{}) Params {
			var p Params
			for _, it := range items {
				n := EscapeParam(it[0].(string))
				if p.Has(n) || (tel && paramNameEqual(n, "phone-context")) {
					continue
				}
				p += Params(";" + n)
				if it[2].(bool) {
					p += Params("=" + EscapeParam(it[1].(string)))
				}
			}
			return p
		})
	}, reflect.TypeOf(Params("")))
}

func headersGen() gopter.Gen {
	item := gopter.CombineGens(textOf(1, 6, rawByte()), textOf(0, 8, rawByte())).Map(func(v []interface{}) string {
		return EscapeHeader(v[0].(string)) + "=" + EscapeHeader(v[1].(string))
	})
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 2, Gen: gen.Const("")},
		{Weight: 1, Gen: gen.SliceOfN(1, item).Map(func(s []string) string { return strings.Join(s, "&") })},
		{Weight: 1, Gen: gen.SliceOfN(3, item).Map(func(s []string) string { return strings.Join(s, "&") })},
	})
}

func telNumberGen(global bool) gopter.Gen {
	digits := "0123456789"
	if !global {
		digits = "0123456789abcdefABCDEF*#"
	}
	chars := gen.Weighted([]gen.WeightedGen{
		{Weight: 4, Gen: charOf(digits)},
		{Weight: 1, Gen: charOf("-.()")},
	})
	return gopter.CombineGens(charOf(digits), textOf(0, 12, chars)).Map(func(v []interface{}) string {
		s := string(v[0].(byte)) + v[1].(string)
		if global {
			s = "+" + s
		}
		return s
	})
}

func sipGen() gopter.Gen {
	user := gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: gen.Const("")},
		{Weight: 3, Gen: textOf(1, 12, rawByte()).Map(EscapeUser)},
		{Weight: 1, Gen: telNumberGen(true)},
	})
	password := gen.Weighted([]gen.WeightedGen{
		{Weight: 3, Gen: gen.Const("")},
		{Weight: 1, Gen: textOf(1, 8, rawByte()).Map(EscapePassword)},
	})
	return gopter.CombineGens(gen.Bool(), user, password, hostGen(), portGen(), paramsGen(false), headersGen()).
		Map(func(v []interface{}) URI {
			u := URI{Scheme: SIP, User: v[1].(string), Host: v[3].(string), Port: v[4].(uint16), Params: v[5].(Params), Headers: v[6].(string)}
			if v[0].(bool) {
				u.Scheme = SIPS
			}
			if u.User != "" {
				u.Password = v[2].(string)
			}
			return u
		})
}

func telGen() gopter.Gen {
	context := gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: hostnameGen().SuchThat(func(h string) bool { return !validIPv4(h) })},
		{Weight: 1, Gen: telNumberGen(true)},
	})
	return gopter.CombineGens(gen.Bool(), telNumberGen(true), telNumberGen(false), context, paramsGen(true), gen.IntRange(0, 4)).
		Map(func(v []interface{}) URI {
			u := URI{Scheme: Tel, User: v[1].(string), Params: v[4].(Params)}
			if !v[0].(bool) {
				// A local number needs its context, anywhere in the list.
				u.User = v[2].(string)
				ctx := Params(";phone-context=" + v[3].(string))
				at := 0
				for k := v[5].(int); k > 0 && at < len(u.Params); k-- {
					_, _, _, at = splitParam(u.Params, at)
				}
				u.Params = u.Params[:at] + ctx + u.Params[at:]
			}
			return u
		})
}

// splitParam reads the parameter at p[i] (its ';').
func splitParam(p Params, i int) (name, value string, hasValue bool, next int) {
	j := i + 1
	for j < len(p) && p[j] != ';' {
		j++
	}
	item := string(p[i+1 : j])
	if k := strings.IndexByte(item, '='); k >= 0 {
		return item[:k], item[k+1:], true, j
	}
	return item, "", false, j
}

func absoluteGen() gopter.Gen {
	scheme := gopter.CombineGens(charOf("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), textOf(0, 6, charOf(alphanum+"+-."))).
		Map(func(v []interface{}) string { return string(v[0].(byte)) + v[1].(string) }).
		SuchThat(func(s string) bool {
			return !strings.EqualFold(s, "sip") && !strings.EqualFold(s, "sips") && !strings.EqualFold(s, "tel")
		})
	rest := textOf(1, 20, gen.Weighted([]gen.WeightedGen{
		{Weight: 6, Gen: charOf(alphanum)},
		{Weight: 3, Gen: charOf(mark + ";/?:@&=+$,[]#")},
		{Weight: 1, Gen: gen.UInt8()},
	})).Map(func(s string) string {
		// Escape what an absoluteURI cannot hold literally.
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if strings.IndexByte(unreserved+";/?:@&=+$,[]#", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	})
	return gopter.CombineGens(scheme, rest).Map(func(v []interface{}) URI {
		return URI{Scheme: Absolute, Opaque: v[0].(string) + ":" + v[1].(string)}
	})
}

// uriGen generates valid sip, sips, tel and absolute URIs.
func uriGen() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 6, Gen: sipGen()},
		{Weight: 2, Gen: telGen()},
		{Weight: 1, Gen: absoluteGen()},
	})
}

// escapeUnreserved returns s (an escaped component) with the literal
// unreserved characters picked by bits (cycled) percent-escaped, with hex
// digits in either case.
func escapeUnreserved(s string, bits uint64) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			b.WriteString(s[i : i+3])
			i += 2
			continue
		}
		bit := bits>>(uint(i)%64)&1 == 1
		if bit && strings.IndexByte(unreserved, c) >= 0 {
			if i%2 == 0 {
				fmt.Fprintf(&b, "%%%02X", c)
			} else {
				fmt.Fprintf(&b, "%%%02x", c)
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// shuffle returns the ';' or '&' separated items of s in an order given by
// seed (a Fisher-Yates shuffle driven by a small LCG).
func shuffle(s string, sep byte, seed uint64) string {
	if s == "" {
		return s
	}
	lead := ""
	if s[0] == sep {
		lead, s = s[:1], s[1:]
	}
	items := strings.Split(s, string(sep))
	for i := len(items) - 1; i > 0; i-- {
		seed = seed*6364136223846793005 + 1442695040888963407
		j := int(seed>>33) % (i + 1)
		items[i], items[j] = items[j], items[i]
	}
	return lead + strings.Join(items, string(sep))
}

func propParameters(t *testing.T) *gopter.TestParameters {
	p := gopter.DefaultTestParametersWithSeed(20240601) // deterministic: a failure replays
	p.MinSuccessfulTests = 1000
	if testing.Short() {
		p.MinSuccessfulTests = 200
	}
	return p
}

func runProps(t *testing.T, props *gopter.Properties) {
	t.Helper()
	var out strings.Builder
	if !props.Run(gopter.NewFormatedReporter(true, 160, &out)) {
		t.Error(out.String())
	}
}

func TestProperties(t *testing.T) {
	props := gopter.NewProperties(propParameters(t))

	props.Property("the generator makes valid URIs", prop.ForAll(func(u URI) string {
		if err := u.Validate(); err != nil {
			return fmt.Sprintf("%q: %v", u.String(), err)
		}
		return ""
	}, uriGen()))

	props.Property("parse(render(u)) == u", prop.ForAll(func(u URI) string {
		v, err := Parse(u.String())
		if err != nil {
			return fmt.Sprintf("Parse(%q): %v", u.String(), err)
		}
		if diff := cmp.Diff(u, v); diff != "" {
			return fmt.Sprintf("Parse(%q) (-want +got):\n%s", u.String(), diff)
		}
		return ""
	}, uriGen()))

	props.Property("Equal is reflexive", prop.ForAll(func(u URI) bool {
		return Equal(u, u)
	}, uriGen()))

	props.Property("Equal is symmetric", prop.ForAll(func(u, v URI, bits uint64) bool {
		// Unrelated pairs are almost never equal; pair u with a
		// variant of itself too, which often is.
		w := u
		w.Params = Params(shuffle(string(u.Params), ';', bits))
		if bits&1 == 0 {
			w.Host = strings.ToUpper(u.Host)
		}
		if bits&2 == 0 && u.IsSIP() {
			w.Port = 5060
		}
		if bits&4 == 0 && u.IsSIP() {
			w.User = escapeUnreserved(u.User, bits)
		}
		if bits&8 == 0 {
			w = w.WithoutParam("transport")
		}
		return Equal(u, v) == Equal(v, u) && Equal(u, w) == Equal(w, u)
	}, uriGen(), uriGen(), gen.UInt64()))

	props.Property("escaping unreserved characters of the user keeps Equal (RFC 3261 §19.1.4)", prop.ForAll(func(u URI, bits uint64) string {
		if !u.IsSIP() {
			return ""
		}
		s := u.Scheme.String() + ":"
		if u.User != "" {
			s += escapeUnreserved(u.User, bits)
			if u.Password != "" {
				s += ":" + escapeUnreserved(u.Password, bits>>7)
			}
			s += "@"
		}
		s += u.HostPort() + escapeUnreserved(string(u.Params), bits>>3)
		if u.Headers != "" {
			s += "?" + escapeUnreserved(u.Headers, bits>>5)
		}
		v, err := Parse(s)
		if err != nil {
			return fmt.Sprintf("Parse(%q): %v", s, err)
		}
		if !Equal(u, v) || !Equal(v, u) {
			return fmt.Sprintf("%q != %q", u.String(), s)
		}
		return ""
	}, uriGen(), gen.UInt64()))

	props.Property("users that decode differently are never Equal", prop.ForAll(func(u URI) string {
		if !u.IsSIP() || u.User == "" {
			return ""
		}
		for _, user := range []string{u.User + "x", strings.ToUpper(u.User), strings.ToLower(u.User)} {
			v := u
			v.User = user
			du, _ := Unescape(u.User)
			dv, _ := Unescape(v.User)
			if du != dv && (Equal(u, v) || Equal(v, u)) {
				return fmt.Sprintf("%q == %q", u.String(), v.String())
			}
		}
		return ""
	}, uriGen()))

	props.Property("reordering params and headers keeps Equal", prop.ForAll(func(u URI, seed uint64) string {
		v := u
		v.Params = Params(shuffle(string(u.Params), ';', seed))
		if u.IsSIP() {
			v.Headers = shuffle(u.Headers, '&', seed>>1)
		}
		if err := v.Validate(); err != nil {
			return fmt.Sprintf("%q: %v", v.String(), err)
		}
		if !Equal(u, v) || !Equal(v, u) {
			return fmt.Sprintf("%q != %q", u.String(), v.String())
		}
		return ""
	}, uriGen(), gen.UInt64()))

	props.Property("host case and IPv6 spelling do not matter", prop.ForAll(func(u URI) string {
		if !u.IsSIP() {
			return ""
		}
		v := u
		v.Host = strings.ToUpper(u.Host)
		if a, ok := u.Addr(); ok && a.Is6() {
			v.Host = "[" + a.StringExpanded() + "]"
		}
		if !Equal(u, v) {
			return fmt.Sprintf("%q != %q", u.String(), v.String())
		}
		return ""
	}, uriGen()))

	props.Property("port, transport and scheme are never ignored", prop.ForAll(func(u URI) string {
		if !u.IsSIP() {
			return ""
		}
		v := u
		v.Port = u.Port%65535 + 1
		if Equal(u, v) {
			return "port ignored: " + v.String()
		}
		v = u
		v.Scheme = SIP + SIPS - u.Scheme
		if Equal(u, v) {
			return "scheme ignored: " + v.String()
		}
		v = u.WithParam("transport", "x-none")
		if Equal(u, v) {
			return "transport ignored: " + v.String()
		}
		return ""
	}, uriGen()))

	runProps(t, props)
}
