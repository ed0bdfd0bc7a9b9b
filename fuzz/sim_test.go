package fuzz

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// FuzzSimInterleavings runs a small SIP network of real cores in the
// simulator (package sim) on a program the fuzzer writes, which chooses
// every interleaving of its events: which event runs next, which datagram
// in flight arrives now, is lost, duplicated or delayed, when a stream
// connection breaks, a node is cut off or the network heals, how far the
// clock moves, and what each user's application does.
//
// The network: Alice, a stateful proxy that is the registrar of
// example.com (record-routing or not), two or three phones registered for
// sip:bob@example.com (Alice's calls to Bob fork to all of them), and, for
// some inputs, a stateless proxy in front of the registrar that Alice
// sends her requests to. Alice registers sip:alice@example.com, so that
// the phones can call her.
//
// An input is one configuration byte (simConfig), then steps of two bytes,
// an operation and its argument (the simOp constants, the application's
// commands among them: the simCmd constants), at most simMaxSteps of
// them.
//
// For every input: nothing panics; the Sim sees no misuse (a timer set
// twice or cancelled when not pending, a storm of events); every message a
// core sends parses (but an error response to a malformed request, see
// checkSends), and no proxy sends one to itself; every call's events are
// in order (nothing after its end, answered at most once). Once the program is over, the network heals and
// turns perfect, every application hangs up what it has (and, from then
// on, refuses new calls, hangs up those answered late, answers requests
// and unregisters), and within simQuiet of virtual time every event has
// been handled and no node holds a call, dialog, transaction, proxy
// context, pending REGISTER or timer (sim.CheckQuiet).
//
// A failure prints the program and the Sim's trace; go test ./fuzz -run
// 'FuzzSimInterleavings/NAME' -v replays an input of testdata, and
// SANSIP_FUZZ_SIM_TRACE=1 logs each step and prints the trace even when
// it passes.
func FuzzSimInterleavings(f *testing.F) {
	for _, seed := range simSeeds {
		f.Add(seed.prog())
	}
	f.Fuzz(func(t *testing.T, prog []byte) { runSimProgram(t, prog) })
}

// simMaxSteps bounds the steps of a program, and simQuiet how long the
// network may take to fall quiet after it; simMaxEvents bounds the events
// of one run of the Sim (a storm is a failure); simMaxLate how far ahead
// a datagram may be delayed.
const (
	simMaxSteps  = 256
	simQuiet     = 15 * time.Minute
	simMaxEvents = 200000
	simMaxLate   = 5 * time.Minute
)

// simConfig is the first byte of an input: the network the program runs
// on.
type simConfig uint8

const (
	simCfgNoRecordRoute simConfig = 1 << iota // the registrar proxy does not record-route
	simCfgStateless                           // Alice sends through a stateless proxy
	simCfgThreePhones                         // three phones of Bob's, not two
	simCfgAliceTCP                            // Alice is reached over TCP
	simCfgPhonesTCP                           // the phones are reached over TCP
	simCfg100rel                              // the UAs ask for reliable provisional responses (RFC 3262)
	simCfgTimers                              // the UAs ask for session timers (RFC 4028)
	simCfgLossy                               // the links lose, duplicate and reorder datagrams by themselves
)

// The operations of a step, its first byte modulo 32. The argument picks
// what it applies to (an event, a node, a call) and how far.
const (
	simOpNext      = iota     // 0 to 5: handle the next arg%8+1 events, in order
	simOpRunEvent  = iota + 5 // handle the arg-th queued event ahead of its turn (sim.RunEvent)
	simOpDeliver              // the arg-th datagram in flight arrives now
	simOpDrop                 // the arg-th datagram in flight is lost
	simOpDuplicate            // a copy of the arg%16-th datagram arrives (arg>>4)·20 ms from now
	simOpDelay                // the arg%16-th datagram arrives simDelays[arg>>4] later (simMaxLate from now at most)
	simOpBreak                // the arg-th open stream connection breaks
	simOpIsolate              // a node is cut off from all others until a heal
	simOpCutFor               // a node is cut off from all others for (arg>>3+1)·2 s
	simOpHeal                 // every partition ends
	simOpAdvance              // the clock moves by simDelays[arg%16], in order
	simOpFire                 // the earliest timer fires now; events due before it wait
	simOpApp                  // 17 to 31: the application command op-simOpApp (a simCmd)
)

