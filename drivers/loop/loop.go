// Package loop runs sansip cores on event loops: the reference runtime
// between the pure core and the world. A Runtime owns a fixed number of
// shards, each a goroutine with its own core instance, its own timers and
// a bounded inbox; received messages go to the shard their Call-ID hashes
// to, so that every message of a call (its transactions, dialogs, forks)
// meets the same core, and the shards together use every CPU. When its
// shard is free, a message is handled at once on the transport's goroutine
// that read it (no hand-over, no copy); when the shard is busy it waits in
// the shard's inbox. The number of goroutines is fixed whatever the load:
// one per shard and a small pool for DNS lookups; none per message,
// transaction or call.
//
// A shard carries out its core's effects: Send through the Transport, timers
// in a drivers/timers Queue, Resolve through the Resolver pool (the answer
// comes back to the shard as a Resolved input), Close through the
// Transport, and Deliver to Config.OnEvent, which runs on the shard's
// goroutine and may issue commands to the core through the Shard.
//
// Overload is bounded: a full inbox refuses the message (Receive returns
// false, and Config.Overload may answer it statelessly, 503 with
// Retry-After); memory never grows with the offered load.
package loop

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sansip/sansip/drivers/timers"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
)

// Core is a sansip core a shard runs: ua.UA, proxycore.Proxy, or anything
// with the same Handle.
type Core interface {
	Handle(in effects.Input, out []effects.Effect) []effects.Effect
}

// Idler is implemented by cores that can say they hold no transaction,
// so that a graceful shutdown waits for them to finish.
type Idler interface {
	Idle() bool
}

// Transport carries Send and Close effects (drivers/transport implements
// it).
type Transport interface {
	Send(to effects.Peer, data []byte) error
	Close(conn effects.ConnID) error
}

// Resolver performs RFC 3263 lookups (drivers/dns implements it).
type Resolver interface {
	Resolve(ctx context.Context, name, service string, transport effects.Transport, port uint16) ([]effects.Target, error)
}

// ErrOverload is returned when a shard's inbox is full.
var ErrOverload = errors.New("loop: shard inbox full")

// Config configures a Runtime.
type Config struct {
	// Shards is the number of event loops; zero means GOMAXPROCS.
	Shards int
	// NewCore makes shard i's core.
	NewCore func(shard int) Core
	// Transport sends and closes; Resolver looks names up (nil: Resolve
	// effects fail at once with an error).
	Transport Transport
	Resolver  Resolver
	// OnEvent receives the cores' Deliver effects, with the shard held
	// (on its goroutine, or on a transport's handling a message inline).
	OnEvent func(s *Shard, ev effects.Event)
	// QueueLen bounds each shard's inbox; zero means 4096.
	QueueLen int
	// Resolvers is the number of lookup goroutines; zero means 4.
	Resolvers int
	// Overload is called (on the caller's goroutine) with a message a full
	// shard refused, for a stateless 503; nil drops it.
	Overload func(data []byte, from effects.Peer, local netip.AddrPort)
	// Logger receives the runtime's logs; nil discards them.
	Logger *slog.Logger
	// TimerSlack is how late a shard's goroutine may wake for a timer: it
	// sleeps until the next timer is due plus this much, so that one
	// wake-up fires the timers that fall due close together. Timers also
	// fire, on time, whenever a message is handled inline (Receive), so
	// under load the slack costs nothing; idle, a timer fires at most
	// this late. SIP's timers count in hundreds of milliseconds. Zero
	// means 2 ms; negative means none.
	TimerSlack time.Duration
}

// Runtime is a set of shards. Its methods are safe for concurrent use.
type Runtime struct {
	cfg     Config
	shards  []*Shard
	start   time.Time
	lookups chan lookup
	wg      sync.WaitGroup
	running atomic.Bool
	done    chan struct{} // closed once the shards have stopped
	stats   Stats
}

// Stats are the runtime's counters.
type Stats struct {
	Received, Sent, SendErrors, Overloaded, Events, Timers atomic.Uint64
	// In and Out count the messages received and sent by method and code.
	In, Out Traffic
}

type lookup struct {
	shard         *Shard
	tag           uint64
	name, service string
	transport     effects.Transport
	port          uint16
}

