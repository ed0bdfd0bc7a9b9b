// Package txn is the SIP transaction layer (RFC 3261 §17, with the changes
// of RFC 6026) as a pure state machine.
//
// A Layer owns a table of client and server transactions. The driver feeds
// it inputs (effects.Input: messages received, timers fired, sends that
// failed, connections that closed); the transaction user (TU: a UA core, a
// proxy) starts client transactions with NewClient and answers server
// transactions with Respond. Everything the layer wants done comes back as
// effects appended to a slice the caller owns: messages to send, timers to
// set or cancel, and events (effects.Deliver) for the TU.
//
// The four state machines follow RFC 3261 §17.1.1, §17.1.2, §17.2.1 and
// §17.2.2, with RFC 6026's Accepted states: an INVITE server transaction
// that sent a 2xx waits in Accepted (Timer L) absorbing retransmitted
// INVITEs and passing ACKs up; an INVITE client transaction that received a
// 2xx waits in Accepted (Timer M) passing every further 2xx up. Timers A to
// M use T1, T2 and T4 from Config; on reliable transports nothing is
// retransmitted and the wait timers D, I, J and K are zero.
//
// Requests match server transactions by the RFC 3261 branch, sent-by and
// method (§17.2.3), with the RFC 2543 fallback for branches without the
// magic cookie; responses match client transactions by branch and CSeq
// method (§17.1.3); a CANCEL finds the INVITE it cancels (§9.2). What matches
// nothing is handed up: requests for a new transaction, ACKs for 2xx, stray
// responses.
//
// A Layer is not safe for concurrent use; a driver that wants every core
// shards requests over several Layers (by Call-ID, for instance).
package txn

import (
	"errors"
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/parser"
)

// ID names a transaction: a slot of the table and that slot's
// generation. An ID from an ended transaction finds nothing until its
// slot has been reused 2^24 times (generations wrap), long after any
// reference to it is gone: a transaction lives at most minutes.
//
// IDs stay below 2^56 and the timer ids the layer asks for below 2^60,
// so the upper bits are free for the transaction user's own ids (the
// proxy and the UA cores mark theirs with bit 63) and for a dispatcher
// that runs several cores side by side.
type ID = uint64

// genBits bounds the generation part of an ID (see ID).
const genBits = 24

// Config holds a Layer's timer values and limits. Zero fields take the
// defaults of RFC 3261 Table 4 and those documented here.
type Config struct {
	T1 time.Duration // RTT estimate, default 500 ms
	T2 time.Duration // maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s
	T4 time.Duration // maximum duration a message remains in the network, default 5 s
	// TimerD is how long an INVITE client transaction waits for response
	// retransmissions after a non-2xx final response on an unreliable
	// transport; RFC 3261 asks for at least 32 s, the default.
	TimerD time.Duration
	// Trying is how long an INVITE server transaction waits for the TU's
	// first response before it sends 100 (Trying) itself (§17.2.1),
	// default 200 ms.
	Trying time.Duration
	// MaxTransactions bounds the table. Past it a new request is answered
	// 503 (Service Unavailable) with Retry-After, and NewClient fails with
	// ErrOverload. Default 200000.
	MaxTransactions int
	// RetryAfter is the Retry-After of that 503, in seconds. Default 5.
	RetryAfter uint32
	// Limits bound the messages the Layer parses (nil: parser defaults).
	Limits *parser.Limits
	// MaxUDPRequest is the largest request a client transaction sends
	// over UDP (RFC 3261 §18.1.1: within 200 bytes of the path MTU, or
	// 1300 bytes when it is unknown); a larger one goes over TCP instead,
	// its top Via saying so. Default 1300; negative never switches.
	MaxUDPRequest int
}

