// Package effects is the vocabulary sansip's protocol core speaks with the
// world (DESIGN.md §1). Every core layer is a deterministic state machine:
// it takes an Input (bytes received, a timer fired, a send that failed, a
// connection that closed, a DNS answer) or an API call, and returns Effects
// (send this there, set or cancel this timer, deliver this event, resolve
// this name, close this connection). A driver turns effects into sockets,
// timers and lookups and feeds what happens back as inputs.
//
// Time enters only through inputs: each carries Now, read by the driver from
// its clock (or by a simulator from a virtual one). Timer effects carry an
// id the core chose and a duration; when it elapses the driver feeds back a
// TimerFired input with that id. The core never reads a clock.
//
// Effects are plain values appended to a slice the caller owns and reuses,
// so producing one never allocates. An embedder writes one loop:
//
//	out = core.Handle(in, out[:0])
//	for i := range out {
//		switch e := &out[i]; e.Kind {
//		case effects.Send:
//			conn.WriteTo(e.Msg.AppendTo(buf[:0]), e.To)
//		case effects.SetTimer:
//			timers.Set(e.Timer, e.After)
//		case effects.CancelTimer:
//			timers.Cancel(e.Timer)
//		case effects.Deliver:
//			app.Handle(e.Event)
//		}
//	}
package effects

import (
	"net/netip"
	"strings"
	"time"

	"github.com/sansip/sansip/message"
)

// Time is a point on the driver's monotonic clock, in nanoseconds from an
// arbitrary origin. Only differences between Times mean anything.
type Time int64

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// TimerID names a timer the core asked for. At most one timer with a given
// id is pending at any moment.
type TimerID uint64

// ConnID names a connection the driver owns (TCP, TLS, WebSocket). Zero
// means none: a datagram transport, or "any connection to the address".
type ConnID uint64

// Transport is a SIP transport protocol (RFC 3261 §18, RFC 7118).
type Transport uint8

// The transports. The zero value is invalid.
const (
	UDP Transport = iota + 1
	TCP
	TLS
	SCTP
	WS
	WSS
)

// String returns the transport's name as Via writes it.
func (t Transport) String() string {
	switch t {
	case UDP:
		return "UDP"
	case TCP:
		return "TCP"
	case TLS:
		return "TLS"
	case SCTP:
		return "SCTP"
	case WS:
		return "WS"
	case WSS:
		return "WSS"
	}
	return "invalid"
}

// Reliable reports whether the transport delivers reliably, in order:
// transactions then retransmit nothing and their wait timers are zero
// (RFC 3261 §17).
func (t Transport) Reliable() bool { return t != UDP && t != 0 }

// Secure reports whether the transport is encrypted (TLS, WSS), as sips
// URIs require.
func (t Transport) Secure() bool { return t == TLS || t == WSS }

// ParseTransport returns the transport named s (any case), or 0.
func ParseTransport(s string) Transport {
	switch strings.ToUpper(s) {
	case "UDP":
		return UDP
	case "TCP":
		return TCP
	case "TLS":
		return TLS
	case "SCTP":
		return SCTP
	case "WS":
		return WS
	case "WSS":
		return WSS
	}
	return 0
}

// Peer is the far end of a transport flow: its address and transport, and
// the connection, when there is one, that a message came on or must go out
// on.
type Peer struct {
	Addr      netip.AddrPort
	Transport Transport
	Conn      ConnID
}

