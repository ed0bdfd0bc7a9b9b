package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long Open waits for the file's lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Format is the format marker Open writes into a new file and expects in
// an existing one.
const Format = "sansip-location/1"

// Errors of Open, matchable with errors.Is.
var (
	// ErrLocked: another Store (in this process or another) holds the
	// file open. The error also wraps bbolt's ErrTimeout.
	ErrLocked = errors.New("boltstore: file in use")
	// ErrFormat: the file is a bbolt file that was not written by this
	// package, or by a version of it with another format.
	ErrFormat = errors.New("boltstore: unknown file format")
)

// Bucket and key names.
var (
	bucketBindings = []byte("bindings")
	bucketExpiry   = []byte("expiry")
	bucketMeta     = []byte("meta")
	keyFormat      = []byte("format")
	keyAORs        = []byte("aors")
	keyBindings    = []byte("bindings")
)

// expireBatch bounds the addresses of record one expiry transaction
// visits.
const expireBatch = 1024

// Options tune a Store. The zero Options are the defaults.
type Options struct {
	// MaxBindings bounds the bindings of one address of record; zero
	// means location.DefaultMaxBindings.
	MaxBindings int
	// MaxAORs bounds the addresses of record; zero means
	// location.DefaultMaxAORs.
	MaxAORs int
	// Timeout bounds the wait for the file's lock in Open; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// NoSync skips the fsync of every commit: much faster, but a crash of
	// the machine may lose acknowledged registrations or corrupt the file.
	// For tests and benchmarks only.
	NoSync bool
}

// Store is a location service kept in a bbolt file. It is safe for
// concurrent use. Its zero value is not usable; call Open.
type Store struct {
	db          *bbolt.DB
	maxBindings int
	maxAORs     int
	group       group
}

// Open opens the store in the file at path, creating the file and its
// directory when they do not exist.
func Open(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("boltstore: no file name")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: %w", err)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoSync: o.NoSync, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s: lock not obtained within %v: %w", ErrLocked, path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: %s: %w", path, err)
	}
	s := &Store{db: db, maxBindings: o.MaxBindings, maxAORs: o.MaxAORs}
	if s.maxBindings <= 0 {
		s.maxBindings = location.DefaultMaxBindings
	}
	if s.maxAORs <= 0 {
		s.maxAORs = location.DefaultMaxAORs
	}
	if err := db.Update(initialise); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: %s: %w", path, err)
	}
	return s, nil
}

// initialise creates the buckets of a new file, checks the format of an
// existing one, and counts the bindings when the counters are missing.
func initialise(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil && tx.Bucket(bucketBindings) == nil && tx.Bucket(bucketExpiry) == nil {
		if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			return fmt.Errorf("%w: bucket %q", ErrFormat, name)
		}); err != nil {
			return err
		}
	}
	var err error
	if meta, err = tx.CreateBucketIfNotExists(bucketMeta); err != nil {
		return err
	}
	switch f := meta.Get(keyFormat); {
	case f == nil:
		if err := meta.Put(keyFormat, []byte(Format)); err != nil {
			return err
		}
	case string(f) != Format:
		return fmt.Errorf("%w: %q, want %q", ErrFormat, f, Format)
	}
	bs, err := tx.CreateBucketIfNotExists(bucketBindings)
	if err != nil {
		return err
	}
	if _, err := tx.CreateBucketIfNotExists(bucketExpiry); err != nil {
		return err
	}
	if meta.Get(keyAORs) != nil && meta.Get(keyBindings) != nil {
		return nil
	}
	var c counts
	if err := bs.ForEach(func(_, v []byte) error {
		c.aors++
		if stored, err := location.Unmarshal(v); err == nil {
			c.bindings += len(stored)
		}
		return nil
	}); err != nil {
		return err
	}
	return c.write(meta)
}

// Close closes the file, once the transactions in progress have ended.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	return nil
}

// Path returns the name of the file.
func (s *Store) Path() string { return s.db.Path() }

// Lookup returns the bindings of aor that have not expired at now, sorted
// by q (highest first, see location.Sort). A URI that cannot be an address
// of record (see location.Canonical) has none, as in location.Store.
func (s *Store) Lookup(ctx context.Context, now effects.Time, aor uri.URI) ([]location.Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: lookup: %w", err)
	}
	key, err := location.Key(aor)
	if err != nil {
		return nil, nil
	}
	var out []location.Binding
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketBindings).Get([]byte(key))
		if v == nil {
			return nil
		}
		bs, err := decode(key, v)
		if err != nil {
			return err
		}
		out = live(now, bs)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: lookup: %w", err)
	}
	return out, nil
}

