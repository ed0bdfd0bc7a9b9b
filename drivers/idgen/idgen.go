// Package idgen makes the identifier generator of deployments: an
// ident.Source fed by crypto/rand, so that tags, Call-IDs, branches and
// nonces are hard to guess (RFC 3261 §19.3). The protocol core never
// reads a random source itself (DESIGN.md §1); drivers pass it this one,
// tests a seeded one.
package idgen

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/sansip/sansip/ident"
)

// Crypto returns an ident.Source fed by crypto/rand.
func Crypto() ident.Source {
	return func() uint64 {
		var b [8]byte
		rand.Read(b[:])
		return binary.LittleEndian.Uint64(b[:])
	}
}
