package digest

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/internal/abnf"
)

// The qop-values of RFC 7616 §3.3.
const (
	QOPAuth    = "auth"     // authentication
	QOPAuthInt = "auth-int" // authentication with integrity protection of the body
)

// getParams sets vals[i] to the value of the parameter names[i] of p,
// quoted-strings resolved, in one pass over p; the first of a repeated
// parameter counts, as for the header package's accessors. Bit i of the
// result says whether names[i] is present.
func getParams(p header.AuthParams, names []string, vals []string) (present uint32) {
	s := string(p)
	for i := 0; i < len(s); {
		name, v, _, next := abnf.NextParam(s, i, ',')
		i = next
		for k, n := range names {
			if present&(1<<k) == 0 && abnf.EqualFold(name, n) {
				if len(v) >= 2 && v[0] == '"' {
					v = abnf.Unquote(v)
				}
				vals[k], present = v, present|1<<k
				break
			}
		}
	}
	return present
}

var challengeParams = []string{"realm", "nonce", "algorithm", "qop", "opaque", "userhash", "stale"}

// fields are the Digest parameters of a challenge, read in one pass.
type fields struct {
	digest                       bool
	realm, nonce, algorithm, qop string
	opaque                       string
	hasOpaque, userhash, stale   bool
	alg                          Algorithm // the algorithm, if answerable
	answerable                   bool
}

// read reads the fields of ch and judges whether this package can answer
// it: the Digest scheme, a nonce, a supported algorithm, and no
// qop-options or some that hold "auth" or "auth-int" (RFC 7616 §3.3 and
// RFC 8760 §2.4: a client ignores a challenge whose algorithm it does not
// understand).
func read(ch header.Challenge) fields {
	var v [7]string
	present := getParams(ch.Params, challengeParams, v[:])
	f := fields{
		digest: ch.IsDigest(),
		realm:  v[0], nonce: v[1], algorithm: v[2], qop: v[3], opaque: v[4],
		hasOpaque: present&(1<<4) != 0,
		userhash:  abnf.EqualFold(v[5], "true"),
		stale:     abnf.EqualFold(v[6], "true"),
	}
	if !f.digest || f.nonce == "" {
		return f
	}
	alg, ok := ParseAlgorithm(f.algorithm)
	if !ok {
		return f
	}
	if f.qop != "" {
		if auth, authInt := offers(f.qop); !auth && !authInt {
			return f
		}
	}
	f.alg, f.answerable = alg, true
	return f
}

// offers reports whether the qop-options list q ("auth, auth-int") holds
// "auth" and "auth-int", compared case-insensitively. It is
// header.Challenge.HasQOP without the allocations.
func offers(q string) (auth, authInt bool) {
	for q != "" {
		i := strings.IndexByte(q, ',')
		if i < 0 {
			i = len(q)
		}
		v := abnf.TrimLWS(q[:i])
		auth = auth || abnf.EqualFold(v, QOPAuth)
		authInt = authInt || abnf.EqualFold(v, QOPAuthInt)
		if i == len(q) {
			break
		}
		q = q[i+1:]
	}
	return auth, authInt
}

