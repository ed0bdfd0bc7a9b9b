package proxycore

import (
	"slices"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// Registrar is what the proxy needs of a registrar to act as one for the
// domains it serves (RFC 3261 §10.3): registrar.Memory answers everything
// at once; a registrar.Registrar delivers its questions (credentials,
// bindings to load and store) as events the application answers, and the
// effects of those answers go back through Proxy.RegistrarEffects.
type Registrar interface {
	// Serves reports whether REGISTERs for the Request-URI u are the
	// registrar's.
	Serves(u uri.URI) bool
	// Handle takes a REGISTER with the proxy's handle for it.
	Handle(now effects.Time, id uint64, req *message.Message, from effects.Peer, out []effects.Effect) ([]effects.Effect, error)
}

// gruuSource is a registrar that assigns GRUUs (registrar.Registrar,
// registrar.Memory): the proxy routes them with its keys.
type gruuSource interface {
	GRUUs() *gruu.Keys
}

// expirer is a registrar with a timer of its own (registrar.Memory with
// Timer set): the proxy routes its firing to Expire.
type expirer interface {
	Fires(id effects.TimerID) bool
	Expire(now effects.Time, out []effects.Effect) []effects.Effect
}

// registrarTimer handles the firing of the registrar's own timer, and
// reports whether in was one.
func (p *Proxy) registrarTimer(in effects.Input, out []effects.Effect) ([]effects.Effect, bool) {
	x, ok := p.cfg.Registrar.(expirer)
	if !ok || in.Kind != effects.TimerFired || !x.Fires(in.Timer) {
		return out, false
	}
	return x.Expire(in.Now, out), true
}

// Locator finds the bindings of an address of record (a location service,
// RFC 3261 §10: location.Store.Lookup, or registrar.Memory.Lookup), never
// expired ones, in the order to try them.
type Locator func(now effects.Time, aor uri.URI) []location.Binding

// register hands a REGISTER the proxy serves to its registrar, and reports
// whether it did.
func (p *Proxy) register(now effects.Time, ev effects.Event, out []effects.Effect) ([]effects.Effect, bool) {
	r := p.cfg.Registrar
	m := ev.Msg
	if r == nil || m.Method() != "REGISTER" || m.Has("Route") || !r.Serves(m.RequestURI()) {
		return out, false
	}
	effs, err := r.Handle(now, uint64(ev.ID), m, ev.From, p.buf())
	if err != nil {
		p.release(effs)
		return p.respondCode(now, ev.ID, m, 500, out), true
	}
	out = p.RegistrarEffects(now, effs, out)
	p.release(effs)
	return out, true
}

// RegistrarEffects carries out what the registrar returned (from Handle,
// or from answering one of its events): its responses are sent on the
// REGISTERs' server transactions; everything else (its questions, its
// timers) is appended to out for the application and the driver.
func (p *Proxy) RegistrarEffects(now effects.Time, effs []effects.Effect, out []effects.Effect) []effects.Effect {
	for i := range effs {
		e := &effs[i]
		if e.Kind == effects.Deliver && e.Event.Kind == effects.RegistrarResponse {
			if m := e.Event.Msg; m != nil && m.StatusCode() == 401 {
				// A challenge is answered statelessly (RFC 3261 §8.2.7):
				// a retransmitted REGISTER gets a fresh one, and no
				// transaction lingers for Timer J.
				effs, err := p.txns.RespondStateless(now, txn.ID(e.Event.ID), m, p.buf())
				out = p.route(now, effs, out)
				if err == nil {
					continue
				}
			}
			out, _ = p.respond(now, txn.ID(e.Event.ID), e.Event.Msg, out)
			continue
		}
		out = append(out, *e)
	}
	return out
}

// locate routes a request for a domain the proxy serves by the location
// service (RFC 3261 §16.5): to every binding of the Request-URI's address
// of record, by q-value, each with its Path as a route set and, for an
// outbound registration, over the client's own flow (RFC 5626 §5.3). A
// request for an address of record with no binding gets 404 when the
// Request-URI names this proxy or one of its domains (on no port or ours),
// and otherwise goes to the Request-URI.
//
// The address of record looked up is the Request-URI without its port
// when that port is one of the proxy's own on one of its domains or
// names (see self.aor), as the registrar stores it
// (registrar.Config.Ports); for a GRUU, the AOR it names (see AOR).
func (p *Proxy) locate(now effects.Time, m *message.Message) Decision {
	ruri := m.RequestURI()
	return p.Located(ruri, p.cfg.Location(now, p.AOR(ruri)))
}

// AOR returns the address of record the location service is asked about
// for a request to ruri: ruri without its port when the port is one of
// the proxy's own on one of its domains or names (the registrar stores it
// so, registrar.Config.Ports), ruri itself otherwise. For a GRUU of the
// proxy's domains (Config.GRUU set, RFC 5627 §6.1) it is the AOR the GRUU
// names: a pub-gruu without its gr parameter, the AOR a temp-gruu's token
// holds; a temp-gruu that does not open stays as it is, without gr, and
// Located answers it 404.
func (p *Proxy) AOR(ruri uri.URI) uri.URI {
	if g, ours, err := p.gruu(ruri); ours {
		if err != nil {
			return p.self.aor(ruri.WithoutParam(gruu.Param))
		}
		return g.AOR
	}
	return p.self.aor(ruri)
}

// gruu reads ruri as a GRUU of the proxy's domains: ours is false when it
// is not one (no gr parameter, no Config.GRUU, or a host that is not one
// of the domains or the proxy's names), err set when it is one that names
// nothing (a temp-gruu that does not open).
func (p *Proxy) gruu(ruri uri.URI) (g gruu.GRUU, ours bool, err error) {
	if p.cfg.GRUU == nil || !gruu.Is(ruri) {
		return gruu.GRUU{}, false, nil
	}
	if len(p.self.domains) > 0 && !p.self.domain(ruri.Host) && !p.self.isHost(ruri.Host) {
		return gruu.GRUU{}, false, nil
	}
	// The registrar made it from the AOR as stored: without our port.
	g, err = p.cfg.GRUU.Parse(p.self.aor(ruri))
	return g, true, err
}

// Located returns the routing decision for a request to ruri, one of the
// proxy's domains, given the bindings the location service found for its
// address of record (RFC 3261 §16.5): proxy to every binding, by q-value,
// each with its Path as a route set and, for an outbound registration,
// over the client's own flow (RFC 5626 §5.3). With no binding: 404 when
// the Request-URI names this proxy or one of its domains (on no port or
// ours), else the Request-URI. An application that looks bindings up
// itself (a store answering later) answers ProxyRequest with it, looking
// up AOR(ruri).
//
// A Request-URI that is a GRUU of the proxy's domains (RFC 5627 §6.1,
// with Config.GRUU) goes only to the bindings of the instance it names,
// and for a temp-gruu only to those registered with the Call-ID it was
// issued for. A GRUU that names nothing (a temp-gruu forged, altered or
// of another key) is answered 404, as is a temp-gruu whose instance has
// registered since with another Call-ID (which ends the temp-gruus of the
// registration before); a GRUU whose instance has no binding 480
// (Temporarily Unavailable). With several bindings of the instance (its
// outbound flows), all are targets, as for its AOR.
func (p *Proxy) Located(ruri uri.URI, bindings []location.Binding) Decision {
	if g, ours, err := p.gruu(ruri); ours {
		return p.toGRUU(&g, err, bindings)
	}
	if len(bindings) == 0 {
		// An address of record of ours that nobody registered: 404. A
		// Request-URI that names another port of one of our hosts names
		// another server there: it is routed as it is.
		if p.self.ours(ruri) || p.self.domain(ruri.Host) && (ruri.Port == 0 || ruri.Port == p.self.port || slices.Contains(p.self.ports, ruri.Port)) {
			return Decision{Code: 404, Reason: "Not Found"}
		}
		return RequestURI()
	}
	targets := make([]Target, 0, len(bindings))
	for i := range bindings {
		targets = append(targets, p.Target(&bindings[i]))
	}
	return ProxyTo(targets...)
}

// toGRUU is Located for a GRUU g of ours, err set when it names nothing.
func (p *Proxy) toGRUU(g *gruu.GRUU, err error, bindings []location.Binding) Decision {
	if err != nil {
		return Decision{Code: 404, Reason: "Not Found (unknown GRUU)"}
	}
	var targets []Target
	replaced := false
	for i := range bindings {
		b := &bindings[i]
		if g.Matches(b) {
			targets = append(targets, p.Target(b))
		} else if g.SameInstance(b) {
			replaced = true
		}
	}
	switch {
	case len(targets) > 0:
		return ProxyTo(targets...)
	case replaced:
		return Decision{Code: 404, Reason: "Not Found (temp-gruu no longer valid)"}
	}
	return Decision{Code: 480, Reason: "Temporarily Unavailable (GRUU instance not registered)"}
}

// Target is the target a location binding gives this proxy: BindingTarget,
// except that a Path whose first URI is ours with a flow token of
// Config.Flows (FlowPath) is the binding's flow, reached directly instead
// of through ourselves (RFC 5626 §5.3). A first Path URI of ours whose
// token is not (an earlier run's) is dropped: the contact is then reached
// as a binding without that Path.
func (p *Proxy) Target(b *location.Binding) Target {
	t := BindingTarget(b)
	if p.cfg.Flows == nil || len(t.Routes) == 0 || !p.self.ours(t.Routes[0]) {
		return t
	}
	if f, ok := p.cfg.Flows.Peer(t.Routes[0].User); ok {
		t.Peer = f
	}
	t.Routes = t.Routes[1:]
	if len(t.Routes) == 0 {
		t.Routes = nil
	}
	return t
}

// FlowPath returns the Path value that names this proxy and a client's
// flow (RFC 5626 §5.2: our URI with the flow token as its user part,
// "lr" and "ob"), for the registrar's Config.FlowPath; false without
// Config.Flows.
func (p *Proxy) FlowPath(f effects.Peer) (header.Path, bool) {
	if p.cfg.Flows == nil {
		return header.Path{}, false
	}
	u := p.self.rrURI(0)
	u.User = p.cfg.Flows.Token(f)
	u.Params = ";lr;ob"
	return header.Path{URI: u}, true
}

// aor returns the address of record a Request-URI names for the location
// service: on a domain the proxy serves, or one of its own names, the
// proxy's own ports (Config.Port, Config.Ports) name the domain itself, so
// the port is dropped (sip:alice@example.com:5060 is sip:alice@example.com
// when the proxy listens on 5060). Any other port stays: it names another
// address of record.
func (s *self) aor(u uri.URI) uri.URI {
	if u.Port != 0 && u.IsSIP() && (u.Port == s.port || slices.Contains(s.ports, u.Port)) && (s.domain(u.Host) || s.isHost(u.Host)) {
		u.Port = 0
	}
	return u
}

// BindingTarget is the target a location binding gives (RFC 3261 §16.5,
// RFC 3327 §5.3, RFC 5626 §5.3): its contact, its q-value, its Path as
// routes, and for an outbound binding reached directly the flow it
// registered over.
func BindingTarget(b *location.Binding) Target {
	t := Target{URI: b.Target(), Q: b.Q}
	for _, r := range b.Routes() {
		t.Routes = append(t.Routes, r.URI)
	}
	if peer, ok := b.Direct(); ok {
		t.Peer = peer
	}
	return t
}
