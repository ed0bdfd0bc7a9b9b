package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// ErrUnavailable is wrapped by the errors of a Store that could not reach
// Redis, or did not get its answer within Options.Timeout, or found it
// unable to serve (loading its data, a read-only replica): the caller may
// try again later (a registrar or proxy answers 503 with Retry-After).
var ErrUnavailable = errors.New("redisstore: location service unavailable")

// Defaults of Options.
const (
	// DefaultAddr is the Redis of a zero Options.Addr.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultPrefix begins the keys when Options.Prefix is empty.
	DefaultPrefix = "sansip:"
	// DefaultTimeout bounds an operation when Options.Timeout is zero.
	DefaultTimeout = time.Second
	// DefaultCacheTTL bounds the staleness of a cached look-up when
	// Options.CacheTTL is zero.
	DefaultCacheTTL = time.Second
	// DefaultCacheSize bounds the addresses of record cached when
	// Options.CacheSize is not positive.
	DefaultCacheSize = 16384
)

// maxAttempts bounds the attempts of one Apply that other nodes keep
// interrupting (WATCH saw the key change); Options.Timeout bounds them
// too.
const maxAttempts = 32

// Options configure a Store. The zero value is usable: a Redis on
// 127.0.0.1:6379, database 0, and the defaults below.
type Options struct {
	// Addr is Redis's host:port; empty means DefaultAddr.
	Addr string
	// Password authenticates to Redis (AUTH), when not empty.
	Password string
	// DB is the Redis database number (SELECT).
	DB int
	// Prefix begins every key the Store uses, so that several
	// deployments (or tests) share one Redis; empty means DefaultPrefix.
	Prefix string
	// Timeout bounds every operation (connecting, waiting for a pooled
	// connection, the round trips and an Apply's retries); past it the
	// operation fails with ErrUnavailable. Zero means DefaultTimeout.
	Timeout time.Duration
	// CacheTTL bounds how stale a look-up answered from the Store's cache
	// may be: how late a node sees an update made through another node.
	// Zero means DefaultCacheTTL; a negative value disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the addresses of record cached; zero or less
	// means DefaultCacheSize.
	CacheSize int
	// MaxBindings bounds the bindings of one address of record; zero or
	// less means location.DefaultMaxBindings.
	MaxBindings int
	// PoolSize is the number of connections to Redis kept for reuse
	// (go-redis's PoolSize); zero means go-redis's default, 10 per
	// GOMAXPROCS.
	PoolSize int
}

// Store is a service.Store kept in Redis, safe for concurrent use; see
// the package documentation. Create it with New.
type Store struct {
	rdb         *redis.Client
	prefix      string
	timeout     time.Duration
	maxBindings int
	cache       *cache // nil when disabled
}

// New returns a Store for the Redis that o names. It does not connect:
// a Store made while Redis is down fails its operations with
// ErrUnavailable until Redis answers. New fails only for invalid
// options.
func New(o Options) (*Store, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return nil, fmt.Errorf("redisstore: address %q: %w", o.Addr, err)
	}
	if o.DB < 0 {
		return nil, fmt.Errorf("redisstore: database %d", o.DB)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: timeout %v", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MaxBindings <= 0 {
		o.MaxBindings = location.DefaultMaxBindings
	}
	s := &Store{
		rdb: redis.NewClient(&redis.Options{
			Addr:     o.Addr,
			Password: o.Password,
			DB:       o.DB,
			PoolSize: o.PoolSize,
			// Every wait is bounded by Timeout, and the operation's
			// context (ContextTimeoutEnabled) by what is left of it.
			DialTimeout:           o.Timeout,
			ReadTimeout:           o.Timeout,
			WriteTimeout:          o.Timeout,
			PoolTimeout:           o.Timeout,
			ContextTimeoutEnabled: true,
			// No retries inside go-redis: re-sending a MULTI/EXEC whose
			// answer was lost is not safe under WATCH, a refused dial is
			// not worth repeating within Timeout, and the caller's
			// client retries (503 with Retry-After).
			MaxRetries:    -1,
			DialerRetries: 1,
			// Plain Redis: no CLIENT SETINFO nor maintenance
			// notifications on every new connection.
			DisableIdentity:          true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		}),
		prefix:      o.Prefix,
		timeout:     o.Timeout,
		maxBindings: o.MaxBindings,
	}
	if o.CacheTTL > 0 {
		s.cache = newCache(o.CacheTTL, o.CacheSize)
	}
	return s, nil
}

