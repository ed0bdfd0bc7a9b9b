package sim

import (
	"container/heap"
	"net/netip"

	"github.com/sansip/sansip/effects"
)

// evKind says what a queued event does.
type evKind uint8

const (
	evArrive evKind = iota + 1 // data arrives at a node
	evTimer                    // a node's timer fires
	evInput                    // another input for a node (Resolved, ConnClosed, SendFailed)
	evAction                   // an application action (At, After)
)

// event is one entry of the queue.
type event struct {
	at    effects.Time
	seq   uint64
	index int // in the heap; -1 when not queued
	kind  evKind
	node  *Node
	// evArrive: the data, where it came from (a node, which may be nil
	// for injected data), on which local address, over which connection.
	data   []byte
	from   effects.Peer
	sender *Node
	local  netip.AddrPort
	conn   *conn
	epoch  uint32 // the connection's epoch when sent
	// evTimer.
	timer effects.TimerID
	// evInput.
	in effects.Input
	// evAction.
	fn func()
}

// queue is a min-heap of events by (at, seq).
type queue []*event

func (q queue) Len() int { return len(q) }

func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *queue) Push(x any) {
	e := x.(*event)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*q = old[:n-1]
	return e
}

// newEvent returns a cleared event, recycled when possible.
func (s *Sim) newEvent(kind evKind, at effects.Time, nd *Node) *event {
	var e *event
	if n := len(s.free); n > 0 {
		e = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		e = new(event)
	}
	e.kind, e.at, e.node = kind, at, nd
	return e
}

// push schedules e; events at the same time run in the order pushed.
func (s *Sim) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.q, e)
}

// remove unschedules a queued event and recycles it.
func (s *Sim) remove(e *event) {
	if e.index >= 0 {
		heap.Remove(&s.q, e.index)
	}
	s.recycle(e)
}

// recycle clears e (so that it holds on to nothing) and keeps it for reuse.
func (s *Sim) recycle(e *event) {
	*e = event{index: -1}
	if len(s.free) < 1024 {
		s.free = append(s.free, e)
	}
}
