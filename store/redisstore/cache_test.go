package redisstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/proxycore/location"
)

func bindings(callID string) []location.Binding {
	return []location.Binding{{CallID: callID}}
}

func cached(c *cache, key string) string {
	bs, ok, _ := c.get(key)
	if !ok {
		return "miss"
	}
	return bs[0].CallID
}

// TestCacheBounds: at most size entries, the least recently stored go
// first, and entries too old to serve are released.
func TestCacheBounds(t *testing.T) {
	c := newCache(time.Hour, 3)
	for i := range 5 {
		c.set(fmt.Sprint(i), bindings(fmt.Sprint(i)), time.Now())
	}
	if c.len() != 3 {
		t.Fatalf("%d entries, want 3", c.len())
	}
	for key, want := range map[string]string{"0": "miss", "1": "miss", "2": "2", "4": "4"} {
		if got := cached(c, key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
	c.set("2", bindings("2b"), time.Now()) // now the most recent
	c.set("5", bindings("5"), time.Now())
	if cached(c, "3") != "miss" || cached(c, "2") != "2b" {
		t.Errorf("after refresh: 3 %s, 2 %s", cached(c, "3"), cached(c, "2"))
	}

	c = newCache(20*time.Millisecond, 100)
	for i := range 10 {
		c.set(fmt.Sprint(i), bindings("x"), time.Now())
	}
	time.Sleep(30 * time.Millisecond)
	if cached(c, "0") != "miss" {
		t.Error("entry served after its TTL")
	}
	c.set("new", bindings("x"), time.Now())
	if c.len() != 1 {
		t.Errorf("%d entries after the others expired, want 1", c.len())
	}
}

// TestCacheOrder: a look-up that read Redis before an Apply finished, or
// before an invalidation, does not replace what they left.
func TestCacheOrder(t *testing.T) {
	c := newCache(time.Hour, 10)
	_, _, old := c.get("k")
	c.set("k", bindings("applied"), time.Now())
	c.fill("k", bindings("stale"), old)
	if got := cached(c, "k"); got != "applied" {
		t.Errorf("after a stale fill: %s", got)
	}

	c.invalidate("k")
	_, ok, before := c.get("k")
	if ok {
		t.Fatal("invalidated entry served")
	}
	c.invalidate("k")
	c.fill("k", bindings("stale"), before)
	if got := cached(c, "k"); got != "miss" {
		t.Errorf("filled across an invalidation: %s", got)
	}
	_, _, fresh := c.get("k")
	c.fill("k", bindings("fresh"), fresh)
	if got := cached(c, "k"); got != "fresh" {
		t.Errorf("after a fresh fill: %s", got)
	}

	// Of two look-ups, the one that began later wins.
	_, _, first := c.get("j")
	time.Sleep(time.Millisecond)
	_, _, second := c.get("j")
	c.fill("j", bindings("second"), second)
	c.fill("j", bindings("first"), first)
	if got := cached(c, "j"); got != "second" {
		t.Errorf("older look-up replaced a newer one: %s", got)
	}
}
