package redisstore_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/redisstore"
	"github.com/sansip/sansip/uri"
)

// TestMain silences go-redis's log of failed dials: the fault tests make
// many on purpose. SANSIP_REDIS_LOG=1 shows them.
func TestMain(m *testing.M) {
	if os.Getenv("SANSIP_REDIS_LOG") == "" {
		redis.SetLogger(quiet{})
	}
	os.Exit(m.Run())
}

// quiet is a go-redis logger that logs nothing.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var prefixes atomic.Int64

// prefix returns a key prefix no other test uses, even on a shared Redis.
func prefix(t testing.TB) string {
	return "sansiptest:" + t.Name() + ":" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":" +
		strconv.FormatInt(prefixes.Add(1), 10) + ":"
}

// newStore returns a Store of the Redis at addr, closed when the test
// ends; o.Prefix is the test's own when empty.
func newStore(t testing.TB, addr string, o redisstore.Options) *redisstore.Store {
	t.Helper()
	o.Addr = addr
	if o.Prefix == "" {
		o.Prefix = prefix(t)
	}
	s, err := redisstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient returns a plain go-redis client of addr, to look at the keys.
func rawClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second,
		ReadTimeout: 2 * time.Second, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func mustURI(t testing.TB, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// contact returns a binding of the Contact header value s, expiring at
// exp.
func contact(t testing.TB, s string, exp effects.Time) location.Binding {
	t.Helper()
	c, err := header.ParseValue[header.Contact](s)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := c.Q()
	if !ok {
		q = location.DefaultQ
	}
	return location.Binding{Contact: c, Q: q, Expires: exp}
}

// wallNow is the service's now for a shared store: Unix nanoseconds.
func wallNow() effects.Time { return effects.Time(time.Now().UnixNano()) }

// targets returns the contact URIs of bs.
func targets(bs []location.Binding) []string {
	out := make([]string, len(bs))
	for i := range bs {
		out[i] = bs[i].Target().String()
	}
	return out
}

// waitFor polls cond every 10 ms until it holds, failing the test after
// d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGoroutines fails the test when, a few seconds after f ran, more
// goroutines run than before it (go-redis's dial prober sleeps 1 s
// between attempts before it notices a closed client).
func checkGoroutines(t *testing.T, f func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	f()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
