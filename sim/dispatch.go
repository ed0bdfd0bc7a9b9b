package sim

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
)

// DispatchNode is a node running a programmable server's core
// (dispatch.Core): a proxy with a registrar and location store, a UA for
// local endpoints and a B2BUA, behind one routing decision per new
// request. The application is the test: it answers RouteRequest events
// with Route (from a hook, at once, or later with Sim.After) and gives
// the UA commands with UACommand.
type DispatchNode struct {
	*Node
	Core *dispatch.Core
	// Registrar and Store are the in-memory registrar and its bindings.
	Registrar *registrar.Memory
	Store     *location.Store
}

// DispatchRegistrarTimer is the registrar's expiry timer id on a
// DispatchNode: a proxy timer id (the dispatcher leaves bit 62 to the
// proxy), apart from RegistrarTimer, whose bit the dispatcher uses for the
// UA's timers.
const DispatchRegistrarTimer = effects.TimerID(1 << 62)

type dispatchCore struct {
	*dispatch.Core
	reg *registrar.Memory
}

func (c dispatchCore) Leftover() string {
	p, u := c.Proxy(), c.UA()
	return counts("requests waiting for routing", c.Waiting(),
		"proxy contexts", p.Contexts(), "proxy timers", p.Timers(), "proxy transactions", p.Transactions().Len(),
		"messages waiting for DNS", p.Pending(), "REGISTERs pending", c.reg.Registrar.Len(),
		"calls", u.Calls(), "dialogs", u.Dialogs(), "UA timers", u.Timers(), "UA transactions", u.Transactions().Len(),
		"UA requests", u.Requests(), "bridges", c.B2BUA().Bridges(), "relays", c.B2BUA().Relays())
}

// AddDispatch puts a programmable server's core named name at addr (see
// Add): cfg's proxy and UA identities default from addr and the seed (the
// UA's Contact is sip:addr, its AOR sip:name@example.com), the registrar
// of reg.Domains is a registrar.Memory over a location.Store with users'
// passwords, and the proxy routes requests for those domains to the
// bindings unless cfg.Proxy.Location or Router says otherwise.
func (s *Sim) AddDispatch(name, addr string, cfg dispatch.Config, reg registrar.Config, users map[string]string) (*DispatchNode, error) {
	pc, err := s.proxyConfig(addr, cfg.Proxy)
	if err != nil {
		return nil, err
	}
	cfg.Proxy = pc
	if cfg.UA.Gen == nil {
		cfg.UA.Gen = s.Gen(len(s.nodes), 2)
	}
	if cfg.UA.Host == "" {
		cfg.UA.Host, cfg.UA.Port = pc.Host, pc.Port
	}
	if cfg.UA.Contact.Host == "" {
		if cfg.UA.Contact, err = parseURI(fmt.Sprintf("sip:%s:%d", pc.Host, pc.Port)); err != nil {
			return nil, err
		}
	}
	if cfg.UA.AOR.Host == "" {
		if cfg.UA.AOR, err = parseURI("sip:" + name + "@example.com"); err != nil {
			return nil, err
		}
	}
	if reg.Gen == nil {
		reg.Gen = s.Gen(len(s.nodes), 1)
	}
	store := &location.Store{}
	mem, err := registrar.NewMemory(reg, store, users)
	if err != nil {
		return nil, err
	}
	mem.Timer = DispatchRegistrarTimer
	cfg.Proxy.Registrar = mem
	if cfg.Proxy.Domains == nil {
		cfg.Proxy.Domains = reg.Domains
	}
	if cfg.Proxy.Location == nil && cfg.Proxy.Router == nil && !cfg.Proxy.Ask {
		cfg.Proxy.Location = mem.Lookup
	}
	core, err := dispatch.New(cfg)
	if err != nil {
		return nil, err
	}
	nd, err := s.Add(name, addr, dispatchCore{Core: core, reg: mem})
	if err != nil {
		return nil, err
	}
	return &DispatchNode{Node: nd, Core: core, Registrar: mem, Store: store}, nil
}

// Bind writes a binding into the node's store, as ProxyNode.Bind does.
func (n *DispatchNode) Bind(aor, contact string, expires time.Duration) error {
	return bind(n.sim, n.Store, aor, contact, expires)
}

// UACommand runs a command on the node's UA (dispatch.Core.UACommand).
func (n *DispatchNode) UACommand(cmd func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error)) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.Core.UACommand(now, func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return cmd(now, u, out)
		}, out)
	})
}

// Route answers the RouteRequest event id with d.
func (n *DispatchNode) Route(id uint64, d dispatch.Decision) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.Core.Route(now, id, d, out)
	})
}
