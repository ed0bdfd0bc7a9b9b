package redistest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sansip/sansip/store/redistest"
)

// client returns a go-redis client of addr, closed when the test ends.
func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: time.Second, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStartKillRestart(t *testing.T) {
	s := redistest.Start(t)
	c := client(t, s.Addr())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "appendonlydir")); err != nil {
		t.Errorf("no append-only file: %v", err)
	}

	// An acknowledged write survives SIGKILL (appendfsync always).
	s.Kill()
	if err := c.Get(ctx, "k").Err(); err == nil {
		t.Fatal("GET succeeded with the server killed")
	}
	s.Kill() // killing a dead server does nothing
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("after restart: %q, %v", got, err)
	}

	// Restart of a running server stops it first; same address.
	addr := s.Addr()
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("address changed: %s, was %s", s.Addr(), addr)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("after second restart: %q, %v", got, err)
	}
	s.Stop()
	s.Stop()
}

func TestPause(t *testing.T) {
	s := redistest.Start(t)
	c := client(t, s.Addr())
	s.Pause()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	err := c.Ping(ctx).Err()
	cancel()
	if err == nil {
		t.Fatal("PING answered by a paused server")
	}
	s.Resume()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	// Cleanup kills the server, paused or not.
	s.Pause()
}

func TestArgs(t *testing.T) {
	s := redistest.Start(t, redistest.Args("--requirepass", "secret"))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := client(t, s.Addr()).Ping(ctx).Err(); err == nil {
		t.Error("PING without password answered")
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: "secret", DisableIdentity: true})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("PING with password: %v", err)
	}
}

func TestShared(t *testing.T) {
	addr := redistest.Shared(t)
	if want := os.Getenv(redistest.EnvAddr); want != "" && addr != want {
		t.Errorf("Shared = %s, %s is %s", addr, redistest.EnvAddr, want)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := client(t, addr).Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// Example shows a test that uses a Redis of its own, killed and restarted
// to check what survives a crash; a test that only needs a Redis calls
// Shared. Examples cannot take a *testing.T, so this one only names the
// environment variables the package reads.
func Example() {
	test := func(t *testing.T) {
		s := redistest.Start(t)
		c := redis.NewClient(&redis.Options{Addr: s.Addr()})
		defer c.Close()
		if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		s.Kill()
		s.Restart()
		if v, _ := c.Get(t.Context(), "k").Result(); v != "v" {
			t.Errorf("lost an acknowledged write: %q", v)
		}
	}
	_ = test
	fmt.Println(redistest.EnvAddr, redistest.EnvInterop)
	// Output: SANSIP_REDIS_ADDR SANSIP_INTEROP
}
