package ua

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/stun"
	"github.com/sansip/sansip/uri"
)

// Registration client (RFC 3261 §10.2, with RFC 5626 outbound).
//
// A registration is one Call-ID towards one registrar: every REGISTER of
// it (the first, the refreshes, the re-registrations after a flow failure,
// the fetches and the final one with expires=0) carries that Call-ID, the
// same From tag and a CSeq one above the last one sent, counting the
// requests UA.authRetry sent again with credentials (§10.2.4). One REGISTER
// is in progress at a time (§10.2): Unregister waits for the one in
// progress, Bindings refuses with ErrPending.
//
// Refresh: the registration is refreshed before the expiry the registrar
// granted to our Contact (its expires parameter in the 2xx, else the 2xx's
// Expires, else what we asked for): at granted − min(granted/2, 5 min), so
// half-way for short registrations and five minutes early for long ones,
// leaving room for a whole transaction timeout (64·T1) and a retry.
//
// Failures: a 423 is retried with the Min-Expires asked for (twice at
// most); a 401 or 407 is answered by authRetry when credentials allow, and
// a challenge that comes back (wrong password, RFC 3665 §2.5) fails the
// registration without a loop. Every failed attempt is reported as
// RegistrationFailed. Then, if RegisterOptions.Retry or Outbound is set and
// the failure is worth retrying (a timeout, a transport error, 408, 480,
// 5xx, or any response with Retry-After), the registration is tried again
// after Retry-After when the response has one, else after the backoff of
// RFC 5626 §4.5; otherwise it ends with Unregistered.
//
// Outbound (RFC 5626): the Contact carries +sip.instance and reg-id, the
// REGISTER says Supported: outbound, path and the outbound proxy's Route
// URI gets ";ob" (§4.2, §5.1). When the 2xx says Require or Supported
// outbound, the flow the 2xx came on is up: a keep-alive is sent on it at
// a random interval between 80% and 100% of the 2xx's Flow-Timer
// (§4.4.1), or, without one, between 95 and 120 s on connection-oriented
// transports and 24 and 29 s on UDP. On connection-oriented transports the
// keep-alive is the CRLFCRLF ping of §4.4.1 (an effects.Send with Data and
// no Msg). On UDP it is a STUN Binding request (§4.4.2, package stun), also
// an effects.Send with Data, whose transaction id the UA draws from
// Config.Gen; the driver feeds the Binding response back as an effects.Pong
// input. The request is a STUN client transaction (RFC 5389 §7.2.1): sent
// again after RTO, 2·RTO, 4·RTO... (RTO is the transaction layer's T1),
// seven times at most, and given up 16·RTO after the last (RFC 5389's
// defaults Rc and Rm): 39.5 s with the default T1. A keep-alive falling due
// meanwhile is not sent; the retransmissions keep the binding open. The first success response's XOR-MAPPED-ADDRESS (or
// MAPPED-ADDRESS) is the flow's; OutboundOptions.CRLFKeepAlive sends the
// CRLFCRLF ping on UDP instead, for an edge proxy that does not answer
// STUN (the UA then cannot tell a failed UDP flow).
//
// The flow fails when the driver reports its connection closed
// (ConnClosed), a keep-alive that could not be sent (SendFailed with the
// keep-alive's Tag), or, on UDP, when a Binding request gets no response in
// time, gets an error response, or gets a success response reporting
// another address than before: the NAT binding changed (§4.4.2). The UA
// then reports RegistrationFlowFailed (Err wraps ErrFlowFailed with the
// reason) and registers again on a new flow after the §4.5 backoff: a
// random time between 50% and 100% of min(MaxTime, BaseTime·2^failures),
// where failures counts the consecutive flow failures and failed attempts
// since the last success (0 for the first), BaseTime is 30 s and MaxTime
// 1800 s by default. CRLF pong timeouts are left to the driver, which
// reports a dead connection as ConnClosed.
//
// GRUU (RFC 5627): with RegisterOptions.GRUU the REGISTER says Supported:
// gruu and its Contact carries the instance id (Outbound's, else
// RegisterOptions.Instance) as +sip.instance (§4.1). The pub-gruu and
// temp-gruu of our Contact in each 2xx are kept (RegistrationInfo); from
// the latest registration that got one, and while it stays registered,
// the UA uses the pub-gruu (the temp-gruu with Config.TempGRUU, or when
// only that came) as the Contact of the dialogs it forms (INVITE,
// SUBSCRIBE and the 2xx to them) and of its other requests (§4.3).
// Simplification: one GRUU serves every dialog, whatever the From, rather
// than the GRUU of the AOR each request is from.

// Errors of registrations, matchable with errors.Is.
var (
	ErrNoRegistration      = errors.New("ua: no such registration")
	ErrRegistrationRefused = errors.New("ua: the registrar refused the request")
	ErrFlowFailed          = errors.New("ua: the outbound flow failed")
)

