package ua

import (
	"fmt"
	"hash/fnv"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// testProxy is a minimal proxy for the UA tests (the real one is package
// proxycore). With one target it is stateless (§16.11): it forwards
// requests by Route and Request-URI and responses by Via, and relays the ACK
// of a non-2xx on its INVITE's branch. With several it forks a new INVITE,
// cancels the other branches after the first 2xx and acknowledges every
// non-2xx itself, without retransmitting anything; a SUBSCRIBE outside a
// dialog forks too, and every response goes back. It optionally
// record-routes.
type testProxy struct {
	nd        *node
	targets   []*node
	recordRte bool
	branches  map[string]*testBranch // by the branch we added
	order     []string
	answered  map[string]bool // INVITE (Call-ID) that got a 2xx
}

type testBranch struct {
	to    *node
	inv   *message.Message // the INVITE as forwarded
	final bool
}

func (n *network) addProxy(name, addr string, targets []*node, recordRoute bool) *testProxy {
	ap := netip.MustParseAddrPort(addr)
	p := &testProxy{targets: targets, recordRte: recordRoute, branches: map[string]*testBranch{}, answered: map[string]bool{}}
	p.nd = &node{name: name, addr: effects.Peer{Addr: ap, Transport: effects.UDP}, net: n}
	p.nd.handle = p.handle
	n.nodes[ap] = p.nd
	n.pending[p.nd] = map[effects.TimerID]bool{}
	return p
}

func (p *testProxy) uri() uri.URI { return mustURI(fmt.Sprintf("sip:%s;lr", p.nd.addr.Addr)) }

func (p *testProxy) send(m *message.Message, to effects.Peer) effects.Effect {
	return effects.Effect{Kind: effects.Send, Msg: m, To: to}
}

// via returns the proxy's Via for a request forwarded to target; the branch
// is a hash of the request's own branch and the target, so that a
// retransmission takes the same branch (RFC 3261 §16.11).
func (p *testProxy) via(m *message.Message, target string) header.Via {
	h := fnv.New64a()
	h.Write([]byte(m.Branch()))
	h.Write([]byte(target))
	if m.Method() == "ACK" || m.Method() == "CANCEL" {
		h.Write([]byte("INVITE"))
	} else {
		h.Write([]byte(m.Method()))
	}
	return header.Via{Transport: "UDP", Host: p.nd.addr.Addr.Addr().String(), Port: p.nd.addr.Addr.Port(),
		Params: header.Params(fmt.Sprintf(";branch=z9hG4bK%x", h.Sum64()))}
}

func (p *testProxy) handle(in effects.Input) []effects.Effect {
	if in.Kind != effects.Received {
		return nil
	}
	m, err := message.Parse(in.Data, nil)
	if err != nil {
		return nil
	}
	if !m.IsRequest() {
		return p.response(m)
	}
	var out []effects.Effect
	if m.Method() == "ACK" || m.Method() == "CANCEL" && len(p.targets) == 1 {
		// The ACK of a non-2xx and a CANCEL take their INVITE's branch
		// (§9.1, §17.1.1.3): with one target they go on statelessly, on
		// that branch (§16.11); when forking, the proxy acknowledged the
		// response itself and absorbs the ACK.
		for _, to := range p.targets {
			v := p.via(m, to.name)
			if br := p.branches[v.Branch()]; br != nil {
				if len(p.targets) > 1 {
					return nil
				}
				fwd := m.Clone()
				fwd.DecrementMaxForwards()
				fwd.SetRequestURI(br.inv.RequestURI())
				fwd.PrependVia(v)
				return append(out, p.send(fwd, to.addr))
			}
		}
	}
	if (m.Method() == "INVITE" || m.Method() == "SUBSCRIBE") && m.ToTag() == "" || m.Method() == "CANCEL" && len(p.targets) > 1 {
		for _, to := range p.targets {
			fwd := m.Clone()
			fwd.DecrementMaxForwards()
			if m.Method() == "CANCEL" {
				// A CANCEL goes to every branch, with that branch's Via.
				for _, br := range p.sortedBranches() {
					if br.to == to && br.inv.CallID() == m.CallID() && !br.final {
						if c, err := message.CancelFor(br.inv); err == nil {
							out = append(out, p.send(c, to.addr))
						}
					}
				}
				continue
			}
			if p.recordRte {
				fwd.PrependRecordRoute(header.RecordRoute{URI: p.uri()})
			}
			fwd.SetRequestURI(mustURI(fmt.Sprintf("sip:%s@%s", to.name, to.addr.Addr)))
			v := p.via(m, to.name)
			fwd.PrependVia(v)
			p.branches[v.Branch()] = &testBranch{to: to, inv: fwd}
			p.order = append(p.order, v.Branch())
			out = append(out, p.send(fwd, to.addr))
		}
		if m.Method() == "CANCEL" {
			// Answer the CANCEL hop by hop.
			if r, err := message.NewResponse(m, 200, "", message.ResponseOptions{ToTag: "proxy"}); err == nil {
				out = append(out, p.send(r, in.From))
			}
		}
		return out
	}
	// In a dialog (or a single target): loose routing by Route, then the
	// Request-URI.
	fwd := m.Clone()
	if r, ok, _ := message.First[header.Route](fwd); ok {
		if a, ok := r.URI.Addr(); ok && a == p.nd.addr.Addr.Addr() {
			fwd.RemoveTopRoute()
		}
	}
	fwd.DecrementMaxForwards()
	if len(p.targets) == 1 && m.ToTag() == "" && p.recordRte {
		fwd.PrependRecordRoute(header.RecordRoute{URI: p.uri()})
	}
	next := fwd.RequestURI()
	if r, ok, _ := message.First[header.Route](fwd); ok {
		next = r.URI
	}
	fwd.PrependVia(p.via(m, next.String()))
	return append(out, p.send(fwd, nextHop(next, effects.Peer{Transport: effects.UDP})))
}

// response forwards a response to the next Via, cancelling other branches
// after the first 2xx to an INVITE and acknowledging their 487.
func (p *testProxy) response(m *message.Message) []effects.Effect {
	var out []effects.Effect
	br := p.branches[m.Branch()]
	code := m.StatusCode()
	if br != nil && m.CSeq().Method == "INVITE" && code >= 200 {
		if code >= 300 && len(p.targets) > 1 {
			if ack, err := message.AckFor(br.inv, m); err == nil {
				out = append(out, p.send(ack, br.to.addr))
			}
		}
		if br.final && code >= 300 && len(p.targets) > 1 {
			return out // a retransmission
		}
		br.final = true
		if code < 300 && !p.answered[m.CallID()] {
			p.answered[m.CallID()] = true
			for _, other := range p.sortedBranches() {
				if other != br && !other.final && other.inv.CallID() == m.CallID() {
					if c, err := message.CancelFor(other.inv); err == nil {
						out = append(out, p.send(c, other.to.addr))
					}
				}
			}
		}
		if code >= 300 && p.answered[m.CallID()] {
			return out // a cancelled branch's 487 stays here
		}
	}
	if m.CSeq().Method == "CANCEL" && br != nil && len(p.targets) > 1 {
		return out // the CANCEL we sent was answered
	}
	fwd := m.Clone()
	if _, err := fwd.RemoveTopVia(); err != nil {
		return out
	}
	v := fwd.TopVia()
	host, _ := netip.ParseAddr(v.Host)
	port := v.Port
	if port == 0 {
		port = 5060
	}
	return append(out, p.send(fwd, effects.Peer{Addr: netip.AddrPortFrom(host, port), Transport: effects.UDP}))
}

// sortedBranches returns the branches in the order they were made, so that
// runs are deterministic.
func (p *testProxy) sortedBranches() []*testBranch {
	var out []*testBranch
	for _, b := range p.order {
		out = append(out, p.branches[b])
	}
	return out
}