// String returns "transport:addr" (and "#conn" when set).
func (p Peer) String() string {
	s := p.Transport.String() + ":" + p.Addr.String()
	if p.Conn != 0 {
		s += "#" + itoa(uint64(p.Conn))
	}
	return s
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// InputKind says what an Input reports.
type InputKind uint8

// The inputs a driver feeds the core.
const (
	// Received: Data holds one SIP message that arrived from From on the
	// local address Local: a whole UDP datagram, or one message framed
	// from a stream by a parser.Framer.
	Received InputKind = iota + 1
	// TimerFired: the timer Timer, set by an earlier SetTimer, elapsed.
	TimerFired
	// SendFailed: the driver could not send the Send effect that carried
	// Tag (RFC 3261 §17.1.4, §17.2.4, §18.4).
	SendFailed
	// ConnClosed: the connection Conn closed.
	ConnClosed
	// KeepAlive: a CRLFCRLF ping (RFC 5626 §4.4.1) arrived from From.
	KeepAlive
	// Resolved: the answer to a Resolve effect that carried Tag.
	Resolved
	// Pong: the answer to a keep-alive of ours arrived from From: Data
	// holds a STUN Binding response (RFC 5626 §4.4.2), which the UA core
	// reads with package stun to check its outbound flow. Drivers report a
	// STUN Binding response on a SIP port this way, answer Binding requests
	// themselves and drop other STUN messages; CRLF pongs (§4.4.1) carry
	// nothing to check and are not reported. Cores without keep-alives of
	// their own ignore it.
	Pong
)

// Input is one thing that happened, with the time it happened.
type Input struct {
	Kind InputKind
	Now  Time
	Data []byte // Received: the message's bytes (the core copies them); Pong: the STUN response
	// Msg, for Received, is the message already parsed from Data by the
	// caller (with the core's limits, datagram or stream rules as
	// From.Transport says): the core uses it instead of parsing Data
	// again, and owns it from then on. Nil: the core parses Data.
	Msg   *message.Message
	From  Peer           // Received, KeepAlive, Pong: where it came from
	Local netip.AddrPort // Received: the local address it arrived on
	Timer TimerID        // TimerFired
	Tag   uint64         // SendFailed, Resolved: the Tag of the effect
	Conn  ConnID         // ConnClosed
	Err   error          // SendFailed, Resolved: what went wrong, if known
	// Answer holds the targets for Resolved, in the order the lookup
	// returned them.
	Answer []Target
}

// Target is one answer of a DNS lookup (RFC 3263): an address to try with a
// transport, in order of preference.
type Target struct {
	Addr      netip.AddrPort
	Transport Transport
	Priority  uint16
	Weight    uint16
}

// Kind says what an Effect asks for.
type Kind uint8

// The effects the core asks for.
const (
	// Send: send Msg (or, when Msg is nil, the raw Data such as a CRLF
	// keep-alive pong) to To. If sending fails the driver feeds back a
	// SendFailed input carrying Tag.
	Send Kind = iota + 1
	// SetTimer: fire TimerFired with Timer after After.
	SetTimer
	// CancelTimer: Timer will not be wanted; forget it.
	CancelTimer
	// Deliver: Event is for the layer above or the application.
	Deliver
	// Resolve: look up Name for Service (RFC 3263: NAPTR, SRV, A, AAAA)
	// and feed back a Resolved input carrying Tag.
	Resolve
	// Close: close the connection To.Conn.
	Close
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Send:
		return "send"
	case SetTimer:
		return "set-timer"
	case CancelTimer:
		return "cancel-timer"
	case Deliver:
		return "deliver"
	case Resolve:
		return "resolve"
	case Close:
		return "close"
	}
	return "invalid"
}

// Effect is one thing the core asks the driver, or the layer above, to do.
// Which fields mean something depends on Kind.
type Effect struct {
	Kind Kind
	// Send: the message to render and send, or raw bytes when Msg is nil;
	// the destination; and a value the driver hands back in SendFailed.
	Msg  *message.Message
	Data []byte
	To   Peer
	Tag  uint64
	// SetTimer, CancelTimer.
	Timer TimerID
	After time.Duration
	// Deliver.
	Event Event
	// Resolve: the name to look up and the service ("sip", "sips"; the
	// transport wanted, if any, is in To.Transport, and the URI's explicit
	// port, if any, is To.Addr's port: RFC 3263 §4.2).
	Name    string
	Service string
}

// EventKind says what an Event reports. The layers share one list, each
// with its own range.
type EventKind uint8