// RegisterOptions are the parts of a registration.
type RegisterOptions struct {
	// Registrar is the Request-URI: the registrar's domain
	// (sip:biloxi.example.com), without a user part.
	Registrar uri.URI
	// AOR is the address of record registered (To and From); by default
	// Config.AOR.
	AOR uri.URI
	// Contact is the address bound; by default Config.Contact.
	Contact uri.URI
	// Dest is where the REGISTERs go first: the outbound proxy, or the
	// registrar's address.
	Dest effects.Peer
	// Routes is a preloaded route set (an outbound proxy, §8.1.2).
	Routes []header.Route
	// Expires is the registration interval asked for; default 3600 s.
	Expires time.Duration
	// ExpiresHeader asks with an Expires header field instead of the
	// Contact's expires parameter.
	ExpiresHeader bool
	// Retry makes failed attempts be tried again (see the package notes);
	// outbound registrations always are.
	Retry bool
	// Outbound, when set, registers per RFC 5626.
	Outbound *OutboundOptions
	// GRUU asks the registrar for GRUUs (RFC 5627 §4.1): Supported: gruu,
	// and the instance id in the Contact. It needs an instance id:
	// Outbound's, or Instance.
	GRUU bool
	// Instance is the instance id (+sip.instance, RFC 5626 §4.1) of a
	// registration without Outbound, a URN such as
	// "urn:uuid:00000000-0000-1000-8000-000A95A0E128"; Outbound.Instance
	// takes its place with Outbound.
	Instance string
}

// OutboundOptions are the RFC 5626 parts of a registration.
type OutboundOptions struct {
	// Instance is the instance id (§4.1), a URN such as
	// "urn:uuid:00000000-0000-1000-8000-000A95A0E128".
	Instance string
	// RegID is the reg-id (§4.2), 1 or more.
	RegID uint32
	// BaseTime and MaxTime are the §4.5 backoff's base and cap; default
	// 30 s and 1800 s.
	BaseTime, MaxTime time.Duration
	// CRLFKeepAlive sends CRLFCRLF pings on a UDP flow too, instead of
	// STUN Binding requests (§4.4.2), for an edge proxy that does not
	// answer STUN; a failed UDP flow then goes unnoticed.
	CRLFKeepAlive bool
}

// RegistrationInfo is what Registration reports about a registration.
type RegistrationInfo struct {
	// Registered: the last REGISTER binding our Contact succeeded.
	Registered bool
	// Granted is the interval the registrar granted last; Asked the one
	// asked for now (raised by a 423).
	Granted, Asked time.Duration
	// RefreshAt is when the next REGISTER goes (a refresh or a retry), 0 if
	// none is planned.
	RefreshAt effects.Time
	// CallID and CSeq are the registration's Call-ID and the last CSeq
	// number used.
	CallID string
	CSeq   uint32
	// FlowUp: the outbound flow is up and kept alive; Flow is where.
	FlowUp bool
	Flow   effects.Peer
	// Mapped is the UDP flow's reflexive address, as the STUN keep-alives
	// report it (§4.4.2); invalid until the first response.
	Mapped netip.AddrPort
	// Failures counts consecutive failures since the last success.
	Failures int
	// Refreshing: a REGISTER binding our Contact is in progress.
	Refreshing bool
	// PubGRUU and TempGRUU are the GRUUs the last 2xx gave our Contact
	// (RFC 5627 §4.2, RegisterOptions.GRUU), sip or sips URIs; the zero
	// URI when it gave none.
	PubGRUU, TempGRUU uri.URI
}

// regOp is what a REGISTER does.
type regOp uint8

const (
	opRegister      regOp = iota + 1 // bind our Contact (first, refresh)
	opUnregister                     // remove our Contact (expires=0)
	opUnregisterAll                  // Contact: *, Expires: 0
	opFetch                          // no Contact: list the bindings
)

// registration is one registration's state.
type registration struct {
	id       uint64
	o        RegisterOptions
	callID   string
	fromTag  string
	cseq     uint32        // the last CSeq number used
	asked    time.Duration // the interval asked for
	granted  time.Duration
	busy     bool  // a REGISTER is in progress
	op       regOp // what the one in progress does
	queued   regOp // an Unregister waiting for it
	fetchOne bool  // a FetchBindings: it ends with its response
	// refreshDue: the refresh fell due during a fetch.
	refreshDue bool
	tries423   uint8
	// registered: the last binding REGISTER succeeded.
	registered bool
	// tNext sends the next REGISTER (refresh or retry) at nextAt;
	// tKeep sends a keep-alive.
	tNext, tKeep effects.TimerID
	nextAt       effects.Time
	// flow is the outbound flow, up when flowUp; fails counts consecutive
	// failures for the §4.5 backoff.
	flow   effects.Peer
	flowUp bool
	fails  int
	// keepLo and keepHi bound the keep-alive interval, in ms.
	keepLo, keepHi uint64
	// The STUN keep-alive in progress on a UDP flow (§4.4.2): its
	// transaction id and bytes, how many times it went, and the timer of
	// its next retransmission or of giving up; checking while it waits
	// for its response. mapped is the flow's reflexive address, as the
	// first response reported it.
	checking bool
	stunTx   stun.TransactionID
	stunReq  []byte
	stunSent int
	tStun    effects.TimerID
	mapped   netip.AddrPort
	// pubGRUU and tempGRUU are the GRUUs of our Contact in the last 2xx.
	pubGRUU, tempGRUU uri.URI
	// realms are the realms whose credentials the last REGISTER carried,
	// in its order: later REGISTERs carry them again (RFC 3665 §2.2). A
	// slice, not a map: each drawing a cnonce from the generator, they
	// must be gone through in the same order every time (DESIGN §1).
	realms []regRealm
}

// regRealm is a realm a registration answers, and whether it is a
// proxy's (Proxy-Authorization) rather than the registrar's.
type regRealm struct {
	name  string
	proxy bool
}

// regTagBit marks the Tag of a registration's keep-alive sends, under
// uaTimerBit; the registration's id is in the low bits.
const regTagBit = 1 << 62

// crlf2 is the RFC 5626 §4.4.1 ping.
var crlf2 = []byte("\r\n\r\n")

