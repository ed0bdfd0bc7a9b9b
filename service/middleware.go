package service

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/effects"
)

// Middleware is a plugin (NkSIP's plugins): hooks the service calls, in
// the order of Config.Middleware, each one optional. Inbound and Outbound
// run on the transports' goroutines, several at once: they must be safe
// for concurrent use and quick. Route runs on the shards.
type Middleware struct {
	// Name names the plugin in logs.
	Name string
	// Inbound sees each message that arrives, before any core; returning
	// false drops it (after answering it, with Packet.Refuse, if it
	// wishes).
	Inbound func(p *Packet) bool
	// Outbound sees each message after it was sent.
	Outbound func(p *Packet)
	// Route wraps the routing callback: it gets the next one (the
	// application's, or the next plugin's) and returns its own, which
	// may decide itself or call next.
	Route func(next func(*Request)) func(*Request)
	// AuthFailed hears each failed digest authentication.
	AuthFailed func(f AuthFailure)
}

// Packet is a message on the wire, as the middleware sees it.
type Packet struct {
	// Data is the message; it may be read during the hook only.
	Data []byte
	// Peer is where it came from (Inbound) or goes (Outbound).
	Peer effects.Peer
	// Local is the local address it arrived on (Inbound).
	Local netip.AddrPort
	svc   *Service
}

// IsRequest reports whether the packet is a request.
func (p *Packet) IsRequest() bool { return !bytes.HasPrefix(p.Data, []byte("SIP/")) }

// StartLine returns the packet's first line.
func (p *Packet) StartLine() string {
	line, _, _ := bytes.Cut(p.Data, []byte("\r\n"))
	return string(line)
}

// CallID returns the packet's Call-ID.
func (p *Packet) CallID() string { return string(loop.CallID(p.Data)) }

// Refuse answers an inbound request statelessly with code (403, 503 with
// Retry-After...) and a reason phrase ("" for the usual one); responses
// and ACKs are not answered.
func (p *Packet) Refuse(code int, reason string) {
	if p.svc != nil && p.IsRequest() {
		p.svc.refuse(p.Data, p.Peer, code, reason)
	}
}

// AuthFailure is a failed digest authentication: the credentials named an
// unknown user, or a wrong password, or a user not allowed the address.
type AuthFailure struct {
	User, Realm string
	// AOR is the address the REGISTER was for.
	AOR string
	// Source is where the request came from.
	Source effects.Peer
	Method string
	// Reason says what failed: "unknown user", "wrong password", "not
	// allowed to register this address".
	Reason string
}

// Trace logs one line per message in and out, at level Info: direction,
// transport, peer, start line, Call-ID and size. It is off unless added
// (it costs a log line per message).
func Trace(log *slog.Logger) Middleware {
	line := func(dir string, p *Packet) {
		log.LogAttrs(context.Background(), slog.LevelInfo, "sip",
			slog.String("dir", dir), slog.String("transport", p.Peer.Transport.String()),
			slog.String("peer", p.Peer.Addr.String()), slog.String("msg", p.StartLine()),
			slog.String("call-id", p.CallID()), slog.Int("bytes", len(p.Data)))
	}
	return Middleware{
		Name:     "trace",
		Inbound:  func(p *Packet) bool { line("in", p); return true },
		Outbound: func(p *Packet) { line("out", p) },
	}
}

// LogAuthFailures logs each failed authentication at level Warn in one
// line a log watcher (fail2ban) can match on the source address:
//
//	msg="auth failed" user=alice realm=example.com src=192.0.2.9 port=5060 transport=UDP method=REGISTER reason="wrong password"
func LogAuthFailures(log *slog.Logger) Middleware {
	return Middleware{
		Name: "auth-failures",
		AuthFailed: func(f AuthFailure) {
			log.LogAttrs(context.Background(), slog.LevelWarn, "auth failed",
				slog.String("user", f.User), slog.String("realm", f.Realm),
				slog.String("src", f.Source.Addr.Addr().String()), slog.Int("port", int(f.Source.Addr.Port())),
				slog.String("transport", f.Source.Transport.String()), slog.String("method", f.Method),
				slog.String("aor", f.AOR), slog.String("reason", f.Reason))
		},
	}
}

// RateLimit bounds the requests each source address may send: PerSecond
// on average, Burst at once (token buckets, RFC-agnostic). Past it a
// request is answered 503 with Retry-After (statelessly), or dropped
// when Drop is set; responses and ACKs are never limited. At most
// MaxSources addresses are tracked (default 65536); when the table is
// full the least recently seen ones are forgotten.
type RateLimit struct {
	PerSecond  float64
	Burst      int
	Drop       bool
	MaxSources int
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

// Middleware returns the plugin.
func (rl RateLimit) Middleware() Middleware {
	if rl.MaxSources <= 0 {
		rl.MaxSources = 65536
	}
	if rl.Burst <= 0 {
		rl.Burst = max(1, int(rl.PerSecond))
	}
	if rl.Now == nil {
		rl.Now = time.Now
	}
	b := &buckets{rl: rl, m: map[netip.Addr]*bucket{}}
	return Middleware{Name: "rate-limit", Inbound: b.allow}
}

type bucket struct {
	tokens float64
	last   time.Time
}

type buckets struct {
	rl RateLimit
	mu sync.Mutex
	m  map[netip.Addr]*bucket
	// old holds the previous generation of the table: a source not seen
	// for a whole generation is forgotten (two maps: no list to keep).
	old map[netip.Addr]*bucket
}

func (b *buckets) allow(p *Packet) bool {
	if !p.IsRequest() || bytes.HasPrefix(p.Data, []byte("ACK ")) {
		return true
	}
	a := p.Peer.Addr.Addr()
	now := b.rl.Now()
	b.mu.Lock()
	k := b.m[a]
	if k == nil {
		if k = b.old[a]; k == nil {
			k = &bucket{tokens: float64(b.rl.Burst), last: now}
		}
		if len(b.m) >= b.rl.MaxSources/2 {
			b.old, b.m = b.m, map[netip.Addr]*bucket{}
		}
		b.m[a] = k
	}
	k.tokens = min(float64(b.rl.Burst), k.tokens+now.Sub(k.last).Seconds()*b.rl.PerSecond)
	k.last = now
	ok := k.tokens >= 1
	if ok {
		k.tokens--
	}
	b.mu.Unlock()
	if !ok && !b.rl.Drop {
		p.Refuse(503, "Service Unavailable (rate limit)")
	}
	return ok
}
