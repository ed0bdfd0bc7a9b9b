// Package locate is RFC 3263 (Locating SIP Servers) as pure decisions: from
// a SIP or SIPS URI, which lookups to make (none for a numeric host, A and
// AAAA for an explicit port, SRV for an explicit transport, NAPTR
// otherwise); from NAPTR records, which SRV names to query in which order;
// and from SRV records, the order to try their targets in (RFC 2782:
// priority, then a weighted random choice).
//
// The driver performs the lookups (drivers/dns) and the core picks among
// the answers: every decision is here, deterministic given the records and
// the random source the caller passes in (the core's ident.Generator, a
// seeded one in tests), so RFC 3263 behaviour is unit-testable without DNS.
package locate

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/uri"
)

// ErrNoTransport means no transport this node supports can reach the URI
// (a sips URI on a node without TLS, a transport parameter it lacks).
var ErrNoTransport = errors.New("locate: no supported transport")

// Plan is what to look up for a URI (RFC 3263 §4.1, §4.2).
type Plan struct {
	// Direct holds the target when no lookup is needed: the host is an IP
	// address (§4.2: port and transport from the URI or defaults).
	Direct []effects.Target
	// Host is the name to look up, when Direct is empty.
	Host string
	// Port is the URI's explicit port: then only A/AAAA lookups are made
	// (§4.2), with Transport.
	Port uint16
	// Transport is fixed when the URI names one, when Port is set (UDP for
	// sip, TLS for sips), or 0 when NAPTR and SRV decide (§4.1).
	Transport effects.Transport
	// Secure is set for sips URIs: only TLS (or WSS) targets qualify.
	Secure bool
}

// Lookup says which kind of lookup a Plan needs first.
type Lookup uint8

// The lookups.
const (
	None  Lookup = iota // Direct holds the answer
	Addr                // A and AAAA for Host, with Port and Transport
	SRV                 // SRV for the transport's service name (SRVName)
	NAPTR               // NAPTR for Host, then SRV, then A/AAAA
)

// First returns the lookup the plan starts with.
func (p Plan) First() Lookup {
	switch {
	case len(p.Direct) > 0:
		return None
	case p.Port != 0:
		return Addr
	case p.Transport != 0:
		return SRV
	}
	return NAPTR
}

// PlanFor decides how to locate the server for u (the Request-URI, or the
// top Route) among the transports this node supports (nil: all of UDP,
// TCP, TLS).
func PlanFor(u uri.URI, supported []effects.Transport) (Plan, error) {
	if !u.IsSIP() {
		return Plan{}, fmt.Errorf("locate: %s: not a sip or sips URI", u.SchemeName())
	}
	if supported == nil {
		supported = []effects.Transport{effects.UDP, effects.TCP, effects.TLS}
	}
	p := Plan{Secure: u.Scheme == uri.SIPS}
	if maddr, ok := u.Params.Get("maddr"); ok && maddr != "" {
		p.Host = maddr // RFC 3263 §4: maddr takes the host's place
	} else {
		p.Host = u.Hostname()
	}
	if tp := u.Transport(); tp != "" {
		p.Transport = effects.ParseTransport(tp)
		if p.Transport == 0 {
			return Plan{}, fmt.Errorf("%w: transport=%s", ErrNoTransport, tp)
		}
		if p.Secure && p.Transport == effects.TCP {
			p.Transport = effects.TLS // §4.1: sips with transport=tcp means TLS
		}
	}
	a, err := netip.ParseAddr(strings.Trim(p.Host, "[]"))
	numeric := err == nil
	if numeric || u.Port != 0 {
		// §4.1, §4.2: a numeric host or an explicit port: no NAPTR, no SRV;
		// the transport defaults to UDP (TLS for sips).
		if p.Transport == 0 {
			p.Transport = effects.UDP
			if p.Secure {
				p.Transport = effects.TLS
			}
		}
		p.Port = u.Port
		if p.Port == 0 {
			p.Port = DefaultPort(p.Transport)
		}
	}
	if p.Transport != 0 && !slices.Contains(supported, p.Transport) {
		return Plan{}, fmt.Errorf("%w: %s", ErrNoTransport, p.Transport)
	}
	if numeric {
		p.Direct = []effects.Target{{Addr: netip.AddrPortFrom(a.Unmap(), p.Port), Transport: p.Transport}}
	}
	return p, nil
}

// DefaultPort is the port a transport uses when none is given: 5061 for TLS
// and WSS, 5060 otherwise (RFC 3261 §19.1.2, RFC 7118 leaves WebSocket to
// the URI).
func DefaultPort(t effects.Transport) uint16 {
	if t == effects.TLS || t == effects.WSS {
		return 5061
	}
	return 5060
}

// SRVName returns the SRV owner name for a transport (RFC 3263 §4.1,
// RFC 7118 §5 for WebSocket): _sip._udp.host, _sip._tcp.host,
// _sips._tcp.host, _sip._ws.host, _sips._ws.host.
func SRVName(host string, t effects.Transport) string {
	switch t {
	case effects.UDP:
		return "_sip._udp." + host
	case effects.TCP:
		return "_sip._tcp." + host
	case effects.TLS:
		return "_sips._tcp." + host
	case effects.SCTP:
		return "_sip._sctp." + host
	case effects.WS:
		return "_sip._ws." + host
	case effects.WSS:
		return "_sips._ws." + host
	}
	return ""
}

