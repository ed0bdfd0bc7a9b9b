// Package b2bua is a back-to-back user agent helper (RFC 3261 §6, RFC 7092)
// built on the public API of package ua, as a pure state machine: it joins
// an incoming call (leg A, on one ua.UA) to an outgoing call it places (leg
// B, on the same or another ua.UA) and relays between them what one leg's
// peer does to the other leg's peer.
//
// The embedder feeds the B2BUA every Deliver effect of its UAs (Handle,
// with the UA that delivered it); the B2BUA answers with the effects of the
// commands it ran on the UAs, each tagged with its UA (sends and timers for
// that UA's driver), and its own events (BridgeRoute, BridgeAnswered,
// BridgeEnded). Deliver effects tagged with a UA are that UA's events caused
// by the B2BUA's own commands (a CallEnded after its Hangup, say): the B2BUA
// has handled them already, so the driver shows them to the application and
// does not feed them back.
//
// What is relayed, leg to leg:
//   - the INVITE's offer: leg B is placed (ua.UA.Call) with leg A's session
//     description, or without one when A's INVITE had none (late offer:
//     B's 2xx offers, that offer goes to A in A's 2xx, and the answer in
//     A's ACK goes to B in B's ACK, RFC 3261 §13.2.1, RFC 3264 §4);
//   - provisional responses (180, 183 with early media, ...) with their
//     code and description, reliably (RFC 3262) when Config.Reliable is set
//     and the caller supports it; in the late offer case without their
//     description (an offer in an unreliable provisional response is not
//     allowed);
//   - the final response: B's 2xx answers A with B's description; B's
//     failure rejects A with the same code, mapped where relaying it would
//     mislead (Code);
//   - the end of either leg (CANCEL, BYE, timeout, refused refresh) ends the
//     other, with CANCEL or BYE as its state asks (ua.UA.Hangup), once;
//   - re-INVITEs and UPDATEs (RFC 3311): the offer goes to the other leg in
//     the same method, its answer back (ua.UA.Accept), its refusal back
//     with the same code (ua.UA.Decline), so hold and resume pass through
//     (RFC 3264 §8.4);
//   - INFO (RFC 6086) and MESSAGE in the dialog, with method, content type
//     and body, and their final responses' codes.
//
// Each leg is its own ua call, so each has its own Call-ID, tags, CSeq
// numbers and Vias (RFC 7092 §3.1's signalling-only B2BUA). A B2BUA is not
// safe for concurrent use.
package b2bua

