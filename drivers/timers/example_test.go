package timers_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/drivers/timers"
	"github.com/sansip/sansip/effects"
)

// A driver applies a core's timer effects and feeds back the timers that
// fall due, in order.
func Example() {
	var q timers.Queue
	now := effects.Time(0)
	q.Apply(now, []effects.Effect{
		{Kind: effects.SetTimer, Timer: 1, After: 500 * time.Millisecond}, // Timer A
		{Kind: effects.SetTimer, Timer: 2, After: 32 * time.Second},       // Timer B
	})
	now = now.Add(time.Second)
	for {
		id, at, ok := q.Pop(now)
		if !ok {
			break
		}
		fmt.Println("fire", id, "due at", time.Duration(at))
	}
	next, _ := q.Next()
	fmt.Println("sleep until", time.Duration(next), "pending", q.Len())
	// Output:
	// fire 1 due at 500ms
	// sleep until 32s pending 1
}