// chooseQOP returns the qop to answer qop-options q with: "auth" when
// offered (or "auth-int" first if preferInt), else "auth-int", else "" (RFC
// 2069 compatibility when q is empty).
func chooseQOP(q string, preferInt bool) string {
	auth, authInt := offers(q)
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
		if f := read(ch); f.answerable && f.alg.Strength() > found {
			best, found = i, f.alg.Strength()
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
	for _, g := range byRealm(challenges, nil) {
		out = append(out, challenges[g.best])
	}
	return out
}

// realmChoice is the challenge chosen for one realm.
type realmChoice struct {
	realm string
	best  int         // index in the challenges
	creds Credentials // from the lookup, if any
}

// byRealm groups the answerable challenges by realm, in the order realms
// first appear, and picks the strongest of each; with a lookup, only among
// those the realm's credentials can answer, leaving out realms it has none
// for.
func byRealm(challenges []header.Challenge, lookup func(realm string) (Credentials, bool)) []realmChoice {
	var out []realmChoice
	var strength []int
	var known []bool
	for i, ch := range challenges {
		f := read(ch)
		if !f.answerable {
			continue
		}
		k := -1
		for j := range out {
			if out[j].realm == f.realm {
				k = j
				break
			}
		}
		if k < 0 {
			g := realmChoice{realm: f.realm, best: -1}
			ok := true
			if lookup != nil {
				g.creds, ok = lookup(f.realm)
			}
			out, strength, known = append(out, g), append(strength, 0), append(known, ok)
			k = len(out) - 1
		}
		if !known[k] || (lookup != nil && !out[k].creds.Can(f.alg)) {
			continue
		}
		if f.alg.Strength() > strength[k] {
			out[k].best, strength[k] = i, f.alg.Strength()
		}
	}
	kept := out[:0]
	for _, g := range out {
		if g.best >= 0 {
			kept = append(kept, g)
		}
	}
	return kept
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
	f := read(ch)
	return authorize(ch, &f, &c, method, digestURI, body, cnonce, nc, false)
}

func authorize(ch header.Challenge, f *fields, c *Credentials, method, digestURI string, body []byte, cnonce string, nc uint32, preferInt bool) (header.Credentials, error) {
	if !f.digest {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrScheme, string(ch.Scheme))
	}
	alg, ok := ParseAlgorithm(f.algorithm)
	if !ok {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrAlgorithm, f.algorithm)
	}
	nonce := f.nonce
	if nonce == "" {
		return header.Credentials{}, fmt.Errorf("%w: no nonce", ErrChallenge)
	}
	qop := chooseQOP(f.qop, preferInt)
	if qop == "" && f.qop != "" {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrQOP, f.qop)
	}
	if (qop != "" || alg.Sess()) && cnonce == "" {
		return header.Credentials{}, fmt.Errorf("%w: empty cnonce", ErrInvalid)
	}
	if qop != "" && nc == 0 {
		return header.Credentials{}, fmt.Errorf("%w: nonce count 0", ErrInvalid)
	}
	realm := f.realm
	var ha1b, ha2b, respb [maxHex]byte
	ha1, err := c.appendHA1(ha1b[:0], alg, realm, nonce, cnonce)
	if err != nil {
		return header.Credentials{}, err
	}
	var ncb [8]byte
	var ncs []byte
	if qop != "" {
		ncs = appendNC(ncb[:0], nc)
	}
	ha2 := appendHA2(ha2b[:0], alg, method, digestURI, qop, body)
	resp := appendResponse(respb[:0], alg, ha1, nonce, string(ncs), cnonce, qop, ha2)

	username := c.Username
	var uh [maxHex]byte
	if f.userhash {
		var in [scratch]byte
		username = string(alg.sum(uh[:0], join(in[:0], username, realm)))
	}
	b := make([]byte, 0, 128+len(username)+len(realm)+len(nonce)+len(digestURI)+len(resp)+len(cnonce)+len(f.opaque))
	ok = true
	var good bool
	b = append(b, ",username="...)
	b, good = abnf.AppendQuoted(b, username)
	ok = ok && good
	b = append(b, ",realm="...)
	b, good = abnf.AppendQuoted(b, realm)
	ok = ok && good
	b = append(b, ",nonce="...)
	b, good = abnf.AppendQuoted(b, nonce)
	ok = ok && good
	b = append(b, ",uri="...)
	b, good = abnf.AppendQuoted(b, digestURI)
	ok = ok && good
	b = append(b, ",response=\""...)
	b = append(b, resp...)
	b = append(b, '"')
	if f.algorithm != "" {
		b = append(b, ",algorithm="...)
		b = append(b, alg.String()...)
	}
	if qop != "" || alg.Sess() {
		b = append(b, ",cnonce="...)
		b, good = abnf.AppendQuoted(b, cnonce)
		ok = ok && good
	}
	if f.hasOpaque {
		b = append(b, ",opaque="...)
		b, good = abnf.AppendQuoted(b, f.opaque)
		ok = ok && good
	}
	if qop != "" {
		b = append(b, ",qop="...)
		b = append(b, qop...)
		b = append(b, ",nc="...)
		b = append(b, ncs...)
	}
	if f.userhash {
		b = append(b, ",userhash=true"...)
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
	var v [10]string
	getParams(cred.Params, credentialParams, v[:])
	return rspauthOf(dst, alg, v[1], v[2], v[3], v[6], v[7], v[8], c, body)
}

