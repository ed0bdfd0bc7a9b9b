package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/store/redisstore"
)

// redisLog passes go-redis's own messages (a failed dial each time Redis
// is down) to the server's log, at most one a second: the requests that
// needed the store are answered 503 and logged by the service anyway.
type redisLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	last time.Time
	lost int
}

// Printf logs one message of go-redis, or counts it when one was logged
// less than a second ago.
func (r *redisLog) Printf(_ context.Context, format string, v ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.last) < time.Second {
		r.lost++
		return
	}
	r.log.Warn("redis: "+fmt.Sprintf(format, v...), "not logged since the last", r.lost)
	r.last, r.lost = time.Now(), 0
}

// openStore opens the location store the settings name: "file" (the
// default: bbolt in the data directory, kept across restarts), "redis"
// (shared by the nodes that name the same Redis) or "memory" (lost at
// exit). It returns the store and what closes it.
func openStore(st map[string]string, log *slog.Logger) (service.Store, func() error, error) {
	switch kind := st["store"]; kind {
	case "memory":
		return service.NewMemoryStore(), func() error { return nil }, nil
	case "", "file":
		dir := st["data"]
		if dir == "" {
			var err error
			if dir, err = stateDir(); err != nil {
				return nil, nil, fmt.Errorf("data: %w", err)
			}
		}
		s, err := boltstore.Open(filepath.Join(dir, "bindings.db"), boltstore.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("store: %w", err)
		}
		return s, s.Close, nil
	case "redis":
		o := redisstore.Options{Addr: st["redis"], Prefix: st["redis-prefix"], Password: os.Getenv("SANSIP_REDIS_PASSWORD")}
		if v := st["redis-cache"]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, nil, fmt.Errorf("redis-cache: %w", err)
			}
			o.CacheTTL = d
			if d == 0 {
				o.CacheTTL = -1 // 0s in the configuration: no cache
			}
		}
		redis.SetLogger(&redisLog{log: log})
		s, err := redisstore.New(o)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %w", err)
		}
		return s, s.Close, nil
	default:
		return nil, nil, fmt.Errorf("store: %q is not memory, file or redis", kind)
	}
}

// stateDir is where the file store lives by default:
// $XDG_STATE_HOME/sansip, else ~/.local/state/sansip.
func stateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "sansip"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.Join(err, errors.New("set data = DIR"))
	}
	return filepath.Join(home, ".local", "state", "sansip"), nil
}
