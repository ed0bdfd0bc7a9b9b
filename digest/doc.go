// Package digest is HTTP Digest access authentication as SIP uses it (RFC
// 3261 §22, RFC 2617, RFC 7616, RFC 8760): the hash computations, a client
// that answers 401 and 407 challenges, and the server side a registrar or a
// proxy needs to challenge requests and verify the credentials that come
// back.
//
// The package is as pure as the protocol core (DESIGN.md §1): it reads no
// clock, no random source and no store. Time comes in as an effects.Time,
// client nonces from an ident.Generator, and a user's password or stored
// HA1 as a Credentials value the caller looked up (a credential look-up is
// an effect the embedder answers: the registrar asks for the user named in
// the Authorization header field, then hands what it found to
// Server.Verify).
//
// Algorithms: MD5, SHA-256 and SHA-512/256 (RFC 8760 §2.1), each also in
// its "-sess" form (RFC 7616 §3.4.2); qop "auth" and "auth-int", and
// answers without qop for RFC 2069 peers (RFC 2617 §3.2.2.1); user name
// hashing (RFC 7616 §3.4.4); rspauth in Authentication-Info (RFC 7616
// §3.5).
//
// Client side: Pick and PickAll choose, among the challenges of a
// response, the strongest one this package supports (per realm for
// PickAll); Authorize builds the Authorization or Proxy-Authorization
// value for one challenge. Client asks the application for credentials per
// realm, draws cnonces from the generator and keeps the nonce count per
// realm and nonce, so that later requests in the same realm reuse the
// nonce with nc incremented (Reauthorize), and a new nonce or stale=true
// starts again at 1. Rejected tells whether a new challenge means
// the server refused the credentials, so that answering again is
// pointless; VerifyRspAuth checks the server's rspauth.
//
// Server side: Server.Challenge issues one challenge per configured
// algorithm, strongest first (RFC 8760 §2.3), all sharing one nonce; by
// default MD5 alone, which deployed MD5-only clients need (see
// Server.Algorithms). The
// nonce carries its own issue time and an HMAC over that time and the
// realm keyed by the server's secret (RFC 7616 §3.3 suggests such a
// construction), so the server needs no per-nonce state to know a nonce is
// its own and how old it is. Server.Verify checks a request's credentials
// and answers OK, Stale (right credentials, nonce too old: challenge again
// with stale=true) or Bad. Replayed nonce counts are caught by NonceCounts,
// a tracker whose memory is bounded whatever the input: when full it
// forgets the nonces issued earliest, which from then on count as stale,
// so their clients authenticate again. Server.AuthenticationInfo adds
// rspauth to the response.
//
// SHA-512-256 is SHA-512/256 of FIPS 180-4 (RFC 7616 §3.2), not SHA-512
// cut to 256 bits: the example of RFC 7616 §3.9.2 was computed with the
// latter, and its errata correct it.
//
// A Server and a Client are not safe for concurrent use.
package digest

import "errors"

// Errors. Verify and the client functions wrap them with detail; match
// them with errors.Is.
var (
	// ErrScheme: the challenge or credentials are not of the Digest
	// scheme.
	ErrScheme = errors.New("digest: not the Digest scheme")
	// ErrAlgorithm: the algorithm is unknown, or not one the server
	// offers.
	ErrAlgorithm = errors.New("digest: unsupported algorithm")
	// ErrQOP: the qop is unknown, or not one the challenge offered.
	ErrQOP = errors.New("digest: unsupported qop")
	// ErrChallenge: the challenge cannot be answered (no nonce, a value
	// that cannot be quoted, no supported challenge at all).
	ErrChallenge = errors.New("digest: unusable challenge")
	// ErrNoCredentials: the application has no credentials for the realm.
	ErrNoCredentials = errors.New("digest: no credentials for the realm")
	// ErrNoSecret: the credentials hold neither a password nor an HA1 for
	// the algorithm's hash.
	ErrNoSecret = errors.New("digest: no password or HA1 for the algorithm")
	// ErrInvalid: an argument is malformed (an HA1 that is not a hex
	// digest of the right length, a nonce count of zero, a value with CR
	// or LF).
	ErrInvalid = errors.New("digest: invalid argument")

	// ErrMalformed: the credentials lack a parameter they need (uri,
	// response, cnonce or nc with a qop) or hold an unreadable one.
	ErrMalformed = errors.New("digest: malformed credentials")
	// ErrRealm: the credentials are for another realm.
	ErrRealm = errors.New("digest: wrong realm")
	// ErrNonce: the nonce is not one this server issued (or was issued
	// under another secret or realm).
	ErrNonce = errors.New("digest: unknown nonce")
	// ErrURI: the uri parameter is not the Request-URI.
	ErrURI = errors.New("digest: uri does not match the Request-URI")
	// ErrUsername: the username (or userhash) is not the user's.
	ErrUsername = errors.New("digest: wrong username")
	// ErrResponse: the response is wrong: wrong password, or a tampered
	// parameter.
	ErrResponse = errors.New("digest: wrong response")
	// ErrStale: the credentials are right but the nonce is too old, from
	// the future, or forgotten by the replay tracker.
	ErrStale = errors.New("digest: stale nonce")
	// ErrReplay: the nonce count was already used with this nonce.
	ErrReplay = errors.New("digest: replayed nonce count")
	// ErrRspAuth: the rspauth of an Authentication-Info header field is
	// missing or wrong.
	ErrRspAuth = errors.New("digest: wrong rspauth")
)
