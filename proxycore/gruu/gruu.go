// Package gruu makes and reads the Globally Routable User Agent URIs of RFC
// 5627: the URIs a registrar hands a UA instance in the 200 to its
// REGISTER (pub-gruu and temp-gruu Contact parameters, §5.2) and that a
// proxy of the domain routes to that instance only (§6.1).
//
// A public GRUU is the address of record with a "gr" URI parameter whose
// value is the instance id (+sip.instance) without its angle brackets,
// escaped as a uri-parameter value: sip:alice@example.com;gr=urn:uuid:...
// (§5.4, as in the RFC's examples). It is the same for every registration
// of the instance and needs no key to make or read.
//
// A temporary GRUU is the address of record without its user part, with a
// "gr" parameter whose value is an opaque token: the AOR's user, the
// instance id and a digest of the registration's Call-ID, sealed (AES-GCM
// with a synthetic nonce: an HMAC-SHA256 of the plaintext) under a key of
// the registrar and the proxies of the domain. No state is kept: the proxy
// opens the token to find the AOR and the instance, and a token altered,
// forged, or moved to another host does not open. The token hides the AOR
// and the instance (§3.1.2: a temp-gruu does not reveal the user), but is
// deterministic: the same registration gets the same temp-gruu at each
// refresh.
//
// Simplification of §5.1: the RFC has the registrar issue a new temp-gruu
// at each refresh, all of those issued in one registration staying valid
// until it ends or the Call-ID changes. Here the temp-gruu of a binding is
// one and the same for as long as the REGISTERs keep their Call-ID, and
// stops matching the binding when a REGISTER with another Call-ID
// replaces it (GRUU.Matches; the proxy then answers 404). A temp-gruu of
// an expired registration still opens; the proxy then finds no binding
// and answers 480.
//
// The package is pure: the key is given.
package gruu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// Param is the uri-parameter that makes a URI a GRUU (RFC 5627 §3.1).
const Param = "gr"

// MinKey is the shortest key New accepts, in bytes.
const MinKey = 16

// Errors of the package, matchable with errors.Is.
var (
	// ErrKey reports a key shorter than MinKey bytes.
	ErrKey = errors.New("gruu: key too short")
	// ErrNotGRUU reports a URI without a gr parameter, or not a sip or
	// sips URI.
	ErrNotGRUU = errors.New("gruu: not a GRUU")
	// ErrInvalid reports a GRUU that names no instance of an address of
	// record: a pub-gruu whose gr value is empty or badly escaped, or a
	// temp-gruu whose token does not open under the key (forged, altered,
	// another key's, or read without a key).
	ErrInvalid = errors.New("gruu: invalid GRUU")
)

const (
	version  = 1
	sumLen   = 8  // the Call-ID digest kept in a temp-gruu
	nonceLen = 12 // AES-GCM's standard nonce
	// kinds of instance ids in a token
	instText = 0
	instUUID = 1
)

// GRUU is what a GRUU names: an instance of an address of record.
type GRUU struct {
	// AOR is the address of record, in canonical form (location.Canonical).
	AOR uri.URI
	// Instance is the instance id, without angle brackets:
	// "urn:uuid:...".
	Instance string
	// Temporary says the GRUU was a temp-gruu.
	Temporary bool
	// callSum is a temp-gruu's digest of the Call-ID of the registration
	// it was issued for.
	callSum [sumLen]byte
}

// Matches reports whether the binding b is one the GRUU reaches: a binding
// of its address of record with its instance id (compared without regard
// to case, as URNs of the uuid namespace compare) and, for a temp-gruu,
// registered with the Call-ID it was issued for (RFC 5627 §6.1).
func (g *GRUU) Matches(b *location.Binding) bool {
	if !g.SameInstance(b) {
		return false
	}
	return !g.Temporary || callSum(b.CallID) == g.callSum
}