// Close closes the connections to Redis; the Store fails every operation
// afterwards.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers, within Options.Timeout: nil, or an
// error wrapping ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return classify("ping", "", err)
	}
	return nil
}

// Key returns the Redis key of aor's bindings: the Store's prefix,
// "aor:" and location.Key(aor). It fails (location.ErrAOR) for a URI
// that is not an address of record.
func (s *Store) Key(aor uri.URI) (string, error) {
	k, err := location.Key(aor)
	if err != nil {
		return "", err
	}
	return s.prefix + "aor:" + k, nil
}

// Lookup returns the bindings of aor that have not expired at now (Unix
// nanoseconds), sorted by q, highest first: from the cache when it read
// them less than Options.CacheTTL ago, else from Redis. The slice is the
// caller's. A URI that is not an address of record has no bindings.
func (s *Store) Lookup(ctx context.Context, now effects.Time, aor uri.URI) ([]location.Binding, error) {
	key, err := s.Key(aor)
	if err != nil {
		return nil, nil
	}
	var t ticket
	if s.cache != nil {
		bs, ok, tk := s.cache.get(key)
		if ok {
			return live(now, bs), nil
		}
		t = tk
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	bs, err := s.read(ctx, s.rdb, key)
	if err != nil {
		return nil, err
	}
	if s.cache != nil {
		s.cache.fill(key, bs, t)
	}
	return live(now, bs), nil
}

// Apply applies a REGISTER's update to the bindings of aor at now (Unix
// nanoseconds; the contacts' Expires too), atomically across every Store
// sharing the Redis, and returns the bindings that result (the caller's
// slice). It fails with location.ErrOutOfOrder or ErrTooManyBindings as
// location.Merge does, location.ErrAOR for a URI that is not an address
// of record, location.ErrFull when Redis is out of memory, and
// ErrUnavailable when Redis cannot be reached, does not answer in time,
// or other nodes kept changing aor's bindings for too long. An update
// that changes nothing (a REGISTER without Contact) only reads.
func (s *Store) Apply(ctx context.Context, now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	canon, err := location.Canonical(aor)
	if err != nil {
		return nil, err
	}
	key := s.prefix + "aor:" + canon.String()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if !u.Changes() {
		bs, err := s.read(ctx, s.rdb, key)
		if err != nil {
			return nil, err
		}
		return live(now, bs), nil
	}
	var (
		result []location.Binding
		began  time.Time // when the last attempt began
	)
	txn := func(tx *redis.Tx) error {
		cur, err := s.read(ctx, tx, key)
		if err != nil {
			return err
		}
		bs, err := location.Merge(now, cur, u, s.maxBindings)
		if err != nil {
			return fmt.Errorf("redisstore: %s: %w", key, err)
		}
		if len(cur) == 0 && len(bs) == 0 {
			result = nil
			return nil
		}
		var data []byte
		if len(bs) > 0 {
			for i := range bs {
				bs[i].AOR = canon
			}
			if data, err = location.Marshal(bs); err != nil {
				return fmt.Errorf("redisstore: %s: %w", key, err)
			}
		}
		var write redis.Cmder
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if data == nil {
				write = p.Del(ctx, key)
			} else {
				write = p.Set(ctx, key, data, ttl(now, bs))
			}
			return nil
		})
		if err != nil {
			return s.execError(key, err, write)
		}
		result = bs
		return nil
	}
	for attempt := 0; ; attempt++ {
		began = time.Now()
		err = s.rdb.Watch(ctx, txn, key)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
		if attempt+1 == maxAttempts {
			err = fmt.Errorf("redisstore: apply %s: %w: changed by others %d times in a row", key, ErrUnavailable, maxAttempts)
			break
		}
		// Another node wrote the key between our WATCH and EXEC: try
		// again after a short random pause, so that the contenders
		// spread out.
		if err = sleep(ctx, time.Duration(rand.Int64N(int64(attempt+1)*int64(200*time.Microsecond)))); err != nil {
			err = classify("apply", key, err)
			break
		}
	}
	if err != nil {
		if s.cache != nil && !isMergeError(err) {
			// The update may or may not have been applied.
			s.cache.invalidate(key)
		}
		return nil, wrapUnclassified("apply", key, err)
	}
	if s.cache != nil {
		s.cache.set(key, result, began)
	}
	return append([]location.Binding(nil), result...), nil
}

