// The helpers of the scenarios, for whoever writes the next ones:
//
//   - forSeeds(t, run) runs a scenario (func(seed) (*sim.Sim, error)) for
//     -seeds seeds, or only -seed, and reports the first failure with its
//     seed, replay command and trace; lossy(s) draws a seed's network.
//   - expect{caller, callees, ...}.check(s, w) runs a call placed by the
//     caller and checks what RFC 3261 allows it to come to (see its
//     comment); its ends and outcome widen that for a scenario whose
//     calls may end in more ways (a session timer, a CANCEL of the
//     caller's). tally counts the outcomes for the test's log, and
//     SIM_STOP="<outcome>" stops at the first seed with that outcome, to
//     read its trace; reached(tl, outcome) does the same for a scenario's
//     own outcomes.
//   - watch(s) collects the messages of a run (wire.find, allFrom,
//     allSent; wire.msg parses one, once); calls(node) groups a UA's call
//     events by call; wellFormed checks that every call ends once.
//
// Each scenario goes in a file of its own (basic_test.go, proxy_test.go,
// forking_test.go ...), and in the scenarios table of determinism_test.go.
package sim_test

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// The seeds a scenario runs: -seeds N runs seeds 1 to N (CI's default
// count; -seeds 100000 is the long run), -seed N replays only seed N (and,
// with -v, prints its trace).
var (
	flagSeed  = flag.Uint64("seed", 0, "replay only this seed of each scenario run (0: seeds 1 to -seeds)")
	flagSeeds = flag.Int("seeds", 1000, "how many seeds each scenario runs")
)

// scenario runs one seed: it returns the Sim it ran (for the report) and
// what went wrong, if anything.
type scenario func(seed uint64) (*sim.Sim, error)

// forSeeds runs a scenario for every seed, and on the first failure fails
// the test with the seed, how to replay it and the readable trace.
func forSeeds(t *testing.T, run scenario) {
	t.Helper()
	forSeedsN(t, *flagSeeds, run)
}

// forSeedsN is forSeeds for n seeds (a scenario that needs fewer).
func forSeedsN(t *testing.T, n int, run scenario) {
	t.Helper()
	if *flagSeed != 0 {
		s, err := run(*flagSeed)
		if err != nil {
			t.Fatal(failure(t, s, *flagSeed, err))
		}
		if testing.Verbose() {
			t.Log(s.Report(nil))
		}
		return
	}
	if testing.Short() {
		n = min(n, 100)
	}
	start := time.Now()
	for seed := uint64(1); seed <= uint64(n); seed++ {
		s, err := run(seed)
		if err != nil {
			t.Fatal(failure(t, s, seed, err))
		}
	}
	t.Logf("%d seeds in %v", n, time.Since(start).Round(time.Millisecond))
}

// failure is the report of a failing seed.
func failure(t *testing.T, s *sim.Sim, seed uint64, err error) string {
	name := t.Name()
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	msg := fmt.Sprintf("seed %d: %v\nreplay: go test ./sim -run '^%s$' -seed %d -v\n", seed, err, name, seed)
	if s != nil {
		msg += s.Report(err)
	}
	return msg
}

// lossy draws a seed's network: loss up to 30% (a quarter of the seeds at
// 30%), duplication up to 10%, a delay of 5 to 50 ms and jitter up to 40 ms
// (datagrams overtake one another).
func lossy(s *sim.Sim) sim.Link {
	r := s.Rand()
	loss := 0.3
	if r.IntN(4) != 0 {
		loss = r.Float64() * 0.3
	}
	return sim.Link{
		Loss:   loss,
		Dup:    r.Float64() * 0.1,
		Delay:  time.Duration(5+r.IntN(46)) * time.Millisecond,
		Jitter: time.Duration(r.IntN(41)) * time.Millisecond,
	}
}

// T1 is the transaction layer's default T1 (RFC 3261 §17.1.1.1), and 64·T1
// the bound of Timer B, F, H and J and of the UA's own waits.
const (
	T1   = 500 * time.Millisecond
	T1x4 = 64 * T1
)

const (
	sdpOffer  = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	sdpAnswer = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)

// wire collects the messages of a run as they are sent, received and
// dropped (the trace ring may forget old ones).
type wire struct {
	recs []sim.Record
	// parsed caches msg's parses, by the first byte of the data (a send
	// and its arrival share it).
	parsed map[*byte]*message.Message
}

func watch(s *sim.Sim) *wire {
	w := &wire{}
	s.Observe(func(r *sim.Record) {
		switch r.Op {
		case sim.OpSend, sim.OpRecv, sim.OpDrop, sim.OpDup:
			if r.IsMessage() {
				w.recs = append(w.recs, *r)
			}
		}
	})
	return w
}

// msg parses a recorded message once, however often the checks ask.
func (w *wire) msg(r sim.Record) *message.Message {
	if len(r.Data) == 0 {
		return parse(r)
	}
	k := &r.Data[0]
	if m, ok := w.parsed[k]; ok {
		return m
	}
	if w.parsed == nil {
		w.parsed = map[*byte]*message.Message{}
	}
	m := parse(r)
	w.parsed[k] = m
	return m
}

