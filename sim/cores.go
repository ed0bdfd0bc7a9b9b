package sim

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// Must returns v, and panics if err is not nil: for the set-up of a test,
// sim.Must(s.AddUA(...)).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Gen returns the identifier generator of the node of index i (its tags,
// branches and Call-IDs), derived from the seed: the Add helpers give one
// to each core whose configuration has none. Use purpose to derive more
// than one for a node (a registrar's next to its proxy's).
func (s *Sim) Gen(i int, purpose uint64) ident.Source {
	return ident.Seeded(s.seed ^ (uint64(i)+1)*0x9e3779b97f4a7c15 ^ purpose*0xd1b54a32d192ed03)
}

// hostOf returns an address's host as a Via sent-by or URI writes it.
func hostOf(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func parseURI(s string) (uri.URI, error) {
	u, err := uri.Parse(s)
	if err != nil {
		return u, fmt.Errorf("sim: %q: %w", s, err)
	}
	return u, nil
}

// UANode is a node running a user agent core.
type UANode struct {
	*Node
	UA *ua.UA
}

type uaCore struct{ *ua.UA }

func (c uaCore) Leftover() string { return uaLeftover(c.UA) }

// uaLeftover describes what a UA still holds, "" when nothing.
func uaLeftover(u *ua.UA) string {
	return counts("calls", u.Calls(), "dialogs", u.Dialogs(), "subscriptions", u.Subscriptions(),
		"registrations", u.Registrations(), "UA timers", u.Timers(), "transactions", u.Transactions().Len(),
		"requests", u.Requests())
}

// counts renders the non-zero counts of name, count pairs.
func counts(pairs ...any) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := pairs[i+1].(int); n != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, pairs[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// AddUA puts a user agent named name at addr (see Add). Fields of cfg left
// zero are filled in: Gen from the seed, Host and Port from addr, Contact
// sip:name@addr (with the transport parameter when not UDP), AOR
// sip:name@example.com.
func (s *Sim) AddUA(name, addr string, cfg ua.Config) (*UANode, error) {
	p, err := ParsePeer(addr)
	if err != nil {
		return nil, err
	}
	if cfg.Gen == nil {
		cfg.Gen = s.Gen(len(s.nodes), 0)
	}
	if cfg.Host == "" {
		cfg.Host, cfg.Port = hostOf(p.Addr.Addr()), p.Addr.Port()
	}
	if cfg.Contact.Host == "" {
		c := fmt.Sprintf("sip:%s@%s", name, p.Addr)
		if p.Transport != effects.UDP {
			c += ";transport=" + strings.ToLower(p.Transport.String())
		}
		if cfg.Contact, err = parseURI(c); err != nil {
			return nil, err
		}
	}
	if cfg.AOR.Host == "" {
		if cfg.AOR, err = parseURI("sip:" + name + "@example.com"); err != nil {
			return nil, err
		}
	}
	u, err := ua.New(cfg)
	if err != nil {
		return nil, err
	}
	nd, err := s.Add(name, addr, uaCore{u})
	if err != nil {
		return nil, err
	}
	return &UANode{Node: nd, UA: u}, nil
}

// Call places a call to target (a SIP URI) and returns its id. Without
// o.Dest the INVITE goes to the target's own address, which must then be
// an IP address (port 5060 by default).
func (n *UANode) Call(target string, o ua.CallOptions) (ua.CallID, error) {
	t, err := parseURI(target)
	if err != nil {
		return 0, err
	}
	if !o.Dest.Addr.IsValid() {
		a, ok := t.Addr()
		if !ok {
			return 0, fmt.Errorf("%w: %s: no Dest and %s names no address", ErrCommand, n.name, target)
		}
		port := t.Port
		if port == 0 {
			port = 5060
		}
		o.Dest = effects.Peer{Addr: netip.AddrPortFrom(a, port), Transport: n.tr}
		if tr := effects.ParseTransport(t.Transport()); tr != 0 {
			o.Dest.Transport = tr
		}
	}
	var id ua.CallID
	err = n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = n.UA.Call(now, t, o, out)
		return out, err
	})
	return id, err
}

