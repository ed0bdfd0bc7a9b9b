package sim

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sansip/sansip/effects"
)

// Choosing the next event.
//
// Run and RunUntilQuiet handle the events in the order they are due. A
// test that explores other orders (a fuzz target, a model checker) lists
// the events queued with Queue and chooses: Step handles the first, as Run
// would; RunEvent handles a chosen one ahead of its turn; Drop, Duplicate
// and Delay change the fate of a datagram in flight. Every choice is
// recorded in the trace (and in Digest), so a run stays a function of the
// seed and of the choices made.
//
// The choices keep to what a network and a driver can do: datagrams are
// lost, duplicated, delayed and reordered at will, but the data on a
// stream arrives in order, and a node's timers never fire early nor out of
// their order.

// ErrChoice: a choice of Queue's events cannot be carried out: the event
// is no longer queued, or the choice is not allowed for it (a stream's
// data overtaking earlier data, a timer fired early...).
var ErrChoice = errors.New("sim: choice not allowed")

// QueuedKind says what a queued event is.
type QueuedKind uint8

// The kinds of queued events.
const (
	// QueuedArrival: data arriving at a node: a datagram, or data on a
	// stream connection (Conn).
	QueuedArrival QueuedKind = iota + 1
	// QueuedTimer: a node's timer firing.
	QueuedTimer
	// QueuedInput: another input for a node: a DNS answer (Resolved), a
	// connection closed (ConnClosed), a send that failed (SendFailed).
	QueuedInput
	// QueuedAction: an application action (At, After).
	QueuedAction
)

// Queued is one event waiting in the queue, as Queue lists it.
type Queued struct {
	// At is when it is due.
	At   effects.Time
	Kind QueuedKind
	// Node is the node it is for: the receiver of an arrival, the owner of
	// a timer or input; nil for an action.
	Node *Node
	// Sender, Transport, Conn and Data describe an arrival: the node that
	// sent it (nil for injected data), how, on which stream connection (0
	// for a datagram) and what (which must not be modified).
	Sender    *Node
	Transport effects.Transport
	Conn      effects.ConnID
	Data      []byte
	// Timer is a timer's id.
	Timer effects.TimerID
	// Input is an input's kind.
	Input effects.InputKind
	seq   uint64 // names the event in the queue
}

// Datagram reports whether q is a datagram in flight: an arrival on no
// stream connection, which Drop, Duplicate and Delay may change and
// RunEvent may deliver at any time.
func (q Queued) Datagram() bool { return q.Kind == QueuedArrival && q.Conn == 0 }