// find returns the records of operation op at node (its sends, or what
// arrived at it) whose summary starts with prefix ("INVITE", "200 BYE"),
// and, when peer is not nil, whose other end is peer.
func (w *wire) find(op sim.Op, node, peer *sim.Node, prefix string) []sim.Record {
	var out []sim.Record
	for _, r := range w.recs {
		if r.Op == op && r.Node == node && (peer == nil || r.Peer == peer) && strings.HasPrefix(r.Summary(), prefix) {
			out = append(out, r)
		}
	}
	return out
}

// parse parses a recorded message; the Sim rendered it, so it parses.
func parse(r sim.Record) *message.Message {
	m, err := r.Message()
	if err != nil {
		panic(err)
	}
	return m
}

// callKinds are the call events (not session, media or request events).
var callKinds = []effects.EventKind{effects.CallIncoming, effects.CallRinging, effects.CallAnswered, effects.CallFailed, effects.CallEnded}

// call is one call a UA had: its events in order.
type call struct {
	id     ua.CallID
	events []sim.Event
}

func (c call) kinds() []effects.EventKind {
	var out []effects.EventKind
	for _, e := range c.events {
		out = append(out, e.Kind)
	}
	return out
}

func (c call) last() sim.Event { return c.events[len(c.events)-1] }

func (c call) has(k effects.EventKind) (sim.Event, bool) {
	for _, e := range c.events {
		if e.Kind == k {
			return e, true
		}
	}
	return sim.Event{}, false
}

func (c call) String() string {
	var parts []string
	for _, e := range c.events {
		p := strings.TrimPrefix(e.Kind.String(), "call-")
		if e.Code != 0 {
			p += fmt.Sprintf("(%d)", e.Code)
		}
		if e.Err != nil {
			p += fmt.Sprintf("[%v]", e.Err)
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("call %d: %s", c.id, strings.Join(parts, " "))
}

// calls returns the calls of a node, in the order they began, with their
// call events.
func calls(n *sim.Node) []call {
	var out []call
	for _, e := range n.Events() {
		if !slices.Contains(callKinds, e.Kind) {
			continue
		}
		i := slices.IndexFunc(out, func(c call) bool { return c.id == e.ID })
		if i < 0 {
			out = append(out, call{id: e.ID})
			i = len(out) - 1
		}
		out[i].events = append(out[i].events, e)
	}
	return out
}

// callEnd returns when the one call of u ended (the end of time if it
// did not).
func callEnd(u *sim.UANode) effects.Time {
	if c := calls(u.Node); len(c) == 1 && terminal(c[0].last().Kind) {
		return c[0].last().At
	}
	return effects.Time(1<<63 - 1)
}

// terminal reports whether k ends a call.
func terminal(k effects.EventKind) bool { return k == effects.CallFailed || k == effects.CallEnded }

// wellFormed checks the event sequence of every call of a node, whatever
// the network did: a call ends once, with its last event (CallFailed or
// CallEnded), and is answered at most once, before; an incoming call
// starts with CallIncoming; a call that ends held nothing more.
// Calls still open are allowed when open is set (the caller checks why).
func wellFormed(n *sim.Node, open bool) error {
	for _, c := range calls(n) {
		ends, answers := 0, 0
		for i, e := range c.events {
			switch {
			case terminal(e.Kind):
				ends++
				if i != len(c.events)-1 {
					return fmt.Errorf("%s: %s: events after the end", n.Name(), c)
				}
			case e.Kind == effects.CallAnswered:
				answers++
			case e.Kind == effects.CallIncoming && i != 0:
				return fmt.Errorf("%s: %s: CallIncoming not first", n.Name(), c)
			}
		}
		if ends > 1 || answers > 1 || ends == 0 && !open {
			return fmt.Errorf("%s: %s: ended %d times, answered %d times", n.Name(), c, ends, answers)
		}
	}
	return nil
}

// oneOf reports whether err is one of the targets.
func oneOf(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// allSent returns every message sent (by any node) whose summary starts
// with prefix.
func (w *wire) allSent(prefix string) []sim.Record {
	var out []sim.Record
	for _, r := range w.recs {
		if (r.Op == sim.OpSend || r.Op == sim.OpDrop && r.Detail != "connection closed") && strings.HasPrefix(r.Summary(), prefix) {
			out = append(out, r)
		}
	}
	return out
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// allFrom returns the messages node sent (lost or not) to peer (nil: to
// anyone) whose summary starts with prefix.
func (w *wire) allFrom(node, peer *sim.Node, prefix string) []sim.Record {
	var out []sim.Record
	for _, r := range w.recs {
		if r.Node == node && (peer == nil || r.Peer == peer) && (r.Op == sim.OpSend || r.Op == sim.OpDrop && r.Detail != "connection closed") &&
			strings.HasPrefix(r.Summary(), prefix) {
			out = append(out, r)
		}
	}
	return out
}

// tally counts the outcomes of a scenario's seeds, for its log.
type tally map[string]int

func (t tally) add(outcome string) {
	if t != nil {
		t[outcome]++
	}
}

func (t tally) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("outcomes:")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s: %d;", k, t[k])
	}
	return b.String()
}
