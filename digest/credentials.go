package digest

import (
	"fmt"
)

// Credentials are what is known of a user in one realm: the user name and
// either the password or, for applications that do not keep passwords, the
// stored HA1 of each hash (RFC 7616 §3.4.2, RFC 2617 §4.13). A client uses them to
// answer challenges; a server's embedder looks them up for the user an
// Authorization header field names and passes them to Server.Verify.
type Credentials struct {
	// Username is the user name, as HA1 hashes it (not its userhash).
	Username string
	// Password is the password. It is used when HA1 has no entry for the
	// algorithm's hash.
	Password string
	// HA1 holds precomputed H(username ":" realm ":" password) in hex,
	// keyed by the hash's plain algorithm (MD5, SHA256, SHA512_256); a
	// "-sess" algorithm uses its plain algorithm's entry (and an entry
	// under its own key if there is one). When HA1 is not empty and has no
	// entry for a hash, that hash cannot be used unless Password is set.
	HA1 map[Algorithm]string
}

// appendBaseHA1 appends H(username ":" realm ":" password) under a's hash,
// lowercase, from HA1 or from the password.
func (c *Credentials) appendBaseHA1(dst []byte, a Algorithm, realm string) ([]byte, error) {
	h, ok := c.HA1[a]
	if !ok {
		h, ok = c.HA1[a.Hash()]
	}
	if ok {
		if !isHex(h, a.Size()) {
			return dst, fmt.Errorf("%w: HA1 for %v is not %d hex digits", ErrInvalid, a.Hash(), a.Size())
		}
		return appendLowerHex(dst, h), nil
	}
	if len(c.HA1) > 0 && c.Password == "" {
		return dst, fmt.Errorf("%w: %v", ErrNoSecret, a.Hash())
	}
	var in [scratch]byte
	return a.sum(dst, join(in[:0], c.Username, realm, c.Password)), nil
}

// appendHA1 appends the HA1 the response uses: the base HA1, or for a
// "-sess" algorithm the session key made with nonce and cnonce.
func (c *Credentials) appendHA1(dst []byte, a Algorithm, realm, nonce, cnonce string) ([]byte, error) {
	var base [maxHex]byte
	h, err := c.appendBaseHA1(base[:0], a, realm)
	if err != nil {
		return dst, err
	}
	return appendSess(dst, a, h, nonce, cnonce), nil
}

// Can reports whether the credentials can answer with algorithm a: a is
// valid and there is a password or an HA1 for its hash.
func (c Credentials) Can(a Algorithm) bool {
	if !a.Valid() {
		return false
	}
	if _, ok := c.HA1[a]; ok {
		return true
	}
	if _, ok := c.HA1[a.Hash()]; ok {
		return true
	}
	return len(c.HA1) == 0 || c.Password != ""
}