// Queue returns the events queued, in the order Run would handle them.
func (s *Sim) Queue() []Queued {
	out := make([]Queued, 0, len(s.q))
	for _, e := range s.q {
		q := Queued{At: e.at, Node: e.node, seq: e.seq}
		switch e.kind {
		case evArrive:
			q.Kind, q.Sender, q.Transport, q.Data = QueuedArrival, e.sender, e.from.Transport, e.data
			if e.conn != nil {
				q.Conn = e.conn.id
			}
		case evTimer:
			q.Kind, q.Timer = QueuedTimer, e.timer
		case evInput:
			q.Kind, q.Input = QueuedInput, e.in.Kind
		case evAction:
			q.Kind = QueuedAction
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Queued) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return out
}

// Step handles the first event of the queue, as Run would, and reports
// whether there was one; it returns the Sim's misuse, if any.
func (s *Sim) Step() (bool, error) {
	if len(s.q) == 0 || s.err != nil {
		return false, s.err
	}
	s.step()
	return true, s.err
}

// find returns the queued event q names, or an ErrChoice error.
func (s *Sim) find(q Queued) (*event, error) {
	for _, e := range s.q {
		if e.seq == q.seq {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w: the event is no longer queued", ErrChoice)
}

// RunEvent handles the queued event q now, ahead of its turn: the events
// due before it wait, and are handled late. Datagrams, inputs and actions
// are handled at once, the clock unchanged (a datagram that took less
// time, a DNS answer that came early). Stream data may go only when no
// earlier data of its connection is queued for the same node (it arrives
// in order), and a timer only when it is its node's earliest; a timer due
// later than now moves the clock to its time (it never fires early).
// It returns the Sim's misuse, if any.
func (s *Sim) RunEvent(q Queued) error {
	if s.err != nil {
		return s.err
	}
	e, err := s.find(q)
	if err != nil {
		return err
	}
	switch {
	case e.kind == evArrive && e.conn != nil:
		for _, o := range s.q {
			if o != e && o.kind == evArrive && o.conn == e.conn && o.node == e.node && o.epoch == e.epoch && before(o, e) {
				return fmt.Errorf("%w: data on a stream overtaking earlier data", ErrChoice)
			}
		}
	case e.kind == evTimer:
		for _, o := range s.q {
			if o != e && o.kind == evTimer && o.node == e.node && before(o, e) {
				return fmt.Errorf("%w: a timer firing before an earlier one of its node", ErrChoice)
			}
		}
	}
	s.removeQueued(e)
	if e.kind != evTimer && e.at > s.now {
		e.at = s.now
	}
	s.handle(e)
	return s.err
}

// before reports whether a is due before b.
func before(a, b *event) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// removeQueued takes e off the queue without recycling it.
func (s *Sim) removeQueued(e *event) {
	if e.index >= 0 {
		heap.Remove(&s.q, e.index)
	}
}

// datagram returns the datagram in flight q names, or an ErrChoice error.
func (s *Sim) datagram(q Queued) (*event, error) {
	e, err := s.find(q)
	if err != nil {
		return nil, err
	}
	if e.kind != evArrive || e.conn != nil {
		return nil, fmt.Errorf("%w: not a datagram", ErrChoice)
	}
	return e, nil
}

// Drop loses the datagram in flight q; the trace records it as an OpDrop
// of its sender's (after the OpSend of its sending), "dropped in flight".
func (s *Sim) Drop(q Queued) error {
	e, err := s.datagram(q)
	if err != nil {
		return err
	}
	s.record(Record{Op: OpDrop, Node: e.sender, Peer: e.node, Addr: e.local, Transport: e.from.Transport, Data: e.data, Detail: "dropped in flight"})
	s.removeQueued(e)
	s.recycle(e)
	return nil
}

// Duplicate makes a copy of the datagram in flight q arrive after d from
// now (the original keeps its time); the trace records it as OpDup.
func (s *Sim) Duplicate(q Queued, d time.Duration) error {
	e, err := s.datagram(q)
	if err != nil {
		return err
	}
	s.record(Record{Op: OpDup, Node: e.sender, Peer: e.node, Addr: e.local, Transport: e.from.Transport, Data: e.data, Detail: "duplicated in flight"})
	s.arrival(e.node, e.local, e.sender, e.from, e.data, s.now.Add(max(d, 0)), nil)
	return nil
}

// Delay makes the datagram in flight q arrive d later than it was due.
func (s *Sim) Delay(q Queued, d time.Duration) error {
	e, err := s.datagram(q)
	if err != nil {
		return err
	}
	e.at = e.at.Add(max(d, 0))
	heap.Fix(&s.q, e.index)
	s.record(Record{Op: OpDelay, Node: e.sender, Peer: e.node, Addr: e.local, Transport: e.from.Transport, Data: e.data, After: d})
	return nil
}

// Heal ends every partition now, and forgets those set to start later.
// Stream data a partition held keeps the time it was given (its heal,
// plus the link's delay).
func (s *Sim) Heal() { s.cuts = s.cuts[:0] }

// Break breaks the open stream connection id as BreakConn does (data in
// flight is lost, both ends get ConnClosed); ErrNoConn when it is not
// open.
func (s *Sim) Break(id effects.ConnID) error {
	c := s.conns[id]
	if c == nil || c.closed {
		return fmt.Errorf("%w: %d", ErrNoConn, id)
	}
	s.breakConn(c, "broken")
	return nil
}
