// Package timers is the driver's store of pending timers: the SetTimer and
// CancelTimer effects of a core go in, and the timers come out in the order
// they fall due, ready to be fed back as TimerFired inputs.
//
// A Queue is a binary min-heap of entries ordered by deadline, ties broken
// by the order the timers were set, and a map from each pending timer's id
// to the sequence number of its entry. Cancelling or re-setting a timer
// only changes the map: the entry it leaves behind is stale and is dropped
// when it reaches the top of the heap, or when stale entries outnumber the
// pending timers and the heap is rebuilt without them. So setting costs
// O(log n) comparisons and one map write, cancelling one map delete, and a
// pending timer a map entry and a heap entry (about 50 bytes, twice that
// at most counting stale entries): 100,000 pending timers take a few
// megabytes and no goroutine. The driver sleeps until Next and then pops
// every timer that is due.
//
// A Queue is not safe for concurrent use; each event loop owns its own.
package timers

import (
	"github.com/sansip/sansip/effects"
)

// Queue holds pending timers. The zero Queue is empty and ready to use.
type Queue struct {
	heap []entry                    // pending timers' entries, and stale ones
	live map[effects.TimerID]uint64 // pending timer → its entry's seq
	seq  uint64
}

type entry struct {
	at  effects.Time
	seq uint64
	id  effects.TimerID
}

func (a entry) before(b entry) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// compactMin is the heap size below which stale entries are left to
// drain by themselves.
const compactMin = 1024

// Len returns the number of pending timers.
func (q *Queue) Len() int { return len(q.live) }

// Set arms timer id to fall due at at. A timer already pending with the
// same id is moved (effects.TimerID says at most one is pending per id).
func (q *Queue) Set(id effects.TimerID, at effects.Time) {
	if q.live == nil {
		q.live = map[effects.TimerID]uint64{}
	}
	q.seq++
	q.live[id] = q.seq // an entry id had before is stale now
	q.heap = append(q.heap, entry{at: at, seq: q.seq, id: id})
	q.up(len(q.heap) - 1)
	q.compact()
}

// Cancel forgets timer id and reports whether it was pending.
func (q *Queue) Cancel(id effects.TimerID) bool {
	if _, ok := q.live[id]; !ok {
		return false
	}
	delete(q.live, id)
	q.compact()
	return true
}

// Next returns the deadline of the earliest pending timer, and false when
// none is pending.
func (q *Queue) Next() (effects.Time, bool) {
	q.prune()
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].at, true
}

// Pop removes and returns the earliest timer due at or before now, and
// false when none is due.
func (q *Queue) Pop(now effects.Time) (effects.TimerID, effects.Time, bool) {
	q.prune()
	if len(q.heap) == 0 || q.heap[0].at > now {
		return 0, 0, false
	}
	e := q.heap[0]
	q.popTop()
	delete(q.live, e.id)
	if len(q.live) == 0 && cap(q.heap) > compactMin {
		// Give back the memory of a burst once it has drained.
		q.heap, q.live = nil, nil
	}
	return e.id, e.at, true
}

// Apply carries out the timer effects among effs, with now the time the
// core produced them at: SetTimer arms a timer After from now, CancelTimer
// forgets one. Other effects are ignored.
func (q *Queue) Apply(now effects.Time, effs []effects.Effect) {
	for i := range effs {
		switch e := &effs[i]; e.Kind {
		case effects.SetTimer:
			q.Set(e.Timer, now.Add(e.After))
		case effects.CancelTimer:
			q.Cancel(e.Timer)
		}
	}
}

// stale reports whether e no longer stands for a pending timer.
func (q *Queue) stale(e entry) bool {
	seq, ok := q.live[e.id]
	return !ok || seq != e.seq
}

// prune drops stale entries from the top of the heap.
func (q *Queue) prune() {
	for len(q.heap) > 0 && q.stale(q.heap[0]) {
		q.popTop()
	}
}

// compact rebuilds the heap without its stale entries once they outnumber
// the pending timers (and the heap is not small), which bounds the heap to
// twice the pending timers; each rebuild, O(n), follows at least n/2
// cancels or moves.
func (q *Queue) compact() {
	if len(q.heap) < compactMin || len(q.heap) <= 2*len(q.live) {
		return
	}
	kept := q.heap[:0]
	for _, e := range q.heap {
		if !q.stale(e) {
			kept = append(kept, e)
		}
	}
	clear(q.heap[len(kept):])
	q.heap = kept
	for i := len(q.heap)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *Queue) popTop() {
	last := len(q.heap) - 1
	q.heap[0] = q.heap[last]
	q.heap[last] = entry{}
	q.heap = q.heap[:last]
	q.down(0)
}

// up moves entry i towards the root.
func (q *Queue) up(i int) {
	e := q.heap[i]
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(q.heap[p]) {
			break
		}
		q.heap[i] = q.heap[p]
		i = p
	}
	q.heap[i] = e
}

// down moves entry i towards the leaves.
func (q *Queue) down(i int) {
	n := len(q.heap)
	if i >= n {
		return
	}
	e := q.heap[i]
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.heap[r].before(q.heap[l]) {
			m = r
		}
		if !q.heap[m].before(e) {
			break
		}
		q.heap[i] = q.heap[m]
		i = m
	}
	q.heap[i] = e
}