// SameInstance reports whether the binding b is of the GRUU's address of
// record and instance, whatever its Call-ID.
func (g *GRUU) SameInstance(b *location.Binding) bool {
	if b.Instance == "" || !strings.EqualFold(b.Instance, g.Instance) {
		return false
	}
	aor, err := location.Canonical(b.AOR)
	return err == nil && aor == g.AOR
}

// Is reports whether u is a sip or sips URI with a gr parameter: a GRUU,
// if it is one of the domain's (RFC 5627 §3.1).
func Is(u uri.URI) bool { return u.IsSIP() && u.Params.Has(Param) }

// Public returns the pub-gruu of an instance of aor (RFC 5627 §5.4): aor
// in canonical form with gr set to the instance id (angle brackets, if
// any, removed), escaped as a uri-parameter value. It fails when aor is
// not a sip or sips URI with a user part (one without would read as a
// temp-gruu), or instance is empty.
func Public(aor uri.URI, instance string) (uri.URI, error) {
	c, err := location.Canonical(aor)
	if err != nil {
		return uri.URI{}, err
	}
	instance = strings.TrimSuffix(strings.TrimPrefix(instance, "<"), ">")
	if instance == "" {
		return uri.URI{}, fmt.Errorf("%w: no instance id", ErrInvalid)
	}
	if c.User == "" {
		// Without a user part it would read as a temp-gruu.
		return uri.URI{}, fmt.Errorf("%w: the address of record has no user part", ErrInvalid)
	}
	return c.WithParam(Param, instance), nil
}

// Keys makes and opens the temp-gruus of one key. It is safe for
// concurrent use: it never changes after New.
type Keys struct {
	aead cipher.AEAD
	mac  []byte // the synthetic nonce's HMAC key
}

// New returns the Keys of key (at least MinKey bytes, kept secret by the
// registrar and shared with every proxy that routes the domain's GRUUs;
// it must outlive restarts for the GRUUs to).
func New(key []byte) (*Keys, error) {
	if len(key) < MinKey {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKey, len(key), MinKey)
	}
	enc := derive(key, "sansip gruu encryption")
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, mac: derive(key, "sansip gruu nonce")}, nil
}

func derive(key []byte, label string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	return h.Sum(nil)
}

func callSum(callID string) [sumLen]byte {
	s := sha256.Sum256([]byte(callID))
	return [sumLen]byte(s[:sumLen])
}

// hostAD is the additional data a token is sealed with: the host and port
// of the temp-gruu, so that a token does not open under another domain.
func hostAD(u uri.URI) []byte {
	h := strings.ToLower(u.Host)
	if u.Port != 0 {
		h += ":" + strconv.Itoa(int(u.Port))
	}
	return []byte(h)
}

// Temporary returns the temp-gruu of an instance of aor registered with
// the Call-ID callID (RFC 5627 §5.4): aor without its user part, with gr
// set to a sealed token that Parse opens. It fails as Public does, and for
// a user part over 255 bytes.
func (k *Keys) Temporary(aor uri.URI, instance, callID string) (uri.URI, error) {
	c, err := location.Canonical(aor)
	if err != nil {
		return uri.URI{}, err
	}
	instance = strings.TrimSuffix(strings.TrimPrefix(instance, "<"), ">")
	if instance == "" {
		return uri.URI{}, fmt.Errorf("%w: no instance id", ErrInvalid)
	}
	if c.User == "" || len(c.User) > 255 {
		return uri.URI{}, fmt.Errorf("%w: the address of record needs a user part of at most 255 bytes", ErrInvalid)
	}
	plain := make([]byte, 0, 1+sumLen+2+len(c.User)+len(instance))
	plain = append(plain, version)
	sum := callSum(callID)
	plain = append(plain, sum[:]...)
	plain = appendString(plain, c.User)
	if id, ok := uuidBytes(instance); ok {
		plain = append(plain, instUUID)
		plain = append(plain, id[:]...)
	} else {
		plain = append(plain, instText)
		plain = append(plain, instance...)
	}
	c.User = ""
	nonce := k.nonce(plain)
	token := make([]byte, 0, nonceLen+len(plain)+k.aead.Overhead())
	token = append(token, nonce[:]...)
	token = k.aead.Seal(token, nonce[:], plain, hostAD(c))
	c.Params = ";" + Param + "=" + uri.Params(base64.RawURLEncoding.EncodeToString(token))
	return c, nil
}

