// Package ua is the user agent core for INVITE sessions (RFC 3261 §8, §12 to
// §15, with RFC 3262 reliable provisional responses, RFC 3311 UPDATE, RFC
// 3264 offer/answer and RFC 4028 session timers), as a pure state machine
// over the transaction layer.
//
// A UA places and answers calls. The application drives it with commands
// (Call, Ring, Answer, Reject, Hangup, Update, Accept, Decline) and hears
// about calls through events (effects.Deliver: CallIncoming, CallRinging,
// CallAnswered, CallFailed, CallReinvite, CallEnded, SessionEstablished,
// SessionModified, SessionHeld, SessionResumed). The driver feeds it inputs
// (effects.Input) and carries out the effects it returns, exactly as for
// package txn: a UA owns its transaction layer, and its own timers and
// sends share the same effects.
//
// What the UA core does by itself, as RFC 3261 asks of every UA: the ACK
// for a 2xx (§13.2.2.4) and again for each retransmission; a BYE to every
// extra 2xx of a forked call; CANCEL only after a provisional response
// (§9.1), and on the INVITE's Expires (§13.2.1); the UAS checks of §8.2
// (405 with Allow, 420 with Unsupported, 415 with Accept, 416, 406, 482 for a
// merged request); the 2xx retransmitted until the ACK arrives and a BYE
// after 64·T1 without one (§13.3.1.4); 200 to a CANCEL and 487 to the INVITE
// (§9.2); 491 for glare and the re-INVITE retried after §14.1's random delay;
// 500 for an out-of-order request and 481 for an unknown dialog (§12.2.2);
// PRACK for reliable provisional responses and their retransmission until
// PRACK (RFC 3262); 422 and Min-SE, refresh and expiry of session timers
// (RFC 4028).
//
// A UA also registers (RFC 3261 §10.2, RFC 5626 outbound): Register,
// Unregister, UnregisterAll, Bindings and FetchBindings, with the events
// Registered, RegistrationFailed, Unregistered, RegistrationBindings and
// RegistrationFlowFailed; register.go describes refreshes, retries,
// keep-alives and flow recovery.
//
// A UA is not safe for concurrent use.
package ua

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// CallID names a call in the UA. Zero is no call.
type CallID = uint64

// Config is a UA's identity, capabilities and timer values.
type Config struct {
	// Txn configures the transaction layer (T1, T2, T4, bounds).
	Txn txn.Config
	// AOR is the address of record calls come from, by default.
	AOR uri.URI
	// Contact is this UA's target: where in-dialog requests reach it.
	// Once a registration asking for GRUUs (RegisterOptions.GRUU) has
	// one, dialogs use the GRUU instead (see UA.GRUU); registrations
	// still bind Contact.
	Contact uri.URI
	// TempGRUU makes the UA use its temp-gruu rather than its pub-gruu as
	// the Contact of its dialogs (RFC 5627 §3.1.2: a temp-gruu does not
	// reveal the address of record), when the registrar gave both.
	TempGRUU bool
	// Host and Port are the sent-by of the Vias this UA adds.
	Host string
	Port uint16
	// Allow lists the methods this UA accepts (§8.2.1); default INVITE,
	// ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, MESSAGE, SUBSCRIBE,
	// NOTIFY, REFER. Requests of
	// a method the UA core does not handle itself go to the application
	// (RequestIncoming).
	Allow []string
	// Supported lists the extensions this UA implements (§8.2.2.3); default
	// 100rel, timer and replaces (RFC 3891). Requests needing others are
	// answered 420.
	Supported []string
	// Accept lists the body types this UA understands (§8.2.3); default
	// application/sdp. Other bodies are answered 415.
	Accept []string
	// AcceptOther lists the body types of the requests the application
	// answers (MESSAGE, INFO, ...); others get 415. Nil leaves the
	// choice to the application.
	AcceptOther []string
	// Reliable makes the UA ask for reliable provisional responses
	// (Require: 100rel) on its INVITEs, and send its own provisional
	// responses reliably when the caller supports 100rel.
	Reliable bool
	// SessionExpires is the session interval the UA asks for and grants
	// (RFC 4028), 0 for none; MinSE the smallest it accepts (default 90 s).
	SessionExpires time.Duration
	MinSE          time.Duration
	// RefreshWithUpdate makes session refreshes UPDATEs when the peer
	// allows UPDATE, else re-INVITEs.
	RefreshWithUpdate bool
	// Gen makes tags, branches and Call-IDs, and the random delay of a
	// glare retry.
	Gen ident.Generator
	// UserAgent is the User-Agent and Server value, if any.
	UserAgent string
	// Credentials returns the user name and password (or stored HA1) for
	// a realm that challenges a request of this UA, and false when the
	// application has none; nil leaves every 401 and 407 unanswered.
	// Every request is answered the same way, in and out of dialogs
	// (RFC 3261 §22.2, §22.3; RFC 7616; RFC 8760).
	Credentials func(realm string) (digest.Credentials, bool)
	// PreferAuthInt answers with qop auth-int (the body protected too)
	// when a challenge offers both auth and auth-int.
	PreferAuthInt bool
	// Events lists the event packages this UA serves as a notifier (RFC
	// 6665 §7), written in Allow-Events; SUBSCRIBEs for others get 489.
	// The refer package (RFC 3515) is always added.
	Events []EventPackage
}