// The application commands, op-simOpApp; the argument picks the UA (arg mod
// the UAs) and the call (the rest).
const (
	simCmdCall        = iota // an INVITE with an offer: Alice calls Bob, a phone Alice (or Bob)
	simCmdRing               // 180, or 183 with the answer
	simCmdAnswer             // 2xx
	simCmdReject             // 486 or 603
	simCmdHangup             // CANCEL, BYE or a refusal, as the call's state asks
	simCmdReinvite           // a re-INVITE offering a new description
	simCmdUpdate             // an UPDATE (RFC 3311), in an early or confirmed dialog
	simCmdAccept             // accept the re-INVITE or UPDATE waiting
	simCmdDecline            // decline it (488)
	simCmdRegister           // a new registration, with retries or not
	simCmdUnregister         // end a registration
	simCmdRequest            // INFO in the call's dialog, or MESSAGE outside any
	simCmdReply              // answer a request waiting (200 or 486)
	simCmdCallNoOffer        // an INVITE without an offer (RFC 3261 §13.2.1), the answer in the ACK
	simCmdHold               // hold or resume the call (RFC 3264 §8.4)
)

// simDelays are the clock moves and delays an argument picks.
var simDelays = [16]time.Duration{
	time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
	4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
	64 * time.Second, 2 * time.Minute, 3*time.Minute + 30*time.Second, 5 * time.Minute,
}

// simTrace logs each step of FuzzSimInterleavings and the Sim's trace.
var simTrace = os.Getenv("SANSIP_FUZZ_SIM_TRACE") != ""

// simSeed is a program of the seed corpus, written with its steps.
type simSeed struct {
	cfg   simConfig
	steps [][2]byte
}

func (s simSeed) prog() []byte {
	out := []byte{byte(s.cfg)}
	for _, st := range s.steps {
		out = append(out, st[0], st[1])
	}
	return out
}

// simApp returns the step of command cmd on the UA of index node (0
// Alice, then the phones; uas of them), on its call pick.
func simApp(cmd, node, pick, uas int) [2]byte {
	return [2]byte{byte(simOpApp + cmd), byte(pick*uas + node)}
}

// simNext is the step handling n events in order, simAdvance the one
// moving the clock by simDelays[i], simStep any other.
func simNext(n int) [2]byte       { return [2]byte{simOpNext, byte(n - 1)} }
func simAdvance(i int) [2]byte    { return [2]byte{simOpAdvance, byte(i)} }
func simStep(op, arg int) [2]byte { return [2]byte{byte(op), byte(arg)} }