// rspauthOf is rspauth given the credentials' realm, nonce, uri, cnonce,
// qop and nc, already read.
func rspauthOf(dst []byte, alg Algorithm, realm, nonce, digestURI, cnonce, qop, ncs string, c *Credentials, body []byte) ([]byte, error) {
	if qop == "" {
		return dst, fmt.Errorf("%w: rspauth needs a qop", ErrQOP)
	}
	var ha1b, ha2b [maxHex]byte
	ha1, err := c.appendHA1(ha1b[:0], alg, realm, nonce, cnonce)
	if err != nil {
		return dst, err
	}
	ha2 := appendHA2(ha2b[:0], alg, "", digestURI, qop, body)
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
	nonce string
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
func (c *Client) state(ch header.Challenge, f *fields) *clientRealm {
	st := c.find(f.realm)
	if st == nil {
		max := c.MaxRealms
		if max <= 0 {
			max = 16
		}
		if len(c.realms) < max {
			c.realms = append(c.realms, clientRealm{realm: f.realm})
			st = &c.realms[len(c.realms)-1]
		} else {
			st = &c.realms[0]
			for i := range c.realms {
				if c.realms[i].used < st.used {
					st = &c.realms[i]
				}
			}
			*st = clientRealm{realm: f.realm}
		}
	}
	if st.nonce != f.nonce || (f.stale && st.ch.Params != ch.Params) {
		st.ch, st.nonce, st.nc = ch, f.nonce, 0
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
	f := read(ch)
	creds, ok := c.lookup(f.realm)
	if !ok {
		return header.Credentials{}, fmt.Errorf("%w: %q", ErrNoCredentials, f.realm)
	}
	return c.answer(ch, &f, &creds, method, digestURI, body, gen)
}

func (c *Client) answer(ch header.Challenge, f *fields, creds *Credentials, method, digestURI string, body []byte, gen ident.Generator) (header.Credentials, error) {
	if !f.answerable {
		// Let authorize say why.
		cr, err := authorize(ch, f, creds, method, digestURI, body, "-", 1, c.PreferAuthInt)
		if err == nil {
			return header.Credentials{}, ErrChallenge
		}
		return cr, err
	}
	st := c.state(ch, f)
	c.clock++
	st.used = c.clock
	nc := st.nc + 1
	if nc == 0 {
		nc = 1 // 2^32 requests with one nonce: let the server say stale
	}
	cr, err := authorize(ch, f, creds, method, digestURI, body, gen.CallID(), nc, c.PreferAuthInt)
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
	choices := byRealm(challenges, c.lookup)
	var out []header.Credentials
	for i := range choices {
		g := &choices[i]
		ch := challenges[g.best]
		f := read(ch)
		cr, err := c.answer(ch, &f, &g.creds, method, digestURI, body, gen)
		if err != nil {
			return out, err
		}
		out = append(out, cr)
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, ch := range challenges {
		if read(ch).answerable {
			return nil, ErrNoCredentials
		}
	}
	return nil, fmt.Errorf("%w: no Digest challenge with a supported algorithm and qop", ErrChallenge)
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
	f := read(st.ch)
	cr, err := c.answer(st.ch, &f, &creds, method, digestURI, body, gen)
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
