// Package registrar is a SIP registrar (RFC 3261 §10.3) as a pure core:
// REGISTER requests in, responses out, with the location store and the
// credential look-ups of digest authentication asked for as events that
// the owner answers (DESIGN.md §1).
//
// The owner (a transaction user: a plain registrar over a txn.Layer, or a
// proxy core that serves REGISTERs for its domains) hands each REGISTER to
// Handle with a handle of its choosing, unique while the REGISTER is
// pending: its server transaction id fits. The registrar walks RFC 3261
// §10.3's steps and appends effects.Deliver effects whose Event.ID is that
// handle:
//
//   - effects.RegistrarCredentials: look up the credentials of the user the
//     Authorization names (Pending tells who and for which realm); answer
//     with Credentials.
//   - effects.RegistrarLoad: read the bindings of the address of record
//     (Pending tells which); answer with Bindings.
//   - effects.RegistrarStore: apply Pending's location.Update to them,
//     atomically (location.Store.Apply does); answer with Stored.
//   - effects.RegistrarResponse: the response to send, in Event.Msg; the
//     owner passes it to txn.Layer.Respond. It ends the handle.
//
// Answers may come at once (Memory answers from memory within the same
// call) or later, from a database; several REGISTERs may be pending at a
// time. A handle whose transaction went away is dropped with Cancel.
//
// The steps (RFC 3261 §10.3):
//
//  1. The Request-URI's host must be one of Config.Domains, else 404 (Not
//     Found): the registrar has no bindings for that domain, which is what
//     404 says; 403 would claim the request was understood and refused. A
//     proxy that embeds the registrar checks Serves first and forwards
//     REGISTERs for other domains instead (§10.3 step 1).
//  2. Require (and Proxy-Require, unless IgnoreProxyRequire) with an option
//     tag not in Config.Supported: 420 (Bad Extension) with Unsupported
//     (§8.2.2.3).
//  3. With Config.Auth set, the REGISTER must carry digest credentials for
//     its realm, verified with the looked-up user: otherwise 401
//     (Unauthorized) with a fresh challenge, stale=true when the
//     credentials were right but the nonce too old (§22, RFC 7616 §3.3).
//  4. The authenticated user must be allowed to register the To address
//     (Config.Authorize; by default the user parts must match): else 403.
//  5. The To URI, in canonical form (location.Canonical), is the address
//     of record, without its port when that is one of the server's own
//     (Config.Ports) on a served domain (Registrar.AOR); not a sip/sips
//     URI of a served domain: 404.
//  6. Contacts: "*" only alone and with Expires: 0, else 400; each
//     contact's expiry is its expires parameter, else the Expires header
//     field, else DefaultExpires; an expiry above zero and below
//     MinExpires is answered 423 (Interval Too Brief) with Min-Expires; one
//     above MaxExpires is lowered to it.
//  7. The bindings are loaded, the update merged by location.Merge (a
//     REGISTER older than a binding it touches, same Call-ID and a CSeq not
//     higher, fails with 500 as §10.3 step 7 says a failed update must) and
//     stored; too many bindings are refused 403 (retrying cannot help),
//     stored bindings that cannot be read 500, and any other failure of
//     the store (down, too slow, full) 503 with Retry-After, as is a failed
//     credentials look-up (CredentialsFailed).
//  8. 200 (OK) lists every binding with its remaining expires, echoes Path
//     when the client supports path (RFC 3327 §5.3), and for outbound
//     registrations (RFC 5626 §6) says Require: outbound and Flow-Timer.
//     With authentication it carries Authentication-Info (RFC 7616 §3.5).
//     No Date header field is added: the core reads no wall clock.
//
// GRUU (RFC 5627): with Config.GRUUKey set, a REGISTER that says
// Supported: gruu gets, on every Contact of the 200 that has a
// +sip.instance, a pub-gruu and a temp-gruu parameter (§5.2), made by
// package gruu: the pub-gruu is the AOR with gr set to the instance id,
// the temp-gruu the AOR's host with gr set to a sealed token that names
// the AOR, the instance and the binding's Call-ID; the 200 then says
// Supported: gruu. Nothing is stored for them: the binding's AOR,
// Instance and CallID are all it takes, so the pub-gruu never changes and
// the temp-gruu stays the same while the Call-ID does (package gruu notes
// how that simplifies §5.1). A proxy of the domain routes them with the
// same key (GRUUs). A Contact that is itself a GRUU of a served domain is
// refused with 403: it would route back to itself.
//
// A Registrar is not safe for concurrent use.
package registrar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// Defaults of Config.
const (
	DefaultExpires    = time.Hour
	DefaultMinExpires = time.Minute
	DefaultMaxExpires = 24 * time.Hour
	DefaultMaxPending = 10000
	DefaultRetryAfter = 5
)

