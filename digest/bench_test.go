package digest

import (
	"testing"
	"time"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
)

func BenchmarkAuthorize(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256, SHA512_256} {
		b.Run(alg.String(), func(b *testing.B) {
			ch := challengeWith(b, newServer(), t0, alg, QOPAuth)
			b.ReportAllocs()
			nc := uint32(0)
			for b.Loop() {
				nc++
				if _, err := Authorize(ch, bob, "REGISTER", ruri, nil, "0a4f113b", nc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClientAnswer answers a 401 with two challenges, as a UA core
// does: lookup, pick, cnonce, nonce count.
func BenchmarkClientAnswer(b *testing.B) {
	chs := newServer().Challenge(t0, false, "")
	c := Client{Lookup: func(string) (Credentials, bool) { return bob, true }}
	gen := ident.Seeded(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Answer(chs, "REGISTER", ruri, nil, gen); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256, SHA512_256} {
		b.Run(alg.String(), func(b *testing.B) {
			s := newServer()
			s.NonceTTL = 1000 * time.Hour
			ch := challengeWith(b, s, t0, alg, QOPAuth)
			// Answers made beforehand, each with its own count.
			creds := make([]header.Credentials, 4096)
			for i := range creds {
				creds[i], _ = Authorize(ch, bob, "REGISTER", ruri, nil, "0a4f113b", uint32(i+1))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(creds) {
					// Start over with a fresh nonce.
					b.StopTimer()
					ch = challengeWith(b, s, t0, alg, QOPAuth)
					for j := range creds {
						creds[j], _ = Authorize(ch, bob, "REGISTER", ruri, nil, "0a4f113b", uint32(j+1))
					}
					i = 0
					b.StartTimer()
				}
				if r, err := s.Verify(t0, creds[i], "REGISTER", ruri, nil, bob); r != OK {
					b.Fatal(r, err)
				}
				i++
			}
		})
	}
}

func BenchmarkChallenge(b *testing.B) {
	s := newServer()
	s.Algorithms = []Algorithm{SHA256, MD5}
	b.ReportAllocs()
	for b.Loop() {
		s.Challenge(t0, false, "")
	}
}
