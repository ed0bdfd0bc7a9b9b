package timers

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
)

func TestQueueOrder(t *testing.T) {
	var q Queue
	q.Set(1, 300)
	q.Set(2, 100)
	q.Set(3, 200)
	q.Set(4, 100) // same deadline as 2, set later: fires after it
	q.Set(3, 50)  // moved earlier
	if !q.Cancel(1) || q.Cancel(1) || q.Cancel(99) {
		t.Fatal("Cancel reports wrongly")
	}
	if at, ok := q.Next(); !ok || at != 50 {
		t.Fatalf("Next = %v %v", at, ok)
	}
	if _, _, ok := q.Pop(49); ok {
		t.Fatal("popped a timer before it was due")
	}
	var got []effects.TimerID
	for {
		id, _, ok := q.Pop(1000)
		if !ok {
			break
		}
		got = append(got, id)
	}
	if want := []effects.TimerID{3, 2, 4}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if q.Len() != 0 {
		t.Fatal("not empty")
	}
}

func TestApply(t *testing.T) {
	var q Queue
	q.Apply(1000, []effects.Effect{
		{Kind: effects.SetTimer, Timer: 7, After: time.Second},
		{Kind: effects.Send},
		{Kind: effects.SetTimer, Timer: 8, After: 2 * time.Second},
		{Kind: effects.CancelTimer, Timer: 7},
	})
	if at, ok := q.Next(); !ok || at != effects.Time(1000).Add(2*time.Second) || q.Len() != 1 {
		t.Fatalf("Next %v %v, len %d", at, ok, q.Len())
	}
}

// The queue behaves like a sorted list of (deadline, order set) under any
// sequence of sets, moves, cancels and pops (model-based property).
func TestPropQueueModel(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1)
	params.MinSuccessfulTests = 300
	properties := gopter.NewProperties(params)
	properties.Property("matches a sorted model", prop.ForAll(
		func(ops []uint32) bool {
			var q Queue
			type m struct {
				at  effects.Time
				seq int
				id  effects.TimerID
			}
			model := map[effects.TimerID]m{}
			seq := 0
			now := effects.Time(0)
			for _, op := range ops {
				id := effects.TimerID(op % 64)
				switch op >> 30 {
				case 0, 1:
					at := now + effects.Time(op>>8%1000)
					seq++
					q.Set(id, at)
					model[id] = m{at, seq, id}
				case 2:
					_, had := model[id]
					if q.Cancel(id) != had {
						return false
					}
					delete(model, id)
				case 3:
					now += effects.Time(op >> 8 % 500)
					var due []m
					for _, e := range model {
						if e.at <= now {
							due = append(due, e)
						}
					}
					sort.Slice(due, func(i, j int) bool {
						return due[i].at < due[j].at || due[i].at == due[j].at && due[i].seq < due[j].seq
					})
					for _, want := range due {
						id, at, ok := q.Pop(now)
						if !ok || id != want.id || at != want.at {
							return false
						}
						delete(model, id)
					}
					if _, _, ok := q.Pop(now); ok {
						return false
					}
				}
				if q.Len() != len(model) {
					return false
				}
			}
			return true
		},
		gen.SliceOf(gen.UInt32()),
	))
	properties.TestingRun(t)
}

func BenchmarkSetPop100k(b *testing.B) {
	var q Queue
	for i := range 100_000 {
		q.Set(effects.TimerID(i), effects.Time(i*7919%100_000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := effects.TimerID(100_000)
	now := effects.Time(0)
	for b.Loop() {
		// Steady state: one timer falls due, one new one is set.
		id, _, ok := q.Pop(now + 100_000)
		if !ok {
			b.Fatal("empty")
		}
		_ = id
		n++
		now++
		q.Set(n, now+100_000)
	}
}

func BenchmarkSetCancel100k(b *testing.B) {
	var q Queue
	for i := range 100_000 {
		q.Set(effects.TimerID(i), effects.Time(i*7919%100_000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := effects.TimerID(100_000)
	for b.Loop() {
		n++
		q.Set(n, effects.Time(n%100_000))
		q.Cancel(n)
	}
}

// Many timers, most cancelled or moved before they fall due: the queue
// still fires exactly the pending ones in order, and its heap stays
// within twice the pending timers once stale entries are compacted away.
func TestStaleEntriesCompacted(t *testing.T) {
	var q Queue
	r := rand.New(rand.NewPCG(1, 2))
	model := map[effects.TimerID]effects.Time{}
	order := map[effects.TimerID]int{} // when each was last set
	n := 0
	now := effects.Time(0)
	for round := range 50 {
		for range 4000 {
			id := effects.TimerID(r.IntN(20_000))
			switch r.IntN(3) {
			case 0, 1:
				at := now + effects.Time(r.IntN(100_000))
				q.Set(id, at)
				model[id] = at
				n++
				order[id] = n
			case 2:
				_, had := model[id]
				if q.Cancel(id) != had {
					t.Fatalf("round %d: Cancel(%d) disagrees with the model", round, id)
				}
				delete(model, id)
			}
			if len(q.heap) > 2*len(q.live)+compactMin {
				t.Fatalf("heap %d entries for %d pending timers", len(q.heap), q.Len())
			}
		}
		now += 10_000
		var due []effects.TimerID
		for id, at := range model {
			if at <= now {
				due = append(due, id)
			}
		}
		slices.SortFunc(due, func(a, b effects.TimerID) int {
			if c := cmp.Compare(model[a], model[b]); c != 0 {
				return c
			}
			return cmp.Compare(order[a], order[b])
		})
		for _, want := range due {
			id, at, ok := q.Pop(now)
			if !ok || id != want || at != model[want] {
				t.Fatalf("round %d: popped %d at %v (%v), want %d at %v", round, id, at, ok, want, model[want])
			}
			delete(model, id)
		}
		if _, _, ok := q.Pop(now); ok {
			t.Fatalf("round %d: popped a timer not due", round)
		}
		if q.Len() != len(model) {
			t.Fatalf("round %d: Len %d, want %d", round, q.Len(), len(model))
		}
	}
}