// Errors of the Registrar's calls, matchable with errors.Is.
var (
	ErrConfig      = errors.New("registrar: invalid configuration")
	ErrNotRegister = errors.New("registrar: not a REGISTER request")
	ErrDuplicate   = errors.New("registrar: handle already pending")
	ErrNoPending   = errors.New("registrar: no such pending REGISTER")
	ErrUnexpected  = errors.New("registrar: answer not expected at this step")
)

// Config configures a Registrar. Zero fields take the defaults documented.
type Config struct {
	// Domains are the hosts the registrar serves, compared
	// case-insensitively; empty serves any.
	Domains []string
	// Ports are the ports the server listens on (the proxy's Config.Port
	// and Config.Ports when it embeds the registrar). On a served domain,
	// the server's own port names the domain itself: an address of
	// record at one of these ports is the one without a port, so
	// sip:alice@example.com:5060 and sip:alice@example.com are stored and
	// looked up (Memory.Lookup) as one. An AOR at any other port stays a
	// distinct one. Nil means the default port of the URI's scheme: 5060
	// for sip, 5061 for sips. See AOR.
	Ports []uint16
	// Auth, when set, authenticates every REGISTER with digest (step 3).
	Auth *digest.Server
	// Authorize reports whether the authenticated user may register aor
	// (step 4); nil allows a user only the AOR whose user part is the user
	// name.
	Authorize func(user string, aor uri.URI) bool
	// DefaultExpires, MinExpires and MaxExpires bound the registration
	// intervals (step 6); whole seconds.
	DefaultExpires, MinExpires, MaxExpires time.Duration
	// Supported are the option tags understood (step 2); nil means "path"
	// and "outbound", and "gruu" with GRUUKey set. Without "outbound"
	// reg-ids are ignored (RFC 5626 §6); without "path" a Path is stored
	// but not echoed; without "gruu" no GRUU is assigned.
	Supported []string
	// GRUUKey, when set (at least gruu.MinKey bytes, secret, the same on
	// every registrar and proxy of the domain and across restarts), makes
	// the registrar assign GRUUs (RFC 5627 §5.2; see the package notes)
	// and keys their temp-gruus. Nil assigns none.
	GRUUKey []byte
	// IgnoreProxyRequire checks only Require: for a registrar behind a
	// proxy that checked Proxy-Require itself (RFC 3261 §16.3 step 5).
	IgnoreProxyRequire bool
	// FlowTimer is the Flow-Timer of outbound 2xx responses (RFC 5626
	// §4.4.1), zero for none.
	FlowTimer time.Duration
	// MaxBindings bounds the bindings of one AOR; zero means
	// location.DefaultMaxBindings.
	MaxBindings int
	// MaxPending bounds the REGISTERs waiting for answers; past it a
	// REGISTER is answered 503 with Retry-After. Zero means
	// DefaultMaxPending.
	MaxPending int
	// RetryAfter is the Retry-After of 503 responses, in seconds; zero
	// means DefaultRetryAfter.
	RetryAfter uint32
	// Gen makes To tags and flow tokens. Required.
	Gen ident.Generator
	// FlowPath, when set, is asked for each REGISTER about the flow it
	// arrived on: a Path value naming this server and that flow (a URI of
	// its own with a flow token, RFC 5626 §5.2) to put first in the
	// bindings' Path (RFC 3327 §4.2 has the proxy nearest the registrar
	// on top), or false for none. A server sharing its location store
	// with other nodes gives its Path for connection-oriented flows: the
	// other nodes then route a request for the binding through it, and it
	// sends the request on the client's connection. The Path is stored,
	// not echoed in the 200 (the client did not send it).
	FlowPath func(flow effects.Peer) (header.Path, bool)
}

