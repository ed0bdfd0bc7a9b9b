package digest

import (
	"fmt"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/internal/abnf"
)

// The qop-values of RFC 7616 §3.3.
const (
	QOPAuth    = "auth"     // authentication
	QOPAuthInt = "auth-int" // authentication with integrity protection of the body
)

// answerable returns the algorithm of a challenge this package can answer:
// the Digest scheme, a nonce, a supported algorithm, and no qop-options or
// some that hold "auth" or "auth-int" (RFC 7616 §3.3: a client ignores a
// challenge whose algorithm it does not understand; RFC 8760 §2.4).
func answerable(ch header.Challenge) (Algorithm, bool) {
	if !ch.IsDigest() || ch.Nonce() == "" {
		return 0, false
	}
	alg, ok := ParseAlgorithm(ch.Algorithm())
	if !ok {
		return 0, false
	}
	if ch.QOP() != "" && !ch.HasQOP(QOPAuth) && !ch.HasQOP(QOPAuthInt) {
		return 0, false
	}
	return alg, true
}

// chooseQOP returns the qop to answer ch with: "auth" when offered (or
// "auth-int" first if preferInt), else "auth-int", else "" when the
// challenge has no qop-options (RFC 2069 compatibility).
func chooseQOP(ch header.Challenge, preferInt bool) string {
	auth, authInt := ch.HasQOP(QOPAuth), ch.HasQOP(QOPAuthInt)
	switch {
	case preferInt && authInt:
		return QOPAuthInt
	case auth:
		return QOPAuth
	case authInt:
		return QOPAuthInt
	}
	return ""
}

// Pick returns the strongest Digest challenge this package can answer
// among challenges (the WWW-Authenticate or Proxy-Authenticate values of
// one response), and false if there is none. Strength is
// Algorithm.Strength: SHA-512-256 over SHA-256 over MD5, a "-sess" form
// counting as its hash; among equals the first wins, which is the server's
// preference (RFC 8760 §2.3 asks servers to list the preferred first, §2.4
// lets a client's policy choose). Challenges of other schemes, unknown
// algorithms, no nonce, or only unknown qop-values are skipped.
//
// Pick ignores realms; a response that challenges for several realms (a
// forked request, RFC 3261 §22.3) wants PickAll.
func Pick(challenges []header.Challenge) (header.Challenge, bool) {
	best, found := -1, 0
	for i, ch := range challenges {
		alg, ok := answerable(ch)
		if ok && alg.Strength() > found {
			best, found = i, alg.Strength()
		}
	}
	if best < 0 {
		return header.Challenge{}, false
	}
	return challenges[best], true
}

// PickAll returns, for each realm challenged in challenges, the strongest
// challenge Pick would choose among that realm's, in the order the realms
// first appear (RFC 3261 §22.3: a UAC answers every realm of a 401 or 407
// it has credentials for).
func PickAll(challenges []header.Challenge) []header.Challenge {
	var out []header.Challenge
	for i, ch := range challenges {
		if _, ok := answerable(ch); !ok || seenRealm(challenges[:i], ch.Realm()) {
			continue
		}
		if best, ok := pickRealm(challenges[i:], ch.Realm(), nil); ok {
			out = append(out, best)
		}
	}
	return out
}

// seenRealm reports whether an answerable challenge of chs is for realm.
func seenRealm(chs []header.Challenge, realm string) bool {
	for _, ch := range chs {
		if _, ok := answerable(ch); ok && ch.Realm() == realm {
			return true
		}
	}
	return false
}

// pickRealm is Pick among the challenges for realm whose algorithm the
// credentials c (if not nil) can answer.
func pickRealm(chs []header.Challenge, realm string, c *Credentials) (header.Challenge, bool) {
	best, found := -1, 0
	for i, ch := range chs {
		alg, ok := answerable(ch)
		if !ok || ch.Realm() != realm || (c != nil && !c.Can(alg)) {
			continue
		}
		if alg.Strength() > found {
			best, found = i, alg.Strength()
		}
	}
	if best < 0 {
		return header.Challenge{}, false
	}
	return chs[best], true
}

