package sim

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// B2BUANode is a node running a back-to-back user agent: a b2bua.B2BUA and
// the UAs of its two sides, Inside and Outside (the same UA when the node
// has one address). Every event its UAs deliver goes to the B2BUA, as
// package b2bua asks of its embedder; the node records them all, the
// B2BUA's own events (BridgeRoute, BridgeAnswered, BridgeEnded) and those
// of the legs, in order.
type B2BUANode struct {
	*Node
	B2BUA           *b2bua.B2BUA
	Inside, Outside *ua.UA
	core            *b2buaCore
}

// legBit marks, on the Sim's side, the timer ids and send and resolve tags
// of the Outside UA when it is not the Inside one: the UAs number their
// timers and transactions alike.
const legBit = 1 << 62

// b2buaCore runs the B2BUA and its legs as one Core.
type b2buaCore struct {
	node  *Node
	b     *b2bua.B2BUA
	legs  [2]*ua.UA
	addrs [2]netip.AddrPort
	two   bool // the legs are two UAs
	// legEvents are the events of each leg, in order.
	legEvents [2][]effects.Event
	spare     effects.Buffers
	bspare    [][]b2bua.Effect
}

// AddB2BUA puts a B2BUA named name on the network: its Inside UA at inside
// (with inCfg) and, when outside is not "", its Outside UA at outside (with
// outCfg; else one UA serves both sides). cfg's Inside and Outside are set
// here; the UAs' configurations are filled in as AddUA does.
func (s *Sim) AddB2BUA(name, inside, outside string, inCfg, outCfg ua.Config, cfg b2bua.Config) (*B2BUANode, error) {
	mk := func(addr, leg string, c ua.Config, purpose uint64) (*ua.UA, netip.AddrPort, error) {
		p, err := ParsePeer(addr)
		if err != nil {
			return nil, p.Addr, err
		}
		if c.Gen == nil {
			c.Gen = s.Gen(len(s.nodes), purpose)
		}
		if c.Host == "" {
			c.Host, c.Port = hostOf(p.Addr.Addr()), p.Addr.Port()
		}
		if c.Contact.Host == "" {
			u := fmt.Sprintf("sip:%s@%s", name+leg, p.Addr)
			if p.Transport != effects.UDP {
				u += ";transport=" + strings.ToLower(p.Transport.String())
			}
			if c.Contact, err = parseURI(u); err != nil {
				return nil, p.Addr, err
			}
		}
		if c.AOR.Host == "" {
			if c.AOR, err = parseURI("sip:" + name + "@example.com"); err != nil {
				return nil, p.Addr, err
			}
		}
		u, err := ua.New(c)
		return u, p.Addr, err
	}
	core := &b2buaCore{}
	var err error
	if core.legs[0], core.addrs[0], err = mk(inside, "", inCfg, 0); err != nil {
		return nil, err
	}
	core.legs[1], core.addrs[1] = core.legs[0], core.addrs[0]
	var extra []string
	if outside != "" {
		core.two = true
		if core.legs[1], core.addrs[1], err = mk(outside, "-out", outCfg, 1); err != nil {
			return nil, err
		}
		extra = []string{outside}
	}
	cfg.Inside, cfg.Outside = core.legs[0], core.legs[1]
	if core.b, err = b2bua.New(cfg); err != nil {
		return nil, err
	}
	nd, err := s.Add(name, inside, core, extra...)
	if err != nil {
		return nil, err
	}
	core.node = nd
	return &B2BUANode{Node: nd, B2BUA: core.b, Inside: core.legs[0], Outside: core.legs[1], core: core}, nil
}

// LegEvents returns the events leg (Inside or Outside) delivered, in
// order.
func (n *B2BUANode) LegEvents(leg *ua.UA) []effects.Event {
	if leg == n.Outside && n.core.two {
		return n.core.legEvents[1]
	}
	return n.core.legEvents[0]
}

// DoLeg runs a command on one of the node's UAs (Inside or Outside) and
// carries out its effects; its events go to the B2BUA as the UAs' other
// events do.
func (n *B2BUANode) DoLeg(leg *ua.UA, cmd Command) error {
	c := n.core
	li := c.index(leg)
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		effs, err := cmd(now, c.spare.Get())
		out = c.legEffects(now, li, effs, out)
		c.spare.Put(effs)
		return out, err
	})
}

// DoBridge runs a command on the B2BUA (Connect, say) and carries out its
// effects.
func (n *B2BUANode) DoBridge(cmd func(now effects.Time, out []b2bua.Effect) ([]b2bua.Effect, error)) error {
	c := n.core
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		beffs, err := cmd(now, c.bbuf())
		out = c.bridgeEffects(now, beffs, out)
		c.bput(beffs)
		return out, err
	})
}