func (c Config) withDefaults() Config {
	if c.T1 <= 0 {
		c.T1 = 500 * time.Millisecond
	}
	if c.T2 <= 0 {
		c.T2 = 4 * time.Second
	}
	if c.T4 <= 0 {
		c.T4 = 5 * time.Second
	}
	if c.TimerD <= 0 {
		c.TimerD = 32 * time.Second
	}
	if c.Trying <= 0 {
		c.Trying = 200 * time.Millisecond
	}
	if c.MaxTransactions <= 0 {
		c.MaxTransactions = 200000
	}
	if c.MaxUDPRequest == 0 {
		c.MaxUDPRequest = 1300
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 5
	}
	return c
}

// Errors the TU calls return, matchable with errors.Is.
var (
	ErrNoTransaction = errors.New("txn: no such transaction")
	ErrState         = errors.New("txn: not allowed in the transaction's state")
	ErrOverload      = errors.New("txn: transaction table full")
	ErrExists        = errors.New("txn: a transaction with that branch and method exists")
	ErrInvalid       = errors.New("txn: invalid message")
)

// Kind is the kind of a transaction.
type Kind uint8

// The four kinds of transactions.
const (
	ClientInvite Kind = iota + 1
	ClientNonInvite
	ServerInvite
	ServerNonInvite
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case ClientInvite:
		return "client INVITE"
	case ClientNonInvite:
		return "client non-INVITE"
	case ServerInvite:
		return "server INVITE"
	case ServerNonInvite:
		return "server non-INVITE"
	}
	return "invalid"
}

// State is a transaction's state (the boxes of RFC 3261 Figures 5 to 8 and
// RFC 6026's Accepted).
type State uint8

// The states. Terminated is never observed on a live transaction: one that
// reaches it leaves the table at once.
const (
	Calling State = iota + 1
	Trying
	Proceeding
	Completed
	Confirmed
	Accepted
	Terminated
)

// String names the state.
func (s State) String() string {
	switch s {
	case Calling:
		return "Calling"
	case Trying:
		return "Trying"
	case Proceeding:
		return "Proceeding"
	case Completed:
		return "Completed"
	case Confirmed:
		return "Confirmed"
	case Accepted:
		return "Accepted"
	case Terminated:
		return "Terminated"
	}
	return "invalid"
}

// Timer letters, as RFC 3261 Table 4 names them; Trying100 is the 200 ms
// wait of an INVITE server transaction before it sends 100 (Trying).
type Timer uint8

// The timers.
const (
	TimerA Timer = iota + 1
	TimerB
	TimerD
	TimerE
	TimerF
	TimerG
	TimerH
	TimerI
	TimerJ
	TimerK
	TimerL
	TimerM
	Trying100
)

// String returns "Timer A" and so on.
func (t Timer) String() string {
	if t == Trying100 {
		return "Trying"
	}
	if t >= TimerA && t <= TimerM {
		return "Timer " + string("ABDEFGHIJKLM"[t-1])
	}
	return "invalid timer"
}

// TimerOf returns which transaction timer a timer id names, and the
// transaction it belongs to. Tests and tracing use it.
func TimerOf(id effects.TimerID) (Timer, ID) {
	return Timer(id & 15), ID(id >> 4)
}

func timerID(t ID, which Timer) effects.TimerID { return effects.TimerID(t<<4 | ID(which)) }

// txn is one transaction.
type txn struct {
	id       ID
	kind     Kind
	state    State
	reliable bool
	armed    uint16        // a bit per Timer that is pending
	interval time.Duration // the current retransmit interval (A, E, G)
	// req is the request, until the final response: a transaction that
	// lingers for its timers (J, K, L, M, D, I) keeps only what matching
	// and retransmission need, and the CSeq (cseq) that Respond checks.
	req  *message.Message
	cseq header.CSeq
	// last is the response a server transaction retransmits (the latest
	// provisional, or the final), or the ACK a client INVITE transaction
	// re-sends for each retransmitted non-2xx final response.
	last *message.Message
	// raw is, instead of last, the wire form of a non-INVITE server
	// transaction's final response while it lingers in Completed.
	raw    []byte
	peer   effects.Peer // where the request goes (client) or responses go (server)
	recvAt effects.Time // when a server transaction's request arrived
	key    key
	// tag is the To tag of a server INVITE transaction's final response,
	// which an RFC 2543 ACK must carry to match (§17.2.3).
	tag string
	// outcome: a client transaction has delivered its final outcome.
	outcome bool
}