func (c Config) withDefaults() Config {
	if c.Allow == nil {
		c.Allow = slices.Clone(DefaultAllow)
	}
	if c.Supported == nil {
		c.Supported = []string{"100rel", "timer", "replaces"}
	}
	c.Events = slices.Clone(c.Events)
	for i := range c.Events {
		if c.Events[i].Expires <= 0 {
			c.Events[i].Expires = time.Hour
		}
	}
	if !slices.ContainsFunc(c.Events, func(p EventPackage) bool { return p.Name == referPackage.Name }) {
		c.Events = append(c.Events, referPackage)
	}
	if c.Accept == nil {
		c.Accept = []string{"application/sdp"}
	}
	if c.MinSE <= 0 {
		c.MinSE = 90 * time.Second
	}
	return c
}

// DefaultAllow are the methods a UA accepts when Config.Allow is nil.
var DefaultAllow = []string{"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "PRACK", "INFO", "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER"}

// Errors from commands and the reasons calls end with, matchable with
// errors.Is.
var (
	ErrNoCall         = errors.New("ua: no such call")
	ErrState          = errors.New("ua: not allowed in the call's state")
	ErrConfig         = errors.New("ua: incomplete configuration")
	ErrPending        = errors.New("ua: an offer or request is already pending")
	ErrRemoteBye      = errors.New("ua: the peer hung up")
	ErrHangup         = errors.New("ua: hung up here")
	ErrNoAck          = errors.New("ua: no ACK for the 2xx within 64·T1")
	ErrSessionExpired = errors.New("ua: the session timer expired")
	ErrDialogGone     = errors.New("ua: the peer no longer knows the dialog")
	ErrTimeout        = errors.New("ua: no response")
	ErrTransport      = errors.New("ua: transport failure")
	ErrCancelled      = errors.New("ua: the call was cancelled")
	ErrNoRequest      = errors.New("ua: no such request")
)

// UA is a user agent core.
type UA struct {
	cfg    Config
	txns   *txn.Layer
	calls  map[CallID]*call
	nextID CallID
	// byDialog finds the session a message belongs to; byTxn what a
	// transaction is for; timers what a UA timer is for.
	byDialog map[dialog.ID]*session
	byTxn    map[txn.ID]txnRole
	timers   map[effects.TimerID]timerRole
	spare    effects.Buffers // buffers for the transaction layer's effects
	nextTmr  uint64
	// merged remembers requests outside a dialog that are being served, to
	// detect a merged request (§8.2.2.2).
	merged map[mergeKey]CallID
	// auth answers challenges when Config.Credentials is set.
	auth *digest.Client
	// requests are the application's requests in progress (Request,
	// CallRequest), and incoming those it has yet to answer (Reply).
	requests    map[uint64]*request
	waitingReqs map[uint64]*incomingReq
	// subs are the subscriptions (RFC 6665, and REFER's), by id and by
	// dialog; subDlgs the dialogs that only subscriptions use (no call's);
	// origins the SUBSCRIBEs still open to forks (RFC 6665 §4.1.2.4).
	subs      map[uint64]*subscription
	subsByDlg map[dialog.ID][]*subscription
	subDlgs   map[dialog.ID]*dialog.Dialog
	origins   map[originKey]*subOrigin
	// regs are the registrations (register.go); respFrom is where the
	// response being handled came from.
	regs     map[uint64]*registration
	respFrom effects.Peer
	// gruuReg is the registration whose GRUU dialogs use, 0 for none.
	gruuReg uint64
}

// uaTimerBit marks the UA's own timer ids and send tags, apart from the
// transaction layer's.
const uaTimerBit = 1 << 63

// New returns a UA. cfg.Contact, cfg.Host and cfg.Gen are required.
func New(cfg Config) (*UA, error) {
	if cfg.Gen == nil || cfg.Host == "" || cfg.Contact.Host == "" {
		return nil, fmt.Errorf("%w: Gen, Host and Contact are required", ErrConfig)
	}
	u := &UA{
		cfg:         cfg.withDefaults(),
		txns:        txn.New(cfg.Txn),
		calls:       map[CallID]*call{},
		byDialog:    map[dialog.ID]*session{},
		byTxn:       map[txn.ID]txnRole{},
		timers:      map[effects.TimerID]timerRole{},
		merged:      map[mergeKey]CallID{},
		requests:    map[uint64]*request{},
		waitingReqs: map[uint64]*incomingReq{},
		subs:        map[uint64]*subscription{},
		subsByDlg:   map[dialog.ID][]*subscription{},
		subDlgs:     map[dialog.ID]*dialog.Dialog{},
		origins:     map[originKey]*subOrigin{},
	}
	if cfg.Credentials != nil {
		u.auth = &digest.Client{Lookup: cfg.Credentials, PreferAuthInt: cfg.PreferAuthInt}
	}
	return u, nil
}

// Config returns the configuration in use.
func (u *UA) Config() Config { return u.cfg }

// Transactions returns the UA's transaction layer, for inspection.
func (u *UA) Transactions() *txn.Layer { return u.txns }

// Calls returns the number of calls the UA holds.
func (u *UA) Calls() int { return len(u.calls) }

// Timers returns the number of the UA's own timers pending (the
// transaction layer's are counted by Transactions).
func (u *UA) Timers() int { return len(u.timers) }

// Dialogs returns the number of dialogs the UA holds: its calls', and
// those only subscriptions use.
func (u *UA) Dialogs() int { return len(u.byDialog) + len(u.subDlgs) }

// SetContact changes this UA's target, as when its address changed (RFC
// 3665 §3.7): new dialogs use it, and the next re-INVITE or UPDATE of each
// established call tells the peer (the dialogs' local target changes now).
// While the UA has a GRUU (UA.GRUU), its dialogs keep it as their target:
// the GRUU reaches the UA wherever it is, once the registration that
// gave it binds the new Contact.
func (u *UA) SetContact(c uri.URI) error {
	if err := c.Validate(); err != nil {
		return err
	}
	u.cfg.Contact = c
	c = u.localContact()
	for _, s := range u.byDialog {
		s.d.LocalTarget = c
	}
	for _, d := range u.subDlgs {
		d.LocalTarget = c
	}
	return nil
}

// Handle feeds the UA one input and appends what it wants done to out.
func (u *UA) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	switch {
	case in.Kind == effects.TimerFired && in.Timer&uaTimerBit != 0:
		return u.timerFired(in.Now, in.Timer, out)
	case in.Kind == effects.SendFailed && in.Tag&uaTimerBit != 0:
		// A send of our own (an ACK, a retransmitted 2xx) failed; the
		// transactions that depend on it will time out. A keep-alive
		// that failed is a registration's failed flow.
		return u.regSendFailed(in.Now, in.Tag, out)
	case in.Kind == effects.ConnClosed:
		// The registrations learn first, so that the REGISTER failing
		// with the connection is retried once.
		out = u.regConnClosed(in.Now, in.Conn, out)
	case in.Kind == effects.Pong:
		// A STUN Binding response to a registration's keep-alive.
		return u.regPong(in.Now, in.Data, out)
	}
	return u.route(in.Now, u.txns.Handle(in, u.buf()), out)
}

