package proxycore

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
	"github.com/sansip/sansip/proxycore/flow"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// Config is a proxy's identity, policy and limits. Zero fields take the
// defaults documented here.
type Config struct {
	// Txn configures the stateful proxy's transaction layer.
	Txn txn.Config
	// Gen makes the proxy's To tags and the branches of the CANCELs it
	// sends. Required by New.
	Gen ident.Generator
	// Host and Port are the proxy's sent-by (its Vias) and the host of its
	// Record-Route URIs. Port 0 means 5060.
	Host string
	Port uint16
	// Aliases are other host names and addresses of this proxy (on the
	// same port): a Route or Request-URI naming one of them names the
	// proxy (RFC 3261 §16.4).
	Aliases []string
	// Ports are other ports the proxy listens on (TLS on 5061, a
	// WebSocket port...): a URI naming one of its hosts on one of them
	// names the proxy too.
	Ports []uint16
	// Domains are the domains the proxy is responsible for (RFC 3261
	// §16.5): only requests for them go to the application's routing
	// decision. Empty means every request outside a dialog does.
	Domains []string
	// RecordRoute makes the proxy stay on the path of the dialogs that
	// requests outside a dialog create (RFC 3261 §16.6 step 4); it
	// record-routes twice when the outgoing transport differs from the
	// incoming one.
	RecordRoute bool
	// Supported lists the option tags the proxy understands in
	// Proxy-Require (RFC 3261 §16.3 step 5); others get 420.
	Supported []string
	// Router decides the targets of a request at once (RFC 3261 §16.5). Nil
	// proxies every request to its Request-URI, unless Ask is set.
	Router Router
	// Registrar, when set, answers the REGISTERs for the domains it serves
	// (RFC 3261 §10.3) instead of proxying them.
	Registrar Registrar
	// Location, when set and Router is nil, routes requests for the
	// domains the proxy serves to the bindings of their address of record
	// (RFC 3261 §16.5); see Proxy.locate.
	Location Locator
	// GRUU, when set, are the keys of the temp-gruus of the domains the
	// proxy serves (RFC 5627; the registrar's Config.GRUUKey): requests
	// to a GRUU of those domains reach only the instance it names (see
	// Proxy.Located). Nil takes them from Registrar when it has them
	// (registrar.Registrar and registrar.Memory do, with a GRUUKey);
	// without keys the gr parameter is not looked at.
	GRUU *gruu.Keys
	// Flows, when set, makes the proxy the edge of its clients' flows
	// (RFC 5626 §5.3): a request whose Route of ours carries a flow token
	// of these Tokens goes out on that flow (the client's connection),
	// unless it came in on it; a binding whose Path starts with such a
	// URI of ours (FlowPath, given to the registrar) is reached on its
	// flow directly. Several nodes sharing a location store reach a
	// client connected to one of them this way.
	Flows *flow.Tokens
	// Ask makes the stateful proxy deliver ProxyRequest for each request
	// that needs a routing decision and wait for Decide, when Router is
	// nil.
	Ask bool
	// AnswerTimeout bounds how long a request waits for the application's
	// Decide or Credentials; past it the proxy answers 504. Default 32 s.
	AnswerTimeout time.Duration
	// Auth, when set, makes the proxy require Proxy-Authorization (RFC 3261
	// §22.3).
	Auth *Auth
	// TimerC bounds how long a forwarded INVITE waits for a final response
	// (RFC 3261 §16.6 step 11); it must be over 3 minutes, the default is
	// 3 min 30 s. Each provisional response (101 to 199) restarts it.
	TimerC time.Duration
	// MaxContexts bounds the response contexts in progress (requests
	// being proxied statefully that have no final answer yet, or a
	// branch still going); past it requests are answered 503 with
	// Retry-After. A settled context lingers only with its transactions,
	// holding no message, and counts against the transaction layer's
	// MaxTransactions instead. Default 100000.
	MaxContexts int
	// MaxBreadth is the Max-Breadth of requests that come without one
	// (RFC 5393 §5.3), and the most this proxy grants; default 60.
	MaxBreadth int
	// MaxTargets bounds the targets of one request, 3xx recursion
	// included; default 32.
	MaxTargets int
	// MaxPending bounds the messages waiting for a DNS answer outside any
	// transaction (stateless forwarding, ACKs for 2xx); default 1024.
	MaxPending int
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 5060
	}
	if c.TimerC <= 0 {
		c.TimerC = 3*time.Minute + 30*time.Second
	}
	if c.AnswerTimeout <= 0 {
		c.AnswerTimeout = 32 * time.Second
	}
	if c.MaxContexts <= 0 {
		c.MaxContexts = 100000
	}
	if c.MaxBreadth <= 0 {
		c.MaxBreadth = 60
	}
	if c.MaxTargets <= 0 {
		c.MaxTargets = 32
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 1024
	}
	return c
}