// Apply applies a REGISTER's update to the bindings of aor at now, all or
// nothing (see location.Merge), and returns the bindings that result,
// once they are committed to the file. It fails with
// location.ErrOutOfOrder or location.ErrTooManyBindings as Merge does,
// and with location.ErrFull when aor has no bindings and MaxAORs others
// have (after expired ones were released). The contacts are stored with
// the canonical aor as their AOR.
func (s *Store) Apply(ctx context.Context, now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: apply: %w", err)
	}
	canon, err := location.Canonical(aor)
	if err != nil {
		return nil, fmt.Errorf("boltstore: apply: %w", err)
	}
	key := canon.String()
	if len(key)+8 > bbolt.MaxKeySize {
		return nil, fmt.Errorf("boltstore: apply: %w: %d bytes long", location.ErrAOR, len(key))
	}
	u.Contacts = slices.Clone(u.Contacts)
	for i := range u.Contacts {
		u.Contacts[i].AOR = canon
	}
	// fn may run more than once (a group transaction in which another
	// call failed is run again without it): each run starts afresh and
	// the last one's result is the committed one. A refusal (out of
	// order, too many, full, a value that does not decode) is found
	// before anything is written, so it is returned through refused
	// rather than failing the transaction, which would make the group run
	// again.
	var (
		result  []location.Binding
		refused error
	)
	fn := func(tx *bbolt.Tx) error {
		var err error
		result, refused, err = s.apply(tx, now, key, u)
		return err
	}
	if err := s.update(fn); err != nil {
		return nil, fmt.Errorf("boltstore: apply %s: %w", key, err)
	}
	if refused != nil {
		return nil, refused
	}
	return result, nil
}

// apply is Apply's transaction: it returns the bindings that result, or
// the reason the update is refused, or an error that must roll the
// transaction back.
func (s *Store) apply(tx *bbolt.Tx, now effects.Time, key string, u location.Update) (bs []location.Binding, refused, err error) {
	b, idx, meta := tx.Bucket(bucketBindings), tx.Bucket(bucketExpiry), tx.Bucket(bucketMeta)
	k := []byte(key)
	old := b.Get(k)
	var cur []location.Binding
	if old != nil {
		if cur, err = decode(key, old); err != nil {
			return nil, fmt.Errorf("boltstore: apply: %w", err), nil
		}
	}
	if bs, err = location.Merge(now, cur, u, s.maxBindings); err != nil {
		return nil, fmt.Errorf("boltstore: %s: %w", key, err), nil
	}
	c := readCounts(meta)
	if old == nil && len(bs) > 0 && c.aors >= s.maxAORs {
		if _, err := expire(tx, now, expireBatch); err != nil {
			return nil, nil, err
		}
		if c = readCounts(meta); c.aors >= s.maxAORs {
			return nil, fmt.Errorf("boltstore: %s: %w: %d addresses of record", key, location.ErrFull, c.aors), nil
		}
	}
	var v []byte
	if len(bs) > 0 {
		if v, err = location.Marshal(bs); err != nil {
			return nil, nil, err
		}
		if bytes.Equal(v, old) {
			return bs, nil, nil
		}
	}
	// Nothing was written before this point but the release of expired
	// bindings, which stands on its own: a refusal leaves the transaction
	// consistent.
	if len(cur) > 0 {
		if err := idx.Delete(dueKey(earliest(cur), key)); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case len(bs) > 0:
		if err := b.Put(k, v); err != nil {
			return nil, nil, err
		}
		if err := idx.Put(dueKey(earliest(bs), key), []byte{}); err != nil {
			return nil, nil, err
		}
		if old == nil {
			c.aors++
		}
	case old != nil:
		if err := b.Delete(k); err != nil {
			return nil, nil, err
		}
		c.aors--
	}
	c.bindings += len(bs) - len(cur)
	return bs, nil, c.write(meta)
}

// group is the group commit of Apply's transactions: the Applies that
// arrive while a transaction commits wait, and the next transaction runs
// them all, sharing its fsync. An Apply alone commits at once.
type group struct {
	mu    sync.Mutex
	queue []*call // waiting for the next transaction
	busy  bool    // a transaction is being committed, or about to be
}

// call is one Apply waiting in the group.
type call struct {
	fn   func(*bbolt.Tx) error
	done chan error // its result, or errLead
}

// errLead tells a waiting call to commit the queue.
var errLead = errors.New("boltstore: lead the next transaction")

// update runs fn in a write transaction shared with the other Applies
// waiting, and returns when it is committed. Like bbolt's DB.Batch, which
// it replaces to add no delay to an Apply alone, it may run fn more than
// once: a transaction in which a call fails is run again without it, and
// the failed call alone.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	g := &s.group
	c := &call{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		if err := <-c.done; err != errLead {
			return err
		}
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	s.commit(batch)
	// Hand over to the first call that arrived meanwhile, so that this
	// one returns at once.
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- errLead
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return <-c.done
}

// commit runs the calls in one write transaction, and gives each its
// result.
func (s *Store) commit(batch []*call) {
	for len(batch) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for i, c := range batch {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.done <- err
			}
			return
		}
		c := batch[failed]
		c.done <- s.db.Update(c.fn)
		batch = slices.Delete(batch, failed, failed+1)
	}
}

