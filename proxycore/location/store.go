package location

import (
	"container/heap"
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/uri"
)

// Default bounds of a Store.
const (
	DefaultMaxAORs     = 1 << 20
	DefaultMaxBindings = 16
)

// Store is an in-memory location service with bounded size: at most MaxAORs
// addresses of record, each with at most MaxBindings bindings. Expiry is
// driven by the time each call passes: Lookup never returns an expired
// binding, and Expire releases expired bindings without any look-up, in
// order of expiry; NextExpiry says when to call it next (a driver sets a
// timer for it).
//
// The zero Store is ready to use. A Store is not safe for concurrent use.
type Store struct {
	// MaxAORs bounds the addresses of record; zero means DefaultMaxAORs.
	MaxAORs int
	// MaxBindings bounds the bindings of one address of record; zero
	// means DefaultMaxBindings.
	MaxBindings int

	recs  map[string]*record
	queue expiryQueue
	count int // bindings held
}

// record is the bindings of one address of record, kept sorted, with its
// place in the expiry queue (the earliest expiry among them).
type record struct {
	key      string
	bindings []Binding
	due      effects.Time
	index    int
}

func (s *Store) maxAORs() int {
	if s.MaxAORs > 0 {
		return s.MaxAORs
	}
	return DefaultMaxAORs
}

func (s *Store) maxBindings() int {
	if s.MaxBindings > 0 {
		return s.MaxBindings
	}
	return DefaultMaxBindings
}

// Lookup returns the bindings of aor that have not expired at now, sorted
// by q (highest first): a proxy's target set (RFC 3261 §16.5). The slice is
// the caller's.
func (s *Store) Lookup(now effects.Time, aor uri.URI) []Binding {
	key, err := Key(aor)
	if err != nil {
		return nil
	}
	return s.AppendKey(nil, now, key)
}

// AppendKey appends to dst the live bindings of the address of record
// whose Key is key, sorted as Lookup sorts them. A caller that keeps dst
// looks up without allocating.
func (s *Store) AppendKey(dst []Binding, now effects.Time, key string) []Binding {
	r := s.recs[key]
	if r == nil {
		return dst
	}
	for i := range r.bindings {
		if !r.bindings[i].Expired(now) {
			dst = append(dst, r.bindings[i])
		}
	}
	return dst
}

// Apply applies a REGISTER's update to the bindings of aor at now, all or
// nothing (see Merge), and returns the bindings that result. It fails with
// ErrOutOfOrder or ErrTooManyBindings as Merge does, and with ErrFull when
// aor has no bindings and MaxAORs others have (after expired ones were
// released).
func (s *Store) Apply(now effects.Time, aor uri.URI, u Update) ([]Binding, error) {
	key, err := Key(aor)
	if err != nil {
		return nil, err
	}
	r := s.recs[key]
	var cur []Binding
	if r != nil {
		cur = r.bindings
	}
	bs, err := Merge(now, cur, u, s.maxBindings())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if r == nil && len(bs) > 0 && len(s.recs) >= s.maxAORs() {
		s.Expire(now)
		if len(s.recs) >= s.maxAORs() {
			return nil, fmt.Errorf("%w: %d addresses of record", ErrFull, len(s.recs))
		}
	}
	s.set(key, r, bs)
	return append([]Binding(nil), bs...), nil
}

// set stores bs as the bindings of key (r its record, or nil).
func (s *Store) set(key string, r *record, bs []Binding) {
	if r != nil {
		s.count -= len(r.bindings)
	}
	s.count += len(bs)
	switch {
	case len(bs) == 0 && r != nil:
		heap.Remove(&s.queue, r.index)
		delete(s.recs, key)
	case len(bs) == 0:
	case r == nil:
		if s.recs == nil {
			s.recs = map[string]*record{}
		}
		r = &record{key: key, bindings: bs, due: earliest(bs)}
		s.recs[key] = r
		heap.Push(&s.queue, r)
	default:
		r.bindings, r.due = bs, earliest(bs)
		heap.Fix(&s.queue, r.index)
	}
}

func earliest(bs []Binding) effects.Time {
	t := bs[0].Expires
	for i := range bs[1:] {
		t = min(t, bs[i+1].Expires)
	}
	return t
}

// Expire releases every binding expired at now, and the addresses of
// record left without any, and returns how many bindings it released. It
// visits only the addresses of record with an expired binding.
func (s *Store) Expire(now effects.Time) int {
	n := 0
	for len(s.queue) > 0 && s.queue[0].due <= now {
		r := s.queue[0]
		live := r.bindings[:0]
		for _, b := range r.bindings {
			if !b.Expired(now) {
				live = append(live, b)
			}
		}
		n += len(r.bindings) - len(live)
		clear(r.bindings[len(live):])
		s.set(r.key, r, live)
	}
	return n
}

// NextExpiry returns when the next binding expires, and false when the
// store is empty: the time to call Expire next.
func (s *Store) NextExpiry() (effects.Time, bool) {
	if len(s.queue) == 0 {
		return 0, false
	}
	return s.queue[0].due, true
}

// Len returns the number of addresses of record held.
func (s *Store) Len() int { return len(s.recs) }

// Count returns the number of bindings held, expired ones not yet released
// included.
func (s *Store) Count() int { return s.count }

// expiryQueue is a min-heap of records by due time.
type expiryQueue []*record

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].due < q[j].due }
func (q expiryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

// Push adds a record (heap.Interface).
func (q *expiryQueue) Push(x any) {
	r := x.(*record)
	r.index = len(*q)
	*q = append(*q, r)
}

// Pop removes the last record (heap.Interface).
func (q *expiryQueue) Pop() any {
	old := *q
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return r
}