// simSeeds are the seed corpus: a plain call, a forked call answered by
// one phone, a call with losses, out-of-order deliveries and
// duplicates, a call over TCP with a broken connection, one through the
// stateless proxy with a partition, a re-INVITE and an UPDATE, a call
// from a phone to Alice.
var simSeeds = []simSeed{
	// Alice calls Bob; the two phones ring, the first answers, the
	// proxy cancels the second; Alice hangs up.
	{cfg: 0, steps: [][2]byte{simApp(simCmdCall, 0, 0, 3), simAdvance(5), simApp(simCmdRing, 1, 0, 3), simApp(simCmdRing, 2, 0, 3), simAdvance(5),
		simApp(simCmdAnswer, 1, 0, 3), simAdvance(6), simApp(simCmdHangup, 0, 0, 3), simAdvance(6)}},
	// Three phones: one rings reliably, one answers at once, one
	// rejects; the call is then modified and ended by the phone.
	{cfg: simCfgThreePhones | simCfg100rel, steps: [][2]byte{simApp(simCmdCall, 0, 0, 4), simNext(8), simApp(simCmdRing, 1, 1, 4), simNext(8),
		simApp(simCmdRing, 2, 0, 4), simApp(simCmdReject, 3, 0, 4), simAdvance(6), simApp(simCmdAnswer, 2, 0, 4), simAdvance(6),
		simApp(simCmdReinvite, 0, 0, 4), simAdvance(6), simApp(simCmdAccept, 2, 0, 4), simAdvance(6),
		simApp(simCmdUpdate, 2, 0, 4), simAdvance(5), simApp(simCmdAccept, 0, 0, 4), simAdvance(6),
		simApp(simCmdHangup, 2, 0, 4), simAdvance(7)}},
	// Losses: the INVITE is dropped, a provisional duplicated, the 2xx
	// delayed and delivered out of order, timers fired before the
	// datagrams due earlier arrive; the links lose and duplicate too.
	{cfg: simCfgLossy, steps: [][2]byte{simApp(simCmdCall, 0, 0, 3), simStep(simOpDrop, 0), simStep(simOpFire, 0), simNext(4),
		simApp(simCmdRing, 1, 0, 3), simStep(simOpDuplicate, 0x20), simNext(3), simApp(simCmdAnswer, 2, 0, 3), simStep(simOpDelay, 0x61),
		simStep(simOpDeliver, 1), simStep(simOpFire, 0), simNext(8), simAdvance(8), simApp(simCmdHangup, 0, 0, 3), simStep(simOpDrop, 0), simAdvance(9)}},
	// TCP everywhere: the call is answered, then the connection to Alice
	// breaks and the phone hangs up; then a registration ends.
	{cfg: simCfgAliceTCP | simCfgPhonesTCP, steps: [][2]byte{simApp(simCmdCall, 0, 0, 3), simAdvance(5), simApp(simCmdRing, 1, 0, 3), simAdvance(5),
		simApp(simCmdAnswer, 1, 0, 3), simNext(3), simStep(simOpBreak, 0), simAdvance(6), simApp(simCmdHangup, 1, 0, 3), simAdvance(7),
		simApp(simCmdUnregister, 2, 0, 3), simAdvance(7)}},
	// Through the stateless proxy, with the second phone cut off for a
	// while after Alice's INVITE (without an offer); it answers late, with
	// the offer; Alice puts the call on hold and hangs up.
	{cfg: simCfgStateless | simCfgNoRecordRoute, steps: [][2]byte{simApp(simCmdCallNoOffer, 0, 0, 3), simStep(simOpCutFor, 3<<3), simNext(8),
		simAdvance(9), simApp(simCmdRing, 2, 0, 3), simAdvance(9), simApp(simCmdAnswer, 2, 0, 3), simAdvance(10), simStep(simOpHeal, 0),
		simAdvance(11), simApp(simCmdHold, 0, 0, 3), simAdvance(7), simApp(simCmdHangup, 0, 0, 3), simAdvance(7)}},
	// A phone calls Alice and sends her an INFO; she answers both; the
	// proxy is cut off while the phone re-INVITEs, for longer than the
	// transactions last; session timers on.
	{cfg: simCfgTimers, steps: [][2]byte{simApp(simCmdCall, 1, 0, 3), simAdvance(5), simApp(simCmdAnswer, 0, 0, 3), simAdvance(6),
		simApp(simCmdRequest, 1, 1, 3), simAdvance(5), simApp(simCmdReply, 0, 0, 3), simStep(simOpIsolate, 0), simApp(simCmdReinvite, 1, 0, 3),
		simAdvance(12), simStep(simOpHeal, 0), simAdvance(13), simApp(simCmdHangup, 0, 0, 3), simAdvance(7)}},
}

// simUA is a UA of the network and what its application knows.
type simUA struct {
	*sim.UANode
	w      *simWorld
	offer  []byte // its session descriptions: the first offer or answer, and another
	offer2 []byte
	// calls are the calls not ended yet, in the order they began; ended
	// and answered those that ended and those answered.
	calls    []ua.CallID
	ended    map[ua.CallID]bool
	answered map[ua.CallID]bool
	regs     []uint64 // registrations not ended
	reqs     []uint64 // incoming requests to answer
}

// simWorld is the network of FuzzSimInterleavings.
type simWorld struct {
	t       testing.TB
	s       *sim.Sim
	cfg     simConfig
	proxy   *sim.ProxyNode
	edge    *sim.StatelessNode
	uas     []*simUA // Alice, then the phones
	closing bool
	failure error // the first broken invariant an observer or hook saw
}

// The addresses of the network.
const (
	simRegistrar = "sip:example.com"
	simBob       = "sip:bob@example.com"
	simAlice     = "sip:alice@example.com"
)