// Registrar is the REGISTER processing core.
type Registrar struct {
	cfg     Config
	gruus   *gruu.Keys // nil without GRUUKey
	pending map[uint64]*pending
}

// stage is what a pending REGISTER waits for.
type stage uint8

const (
	waitCredentials stage = iota + 1
	waitLoad
	waitStore
)

// pending is a REGISTER waiting for an answer.
type pending struct {
	stage stage
	req   *message.Message
	from  effects.Peer
	aor   uri.URI
	key   string
	cred  header.Credentials // the Authorization for our realm
	// Its username, userhash flag and realm, read once for Pending.
	username, realm string
	userHash        bool
	user            digest.Credentials // found for it
	authed          bool
	update          location.Update
	paths           []header.Path // the REGISTER's, echoed
	stored          []header.Path // the bindings': FlowPath's, then paths
	outbound        bool          // answer with Require: outbound
	gruu            bool          // answer with GRUUs (RFC 5627 §5.2)
	result          []location.Binding
}

// Pending is what a pending REGISTER asks of its owner.
type Pending struct {
	// Msg is the REGISTER and From where it came from.
	Msg  *message.Message
	From effects.Peer
	// Username, UserHash and Realm name the user whose credentials
	// RegistrarCredentials asks for: the Authorization's username, which is
	// the RFC 7616 §3.4.4 userhash when UserHash is set.
	Username string
	UserHash bool
	Realm    string
	// AOR is the address of record in canonical form and Key its index
	// (location.Key): set from RegistrarLoad on.
	AOR uri.URI
	Key string
	// Update is what RegistrarStore asks to apply.
	Update location.Update
}

// New returns a Registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.Gen == nil {
		return nil, fmt.Errorf("%w: Gen is required", ErrConfig)
	}
	if cfg.Auth != nil && len(cfg.Auth.Secret) == 0 {
		return nil, fmt.Errorf("%w: Auth needs a Secret", ErrConfig)
	}
	cfg.DefaultExpires = orDefault(cfg.DefaultExpires, DefaultExpires)
	cfg.MinExpires = orDefault(cfg.MinExpires, DefaultMinExpires)
	cfg.MaxExpires = orDefault(cfg.MaxExpires, DefaultMaxExpires)
	if cfg.MinExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("%w: MinExpires %v above MaxExpires %v", ErrConfig, cfg.MinExpires, cfg.MaxExpires)
	}
	var gruus *gruu.Keys
	if cfg.GRUUKey != nil {
		k, err := gruu.New(cfg.GRUUKey)
		if err != nil {
			return nil, fmt.Errorf("%w: GRUUKey: %w", ErrConfig, err)
		}
		gruus = k
	}
	if cfg.Supported == nil {
		cfg.Supported = []string{"path", "outbound"}
		if gruus != nil {
			cfg.Supported = append(cfg.Supported, "gruu")
		}
	}
	if cfg.MaxBindings <= 0 {
		cfg.MaxBindings = location.DefaultMaxBindings
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	return &Registrar{cfg: cfg, gruus: gruus, pending: map[uint64]*pending{}}, nil
}

