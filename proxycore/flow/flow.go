// Package flow makes and reads flow tokens (RFC 5626 §5.2): the name of a
// connection, or of a client's UDP address, that a proxy puts in the user
// part of a Path or Record-Route URI of its own, so that a request
// carrying that URI in its Route comes back to the proxy and goes out over
// that same flow. A proxy reaches a client behind a NAT this way, and in a
// cluster another node reaches a client connected to this one: the node
// where the client's REGISTER arrived puts its own URI with the token in
// the binding's Path, and the other nodes route through it.
//
// A token is the flow itself (transport, address, connection id) with a
// truncated HMAC-SHA256 of it under the proxy's key, in base64url: no
// state is kept, and a token cannot be forged or altered to name another
// flow without the key. Tokens of another key (another node, an earlier
// run) are refused.
//
// The package is pure: the key is given.
package flow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
)

// ErrKey reports a key shorter than MinKey bytes.
var ErrKey = errors.New("flow: key too short")

// MinKey is the shortest key New accepts, in bytes.
const MinKey = 16

const (
	version = 1
	macLen  = 12
	// dataLen: version, transport, family, 16 address bytes, port, conn.
	dataLen = 1 + 1 + 1 + 16 + 2 + 8
	// TokenLen is the length of every token, in characters.
	TokenLen = ((dataLen+macLen)*8 + 5) / 6
)

// Tokens makes and checks the flow tokens of one key. It is safe for
// concurrent use: it never changes after New.
type Tokens struct {
	key []byte
}

// New returns the Tokens of key (at least MinKey bytes, kept secret by the
// proxy; random at each start is fine).
func New(key []byte) (*Tokens, error) {
	if len(key) < MinKey {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKey, len(key), MinKey)
	}
	return &Tokens{key: append([]byte(nil), key...)}, nil
}

// Token returns the token naming flow p.
func (t *Tokens) Token(p effects.Peer) string {
	var b [dataLen + macLen]byte
	b[0] = version
	b[1] = byte(p.Transport)
	a := p.Addr.Addr()
	b[2] = 6
	if a.Is4() {
		b[2] = 4
	}
	ip := a.As16()
	copy(b[3:19], ip[:])
	binary.BigEndian.PutUint16(b[19:21], p.Addr.Port())
	binary.BigEndian.PutUint64(b[21:29], uint64(p.Conn))
	t.sum(b[:dataLen], b[dataLen:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Peer returns the flow a token of this key names, and false for anything
// else: another key's token, a token altered or cut, any other text.
func (t *Tokens) Peer(token string) (effects.Peer, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(dataLen+macLen) {
		return effects.Peer{}, false
	}
	var b [dataLen + macLen]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(token)); err != nil || n != len(b) {
		return effects.Peer{}, false
	}
	var mac [macLen]byte
	t.sum(b[:dataLen], mac[:])
	if !hmac.Equal(mac[:], b[dataLen:]) || b[0] != version {
		return effects.Peer{}, false
	}
	tr := effects.Transport(b[1])
	if tr.String() == "invalid" {
		return effects.Peer{}, false
	}
	a := netip.AddrFrom16([16]byte(b[3:19]))
	switch b[2] {
	case 4:
		if !a.Is4In6() {
			return effects.Peer{}, false
		}
		a = a.Unmap()
	case 6:
	default:
		return effects.Peer{}, false
	}
	return effects.Peer{
		Addr:      netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[19:21])),
		Transport: tr,
		Conn:      effects.ConnID(binary.BigEndian.Uint64(b[21:29])),
	}, true
}

// sum writes the truncated MAC of data into dst.
func (t *Tokens) sum(data, dst []byte) {
	h := hmac.New(sha256.New, t.key)
	h.Write(data)
	var full [sha256.Size]byte
	copy(dst, h.Sum(full[:0]))
}
