package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
)

// Errors of the Sim, matchable with errors.Is.
var (
	// ErrTimer: a core set a timer that was pending, or cancelled one that
	// was not.
	ErrTimer = errors.New("sim: timer misuse")
	// ErrNotQuiet: RunUntilQuiet reached its limit with events left, or
	// CheckQuiet found state left in a node.
	ErrNotQuiet = errors.New("sim: not quiet")
	// ErrEvents: a run handled more events than Config.MaxEvents (a
	// livelock, or a storm of messages).
	ErrEvents = errors.New("sim: too many events")
	// ErrAddress: an address is malformed or already taken.
	ErrAddress = errors.New("sim: bad address")
	// ErrCommand: a command given to a node failed.
	ErrCommand = errors.New("sim: command failed")
	// ErrNoName: a DNS look-up found no record (the Resolved input's Err).
	ErrNoName = errors.New("sim: no such name")
	// ErrRefused: a stream send found nobody listening at the address (the
	// SendFailed input's Err).
	ErrRefused = errors.New("sim: connection refused")
	// ErrNoConn: no open connection matches.
	ErrNoConn = errors.New("sim: no such connection")
)

// Config tunes a Sim. The zero Config takes the defaults documented.
type Config struct {
	// Link is the default link between any two nodes; the zero Link
	// means a perfect one with DefaultDelay.
	Link Link
	// DNSDelay is how long a Resolve takes to be answered; default
	// DefaultDNSDelay.
	DNSDelay time.Duration
	// TraceLimit bounds the records kept for Trace and Records (the oldest
	// go first; Digest covers every record anyway); default
	// DefaultTraceLimit, negative for none kept.
	TraceLimit int
	// MaxEvents bounds the events one Run or RunUntilQuiet handles;
	// default DefaultMaxEvents.
	MaxEvents int
}

// Defaults of Config.
const (
	DefaultDelay      = 10 * time.Millisecond
	DefaultDNSDelay   = 2 * time.Millisecond
	DefaultTraceLimit = 20000
	DefaultMaxEvents  = 2000000
)

// Option changes a Config.
type Option func(*Config)

// WithConfig replaces the whole Config.
func WithConfig(c Config) Option { return func(p *Config) { *p = c } }

// WithLink sets the default link.
func WithLink(l Link) Option { return func(c *Config) { c.Link = l } }

// WithTraceLimit sets how many records the trace keeps.
func WithTraceLimit(n int) Option { return func(c *Config) { c.TraceLimit = n } }

// Sim is a simulated network. It is not safe for concurrent use; separate
// Sims are independent.
type Sim struct {
	cfg  Config
	seed uint64
	rng  *rand.Rand
	now  effects.Time
	seq  uint64
	q    queue
	free []*event
	// nodes in the order added; byAddr finds the node at an address.
	nodes  []*Node
	byName map[string]*Node
	byAddr map[netip.AddrPort]*Node
	// links by (from, to) node index; cuts are the partitions.
	links map[[2]int]Link
	cuts  []cut
	// filters drop the messages they choose.
	filters []func(*Record) bool
	// conns are the stream connections, by id and by their two ends.
	conns    map[effects.ConnID]*conn
	connsBy  map[connKey]*conn
	nextConn effects.ConnID
	dns      map[string][]effects.Target
	trace    trace
	spare    effects.Buffers
	err      error // the first misuse seen, which stops the run
	bindSeq  int   // numbers the bindings Bind writes
	events   int   // handled in the current run
}

// New returns a Sim whose every random choice derives from seed.
func New(seed uint64, opts ...Option) *Sim {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Link.Delay <= 0 {
		cfg.Link.Delay = DefaultDelay
	}
	if cfg.DNSDelay <= 0 {
		cfg.DNSDelay = DefaultDNSDelay
	}
	if cfg.TraceLimit == 0 {
		cfg.TraceLimit = DefaultTraceLimit
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	s := &Sim{
		cfg:     cfg,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, seed^0x5eed5eed5eed5eed)),
		byName:  map[string]*Node{},
		byAddr:  map[netip.AddrPort]*Node{},
		links:   map[[2]int]Link{},
		conns:   map[effects.ConnID]*conn{},
		connsBy: map[connKey]*conn{},
		dns:     map[string][]effects.Target{},
	}
	s.trace.init(cfg.TraceLimit)
	return s
}