// Register registers a Contact for an address of record (RFC 3261 §10.2)
// and returns the registration's id: Registered follows each success (and
// each refresh), RegistrationFailed each failed attempt, Unregistered the
// end. The registration is refreshed before it expires until Unregister.
func (u *UA) Register(now effects.Time, o RegisterOptions, out []effects.Effect) (uint64, []effects.Effect, error) {
	r, err := u.newRegistration(o)
	if err != nil {
		return 0, out, err
	}
	out, err = u.sendRegister(now, r, opRegister, out)
	if err != nil {
		delete(u.regs, r.id)
		return 0, out, err
	}
	return r.id, out, nil
}

// FetchBindings asks the registrar for the bindings of the address of
// record without changing them (a REGISTER without Contact, RFC 3261
// §10.2.3) and returns the request's id; RegistrationBindings follows, with
// the 2xx as its Msg (its Contacts are the bindings), and ends it.
func (u *UA) FetchBindings(now effects.Time, o RegisterOptions, out []effects.Effect) (uint64, []effects.Effect, error) {
	r, err := u.newRegistration(o)
	if err != nil {
		return 0, out, err
	}
	r.fetchOne = true
	out, err = u.sendRegister(now, r, opFetch, out)
	if err != nil {
		delete(u.regs, r.id)
		return 0, out, err
	}
	return r.id, out, nil
}

// Bindings asks for the bindings within the registration id, with its
// Call-ID and next CSeq (RFC 3665 §2.3); RegistrationBindings follows. It
// returns ErrPending while another REGISTER of it is in progress.
func (u *UA) Bindings(now effects.Time, id uint64, out []effects.Effect) ([]effects.Effect, error) {
	r := u.regs[id]
	if r == nil || r.queued != 0 {
		return out, ErrNoRegistration
	}
	if r.busy {
		return out, ErrPending
	}
	return u.sendRegister(now, r, opFetch, out)
}

// Unregister removes the registration's Contact (expires=0, RFC 3261
// §10.2.2) and ends the registration: Unregistered follows the response,
// or the timeout.
func (u *UA) Unregister(now effects.Time, id uint64, out []effects.Effect) ([]effects.Effect, error) {
	return u.unregister(now, id, opUnregister, out)
}

// UnregisterAll removes every binding of the address of record (Contact: *
// with Expires: 0, RFC 3261 §10.2.2) and ends the registration id.
func (u *UA) UnregisterAll(now effects.Time, id uint64, out []effects.Effect) ([]effects.Effect, error) {
	return u.unregister(now, id, opUnregisterAll, out)
}

func (u *UA) unregister(now effects.Time, id uint64, op regOp, out []effects.Effect) ([]effects.Effect, error) {
	r := u.regs[id]
	if r == nil || r.queued != 0 || r.fetchOne {
		return out, ErrNoRegistration
	}
	out = u.stopTimers(r, out)
	r.registered = false // on its way out
	if r.busy {
		r.queued = op
		return out, nil
	}
	return u.sendRegister(now, r, op, out)
}

// Registrations returns the number of registrations (and binding fetches)
// the UA holds.
func (u *UA) Registrations() int { return len(u.regs) }

// Registration reports on the registration id.
func (u *UA) Registration(id uint64) (RegistrationInfo, bool) {
	r := u.regs[id]
	if r == nil {
		return RegistrationInfo{}, false
	}
	return RegistrationInfo{
		Registered: r.registered, Granted: r.granted, Asked: r.asked, RefreshAt: r.nextAt,
		CallID: r.callID, CSeq: r.cseq, FlowUp: r.flowUp, Flow: r.flow, Mapped: r.mapped, Failures: r.fails,
		Refreshing: r.busy && r.op == opRegister, PubGRUU: r.pubGRUU, TempGRUU: r.tempGRUU,
	}, true
}

// GRUU returns the GRUU the UA uses as the Contact of its dialogs (see the
// package notes on registration), and false when it has none: no
// registration asking for GRUUs got one, or it is no longer registered.
func (u *UA) GRUU() (uri.URI, bool) {
	if u.gruuReg == 0 {
		return uri.URI{}, false
	}
	r := u.regs[u.gruuReg]
	if r == nil || !r.registered {
		return uri.URI{}, false
	}
	first, second := r.pubGRUU, r.tempGRUU
	if u.cfg.TempGRUU {
		first, second = second, first
	}
	if first.Scheme != 0 {
		return first, true
	}
	return second, second.Scheme != 0
}

// localContact is the Contact of the dialogs the UA forms: its GRUU, else
// Config.Contact.
func (u *UA) localContact() uri.URI {
	if g, ok := u.GRUU(); ok {
		return g
	}
	return u.cfg.Contact
}

// instance is the instance id the registration's Contact carries.
func (r *registration) instance() string {
	if r.o.Outbound != nil {
		return r.o.Outbound.Instance
	}
	return r.o.Instance
}

func (u *UA) newRegistration(o RegisterOptions) (*registration, error) {
	if o.Registrar.Host == "" || !o.Registrar.IsSIP() {
		return nil, fmt.Errorf("%w: a registration needs a sip or sips Registrar URI", ErrConfig)
	}
	if o.AOR.Host == "" {
		o.AOR = u.cfg.AOR
	}
	if o.AOR.Host == "" {
		return nil, fmt.Errorf("%w: a registration needs an address of record", ErrConfig)
	}
	if o.Contact.Host == "" && o.Contact.Opaque == "" {
		o.Contact = u.cfg.Contact
	}
	if o.Expires <= 0 {
		o.Expires = time.Hour
	}
	if ob := o.Outbound; ob != nil {
		if ob.Instance == "" || ob.RegID == 0 {
			return nil, fmt.Errorf("%w: outbound needs an instance id and a reg-id", ErrConfig)
		}
		c := *ob
		if c.BaseTime <= 0 {
			c.BaseTime = 30 * time.Second
		}
		if c.MaxTime <= 0 {
			c.MaxTime = 1800 * time.Second
		}
		o.Outbound = &c
	}
	if o.GRUU && o.Instance == "" && o.Outbound == nil {
		return nil, fmt.Errorf("%w: GRUU needs an instance id", ErrConfig)
	}
	if u.regs == nil {
		u.regs = map[uint64]*registration{}
	}
	u.nextID++
	r := &registration{id: u.nextID, o: o, callID: u.cfg.Gen.CallID(), fromTag: u.cfg.Gen.Tag(), asked: o.Expires, flow: o.Dest}
	r.realms = u.knownRealms(o.Registrar)
	u.regs[r.id] = r
	return r, nil
}