// route passes the transaction layer's effects on to the driver, and
// handles the events it delivers.
//
// effs is a buffer from u.buf: route gives it back once done, so that the
// transaction layer's effects cost no allocation in the steady state.
func (u *UA) route(now effects.Time, effs []effects.Effect, out []effects.Effect) []effects.Effect {
	for i := range effs {
		if effs[i].Kind != effects.Deliver {
			out = append(out, effs[i])
		}
	}
	for i := range effs {
		if effs[i].Kind == effects.Deliver {
			out = u.txnEvent(now, effs[i].Event, out)
		}
	}
	u.release(effs)
	return out
}

// buf returns an empty buffer for the transaction layer's effects. Calls
// nest (handling an event may respond, which routes more effects), so the
// spare buffers are a stack.
func (u *UA) buf() []effects.Effect { return u.spare.Get() }

// release takes back a buffer from buf, cleared so that it holds on to no
// message.
func (u *UA) release(b []effects.Effect) { u.spare.Put(b) }

// txnRole is what a transaction is for.
type txnRole struct {
	call *call
	s    *session // the dialog, for in-dialog requests
	kind roleKind
	req  *message.Message // the request of a client transaction
	// owner handles the responses of a client transaction of kind
	// roleOwned, and ref is the owner's handle for it (a request, a
	// registration, a subscription).
	owner clientOwner
	ref   uint64
	// dlg is the dialog of an in-dialog request of an owner (for a call's
	// requests s.d is); to is where the request went; resent counts the
	// times it was sent again (with credentials, or a longer expiry).
	dlg    *dialog.Dialog
	to     effects.Peer
	resent uint8
}