// Ring sends a provisional response for the incoming call id.
func (n *UANode) Ring(id ua.CallID, o ua.RingOptions) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.UA.Ring(now, id, o, out)
	})
}

// Answer answers the incoming call id with a 2xx carrying body.
func (n *UANode) Answer(id ua.CallID, body []byte) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.UA.Answer(now, id, body, out)
	})
}

// Reject refuses the incoming call id with code.
func (n *UANode) Reject(id ua.CallID, code int) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.UA.Reject(now, id, code, out)
	})
}

// Hangup ends the call id: CANCEL or BYE as its state asks.
func (n *UANode) Hangup(id ua.CallID) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.UA.Hangup(now, id, out)
	})
}

// Register registers the UA with o (ua.UA.Register) and returns the
// registration's id.
func (n *UANode) Register(o ua.RegisterOptions) (uint64, error) {
	var id uint64
	err := n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = n.UA.Register(now, o, out)
		return out, err
	})
	return id, err
}

// Unregister removes the registration id's binding (ua.UA.Unregister).
func (n *UANode) Unregister(id uint64) error {
	return n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return n.UA.Unregister(now, id, out)
	})
}

// ProxyNode is a node running a stateful proxy core, with, when made by
// AddRegistrarProxy, a registrar and a location store.
type ProxyNode struct {
	*Node
	Proxy *proxycore.Proxy
	// Registrar and Store are the in-memory registrar and its bindings
	// (AddRegistrarProxy only).
	Registrar *registrar.Memory
	Store     *location.Store
}

type proxyCore struct {
	*proxycore.Proxy
	reg *registrar.Memory
}

func (c proxyCore) Leftover() string {
	p := c.Proxy
	pending := 0
	if c.reg != nil {
		pending = c.reg.Registrar.Len()
	}
	return counts("contexts", p.Contexts(), "proxy timers", p.Timers(), "transactions", p.Transactions().Len(),
		"messages waiting for DNS", p.Pending(), "REGISTERs pending", pending)
}

// proxyConfig fills in a proxy's Gen, Host and Port.
func (s *Sim) proxyConfig(addr string, cfg proxycore.Config) (proxycore.Config, error) {
	p, err := ParsePeer(addr)
	if err != nil {
		return cfg, err
	}
	if cfg.Gen == nil {
		cfg.Gen = s.Gen(len(s.nodes), 0)
	}
	if cfg.Host == "" {
		cfg.Host, cfg.Port = hostOf(p.Addr.Addr()), p.Addr.Port()
	}
	return cfg, nil
}

// AddProxy puts a stateful proxy named name at addr (see Add). Gen, Host
// and Port of cfg default from the seed and addr.
func (s *Sim) AddProxy(name, addr string, cfg proxycore.Config) (*ProxyNode, error) {
	cfg, err := s.proxyConfig(addr, cfg)
	if err != nil {
		return nil, err
	}
	p, err := proxycore.New(cfg)
	if err != nil {
		return nil, err
	}
	nd, err := s.Add(name, addr, proxyCore{Proxy: p})
	if err != nil {
		return nil, err
	}
	return &ProxyNode{Node: nd, Proxy: p}, nil
}

// RegistrarTimer is the id of the expiry timer of the registrar of a
// proxy made by AddRegistrarProxy (registrar.Memory.Timer).
const RegistrarTimer = effects.TimerID(1 << 61)