// knownRealms returns the realms other registrations with the registrar
// answered, so that a new one sends their credentials at once (RFC 3665
// §2.2): those of the oldest registration first, each once.
func (u *UA) knownRealms(registrar uri.URI) []regRealm {
	ids := make([]uint64, 0, len(u.regs))
	for id, r := range u.regs {
		if len(r.realms) > 0 && uri.Equal(r.o.Registrar, registrar) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // the map's order must not reach the REGISTER
	var realms []regRealm
	for _, id := range ids {
		for _, rr := range u.regs[id].realms {
			if !slices.Contains(realms, rr) {
				realms = append(realms, rr)
			}
		}
	}
	return realms
}

// sendRegister sends the registration's next REGISTER, doing op.
func (u *UA) sendRegister(now effects.Time, r *registration, op regOp, out []effects.Effect) ([]effects.Effect, error) {
	req, err := u.buildRegister(r, op)
	if err != nil {
		return out, err
	}
	dest := r.o.Dest
	if r.flowUp {
		dest = r.flow // RFC 5626 §4.2.1: refreshes go on the flow
	}
	_, out, err = u.newClient(now, req, dest, txnRole{kind: roleOwned, owner: regOwner{u}, ref: r.id}, out)
	if err != nil {
		return out, fmt.Errorf("ua: REGISTER: %w", err)
	}
	r.cseq = req.CSeq().Seq
	r.busy, r.op = true, op
	return out, nil
}

// buildRegister builds a REGISTER doing op, with the next CSeq.
func (u *UA) buildRegister(r *registration, op regOp) (*message.Message, error) {
	ro := message.RequestOptions{
		From:   header.From{URI: r.o.AOR, Params: header.Params(";tag=" + r.fromTag)},
		To:     header.To{URI: r.o.AOR},
		CallID: r.callID,
		CSeq:   r.cseq + 1,
		Via:    u.via(r.o.Dest),
		Routes: r.o.Routes,
		Gen:    u.cfg.Gen,
	}
	if r.o.Outbound != nil {
		ro.Supported = []string{"outbound", "path"}
		ro.Routes = obRoutes(r.o.Routes)
	}
	if r.o.GRUU {
		ro.Supported = append(ro.Supported, "gruu")
	}
	expires := -1
	switch op {
	case opRegister:
		ro.Contact = u.regContact(r, int(r.asked/time.Second))
		if r.o.ExpiresHeader {
			expires = int(r.asked / time.Second)
		}
	case opUnregister:
		ro.Contact = u.regContact(r, 0)
		if r.o.ExpiresHeader {
			expires = 0
		}
	case opUnregisterAll:
		ro.Contact = &header.Contact{Star: true}
		expires = 0
	}
	req, err := message.NewRequest("REGISTER", r.o.Registrar, ro)
	if err != nil {
		return nil, fmt.Errorf("ua: REGISTER: %w", err)
	}
	if expires >= 0 {
		message.Set(req, header.Expires(uint32(expires)))
	}
	if err := u.decorate(req, nil); err != nil {
		return nil, err
	}
	if err := u.reauthorize(r, req); err != nil {
		return nil, fmt.Errorf("ua: REGISTER: %w", err)
	}
	return req, nil
}

// regContact returns the Contact of a REGISTER: our address with the
// expires parameter (unless it goes in Expires) and the outbound
// parameters.
func (u *UA) regContact(r *registration, expires int) *header.Contact {
	c := &header.Contact{URI: r.o.Contact}
	if !r.o.ExpiresHeader {
		c.Params = c.Params.With("expires", fmt.Sprint(expires))
	}
	if ob := r.o.Outbound; ob != nil {
		c.Params = c.Params.With("+sip.instance", header.Quote("<"+ob.Instance+">"))
		c.Params = c.Params.With("reg-id", fmt.Sprint(ob.RegID))
	} else if r.o.Instance != "" {
		c.Params = c.Params.With("+sip.instance", header.Quote("<"+r.o.Instance+">"))
	}
	return c
}

// obRoutes returns the route set with ";ob" on the outbound proxy's URI
// (RFC 5626 §4.2.1, §5.1): it asks the edge proxy to keep the flow.
func obRoutes(routes []header.Route) []header.Route {
	if len(routes) == 0 {
		return nil
	}
	rs := append([]header.Route(nil), routes...)
	rs[0].URI = rs[0].URI.WithParam("ob", "")
	return rs
}

// reauthorize adds the credentials of the realms that challenged the
// registration before, with the remembered nonce and the next nonce count,
// so that a refresh is not challenged again (RFC 3665 §2.2). The realms are
// answered in the order the last REGISTER carried them: each draws a
// cnonce from the generator.
func (u *UA) reauthorize(r *registration, req *message.Message) error {
	if u.auth == nil || len(r.realms) == 0 {
		return nil
	}
	var www, proxy []header.Credentials
	for _, rr := range r.realms {
		c, ok, err := u.auth.Reauthorize(rr.name, "REGISTER", req.RequestURI().String(), nil, u.cfg.Gen)
		if err != nil || !ok {
			continue // nothing remembered, or no credentials now: the 401 will say
		}
		if rr.proxy {
			proxy = append(proxy, c)
		} else {
			www = append(www, c)
		}
	}
	if len(www) > 0 {
		if err := setCredentials(req, false, www); err != nil {
			return err
		}
	}
	if len(proxy) > 0 {
		if err := setCredentials(req, true, proxy); err != nil {
			return err
		}
	}
	return nil
}

// noteRealms remembers the realms whose credentials req carried, in its
// order.
func (r *registration) noteRealms(req *message.Message) {
	_, www := challenges(req, req, false)
	_, proxy := challenges(req, req, true)
	if len(www)+len(proxy) == 0 {
		return
	}
	r.realms = nil
	note := func(cs []header.Credentials, isProxy bool) {
		for _, c := range cs {
			if rr := (regRealm{name: c.Realm(), proxy: isProxy}); !slices.Contains(r.realms, rr) {
				r.realms = append(r.realms, rr)
			}
		}
	}
	note(www, false)
	note(proxy, true)
}

// regOwner routes the responses of the registrations' REGISTERs.
type regOwner struct{ u *UA }

func (o regOwner) clientResponse(now effects.Time, role txnRole, m *message.Message, out []effects.Effect) []effects.Effect {
	u := o.u
	r := u.regs[role.ref]
	code := m.StatusCode()
	if r == nil || !r.busy || code < 200 {
		return out
	}
	r.busy = false
	r.cseq = max(r.cseq, role.req.CSeq().Seq) // authRetry may have sent it again
	switch {
	case code < 300:
		r.noteRealms(role.req)
		return u.regSuccess(now, r, m, out)
	case code == 423 && r.op == opRegister && r.queued == 0:
		if out, ok := u.retry423(now, r, m, out); ok {
			return out
		}
	}
	return u.regFailure(now, r, code, m, fmt.Errorf("%w: %d %s", ErrRegistrationRefused, code, m.Reason()), out)
}

func (o regOwner) clientFailure(now effects.Time, role txnRole, ev effects.Event, out []effects.Effect) []effects.Effect {
	u := o.u
	r := u.regs[role.ref]
	if r == nil || !r.busy {
		return out
	}
	r.busy = false
	r.cseq = max(r.cseq, role.req.CSeq().Seq)
	code, err := 408, ErrTimeout
	if ev.Kind == effects.TxnTransportError {
		code, err = 503, ErrTransport
		r.flowUp = false // whatever flow it went on is gone
		out = u.stopKeepAlive(r, out)
		r.mapped = netip.AddrPort{}
	}
	return u.regFailure(now, r, code, nil, err, out)
}

// retry423 sends the REGISTER again asking for the Min-Expires of a 423
// (RFC 3261 §10.2.8), at most twice in a row.
func (u *UA) retry423(now effects.Time, r *registration, m *message.Message, out []effects.Effect) ([]effects.Effect, bool) {
	me, ok, err := message.First[header.MinExpires](m)
	least := time.Duration(me) * time.Second
	if err != nil || !ok || least <= r.asked || r.tries423 >= 2 {
		return out, false
	}
	r.tries423++
	r.asked = least
	out, err = u.sendRegister(now, r, opRegister, out)
	return out, err == nil
}

// regSuccess handles a 2xx to the registration's REGISTER.
func (u *UA) regSuccess(now effects.Time, r *registration, m *message.Message, out []effects.Effect) []effects.Effect {
	op := r.op
	r.tries423 = 0
	if op == opFetch {
		out = deliver(out, effects.Event{Kind: effects.RegistrationBindings, ID: r.id, Msg: m, Code: m.StatusCode()})
		return u.afterFetch(now, r, out)
	}
	if op == opUnregister || op == opUnregisterAll {
		out = u.endRegistration(r, out)
		return deliver(out, effects.Event{Kind: effects.Unregistered, ID: r.id, Msg: m, Code: m.StatusCode()})
	}
	r.registered, r.fails = true, 0
	r.granted = grantedExpires(m, r)
	if r.o.GRUU {
		u.noteGRUUs(r, m)
	}
	out = deliver(out, effects.Event{Kind: effects.Registered, ID: r.id, Msg: m, Code: m.StatusCode()})
	if r.queued != 0 {
		return u.sendQueued(now, r, out)
	}
	if r.granted <= 0 {
		// The registrar kept no binding for us: the registration is over.
		out = u.endRegistration(r, out)
		return deliver(out, effects.Event{Kind: effects.Unregistered, ID: r.id, Msg: m, Code: m.StatusCode()})
	}
	out = u.armNext(r, now, refreshAfter(r.granted), out)
	if r.o.Outbound != nil && supports(m, "outbound") {
		out = u.flowUp(r, m, out)
	}
	return out
}

// refreshAfter is when a registration granted g is refreshed: g −
// min(g/2, 5 min).
func refreshAfter(g time.Duration) time.Duration {
	return g - min(g/2, 5*time.Minute)
}

// grantedExpires reads the interval a 2xx granted our Contact (§10.2.4):
// the expires parameter of the Contact that is ours (the same URI, or for
// outbound the same instance and reg-id), else the Expires field, else what
// was asked for.
func grantedExpires(m *message.Message, r *registration) time.Duration {
	contacts, _ := message.All[header.Contact](m)
	for _, c := range contacts {
		if !r.ours(c) {
			continue
		}
		if e, ok := c.Expires(); ok {
			return time.Duration(e) * time.Second
		}
		break
	}
	if e, ok, err := message.First[header.Expires](m); err == nil && ok {
		return time.Duration(e) * time.Second
	}
	return r.asked
}

// ours reports whether a Contact of a 2xx is the registration's binding.
func (r *registration) ours(c header.Contact) bool {
	if c.Star {
		return false
	}
	if ob := r.o.Outbound; ob != nil {
		id, ok := c.RegID()
		if strings.EqualFold(c.Instance(), ob.Instance) && ok && id == ob.RegID {
			return true
		}
	} else if r.o.Instance != "" && strings.EqualFold(c.Instance(), r.o.Instance) {
		return true
	}
	return uri.Equal(c.URI, r.o.Contact)
}

// noteGRUUs keeps the pub-gruu and temp-gruu a 2xx gave our Contact (RFC
// 5627 §4.2); a 2xx without them (a registrar that assigns none) leaves
// the registration without. The UA uses the GRUUs of the latest
// registration that got one.
func (u *UA) noteGRUUs(r *registration, m *message.Message) {
	r.pubGRUU, r.tempGRUU = uri.URI{}, uri.URI{}
	contacts, _ := message.All[header.Contact](m)
	for _, c := range contacts {
		if !r.ours(c) {
			continue
		}
		r.pubGRUU = gruuParam(c, "pub-gruu")
		r.tempGRUU = gruuParam(c, "temp-gruu")
		break
	}
	switch {
	case r.pubGRUU.Scheme != 0 || r.tempGRUU.Scheme != 0:
		u.gruuReg = r.id
	case u.gruuReg == r.id:
		u.gruuReg = 0
	}
}

// gruuParam reads a GRUU parameter of a Contact: a quoted sip or sips URI
// (RFC 5627 §7); anything else is no GRUU.
func gruuParam(c header.Contact, name string) uri.URI {
	v, ok := c.Params.Unquoted(name)
	if !ok {
		return uri.URI{}
	}
	g, err := uri.Parse(v)
	if err != nil || !g.IsSIP() {
		return uri.URI{}
	}
	return g
}

// regFailure handles a failed REGISTER: a fetch reports it; an unregister
// ends; a registration is retried or ends (see the package notes).
func (u *UA) regFailure(now effects.Time, r *registration, code int, m *message.Message, err error, out []effects.Effect) []effects.Effect {
	r.tries423 = 0
	switch r.op {
	case opFetch:
		out = deliver(out, effects.Event{Kind: effects.RegistrationBindings, ID: r.id, Msg: m, Code: code, Err: err})
		return u.afterFetch(now, r, out)
	case opUnregister, opUnregisterAll:
		out = u.endRegistration(r, out)
		return deliver(out, effects.Event{Kind: effects.Unregistered, ID: r.id, Msg: m, Code: code, Err: err})
	}
	r.registered = false
	out = deliver(out, effects.Event{Kind: effects.RegistrationFailed, ID: r.id, Msg: m, Code: code, Err: err})
	if r.queued != 0 {
		return u.sendQueued(now, r, out)
	}
	wait, ok := u.retryWait(r, code, m)
	if !ok {
		out = u.endRegistration(r, out)
		return deliver(out, effects.Event{Kind: effects.Unregistered, ID: r.id, Msg: m, Code: code, Err: err})
	}
	r.fails++
	return u.armNext(r, now, wait, out)
}

// retryWait decides whether and when a failed registration is tried again.
func (u *UA) retryWait(r *registration, code int, m *message.Message) (time.Duration, bool) {
	if !r.o.Retry && r.o.Outbound == nil {
		return 0, false
	}
	if m != nil {
		if ra, ok, err := message.First[header.RetryAfter](m); err == nil && ok && ra.Delta > 0 {
			return ra.After(), true
		}
	}
	if code != 408 && code != 480 && code != 503 && (code < 500 || code > 599) {
		return 0, false
	}
	return u.backoff(r), true
}

// backoff is RFC 5626 §4.5's wait: a random time between 50% and 100% of
// min(MaxTime, BaseTime·2^fails).
func (u *UA) backoff(r *registration) time.Duration {
	base, maxT := 30*time.Second, 1800*time.Second
	if ob := r.o.Outbound; ob != nil {
		base, maxT = ob.BaseTime, ob.MaxTime
	}
	wait := maxT
	if r.fails < 30 {
		wait = min(maxT, base<<r.fails)
	}
	ms := uint64(wait / time.Millisecond)
	return time.Duration(u.random(ms/2, ms)) * time.Millisecond
}

// armNext (re)arms the timer that sends the next REGISTER after d.
func (u *UA) armNext(r *registration, now effects.Time, d time.Duration, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&r.tNext, out)
	id := r.id
	r.nextAt = now.Add(d)
	r.tNext, out = u.setFuncTimer(d, func(now effects.Time, out []effects.Effect) []effects.Effect {
		return u.regTimer(now, id, out)
	}, out)
	return out
}