// Authorize answers the challenge ch for a request with the credentials c,
// and returns the credentials to send in an Authorization (for a
// WWW-Authenticate challenge) or Proxy-Authorization (for a
// Proxy-Authenticate one) header field (RFC 3261 §22.2 and §22.3, RFC 7616
// §3.4). method is the request's method (for an ACK or a CANCEL, that of
// the INVITE's: RFC 3261 §22.1), digestURI its Request-URI as sent, body
// its body (hashed only for qop "auth-int"), cnonce a fresh client nonce
// and nc the number of requests, this one included, sent with this nonce.
//
// The answer uses qop "auth" if the challenge offers it, else "auth-int",
// else none (RFC 2069 compatibility; then nc is not sent, and cnonce only
// for a "-sess" algorithm). It carries username (or, when the challenge
// sets userhash=true, the userhash of RFC 7616 §3.4.4), realm, nonce, uri,
// response, algorithm (when the challenge named one), cnonce, opaque (when
// the challenge had one, even empty), qop and nc as 8 hex digits.
func Authorize(ch header.Challenge, c Credentials, method, digestURI string, body []byte, cnonce string, nc uint32) (header.Credentials, error) {
	return authorize(ch, &c, method, digestURI, body, cnonce, nc, false)
}

func authorize(ch header.Challenge, c *Credentials, method, digestURI string, body []byte, cnonce string, nc uint32, preferInt bool) (header.Credentials, error) {
	if !ch.IsDigest() {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrScheme, string(ch.Scheme))
	}
	alg, ok := ParseAlgorithm(ch.Algorithm())
	if !ok {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrAlgorithm, ch.Algorithm())
	}
	nonce := ch.Nonce()
	if nonce == "" {
		return header.Credentials{}, fmt.Errorf("%w: no nonce", ErrChallenge)
	}
	qop := chooseQOP(ch, preferInt)
	if qop == "" && ch.QOP() != "" {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrQOP, ch.QOP())
	}
	if (qop != "" || alg.Sess()) && cnonce == "" {
		return header.Credentials{}, fmt.Errorf("%w: empty cnonce", ErrInvalid)
	}
	if qop != "" && nc == 0 {
		return header.Credentials{}, fmt.Errorf("%w: nonce count 0", ErrInvalid)
	}
	realm := ch.Realm()
	var ha1b, ha2b, respb [maxHex]byte
	ha1, err := c.appendHA1(ha1b[:0], alg, realm, nonce, cnonce)
	if err != nil {
		return header.Credentials{}, err
	}
	var ncb [8]byte
	ncs := ""
	if qop != "" {
		ncs = string(appendNC(ncb[:0], nc))
	}
	ha2 := appendHA2(ha2b[:0], alg, method, digestURI, qop, body)
	resp := appendResponse(respb[:0], alg, ha1, nonce, ncs, cnonce, qop, ha2)

	username := c.Username
	hashed := ch.UserHash()
	if hashed {
		username = UserHash(alg, username, realm)
	}
	b := make([]byte, 0, 96+len(username)+len(realm)+len(nonce)+len(digestURI)+len(resp)+len(cnonce)+len(ch.Params)/4)
	ok = true
	quoted := func(name, value string) {
		b = append(b, ',')
		b = append(b, name...)
		b = append(b, '=')
		var good bool
		b, good = abnf.AppendQuoted(b, value)
		ok = ok && good
	}
	token := func(name, value string) {
		b = append(b, ',')
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, value...)
	}
	quoted("username", username)
	quoted("realm", realm)
	quoted("nonce", nonce)
	quoted("uri", digestURI)
	quoted("response", string(resp))
	if ch.Algorithm() != "" {
		token("algorithm", alg.String())
	}
	if qop != "" || alg.Sess() {
		quoted("cnonce", cnonce)
	}
	if opaque, has := ch.Opaque(); has {
		quoted("opaque", opaque)
	}
	if qop != "" {
		token("qop", qop)
		token("nc", ncs)
	}
	if hashed {
		token("userhash", "true")
	}
	if !ok {
		return header.Credentials{}, fmt.Errorf("%w: a value holds CR or LF", ErrInvalid)
	}
	return header.Credentials{Scheme: header.SchemeDigest, Params: header.AuthParams(b)}, nil
}

// Rejected reports whether a challenge ch, received in answer to a
// request that carried the credentials sent, means the credentials
// themselves were refused (RFC 7616 §3.3: stale=false means the user name
// or password is wrong), so that retrying would only fail again: ch is for
// sent's realm, is not stale, and sent answered a fresh challenge (its
// nonce count is 1, or it had none) rather than reusing an older nonce,
// which a server may refuse without saying stale. A UA core reports the
// failure instead of answering again.
func Rejected(sent header.Credentials, ch header.Challenge) bool {
	if !sent.IsDigest() || !ch.IsDigest() || sent.Realm() != ch.Realm() || ch.Stale() {
		return false
	}
	nc, ok := sent.NC()
	return !ok || nc == 1
}

