// Package redisstore is a location service (service.Store) that several
// sansip nodes share through Redis, so that a user registered through
// one node is found from every other.
//
// # Data
//
// Each address of record is one Redis string, at the key
//
//	Prefix + "aor:" + location.Key(aor)
//
// holding its bindings as location.Marshal encodes them (JSON, sorted as
// a target set). The key expires (a relative PX expiry, which Redis
// writes to its append-only file as an absolute time) when the latest of
// its bindings expires: Redis deletes an address of record whose last
// binding has expired, with no sweeper in sansip. A binding that expires
// earlier, inside a key that lives on, is left out of every look-up and
// dropped at the next update of its address of record. An address of
// record left without a binding is deleted at once.
//
// Binding times are wall-clock times (effects.Time counting nanoseconds
// since the Unix epoch), as the service gives them to a shared store, so
// the nodes' clocks should agree (NTP); the Redis server's clock does
// not matter, since expiries are sent relative to the node's now.
//
// # Consistency
//
// Apply is atomic per address of record across every node: it reads the
// key under WATCH, merges the update in Go (location.Merge, RFC 3261
// §10.3 step 7) and writes the result in MULTI/EXEC, and starts again
// when another node changed the key in between (a bounded number of
// times). Apply returns without error only once EXEC succeeded: a
// binding whose REGISTER was answered 200 is in Redis. With Redis's
// append-only file fsynced on every write (appendfsync always) it
// survives a crash of Redis too; with a weaker setting, what Redis
// loses in a crash is what that setting allows.
//
// Lookup answers from a small cache in each Store, for at most
// Options.CacheTTL after it read Redis: a node sees the registrations
// made through another node at most CacheTTL late (1 s by default; a
// negative CacheTTL disables the cache and every look-up reads Redis). A
// Store sees its own updates at once: Apply replaces the cached entry.
// The cache holds at most Options.CacheSize addresses of record.
//
// # Failures
//
// Every operation is bounded by Options.Timeout, retries included. When
// Redis cannot be reached or does not answer in time the error wraps
// ErrUnavailable, and the service answers 503 with Retry-After; no
// update is then acknowledged, though one whose EXEC reached Redis may
// have been applied (the client's next REGISTER repairs the state). New
// does not connect, so a node starts while Redis is down and serves as
// soon as Redis answers; Ping tells whether it does. An update refused
// because Redis reached its maxmemory wraps location.ErrFull, and stored
// bytes that do not decode wrap location.ErrEncoding.
package redisstore
