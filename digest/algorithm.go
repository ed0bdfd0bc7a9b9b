package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"

	"github.com/sansip/sansip/internal/abnf"
)

// Algorithm is a digest algorithm: a hash function, used directly or in its
// "-sess" form (RFC 7616 §3.3 and §3.4.2, RFC 8760 §2.1). The zero value is
// no algorithm.
type Algorithm uint8

// The algorithms of the HTTP Digest Algorithm Values registry (RFC 7616
// §6.1) that SIP uses (RFC 8760 §2.1).
const (
	MD5            Algorithm = iota + 1 // "MD5" (RFC 2617 §3.2.1), the default when none is named
	MD5Sess                             // "MD5-sess"
	SHA256                              // "SHA-256" (RFC 7616 §3.2)
	SHA256Sess                          // "SHA-256-sess"
	SHA512_256                          // "SHA-512-256": SHA-512/256 of FIPS 180-4 (RFC 7616 §3.2)
	SHA512_256Sess                      // "SHA-512-256-sess"
)

var algorithmNames = [...]string{
	MD5:            "MD5",
	MD5Sess:        "MD5-sess",
	SHA256:         "SHA-256",
	SHA256Sess:     "SHA-256-sess",
	SHA512_256:     "SHA-512-256",
	SHA512_256Sess: "SHA-512-256-sess",
}

// ParseAlgorithm returns the algorithm named s, compared case-insensitively,
// and whether it is one this package supports. An empty s is MD5, the
// default of RFC 2617 §3.2.1 and RFC 7616 §3.3.
func ParseAlgorithm(s string) (Algorithm, bool) {
	if s == "" {
		return MD5, true
	}
	for a := MD5; a <= SHA512_256Sess; a++ {
		if abnf.EqualFold(s, algorithmNames[a]) {
			return a, true
		}
	}
	return 0, false
}

// String returns the algorithm's name as the algorithm parameter writes it
// ("SHA-256", "MD5-sess"), or "" for an invalid Algorithm.
func (a Algorithm) String() string {
	if !a.Valid() {
		return ""
	}
	return algorithmNames[a]
}

// Valid reports whether a is one of the algorithms above.
func (a Algorithm) Valid() bool { return a >= MD5 && a <= SHA512_256Sess }

// Sess reports whether a is a "-sess" algorithm, whose HA1 also hashes the
// nonce and cnonce (RFC 7616 §3.4.2).
func (a Algorithm) Sess() bool { return a.Valid() && a%2 == 0 }

// Hash returns the algorithm without "-sess": the one whose hash function
// it uses, and under which Credentials.HA1 stores H(username:realm:password)
// for both.
func (a Algorithm) Hash() Algorithm {
	if a.Sess() {
		return a - 1
	}
	return a
}

// Strength orders algorithms for choosing among challenges: 3 for
// SHA-512/256, 2 for SHA-256, 1 for MD5, each with its "-sess" form, 0 for
// an invalid Algorithm. Pick prefers the highest.
func (a Algorithm) Strength() int {
	if !a.Valid() {
		return 0
	}
	return int(a+1) / 2
}

// Size returns the length of the algorithm's digests in hex: 32 for MD5,
// 64 for the others, 0 for an invalid Algorithm.
func (a Algorithm) Size() int {
	switch a.Hash() {
	case MD5:
		return 2 * md5.Size
	case SHA256:
		return 2 * sha256.Size
	case SHA512_256:
		return 2 * sha512.Size256
	}
	return 0
}

// sum appends H(data) in lowercase hex to dst (RFC 7616 §3.4: "the
// representation of the output of H as a string of lowercase hex digits").
func (a Algorithm) sum(dst, data []byte) []byte {
	switch a.Hash() {
	case MD5:
		h := md5.Sum(data)
		return hex.AppendEncode(dst, h[:])
	case SHA256:
		h := sha256.Sum256(data)
		return hex.AppendEncode(dst, h[:])
	case SHA512_256:
		h := sha512.Sum512_256(data)
		return hex.AppendEncode(dst, h[:])
	}
	return dst
}

// maxHex is the longest digest in hex.
const maxHex = 64

// scratch is the size of the buffers the hash inputs are built in on the
// stack; longer inputs spill to the heap.
const scratch = 320

// join appends parts to b, each preceded by ':' unless b is empty.
func join(b []byte, parts ...string) []byte {
	for _, p := range parts {
		if len(b) > 0 {
			b = append(b, ':')
		}
		b = append(b, p...)
	}
	return b
}

// joinHex appends p to b, preceded by ':' unless b is empty.
func joinHex(b, p []byte) []byte {
	if len(b) > 0 {
		b = append(b, ':')
	}
	return append(b, p...)
}

// appendHA1 appends H(A1) to dst (RFC 7616 §3.4.2): H(username ":" realm
// ":" password), and for a "-sess" algorithm H of that ":" nonce ":"
// cnonce.
func appendHA1(dst []byte, a Algorithm, username, realm, password, nonce, cnonce string) []byte {
	var in [scratch]byte
	var base [maxHex]byte
	h := a.sum(base[:0], join(in[:0], username, realm, password))
	return appendSess(dst, a, h, nonce, cnonce)
}