// Connect gives the bridge id (from a BridgeRoute event) its routing
// decision.
func (n *B2BUANode) Connect(id uint64, d b2bua.Decision) error {
	return n.DoBridge(func(now effects.Time, out []b2bua.Effect) ([]b2bua.Effect, error) {
		return n.B2BUA.Connect(now, id, d, out)
	})
}

func (c *b2buaCore) index(u *ua.UA) int {
	if c.two && u == c.legs[1] {
		return 1
	}
	return 0
}

func (c *b2buaCore) bbuf() []b2bua.Effect {
	if n := len(c.bspare); n > 0 {
		b := c.bspare[n-1]
		c.bspare = c.bspare[:n-1]
		return b
	}
	return nil
}

func (c *b2buaCore) bput(b []b2bua.Effect) {
	if cap(b) == 0 || cap(b) > 256 || len(c.bspare) >= 8 {
		return
	}
	clear(b)
	c.bspare = append(c.bspare, b[:0])
}

// Leftover reports what the B2BUA and its UAs hold.
func (c *b2buaCore) Leftover() string {
	parts := []string{counts("bridges", c.b.Bridges(), "relays", c.b.Relays())}
	for i, u := range c.legs {
		if i == 1 && !c.two {
			break
		}
		if l := uaLeftover(u); l != "" {
			parts = append(parts, []string{"inside", "outside"}[i]+" UA: "+l)
		}
	}
	if parts[0] == "" {
		parts = parts[1:]
	}
	return strings.Join(parts, "; ")
}

// Source says which address a send leaves from: its leg's.
func (c *b2buaCore) Source(e *effects.Effect) netip.AddrPort {
	if c.two && e.Tag&legBit != 0 {
		return c.addrs[1]
	}
	return c.addrs[0]
}

// Handle feeds the input to the leg it is for, and the leg's events to the
// B2BUA.
func (c *b2buaCore) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	li := 0
	if c.two {
		switch in.Kind {
		case effects.Received:
			if in.Local == c.addrs[1] {
				li = 1
			}
		case effects.TimerFired:
			if in.Timer&legBit != 0 {
				li, in.Timer = 1, in.Timer&^legBit
			}
		case effects.SendFailed, effects.Resolved:
			if in.Tag&legBit != 0 {
				li, in.Tag = 1, in.Tag&^legBit
			}
		case effects.ConnClosed:
			// Both legs may use the connection.
			for i := range c.legs {
				effs := c.legs[i].Handle(in, c.spare.Get())
				out = c.legEffects(in.Now, i, effs, out)
				c.spare.Put(effs)
			}
			return out
		}
	}
	effs := c.legs[li].Handle(in, c.spare.Get())
	out = c.legEffects(in.Now, li, effs, out)
	c.spare.Put(effs)
	return out
}

// legEffects passes on the effects of leg li, marked as its own, and feeds
// its events to the B2BUA.
func (c *b2buaCore) legEffects(now effects.Time, li int, effs, out []effects.Effect) []effects.Effect {
	for i := range effs {
		e := effs[i]
		if e.Kind != effects.Deliver {
			out = append(out, c.mark(li, e))
			continue
		}
		c.legEvents[li] = append(c.legEvents[li], e.Event)
		out = append(out, e) // recorded by the node
		beffs := c.b.Handle(now, c.legs[li], e.Event, c.bbuf())
		out = c.bridgeEffects(now, beffs, out)
		c.bput(beffs)
	}
	return out
}

// bridgeEffects passes on the B2BUA's effects: its own events, and those
// of the commands it gave its UAs (their events among them, which it has
// handled already).
func (c *b2buaCore) bridgeEffects(now effects.Time, beffs []b2bua.Effect, out []effects.Effect) []effects.Effect {
	for i := range beffs {
		e := beffs[i]
		if e.UA == nil {
			out = append(out, e.Effect)
			continue
		}
		li := c.index(e.UA)
		if e.Kind == effects.Deliver {
			c.legEvents[li] = append(c.legEvents[li], e.Event)
			out = append(out, e.Effect)
			continue
		}
		out = append(out, c.mark(li, e.Effect))
	}
	return out
}

// mark marks the timer ids and tags of the Outside leg's effects.
func (c *b2buaCore) mark(li int, e effects.Effect) effects.Effect {
	if !c.two {
		return e
	}
	switch e.Kind {
	case effects.SetTimer, effects.CancelTimer:
		if e.Timer&legBit != 0 {
			c.node.sim.fail(fmt.Errorf("%w: %s: leg timer %#x uses the Sim's leg bit", ErrTimer, c.node.name, uint64(e.Timer)))
		}
		if li == 1 {
			e.Timer |= legBit
		}
	case effects.Send, effects.Resolve:
		if e.Tag&legBit != 0 {
			c.node.sim.fail(fmt.Errorf("%w: %s: leg tag %#x uses the Sim's leg bit", ErrTimer, c.node.name, e.Tag))
		}
		if li == 1 {
			e.Tag |= legBit
		}
	}
	return e
}