// AddRegistrarProxy puts at addr a stateful proxy that is also the
// registrar of reg.Domains, routing requests for them to the bindings
// registered, as `sansip serve` composed them before package dispatch: a
// registrar.Memory over a location.Store, with users' passwords for digest
// authentication when reg.Auth is set, whose expiry timer the proxy
// routes. cfg.Domains defaults to reg.Domains; cfg.Location to the
// store's look-up unless cfg.Router is set; reg.Gen derives from the seed.
func (s *Sim) AddRegistrarProxy(name, addr string, cfg proxycore.Config, reg registrar.Config, users map[string]string) (*ProxyNode, error) {
	cfg, err := s.proxyConfig(addr, cfg)
	if err != nil {
		return nil, err
	}
	if reg.Gen == nil {
		reg.Gen = s.Gen(len(s.nodes), 1)
	}
	store := &location.Store{}
	mem, err := registrar.NewMemory(reg, store, users)
	if err != nil {
		return nil, err
	}
	mem.Timer = RegistrarTimer
	cfg.Registrar = mem
	if cfg.Domains == nil {
		cfg.Domains = reg.Domains
	}
	if cfg.Location == nil && cfg.Router == nil {
		cfg.Location = mem.Lookup
	}
	p, err := proxycore.New(cfg)
	if err != nil {
		return nil, err
	}
	nd, err := s.Add(name, addr, proxyCore{Proxy: p, reg: mem})
	if err != nil {
		return nil, err
	}
	return &ProxyNode{Node: nd, Proxy: p, Registrar: mem, Store: store}, nil
}

// Bind writes a binding of the address of record aor to contact (a
// Contact value, such as "<sip:bob@192.0.2.2>;q=0.7") into the store of a
// proxy made by AddRegistrarProxy, as a provisioned database would hold
// it: no REGISTER, no expiry timer. Its q-value is the contact's q
// parameter (location.DefaultQ without one).
func (p *ProxyNode) Bind(aor, contact string, expires time.Duration) error {
	if p.Store == nil {
		return fmt.Errorf("%w: %s has no location store", ErrCommand, p.name)
	}
	return bind(p.sim, p.Store, aor, contact, expires)
}

// bind writes a binding into store (see ProxyNode.Bind).
func bind(s *Sim, store *location.Store, aor, contact string, expires time.Duration) error {
	a, err := parseURI(aor)
	if err != nil {
		return err
	}
	c, err := header.ParseValue[header.Contact](contact)
	if err != nil {
		return fmt.Errorf("sim: contact %q: %w", contact, err)
	}
	q, ok := c.Q()
	if !ok {
		q = location.DefaultQ
	}
	now := s.now
	b := location.Binding{AOR: a, Contact: c, Q: q, Expires: now.Add(expires), Updated: now}
	s.bindSeq++
	_, err = store.Apply(now, a, location.Update{CallID: fmt.Sprintf("sim-bind-%d", s.bindSeq), CSeq: 1, Contacts: []location.Binding{b}})
	return err
}

// Decide answers the ProxyRequest event id (with Config.Ask) with d.
func (p *ProxyNode) Decide(id uint64, d proxycore.Decision) error {
	return p.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return p.Proxy.Decide(now, id, d, out)
	})
}

// StatelessNode is a node running a stateless proxy core.
type StatelessNode struct {
	*Node
	Stateless *proxycore.Stateless
}

type statelessCore struct{ *proxycore.Stateless }

func (c statelessCore) Leftover() string {
	return counts("messages waiting for DNS", c.Pending())
}

// AddStateless puts a stateless proxy named name at addr (see Add). Host
// and Port of cfg default from addr.
func (s *Sim) AddStateless(name, addr string, cfg proxycore.Config) (*StatelessNode, error) {
	cfg, err := s.proxyConfig(addr, cfg)
	if err != nil {
		return nil, err
	}
	p, err := proxycore.NewStateless(cfg)
	if err != nil {
		return nil, err
	}
	nd, err := s.Add(name, addr, statelessCore{p})
	if err != nil {
		return nil, err
	}
	return &StatelessNode{Node: nd, Stateless: p}, nil
}
