module github.com/sansip/sansip/cmd

go 1.26.0

replace (
	github.com/sansip/sansip => ../
	github.com/sansip/sansip/store => ../store
)

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sansip/sansip v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
)

require (
	github.com/sansip/sansip/store v0.0.0-00010101000000-000000000000
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