// regTimer sends a refresh or a retry.
func (u *UA) regTimer(now effects.Time, id uint64, out []effects.Effect) []effects.Effect {
	r := u.regs[id]
	if r == nil {
		return out
	}
	r.tNext, r.nextAt = 0, 0
	if r.busy {
		// A fetch is in progress: the refresh goes right after it.
		r.refreshDue = true
		return out
	}
	return u.refreshNow(now, r, out)
}

// refreshNow sends the refresh (or retry) of the registration.
func (u *UA) refreshNow(now effects.Time, r *registration, out []effects.Effect) []effects.Effect {
	r.refreshDue = false
	out, err := u.sendRegister(now, r, opRegister, out)
	if err != nil {
		return u.regFailure(now, r, 503, nil, err, out)
	}
	return out
}

// afterFetch goes on after a fetch's answer: a FetchBindings ends; an
// Unregister or a refresh that waited for it goes now.
func (u *UA) afterFetch(now effects.Time, r *registration, out []effects.Effect) []effects.Effect {
	switch {
	case r.fetchOne:
		return u.endRegistration(r, out)
	case r.queued != 0:
		return u.sendQueued(now, r, out)
	case r.refreshDue:
		return u.refreshNow(now, r, out)
	}
	return out
}

// sendQueued sends the Unregister that waited for the REGISTER just done.
func (u *UA) sendQueued(now effects.Time, r *registration, out []effects.Effect) []effects.Effect {
	op := r.queued
	if op == 0 {
		return out
	}
	r.queued = 0
	r.registered = false
	out = u.stopTimers(r, out)
	out, err := u.sendRegister(now, r, op, out)
	if err != nil {
		out = u.endRegistration(r, out)
		return deliver(out, effects.Event{Kind: effects.Unregistered, ID: r.id, Code: 503, Err: err})
	}
	return out
}

