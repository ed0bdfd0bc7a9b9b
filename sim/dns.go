package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/sansip/sansip/effects"
)

// SetDNS sets what a look-up of name answers (RFC 3263's result: the
// targets to try, in order), replacing what it answered before; no targets
// removes the name. Names are case-insensitive.
func (s *Sim) SetDNS(name string, targets ...effects.Target) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if len(targets) == 0 {
		delete(s.dns, name)
		return
	}
	s.dns[name] = slices.Clone(targets)
}

// SetDNSNode makes name resolve to the node's first address and transport.
func (s *Sim) SetDNSNode(name string, n *Node) {
	s.SetDNS(name, effects.Target{Addr: n.Addr(), Transport: n.Transport()})
}

// lookup answers a look-up as drivers/dns would from the table: an IP
// address is its own answer; a transport or port the core fixed filters
// and overrides the records.
func (s *Sim) lookup(name string, tr effects.Transport, port uint16) ([]effects.Target, error) {
	if a, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		if tr == 0 {
			tr = effects.UDP
		}
		if port == 0 {
			port = 5060
			if tr.Secure() {
				port = 5061
			}
		}
		return []effects.Target{{Addr: netip.AddrPortFrom(a, port), Transport: tr}}, nil
	}
	recs := s.dns[strings.ToLower(strings.TrimSuffix(name, "."))]
	var out []effects.Target
	for _, t := range recs {
		if tr != 0 && t.Transport != tr {
			continue
		}
		if port != 0 {
			t.Addr = netip.AddrPortFrom(t.Addr.Addr(), port)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoName, name)
	}
	return out, nil
}

// resolve carries out a Resolve effect: the answer comes back as a
// Resolved input after Config.DNSDelay.
func (s *Sim) resolve(nd *Node, e *effects.Effect) {
	ans, err := s.lookup(e.Name, e.To.Transport, e.To.Addr.Port())
	s.record(Record{Op: OpResolve, Node: nd, Detail: e.Name + " " + e.Service + " " + answerString(ans, err)})
	ev := s.newEvent(evInput, s.now.Add(s.cfg.DNSDelay), nd)
	ev.in = effects.Input{Kind: effects.Resolved, Tag: e.Tag, Answer: ans, Err: err}
	s.push(ev)
}

func answerString(ans []effects.Target, err error) string {
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for i, t := range ans {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.Transport.String() + ":" + t.Addr.String())
	}
	return b.String()
}
