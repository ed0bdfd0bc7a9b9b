// Package store holds nothing itself: it names the module of sansip's
// location stores that need a database client, kept out of the core
// module so that its dependencies stay go-cmp, gopter and x/net.
// Package boltstore keeps bindings in a file (go.etcd.io/bbolt), package
// redisstore shares them between nodes in Redis
// (github.com/redis/go-redis/v9); both implement service.Store.
package store