// The transaction layer's events (package txn).
const (
	// TxnRequest: a request created the server transaction ID; the TU
	// answers it with txn.Layer.Respond.
	TxnRequest EventKind = iota + 1
	// TxnCancel: a CANCEL created the server transaction ID (to be answered
	// 200); Ref is the INVITE server transaction it cancels (RFC 3261
	// §9.2), or 0 if none matches (answer 481).
	TxnCancel
	// TxnAck: an ACK for a 2xx, which is not part of any transaction; Ref
	// is the INVITE server transaction in its Accepted state that it
	// matched, if any (RFC 6026 §7.1).
	TxnAck
	// TxnResponse: a response for the client transaction ID: provisional,
	// final, or a 2xx in the Accepted state (RFC 6026 §7.2).
	TxnResponse
	// TxnStray: a response that matches no client transaction (a stateless
	// proxy forwards it; RFC 3261 §16.11).
	TxnStray
	// TxnTimeout: the transaction ID timed out: Timer B or F for a client
	// transaction (act as if 408 had arrived), Timer H for an INVITE server
	// transaction whose non-2xx final response was never acknowledged.
	TxnTimeout
	// TxnTransportError: the transport failed for transaction ID (RFC 3261
	// §17.1.4, §17.2.4).
	TxnTransportError
	// TxnTerminated: the transaction ID ended and left the table; its ID
	// means nothing any more.
	TxnTerminated
)

// The user agent's events (package ua), about the call ID.
const (
	// CallIncoming: an INVITE (Msg) offers a new call; answer it with
	// ua.Ring, ua.Answer or ua.Reject.
	CallIncoming EventKind = iota + 32
	// CallRinging: a provisional response (Msg) with a dialog arrived:
	// ringing, queued, session progress with early media.
	CallRinging
	// CallAnswered: the call was answered: the 2xx (Msg) on the calling
	// side, the ACK (Msg) on the answering side.
	CallAnswered
	// CallFailed: the call attempt ended without an answer, with Code (the
	// final response, Msg, when one came; 408 for a timeout, 487 when it
	// was cancelled, 503 for a transport failure).
	CallFailed
	// CallReinvite: a re-INVITE or UPDATE (Msg) asks to modify the session;
	// answer it with ua.Accept or ua.Decline.
	CallReinvite
	// CallEnded: the established call ended; Err says why (ua.ErrRemoteBye,
	// ua.ErrHangup, ua.ErrNoAck, ua.ErrSessionExpired, ...), Code carries
	// the response that ended it, if one did.
	CallEnded
	// SessionEstablished: the first offer/answer exchange completed (Msg
	// carried the answer, or the offer whose answer we sent).
	SessionEstablished
	// SessionModified: a later offer/answer exchange completed.
	SessionModified
	// SessionHeld: the peer put the session on hold (its description is
	// sendonly or inactive, RFC 3264 §8.4).
	SessionHeld
	// SessionResumed: the peer took the session off hold.
	SessionResumed
	// CallUpdateFailed: the peer refused our re-INVITE or UPDATE with Code
	// (Msg); the session stays as it was. A 491 is retried first (§14.1),
	// a 422 once (RFC 4028), a 401 or 407 answered when credentials allow.
	CallUpdateFailed
	// MediaStarted, MediaChanged and MediaStopped: an offer/answer exchange
	// on the call started media, changed its addresses, ports, codecs or
	// directions, or stopped every stream; ua.UA.Media reads the streams.
	MediaStarted
	MediaChanged
	MediaStopped
	// RequestIncoming: a request the application answers (MESSAGE, INFO, or
	// another method it allows) arrived, inside the call Ref's dialog or
	// outside any (Ref 0); answer it with ua.UA.Reply and the event's ID.
	RequestIncoming
	// RequestDone: the request ID sent with ua.UA.Request or
	// ua.UA.CallRequest got its final response, Code (Msg); 408 with
	// ua.ErrTimeout or 503 with ua.ErrTransport when none came.
	RequestDone
)

// The user agent's registration events (package ua), about the
// registration ID.
const (
	// Registered: a REGISTER binding our Contact succeeded (the first one
	// and each refresh), with Code and the 2xx (Msg).
	Registered EventKind = iota + 64
	// RegistrationFailed: an attempt to register failed, with Code (the
	// final response, Msg, when one came; 408 for a timeout, 503 for a
	// transport failure) and Err. Unregistered follows unless the UA tries
	// again.
	RegistrationFailed
	// Unregistered: the registration ended and its ID means nothing any
	// more: after ua.UA.Unregister or UnregisterAll (Err nil when the
	// registrar removed the binding), or after a failure not retried (Err
	// says why).
	Unregistered
	// RegistrationBindings: the answer to a fetch of the bindings
	// (ua.UA.Bindings, ua.UA.FetchBindings): the 2xx (Msg) lists them as
	// its Contacts; Code and Err say when the fetch failed.
	RegistrationBindings
	// RegistrationFlowFailed: the outbound flow of the registration failed
	// (RFC 5626 §4.4); the UA registers again on a new flow after the
	// §4.5 backoff.
	RegistrationFlowFailed
)