// GRUUs returns the keys of the temp-gruus the registrar assigns (RFC
// 5627 §5.4), nil when it assigns no GRUU (no GRUUKey, or "gruu" not in
// Supported). A proxy that embeds the registrar (proxycore.Config
// Registrar) routes the GRUUs with them.
func (r *Registrar) GRUUs() *gruu.Keys {
	if r.gruus == nil || !r.supports("gruu") {
		return nil
	}
	return r.gruus
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Config returns the configuration in use, defaults filled in.
func (r *Registrar) Config() Config { return r.cfg }

// Serves reports whether the registrar holds the bindings of the domain of
// u, a Request-URI or an address of record (§10.3 step 1).
func (r *Registrar) Serves(u uri.URI) bool {
	if !u.IsSIP() || u.Host == "" {
		return false
	}
	if len(r.cfg.Domains) == 0 {
		return true
	}
	for _, d := range r.cfg.Domains {
		if strings.EqualFold(d, u.Host) {
			return true
		}
	}
	return false
}

// AOR returns the address of record u names, in canonical form
// (location.Canonical, RFC 3261 §10.3 step 5), the port dropped when the
// host is a served domain and the port one of the server's own
// (Config.Ports): that is how the registrar stores it, and how a lookup
// of a Request-URI must name it.
func (r *Registrar) AOR(u uri.URI) (uri.URI, error) {
	aor, err := location.Canonical(u)
	if err != nil {
		return aor, err
	}
	return r.bare(aor), nil
}

// bare returns u without its port when it names a served domain on one of
// the server's own ports.
func (r *Registrar) bare(u uri.URI) uri.URI {
	if u.Port != 0 && r.Serves(u) && r.ownPort(u) {
		u.Port = 0
	}
	return u
}

// ownPort reports whether u's port is one the server listens on.
func (r *Registrar) ownPort(u uri.URI) bool {
	if r.cfg.Ports == nil {
		if u.Scheme == uri.SIPS {
			return u.Port == 5061
		}
		return u.Port == 5060
	}
	return slices.Contains(r.cfg.Ports, u.Port)
}

// Len returns the number of REGISTERs pending.
func (r *Registrar) Len() int { return len(r.pending) }

// Pending returns what the pending REGISTER id asks of its owner.
func (r *Registrar) Pending(id uint64) (Pending, bool) {
	p := r.pending[id]
	if p == nil {
		return Pending{}, false
	}
	return Pending{
		Msg: p.req, From: p.from, Username: p.username, UserHash: p.userHash,
		Realm: p.realm, AOR: p.aor, Key: p.key, Update: p.update,
	}, true
}

// Cancel forgets the pending REGISTER id (its transaction ended): later
// answers for it fail with ErrNoPending.
func (r *Registrar) Cancel(id uint64) { delete(r.pending, id) }

// Handle starts processing the REGISTER req, received from from, under the
// owner's handle id, at now, and appends what follows to out: a response
// (RegistrarResponse) or a question for the owner. It fails, appending
// nothing, if req is not a REGISTER or id is pending already.
func (r *Registrar) Handle(now effects.Time, id uint64, req *message.Message, from effects.Peer, out []effects.Effect) ([]effects.Effect, error) {
	if req == nil || !req.IsRequest() || req.Method() != "REGISTER" {
		return out, ErrNotRegister
	}
	if _, dup := r.pending[id]; dup {
		return out, fmt.Errorf("%w: %d", ErrDuplicate, id)
	}
	p := &pending{req: req, from: from}
	if len(r.pending) >= r.cfg.MaxPending {
		return r.respond(id, p, r.unavailable(p, "Service Unavailable (too many pending registrations)"), out), nil
	}
	r.pending[id] = p
	return r.start(now, id, p, out), nil
}

// start runs steps 1 to 3.
func (r *Registrar) start(now effects.Time, id uint64, p *pending, out []effects.Effect) []effects.Effect {
	if !r.Serves(p.req.RequestURI()) {
		return r.respond(id, p, r.response(p, 404, "Not Found (domain not served)"), out)
	}
	if bad := r.unsupported(p.req); len(bad) > 0 {
		resp := r.response(p, 420, "")
		if resp != nil && message.Add(resp, bad...) != nil {
			resp = r.response(p, 400, "Bad Request (malformed Require)")
		}
		return r.respond(id, p, resp, out)
	}
	if r.cfg.Auth == nil {
		return r.authorized(now, id, p, out)
	}
	cred, ok := r.credentials(p.req)
	if !ok {
		return r.respond(id, p, r.challenge(now, p, false), out)
	}
	p.cred, p.stage = cred, waitCredentials
	p.username, p.userHash, p.realm = cred.Username(), cred.UserHash(), cred.Realm()
	return deliver(out, effects.RegistrarCredentials, id, p.req)
}

// unsupported returns the option tags of Require (and Proxy-Require) that
// are not supported (§8.2.2.3).
func (r *Registrar) unsupported(req *message.Message) []header.Unsupported {
	var bad []header.Unsupported
	check := func(name string) {
		for _, tag := range req.Values(name) {
			if !r.supports(tag) && !containsTag(bad, tag) {
				bad = append(bad, header.Unsupported(tag))
			}
		}
	}
	check("Require")
	if !r.cfg.IgnoreProxyRequire {
		check("Proxy-Require")
	}
	return bad
}

func (r *Registrar) supports(tag string) bool {
	for _, s := range r.cfg.Supported {
		if s == tag {
			return true
		}
	}
	return false
}

func containsTag(tags []header.Unsupported, tag string) bool {
	for _, t := range tags {
		if string(t) == tag {
			return true
		}
	}
	return false
}

// credentials returns the request's digest credentials for our realm.
func (r *Registrar) credentials(req *message.Message) (header.Credentials, bool) {
	all, err := message.All[header.Authorization](req)
	if err != nil {
		return header.Credentials{}, false
	}
	for _, a := range all {
		if a.IsDigest() && a.Realm() == r.cfg.Auth.Realm {
			return a.Credentials, true
		}
	}
	return header.Credentials{}, false
}

// Credentials answers RegistrarCredentials for id: the user's credentials
// in the realm, and whether the user exists (an unknown user is challenged
// again, like a wrong password, so that user names cannot be probed).
func (r *Registrar) Credentials(now effects.Time, id uint64, user digest.Credentials, found bool, out []effects.Effect) ([]effects.Effect, error) {
	p, err := r.expect(id, waitCredentials)
	if err != nil {
		return out, err
	}
	if !found {
		return r.respond(id, p, r.challenge(now, p, false), out), nil
	}
	res, _ := r.cfg.Auth.Verify(now, p.cred, "REGISTER", p.req.RequestURI().String(), []byte(p.req.Body()), user)
	switch res {
	case digest.OK:
		p.user, p.authed = user, true
		return r.authorized(now, id, p, out), nil
	case digest.Stale:
		return r.respond(id, p, r.challenge(now, p, true), out), nil
	}
	return r.respond(id, p, r.challenge(now, p, false), out), nil
}

// CredentialsFailed answers RegistrarCredentials for id when the look-up
// failed (a database down or too slow): 503 with Retry-After, so that the
// client tries again later or elsewhere (RFC 3261 §21.5.4) rather than
// taking a 401 for a wrong password.
func (r *Registrar) CredentialsFailed(now effects.Time, id uint64, lookupErr error, out []effects.Effect) ([]effects.Effect, error) {
	p, err := r.expect(id, waitCredentials)
	if err != nil {
		return out, err
	}
	return r.respond(id, p, r.unavailable(p, "Service Unavailable (credentials look-up failed)"), out), nil
}

// expect returns the pending REGISTER id if it waits at stage s.
func (r *Registrar) expect(id uint64, s stage) (*pending, error) {
	p := r.pending[id]
	if p == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoPending, id)
	}
	if p.stage != s {
		return nil, fmt.Errorf("%w: %d", ErrUnexpected, id)
	}
	return p, nil
}

