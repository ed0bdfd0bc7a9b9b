package digest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/internal/abnf"
	"github.com/sansip/sansip/uri"
)

// DefaultNonceTTL is how long a nonce is accepted when Server.NonceTTL is
// zero.
const DefaultNonceTTL = 5 * time.Minute

// Result is the verdict of Server.Verify.
type Result uint8

// The verdicts. The zero Result is Bad.
const (
	// Bad: the credentials are wrong, malformed, replayed, or not for
	// this server. Answer with a fresh challenge (401 or 407), or 403 if
	// the policy is not to let the user try again.
	Bad Result = iota
	// OK: the user is authenticated.
	OK
	// Stale: the credentials are right but the nonce is too old (or was
	// forgotten by the replay tracker). Answer with a fresh challenge
	// with stale=true (RFC 7616 §3.3): the client retries without asking
	// its user.
	Stale
)

// String returns "bad", "ok" or "stale".
func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case Stale:
		return "stale"
	}
	return "bad"
}

// Server is the server side of Digest authentication for a registrar, a
// proxy or a UAS (RFC 3261 §22.2 to §22.4): it issues challenges and
// verifies the credentials that answer them.
//
// Nonces carry their issue time and an HMAC-SHA-256 over that time, a
// sequence number and the realm, keyed by Secret (RFC 7616 §3.3 suggests
// such a nonce), so a nonce needs no state to be checked; only replay
// protection keeps state, bounded by MaxNonces (see NonceCounts).
//
// Time is the driver's monotonic clock (effects.Time). Nonces issued under
// another clock origin (before the driver restarted) are therefore judged
// by a meaningless age: a server that restarts should use a new Secret, so
// that its old nonces are refused (Bad; the client is challenged again).
// Servers that share a Secret and realm must not share nonces between them
// either, as each has its own replay tracker.
//
// Fields must not change once the Server is in use, except that changing
// Secret invalidates every nonce issued before.
type Server struct {
	// Realm is the protection realm (RFC 3261 §22.1), e.g. the domain
	// the registrar serves.
	Realm string
	// Secret keys the nonces' HMAC: at least 16 random bytes, kept from
	// everyone else. It must not be empty.
	Secret []byte
	// Algorithms are the algorithms offered and accepted. Challenges list
	// them strongest first, or in the order given when AsGiven is set.
	//
	// Nil means MD5 alone (DefaultAlgorithms), so that deployed MD5-only
	// clients register with the defaults: baresip 1.0.0 (libre 1.1.0,
	// Debian 12) gives up on a 401 that holds any challenge but MD5,
	// whatever their order ("Register: Function not implemented"), and
	// sipsak 0.9.8.1 answers only the first challenge and knows only MD5
	// ("unsupported authentication algorithm"). Neither sends anything
	// after such a 401, so no order of several challenges, and no choice
	// made per client from an earlier answer, lets both register. Offer
	// SHA-256 (RFC 8760) by listing it, with MD5 for the other clients,
	// once the clients support it.
	Algorithms []Algorithm
	// AsGiven lists the challenges in the order of Algorithms, for
	// deployments whose clients answer only the first challenge (RFC
	// 8760 §2.3 leaves the order to the server's preference).
	AsGiven bool
	// QOP are the qop-values offered and accepted (QOPAuth, QOPAuthInt);
	// nil means QOPAuth, an empty slice offers none (for RFC 2069 peers,
	// with AllowRFC2069).
	QOP []string
	// AllowRFC2069 accepts answers without qop (RFC 2617 §3.2.2.1, RFC
	// 2069). They carry no nonce count, so a nonce used that way is only
	// protected against replay by its lifetime.
	AllowRFC2069 bool
	// UserHash offers user name hashing (userhash=true, RFC 7616 §3.3).
	// Hashed and plain user names are both accepted either way.
	UserHash bool
	// Domain is the domain parameter of the challenges (RFC 7616 §3.3): a
	// space-separated list of URIs, or "" for none.
	Domain string
	// NonceTTL is how long after its issue a nonce is accepted; zero
	// means DefaultNonceTTL. Credentials with an older nonce are Stale.
	NonceTTL time.Duration
	// MaxNonces bounds the replay tracker; zero means DefaultMaxNonces.
	MaxNonces int

	seq    uint64
	counts NonceCounts
	mac    hash.Hash
	macKey []byte
}