// VerifyRspAuth checks the rspauth of an Authentication-Info header field
// (RFC 7616 §3.5) that answers a request sent with the credentials sent:
// the server proves it knows the user's secret too. c are the credentials
// sent was made with, body the response's body (hashed for qop
// "auth-int"). It returns an error wrapping ErrRspAuth if rspauth is absent
// or wrong.
func VerifyRspAuth(info header.AuthenticationInfo, sent header.Credentials, c Credentials, body []byte) error {
	alg, ok := ParseAlgorithm(sent.Algorithm())
	if !ok {
		return fmt.Errorf("%w: %q", ErrAlgorithm, sent.Algorithm())
	}
	got := info.RspAuth()
	if got == "" {
		return fmt.Errorf("%w: none", ErrRspAuth)
	}
	var want [maxHex]byte
	w, err := rspauth(want[:0], alg, sent, &c, body)
	if err != nil {
		return err
	}
	if !equalHex(got, w) {
		return ErrRspAuth
	}
	return nil
}

// rspauth appends the response-digest of RFC 7616 §3.5: the request-digest
// computed with an A2 of ":" uri (or ":" uri ":" H(body) for "auth-int").
func rspauth(dst []byte, alg Algorithm, cred header.Credentials, c *Credentials, body []byte) ([]byte, error) {
	qop, nonce, cnonce := cred.QOP(), cred.Nonce(), cred.CNonce()
	if qop == "" {
		return dst, fmt.Errorf("%w: rspauth needs a qop", ErrQOP)
	}
	ncs, _ := cred.Params.Unquoted("nc")
	var ha1b, ha2b [maxHex]byte
	ha1, err := c.appendHA1(ha1b[:0], alg, cred.Realm(), nonce, cnonce)
	if err != nil {
		return dst, err
	}
	ha2 := appendHA2(ha2b[:0], alg, "", cred.URI(), qop, body)
	return appendResponse(dst, alg, ha1, nonce, ncs, cnonce, qop, ha2), nil
}

// Client answers challenges for a user agent: it asks the application for
// the credentials of each realm, picks the challenge to answer, draws a
// fresh cnonce from the generator for each answer and keeps the nonce
// count. For each realm it remembers the last challenge answered (at most
// MaxRealms realms, the least recently used forgotten first), so that the
// next request in that realm, in or out of a dialog, can carry credentials
// at once (Reauthorize) with the nonce count one higher; a challenge with a
// new nonce, or stale=true, starts the count again at 1.
//
// The zero Client has no credentials; set Lookup.
type Client struct {
	// Lookup returns the credentials for a realm, and false if the
	// application has none: challenges for that realm go unanswered.
	Lookup func(realm string) (Credentials, bool)
	// PreferAuthInt answers with qop "auth-int" when a challenge offers
	// both "auth" and "auth-int".
	PreferAuthInt bool
	// MaxRealms bounds the realms remembered; zero means 16.
	MaxRealms int

	realms []clientRealm
	clock  uint64 // use counter, for least-recently-used eviction
}

type clientRealm struct {
	realm string
	ch    header.Challenge
	nc    uint32
	used  uint64
}

func (c *Client) find(realm string) *clientRealm {
	for i := range c.realms {
		if c.realms[i].realm == realm {
			return &c.realms[i]
		}
	}
	return nil
}

// state returns the remembered state of ch's realm, made fresh (nc 0) for
// a new nonce or a new stale challenge.
func (c *Client) state(ch header.Challenge) *clientRealm {
	realm := ch.Realm()
	st := c.find(realm)
	if st == nil {
		max := c.MaxRealms
		if max <= 0 {
			max = 16
		}
		if len(c.realms) < max {
			c.realms = append(c.realms, clientRealm{realm: realm})
			st = &c.realms[len(c.realms)-1]
		} else {
			st = &c.realms[0]
			for i := range c.realms {
				if c.realms[i].used < st.used {
					st = &c.realms[i]
				}
			}
			*st = clientRealm{realm: realm}
		}
	}
	if st.ch.Nonce() != ch.Nonce() || (ch.Stale() && st.ch.Params != ch.Params) {
		st.ch, st.nc = ch, 0
	}
	return st
}