// Seed returns the seed the Sim was made with.
func (s *Sim) Seed() uint64 { return s.seed }

// Now returns the virtual clock. It starts at 0.
func (s *Sim) Now() effects.Time { return s.now }

// Rand returns the Sim's PRNG, for the random choices of a scenario (which
// callee answers when, how lossy a link is): drawing from it keeps the run
// a function of the seed.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// Nodes returns the nodes in the order they were added.
func (s *Sim) Nodes() []*Node { return s.nodes }

// Node returns the node named name, or nil.
func (s *Sim) Node(name string) *Node { return s.byName[name] }

// Err returns the first misuse the Sim saw (ErrTimer, ErrEvents), or nil.
func (s *Sim) Err() error { return s.err }

// fail records the first misuse; it stops the run.
func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = err
		s.record(Record{Op: OpError, Detail: err.Error()})
	}
}

// At schedules fn, an application action, at time t (now if t is past).
func (s *Sim) At(t effects.Time, fn func()) {
	e := s.newEvent(evAction, max(t, s.now), nil)
	e.fn = fn
	s.push(e)
}

// After schedules fn d from now.
func (s *Sim) After(d time.Duration, fn func()) { s.At(s.now.Add(d), fn) }

// Pending returns the number of events queued: messages in flight, timers,
// DNS answers and actions.
func (s *Sim) Pending() int { return len(s.q) }

// Run handles every event due at or before until, in order, and leaves the
// clock at until (or where it was, if later). It stops at the first misuse
// and returns it.
func (s *Sim) Run(until effects.Time) error {
	s.events = 0
	for len(s.q) > 0 && s.err == nil {
		if s.q[0].at > until {
			break
		}
		s.step()
	}
	if s.err == nil && until > s.now {
		s.now = until
	}
	return s.err
}

// RunFor runs for d of virtual time.
func (s *Sim) RunFor(d time.Duration) error { return s.Run(s.now.Add(d)) }

// RunUntilQuiet handles events until none is left, and returns ErrNotQuiet
// if some are still queued beyond limit from now (a timer that keeps
// rearming, a registration refreshing for ever), with what they are.
//
// Unlike Run, it leaves the clock at the last event handled when the
// network fell quiet.
func (s *Sim) RunUntilQuiet(limit time.Duration) error {
	until := s.now.Add(limit)
	s.events = 0
	for len(s.q) > 0 && s.err == nil && s.q[0].at <= until {
		s.step()
	}
	if s.err != nil {
		return s.err
	}
	if len(s.q) > 0 {
		s.now = until
		return fmt.Errorf("%w: %d events left after %v: %s", ErrNotQuiet, len(s.q), limit, s.describeQueue())
	}
	return nil
}

// describeQueue names the first events queued, in order.
func (s *Sim) describeQueue() string {
	var b strings.Builder
	q := append(queue(nil), s.q...)
	for i := 0; i < 5 && q.Len() > 0; i++ {
		e := heap.Pop(&q).(*event)
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v ", fmtTime(e.at))
		switch e.kind {
		case evArrive:
			fmt.Fprintf(&b, "arrival at %s of %s", e.node.name, Summary(e.data))
		case evTimer:
			fmt.Fprintf(&b, "timer %#x of %s", uint64(e.timer), e.node.name)
		case evInput:
			fmt.Fprintf(&b, "input %d for %s", e.in.Kind, e.node.name)
		case evAction:
			b.WriteString("action")
		}
	}
	// q's Pop reset the indexes of the shared events: restore them.
	for i, e := range s.q {
		e.index = i
	}
	return b.String()
}

// step handles the first event of the queue.
func (s *Sim) step() { s.handle(heap.Pop(&s.q).(*event)) }