const (
	nonceRaw  = 32 // issue time, sequence number, 16 bytes of HMAC
	nonceText = 43 // its unpadded base64url
	nonceMAC  = "sansip digest nonce v1\x00"
)

var nonceEncoding = base64.RawURLEncoding.Strict()

// DefaultAlgorithms are the algorithms a Server with nil Algorithms
// offers: MD5 alone (see Server.Algorithms for why).
var DefaultAlgorithms = []Algorithm{MD5}

func (s *Server) algorithms() []Algorithm {
	if s.Algorithms == nil {
		return DefaultAlgorithms
	}
	return s.Algorithms
}

func (s *Server) qops() []string {
	if s.QOP == nil {
		return []string{QOPAuth}
	}
	return s.QOP
}

func (s *Server) ttl() time.Duration {
	if s.NonceTTL <= 0 {
		return DefaultNonceTTL
	}
	return s.NonceTTL
}

// tag appends the HMAC of a nonce's first 16 bytes and the realm, truncated
// to 16 bytes, to dst.
func (s *Server) tag(dst, payload []byte) []byte {
	if len(s.Secret) == 0 {
		panic("digest: Server.Secret is empty")
	}
	if s.mac == nil || !bytes.Equal(s.macKey, s.Secret) {
		s.macKey = bytes.Clone(s.Secret)
		s.mac = hmac.New(sha256.New, s.macKey)
	}
	s.mac.Reset()
	s.mac.Write([]byte(nonceMAC))
	s.mac.Write(payload)
	s.mac.Write([]byte(s.Realm))
	var sum [sha256.Size]byte
	return append(dst, s.mac.Sum(sum[:0])[:16]...)
}

// Nonce returns a fresh nonce issued at now: the issue time and a sequence
// number, with their HMAC, in base64url. Challenge uses it; it is exported
// for an Authentication-Info nextnonce (RFC 7616 §3.5).
func (s *Server) Nonce(now effects.Time) string {
	s.seq++
	var raw [nonceRaw]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now))
	binary.BigEndian.PutUint64(raw[8:16], s.seq)
	s.tag(raw[16:16], raw[:16])
	return nonceEncoding.EncodeToString(raw[:])
}

// openNonce checks that nonce is one of this server's and returns its issue
// time and its bytes (the replay tracker's key: one nonce has one
// spelling).
func (s *Server) openNonce(nonce string) (effects.Time, [nonceRaw]byte, bool) {
	var raw [nonceRaw]byte
	if len(nonce) != nonceText {
		return 0, raw, false
	}
	n, err := nonceEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || n != nonceRaw {
		return 0, raw, false
	}
	var want [16]byte
	if !hmac.Equal(s.tag(want[:0], raw[:16]), raw[16:]) {
		return 0, raw, false
	}
	return effects.Time(binary.BigEndian.Uint64(raw[0:8])), raw, true
}

// Challenge returns the challenges of a 401 (WWW-Authenticate) or 407
// (Proxy-Authenticate) response issued at now: one per algorithm of
// Algorithms, strongest first (RFC 8760 §2.3), sharing one fresh nonce,
// each with realm, domain (if set), qop, nonce, opaque (if not empty),
// stale=true if stale (answering a Stale verdict, RFC 7616 §3.3),
// algorithm, and userhash=true if UserHash. The server stores nothing.
//
// It panics if Secret is empty.
func (s *Server) Challenge(now effects.Time, stale bool, opaque string) []header.Challenge {
	nonce := s.Nonce(now)
	var common []byte
	quoted := func(name, value string) {
		common = append(common, ',')
		common = append(common, name...)
		common = append(common, '=')
		common, _ = abnf.AppendQuoted(common, value)
	}
	quoted("realm", s.Realm)
	if s.Domain != "" {
		quoted("domain", s.Domain)
	}
	if q := s.qops(); len(q) > 0 {
		var list []byte
		for i, v := range q {
			if i > 0 {
				list = append(list, ',')
			}
			list = append(list, v...)
		}
		quoted("qop", string(list))
	}
	quoted("nonce", nonce)
	if opaque != "" {
		quoted("opaque", opaque)
	}
	if stale {
		common = append(common, ",stale=true"...)
	}
	algs := slices.Clone(s.algorithms())
	if !s.AsGiven {
		slices.SortStableFunc(algs, func(a, b Algorithm) int { return b.Strength() - a.Strength() })
	}
	out := make([]header.Challenge, 0, len(algs))
	for _, a := range algs {
		if !a.Valid() {
			continue
		}
		p := make([]byte, 0, len(common)+40)
		p = append(p, common...)
		p = append(p, ",algorithm="...)
		p = append(p, a.String()...)
		if s.UserHash {
			p = append(p, ",userhash=true"...)
		}
		out = append(out, header.Challenge{Scheme: header.SchemeDigest, Params: header.AuthParams(p)})
	}
	return out
}