func newSimWorld(t testing.TB, cfg simConfig) *simWorld {
	s := sim.New(1, sim.WithConfig(sim.Config{TraceLimit: 4000, MaxEvents: simMaxEvents}))
	w := &simWorld{t: t, s: s, cfg: cfg}
	s.Observe(w.checkSends)
	rr := cfg&simCfgNoRecordRoute == 0
	w.proxy = sim.Must(s.AddRegistrarProxy("proxy", "192.0.2.10:5060", proxycore.Config{RecordRoute: rr},
		registrar.Config{Domains: []string{"example.com"}}, nil))
	if cfg&simCfgStateless != 0 {
		next := w.proxy.Peer()
		w.edge = sim.Must(s.AddStateless("edge", "192.0.2.9:5060", proxycore.Config{
			Router: func(m *message.Message) proxycore.Decision {
				return proxycore.ProxyTo(proxycore.Target{URI: m.RequestURI(), Peer: next})
			}}))
	}
	ucfg := ua.Config{Reliable: cfg&simCfg100rel != 0}
	if cfg&simCfgTimers != 0 {
		ucfg.SessionExpires = 90 * time.Second
	}
	tr := func(tcp simConfig, addr string) string {
		if cfg&tcp != 0 {
			return "TCP:" + addr
		}
		return addr
	}
	alice := ucfg
	alice.AOR = simURI(simAlice)
	w.addUA("alice", tr(simCfgAliceTCP, "192.0.2.1:5060"), alice)
	phones := 2
	if cfg&simCfgThreePhones != 0 {
		phones = 3
	}
	for i := range phones {
		bob := ucfg
		bob.AOR = simURI(simBob)
		w.addUA(fmt.Sprintf("phone%d", i+1), tr(simCfgPhonesTCP, fmt.Sprintf("192.0.2.%d:5060", 21+i)), bob)
	}
	return w
}

func simURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// simSDP is a session description of a UA's, with a version and a port.
func simSDP(name string, ip string, version, port int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=%s %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
		name, 2890844526, version, ip, ip, port)
}

func (w *simWorld) addUA(name, addr string, cfg ua.Config) {
	n := sim.Must(w.s.AddUA(name, addr, cfg))
	ip := n.Addr().Addr().String()
	u := &simUA{UANode: n, w: w, offer: simSDP(name, ip, 1, 49170), offer2: simSDP(name, ip, 2, 49172),
		ended: map[ua.CallID]bool{}, answered: map[ua.CallID]bool{}}
	n.On(u.hear)
	w.uas = append(w.uas, u)
}

// fail records the first broken invariant.
func (w *simWorld) fail(format string, args ...any) {
	if w.failure == nil {
		w.failure = fmt.Errorf(format, args...)
	}
}

// checkSends checks every message a core sends. It must parse back: a SIP
// message the nodes render from their message.Message, whatever happens
// to it on the way. The one exception, as in FuzzUA of package ua and in
// the other targets of this package: an error response (400 or more) to
// a malformed request echoes its fields as they came (message.
// ErrorResponse, RFC 4475), and may not parse; none of the simulated cores
// sends a malformed request, but the rule is the same everywhere. And no
// proxy sends a message to itself.
func (w *simWorld) checkSends(r *sim.Record) {
	switch {
	case r.Op != sim.OpSend && r.Op != sim.OpDrop, !r.IsMessage():
		return
	case r.Op == sim.OpDrop && (r.Detail == "connection closed" || r.Detail == "dropped in flight"):
		return // the send was checked
	}
	if _, err := message.Parse(r.Data, nil); err != nil && !simErrorResponse(r.Data) {
		w.fail("%s sent a message that does not parse: %v\n%s", r.Node.Name(), err, r.Data)
	}
	if r.Node == r.Peer && (r.Node == w.proxy.Node || w.edge != nil && r.Node == w.edge.Node) {
		// Nothing in this network makes a proxy's request spiral back to
		// it: one that does is routing a request to itself, a loop.
		w.fail("%s sent to itself: %s", r.Node.Name(), r.Summary())
	}
}

// simErrorResponse reports whether data starts with the status line of a
// response of 400 or more.
func simErrorResponse(data []byte) bool {
	rest, ok := strings.CutPrefix(string(data[:min(len(data), 16)]), "SIP/2.0 ")
	return ok && len(rest) > 0 && rest[0] >= '4' && rest[0] <= '6'
}

// simCallEvent reports whether k is an event of a call's progress.
func simCallEvent(k effects.EventKind) bool {
	switch k {
	case effects.CallIncoming, effects.CallRinging, effects.CallAnswered, effects.CallFailed, effects.CallReinvite, effects.CallEnded:
		return true
	}
	return false
}

