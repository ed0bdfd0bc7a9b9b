// Package timers is the driver's store of pending timers: the SetTimer and
// CancelTimer effects of a core go in, and the timers come out in the order
// they fall due, ready to be fed back as TimerFired inputs.
//
// A Queue is a binary min-heap ordered by deadline, with ties broken by the
// order the timers were set, and an index from timer id to heap slot, so
// that setting, re-setting and cancelling cost O(log n) and a pending timer
// costs a heap entry and a map entry (about 60 bytes): 100,000 pending
// timers take a few megabytes and no goroutine. The driver sleeps until
// Next and then pops every timer that is due.
//
// A Queue is not safe for concurrent use; each event loop owns its own.
package timers

import (
	"github.com/sansip/sansip/effects"
)

// Queue holds pending timers. The zero Queue is empty and ready to use.
type Queue struct {
	heap  []entry
	index map[effects.TimerID]int
	seq   uint64
}

type entry struct {
	at  effects.Time
	seq uint64
	id  effects.TimerID
}

func (a entry) before(b entry) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// Len returns the number of pending timers.
func (q *Queue) Len() int { return len(q.heap) }

// Set arms timer id to fall due at at. A timer already pending with the
// same id is moved (effects.TimerID says at most one is pending per id).
func (q *Queue) Set(id effects.TimerID, at effects.Time) {
	if q.index == nil {
		q.index = map[effects.TimerID]int{}
	}
	q.seq++
	e := entry{at: at, seq: q.seq, id: id}
	if i, ok := q.index[id]; ok {
		q.heap[i] = e
		if !q.up(i) {
			q.down(i)
		}
		return
	}
	q.heap = append(q.heap, e)
	q.index[id] = len(q.heap) - 1
	q.up(len(q.heap) - 1)
}

// Cancel forgets timer id and reports whether it was pending.
func (q *Queue) Cancel(id effects.TimerID) bool {
	i, ok := q.index[id]
	if !ok {
		return false
	}
	q.remove(i)
	return true
}

// Next returns the deadline of the earliest pending timer, and false when
// none is pending.
func (q *Queue) Next() (effects.Time, bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].at, true
}

// Pop removes and returns the earliest timer due at or before now, and
// false when none is due.
func (q *Queue) Pop(now effects.Time) (effects.TimerID, effects.Time, bool) {
	if len(q.heap) == 0 || q.heap[0].at > now {
		return 0, 0, false
	}
	e := q.heap[0]
	q.remove(0)
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

func (q *Queue) remove(i int) {
	last := len(q.heap) - 1
	delete(q.index, q.heap[i].id)
	if i != last {
		q.heap[i] = q.heap[last]
		q.index[q.heap[i].id] = i
	}
	q.heap[last] = entry{}
	q.heap = q.heap[:last]
	if i != last {
		if !q.up(i) {
			q.down(i)
		}
	}
	if len(q.heap) == 0 && cap(q.heap) > 1024 {
		// Give back the memory of a burst once it has drained.
		q.heap = nil
		q.index = nil
	}
}

// up moves entry i towards the root and reports whether it moved.
func (q *Queue) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if !q.heap[i].before(q.heap[p]) {
			break
		}
		q.swap(i, p)
		i, moved = p, true
	}
	return moved
}

func (q *Queue) down(i int) {
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.heap[r].before(q.heap[l]) {
			m = r
		}
		if !q.heap[m].before(q.heap[i]) {
			return
		}
		q.swap(i, m)
		i = m
	}
}

func (q *Queue) swap(i, j int) {
	q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
	q.index[q.heap[i].id] = i
	q.index[q.heap[j].id] = j
}
