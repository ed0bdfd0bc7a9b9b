package sim

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sansip/sansip/effects"
)

// Core is what a node runs: a sansip core (ua.UA, proxycore.Proxy,
// proxycore.Stateless all have this method), or an adapter joining
// several, exactly as drivers/loop runs one.
type Core interface {
	Handle(in effects.Input, out []effects.Effect) []effects.Effect
}

// Leftover is implemented by cores that can say what state they still
// hold; CheckQuiet asks them. It returns "" when nothing is left, else a
// short description ("1 calls, 2 transactions").
type Leftover interface {
	Leftover() string
}

// Sourcer is implemented by cores that listen on several addresses (a
// B2BUA whose legs are two UAs): it returns the address a Send effect
// leaves from, one of the node's. Other nodes send from their first
// address.
type Sourcer interface {
	Source(e *effects.Effect) netip.AddrPort
}

// Event is an event a node's core delivered, with the time it did.
type Event struct {
	At effects.Time
	effects.Event
}

// Node is one core on the network, at one or more addresses.
type Node struct {
	sim   *Sim
	name  string
	index int
	addrs []netip.AddrPort
	tr    effects.Transport
	core  Core
	// timers pending in the Sim, by the core's id.
	timers map[effects.TimerID]*event
	events []Event
	hooks  []func(ev effects.Event)
}

// Add puts a node running core on the network at addr ("192.0.2.1:5060",
// or with a transport as Peer.String writes it, "TCP:192.0.2.1:5060"; UDP
// by default: the transport others use to reach it) and at the extra
// addresses, if any.
func (s *Sim) Add(name, addr string, core Core, extra ...string) (*Node, error) {
	if name == "" || s.byName[name] != nil {
		return nil, fmt.Errorf("%w: node name %q empty or taken", ErrAddress, name)
	}
	p, err := ParsePeer(addr)
	if err != nil {
		return nil, err
	}
	nd := &Node{sim: s, name: name, index: len(s.nodes), addrs: []netip.AddrPort{p.Addr}, tr: p.Transport, core: core,
		timers: map[effects.TimerID]*event{}}
	for _, a := range extra {
		q, err := ParsePeer(a)
		if err != nil {
			return nil, err
		}
		nd.addrs = append(nd.addrs, q.Addr)
	}
	for i, a := range nd.addrs {
		if s.byAddr[a] != nil || containsAddr(nd.addrs[:i], a) {
			return nil, fmt.Errorf("%w: %v taken", ErrAddress, a)
		}
	}
	for _, a := range nd.addrs {
		s.byAddr[a] = nd
	}
	s.nodes = append(s.nodes, nd)
	s.byName[name] = nd
	return nd, nil
}

func containsAddr(list []netip.AddrPort, a netip.AddrPort) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// ParsePeer parses an address as Peer.String writes it, "UDP:192.0.2.1:5060"
// or "TCP:[2001:db8::1]:5060" (without Conn), or a bare "192.0.2.1:5060"
// (UDP).
func ParsePeer(s string) (effects.Peer, error) {
	p := effects.Peer{Transport: effects.UDP}
	if i := strings.IndexByte(s, ':'); i > 0 {
		if t := effects.ParseTransport(s[:i]); t != 0 {
			p.Transport, s = t, s[i+1:]
		}
	}
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrAddress, err)
	}
	p.Addr = a
	return p, nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Index returns the node's position in the order nodes were added.
func (n *Node) Index() int { return n.index }

// Sim returns the Sim the node is on.
func (n *Node) Sim() *Sim { return n.sim }

// Core returns the node's core.
func (n *Node) Core() Core { return n.core }

// Addr returns the node's first address.
func (n *Node) Addr() netip.AddrPort { return n.addrs[0] }

// Addrs returns every address of the node.
func (n *Node) Addrs() []netip.AddrPort { return n.addrs }

// Transport returns the transport others use to reach the node.
func (n *Node) Transport() effects.Transport { return n.tr }

// Peer returns how others reach the node: its first address and transport
// (a CallOptions.Dest, a Target.Peer).
func (n *Node) Peer() effects.Peer { return effects.Peer{Addr: n.addrs[0], Transport: n.tr} }

// Timers returns the number of the node's timers pending in the Sim.
func (n *Node) Timers() int { return len(n.timers) }

// Events returns the events the node's core delivered, in order.
func (n *Node) Events() []Event { return n.events }

// Last returns the node's last event of kind k.
func (n *Node) Last(k effects.EventKind) (Event, bool) {
	for i := len(n.events) - 1; i >= 0; i-- {
		if n.events[i].Kind == k {
			return n.events[i], true
		}
	}
	return Event{}, false
}

// Count returns how many events of kind k the node's core delivered.
func (n *Node) Count(k effects.EventKind) int {
	c := 0
	for i := range n.events {
		if n.events[i].Kind == k {
			c++
		}
	}
	return c
}

// On adds a hook that runs for each event the node's core delivers, after
// the earlier hooks; it plays the application, and may give the core
// commands (Do) or schedule some (Sim.After).
func (n *Node) On(fn func(ev effects.Event)) { n.hooks = append(n.hooks, fn) }

// deliver records an event and runs the hooks.
func (n *Node) deliver(ev effects.Event) {
	n.events = append(n.events, Event{At: n.sim.now, Event: ev})
	n.sim.record(Record{Op: OpEvent, Node: n, Event: ev.Kind, ID: ev.ID, Code: ev.Code})
	for _, h := range n.hooks {
		h(ev)
	}
}

// Command is an application command to a core, as the core's methods take
// them: the time, and a buffer to append effects to.
type Command func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)

// Do runs a command on the node's core now and carries out the effects it
// returned (even when it failed, as a driver would). A failure is returned
// wrapped in ErrCommand; it does not stop the Sim.
func (n *Node) Do(cmd Command) error {
	s := n.sim
	out, err := cmd(s.now, s.spare.Get())
	s.record(Record{Op: OpCommand, Node: n, Detail: errString(err)})
	s.apply(n, out)
	s.spare.Put(out)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCommand, n.name, err)
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Inject delivers raw data to the node at its first address now, as if
// sent from from: a malformed message, a message from a peer that is not
// simulated.
func (n *Node) Inject(from effects.Peer, data []byte) {
	s := n.sim
	e := s.newEvent(evArrive, s.now, n)
	e.data, e.from, e.local = data, from, n.addrs[0]
	s.push(e)
}