// New returns a Runtime; Run starts it.
func New(cfg Config) (*Runtime, error) {
	if cfg.NewCore == nil || cfg.Transport == nil {
		return nil, errors.New("loop: NewCore and Transport are required")
	}
	if cfg.Shards <= 0 {
		cfg.Shards = runtime.GOMAXPROCS(0)
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	if cfg.Resolvers <= 0 {
		cfg.Resolvers = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.TimerSlack == 0:
		cfg.TimerSlack = 2 * time.Millisecond
	case cfg.TimerSlack < 0:
		cfg.TimerSlack = 0
	}
	r := &Runtime{cfg: cfg, start: time.Now(), lookups: make(chan lookup, cfg.QueueLen), done: make(chan struct{})}
	for i := range cfg.Shards {
		r.shards = append(r.shards, &Shard{
			id: i, rt: r, core: cfg.NewCore(i),
			inbox:  make(chan item, cfg.QueueLen),
			posted: make(chan struct{}, 1),
			wake:   make(chan struct{}, 1),
		})
	}
	return r, nil
}

// Now is the runtime's clock as the cores see it: the wall clock when the
// runtime was made (Unix nanoseconds) plus the monotonic time since, so
// that it never jumps with the wall clock yet means about the same on
// every node and after a restart (a digest nonce's issue time that
// another node checks, a binding's expiry in a shared store).
func (r *Runtime) Now() effects.Time {
	return effects.Time(r.start.UnixNano() + int64(time.Since(r.start)))
}

// Stats returns the runtime's counters.
func (r *Runtime) Stats() *Stats { return &r.stats }

// Shards returns the shards, for commands addressed to a given one.
func (r *Runtime) Shards() []*Shard { return r.shards }

// ShardFor returns the shard a Call-ID belongs to.
func (r *Runtime) ShardFor(callID []byte) *Shard {
	return r.shards[r.shardIndex(callID)]
}

// Receive hands a received message to its shard; data is copied. It
// reports false when the shard is overloaded (after Config.Overload has
// had the message).
func (r *Runtime) Receive(data []byte, from effects.Peer, local netip.AddrPort) bool {
	s := r.shards[0]
	if len(r.shards) > 1 {
		s = r.ShardFor(CallID(data)) // no need to find the Call-ID for one shard
	}
	select {
	case <-r.done:
		return false // stopped
	default:
	}
	if s.mu.TryLock() {
		// The shard is free: handle the message on this goroutine, which
		// saves the hand-over to the shard's (a wake-up and a copy per
		// message); the shard's own goroutine only fires timers then.
		r.stats.Received.Add(1)
		r.stats.In.countStart(data)
		s.handle(item{in: effects.Input{Kind: effects.Received, Data: data, From: from, Local: local}})
		s.drain()
		s.fireTimers()
		s.unlock()
		return true
	}
	it := item{in: effects.Input{Kind: effects.Received, Data: append([]byte(nil), data...), From: from, Local: local}}
	if !s.post(it) {
		r.stats.Overloaded.Add(1)
		if r.cfg.Overload != nil {
			r.cfg.Overload(data, from, local)
		}
		return false
	}
	r.stats.Received.Add(1)
	r.stats.In.countStart(data)
	return true
}

// ConnClosed tells every shard a connection closed.
func (r *Runtime) ConnClosed(conn effects.ConnID) {
	for _, s := range r.shards {
		s.postWait(item{in: effects.Input{Kind: effects.ConnClosed, Conn: conn}})
	}
}

// Run runs the shards and the lookup pool until ctx is done, then drains:
// shards whose cores are Idlers run until idle or until drain elapses.
func (r *Runtime) Run(ctx context.Context, drain time.Duration) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("loop: already running")
	}
	lookupCtx, stopLookups := context.WithCancel(context.Background())
	for range r.cfg.Resolvers {
		r.wg.Add(1)
		go r.resolveLoop(lookupCtx)
	}
	var shardsWG sync.WaitGroup
	stop := make(chan struct{})
	deadline := make(chan struct{})
	for _, s := range r.shards {
		shardsWG.Add(1)
		go func() {
			defer shardsWG.Done()
			s.run(stop, deadline)
		}()
	}
	<-ctx.Done()
	r.cfg.Logger.Info("draining", "shards", len(r.shards), "within", drain)
	close(stop)
	t := time.AfterFunc(drain, func() { close(deadline) })
	shardsWG.Wait()
	close(r.done)
	t.Stop()
	stopLookups()
	r.wg.Wait()
	return nil
}

func (r *Runtime) resolveLoop(ctx context.Context) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-r.lookups:
			in := effects.Input{Kind: effects.Resolved, Tag: l.tag}
			if r.cfg.Resolver == nil {
				in.Err = errors.New("loop: no resolver")
			} else {
				lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				in.Answer, in.Err = r.cfg.Resolver.Resolve(lctx, l.name, l.service, l.transport, l.port)
				cancel()
			}
			l.shard.postWait(item{in: in})
		}
	}
}

// item is one thing for a shard: an input, or a command.
type item struct {
	in effects.Input
	do func(now effects.Time, out []effects.Effect) []effects.Effect
}