// clientOwner is a part of the UA that sends requests of its own: generic
// requests, registrations, subscriptions. Its transactions are roleOwned;
// a 401 or 407 is answered before the owner sees it, when credentials
// allow, and the request goes again with the same owner and ref.
type clientOwner interface {
	// clientResponse handles a response, provisional or final, to the
	// request r.req.
	clientResponse(now effects.Time, r txnRole, m *message.Message, out []effects.Effect) []effects.Effect
	// clientFailure handles a timeout or transport error (ev.Kind is
	// TxnTimeout or TxnTransportError).
	clientFailure(now effects.Time, r txnRole, ev effects.Event, out []effects.Effect) []effects.Effect
}

type roleKind uint8

const (
	roleInvite   roleKind = iota + 1 // the call's initial INVITE (client or server)
	roleReinvite                     // a re-INVITE (client or server)
	roleUpdate                       // an UPDATE
	roleBye
	roleCancel
	rolePrack
	roleOther // a request answered or sent for no lasting purpose
	roleOwned // a request of a clientOwner
)

// txnEvent handles one event of the transaction layer.
func (u *UA) txnEvent(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	switch ev.Kind {
	case effects.TxnRequest:
		return u.request(now, ev, out)
	case effects.TxnCancel:
		return u.cancelled(now, ev, out)
	case effects.TxnAck:
		return u.ack(now, ev, out)
	case effects.TxnResponse:
		if r, ok := u.byTxn[ev.ID]; ok {
			u.respFrom = ev.From
			return u.response(now, r, ev.Msg, out)
		}
	case effects.TxnStray:
		return u.stray(now, ev.Msg, out)
	case effects.TxnTimeout, effects.TxnTransportError:
		if r, ok := u.byTxn[ev.ID]; ok {
			if r.kind == roleOwned {
				return r.owner.clientFailure(now, r, ev, out)
			}
			return u.failure(now, r, ev, out)
		}
	case effects.TxnTerminated:
		r := u.byTxn[ev.ID]
		delete(u.byTxn, ev.ID)
		if r.kind == roleInvite && u.live(r.call) && r.call.uac && r.call.inviteTxn == ev.ID {
			c := r.call
			if c.state == stCalling {
				// The INVITE transaction ended and no final response made
				// the call: only 2xx responses that could create no dialog
				// came (§12.1.2: no usable To tag or Contact), which
				// §13.2.2.4 cannot acknowledge. The attempt failed, as if
				// nothing had come.
				// A cancelled INVITE given up 64·T1 after its CANCEL
				// (cancelGiveUp abandons it) failed as cancelled.
				code, err := 408, ErrTimeout
				if c.cancelled {
					code, err = 487, ErrCancelled
				}
				if c.refer != 0 {
					out = u.referProgress(now, c, code, "", out)
				}
				out = u.endCall(now, c, out)
				return deliver(out, effects.Event{Kind: effects.CallFailed, ID: c.id, Code: code, Err: err})
			}
			// §13.2.2.4: early dialogs that got no 2xx end with the
			// INVITE transaction.
			for _, s := range c.sessions {
				if s != c.kept && s.d.State == dialog.Early {
					out = u.dropSession(now, s, out)
				}
			}
		}
	}
	return out
}