// authorized runs steps 4 to 6 and asks for the bindings.
func (r *Registrar) authorized(now effects.Time, id uint64, p *pending, out []effects.Effect) []effects.Effect {
	to := p.req.To().URI
	if p.authed && !r.mayRegister(p.user.Username, to) {
		return r.respond(id, p, r.response(p, 403, "Forbidden (not allowed to register this address)"), out)
	}
	aor, err := r.AOR(to)
	if err != nil || !r.Serves(aor) {
		return r.respond(id, p, r.response(p, 404, "Not Found (address of record not served)"), out)
	}
	p.aor, p.key = aor, aor.String()
	if code, reason := r.contacts(now, p); code != 0 {
		resp := r.response(p, code, reason)
		if code == 423 && resp != nil && message.Set(resp, header.MinExpires(seconds(r.cfg.MinExpires))) != nil {
			resp = r.response(p, 500, "")
		}
		return r.respond(id, p, resp, out)
	}
	p.stage = waitLoad
	return deliver(out, effects.RegistrarLoad, id, p.req)
}

func (r *Registrar) mayRegister(user string, aor uri.URI) bool {
	if r.cfg.Authorize != nil {
		return r.cfg.Authorize(user, aor)
	}
	u, err := aor.DecodedUser()
	return err == nil && u == user
}

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// Bindings answers RegistrarLoad for id with the bindings of the address
// of record (expired ones are ignored), or the error that kept the store
// from reading them (answered 503 with Retry-After; 500 when it wraps
// location.ErrEncoding).
func (r *Registrar) Bindings(now effects.Time, id uint64, current []location.Binding, loadErr error, out []effects.Effect) ([]effects.Effect, error) {
	p, err := r.expect(id, waitLoad)
	if err != nil {
		return out, err
	}
	if loadErr != nil {
		return r.respond(id, p, r.failure(p, loadErr), out), nil
	}
	merged, err := location.Merge(now, current, p.update, r.cfg.MaxBindings)
	if err != nil {
		return r.respond(id, p, r.failure(p, err), out), nil
	}
	p.result = merged
	if !p.update.Changes() {
		return r.respond(id, p, r.ok(now, p), out), nil
	}
	p.stage = waitStore
	return deliver(out, effects.RegistrarStore, id, p.req), nil
}