// Shard is one event loop with its core.
type Shard struct {
	id    int
	rt    *Runtime
	core  Core
	inbox chan item
	// posted tells the shard's goroutine that the inbox holds items. Only
	// a holder of mu takes items out of the inbox, so that they are
	// handled in the order they were posted: a goroutine that took one
	// and then waited for mu could be overtaken by another draining the
	// inbox (commands reordered).
	posted chan struct{}
	wake   chan struct{}
	timers timers.Queue
	spare  effects.Buffers // effect buffers: handling nests
	// mu guards the core and everything below: the shard's goroutine
	// and, when it is free, a transport's goroutine handling a message
	// inline hold it.
	mu         sync.Mutex
	sleepUntil atomic.Int64 // when the shard's goroutine plans to wake
	buf        []byte
	// pending holds inputs the shard feeds itself (SendFailed), so that
	// handling an effect never recurses into the core.
	pending []effects.Input
}

// ID returns the shard's index.
func (s *Shard) ID() int { return s.id }

// Core returns the shard's core, for use only while the shard is held:
// from OnEvent or a Do function.
func (s *Shard) Core() Core { return s.core }

// Do runs f on the shard's goroutine with the current time and carries out
// the effects it returns: the way an application gives its core commands
// (Call, Answer, Decide...). It reports false when the inbox is full.
func (s *Shard) Do(f func(now effects.Time, out []effects.Effect) []effects.Effect) bool {
	return s.post(item{do: f})
}

// Exec carries out effects a command returned, when the caller already
// runs on the shard's goroutine (inside OnEvent). Commands given there
// should append to a buffer of their own (nil will do), not to one the
// shard is iterating.
func (s *Shard) Exec(now effects.Time, effs []effects.Effect) {
	s.apply(now, effs)
}

func (s *Shard) post(it item) bool {
	select {
	case s.inbox <- it:
		s.signal()
		return true
	default:
		return false
	}
}

// signal tells the shard's goroutine that the inbox holds items.
func (s *Shard) signal() {
	select {
	case s.posted <- struct{}{}:
	default:
	}
}

// postWait queues an input the core must not miss (a DNS answer, a
// closed connection), waiting for room unless the runtime has stopped.
func (s *Shard) postWait(it item) {
	select {
	case s.inbox <- it:
		s.signal()
	case <-s.rt.done:
	}
}

func (s *Shard) run(stop, deadline <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	stopping := false
	for {
		s.mu.Lock()
		if stopping {
			if idler, ok := s.core.(Idler); !ok || idler.Idle() {
				s.mu.Unlock()
				return
			}
		}
		wait := time.Hour
		if at, ok := s.timers.Next(); ok {
			wait = max(at.Sub(s.rt.Now())+s.rt.cfg.TimerSlack, 0)
		}
		s.sleepUntil.Store(int64(s.rt.Now().Add(wait)))
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-s.posted:
			s.mu.Lock()
			s.drain()
			s.fireTimers()
			more := len(s.inbox) > 0
			s.mu.Unlock()
			if more {
				s.signal() // the rest, after this round's timers
			}
		case <-s.wake:
		case <-timer.C:
			s.mu.Lock()
			s.fireTimers()
			s.mu.Unlock()
		case <-stop:
			stop = nil
			stopping = true
		case <-deadline:
			return
		}
	}
}

// drain handles what is queued, up to a bound, with the lock held.
func (s *Shard) drain() {
	for n := 0; n < 256; n++ {
		select {
		case it := <-s.inbox:
			s.handle(it)
		default:
			return
		}
	}
}

// unlock releases the shard after work on another goroutine, waking the
// shard's goroutine when a timer now falls due before it planned to wake.
func (s *Shard) unlock() {
	at, ok := s.timers.Next()
	s.mu.Unlock()
	if ok && int64(at.Add(s.rt.cfg.TimerSlack)) < s.sleepUntil.Load() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Shard) handle(it item) {
	now := s.rt.Now()
	b := s.buffer()
	if it.do != nil {
		b = it.do(now, b)
	} else {
		it.in.Now = now
		b = s.core.Handle(it.in, b)
	}
	s.apply(now, b)
	s.release(b)
}

// buffer returns an empty effect buffer; release gives it back.
func (s *Shard) buffer() []effects.Effect { return s.spare.Get() }

func (s *Shard) release(b []effects.Effect) { s.spare.Put(b) }

func (s *Shard) fireTimers() {
	for {
		now := s.rt.Now()
		id, _, ok := s.timers.Pop(now)
		if !ok {
			return
		}
		s.rt.stats.Timers.Add(1)
		b := s.core.Handle(effects.Input{Kind: effects.TimerFired, Now: now, Timer: id}, s.buffer())
		s.apply(now, b)
		s.release(b)
	}
}