// handle handles an event taken off the queue (the first, or one a test
// chose: RunEvent) and recycles it.
func (s *Sim) handle(e *event) {
	s.events++
	if s.events > s.cfg.MaxEvents {
		s.fail(fmt.Errorf("%w: more than %d in one run", ErrEvents, s.cfg.MaxEvents))
		return
	}
	if e.at > s.now {
		s.now = e.at
	}
	switch e.kind {
	case evArrive:
		s.arrive(e)
	case evTimer:
		nd := e.node
		delete(nd.timers, e.timer)
		s.record(Record{Op: OpFire, Node: nd, Timer: e.timer})
		s.input(nd, effects.Input{Kind: effects.TimerFired, Timer: e.timer})
	case evInput:
		s.input(e.node, e.in)
	case evAction:
		s.record(Record{Op: OpAction})
		e.fn()
	}
	s.recycle(e)
}

// input feeds a node's core one input and carries out its effects.
func (s *Sim) input(nd *Node, in effects.Input) {
	in.Now = s.now
	out := nd.core.Handle(in, s.spare.Get())
	s.apply(nd, out)
	s.spare.Put(out)
}

// apply carries out effects a node's core returned, in order. Hooks run
// for Deliver effects may give commands, whose effects are carried out at
// once (as drivers/loop's Exec does).
func (s *Sim) apply(nd *Node, effs []effects.Effect) {
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case effects.Send:
			s.send(nd, e)
		case effects.SetTimer:
			s.setTimer(nd, e.Timer, e.After)
		case effects.CancelTimer:
			s.cancelTimer(nd, e.Timer)
		case effects.Deliver:
			nd.deliver(e.Event)
		case effects.Resolve:
			s.resolve(nd, e)
		case effects.Close:
			s.closeConn(nd, e.To.Conn)
		}
	}
}

func (s *Sim) setTimer(nd *Node, id effects.TimerID, after time.Duration) {
	if _, ok := nd.timers[id]; ok {
		s.fail(fmt.Errorf("%w: %s set timer %#x, which is pending", ErrTimer, nd.name, uint64(id)))
		return
	}
	e := s.newEvent(evTimer, s.now.Add(max(after, 0)), nd)
	e.timer = id
	s.push(e)
	nd.timers[id] = e
	s.record(Record{Op: OpSet, Node: nd, Timer: id, After: after})
}

func (s *Sim) cancelTimer(nd *Node, id effects.TimerID) {
	e, ok := nd.timers[id]
	if !ok {
		s.fail(fmt.Errorf("%w: %s cancelled timer %#x, which is not pending", ErrTimer, nd.name, uint64(id)))
		return
	}
	delete(nd.timers, id)
	s.remove(e)
	s.record(Record{Op: OpCancel, Node: nd, Timer: id})
}

// CheckQuiet reports, as an ErrNotQuiet error naming each node and what it
// holds, the nodes that still hold state: timers pending in the Sim, and
// what their cores report (Leftover). It also reports events still queued.
func (s *Sim) CheckQuiet() error {
	var problems []string
	if len(s.q) > 0 {
		problems = append(problems, fmt.Sprintf("%d events queued: %s", len(s.q), s.describeQueue()))
	}
	for _, nd := range s.nodes {
		var left []string
		if n := len(nd.timers); n > 0 {
			left = append(left, fmt.Sprintf("%d timers pending", n))
		}
		if l, ok := nd.core.(Leftover); ok {
			if what := l.Leftover(); what != "" {
				left = append(left, what)
			}
		}
		if len(left) > 0 {
			problems = append(problems, nd.name+" holds "+strings.Join(left, ", "))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotQuiet, strings.Join(problems, "; "))
}

// Report returns the seed, the error (if any) and the readable trace: what
// a failing test prints.
func (s *Sim) Report(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d at %v", s.seed, fmtTime(s.now))
	if err != nil {
		fmt.Fprintf(&b, ": %v", err)
	}
	b.WriteString("\n")
	b.WriteString(s.Trace())
	return b.String()
}