func (c *Client) lookup(realm string) (Credentials, bool) {
	if c.Lookup == nil {
		return Credentials{}, false
	}
	return c.Lookup(realm)
}

// Authorize answers one challenge like the package's Authorize, with the
// credentials Lookup gives for its realm, a cnonce from gen (a CallID:
// about 142 bits) and the next nonce count for its nonce. It returns an
// error wrapping ErrNoCredentials when Lookup has none.
func (c *Client) Authorize(ch header.Challenge, method, digestURI string, body []byte, gen ident.Generator) (header.Credentials, error) {
	creds, ok := c.lookup(ch.Realm())
	if !ok {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrNoCredentials, ch.Realm())
	}
	return c.answer(ch, &creds, method, digestURI, body, gen)
}

func (c *Client) answer(ch header.Challenge, creds *Credentials, method, digestURI string, body []byte, gen ident.Generator) (header.Credentials, error) {
	if _, ok := answerable(ch); !ok {
		// Let authorize say why.
		cr, err := authorize(ch, creds, method, digestURI, body, "-", 1, c.PreferAuthInt)
		if err == nil {
			return header.Credentials{}, ErrChallenge
		}
		return cr, err
	}
	st := c.state(ch)
	c.clock++
	st.used = c.clock
	nc := st.nc + 1
	if nc == 0 {
		nc = 1 // 2^32 requests with one nonce: let the server say stale
	}
	cr, err := authorize(ch, creds, method, digestURI, body, gen.CallID(), nc, c.PreferAuthInt)
	if err == nil {
		st.nc = nc
	}
	return cr, err
}

// Answer answers the challenges of one 401 or 407 response (all its
// WWW-Authenticate, or all its Proxy-Authenticate, values): for each realm
// challenged that Lookup has credentials for, the strongest challenge those
// credentials can answer (see Pick), in the order the realms first appear
// (RFC 3261 §22.3). Realms without credentials are skipped; if no realm
// could be answered, the error wraps ErrNoCredentials, or ErrChallenge if
// no challenge was answerable at all.
func (c *Client) Answer(challenges []header.Challenge, method, digestURI string, body []byte, gen ident.Generator) ([]header.Credentials, error) {
	var out []header.Credentials
	anyUsable := false
	for i, ch := range challenges {
		if _, ok := answerable(ch); !ok || seenRealm(challenges[:i], ch.Realm()) {
			continue
		}
		anyUsable = true
		realm := ch.Realm()
		creds, ok := c.lookup(realm)
		if !ok {
			continue
		}
		best, ok := pickRealm(challenges[i:], realm, &creds)
		if !ok {
			continue
		}
		cr, err := c.answer(best, &creds, method, digestURI, body, gen)
		if err != nil {
			return out, err
		}
		out = append(out, cr)
	}
	switch {
	case len(out) > 0:
		return out, nil
	case !anyUsable:
		return nil, fmt.Errorf("%w: no Digest challenge with a supported algorithm and qop", ErrChallenge)
	}
	return nil, ErrNoCredentials
}

// Reauthorize answers the last challenge remembered for realm again, for a
// new request (RFC 7616 §3.4: a client may reuse a nonce until the server
// says it is stale), with the next nonce count and a fresh cnonce. It
// returns false if no challenge is remembered for realm or Lookup has no
// credentials for it.
func (c *Client) Reauthorize(realm, method, digestURI string, body []byte, gen ident.Generator) (header.Credentials, bool, error) {
	st := c.find(realm)
	if st == nil {
		return header.Credentials{}, false, nil
	}
	creds, ok := c.lookup(realm)
	if !ok {
		return header.Credentials{}, false, nil
	}
	cr, err := c.answer(st.ch, &creds, method, digestURI, body, gen)
	return cr, err == nil, err
}

// Forget drops what the Client remembers of realm (after a failure, or
// when the user's credentials change).
func (c *Client) Forget(realm string) {
	for i := range c.realms {
		if c.realms[i].realm == realm {
			c.realms = append(c.realms[:i], c.realms[i+1:]...)
			return
		}
	}
}

// Realms returns how many realms the Client remembers.
func (c *Client) Realms() int { return len(c.realms) }

// equalHex compares a received hex digest with the expected lowercase one
// in constant time, ignoring the case of the received one.
func equalHex(got string, want []byte) bool {
	if len(got) != len(want) {
		return false
	}
	var diff byte
	for i := 0; i < len(want); i++ {
		c := got[i]
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		diff |= c ^ want[i]
	}
	return diff == 0
}