// Stored answers RegistrarStore for id: nil when the update was applied,
// else the error (location.ErrOutOfOrder, ErrTooManyBindings, ErrFull or
// any other, answered as the package notes say). The 200 lists the
// bindings merged from those Bindings gave: a store shared by several
// registrars applies the update with the same rules (location.Merge)
// and should serialise the REGISTERs of one AOR between load and store.
func (r *Registrar) Stored(now effects.Time, id uint64, storeErr error, out []effects.Effect) ([]effects.Effect, error) {
	p, err := r.expect(id, waitStore)
	if err != nil {
		return out, err
	}
	if storeErr != nil {
		return r.respond(id, p, r.failure(p, storeErr), out), nil
	}
	return r.respond(id, p, r.ok(now, p), out), nil
}

// StoredBindings is Stored for a store that applied the update itself,
// atomically against its own current bindings (location.Merge's rules),
// and returns the bindings after it: the 200 lists those (RFC 3261 §10.3
// step 8), which include what other registrars sharing the store wrote
// since Bindings was answered.
func (r *Registrar) StoredBindings(now effects.Time, id uint64, after []location.Binding, storeErr error, out []effects.Effect) ([]effects.Effect, error) {
	p, err := r.expect(id, waitStore)
	if err != nil {
		return out, err
	}
	if storeErr == nil {
		p.result = nil
		for _, b := range after {
			if !b.Expired(now) {
				p.result = append(p.result, b)
			}
		}
	}
	return r.Stored(now, id, storeErr, out)
}

// failure answers a failed load or update (step 7): the merge rules'
// refusals as the package notes say, a store's stored bytes it cannot read
// 500, and any other failure (a database down or too slow) 503 with
// Retry-After: nothing was changed, and the client may try again.
func (r *Registrar) failure(p *pending, err error) *message.Message {
	switch {
	case errors.Is(err, location.ErrOutOfOrder):
		return r.response(p, 500, "Server Internal Error (REGISTER out of order)")
	case errors.Is(err, location.ErrTooManyBindings):
		return r.response(p, 403, "Forbidden (too many bindings)")
	case errors.Is(err, location.ErrFull):
		return r.unavailable(p, "Service Unavailable (location service full)")
	case errors.Is(err, location.ErrEncoding):
		return r.response(p, 500, "Server Internal Error (stored bindings unreadable)")
	}
	return r.unavailable(p, "Service Unavailable (location service)")
}

// deliver appends an event about id.
func deliver(out []effects.Effect, kind effects.EventKind, id uint64, m *message.Message) []effects.Effect {
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: kind, ID: id, Msg: m}})
}

// respond ends id with resp.
func (r *Registrar) respond(id uint64, p *pending, resp *message.Message, out []effects.Effect) []effects.Effect {
	delete(r.pending, id)
	ev := effects.Event{Kind: effects.RegistrarResponse, ID: id, Msg: resp, From: p.from}
	if resp != nil {
		ev.Code = resp.StatusCode()
	} else {
		ev.Err = fmt.Errorf("registrar: no response could be built for the REGISTER")
	}
	return append(out, effects.Effect{Kind: effects.Deliver, Event: ev})
}