// The user agent's subscription and transfer events (package ua, RFC 6665,
// RFC 3515, RFC 3891), about the subscription ID.
const (
	// SubscribeIncoming: a SUBSCRIBE (Msg) for an event package this UA
	// serves asks for the subscription ID; answer it with
	// ua.UA.AcceptSubscription, ua.UA.PendSubscription or
	// ua.UA.RejectSubscription.
	SubscribeIncoming EventKind = iota + 80
	// SubscriptionActive: the notifier reported the subscription ID active
	// (its NOTIFY is Msg); Ref is the id ua.UA.Subscribe returned, which
	// differs from ID for the extra subscriptions of a forked SUBSCRIBE.
	SubscriptionActive
	// SubscriptionPending: the notifier reported the subscription ID
	// pending (authorization is under way); Ref as for SubscriptionActive.
	SubscriptionPending
	// NotifyReceived: a NOTIFY (Msg) for the subscription ID arrived and
	// was answered 200; its body is the resource's state.
	NotifyReceived
	// SubscriptionEnded: the subscription ID ended, on either side; Code is
	// the response that ended it, if one did, and Err says why (a
	// *ua.SubscriptionError naming the reason, matchable with errors.Is).
	SubscriptionEnded
	// ReferIncoming: a REFER (Msg) asks this UA to contact a third party,
	// inside the call Ref's dialog (or outside any, Ref 0); ID is its
	// implicit subscription. Answer it with ua.UA.AcceptRefer or
	// ua.UA.RejectSubscription.
	ReferIncoming
	// ReferAccepted: the REFER whose implicit subscription is ID was
	// accepted (Code, the 2xx in Msg); TransferProgress follows.
	ReferAccepted
	// TransferProgress: a NOTIFY (Msg) about the REFER of subscription ID
	// reported the referred request's progress: Code is the status code
	// of its message/sipfrag body.
	TransferProgress
	// SubscriptionRefreshed: the subscriber refreshed the subscription ID
	// (the SUBSCRIBE is Msg); the notifier answered and notified by itself.
	SubscriptionRefreshed
)

// The back-to-back user agent's events (package ua/b2bua), about the
// bridge ID.
const (
	// BridgeRoute: a call came in (Msg, the INVITE) and the bridge waits for
	// the application's routing decision, b2bua.B2BUA.Connect.
	BridgeRoute EventKind = iota + 112
	// BridgeAnswered: the outgoing leg answered and the incoming leg was
	// answered in turn; Ref is the outgoing leg's call.
	BridgeAnswered
	// BridgeEnded: both legs of the bridge ended and it left the table;
	// Code is the final response relayed to the caller when the call
	// failed, Err why the first leg ended.
	BridgeEnded
)

// The proxy's events (package proxycore), about the request context ID (a
// request the stateful proxy is handling).
const (
	// ProxyRequest: a new request (Msg, from From) needs a routing decision
	// (RFC 3261 §16.5); answer it with proxycore.Proxy.Decide and the
	// event's ID. Msg is the proxy's own: read it, do not change it.
	ProxyRequest EventKind = iota + 128
	// ProxyCredentials: the request ID (Msg) carries Proxy-Authorization
	// credentials for the proxy's realm; look up the user the credentials
	// name and answer with proxycore.Proxy.Credentials (RFC 3261 §22.3).
	ProxyCredentials
	// ProxyDone: the request context ID ended and left the table; Code is
	// the final response sent upstream (0 if none was).
	ProxyDone
)