// stopTimers cancels the registration's timers and stops its keep-alives.
func (u *UA) stopTimers(r *registration, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&r.tNext, out)
	out = u.stopKeepAlive(r, out)
	r.nextAt, r.flowUp = 0, false
	return out
}

// stopKeepAlive cancels the keep-alive timer and forgets the STUN
// keep-alive in progress, if any.
func (u *UA) stopKeepAlive(r *registration, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&r.tKeep, out)
	out = u.cancelTimer(&r.tStun, out)
	r.checking, r.stunReq, r.stunSent = false, nil, 0
	return out
}

// endRegistration forgets the registration.
func (u *UA) endRegistration(r *registration, out []effects.Effect) []effects.Effect {
	out = u.stopTimers(r, out)
	r.registered = false
	delete(u.regs, r.id)
	if u.gruuReg == r.id {
		u.gruuReg = 0
	}
	return out
}

// flowUp starts the keep-alives of an outbound flow that a 2xx confirmed
// (RFC 5626 §4.2.1, §4.4.1): the flow is the peer the 2xx came from.
func (u *UA) flowUp(r *registration, m *message.Message, out []effects.Effect) []effects.Effect {
	r.flowUp = true
	r.flow = r.o.Dest
	if from := u.respFrom; from.Addr == r.o.Dest.Addr && from.Conn != 0 {
		r.flow.Conn = from.Conn
	}
	return u.armKeepAlive(r, m, out)
}

