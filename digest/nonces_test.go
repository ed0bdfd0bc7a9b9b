package digest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sansip/sansip/effects"
)

func TestNonceCounts(t *testing.T) {
	var c NonceCounts
	steps := []struct {
		nonce  string
		issued effects.Time
		nc     uint32
		err    error
	}{
		{"a", 10, 1, nil},
		{"a", 10, 1, ErrReplay},
		{"a", 10, 2, nil},
		{"b", 20, 5, nil}, // a first use need not start at 1
		{"b", 20, 4, nil},
		{"b", 20, 5, ErrReplay},
		{"a", 10, 200, nil},
		{"a", 10, 137, nil},
		{"a", 10, 136, ErrReplay},
		{"a", 10, 2, ErrReplay},
		{"a", 10, 199, nil},
		{"a", 10, 199, ErrReplay},
		{"a", 10, 0xffffffff, nil},
		{"a", 10, 200, ErrReplay},
	}
	for i, st := range steps {
		if err := c.Use(st.nonce, st.issued, st.nc); !errors.Is(err, st.err) {
			t.Errorf("step %d (%s, %d): %v, want %v", i, st.nonce, st.nc, err, st.err)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d", c.Len())
	}
	c.Expire(15)
	if c.Len() != 1 {
		t.Errorf("Len after Expire = %d", c.Len())
	}
	// Expired means forgotten: never accepted again.
	if err := c.Use("a", 10, 1000); !errors.Is(err, ErrStale) {
		t.Errorf("expired nonce: %v", err)
	}
	if err := c.Use("c", 14, 1); !errors.Is(err, ErrStale) {
		t.Errorf("nonce issued before the expiry: %v", err)
	}
	if err := c.Use("d", 15, 1); err != nil {
		t.Errorf("nonce issued after: %v", err)
	}
}

// Whatever the flood, the tracker holds at most Max nonces, forgets the
// earliest issued first, and refuses every forgotten nonce.
func TestNonceCountsBounded(t *testing.T) {
	c := NonceCounts{Max: 8}
	// Issue times out of order, as clients use nonces in any order.
	order := []effects.Time{5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 12, 11, 15, 13, 14, 16, 20, 17, 19, 18}
	accepted := map[string]bool{}
	for _, at := range order {
		n := fmt.Sprint("n", at)
		err := c.Use(n, at, 1)
		if err == nil {
			accepted[n] = true
		} else if !errors.Is(err, ErrStale) {
			t.Fatalf("%s: %v", n, err)
		}
		if c.Len() > 8 {
			t.Fatalf("%d nonces, bound 8", c.Len())
		}
	}
	// No accepted nonce can be used with count 1 again: either it is
	// remembered (replay) or forgotten (stale).
	for n := range accepted {
		if err := c.Use(n, 0, 1); err == nil {
			t.Errorf("%s accepted twice", n)
		}
	}
	// The latest eight are remembered.
	for at := effects.Time(13); at <= 20; at++ {
		if err := c.Use(fmt.Sprint("n", at), at, 2); err != nil {
			t.Errorf("n%d: %v", at, err)
		}
	}
	// A larger flood: the map and heap stay within the bound.
	big := NonceCounts{Max: 1000}
	for i := range 100000 {
		big.Use(fmt.Sprint(i), effects.Time(i%5000), uint32(i))
		if big.Len() > 1000 {
			t.Fatalf("%d nonces", big.Len())
		}
	}
	if len(big.index) != big.Len() {
		t.Errorf("index %d, heap %d", len(big.index), big.Len())
	}
	checkHeap(t, &big)
}

func checkHeap(t *testing.T, c *NonceCounts) {
	t.Helper()
	for i := range c.heap {
		if c.index[c.heap[i].nonce] != i {
			t.Fatalf("index of %s is %d, at %d", c.heap[i].nonce, c.index[c.heap[i].nonce], i)
		}
		if p := (i - 1) / 2; i > 0 && c.heap[p].issued > c.heap[i].issued {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

func TestNonceCountsDefaultMax(t *testing.T) {
	var c NonceCounts
	for i := range DefaultMaxNonces + 10 {
		c.Use(fmt.Sprint(i), effects.Time(i), 1)
	}
	if c.Len() != DefaultMaxNonces {
		t.Errorf("Len = %d", c.Len())
	}
}