// hear is the application's hook: it keeps track of the calls,
// registrations and requests, checks the order of each call's events, and
// once the program is over ends whatever comes.
func (u *simUA) hear(ev effects.Event) {
	w := u.w
	if simCallEvent(ev.Kind) && u.ended[ev.ID] {
		w.fail("%s: %v for call %d, which ended", u.Name(), ev.Kind, ev.ID)
	}
	switch ev.Kind {
	case effects.CallIncoming:
		u.calls = append(u.calls, ev.ID)
		if w.closing {
			_ = u.Reject(ev.ID, 480)
		}
	case effects.CallAnswered:
		if u.answered[ev.ID] {
			w.fail("%s: call %d answered twice", u.Name(), ev.ID)
		}
		u.answered[ev.ID] = true
		if w.closing {
			_ = u.Hangup(ev.ID)
		}
	case effects.CallFailed, effects.CallEnded:
		u.ended[ev.ID] = true
		u.calls = slices.DeleteFunc(u.calls, func(id ua.CallID) bool { return id == ev.ID })
	case effects.CallReinvite:
		if w.closing {
			_ = u.decline(ev.ID)
		}
	case effects.RequestIncoming:
		u.reqs = append(u.reqs, ev.ID)
		if w.closing {
			u.reply(len(u.reqs)-1, 200)
		}
	case effects.Registered:
		if w.closing {
			_ = u.Unregister(ev.ID)
		}
	case effects.Unregistered:
		u.regs = slices.DeleteFunc(u.regs, func(id uint64) bool { return id == ev.ID })
	}
}

// decline declines the re-INVITE or UPDATE waiting on the call id (488).
func (u *simUA) decline(id ua.CallID) error {
	return u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return u.UA.Decline(now, id, 0, out)
	})
}

// reply answers the i-th request waiting.
func (u *simUA) reply(i, code int) {
	id := u.reqs[i]
	u.reqs = slices.Delete(u.reqs, i, i+1)
	_ = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return u.UA.Reply(now, id, code, ua.ReplyOptions{}, out)
	})
}

// entry is where u sends its requests outside a dialog: the stateless
// proxy for Alice when there is one, else the registrar proxy; over u's
// own transport.
func (w *simWorld) entry(u *simUA) effects.Peer {
	p := w.proxy.Peer()
	if w.edge != nil && u == w.uas[0] {
		p = w.edge.Peer()
	}
	p.Transport = u.Transport()
	return p
}

// register starts a registration of u's contact for its AOR.
func (w *simWorld) register(u *simUA, retry bool) error {
	dest := w.proxy.Peer()
	dest.Transport = u.Transport()
	id, err := u.Register(ua.RegisterOptions{Registrar: simURI(simRegistrar), Dest: dest, Expires: 5 * time.Minute, Retry: retry})
	if err == nil {
		u.regs = append(u.regs, id)
	}
	return err
}