// Verify checks the credentials cred of a request (from its Authorization
// or Proxy-Authorization header field for this realm) at now. method is
// the request's method, requestURI its Request-URI as text ("" skips that
// check), body its body (for qop "auth-int"), and user the credentials the
// embedder looked up for cred.Username() (or for the user whose UserHash it
// is, when cred.UserHash()).
//
// Verify checks, in order: the scheme; the realm; the algorithm is one
// offered; the nonce is this server's (HMAC, realm); the uri is present
// and names the Request-URI (RFC 7616 §3.4.6, RFC 3261 §22.4: compared as
// text, then as SIP URIs by RFC 3261 §19.1.4); the username is the user's
// (or its userhash); the qop is one offered, with a nonce count of 8 hex
// digits that is not zero and a cnonce (RFC 7616 §3.4), or absent if
// AllowRFC2069; a cnonce for a "-sess" algorithm; the response. Only then,
// the credentials being right: the nonce's age (Stale if past NonceTTL),
// and that the nonce count was not used before (Bad) and the nonce is not
// forgotten by the replay tracker (Stale).
//
// The error is nil for OK, wraps ErrStale for Stale, and wraps the
// sentinel of the first failed check for Bad. The opaque parameter is not
// checked: it is the caller's. ACK and CANCEL are not verified: they
// cannot be challenged, and carry the INVITE's credentials again (RFC
// 3261 §22.1), which the replay tracker would refuse.
func (s *Server) Verify(now effects.Time, cred header.Credentials, method, requestURI string, body []byte, user Credentials) (Result, error) {
	if !cred.IsDigest() {
		return Bad, fmt.Errorf("%w: %q", ErrScheme, string(cred.Scheme))
	}
	var v [10]string
	getParams(cred.Params, credentialParams, v[:])
	username, realm, nonce, digestURI, response, algorithm, cnonce, qop, ncs := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
	if realm != s.Realm {
		return Bad, fmt.Errorf("%w: %q", ErrRealm, realm)
	}
	alg, ok := ParseAlgorithm(algorithm)
	if !ok || !slices.Contains(s.algorithms(), alg) {
		return Bad, fmt.Errorf("%w: %q", ErrAlgorithm, algorithm)
	}
	issued, raw, ok := s.openNonce(nonce)
	if !ok {
		return Bad, ErrNonce
	}
	if digestURI == "" {
		return Bad, fmt.Errorf("%w: no uri", ErrMalformed)
	}
	if requestURI != "" && !sameURI(digestURI, requestURI) {
		return Bad, fmt.Errorf("%w: %q", ErrURI, digestURI)
	}
	if abnf.EqualFold(v[9], "true") {
		var want [maxHex]byte
		var in [scratch]byte
		if !equalHex(username, alg.sum(want[:0], join(in[:0], user.Username, realm))) {
			return Bad, fmt.Errorf("%w: userhash", ErrUsername)
		}
	} else if username != user.Username {
		return Bad, fmt.Errorf("%w: %q", ErrUsername, username)
	}
	var nc uint32
	switch {
	case qop == "":
		if !s.AllowRFC2069 {
			return Bad, fmt.Errorf("%w: none", ErrQOP)
		}
		ncs = ""
	case !s.offersQOP(qop):
		return Bad, fmt.Errorf("%w: %q", ErrQOP, qop)
	default:
		if nc, ok = parseNC(ncs); !ok || nc == 0 {
			return Bad, fmt.Errorf("%w: nc %q", ErrMalformed, ncs)
		}
		if cnonce == "" {
			return Bad, fmt.Errorf("%w: no cnonce", ErrMalformed)
		}
	}
	if alg.Sess() && cnonce == "" {
		return Bad, fmt.Errorf("%w: no cnonce", ErrMalformed)
	}
	if !isHex(response, alg.Size()) {
		return Bad, fmt.Errorf("%w: response is not %d hex digits", ErrMalformed, alg.Size())
	}
	var ha1b, ha2b, want [maxHex]byte
	ha1, err := user.appendHA1(ha1b[:0], alg, realm, nonce, cnonce)
	if err != nil {
		return Bad, err
	}
	ha2 := appendHA2(ha2b[:0], alg, method, digestURI, qop, body)
	if !equalHex(response, appendResponse(want[:0], alg, ha1, nonce, ncs, cnonce, qop, ha2)) {
		return Bad, ErrResponse
	}

	ttl := s.ttl()
	if age := now.Sub(issued); issued > now || age < 0 || age > ttl {
		return Stale, fmt.Errorf("%w: issued %v ago", ErrStale, age)
	}
	if qop == "" {
		return OK, nil
	}
	s.counts.Max = s.MaxNonces
	if cutoff := now.Add(-ttl); cutoff < now {
		s.counts.Expire(cutoff)
	}
	if err := s.counts.Use(string(raw[:]), issued, nc); err != nil {
		if errors.Is(err, ErrStale) {
			return Stale, err
		}
		return Bad, err
	}
	return OK, nil
}