// Expire releases every binding expired at now, and the addresses of
// record left without any. It visits only the addresses of record with an
// expired binding, in write transactions of a bounded size. An error (the
// store closed, the disk full) stops it; the next call carries on.
func (s *Store) Expire(now effects.Time) {
	s.expire(now)
}

// expire is Expire, returning the bindings released and the error that
// stopped it.
func (s *Store) expire(now effects.Time) (released int, err error) {
	for {
		var r expired
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var err error
			r, err = expire(tx, now, expireBatch)
			return err
		})
		if err != nil {
			return released, fmt.Errorf("boltstore: expire: %w", err)
		}
		released += r.bindings
		if !r.more {
			return released, nil
		}
	}
}

// expired is what one expiry transaction did.
type expired struct {
	bindings int  // bindings released
	more     bool // stopped at the limit before reaching now
}

// expire releases, in tx, the bindings expired at now of at most limit
// addresses of record, earliest first.
func expire(tx *bbolt.Tx, now effects.Time, limit int) (expired, error) {
	b, idx, meta := tx.Bucket(bucketBindings), tx.Bucket(bucketExpiry), tx.Bucket(bucketMeta)
	var (
		due [][]byte
		r   expired
	)
	cur := idx.Cursor()
	for k, _ := cur.First(); k != nil && dueOf(k) <= now; k, _ = cur.Next() {
		if len(due) == limit {
			r.more = true
			break
		}
		due = append(due, bytes.Clone(k))
	}
	if len(due) == 0 {
		return r, nil
	}
	c := readCounts(meta)
	for _, k := range due {
		if err := idx.Delete(k); err != nil {
			return r, err
		}
		if len(k) <= 8 {
			continue
		}
		key := k[8:]
		v := b.Get(key)
		if v == nil {
			continue
		}
		bs, err := location.Unmarshal(v)
		if err != nil {
			// Left for an operator; Lookup and Apply report it.
			continue
		}
		keep := live(now, bs)
		r.bindings += len(bs) - len(keep)
		c.bindings -= len(bs) - len(keep)
		if len(keep) == 0 {
			if err := b.Delete(key); err != nil {
				return r, err
			}
			c.aors--
			continue
		}
		if len(keep) < len(bs) {
			v, err := location.Marshal(keep)
			if err != nil {
				return r, err
			}
			if err := b.Put(key, v); err != nil {
				return r, err
			}
		}
		if err := idx.Put(dueKey(earliest(keep), string(key)), []byte{}); err != nil {
			return r, err
		}
	}
	return r, c.write(meta)
}

// Counts returns the number of addresses of record and of bindings held,
// expired bindings not yet released by Expire included (as
// location.Store's Count), or zeros when the store cannot be read.
func (s *Store) Counts() (aors, bindings int) {
	var c counts
	if err := s.db.View(func(tx *bbolt.Tx) error {
		c = readCounts(tx.Bucket(bucketMeta))
		return nil
	}); err != nil {
		return 0, 0
	}
	return c.aors, c.bindings
}

// counts are the counters kept in the meta bucket.
type counts struct{ aors, bindings int }

func readCounts(meta *bbolt.Bucket) counts {
	return counts{aors: readInt(meta.Get(keyAORs)), bindings: readInt(meta.Get(keyBindings))}
}

func readInt(v []byte) int {
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func (c counts) write(meta *bbolt.Bucket) error {
	if c != readCounts(meta) || meta.Get(keyAORs) == nil || meta.Get(keyBindings) == nil {
		if err := meta.Put(keyAORs, binary.BigEndian.AppendUint64(nil, uint64(max(c.aors, 0)))); err != nil {
			return err
		}
		if err := meta.Put(keyBindings, binary.BigEndian.AppendUint64(nil, uint64(max(c.bindings, 0)))); err != nil {
			return err
		}
	}
	return nil
}

// decode reads the stored bindings of key.
func decode(key string, v []byte) ([]location.Binding, error) {
	bs, err := location.Unmarshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return bs, nil
}

// live returns the bindings of bs not expired at now, sorted; nil when
// there are none.
func live(now effects.Time, bs []location.Binding) []location.Binding {
	out := bs[:0]
	for i := range bs {
		if !bs[i].Expired(now) {
			out = append(out, bs[i])
		}
	}
	if len(out) == 0 {
		return nil
	}
	clear(bs[len(out):])
	location.Sort(out)
	return out
}

// earliest returns the earliest expiry among bs, which is not empty.
func earliest(bs []location.Binding) effects.Time {
	t := bs[0].Expires
	for i := range bs[1:] {
		t = min(t, bs[i+1].Expires)
	}
	return t
}

// dueKey returns the expiry index's key for key due at t: t as 8 bytes
// whose byte order is the order of times (the sign bit flipped), then
// key.
func dueKey(t effects.Time, key string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(key)), uint64(t)^1<<63)
	return append(k, key...)
}

// dueOf returns the time of an expiry index key.
func dueOf(k []byte) effects.Time {
	if len(k) < 8 {
		return effects.Time(-1 << 63)
	}
	return effects.Time(binary.BigEndian.Uint64(k) ^ 1<<63)
}