func (t *txn) client() bool { return t.kind == ClientInvite || t.kind == ClientNonInvite }

// Layer is a transaction layer: the table and the four state machines.
type Layer struct {
	cfg   Config
	slots []*txn // by slot; slot 0 is unused
	gens  []uint32
	free  []uint32
	live  int
	// index maps the hash of a transaction's key to its slot; overflow
	// holds, by the key itself, transactions whose key's hash another key
	// holds in index (see lookup).
	index    map[uint64]uint32
	overflow map[indexKey]uint32
}

// New returns a Layer with the given configuration.
func New(cfg Config) *Layer {
	return &Layer{
		cfg:      cfg.withDefaults(),
		slots:    make([]*txn, 1),
		gens:     make([]uint32, 1),
		index:    make(map[uint64]uint32),
		overflow: make(map[indexKey]uint32),
	}
}

// Config returns the configuration in use, defaults filled in.
func (l *Layer) Config() Config { return l.cfg }

// Len returns the number of live transactions.
func (l *Layer) Len() int { return l.live }

// Busy reports whether a transaction still waits for its final response
// (Calling, Trying, Proceeding): what a graceful shutdown waits for. The
// others only linger for their timers (Completed, Confirmed, Accepted),
// absorbing retransmissions. It looks at every transaction: call it
// seldom.
func (l *Layer) Busy() bool {
	for _, t := range l.slots {
		if t != nil && (t.state == Calling || t.state == Trying || t.state == Proceeding) {
			return true
		}
	}
	return false
}

// State returns a live transaction's kind and state.
func (l *Layer) State(id ID) (Kind, State, bool) {
	t := l.get(id)
	if t == nil {
		return 0, 0, false
	}
	return t.kind, t.state, true
}

// Request returns the request of a live transaction, until its final
// response: then the transaction lets it go (it lingers only to absorb
// retransmissions), and Request returns nil.
func (l *Layer) Request(id ID) *message.Message {
	if t := l.get(id); t != nil {
		return t.req
	}
	return nil
}

// Peer returns where a live client transaction sends its request, or where
// a server transaction sends its responses.
func (l *Layer) Peer(id ID) (effects.Peer, bool) {
	if t := l.get(id); t != nil {
		return t.peer, true
	}
	return effects.Peer{}, false
}

func (l *Layer) get(id ID) *txn {
	slot := uint32(id)
	if slot == 0 || int(slot) >= len(l.slots) {
		return nil
	}
	t := l.slots[slot]
	if t == nil || t.id != id {
		return nil
	}
	return t
}

// alloc takes a free slot for a new transaction.
func (l *Layer) alloc(k Kind) *txn {
	var slot uint32
	var t *txn
	if n := len(l.free); n > 0 {
		slot = l.free[n-1]
		l.free = l.free[:n-1]
		t = new(txn)
	} else {
		slot = uint32(len(l.slots))
		l.slots = append(l.slots, nil)
		l.gens = append(l.gens, 0)
		t = new(txn)
	}
	l.gens[slot] = (l.gens[slot] + 1) & (1<<genBits - 1)
	if l.gens[slot] == 0 {
		l.gens[slot] = 1 // an ID is never zero
	}
	t.id = ID(l.gens[slot])<<32 | ID(slot)
	t.kind = k
	l.slots[slot] = t
	l.live++
	return t
}

