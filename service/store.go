package service

import (
	"context"
	"sync"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// Store is the location service's storage: the registrar reads and
// updates the bindings of an address of record through it, and the
// default route looks them up. The service answers the cores' questions
// (the registrar's RegistrarLoad and RegistrarStore, the proxy's
// ProxyRequest) with it: on the shard when the Store says it is
// Immediate, else on a worker goroutine, the answer going back to the
// shard, so that a database's latency never blocks a shard.
//
// Times are wall-clock: now, and the Expires and Updated of every binding
// a Store is given or returns, count nanoseconds since the Unix epoch
// (time.Time.UnixNano as an effects.Time), so that a store that outlives
// the process (a file, Redis) or is shared by several nodes keeps times
// that mean the same after a restart and on every node: the runtime's
// clock (loop.Runtime.Now) is that wall clock. Apply merges the
// update with location.Merge's rules (RFC 3261 §10.3 step 7) atomically
// per address of record, and returns the bindings after it, or
// location.ErrOutOfOrder, ErrTooManyBindings, ErrFull or any other error
// (answered 500).
type Store interface {
	Lookup(ctx context.Context, now effects.Time, aor uri.URI) ([]location.Binding, error)
	Apply(ctx context.Context, now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error)
}

// Immediate is implemented by a Store or Credentials that answers at once
// without blocking (memory): the service calls it on the shard.
type Immediate interface {
	Immediate() bool
}

// Expirer is implemented by a Store whose expired bindings the service
// releases every few seconds.
type Expirer interface {
	Expire(now effects.Time)
}

// Counter is implemented by a Store that can count its addresses of
// record and bindings, for the metrics.
type Counter interface {
	Counts() (aors, bindings int)
}

// lookup asks the store for the bindings of aor now (the runtime's clock
// is the wall clock a Store keeps: loop.Runtime.Now).
func (s *Service) lookup(ctx context.Context, aor uri.URI) ([]location.Binding, error) {
	return s.store.Lookup(ctx, s.rt.Now(), aor)
}

// apply gives the store an update the registrar made now.
func (s *Service) apply(ctx context.Context, aor uri.URI, u location.Update) ([]location.Binding, error) {
	return s.store.Apply(ctx, s.rt.Now(), aor, u)
}

// immediate reports whether x answers at once.
func immediate(x any) bool {
	i, ok := x.(Immediate)
	return ok && i.Immediate()
}

// MemoryStore is a Store in memory: a location.Store behind a mutex, which
// the shards share. Its zero value is not usable; call NewMemoryStore.
type MemoryStore struct {
	mu    sync.Mutex
	store location.Store
}

// NewMemoryStore returns an empty MemoryStore with location.Store's
// default bounds.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Immediate reports true: a MemoryStore answers at once.
func (m *MemoryStore) Immediate() bool { return true }

// Lookup returns the live bindings of aor, sorted by q.
func (m *MemoryStore) Lookup(_ context.Context, now effects.Time, aor uri.URI) ([]location.Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.store.Lookup(now, aor), nil
}

// Apply applies an update to the bindings of aor.
func (m *MemoryStore) Apply(_ context.Context, now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.store.Apply(now, aor, u)
}

// Expire releases the bindings expired at now.
func (m *MemoryStore) Expire(now effects.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.store.Expire(now)
}

// Counts returns the number of addresses of record and of bindings.
func (m *MemoryStore) Counts() (aors, bindings int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.store.Len(), m.store.Count()
}

// Credentials looks up a user's digest credentials in a realm, for the
// registrar (RFC 3261 §22.4): found false for an unknown user (challenged
// again, like a wrong password, so that user names cannot be probed), an
// error when the look-up failed.
type Credentials interface {
	Credentials(ctx context.Context, user, realm string) (c digest.Credentials, found bool, err error)
}

// CredentialsFunc is a function that is a Credentials.
type CredentialsFunc func(ctx context.Context, user, realm string) (digest.Credentials, bool, error)

// Credentials calls f.
func (f CredentialsFunc) Credentials(ctx context.Context, user, realm string) (digest.Credentials, bool, error) {
	return f(ctx, user, realm)
}

// Users is a Credentials in memory: passwords by user name, for every
// realm.
type Users map[string]string

// Immediate reports true: Users answers at once.
func (u Users) Immediate() bool { return true }

// Credentials returns the user's password.
func (u Users) Credentials(_ context.Context, user, _ string) (digest.Credentials, bool, error) {
	pw, ok := u[user]
	return digest.Credentials{Username: user, Password: pw}, ok, nil
}
