// Package location is the location service of RFC 3261 §10: the bindings
// of each address of record (AOR) to the contact addresses registered for
// it, as a registrar writes them and a proxy or redirect server reads them.
//
// A Binding records everything a REGISTER set (RFC 3261 §10.3 step 7): the
// Contact and its parameters, q, the absolute expiry, the Call-ID and CSeq
// that set it, the Path (RFC 3327) and the outbound instance and reg-id with
// the flow the REGISTER arrived on (RFC 5626). Merge applies one REGISTER's
// changes to the bindings of an AOR by the rules of §10.3 steps 6 and 7 and
// RFC 5626 §6, all or nothing; Store is a bounded in-memory store built on
// it.
//
// Like the protocol core, the package reads no clock: every call that
// depends on time takes now, an effects.Time from the driver's clock.
// Bindings expire by time alone: Lookup never returns an expired one, and
// Store.Expire releases their memory without waiting for a look-up.
//
// Package registrar asks for bindings through events its owner answers, so
// that the same registrar serves this Store answered at once or a database
// answered later.
package location

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/uri"
)

// DefaultQ is the q of a Contact registered without one, in thousandths:
// RFC 3261 leaves it to the server; 1.0 ranks such a contact with the most
// preferred.
const DefaultQ = 1000

// ErrAOR reports an address of record that is not a sip or sips URI with a
// host (RFC 3261 §10.2: "This address-of-record MUST be a SIP URI or SIPS
// URI").
var ErrAOR = errors.New("location: invalid address of record")

// Binding is one contact address registered for an address of record.
type Binding struct {
	// AOR is the address of record in canonical form (see Canonical).
	AOR uri.URI
	// Contact is the Contact value as registered, with its header
	// parameters (q, +sip.instance, reg-id and any others) but without
	// expires, which Expires replaces.
	Contact header.Contact
	// Q is the preference, in thousandths (0 to 1000); DefaultQ when the
	// Contact had none.
	Q int
	// Expires is when the binding ends.
	Expires effects.Time
	// Updated is when the binding was last added or refreshed.
	Updated effects.Time
	// CallID and CSeq are those of the REGISTER that last set the binding
	// (RFC 3261 §10.3 step 7).
	CallID string
	CSeq   uint32
	// Path is the REGISTER's Path (RFC 3327), in order: the route set
	// towards the contact.
	Path []header.Path
	// Instance and RegID are the +sip.instance and reg-id of an outbound
	// registration (RFC 5626 §4.1, §4.2); RegID is 0 for others.
	Instance string
	RegID    uint32
	// Flow is where the REGISTER came from: the address, transport and
	// connection of the flow the client registered over. For an outbound
	// binding without Path it is how the client is reached (RFC 5626 §5.3);
	// behind an edge proxy it is the proxy's.
	Flow effects.Peer
	// FlowToken names the flow (RFC 5626 §5.2): an opaque token, kept while
	// refreshes arrive on the same flow, that a proxy can put in a
	// Record-Route or Path URI to find the flow again.
	FlowToken string
}

// Outbound reports whether the binding is an outbound registration (RFC
// 5626): it has an instance id and a reg-id.
func (b *Binding) Outbound() bool { return b.Instance != "" && b.RegID != 0 }

// Expired reports whether the binding has expired at now.
func (b *Binding) Expired(now effects.Time) bool { return b.Expires <= now }

// Remaining returns how long the binding has left at now, 0 once expired.
func (b *Binding) Remaining(now effects.Time) time.Duration {
	if b.Expires <= now {
		return 0
	}
	return b.Expires.Sub(now)
}

// RemainingSeconds returns the remaining time in whole seconds, rounded
// down (a client then refreshes early rather than late), but at least 1
// while the binding lives: expires=0 would mean removed.
func (b *Binding) RemainingSeconds(now effects.Time) uint32 {
	d := b.Remaining(now)
	if d <= 0 {
		return 0
	}
	return max(1, uint32(d/time.Second))
}

// Target returns the URI a proxy sends to: the Contact's URI (RFC 3261
// §16.5).
func (b *Binding) Target() uri.URI { return b.Contact.URI }

// Routes returns the Path as a Route set, in order (RFC 3327 §5.3): a proxy
// that forwards to the binding's Target pushes these Route values first.
func (b *Binding) Routes() []header.Route {
	if len(b.Path) == 0 {
		return nil
	}
	rs := make([]header.Route, len(b.Path))
	for i, p := range b.Path {
		rs[i] = header.Route(p)
	}
	return rs
}

// Direct returns the flow to send on, and true, when the binding is an
// outbound registration that reached this server directly (no Path): a
// request for the contact must go over the connection the client
// registered on, which is how a client behind a NAT is reached (RFC 5626
// §5.3). Otherwise the proxy resolves Target, or follows Routes.
func (b *Binding) Direct() (effects.Peer, bool) {
	if !b.Outbound() || len(b.Path) > 0 {
		return effects.Peer{}, false
	}
	return b.Flow, true
}

// same reports whether o designates the same binding as b: for outbound
// registrations the same instance and reg-id (RFC 5626 §6: one binding per
// flow), otherwise Contact URIs equal by RFC 3261 §19.1.4.
func (b *Binding) same(o *Binding) bool {
	if b.Outbound() || o.Outbound() {
		return b.Instance == o.Instance && b.RegID == o.RegID
	}
	return uri.Equal(b.Contact.URI, o.Contact.URI)
}

// ContactAt returns the Contact to list for the binding at now: as
// registered, with expires set to the remaining seconds (RFC 3261 §10.3
// step 8).
func (b *Binding) ContactAt(now effects.Time) header.Contact {
	c := b.Contact
	c.Params = c.Params.Without("expires").With("expires", fmt.Sprint(b.RemainingSeconds(now)))
	return c
}

// Canonical returns the canonical form of an address of record (RFC 3261
// §10.3 step 5): scheme, user (escapes decoded, then written in one
// canonical escaped form), host in lower case (an IPv6 reference in its
// canonical text) and port; password, parameters and headers are dropped.
// Two AORs equal by §19.1.4 once their parameters are dropped have the same
// canonical form.
func Canonical(u uri.URI) (uri.URI, error) {
	if !u.IsSIP() || u.Host == "" {
		return uri.URI{}, fmt.Errorf("%w: %q", ErrAOR, u.String())
	}
	user, err := u.DecodedUser()
	if err != nil {
		return uri.URI{}, fmt.Errorf("%w: user part: %w", ErrAOR, err)
	}
	host := strings.ToLower(u.Host)
	if a, ok := u.Addr(); ok && a.Is6() {
		host = "[" + a.String() + "]"
	}
	return uri.URI{Scheme: u.Scheme, User: uri.EscapeUser(user), Host: host, Port: u.Port}, nil
}

// Key returns the text that indexes an address of record's bindings: its
// canonical form.
func Key(aor uri.URI) (string, error) {
	c, err := Canonical(aor)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}