// newClient starts a client transaction for role and routes its effects.
func (u *UA) newClient(now effects.Time, req *message.Message, to effects.Peer, role txnRole, out []effects.Effect) (txn.ID, []effects.Effect, error) {
	id, effs, err := u.txns.NewClient(now, req, to, u.buf())
	if err != nil {
		u.release(effs)
		return 0, out, err
	}
	role.req, role.to = req, to
	u.byTxn[id] = role
	return id, u.route(now, effs, out), nil
}

// respond answers a server transaction and routes its effects.
func (u *UA) respond(now effects.Time, id txn.ID, resp *message.Message, out []effects.Effect) ([]effects.Effect, error) {
	effs, err := u.txns.Respond(now, id, resp, u.buf())
	return u.route(now, effs, out), err
}

// reply answers a request with a response built for it (extra fields set by
// fill, which may be nil), and routes the effects.
func (u *UA) reply(now effects.Time, id txn.ID, req *message.Message, code int, tag string, fill func(*message.Message) error, out []effects.Effect) []effects.Effect {
	if tag == "" {
		tag = u.cfg.Gen.Tag()
	}
	resp, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: tag})
	if err != nil {
		return out
	}
	if u.cfg.UserAgent != "" {
		message.Set(resp, header.Server(u.cfg.UserAgent))
	}
	if fill != nil {
		if err := fill(resp); err != nil {
			return out
		}
	}
	out, _ = u.respond(now, id, resp, out)
	return out
}

// deliver appends an event for the application.
func deliver(out []effects.Effect, ev effects.Event) []effects.Effect {
	return append(out, effects.Effect{Kind: effects.Deliver, Event: ev})
}

// via returns a Via for a request to to, with a fresh branch.
func (u *UA) via(to effects.Peer) header.Via {
	tr := to.Transport
	if tr == 0 {
		tr = effects.UDP
	}
	return header.Via{Transport: tr.String(), Host: u.cfg.Host, Port: u.cfg.Port, Params: header.Params(";branch=" + u.cfg.Gen.Branch())}
}

// nextHop returns where a request for the URI next goes: its own address
// when it names an IP address, else the fallback (the outbound proxy, or
// the address the call's first request went to). Resolving host names
// (RFC 3263) is the driver's, through the transport.
func nextHop(next uri.URI, fallback effects.Peer) effects.Peer {
	a, ok := next.Addr()
	if !ok {
		return fallback
	}
	if m, ok := next.Params.Get("maddr"); ok {
		if ma, err := netip.ParseAddr(m); err == nil {
			a = ma
		}
	}
	tr := fallback.Transport
	if t := effects.ParseTransport(next.Transport()); t != 0 {
		tr = t
	}
	if next.Scheme == uri.SIPS && !tr.Secure() {
		tr = effects.TLS
	}
	port := next.Port
	if port == 0 {
		port = 5060
		if tr.Secure() {
			port = 5061
		}
	}
	p := effects.Peer{Addr: netip.AddrPortFrom(a, port), Transport: tr}
	if p.Addr == fallback.Addr && p.Transport == fallback.Transport {
		p.Conn = fallback.Conn
	}
	return p
}

