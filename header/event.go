package header

import (
	"github.com/sansip/sansip/internal/abnf"
)

// Event is the Event header field (RFC 6665 §8.2.1): an event-type,
// event-package *( "." event-template ), with event-params such as id.
type Event struct {
	// Type is the event-type as written: "presence", "dialog",
	// "presence.winfo".
	Type   string
	Params Params
}

// HeaderName returns "Event".
func (Event) HeaderName() string { return "Event" }

// validEventType reports whether s is token-nodot *( "." token-nodot ).
func validEventType(s string) bool {
	if !abnf.IsToken(s) || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

// Parse parses an Event value.
func (e *Event) Parse(s string) error {
	const h = "Event"
	*e = Event{}
	t, p, err := parseTokenParams(h, s)
	if err != nil {
		return err
	}
	if !validEventType(t) {
		return errAt(h, abnf.SkipLWS(s, 0), ErrSyntax)
	}
	e.Type, e.Params = t, p
	return nil
}

// AppendTo appends "type;params".
func (e Event) AppendTo(b []byte) []byte {
	b = append(b, e.Type...)
	return append(b, e.Params...)
}

// Package returns the event package: the event-type up to its first '.'.
func (e Event) Package() string {
	for i := 0; i < len(e.Type); i++ {
		if e.Type[i] == '.' {
			return e.Type[:i]
		}
	}
	return e.Type
}

// Templates returns the event templates after the package, "winfo" for
// "presence.winfo", or "".
func (e Event) Templates() string {
	for i := 0; i < len(e.Type); i++ {
		if e.Type[i] == '.' {
			return e.Type[i+1:]
		}
	}
	return ""
}

// ID returns the id parameter, which tells subscriptions of one dialog
// apart (RFC 6665 §8.2.1), or "".
func (e Event) ID() string {
	v, _ := e.Params.Get("id")
	return v
}

// Matches reports whether e and o name the same subscription: the same
// event-type, byte for byte, and the same id parameter, or none on both
// (RFC 6665 §4.4.1).
func (e Event) Matches(o Event) bool {
	a, aok := e.Params.Get("id")
	b, bok := o.Params.Get("id")
	return e.Type == o.Type && aok == bok && a == b
}

// Subscription states (RFC 6665 §8.2.3).
const (
	SubStateActive     = "active"
	SubStatePending    = "pending"
	SubStateTerminated = "terminated"
)

// SubscriptionState is the Subscription-State header field (RFC 6665
// §8.2.3): substate-value *( SEMI subexp-params ), with the reason,
// expires and retry-after parameters.
type SubscriptionState struct {
	// State is the substate-value as written: "active", "pending",
	// "terminated" or an extension token.
	State  string
	Params Params
}

// HeaderName returns "Subscription-State".
func (SubscriptionState) HeaderName() string { return "Subscription-State" }

// Parse parses a Subscription-State value.
func (v *SubscriptionState) Parse(s string) error {
	t, p, err := parseTokenParams("Subscription-State", s)
	*v = SubscriptionState{}
	if err == nil {
		v.State, v.Params = t, p
	}
	return err
}

// AppendTo appends "state;params".
func (v SubscriptionState) AppendTo(b []byte) []byte {
	b = append(b, v.State...)
	return append(b, v.Params...)
}

// Is reports whether the state is state (SubStateActive, ...), compared
// case-insensitively.
func (v SubscriptionState) Is(state string) bool { return abnf.EqualFold(v.State, state) }

// Expires returns the expires parameter and whether it is present and a
// valid delta-seconds.
func (v SubscriptionState) Expires() (uint32, bool) {
	n, ok := paramUint(v.Params, "expires", 1<<32-1)
	return uint32(n), ok
}

// RetryAfter returns the retry-after parameter and whether it is present
// and a valid delta-seconds.
func (v SubscriptionState) RetryAfter() (uint32, bool) {
	n, ok := paramUint(v.Params, "retry-after", 1<<32-1)
	return uint32(n), ok
}

// Reason returns the reason parameter ("deactivated", "probation",
// "rejected", "timeout", "giveup", "noresource", "invariant" or another
// token), or "".
func (v SubscriptionState) Reason() string {
	r, _ := v.Params.Get("reason")
	return r
}

// Replaces is the Replaces header field (RFC 3891 §6.1): the dialog that a
// new INVITE replaces, callid *( SEMI replaces-param ) with to-tag,
// from-tag and early-only.
type Replaces struct {
	CallID string
	Params Params
}

// HeaderName returns "Replaces".
func (Replaces) HeaderName() string { return "Replaces" }

// Parse parses a Replaces value.
func (r *Replaces) Parse(s string) error {
	c, p, err := parseCallIDParams("Replaces", s)
	*r = Replaces{}
	if err == nil {
		r.CallID, r.Params = c, p
	}
	return err
}

// AppendTo appends "callid;params".
func (r Replaces) AppendTo(b []byte) []byte {
	b = append(b, r.CallID...)
	return append(b, r.Params...)
}

// ToTag returns the to-tag parameter.
func (r Replaces) ToTag() string {
	v, _ := r.Params.Get("to-tag")
	return v
}

// FromTag returns the from-tag parameter.
func (r Replaces) FromTag() string {
	v, _ := r.Params.Get("from-tag")
	return v
}

// EarlyOnly reports whether the early-only flag is present: only an early
// dialog may be replaced.
func (r Replaces) EarlyOnly() bool { return r.Params.Has("early-only") }

// TargetDialog is the Target-Dialog header field (RFC 4538): a dialog that
// the request relates to, callid *( SEMI td-param ) with remote-tag and
// local-tag.
type TargetDialog struct {
	CallID string
	Params Params
}

// HeaderName returns "Target-Dialog".
func (TargetDialog) HeaderName() string { return "Target-Dialog" }

// Parse parses a Target-Dialog value.
func (t *TargetDialog) Parse(s string) error {
	c, p, err := parseCallIDParams("Target-Dialog", s)
	*t = TargetDialog{}
	if err == nil {
		t.CallID, t.Params = c, p
	}
	return err
}

// AppendTo appends "callid;params".
func (t TargetDialog) AppendTo(b []byte) []byte {
	b = append(b, t.CallID...)
	return append(b, t.Params...)
}

// RemoteTag returns the remote-tag parameter.
func (t TargetDialog) RemoteTag() string {
	v, _ := t.Params.Get("remote-tag")
	return v
}

// LocalTag returns the local-tag parameter.
func (t TargetDialog) LocalTag() string {
	v, _ := t.Params.Get("local-tag")
	return v
}