// nonce is the synthetic nonce of plain: equal plaintexts seal to equal
// tokens, and a nonce is never reused for another plaintext.
func (k *Keys) nonce(plain []byte) [nonceLen]byte {
	h := hmac.New(sha256.New, k.mac)
	h.Write(plain)
	var full [sha256.Size]byte
	return [nonceLen]byte(h.Sum(full[:0])[:nonceLen])
}

// appendString appends s, at most 255 bytes, with a one-byte length.
func appendString(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// uuidBytes returns the 16 bytes of an instance id of the form
// "urn:uuid:" followed by a UUID in its canonical text (RFC 4122 §3).
func uuidBytes(instance string) ([16]byte, bool) {
	var id [16]byte
	const prefix = "urn:uuid:"
	if len(instance) != len(prefix)+36 || !strings.EqualFold(instance[:len(prefix)], prefix) {
		return id, false
	}
	s := instance[len(prefix):]
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, false
	}
	// Only a lower-case UUID is kept as bytes: the text comes back as
	// it was given.
	if strings.ToLower(s) != s {
		return id, false
	}
	return id, true
}

func uuidText(id []byte) string {
	h := hex.EncodeToString(id)
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Parse reads the GRUU u (a Request-URI): a URI with a user part is a
// pub-gruu, one without a temp-gruu that k must open (k may be nil, which
// opens none). It fails with ErrNotGRUU when u is not a sip or sips URI
// with a gr parameter, and with ErrInvalid when it names nothing.
func (k *Keys) Parse(u uri.URI) (GRUU, error) {
	if !Is(u) {
		return GRUU{}, ErrNotGRUU
	}
	v, _, err := u.Params.Decoded(Param)
	if err != nil || v == "" {
		return GRUU{}, fmt.Errorf("%w: gr value", ErrInvalid)
	}
	if u.User != "" {
		aor, err := location.Canonical(u)
		if err != nil {
			return GRUU{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return GRUU{AOR: aor, Instance: v}, nil
	}
	if k == nil {
		return GRUU{}, fmt.Errorf("%w: no key for a temp-gruu", ErrInvalid)
	}
	return k.open(u, v)
}

// open opens the token of a temp-gruu whose host part is u's.
func (k *Keys) open(u uri.URI, token string) (GRUU, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < nonceLen+k.aead.Overhead()+1+sumLen+1+1 {
		return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
	}
	host, err := location.Canonical(u)
	if err != nil {
		return GRUU{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	nonce := raw[:nonceLen]
	plain, err := k.aead.Open(nil, nonce, raw[nonceLen:], hostAD(host))
	if err != nil {
		return GRUU{}, fmt.Errorf("%w: token does not open", ErrInvalid)
	}
	if n := k.nonce(plain); !hmac.Equal(n[:], nonce) || len(plain) < 1+sumLen+1 || plain[0] != version {
		return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
	}
	g := GRUU{Temporary: true, callSum: [sumLen]byte(plain[1 : 1+sumLen])}
	rest := plain[1+sumLen:]
	n := int(rest[0])
	if len(rest) < 1+n+1 {
		return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
	}
	host.User = string(rest[1 : 1+n])
	if g.AOR, err = location.Canonical(host); err != nil {
		return GRUU{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	rest = rest[1+n:]
	switch rest[0] {
	case instUUID:
		if len(rest) != 1+16 {
			return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
		}
		g.Instance = uuidText(rest[1:])
	case instText:
		g.Instance = string(rest[1:])
	default:
		return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
	}
	if g.Instance == "" {
		return GRUU{}, fmt.Errorf("%w: token", ErrInvalid)
	}
	return g, nil
}
