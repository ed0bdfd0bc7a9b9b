package redisstore

import (
	"container/list"
	"sync"
	"time"

	"github.com/sansip/sansip/proxycore/location"
)

// cache holds the bindings of the addresses of record a Store read or
// wrote lately, each for at most ttl, at most size of them: the oldest
// goes when a new one comes. Entries carry a sequence number so that a
// look-up that read Redis before an Apply finished does not replace the
// Apply's fresher result.
type cache struct {
	ttl  time.Duration
	size int

	mu    sync.Mutex
	seq   uint64                   // bumped by every Apply
	m     map[string]*list.Element // of *entry
	order list.List                // of *entry, oldest stored first
}

// entry is the cached bindings of one address of record.
type entry struct {
	key   string
	bs    []location.Binding // never modified once stored
	at    time.Time          // when Redis held bs (monotonic clock)
	seq   uint64             // cache.seq when the read began
	valid bool               // false: the bindings are unknown
}

// newCache returns an empty cache of at most size entries, each served
// for ttl.
func newCache(ttl time.Duration, size int) *cache {
	return &cache{ttl: ttl, size: size, m: make(map[string]*list.Element)}
}

// ticket is what a look-up that missed the cache gives back to fill:
// the sequence number and time when it began to read Redis.
type ticket struct {
	seq uint64
	at  time.Time
}

// get returns the cached bindings of key (which the caller must not
// modify) when they are fresh; else ok is false and the ticket is to be
// given to fill with what Redis has.
func (c *cache) get(key string) (bs []location.Binding, ok bool, t ticket) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.m[key]; el != nil {
		e := el.Value.(*entry)
		if e.valid && now.Sub(e.at) < c.ttl {
			return e.bs, true, ticket{}
		}
	}
	return nil, false, ticket{seq: c.seq, at: now}
}

// fill caches bs, read from Redis by a look-up that had ticket t, unless
// an Apply stored a result or an invalidation since it began, or a later
// look-up filled the entry already.
func (c *cache) fill(key string, bs []location.Binding, t ticket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.m[key]; el != nil {
		e := el.Value.(*entry)
		if e.seq > t.seq || e.valid && e.at.After(t.at) {
			return
		}
	}
	c.put(key, bs, t.at, t.seq, true)
}

// set caches bs as the bindings of key that an Apply wrote, in a
// transaction it began at (Redis held bs then).
func (c *cache) set(key string, bs []location.Binding, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.put(key, bs, at, c.seq, true)
}

// invalidate forgets the bindings of key: an Apply failed without
// knowing whether Redis applied it. Look-ups that began before do not
// cache what they read.
func (c *cache) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.put(key, nil, time.Now(), c.seq, false)
}

// put stores an entry, the newest, and makes room for it: it releases
// the entries too old to serve, oldest first, and the oldest ones beyond
// size.
func (c *cache) put(key string, bs []location.Binding, at time.Time, seq uint64, valid bool) {
	if el := c.m[key]; el != nil {
		e := el.Value.(*entry)
		e.bs, e.at, e.seq, e.valid = bs, at, seq, valid
		c.order.MoveToBack(el)
	} else {
		c.m[key] = c.order.PushBack(&entry{key: key, bs: bs, at: at, seq: seq, valid: valid})
	}
	now := time.Now()
	for c.order.Len() > 1 {
		front := c.order.Front()
		e := front.Value.(*entry)
		if c.order.Len() <= c.size && now.Sub(e.at) < c.ttl {
			break
		}
		c.order.Remove(front)
		delete(c.m, e.key)
	}
}

// len returns the number of entries, for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
