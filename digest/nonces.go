package digest

import (
	"fmt"
	"math"
	"strings"

	"github.com/sansip/sansip/effects"
)

// DefaultMaxNonces is the number of nonces a NonceCounts remembers when its
// Max is zero: about 2.5 MB at most.
const DefaultMaxNonces = 16384

// Window is how far below the highest nonce count seen a count may arrive
// and still be accepted once, as requests sent in parallel with one nonce
// can overtake each other (RFC 2617 §4.5 leaves the policy to the server).
const Window = 64

// NonceCounts is replay protection with bounded memory (RFC 7616 §3.4,
// RFC 2617 §4.5): for each nonce in use it remembers the highest nonce
// count seen and which of the Window counts below it were seen, and
// refuses a count seen before or older than that window.
//
// It holds at most Max nonces. When full it forgets the nonce issued
// earliest, and from then on treats every nonce issued no later than one it
// forgot as stale: so a forgotten nonce can never be replayed, and its
// client, told stale=true, simply authenticates again with a new nonce.
// Nonces issued later that it has not seen are new, whatever their count.
// Memory stays bounded whatever the input; nothing reads a clock: the
// issue time comes from the nonce itself, and Expire is called with the
// caller's now.
//
// The zero NonceCounts is ready to use.
type NonceCounts struct {
	// Max bounds the nonces remembered; zero means DefaultMaxNonces.
	Max int

	index  map[string]int // nonce to position in heap
	heap   []nonceEntry   // min-heap by issue time
	mark   effects.Time   // latest issue time of a forgotten nonce
	marked bool
}

type nonceEntry struct {
	nonce  string
	issued effects.Time
	top    uint32 // highest count seen
	seen   uint64 // bit i: count top-i seen
}

// Use records the nonce count nc for nonce, issued at issued. It returns
// nil if the count is new for the nonce, an error wrapping ErrReplay if it
// was seen before or is Window or more below the highest seen, and one
// wrapping ErrStale if the nonce is forgotten (or would be forgotten at
// once, the tracker being full of later nonces). Only credentials already
// checked should be recorded, or anyone could fill the tracker.
func (t *NonceCounts) Use(nonce string, issued effects.Time, nc uint32) error {
	if i, ok := t.index[nonce]; ok {
		e := &t.heap[i]
		switch {
		case nc > e.top:
			if d := nc - e.top; d >= 64 {
				e.seen = 1
			} else {
				e.seen = e.seen<<d | 1
			}
			e.top = nc
			return nil
		case e.top-nc >= Window:
			return fmt.Errorf("%w: count %d, %d seen", ErrReplay, nc, e.top)
		case e.seen&(1<<(e.top-nc)) != 0:
			return fmt.Errorf("%w: count %d", ErrReplay, nc)
		}
		e.seen |= 1 << (e.top - nc)
		return nil
	}
	if t.marked && issued <= t.mark {
		return fmt.Errorf("%w: nonce forgotten", ErrStale)
	}
	max := t.Max
	if max <= 0 {
		max = DefaultMaxNonces
	}
	if len(t.heap) >= max {
		if issued <= t.heap[0].issued {
			t.forgot(issued)
			return fmt.Errorf("%w: nonce forgotten", ErrStale)
		}
		for len(t.heap) >= max {
			t.pop()
		}
		if issued <= t.mark {
			return fmt.Errorf("%w: nonce forgotten", ErrStale)
		}
	}
	if t.index == nil {
		t.index = make(map[string]int)
	}
	t.heap = append(t.heap, nonceEntry{nonce: strings.Clone(nonce), issued: issued, top: nc, seen: 1})
	t.index[t.heap[len(t.heap)-1].nonce] = len(t.heap) - 1
	t.up(len(t.heap) - 1)
	return nil
}

// Expire forgets the nonces issued before before, and refuses them from
// then on: those a server no longer accepts anyway (now minus its nonce
// lifetime).
func (t *NonceCounts) Expire(before effects.Time) {
	for len(t.heap) > 0 && t.heap[0].issued < before {
		t.pop()
	}
	if before > math.MinInt64 {
		t.forgot(before - 1)
	}
}

// Len returns the number of nonces remembered.
func (t *NonceCounts) Len() int { return len(t.heap) }

func (t *NonceCounts) forgot(issued effects.Time) {
	if !t.marked || issued > t.mark {
		t.mark, t.marked = issued, true
	}
}

// pop forgets the nonce issued earliest.
func (t *NonceCounts) pop() {
	e := t.heap[0]
	t.forgot(e.issued)
	delete(t.index, e.nonce)
	last := len(t.heap) - 1
	if last > 0 {
		t.heap[0] = t.heap[last]
		t.index[t.heap[0].nonce] = 0
	}
	t.heap[last] = nonceEntry{}
	t.heap = t.heap[:last]
	if last > 0 {
		t.down(0)
	}
}

func (t *NonceCounts) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.index[t.heap[i].nonce] = i
	t.index[t.heap[j].nonce] = j
}

func (t *NonceCounts) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if t.heap[p].issued <= t.heap[i].issued {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *NonceCounts) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.heap[r].issued < t.heap[l].issued {
			m = r
		}
		if t.heap[i].issued <= t.heap[m].issued {
			return
		}
		t.swap(i, m)
		i = m
	}
}