var credentialParams = []string{"username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "qop", "nc", "userhash"}

// parseNC reads a nonce count: 8LHEX (RFC 7616 §3.4), either case.
func parseNC(s string) (uint32, bool) {
	if !isHex(s, 8) {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		n = n<<4 | uint32(abnf.Unhex(s[i]))
	}
	return n, true
}

func (s *Server) offersQOP(qop string) bool {
	for _, q := range s.qops() {
		if abnf.EqualFold(q, qop) && (abnf.EqualFold(q, QOPAuth) || abnf.EqualFold(q, QOPAuthInt)) {
			return true
		}
	}
	return false
}

// sameURI reports whether the uri parameter names the Request-URI: the
// same text, or equal SIP, SIPS or tel URIs (RFC 3261 §19.1.4).
func sameURI(digestURI, requestURI string) bool {
	if digestURI == requestURI {
		return true
	}
	a, err := uri.Parse(digestURI)
	if err != nil {
		return false
	}
	b, err := uri.Parse(requestURI)
	if err != nil {
		return false
	}
	return uri.Equal(a, b)
}

// Tracked returns the number of nonces the replay tracker remembers: at
// most MaxNonces.
func (s *Server) Tracked() int { return s.counts.Len() }

// AuthenticationInfo returns the Authentication-Info a server adds to the
// response to a request whose credentials Verify accepted (RFC 7616 §3.5,
// RFC 3261 §20.6): qop, rspauth (proving the server knows the user's secret
// too), cnonce and nc. body is the response's body, hashed for qop
// "auth-int". Add a nextnonce with Params.With("nextnonce",
// header.Quote(s.Nonce(now))) to hand the client its next nonce.
func (s *Server) AuthenticationInfo(cred header.Credentials, user Credentials, body []byte) (header.AuthenticationInfo, error) {
	// One pass over the parameters (as Verify reads them).
	var v [10]string
	getParams(cred.Params, credentialParams, v[:])
	realm, nonce, digestURI, algorithm, cnonce, qop, ncs := v[1], v[2], v[3], v[5], v[6], v[7], v[8]
	alg, ok := ParseAlgorithm(algorithm)
	if !ok {
		return header.AuthenticationInfo{}, fmt.Errorf("%w: %q", ErrAlgorithm, algorithm)
	}
	var buf [maxHex]byte
	rsp, err := rspauthOf(buf[:0], alg, realm, nonce, digestURI, cnonce, qop, ncs, &user, body)
	if err != nil {
		return header.AuthenticationInfo{}, err
	}
	if !isHex(ncs, 8) {
		return header.AuthenticationInfo{}, fmt.Errorf("%w: nc %q", ErrMalformed, ncs)
	}
	b := make([]byte, 0, 64+len(rsp)+len(cnonce))
	b = append(b, ",qop="...)
	b = append(b, qop...)
	b = append(b, ",rspauth="...)
	b, _ = abnf.AppendQuoted(b, string(rsp))
	b = append(b, ",cnonce="...)
	b, ok = abnf.AppendQuoted(b, cnonce)
	if !ok || !abnf.IsToken(qop) {
		return header.AuthenticationInfo{}, fmt.Errorf("%w: cnonce or qop", ErrMalformed)
	}
	b = append(b, ",nc="...)
	b = append(b, ncs...)
	return header.AuthenticationInfo{Params: header.AuthParams(b)}, nil
}