// setUp registers every UA on a perfect network.
func (w *simWorld) setUp() {
	for _, u := range w.uas {
		if err := w.register(u, false); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.s.RunFor(5 * time.Second); err != nil {
		w.t.Fatal(w.s.Report(err))
	}
	for _, u := range w.uas {
		if _, ok := u.Last(effects.Registered); !ok {
			w.t.Fatalf("%s is not registered\n%s", u.Name(), w.s.Trace())
		}
	}
	if w.cfg&simCfgLossy != 0 {
		w.s.SetDefaultLink(sim.Link{Loss: 0.1, Dup: 0.05, Delay: 10 * time.Millisecond, Jitter: 30 * time.Millisecond})
	}
}

// logf logs a step when tracing.
func (w *simWorld) logf(format string, args ...any) {
	if simTrace {
		w.t.Logf("%12v "+format, append([]any{time.Duration(w.s.Now())}, args...)...)
	}
}

// datagrams returns the datagrams in flight.
func (w *simWorld) datagrams() []sim.Queued {
	q := w.s.Queue()
	return slices.DeleteFunc(q, func(e sim.Queued) bool { return !e.Datagram() })
}

// simPick returns the arg-th of list (modulo its length), and false when it
// is empty.
func simPick[T any](list []T, arg int) (T, bool) {
	if len(list) == 0 {
		var zero T
		return zero, false
	}
	return list[arg%len(list)], true
}

// simDescribe names a queued event, for the log.
func simDescribe(e sim.Queued) string {
	switch e.Kind {
	case sim.QueuedArrival:
		from := "-"
		if e.Sender != nil {
			from = e.Sender.Name()
		}
		return fmt.Sprintf("%s -> %s %v %s", from, e.Node.Name(), e.Transport, sim.Summary(e.Data))
	case sim.QueuedTimer:
		return fmt.Sprintf("timer %#x of %s", uint64(e.Timer), e.Node.Name())
	case sim.QueuedInput:
		return fmt.Sprintf("input %d for %s", e.Input, e.Node.Name())
	}
	return "action"
}

// simChoice ignores a choice the Sim refused (sim.ErrChoice): the program
// chose what cannot happen, a step that does nothing.
func simChoice(err error) error {
	if errors.Is(err, sim.ErrChoice) {
		return nil
	}
	return err
}

// exec runs one step of the program.
func (w *simWorld) exec(op, arg byte) error {
	s := w.s
	a := int(arg)
	switch op := int(op % 32); {
	case op < simOpRunEvent:
		for range a%8 + 1 {
			if _, err := s.Step(); err != nil {
				return err
			}
		}
	case op == simOpRunEvent:
		if e, ok := simPick(s.Queue(), a); ok {
			w.logf("run %s", simDescribe(e))
			return simChoice(s.RunEvent(e))
		}
	case op == simOpDeliver:
		if e, ok := simPick(w.datagrams(), a); ok {
			w.logf("deliver %s", simDescribe(e))
			return simChoice(s.RunEvent(e))
		}
	case op == simOpDrop:
		if e, ok := simPick(w.datagrams(), a); ok {
			w.logf("drop %s", simDescribe(e))
			return simChoice(s.Drop(e))
		}
	case op == simOpDuplicate:
		if e, ok := simPick(w.datagrams(), a%16); ok {
			w.logf("duplicate %s", simDescribe(e))
			return simChoice(s.Duplicate(e, time.Duration(a>>4)*20*time.Millisecond))
		}
	case op == simOpDelay:
		if e, ok := simPick(w.datagrams(), a%16); ok {
			// A datagram stays in flight at most simMaxLate from now, so
			// that the network can fall quiet within simQuiet of the
			// program's end however often the program delays it.
			d := min(simDelays[a>>4], s.Now().Add(simMaxLate).Sub(e.At))
			w.logf("delay %s by %v", simDescribe(e), d)
			return simChoice(s.Delay(e, d))
		}
	case op == simOpBreak:
		if id, ok := simPick(s.Conns(), a); ok {
			w.logf("break connection %d", id)
			_ = s.Break(id)
		}
	case op == simOpIsolate, op == simOpCutFor:
		nodes := s.Nodes()
		n := nodes[a%len(nodes)]
		others := slices.DeleteFunc(slices.Clone(nodes), func(m *sim.Node) bool { return m == n })
		until := effects.Time(0)
		if op == simOpCutFor {
			until = s.Now().Add(time.Duration(a>>3+1) * 2 * time.Second)
		}
		w.logf("cut %s off until %v", n.Name(), time.Duration(until))
		s.Partition([]*sim.Node{n}, others, s.Now(), until)
	case op == simOpHeal:
		w.logf("heal")
		s.Heal()
	case op == simOpAdvance:
		w.logf("advance %v", simDelays[a%16])
		return s.RunFor(simDelays[a%16])
	case op == simOpFire:
		for _, e := range s.Queue() {
			if e.Kind == sim.QueuedTimer {
				w.logf("fire %s", simDescribe(e))
				return simChoice(s.RunEvent(e))
			}
		}
	default:
		u := w.uas[a%len(w.uas)]
		w.command(u, op-simOpApp, a/len(w.uas))
	}
	return nil
}

// command gives u's UA the command cmd; pick chooses the call or
// request it is about, and a variant.
func (w *simWorld) command(u *simUA, cmd, pick int) {
	var id ua.CallID
	if len(u.calls) > 0 {
		id = u.calls[pick%len(u.calls)]
	}
	w.logf("%s: command %d on call %d (pick %d)", u.Name(), cmd, id, pick)
	var err error
	switch cmd {
	case simCmdCall, simCmdCallNoOffer:
		target := simBob
		if u != w.uas[0] && pick&1 == 0 {
			target = simAlice
		}
		o := ua.CallOptions{Dest: w.entry(u), Body: u.offer}
		if cmd == simCmdCallNoOffer {
			o.Body, o.LateAnswer = nil, u.offer
		}
		if pick&2 != 0 {
			o.Expires = 20 * time.Second
		}
		var cid ua.CallID
		if cid, err = u.Call(target, o); err == nil {
			u.calls = append(u.calls, cid)
		}
	case simCmdRing:
		o := ua.RingOptions{Code: 180}
		if pick&1 != 0 {
			o = ua.RingOptions{Code: 183, Body: u.offer}
		}
		err = u.Ring(id, o)
	case simCmdAnswer:
		err = u.Answer(id, u.offer)
	case simCmdReject:
		err = u.Reject(id, []int{486, 603}[pick&1])
	case simCmdHangup:
		err = u.Hangup(id)
	case simCmdReinvite, simCmdUpdate:
		body := u.offer2
		if pick&1 != 0 {
			body = u.offer
		}
		err = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return u.UA.Update(now, id, body, ua.UpdateOptions{UseUpdate: cmd == simCmdUpdate}, out)
		})
	case simCmdAccept:
		err = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return u.UA.Accept(now, id, u.offer2, out)
		})
	case simCmdDecline:
		err = u.decline(id)
	case simCmdRegister:
		err = w.register(u, pick&1 != 0)
	case simCmdUnregister:
		if reg, ok := simPick(u.regs, pick); ok {
			err = u.Unregister(reg)
		}
	case simCmdRequest:
		err = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			if id != 0 && pick&1 != 0 {
				_, out, err := u.UA.CallRequest(now, id, "INFO", "application/dtmf-relay", []byte("Signal=1\r\n"), out)
				return out, err
			}
			target := simBob
			if u != w.uas[0] {
				target = simAlice
			}
			_, out, err := u.UA.Request(now, "MESSAGE", simURI(target), ua.RequestOptions{Dest: w.entry(u), ContentType: "text/plain", Body: []byte("hi")}, out)
			return out, err
		})
	case simCmdReply:
		if len(u.reqs) > 0 {
			u.reply(pick%len(u.reqs), []int{200, 486}[pick&1])
		}
	case simCmdHold:
		err = u.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			o := ua.UpdateOptions{UseUpdate: pick&2 != 0}
			if pick&1 != 0 {
				return u.UA.Resume(now, id, o, out)
			}
			return u.UA.Hold(now, id, o, out)
		})
	}
	if err != nil {
		w.logf("%s: %v", u.Name(), err)
	}
}