// Auth is the proxy's digest authentication policy (RFC 3261 §22.3).
type Auth struct {
	// Server issues the challenges of 407 responses and verifies
	// Proxy-Authorization credentials for its realm.
	Server *digest.Server
	// Lookup returns the credentials of a user at once. Nil makes the
	// proxy deliver ProxyCredentials and wait for Proxy.Credentials (a
	// look-up in a database, answered later). A Users map answers from
	// memory: Lookup: users.Lookup.
	Lookup func(user string) (digest.Credentials, bool)
	// Exempt, when set, says which requests need no authentication (for
	// example those from trusted peers). ACK and CANCEL never do (RFC 3261
	// §22.1).
	Exempt func(req *message.Message, from effects.Peer) bool
}

// Users is an in-memory credential store keyed by user name.
type Users map[string]digest.Credentials

// Lookup returns the credentials of user.
func (u Users) Lookup(user string) (digest.Credentials, bool) {
	c, ok := u[user]
	return c, ok
}

// ForkMode says how the targets of a request are tried (RFC 3261 §16.6).
type ForkMode uint8

// The fork modes.
const (
	// ByQ, the zero value, tries targets in groups of equal q-value, the
	// highest first; a group's targets are tried in parallel, the next
	// group only when the current one failed.
	ByQ ForkMode = iota
	// Parallel tries every target at once, whatever its q-value.
	Parallel
	// Serial tries the targets one at a time, highest q-value first.
	Serial
)

// Target is one place a request is proxied to: a URI with its q-value and,
// optionally, the next hop and route set to use.
//
// A location service's binding maps onto a Target directly: its Contact is
// URI, its q-value Q, its Path Routes (RFC 3327) and its outbound flow Peer
// (RFC 5626).
type Target struct {
	// URI becomes the forwarded request's Request-URI.
	URI uri.URI
	// Q is the q-value in thousandths; targets with a higher Q are tried
	// first (ByQ, Serial). Targets that all leave it zero are equal.
	Q int
	// Peer, when its address is valid, is the fixed next hop: no DNS
	// look-up is made.
	Peer effects.Peer
	// Routes are pushed as Route header fields in front of any the request
	// carries (a registration's Path, RFC 3327 §5.3).
	Routes []uri.URI
}

// Field is a header field to add to a response.
type Field struct {
	Name, Value string
}

// Decision is the application's answer to a routing question (RFC 3261
// §16.5): proxy to Targets, reply with Code, or, when both are zero, proxy
// to the Request-URI.
type Decision struct {
	// Targets are where to proxy the request.
	Targets []Target
	// Code, when not zero, answers the request with this status (a
	// redirect server answers 302 with Contacts; 404, 480, 603 ...).
	Code   int
	Reason string
	// Contacts are the response's Contact values (3xx, 485).
	Contacts []header.Contact
	// Headers are more header fields for the response.
	Headers []Field
	// Fork says how Targets are tried.
	Fork ForkMode
	// BranchTimeout, when set, bounds how long one branch is tried before
	// the next group (ByQ) or target (Serial) starts; it is cancelled then.
	BranchTimeout time.Duration
	// Recurse makes the Contacts of 3xx responses new targets (RFC 3261
	// §16.7 step 4).
	Recurse bool
	// RecordRoute, when not RecordRouteDefault, overrides
	// Config.RecordRoute for this request (RFC 3261 §16.6 step 4).
	RecordRoute RecordRouteMode
	// Add are header fields added to every request forwarded for this
	// decision, after Remove has taken the fields it names away.
	Add []Field
	// Remove names header fields taken out of every request forwarded
	// for this decision (a caller's P-Asserted-Identity, say). The fields
	// a proxy must keep (Via, From, To, Call-ID, CSeq, Max-Forwards,
	// Route, Record-Route, Contact, Content-Length, Content-Type) cannot
	// be removed or added: Validate refuses them.
	Remove []string
}

