module github.com/sansip/sansip/store

go 1.26.0

replace github.com/sansip/sansip => ../

require (
	github.com/leanovate/gopter v0.2.11
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sansip/sansip v0.0.0-00010101000000-000000000000
	go.etcd.io/bbolt v1.5.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