// terminate ends t: its timers are cancelled, it leaves the table and the TU
// hears TxnTerminated.
func (l *Layer) terminate(t *txn, out []effects.Effect) []effects.Effect {
	for w := TimerA; w <= Trying100; w++ {
		if t.armed&(1<<w) != 0 {
			out = append(out, effects.Effect{Kind: effects.CancelTimer, Timer: timerID(t.id, w)})
		}
	}
	t.armed = 0
	t.state = Terminated
	l.unindex(t)
	slot := uint32(t.id)
	l.slots[slot] = nil
	l.free = append(l.free, slot)
	l.live--
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.TxnTerminated, ID: t.id}})
}

// arm sets timer w of t to fire after d.
func (l *Layer) arm(t *txn, w Timer, d time.Duration, out []effects.Effect) []effects.Effect {
	t.armed |= 1 << w
	return append(out, effects.Effect{Kind: effects.SetTimer, Timer: timerID(t.id, w), After: d})
}

// disarm cancels timer w of t if it is pending.
func (l *Layer) disarm(t *txn, w Timer, out []effects.Effect) []effects.Effect {
	if t.armed&(1<<w) == 0 {
		return out
	}
	t.armed &^= 1 << w
	return append(out, effects.Effect{Kind: effects.CancelTimer, Timer: timerID(t.id, w)})
}

// send emits the sending of m to t's peer, tagged with t's id so that a
// failure comes back to t.
func send(t *txn, m *message.Message, out []effects.Effect) []effects.Effect {
	return append(out, effects.Effect{Kind: effects.Send, Msg: m, To: t.peer, Tag: t.id})
}

func deliver(out []effects.Effect, ev effects.Event) []effects.Effect {
	return append(out, effects.Effect{Kind: effects.Deliver, Event: ev})
}

// Handle feeds the layer one input and appends what it wants done to out.
func (l *Layer) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	switch in.Kind {
	case effects.Received:
		return l.received(in, out)
	case effects.TimerFired:
		return l.timerFired(in, out)
	case effects.SendFailed:
		if t := l.get(in.Tag); t != nil {
			return l.transportError(t, in.Err, out)
		}
	case effects.ConnClosed:
		return l.connClosed(in.Conn, out)
	case effects.KeepAlive:
		// RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong.
		return append(out, effects.Effect{Kind: effects.Send, Data: pong, To: in.From})
	}
	return out
}

var pong = []byte("\r\n")

func (l *Layer) timerFired(in effects.Input, out []effects.Effect) []effects.Effect {
	w, id := TimerOf(in.Timer)
	t := l.get(id)
	if t == nil || t.armed&(1<<w) == 0 {
		return out // a timer the layer no longer wants
	}
	t.armed &^= 1 << w
	if t.client() {
		return l.clientTimer(in.Now, t, w, out)
	}
	return l.serverTimer(in.Now, t, w, out)
}

// transportError handles a failure to send for t (§17.1.4, §17.2.4): the
// TU hears it, unless a client transaction already gave its final outcome,
// and the transaction ends.
func (l *Layer) transportError(t *txn, err error, out []effects.Effect) []effects.Effect {
	if !t.client() || !t.outcome {
		if err == nil {
			err = errTransport
		}
		out = deliver(out, effects.Event{Kind: effects.TxnTransportError, ID: t.id, Err: err})
	}
	return l.terminate(t, out)
}

var errTransport = errors.New("transport error")

// connClosed handles a connection that closed: client transactions waiting
// on it fail as on a transport error; server transactions will send their
// responses by address (§18.2.2: the driver opens a new connection).
func (l *Layer) connClosed(conn effects.ConnID, out []effects.Effect) []effects.Effect {
	if conn == 0 {
		return out
	}
	for _, t := range l.slots {
		if t == nil || t.peer.Conn != conn {
			continue
		}
		if t.client() {
			out = l.transportError(t, fmt.Errorf("connection %d closed", conn), out)
			continue
		}
		t.peer.Conn = 0
	}
	return out
}
