package registrar

import (
	"fmt"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// Memory is a Registrar whose questions are answered from memory, at once:
// credentials from Users, bindings from a location.Store. Its Handle
// returns only what the owner must carry out: RegistrarResponse events,
// and, with Timer set, the timer that releases expired bindings.
//
//	m, _ := registrar.NewMemory(cfg, &location.Store{}, map[string]string{"bob": "zanzibar"})
//	out, err = m.Handle(now, txnID, req, from, out[:0])
type Memory struct {
	// Registrar is the core.
	Registrar *Registrar
	// Store holds the bindings.
	Store *location.Store
	// Shared, when set, is used for the bindings' look-ups and updates
	// instead of Store: a store several registrars share (each event loop
	// of a server has its own Registrar), guarded by its owner. Expiry
	// (Timer) then stays the owner's too.
	Shared Bindings
	// Users returns the credentials of a user in a realm, and false if
	// there is no such user. Hashed user names (RFC 7616 §3.4.4) arrive
	// as they are; NewMemory's map does not know them.
	Users func(username, realm string) (digest.Credentials, bool)
	// Timer, when not zero, is the id of a timer that Memory asks for
	// (effects.SetTimer) at the next expiry of a binding; feed its firing
	// to Expire.
	Timer effects.TimerID

	armed bool
	at    effects.Time
}

// GRUUs returns the keys of the GRUUs the registrar assigns
// (Registrar.GRUUs), for a proxy that embeds it.
func (m *Memory) GRUUs() *gruu.Keys { return m.Registrar.GRUUs() }

// NewMemory returns a Memory with a new Registrar for cfg, the bindings in
// store, and users' passwords by user name.
func NewMemory(cfg Config, store *location.Store, users map[string]string) (*Memory, error) {
	r, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("%w: Memory needs a Store", ErrConfig)
	}
	return newMemory(r, store, users), nil
}

// NewShared returns a Memory with a new Registrar for cfg whose bindings
// are in a store several registrars share (see Memory.Shared).
func NewShared(cfg Config, shared Bindings, users map[string]string) (*Memory, error) {
	r, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if shared == nil {
		return nil, fmt.Errorf("%w: NewShared needs a store", ErrConfig)
	}
	m := newMemory(r, nil, users)
	m.Shared = shared
	return m, nil
}

func newMemory(r *Registrar, store *location.Store, users map[string]string) *Memory {
	lookup := func(name, _ string) (digest.Credentials, bool) {
		pw, ok := users[name]
		return digest.Credentials{Username: name, Password: pw}, ok
	}
	return &Memory{Registrar: r, Store: store, Users: lookup}
}

// Bindings is a location store as a registrar uses it.
type Bindings interface {
	Lookup(now effects.Time, aor uri.URI) []location.Binding
	Apply(now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error)
}

func (m *Memory) bindings() Bindings {
	if m.Shared != nil {
		return m.Shared
	}
	return m.Store
}

// Handle processes a REGISTER like Registrar.Handle, answering its
// questions at once.
func (m *Memory) Handle(now effects.Time, id uint64, req *message.Message, from effects.Peer, out []effects.Effect) ([]effects.Effect, error) {
	start := len(out)
	out, err := m.Registrar.Handle(now, id, req, from, out)
	if err != nil {
		return out, err
	}
	return m.arm(now, m.answer(now, start, out)), nil
}

// answer answers the questions among out[start:], and those the answers
// raise, and removes them from out.
func (m *Memory) answer(now effects.Time, start int, out []effects.Effect) []effects.Effect {
	for i := start; i < len(out); {
		e := out[i]
		if e.Kind != effects.Deliver || !question(e.Event.Kind) {
			i++
			continue
		}
		out = append(out[:i], out[i+1:]...)
		out = m.reply(now, e.Event, out)
	}
	return out
}

func question(k effects.EventKind) bool {
	return k == effects.RegistrarCredentials || k == effects.RegistrarLoad || k == effects.RegistrarStore
}

// reply answers one question, appending what follows to out.
func (m *Memory) reply(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	p, ok := m.Registrar.Pending(ev.ID)
	if !ok {
		return out
	}
	switch ev.Kind {
	case effects.RegistrarCredentials:
		c, found := m.Users(p.Username, p.Realm)
		out, _ = m.Registrar.Credentials(now, ev.ID, c, found, out)
	case effects.RegistrarLoad:
		out, _ = m.Registrar.Bindings(now, ev.ID, m.bindings().Lookup(now, p.AOR), nil, out)
	case effects.RegistrarStore:
		_, err := m.bindings().Apply(now, p.AOR, p.Update)
		out, _ = m.Registrar.Stored(now, ev.ID, err, out)
	}
	return out
}

// Lookup returns the live bindings of aor, sorted by q: a proxy's target
// set. aor may be a Request-URI: it is named as the registrar stores it
// (Registrar.AOR: a served domain on the server's own port is the domain).
func (m *Memory) Lookup(now effects.Time, aor uri.URI) []location.Binding {
	return m.bindings().Lookup(now, m.Registrar.bare(aor))
}

// Expire releases the bindings expired at now (call it when Timer fires)
// and asks for the timer again if bindings are left.
func (m *Memory) Expire(now effects.Time, out []effects.Effect) []effects.Effect {
	m.armed = false
	if m.Store == nil {
		return out // a shared store: expiry is its owner's
	}
	m.Store.Expire(now)
	return m.arm(now, out)
}

// arm keeps Timer set for the store's next expiry.
func (m *Memory) arm(now effects.Time, out []effects.Effect) []effects.Effect {
	if m.Timer == 0 {
		return out
	}
	next, ok := m.Store.NextExpiry()
	if m.armed && (!ok || next != m.at) {
		out = append(out, effects.Effect{Kind: effects.CancelTimer, Timer: m.Timer})
		m.armed = false
	}
	if ok && !m.armed {
		m.armed, m.at = true, next
		out = append(out, effects.Effect{Kind: effects.SetTimer, Timer: m.Timer, After: max(0, next.Sub(now))})
	}
	return out
}

// Serves reports whether the registrar serves REGISTERs for u.
func (m *Memory) Serves(u uri.URI) bool { return m.Registrar.Serves(u) }

// Fires reports whether id is the Memory's expiry timer, whose firing goes
// to Expire.
func (m *Memory) Fires(id effects.TimerID) bool { return m.Timer != 0 && id == m.Timer }
