// Package ident makes the identifiers SIP needs fresh: branch parameters,
// tags and Call-IDs (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3).
//
// The protocol core never reads a random source itself: the embedder passes
// a Generator. Tests and the simulator pass a seeded one, so that runs
// replay exactly; a real deployment passes one fed by crypto/rand (see
// package drivers), because tags and Call-IDs must be hard to guess.
package ident

import "github.com/sansip/sansip/header"

// Generator makes fresh identifiers.
type Generator interface {
	// Branch returns a branch parameter value that starts with the magic
	// cookie "z9hG4bK" and is unique in space and time.
	Branch() string
	// Tag returns a From or To tag with at least 32 bits of randomness.
	Tag() string
	// CallID returns a globally unique Call-ID.
	CallID() string
}

// Source is a Generator built from a function returning uniformly random
// 64-bit values.
type Source func() uint64

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func (s Source) word(b []byte, n int) []byte {
	v := s()
	for i := 0; i < n; i++ {
		if i > 0 && i%10 == 0 {
			v = s()
		}
		b = append(b, alphabet[v%62])
		v /= 62
	}
	return b
}

// Branch returns "z9hG4bK" followed by 20 random characters.
func (s Source) Branch() string {
	var buf [32]byte
	return string(s.word(append(buf[:0], header.MagicCookie...), 20))
}

// Tag returns 10 random characters (about 59 bits).
func (s Source) Tag() string {
	var buf [16]byte
	return string(s.word(buf[:0], 10))
}

// CallID returns 24 random characters (about 142 bits).
func (s Source) CallID() string {
	var buf [32]byte
	return string(s.word(buf[:0], 24))
}

// Seeded returns a deterministic Generator: the same seed gives the same
// identifiers in the same order. It is for tests and simulation only.
func Seeded(seed uint64) Source {
	state := seed
	return func() uint64 {
		// SplitMix64.
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
}