// appendSess appends the HA1 of algorithm a given ha1, the hex of
// H(username:realm:password): ha1 itself, or for a "-sess" algorithm
// H(ha1 ":" nonce ":" cnonce) (RFC 7616 §3.4.2).
func appendSess(dst []byte, a Algorithm, ha1 []byte, nonce, cnonce string) []byte {
	if !a.Sess() {
		return append(dst, ha1...)
	}
	var in [scratch]byte
	return a.sum(dst, join(joinHex(in[:0], ha1), nonce, cnonce))
}

// appendHA2 appends H(A2) to dst (RFC 7616 §3.4.3): H(method ":" uri), or
// for qop "auth-int" H(method ":" uri ":" H(body)).
func appendHA2(dst []byte, a Algorithm, method, digestURI, qop string, body []byte) []byte {
	var in [scratch]byte
	b := join(in[:0], method, digestURI)
	if abnf.EqualFold(qop, QOPAuthInt) {
		var hb [maxHex]byte
		b = joinHex(b, a.sum(hb[:0], body))
	}
	return a.sum(dst, b)
}

// appendResponse appends the request-digest to dst (RFC 7616 §3.4.1):
// KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2) with a qop, KD(HA1,
// nonce ":" HA2) without (RFC 2617 §3.2.2.1, for RFC 2069), where KD(secret, data)
// is H(secret ":" data).
func appendResponse(dst []byte, a Algorithm, ha1 []byte, nonce, nc, cnonce, qop string, ha2 []byte) []byte {
	var in [scratch]byte
	b := join(joinHex(in[:0], ha1), nonce)
	if qop != "" {
		b = join(b, nc, cnonce, qop)
	}
	return a.sum(dst, joinHex(b, ha2))
}

// HA1 returns H(A1) in hex (RFC 7616 §3.4.2): H(username ":" realm ":"
// password), and for a "-sess" algorithm H(H(username ":" realm ":"
// password) ":" nonce ":" cnonce); nonce and cnonce are ignored otherwise.
// It returns "" for an invalid algorithm.
func HA1(alg Algorithm, username, realm, password, nonce, cnonce string) string {
	if !alg.Valid() {
		return ""
	}
	var buf [maxHex]byte
	return string(appendHA1(buf[:0], alg, username, realm, password, nonce, cnonce))
}

// SessionHA1 turns a stored HA1, H(username ":" realm ":" password) under
// alg's hash, into the HA1 the response uses: itself, or for a "-sess"
// algorithm H(ha1 ":" nonce ":" cnonce) (RFC 7616 §3.4.2). It returns ""
// for an invalid algorithm.
func SessionHA1(alg Algorithm, ha1, nonce, cnonce string) string {
	if !alg.Valid() {
		return ""
	}
	var buf [maxHex]byte
	return string(appendSess(buf[:0], alg, []byte(ha1), nonce, cnonce))
}

// HA2 returns H(A2) in hex (RFC 7616 §3.4.3): H(method ":" digestURI), or
// with qop "auth-int" H(method ":" digestURI ":" H(body)). It returns ""
// for an invalid algorithm.
func HA2(alg Algorithm, method, digestURI, qop string, body []byte) string {
	if !alg.Valid() {
		return ""
	}
	var buf [maxHex]byte
	return string(appendHA2(buf[:0], alg, method, digestURI, qop, body))
}

// Response returns the request-digest in hex (RFC 7616 §3.4.1): with a qop,
// H(ha1 ":" nonce ":" nc ":" cnonce ":" qop ":" ha2); with qop "", the RFC
// 2069 form of RFC 2617 §3.2.2.1, H(ha1 ":" nonce ":" ha2). ha1 is the HA1 function's result
// (for a "-sess" algorithm, the session key), nc the nonce count as sent:
// eight hex digits. It returns "" for an invalid algorithm.
func Response(alg Algorithm, ha1, nonce, nc, cnonce, qop, ha2 string) string {
	if !alg.Valid() {
		return ""
	}
	var buf [maxHex]byte
	return string(appendResponse(buf[:0], alg, []byte(ha1), nonce, nc, cnonce, qop, []byte(ha2)))
}

// UserHash returns the hashed user name of RFC 7616 §3.4.4:
// H(username ":" realm), sent in the username parameter with
// userhash=true. It returns "" for an invalid algorithm.
func UserHash(alg Algorithm, username, realm string) string {
	if !alg.Valid() {
		return ""
	}
	var in [scratch]byte
	var buf [maxHex]byte
	return string(alg.sum(buf[:0], join(in[:0], username, realm)))
}

// appendNC appends the nonce count as 8LHEX (RFC 7616 §3.4).
func appendNC(dst []byte, nc uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, digits[nc>>uint(shift)&0xf])
	}
	return dst
}

// isHex reports whether s is n lowercase or uppercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if abnf.Unhex(s[i]) < 0 {
			return false
		}
	}
	return true
}

// appendLowerHex appends s, hex digits, in lowercase.
func appendLowerHex(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