import (
	"errors"
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// Errors of the B2BUA's commands, matchable with errors.Is.
var (
	ErrConfig   = errors.New("b2bua: incomplete configuration")
	ErrNoBridge = errors.New("b2bua: no such bridge waiting for a route")
	ErrRoute    = errors.New("b2bua: the outgoing leg could not be placed")
)

// DefaultMaxBridges bounds the bridges table when Config.MaxBridges is 0.
const DefaultMaxBridges = 4096

// Config is a B2BUA's UAs and policy.
type Config struct {
	// Inside and Outside are the UAs of the two sides; they may be the same
	// UA. A call coming in on one goes out on the other.
	Inside, Outside *ua.UA
	// Route decides where a call coming in on leg goes (ev is its
	// CallIncoming). Nil makes the B2BUA deliver BridgeRoute and wait for
	// the application's Connect, which may come later (from a database,
	// say).
	Route func(leg *ua.UA, ev effects.Event) Decision
	// Reliable relays provisional responses reliably (RFC 3262) when the
	// caller supports 100rel.
	Reliable bool
	// MaxBridges bounds the bridges in progress (DefaultMaxBridges when 0);
	// calls beyond it are rejected 503.
	MaxBridges int
	// NoAnswer is how long the outgoing leg may ring before it is
	// cancelled, when the decision sets no Options.Expires
	// (DefaultNoAnswer when 0): a caller that gave up unheard (its
	// provisional responses lost, its Timer B fired) leaves no bridge
	// ringing for ever, as a proxy's Timer C does (RFC 3261 §16.6 step 11).
	NoAnswer time.Duration
}

// DefaultNoAnswer is Config.NoAnswer's default, Timer C's 3 minutes.
const DefaultNoAnswer = 3 * time.Minute

// Decision is a routing decision for an incoming call.
type Decision struct {
	// Target is the Request-URI of the outgoing leg's INVITE.
	Target uri.URI
	// Options are the outgoing leg's options. When Options.Body is nil the
	// incoming INVITE's description, if any, is offered.
	Options ua.CallOptions
	// Reject, when not zero, refuses the call with this code instead
	// (300 to 699; anything else becomes 500).
	Reject int
}

// Effect is an effect of one of the B2BUA's UAs, tagged with the UA whose
// driver carries it out, or one of the B2BUA's own events (UA nil).
type Effect struct {
	UA *ua.UA
	effects.Effect
}

// legKey names a call on a UA.
type legKey struct {
	ua *ua.UA
	id ua.CallID
}

// reqKey names a request on a UA (sent with CallRequest, or waiting for
// Reply).
type reqKey struct {
	ua *ua.UA
	id uint64
}

// B2BUA joins incoming calls to outgoing ones. The zero value is not
// usable; call New.
type B2BUA struct {
	cfg     Config
	bridges map[uint64]*bridge
	legs    map[legKey]*bridge
	// relays maps a request sent on one leg to the request of the other
	// leg waiting for its answer; they outlive their bridge until the
	// answer (or the transaction's timeout) comes.
	relays map[reqKey]reqKey
	nextID uint64
	spare  [][]effects.Effect
}

// New returns a B2BUA for cfg; Inside and Outside are required.
func New(cfg Config) (*B2BUA, error) {
	if cfg.Inside == nil || cfg.Outside == nil {
		return nil, fmt.Errorf("%w: Inside and Outside are required", ErrConfig)
	}
	if cfg.MaxBridges <= 0 {
		cfg.MaxBridges = DefaultMaxBridges
	}
	if cfg.NoAnswer <= 0 {
		cfg.NoAnswer = DefaultNoAnswer
	}
	return &B2BUA{
		cfg:     cfg,
		bridges: map[uint64]*bridge{},
		legs:    map[legKey]*bridge{},
		relays:  map[reqKey]reqKey{},
	}, nil
}

// Bridges returns the number of bridges in progress.
func (b *B2BUA) Bridges() int { return len(b.bridges) }

// Relays returns the number of in-dialog requests relayed and waiting for
// their final response.
func (b *B2BUA) Relays() int { return len(b.relays) }

// Leg returns the other leg of the bridge that the call id on u belongs
// to: its UA and call, and false when the call is not bridged or its peer
// leg is not placed yet.
func (b *B2BUA) Leg(u *ua.UA, id ua.CallID) (*ua.UA, ua.CallID, bool) {
	br := b.legs[legKey{u, id}]
	if br == nil {
		return nil, 0, false
	}
	o := br.other(u, id)
	if o == nil || o.id == 0 {
		return nil, 0, false
	}
	return o.ua, o.id, true
}

// other returns the UA a call coming in on u goes out on.
func (b *B2BUA) otherUA(u *ua.UA) *ua.UA {
	if u == b.cfg.Inside {
		return b.cfg.Outside
	}
	return b.cfg.Inside
}

// Handle feeds the B2BUA one event that leg, one of its UAs, delivered,
// and appends what follows to out. Events of calls and requests that are
// not bridged are ignored.
func (b *B2BUA) Handle(now effects.Time, leg *ua.UA, ev effects.Event, out []Effect) []Effect {
	if leg != b.cfg.Inside && leg != b.cfg.Outside {
		return out
	}
	switch ev.Kind {
	case effects.CallIncoming:
		return b.incoming(now, leg, ev, out)
	case effects.RequestDone:
		return b.requestDone(now, leg, ev, out)
	case effects.RequestIncoming:
		if br := b.legs[legKey{leg, ev.Ref}]; br != nil && ev.Ref != 0 {
			return b.requestIn(now, br, leg, ev, out)
		}
		return out
	}
	br := b.legs[legKey{leg, ev.ID}]
	if br == nil {
		return out
	}
	return br.event(now, b, leg, ev, out)
}

// Concerns reports whether ev, an event leg delivered, belongs to one of
// the B2BUA's bridges: an event of a bridged call, a request arriving in
// a bridged call's dialog, or the answer to a request the B2BUA relayed.
// A dispatcher that runs a B2BUA beside its own use of the same UA feeds
// the B2BUA these, and the CallIncoming of each call it wants bridged;
// every other event is its own.
func (b *B2BUA) Concerns(leg *ua.UA, ev effects.Event) bool {
	if leg != b.cfg.Inside && leg != b.cfg.Outside {
		return false
	}
	switch ev.Kind {
	case effects.CallIncoming:
		return false
	case effects.RequestDone:
		_, ok := b.relays[reqKey{leg, ev.ID}]
		return ok
	case effects.RequestIncoming:
		return ev.Ref != 0 && b.legs[legKey{leg, ev.Ref}] != nil
	}
	if ev.Kind < effects.CallIncoming || ev.Kind > effects.RequestDone {
		return false // registrations and subscriptions have ids of their own
	}
	return b.legs[legKey{leg, ev.ID}] != nil
}

// Connect gives the bridge id (from a BridgeRoute event) its routing
// decision: the outgoing leg is placed, or the call rejected.
func (b *B2BUA) Connect(now effects.Time, id uint64, d Decision, out []Effect) ([]Effect, error) {
	br := b.bridges[id]
	if br == nil || br.b.ua != nil || br.a.done {
		return out, ErrNoBridge
	}
	return br.connect(now, b, d, out)
}

// incoming opens a bridge for a call coming in on leg.
func (b *B2BUA) incoming(now effects.Time, leg *ua.UA, ev effects.Event, out []Effect) []Effect {
	if len(b.bridges) >= b.cfg.MaxBridges {
		out, _ = b.run(now, leg, func(o []effects.Effect) ([]effects.Effect, error) {
			return leg.Reject(now, ev.ID, 503, o)
		}, out)
		return out
	}
	b.nextID++
	br := &bridge{id: b.nextID, a: callLeg{ua: leg, id: ev.ID}}
	if ev.Msg != nil && len(ev.Msg.Body()) > 0 {
		br.offer = []byte(ev.Msg.Body())
		br.offerType, _ = ev.Msg.Get("Content-Type")
	}
	b.bridges[br.id] = br
	b.legs[legKey{leg, ev.ID}] = br
	if b.cfg.Route == nil {
		return append(out, bridgeEvent(effects.Event{Kind: effects.BridgeRoute, ID: br.id, Ref: ev.ID, Msg: ev.Msg, From: ev.From}))
	}
	out, _ = br.connect(now, b, b.cfg.Route(leg, ev), out)
	return out
}

// bridgeEvent wraps one of the B2BUA's own events.
func bridgeEvent(ev effects.Event) Effect {
	return Effect{Effect: effects.Effect{Kind: effects.Deliver, Event: ev}}
}

// run runs a command on u and appends its effects, tagged with u; the
// events among them (the command's own consequences, such as CallEnded
// after Hangup) are handled here, and stay in out for the application to
// see.
func (b *B2BUA) run(now effects.Time, u *ua.UA, cmd func([]effects.Effect) ([]effects.Effect, error), out []Effect) ([]Effect, error) {
	buf := b.buf()
	effs, err := cmd(buf)
	start := len(out)
	for i := range effs {
		out = append(out, Effect{UA: u, Effect: effs[i]})
	}
	b.release(effs)
	end := len(out)
	for i := start; i < end; i++ {
		if out[i].Kind == effects.Deliver {
			out = b.Handle(now, u, out[i].Event, out)
		}
	}
	return out, err
}

// buf returns an empty buffer for a command's effects; commands nest, so
// the spare buffers are a stack.
func (b *B2BUA) buf() []effects.Effect {
	if n := len(b.spare); n > 0 {
		s := b.spare[n-1]
		b.spare = b.spare[:n-1]
		return s
	}
	return make([]effects.Effect, 0, 8)
}

// release takes back a buffer from buf, cleared so that it holds on to no
// message.
func (b *B2BUA) release(s []effects.Effect) {
	if cap(s) == 0 || cap(s) > 256 || len(b.spare) >= 8 {
		return
	}
	clear(s)
	b.spare = append(b.spare, s[:0])
}