// armKeepAlive arms the next keep-alive at the interval of §4.4.1.
func (u *UA) armKeepAlive(r *registration, m *message.Message, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&r.tKeep, out)
	lo, hi := uint64(95000), uint64(120000) // ms
	if !r.flow.Transport.Reliable() {
		lo, hi = 24000, 29000
	}
	if m != nil {
		if ft, ok, err := message.First[header.FlowTimer](m); err == nil && ok && ft > 0 {
			hi = uint64(ft) * 1000
			lo = hi * 8 / 10
		}
		r.keepLo, r.keepHi = lo, hi
	} else if r.keepHi > 0 {
		lo, hi = r.keepLo, r.keepHi
	}
	id := r.id
	r.tKeep, out = u.setFuncTimer(time.Duration(u.random(lo, hi))*time.Millisecond, func(now effects.Time, out []effects.Effect) []effects.Effect {
		return u.keepAlive(id, out)
	}, out)
	return out
}

// keepAlive sends a keep-alive on the flow, a CRLFCRLF ping or a STUN
// Binding request, and arms the next one.
func (u *UA) keepAlive(id uint64, out []effects.Effect) []effects.Effect {
	r := u.regs[id]
	if r == nil {
		return out
	}
	r.tKeep = 0
	if !r.flowUp {
		return out
	}
	switch {
	case !r.stunFlow():
		out = append(out, effects.Effect{Kind: effects.Send, Data: crlf2, To: r.flow, Tag: uaTimerBit | regTagBit | id})
	case !r.checking:
		// A new STUN transaction; while one waits for its response, its
		// retransmissions keep the binding open.
		r.checking, r.stunSent = true, 0
		r.stunTx = u.stunTxID()
		r.stunReq = stun.AppendBindingRequest(nil, r.stunTx)
		out = u.sendStun(r, out)
	}
	return u.armKeepAlive(r, nil, out)
}

// stunFlow reports whether the registration's flow is kept alive with STUN
// (§4.4.2): a datagram flow, unless CRLFKeepAlive.
func (r *registration) stunFlow() bool {
	return !r.flow.Transport.Reliable() && (r.o.Outbound == nil || !r.o.Outbound.CRLFKeepAlive)
}

// The STUN client transaction's retransmissions (RFC 5389 §7.2.1): Rc
// requests at most, and Rm·RTO after the last one without a response the
// transaction fails.
const (
	stunRc = 7
	stunRm = 16
)

// sendStun sends the STUN keep-alive in progress (again) and arms the timer
// of the next retransmission, or of giving up after the last.
func (u *UA) sendStun(r *registration, out []effects.Effect) []effects.Effect {
	out = append(out, effects.Effect{Kind: effects.Send, Data: r.stunReq, To: r.flow, Tag: uaTimerBit | regTagBit | r.id})
	r.stunSent++
	wait := u.t1() << (r.stunSent - 1)
	if r.stunSent >= stunRc {
		wait = stunRm * u.t1()
	}
	id := r.id
	r.tStun, out = u.setFuncTimer(wait, func(now effects.Time, out []effects.Effect) []effects.Effect {
		return u.stunTimer(now, id, out)
	}, out)
	return out
}