// apply carries out effects, then any inputs they made the shard owe its
// core (failed sends). Effects of commands an OnEvent handler gives while
// apply runs are carried out at once (Exec), in their own buffers.
func (s *Shard) apply(now effects.Time, effs []effects.Effect) {
	for i := range effs {
		s.effect(now, &effs[i])
	}
	for len(s.pending) > 0 {
		in := s.pending[0]
		s.pending = s.pending[1:]
		in.Now = now
		b := s.core.Handle(in, s.buffer())
		for i := range b {
			s.effect(now, &b[i])
		}
		s.release(b)
	}
}

func (s *Shard) effect(now effects.Time, e *effects.Effect) {
	switch e.Kind {
	case effects.Send:
		data := e.Data
		if e.Msg != nil {
			s.buf = e.Msg.AppendTo(s.buf[:0])
			data = s.buf
		}
		if err := s.rt.cfg.Transport.Send(e.To, data); err != nil {
			s.rt.stats.SendErrors.Add(1)
			s.rt.cfg.Logger.Debug("send failed", "to", e.To.String(), "err", err)
			s.pending = append(s.pending, effects.Input{Kind: effects.SendFailed, Tag: e.Tag, Err: err})
			return
		}
		s.rt.stats.Sent.Add(1)
		switch {
		case e.Msg == nil:
			s.rt.stats.Out.countStart(data) // bytes a core kept, such as a retransmitted response
		case e.Msg.IsRequest():
			s.rt.stats.Out.countMethod(e.Msg.Method())
		default:
			s.rt.stats.Out.countCode(e.Msg.StatusCode())
		}
	case effects.SetTimer:
		s.timers.Set(e.Timer, now.Add(e.After))
	case effects.CancelTimer:
		s.timers.Cancel(e.Timer)
	case effects.Deliver:
		s.rt.stats.Events.Add(1)
		if s.rt.cfg.OnEvent != nil {
			s.rt.cfg.OnEvent(s, e.Event)
		}
	case effects.Resolve:
		l := lookup{shard: s, tag: e.Tag, name: e.Name, service: e.Service, transport: e.To.Transport, port: e.To.Addr.Port()}
		select {
		case s.rt.lookups <- l:
		default:
			s.pending = append(s.pending, effects.Input{Kind: effects.Resolved, Tag: e.Tag, Err: fmt.Errorf("loop: lookup queue full: %w", ErrOverload)})
		}
	case effects.Close:
		s.rt.cfg.Transport.Close(e.To.Conn)
	}
}

// CallID returns the Call-ID header value of a SIP message (long or
// compact form, any case) without allocating, or nil.
func CallID(msg []byte) []byte {
	i := 0
	// Skip the start line.
	for i < len(msg) && msg[i] != '\n' {
		i++
	}
	i++
	for i < len(msg) {
		end := i
		for end < len(msg) && msg[end] != '\n' {
			end++
		}
		line := msg[i:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) == 0 {
			return nil // end of the header section
		}
		if v, ok := callIDValue(line); ok {
			return v
		}
		i = end + 1
	}
	return nil
}

func callIDValue(line []byte) ([]byte, bool) {
	colon := -1
	for j, c := range line {
		if c == ':' {
			colon = j
			break
		}
	}
	if colon < 0 {
		return nil, false
	}
	name := trim(line[:colon])
	if !(len(name) == 1 && (name[0] == 'i' || name[0] == 'I')) && !equalFold(name, "call-id") {
		return nil, false
	}
	return trim(line[colon+1:]), true
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// AffineGen returns a generator like gen whose Call-IDs belong to shard
// (ShardFor): a core on that shard that starts dialogs of its own (a UA
// placing calls, a B2BUA's outgoing leg) gets every message of them back
// on the same shard, beside the dialog that caused them. It draws
// Call-IDs from gen until one hashes to the shard: as many draws as there
// are shards, on average.
func (r *Runtime) AffineGen(shard int, gen ident.Generator) ident.Generator {
	return affineGen{Generator: gen, r: r, shard: shard}
}

type affineGen struct {
	ident.Generator
	r     *Runtime
	shard int
}

func (g affineGen) CallID() string {
	n := len(g.r.shards)
	for i := 0; ; i++ {
		id := g.Generator.CallID()
		if n == 1 || g.r.shardIndex([]byte(id)) == g.shard || i >= 64*n {
			return id // a generator that repeats itself gets no better
		}
	}
}

// shardIndex is the index of the shard a Call-ID belongs to.
func (r *Runtime) shardIndex(callID []byte) int {
	h := fnv.New32a()
	h.Write(callID)
	return int(h.Sum32() % uint32(len(r.shards)))
}