// The registrar's events (package proxycore/registrar), about the REGISTER
// whose handle (the owner's id for it, such as its server transaction) is
// ID. The first three ask the owner for something and are answered with a
// call carrying ID; registrar.Registrar.Pending tells what is asked.
const (
	// RegistrarCredentials: look up the credentials of the user named in
	// the REGISTER's Authorization (Msg) for the realm (RFC 3261 §10.3
	// step 3); answer with registrar.Registrar.Credentials.
	RegistrarCredentials EventKind = iota + 160
	// RegistrarLoad: read the bindings of the address of record (RFC 3261
	// §10.3 step 7); answer with registrar.Registrar.Bindings.
	RegistrarLoad
	// RegistrarStore: apply the REGISTER's update to the bindings of the
	// address of record, atomically; answer with
	// registrar.Registrar.Stored.
	RegistrarStore
	// RegistrarResponse: the response (Msg, status Code) to send for the
	// REGISTER; the owner passes it on (txn.Layer.Respond) and the handle
	// means nothing to the registrar any more.
	RegistrarResponse
)

// The dispatcher's events (package dispatch), about the routing handle ID:
// a new request waiting for the application's routing decision.
const (
	// RouteRequest: a new request outside any dialog (Msg, from From)
	// waits for the application's routing decision; answer it with
	// dispatch.Core.Route and the event's ID. Msg is the dispatcher's:
	// read it, do not change it.
	RouteRequest EventKind = iota + 192
	// RouteAbandoned: the request of handle ID no longer waits for a
	// decision (its sender cancelled it, or the decision was too late
	// and the configured response went); a decision given now fails.
	RouteAbandoned
)

// String names the event kind.
func (k EventKind) String() string {
	switch k {
	case TxnRequest:
		return "txn-request"
	case TxnCancel:
		return "txn-cancel"
	case TxnAck:
		return "txn-ack"
	case TxnResponse:
		return "txn-response"
	case TxnStray:
		return "txn-stray"
	case TxnTimeout:
		return "txn-timeout"
	case TxnTransportError:
		return "txn-transport-error"
	case TxnTerminated:
		return "txn-terminated"
	case CallIncoming:
		return "call-incoming"
	case CallRinging:
		return "call-ringing"
	case CallAnswered:
		return "call-answered"
	case CallFailed:
		return "call-failed"
	case CallReinvite:
		return "call-reinvite"
	case CallEnded:
		return "call-ended"
	case SessionEstablished:
		return "session-established"
	case SessionModified:
		return "session-modified"
	case SessionHeld:
		return "session-held"
	case SessionResumed:
		return "session-resumed"
	case CallUpdateFailed:
		return "call-update-failed"
	case MediaStarted:
		return "media-started"
	case MediaChanged:
		return "media-changed"
	case MediaStopped:
		return "media-stopped"
	case RequestIncoming:
		return "request-incoming"
	case RequestDone:
		return "request-done"
	case SubscribeIncoming:
		return "subscribe-incoming"
	case SubscriptionActive:
		return "subscription-active"
	case SubscriptionPending:
		return "subscription-pending"
	case NotifyReceived:
		return "notify-received"
	case SubscriptionEnded:
		return "subscription-ended"
	case ReferIncoming:
		return "refer-incoming"
	case ReferAccepted:
		return "refer-accepted"
	case TransferProgress:
		return "transfer-progress"
	case SubscriptionRefreshed:
		return "subscription-refreshed"
	case BridgeRoute:
		return "bridge-route"
	case BridgeAnswered:
		return "bridge-answered"
	case BridgeEnded:
		return "bridge-ended"
	case Registered:
		return "registered"
	case RegistrationFailed:
		return "registration-failed"
	case Unregistered:
		return "unregistered"
	case RegistrationBindings:
		return "registration-bindings"
	case RegistrationFlowFailed:
		return "registration-flow-failed"
	case ProxyRequest:
		return "proxy-request"
	case ProxyCredentials:
		return "proxy-credentials"
	case ProxyDone:
		return "proxy-done"
	case RouteRequest:
		return "route-request"
	case RouteAbandoned:
		return "route-abandoned"
	case RegistrarCredentials:
		return "registrar-credentials"
	case RegistrarLoad:
		return "registrar-load"
	case RegistrarStore:
		return "registrar-store"
	case RegistrarResponse:
		return "registrar-response"
	}
	return "invalid"
}

// Event is what a layer hands up.
type Event struct {
	Kind EventKind
	ID   uint64 // the transaction, dialog or call the event is about
	Ref  uint64 // a related one, where Kind says so
	Msg  *message.Message
	From Peer // where Msg came from
	Code int  // a status code, where Kind says so
	Err  error
}