// stunTimer retransmits the STUN keep-alive, or, after the last, fails the
// flow: no response came (§4.4.2).
func (u *UA) stunTimer(now effects.Time, id uint64, out []effects.Effect) []effects.Effect {
	r := u.regs[id]
	if r == nil {
		return out
	}
	r.tStun = 0
	if !r.checking || !r.flowUp {
		return out
	}
	if r.stunSent < stunRc {
		return u.sendStun(r, out)
	}
	return u.flowFailed(now, r, fmt.Errorf("%w: no STUN Binding response", ErrFlowFailed), out)
}

// stunTxID draws a STUN transaction id from the generator: two Uint64s
// when it has them, else 96 bits of a fresh Call-ID's FNV-1a hash.
func (u *UA) stunTxID() stun.TransactionID {
	var id stun.TransactionID
	if r, ok := u.cfg.Gen.(interface{ Uint64() uint64 }); ok {
		a, b := r.Uint64(), r.Uint64()
		for i := 0; i < 8; i++ {
			id[i] = byte(a >> (8 * i))
		}
		for i := 8; i < 12; i++ {
			id[i] = byte(b >> (8 * (i - 8)))
		}
		return id
	}
	// A fresh Call-ID, hashed: ident.Source's carry about 142 random
	// bits, crypto/rand's in a deployment (package drivers/idgen).
	h := fnv.New128a()
	h.Write([]byte(u.cfg.Gen.CallID()))
	copy(id[:], h.Sum(nil))
	return id
}

// regPong handles a STUN Binding response (effects.Pong): the answer to
// the STUN keep-alive of one of the registrations, matched by its
// transaction id (RFC 5389 §7.3.3). An error response, or a success
// response reporting another address than the flow's (the NAT binding
// changed), fails the flow (RFC 5626 §4.4.2). Anything else is ignored.
func (u *UA) regPong(now effects.Time, data []byte, out []effects.Effect) []effects.Effect {
	m, err := stun.Parse(data)
	if err != nil || m.Type.Method() != stun.MethodBinding {
		return out
	}
	if c := m.Type.Class(); c != stun.ClassSuccess && c != stun.ClassError {
		return out
	}
	var r *registration
	for _, x := range u.regs {
		if x.checking && x.flowUp && x.stunTx == m.TxID {
			r = x
			break
		}
	}
	if r == nil {
		return out // a late retransmission's answer, or not ours
	}
	out = u.cancelTimer(&r.tStun, out)
	r.checking, r.stunReq, r.stunSent = false, nil, 0
	if m.Type.Class() == stun.ClassError {
		code, reason, _ := m.ErrorCode()
		return u.flowFailed(now, r, fmt.Errorf("%w: STUN Binding error response %d %s", ErrFlowFailed, code, reason), out)
	}
	mapped, err := m.ReflexiveAddress()
	if err != nil {
		return out // alive, but says nothing about the binding
	}
	if r.mapped.IsValid() && mapped != r.mapped {
		return u.flowFailed(now, r, fmt.Errorf("%w: the NAT binding changed from %v to %v", ErrFlowFailed, r.mapped, mapped), out)
	}
	r.mapped = mapped
	return out
}

// regSendFailed handles a SendFailed for one of the UA's own sends: a
// keep-alive that could not go means its flow failed.
func (u *UA) regSendFailed(now effects.Time, tag uint64, out []effects.Effect) []effects.Effect {
	if tag&regTagBit == 0 {
		return out
	}
	r := u.regs[tag&^(uaTimerBit|regTagBit)]
	if r == nil || !r.flowUp {
		return out
	}
	return u.flowFailed(now, r, fmt.Errorf("%w: a keep-alive could not be sent", ErrFlowFailed), out)
}

// regConnClosed handles a closed connection: the flows on it failed.
func (u *UA) regConnClosed(now effects.Time, conn effects.ConnID, out []effects.Effect) []effects.Effect {
	if conn == 0 || len(u.regs) == 0 {
		return out
	}
	var failed []*registration
	for _, r := range u.regs {
		if r.flowUp && r.flow.Conn == conn {
			failed = append(failed, r)
		}
	}
	// Map order must not leak into the effects.
	for i := 1; i < len(failed); i++ {
		for j := i; j > 0 && failed[j].id < failed[j-1].id; j-- {
			failed[j], failed[j-1] = failed[j-1], failed[j]
		}
	}
	for _, r := range failed {
		out = u.flowFailed(now, r, fmt.Errorf("%w: its connection closed", ErrFlowFailed), out)
	}
	return out
}

// flowFailed reports a failed outbound flow (why wraps ErrFlowFailed) and
// registers again on a new one after the §4.5 backoff; a REGISTER in
// progress on it fails by itself and is retried the same way.
func (u *UA) flowFailed(now effects.Time, r *registration, why error, out []effects.Effect) []effects.Effect {
	r.flowUp, r.registered = false, false
	r.o.Dest.Conn = 0 // a new flow
	r.flow = r.o.Dest
	r.mapped = netip.AddrPort{}
	out = u.stopKeepAlive(r, out)
	out = deliver(out, effects.Event{Kind: effects.RegistrationFlowFailed, ID: r.id, Err: why})
	if r.busy || r.queued != 0 {
		return out
	}
	wait := u.backoff(r)
	r.fails++
	return u.armNext(r, now, wait, out)
}