// RecordRouteMode says whether a proxy stays on the path of the dialog a
// request creates.
type RecordRouteMode uint8

// The record-route modes.
const (
	// RecordRouteDefault follows Config.RecordRoute.
	RecordRouteDefault RecordRouteMode = iota
	// RecordRouteOn adds Record-Route (twice on a transport change).
	RecordRouteOn
	// RecordRouteOff adds none.
	RecordRouteOff
)

// ErrDecision: a routing decision that cannot be carried out.
var ErrDecision = errors.New("proxycore: invalid routing decision")

// kept are the header fields a decision may not add or remove: those the
// proxy itself manages or that define the transaction and the dialog.
var kept = []string{"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "max-forwards", "route", "record-route", "contact", "m", "content-length", "l", "content-type", "c"}

// Validate reports what makes d impossible to carry out: a status code
// outside 200 to 699, a target without a URI, a header field that is not
// a token or a value that is not a header value, or one that a decision
// may not touch (see Remove).
func (d Decision) Validate() error {
	if d.Code != 0 && (d.Code < 200 || d.Code > 699) {
		return fmt.Errorf("%w: status code %d", ErrDecision, d.Code)
	}
	for _, t := range d.Targets {
		if err := t.URI.Validate(); err != nil {
			return fmt.Errorf("%w: target %q: %w", ErrDecision, t.URI.String(), err)
		}
	}
	for _, f := range d.Add {
		if err := message.CheckField(f.Name, f.Value); err != nil {
			return fmt.Errorf("%w: add %s: %w", ErrDecision, f.Name, err)
		}
		if slices.Contains(kept, strings.ToLower(f.Name)) {
			return fmt.Errorf("%w: add %s: the proxy manages that field", ErrDecision, f.Name)
		}
	}
	for _, name := range d.Remove {
		if !header.ValidName(name) {
			return fmt.Errorf("%w: remove %q: not a header field name", ErrDecision, name)
		}
		if slices.Contains(kept, strings.ToLower(name)) {
			return fmt.Errorf("%w: remove %s: the proxy manages that field", ErrDecision, name)
		}
	}
	for _, f := range d.Headers {
		if err := message.CheckField(f.Name, f.Value); err != nil {
			return fmt.Errorf("%w: response field %s: %w", ErrDecision, f.Name, err)
		}
	}
	return nil
}

// ProxyTo returns the Decision to proxy to targets.
func ProxyTo(targets ...Target) Decision { return Decision{Targets: targets} }

// Reply returns the Decision to answer with code.
func Reply(code int) Decision { return Decision{Code: code} }

// Redirect returns the Decision to answer 302 (Moved Temporarily) with
// contacts, as a redirect server does (RFC 3261 §8.3).
func Redirect(contacts ...header.Contact) Decision {
	return Decision{Code: 302, Contacts: contacts}
}

// RequestURI returns the Decision to proxy to the Request-URI only.
func RequestURI() Decision { return Decision{} }

// Router decides at once where a request goes (RFC 3261 §16.5). Set as
// Config.Router, it answers every routing question without an event; it
// also answers a ProxyRequest event with Answer.
type Router func(req *message.Message) Decision

// Answer answers a ProxyRequest event ev of p with the router's decision.
func (r Router) Answer(now effects.Time, p *Proxy, ev effects.Event, out []effects.Effect) ([]effects.Effect, error) {
	return p.Decide(now, ev.ID, r(ev.Msg), out)
}