// NAPTRRecord is one NAPTR record (RFC 3403) as the driver read it.
type NAPTRRecord struct {
	Order, Preference uint16
	Flags             string // "s" for the SRV step SIP uses
	Service           string // SIP+D2U, SIP+D2T, SIPS+D2T, SIP+D2W, SIPS+D2W, ...
	Replacement       string // the SRV name to query
}

// SRVQuery is one SRV lookup to make, with the transport its answers use.
type SRVQuery struct {
	Name      string
	Transport effects.Transport
}

// naptrServices maps the RFC 3263 §4.1 and RFC 7118 §5 service fields.
var naptrServices = map[string]effects.Transport{
	"SIP+D2U":  effects.UDP,
	"SIP+D2T":  effects.TCP,
	"SIPS+D2T": effects.TLS,
	"SIP+D2S":  effects.SCTP,
	"SIP+D2W":  effects.WS,
	"SIPS+D2W": effects.WSS,
}

// SRVQueries turns the NAPTR answer for a plan's host into the SRV lookups
// to make, in order (RFC 3263 §4.1: lowest order, then lowest preference;
// only "s" records whose service this node supports, and only secure ones
// for sips). With no usable NAPTR record it falls back to querying the SRV
// names of every supported transport, TLS first for sips and otherwise in
// the order given.
func SRVQueries(p Plan, recs []NAPTRRecord, supported []effects.Transport) []SRVQuery {
	if supported == nil {
		supported = []effects.Transport{effects.UDP, effects.TCP, effects.TLS}
	}
	usable := slices.Clone(recs)
	usable = slices.DeleteFunc(usable, func(r NAPTRRecord) bool {
		t, ok := naptrServices[strings.ToUpper(r.Service)]
		return !ok || !strings.EqualFold(r.Flags, "s") || !slices.Contains(supported, t) || (p.Secure && !t.Secure())
	})
	slices.SortStableFunc(usable, func(a, b NAPTRRecord) int {
		if a.Order != b.Order {
			return int(a.Order) - int(b.Order)
		}
		return int(a.Preference) - int(b.Preference)
	})
	var out []SRVQuery
	for _, r := range usable {
		out = append(out, SRVQuery{Name: strings.TrimSuffix(r.Replacement, "."), Transport: naptrServices[strings.ToUpper(r.Service)]})
	}
	if len(out) > 0 {
		return out
	}
	for _, t := range supported {
		if p.Secure && !t.Secure() {
			continue
		}
		out = append(out, SRVQuery{Name: SRVName(p.Host, t), Transport: t})
	}
	return out
}

// SRVRecord is one SRV record (RFC 2782).
type SRVRecord struct {
	Target                 string
	Port, Priority, Weight uint16
}

// OrderSRV returns the records in the order to try them (RFC 2782): by
// ascending priority, and within a priority by repeated weighted random
// choice, records of weight 0 having a small chance. rnd returns a number
// in [0, n); a Target of "." means the service is not available there and
// such a record is dropped.
func OrderSRV(recs []SRVRecord, rnd func(n uint32) uint32) []SRVRecord {
	recs = slices.DeleteFunc(slices.Clone(recs), func(r SRVRecord) bool { return r.Target == "." || r.Target == "" })
	idx := order(len(recs), func(i int) (uint16, uint16) { return recs[i].Priority, recs[i].Weight }, rnd)
	out := make([]SRVRecord, len(idx))
	for i, j := range idx {
		out[i] = recs[j]
	}
	return out
}

// Order orders resolved targets for trying in turn: by ascending
// Priority, and within one by weighted random choice as OrderSRV does.
func Order(targets []effects.Target, rnd func(n uint32) uint32) []effects.Target {
	idx := order(len(targets), func(i int) (uint16, uint16) { return targets[i].Priority, targets[i].Weight }, rnd)
	out := make([]effects.Target, len(idx))
	for i, j := range idx {
		out[i] = targets[j]
	}
	return out
}

// order returns the indexes 0..n-1 in RFC 2782 order.
func order(n int, pw func(int) (prio, weight uint16), rnd func(n uint32) uint32) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, wa := pw(a)
		pb, wb := pw(b)
		if pa != pb {
			return int(pa) - int(pb)
		}
		// RFC 2782: zero-weight records first, so they keep a small chance.
		return min(int(wa), 1) - min(int(wb), 1)
	})
	out := make([]int, 0, n)
	for len(idx) > 0 {
		p0, _ := pw(idx[0])
		g := 1
		for g < len(idx) {
			if p, _ := pw(idx[g]); p != p0 {
				break
			}
			g++
		}
		group := slices.Clone(idx[:g])
		for len(group) > 0 {
			var sum uint32
			for _, j := range group {
				_, w := pw(j)
				sum += uint32(w)
			}
			pick := uint32(0)
			if sum > 0 {
				pick = rnd(sum + 1) // RFC 2782: uniform in [0, sum]
			}
			k, run := 0, uint32(0)
			for ; k < len(group)-1; k++ {
				_, w := pw(group[k])
				run += uint32(w)
				if run >= pick {
					break
				}
			}
			out = append(out, group[k])
			group = slices.Delete(group, k, k+1)
		}
		idx = idx[g:]
	}
	return out
}