// getter is what read needs of a *redis.Client or *redis.Tx.
type getter interface {
	Get(ctx context.Context, key string) *redis.StringCmd
}

// read reads and decodes the bindings stored at key, sorted; none when
// the key does not exist.
func (s *Store) read(ctx context.Context, c getter, key string) ([]location.Binding, error) {
	data, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("get", key, err)
	}
	bs, err := location.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", key, err)
	}
	location.Sort(bs)
	return bs, nil
}

// execError classifies the failure of a MULTI/EXEC whose write command
// was w: TxFailedErr passes unchanged (Apply tries again); a command
// refused while queued (out of memory) aborts the transaction, and w
// holds the reason.
func (s *Store) execError(key string, err error, w redis.Cmder) error {
	if errors.Is(err, redis.TxFailedErr) {
		return err
	}
	if redis.IsExecAbortError(err) && w != nil && w.Err() != nil {
		err = w.Err()
	}
	return classify("exec", key, err)
}

// ttl returns the time to live of the key of bs at now: until the
// latest binding expires, rounded up to the millisecond so that the key
// never vanishes before its last binding has expired.
func ttl(now effects.Time, bs []location.Binding) time.Duration {
	latest := now
	for i := range bs {
		latest = max(latest, bs[i].Expires)
	}
	return max(time.Millisecond, (latest.Sub(now) + time.Millisecond - 1).Truncate(time.Millisecond))
}

// live returns the bindings of bs that have not expired at now, in a new
// slice (nil when none is left).
func live(now effects.Time, bs []location.Binding) []location.Binding {
	var out []location.Binding
	for i := range bs {
		if !bs[i].Expired(now) {
			if out == nil {
				out = make([]location.Binding, 0, len(bs)-i)
			}
			out = append(out, bs[i])
		}
	}
	return out
}

// classified marks an error that classify already described.
type classified struct{ error }

func (c classified) Unwrap() error { return c.error }

// classify describes the failure of a Redis command: location.ErrFull
// for out of memory, location.ErrEncoding for a key of another type,
// ErrUnavailable for a failure to reach Redis or a Redis that cannot
// serve now, and the plain error otherwise.
func classify(op, key string, err error) error {
	var re redis.Error
	switch {
	case redis.IsOOMError(err):
		err = fmt.Errorf("redisstore: %s %s: %w: %w", op, key, location.ErrFull, err)
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		err = fmt.Errorf("redisstore: %s %s: %w: %w", op, key, location.ErrEncoding, err)
	case !errors.As(err, &re) || transient(err):
		err = fmt.Errorf("redisstore: %s %s: %w: %w", op, key, ErrUnavailable, err)
	default:
		err = fmt.Errorf("redisstore: %s %s: %w", op, key, err)
	}
	return classified{err}
}

// transient reports whether a Redis error reply means that the server
// cannot serve now but may soon.
func transient(err error) bool {
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsClusterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsNoReplicasError(err) || redis.IsAuthError(err) || redis.HasErrorPrefix(err, "BUSY")
}

// wrapUnclassified classifies an error of go-redis's that no step did
// (WATCH itself failing).
func wrapUnclassified(op, key string, err error) error {
	var c classified
	if errors.As(err, &c) || errors.Is(err, ErrUnavailable) || isMergeError(err) ||
		errors.Is(err, location.ErrEncoding) {
		return err
	}
	return classify(op, key, err)
}

// isMergeError reports whether err is location.Merge's refusal: nothing
// was written.
func isMergeError(err error) bool {
	return errors.Is(err, location.ErrOutOfOrder) || errors.Is(err, location.ErrTooManyBindings)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