// close ends the program: the network heals and turns perfect, and every
// application ends what it has and, from then on, whatever comes.
func (w *simWorld) close() {
	s := w.s
	w.logf("close")
	s.Heal()
	s.ClearLinks()
	s.SetDefaultLink(sim.Link{})
	w.closing = true
	for _, u := range w.uas {
		for len(u.reqs) > 0 {
			u.reply(0, 200)
		}
		for _, id := range slices.Clone(u.calls) {
			_ = u.decline(id)
			_ = u.Hangup(id)
		}
		for _, reg := range slices.Clone(u.regs) {
			_ = u.Unregister(reg)
		}
	}
}

// check fails the test with the Sim's report if err or a broken
// invariant is set.
func (w *simWorld) check(prog []byte, err error) {
	if err == nil {
		err = w.failure
	}
	if err == nil && w.s.Err() != nil {
		err = w.s.Err()
	}
	if err != nil {
		w.t.Fatalf("%v\nprogram %x\n%s", err, prog, w.s.Report(err))
	}
}

// runSimProgram runs one input of FuzzSimInterleavings.
func runSimProgram(t testing.TB, prog []byte) {
	if len(prog) == 0 {
		return
	}
	w := newSimWorld(t, simConfig(prog[0]))
	w.setUp()
	steps := prog[1:]
	if len(steps) > 2*simMaxSteps {
		steps = steps[:2*simMaxSteps]
	}
	for p := 0; p+1 < len(steps); p += 2 {
		w.check(prog, w.exec(steps[p], steps[p+1]))
	}
	w.close()
	w.check(prog, w.s.RunUntilQuiet(simQuiet))
	w.check(prog, w.s.CheckQuiet())
	if simTrace {
		t.Log(w.s.Report(nil))
	}
}
