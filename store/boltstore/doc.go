// Package boltstore is a location service (service.Store) kept in a file
// with go.etcd.io/bbolt, so that registrations survive a restart of the
// server: a REGISTER answered 200 is on disk.
//
// # Data
//
// The file holds three buckets:
//
//   - "bindings": one key per address of record, location.Key(aor), whose
//     value is its bindings as location.Marshal encodes them (JSON, sorted
//     as a target set), readable with bbolt's own tools;
//   - "expiry": an index of when each address of record next needs
//     attention: the key is the earliest Expires among its bindings (8
//     bytes, big-endian, order-preserving) followed by location.Key(aor),
//     the value empty;
//   - "meta": the file's format, and the number of addresses of record
//     and of bindings held, updated in the same transaction as the
//     bindings, so that Counts is right after a restart without reading
//     every binding.
//
// Binding times are wall-clock times (effects.Time counting nanoseconds
// since the Unix epoch), as the service gives them to a store that
// outlives the process. The package reads no clock: it stores and
// compares the times it is given.
//
// # Consistency and durability
//
// Apply reads the bindings of the address of record, merges the update
// (location.Merge, RFC 3261 §10.3 step 7) and writes the result in one
// write transaction, so updates of one address of record never get lost
// nor reordered. Apply returns only after the commit, fsync included
// unless Options.NoSync. The Applies of concurrent goroutines (the
// service's workers) share transactions and their fsync, by group commit:
// an Apply that finds no transaction in progress commits at once, with no
// added delay; those that arrive while one commits wait, and the next
// transaction takes them all. Unlike bbolt's DB.Batch, which waits a
// fixed MaxBatchDelay for a batch to fill, this adds no latency to an
// Apply alone and groups as many Applies as the disk is slow.
//
// Lookup reads in a read transaction, concurrently with writers. An
// address of record whose stored value does not decode is an error
// wrapping location.ErrEncoding (and left as it is, for an operator to
// inspect), never a panic.
//
// # Expiry
//
// Lookup and Apply never return an expired binding. Expire releases the
// expired ones from the file: it walks the expiry index from the earliest
// entry to now, so its cost is proportional to the addresses of record
// with an expired binding, not to the size of the store, in transactions
// of at most 1024 addresses of record each so that REGISTERs are not held
// up behind a long sweep (after a long downtime, say).
//
// # Files
//
// Open creates the file (mode 0600) and its directory (0700). bbolt locks
// the file: a second Open of the same file, from this process or another,
// fails with ErrLocked after Options.Timeout instead of waiting for ever.
package boltstore
