module github.com/sansip/sansip/cmd

go 1.26.0

replace (
	github.com/sansip/sansip => ../
	github.com/sansip/sansip/store => ../store
)

require github.com/sansip/sansip v0.0.0-00010101000000-000000000000

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