// timerRole is what a UA timer is for.
type timerRole struct {
	call *call
	s    *session
	kind timerKind
	// fire handles a timerFunc.
	fire func(now effects.Time, out []effects.Effect) []effects.Effect
}

type timerKind uint8

const (
	timer2xx          timerKind = iota + 1 // retransmit the 2xx (§13.3.1.4)
	timerNoAck                             // 64·T1 without ACK: BYE
	timerExpires                           // the INVITE's Expires ran out: CANCEL
	timerCancel                            // 64·T1 after CANCEL without a final response
	timerGlare                             // retry a re-INVITE after 491 (§14.1)
	timerRel1xx                            // retransmit a reliable provisional response
	timerRel1xxGiveUp                      // 64·T1 without PRACK
	timerRefresh                           // send a session refresh (RFC 4028)
	timerExpiry                            // the session expired (RFC 4028)
	timerFunc                              // a timer of another part of the UA: fire runs
)

// setTimer arms a UA timer and returns its id.
func (u *UA) setTimer(role timerRole, d time.Duration, out []effects.Effect) (effects.TimerID, []effects.Effect) {
	u.nextTmr++
	id := effects.TimerID(uaTimerBit | u.nextTmr)
	u.timers[id] = role
	return id, append(out, effects.Effect{Kind: effects.SetTimer, Timer: id, After: d})
}

// cancelTimer disarms a UA timer if it is pending.
func (u *UA) cancelTimer(id *effects.TimerID, out []effects.Effect) []effects.Effect {
	if *id == 0 {
		return out
	}
	if _, ok := u.timers[*id]; ok {
		delete(u.timers, *id)
		out = append(out, effects.Effect{Kind: effects.CancelTimer, Timer: *id})
	}
	*id = 0
	return out
}

func (u *UA) timerFired(now effects.Time, id effects.TimerID, out []effects.Effect) []effects.Effect {
	role, ok := u.timers[id]
	if !ok {
		return out
	}
	delete(u.timers, id)
	if role.kind == timerFunc {
		return role.fire(now, out)
	}
	c := role.call
	if _, live := u.calls[c.id]; !live {
		return out
	}
	switch role.kind {
	case timer2xx:
		return u.retransmit2xx(now, role.s, out)
	case timerNoAck:
		return u.noAck(now, role.s, out)
	case timerExpires:
		c.tExpires = 0
		return u.expired(now, c, out)
	case timerCancel:
		c.tCancel = 0
		return u.cancelGiveUp(now, c, out)
	case timerGlare:
		role.s.tGlare = 0
		return u.glareRetry(now, role.s, out)
	case timerRel1xx:
		return u.retransmitReliable(now, role.s, out)
	case timerRel1xxGiveUp:
		role.s.tRelGiveUp = 0
		return u.reliableGiveUp(now, role.s, out)
	case timerRefresh:
		role.s.tRefresh = 0
		return u.refresh(now, role.s, out)
	case timerExpiry:
		role.s.tExpiry = 0
		return u.sessionExpired(now, role.s, out)
	}
	return out
}

// t1 is the transaction layer's T1.
func (u *UA) t1() time.Duration { return u.txns.Config().T1 }

// setFuncTimer arms a UA timer that runs fire.
func (u *UA) setFuncTimer(d time.Duration, fire func(now effects.Time, out []effects.Effect) []effects.Effect, out []effects.Effect) (effects.TimerID, []effects.Effect) {
	return u.setTimer(timerRole{kind: timerFunc, fire: fire}, d, out)
}

// sendDirect sends a message the UA core sends outside any transaction: an
// ACK for a 2xx, a 2xx retransmitted after its transaction ended.
func (u *UA) sendDirect(m *message.Message, to effects.Peer, out []effects.Effect) []effects.Effect {
	return append(out, effects.Effect{Kind: effects.Send, Msg: m, To: to, Tag: uaTimerBit})
}
