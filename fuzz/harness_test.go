package fuzz

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/stun"
)

// trace logs what a target does, to read a failing input:
// SANSIP_FUZZ_TRACE=1 go test ./fuzz -run 'FuzzUABytes/<name>' -v.
var trace = os.Getenv("SANSIP_FUZZ_TRACE") != ""

// node drives one core as a driver would, on a virtual clock, and checks
// every effect it returns:
//
//   - every message it sends parses back, except an error response echoing
//     bad input (see send);
//   - every send has a destination: an address and a transport;
//   - SetTimer never names a pending timer, CancelTimer always does, and no
//     timer is set to go off in the past;
//   - the events it delivers go to the application (react), whose
//     commands' effects are checked in turn, a bounded number of times.
type node struct {
	t       testing.TB
	name    string
	handle  func(effects.Input, []effects.Effect) []effects.Effect
	react   func(effects.Event)
	now     effects.Time
	timers  map[effects.TimerID]effects.Time
	learned Learned
	dns     []uint64 // the Tags of Resolves not answered yet
	lastTag uint64   // the Tag of the last Send
	// lastSTUN is the transaction id of the last STUN Binding request
	// sent (a UDP outbound keep-alive, RFC 5626 §4.4.2).
	lastSTUN stun.TransactionID
	events   []effects.Event
	out      []effects.Effect
	app      []effects.Effect
	buf      []byte
	msg      []byte
	steps    int                        // events handled for the current input, bounded
	policy   uint8                      // the application's policy, from the last message record
	record   *[]string                  // every message sent, when set
	onSend   func(effects.Peer, []byte) // sees every message sent, when set
}

func newNode(t testing.TB, name string, handle func(effects.Input, []effects.Effect) []effects.Effect) *node {
	return &node{t: t, name: name, handle: handle, timers: map[effects.TimerID]effects.Time{}}
}

func (n *node) fatalf(format string, args ...any) {
	n.t.Helper()
	n.t.Fatalf("%s at %v: %s", n.name, time.Duration(n.now), fmt.Sprintf(format, args...))
}

func (n *node) logf(format string, args ...any) {
	if trace {
		n.t.Helper()
		n.t.Logf("%12v %s: %s", time.Duration(n.now), n.name, fmt.Sprintf(format, args...))
	}
}

// feed hands the core one input, then lets the application handle the
// events that follow.
func (n *node) feed(in effects.Input) {
	in.Now = n.now
	n.steps = 0
	n.out = n.handle(in, n.out[:0])
	n.apply(n.out)
	n.settle()
}

// do checks the effects of an application command; its error is the
// application's to ignore (a command that does not fit the state).
func (n *node) do(effs []effects.Effect, err error) {
	n.apply(effs)
	n.app = effs[:0]
}

// doID is do for commands that also return an id.
func (n *node) doID(id uint64, effs []effects.Effect, err error) uint64 {
	n.do(effs, err)
	if err != nil {
		return 0
	}
	return id
}

// settle lets the application handle the queued events, and those its
// commands cause, at most 2000 per input: more is a storm of events.
func (n *node) settle() {
	for len(n.events) > 0 {
		ev := n.events[0]
		n.events = n.events[1:]
		if n.steps++; n.steps > 2000 {
			n.fatalf("more than 2000 events for one input")
		}
		if n.react != nil {
			n.react(ev)
		}
	}
	n.events = n.events[:0]
}

// apply checks and carries out effects.
func (n *node) apply(effs []effects.Effect) {
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case effects.Send:
			n.send(e)
		case effects.SetTimer:
			if _, dup := n.timers[e.Timer]; dup {
				n.fatalf("SetTimer %#x: the timer is pending already", e.Timer)
			}
			if e.After < 0 {
				n.fatalf("SetTimer %#x after %v", e.Timer, e.After)
			}
			n.timers[e.Timer] = n.now.Add(e.After)
		case effects.CancelTimer:
			if _, ok := n.timers[e.Timer]; !ok {
				n.fatalf("CancelTimer %#x: no such timer pending", e.Timer)
			}
			delete(n.timers, e.Timer)
		case effects.Deliver:
			n.logf("event %v id %d ref %d code %d %v", e.Event.Kind, e.Event.ID, e.Event.Ref, e.Event.Code, e.Event.Err)
			n.events = append(n.events, e.Event)
		case effects.Resolve:
			n.logf("resolve %q %q tag %#x", e.Name, e.Service, e.Tag)
			n.dns = append(n.dns, e.Tag)
		case effects.Close:
			n.logf("close %v", e.To)
		default:
			n.fatalf("effect of kind %v", e.Kind)
		}
	}
}

// send checks a Send effect: it has a destination, and its message
// parses back with the project's parser.
//
// The one exception is the rule FuzzUA in package ua follows: a response
// of 400 or above may not parse, because an error response to a malformed
// request (message.ErrorResponse, RFC 4475) echoes the request's From, To,
// Call-ID and Via as they came so that the client can match it, however
// broken they are. Every request and every provisional or 2xx response
// must parse.
func (n *node) send(e *effects.Effect) {
	if !e.To.Addr.IsValid() || e.To.Transport == 0 {
		n.fatalf("Send to %v: no destination", e.To)
	}
	if e.Msg == nil {
		// A keep-alive ping or pong (RFC 5626 §4.4.1), or a STUN Binding
		// request on a UDP flow (§4.4.2).
		if m, err := stun.Parse(e.Data); err == nil && m.Type == stun.BindingRequest && e.To.Transport == effects.UDP {
			n.lastSTUN = m.TxID
			n.logf("send to %v: STUN Binding request %x", e.To, m.TxID)
		} else if s := string(e.Data); s != "\r\n" && s != "\r\n\r\n" {
			n.fatalf("Send of raw data %q", e.Data)
		}
		n.lastTag = e.Tag
		return
	}
	n.buf = e.Msg.AppendTo(n.buf[:0])
	if _, err := message.Parse(n.buf, nil); err != nil && (e.Msg.IsRequest() || e.Msg.StatusCode() < 400) {
		n.fatalf("sent a message that does not parse: %v\n%s", err, n.buf)
	}
	n.logf("send to %v: %s", e.To, firstLine(n.buf))
	if n.onSend != nil {
		n.onSend(e.To, n.buf)
	}
	if n.record != nil {
		*n.record = append(*n.record, e.To.String()+" "+string(n.buf))
	}
	n.learned.Sent(e.Msg)
	n.lastTag = e.Tag
}

// receive feeds a message record, its macros expanded.
func (n *node) receive(r Record) {
	n.msg = n.learned.Expand(n.msg[:0], r.Data)
	from := PeerOf(r.Peer(), r.Transport())
	n.logf("receive from %v: %s", from, firstLine(n.msg))
	n.feed(effects.Input{Kind: effects.Received, Data: n.msg, From: from, Local: localAddr})
}

// earliest returns the pending timer due first (the lowest id first among
// those due together, so that runs replay exactly).
func (n *node) earliest() (effects.TimerID, effects.Time, bool) {
	var id effects.TimerID
	var at effects.Time
	found := false
	for t, when := range n.timers {
		if !found || when < at || when == at && t < id {
			id, at, found = t, when, true
		}
	}
	return id, at, found
}

// fireNext moves the clock to the earliest pending timer and fires it.
func (n *node) fireNext() bool {
	id, at, ok := n.earliest()
	if !ok {
		return false
	}
	delete(n.timers, id)
	n.now = max(n.now, at)
	n.logf("timer %#x fires", id)
	n.feed(effects.Input{Kind: effects.TimerFired, Timer: id})
	return true
}

// advance moves the clock by d, firing the timers that fall due in time
// order.
func (n *node) advance(d time.Duration) {
	until := n.now.Add(d)
	for {
		_, at, ok := n.earliest()
		if !ok || at > until {
			break
		}
		n.fireNext()
	}
	n.now = max(n.now, until)
}

// drain fires every pending timer in time order until none is left. A core
// that keeps re-arming timers with nothing happening leaks: more than
// limit firings fail the input.
func (n *node) drain(limit int) {
	for i := 0; n.fireNext(); i++ {
		if i >= limit {
			ids := slices.Collect(func(yield func(string) bool) {
				for id, at := range n.timers {
					if !yield(fmt.Sprintf("%#x@%v", id, time.Duration(at))) {
						return
					}
				}
			})
			n.fatalf("timers still firing after %d: %s", limit, strings.Join(ids, " "))
		}
	}
}

// localAddr is the address of the core under test.
var localAddr = netip.MustParseAddrPort("192.0.2.10:5060")

// torture returns the RFC 4475 and RFC 5118 torture messages the
// repository keeps in testdata/, by file name.
func torture(t testing.TB) map[string][]byte {
	msgs := map[string][]byte{}
	for _, dir := range []string{"rfc4475", "rfc5118"} {
		files, err := os.ReadDir(filepath.Join("..", "testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || strings.HasSuffix(name, ".md") || name == "SHA256SUMS" {
				continue
			}
			b, err := os.ReadFile(filepath.Join("..", "testdata", dir, name))
			if err != nil {
				t.Fatal(err)
			}
			msgs[dir+"/"+name] = b
		}
	}
	if len(msgs) < 60 {
		t.Fatalf("only %d torture messages in testdata/", len(msgs))
	}
	return msgs
}

// step carries out one record of an input; App records go to app.
func (n *node) step(r Record, app func(Record)) {
	switch r.Kind {
	case UDP, TCP:
		n.policy = r.Policy()
		n.receive(r)
	case Advance:
		n.advance(Step(r.Arg))
	case Fire:
		for i := 0; i <= int(r.Arg) && n.fireNext(); i++ {
		}
	case Close:
		n.logf("connection %d closes", r.Peer()+1)
		n.feed(effects.Input{Kind: effects.ConnClosed, Conn: effects.ConnID(r.Peer() + 1)})
	case App:
		n.logf("app command %d %x", r.Arg, r.Data)
		app(r)
		n.settle()
	case Answer:
		n.answer(r.Arg&1 == 0, r.Peer())
	case KeepAlive:
		tr := effects.UDP
		if r.Arg&4 != 0 {
			tr = effects.TCP
		}
		if r.Arg&8 != 0 {
			n.pong(r)
			return
		}
		n.feed(effects.Input{Kind: effects.KeepAlive, From: PeerOf(r.Peer(), tr)})
	}
}

// pong feeds a STUN Binding response (effects.Pong) from the record's
// peer: the record's data when it has some, else the success response to
// the last Binding request sent, reporting Mapped (or Rebound when Arg&16:
// the NAT binding changed).
func (n *node) pong(r Record) {
	data := r.Data
	if len(data) == 0 {
		mapped := Mapped
		if r.Arg&16 != 0 {
			mapped = Rebound
		}
		data = stun.AppendBindingSuccess(nil, n.lastSTUN, mapped)
	}
	n.logf("STUN response from %v: %x", Peers[r.Peer()], data)
	n.feed(effects.Input{Kind: effects.Pong, Data: data, From: PeerOf(r.Peer(), effects.UDP)})
}

// answer answers the oldest DNS look-up, with peer's address when ok; with
// none pending, the last send fails instead.
func (n *node) answer(ok bool, peer int) {
	if len(n.dns) == 0 {
		if n.lastTag != 0 {
			n.logf("send %#x fails", n.lastTag)
			n.feed(effects.Input{Kind: effects.SendFailed, Tag: n.lastTag, Err: errSend})
		}
		return
	}
	tag := n.dns[0]
	n.dns = n.dns[1:]
	in := effects.Input{Kind: effects.Resolved, Tag: tag}
	if ok {
		in.Answer = []effects.Target{{Addr: Peers[peer&3], Transport: effects.UDP}}
	} else {
		in.Err = errNoAnswer
	}
	n.logf("look-up %#x answered: %v", tag, in.Answer)
	n.feed(in)
}

var (
	errSend     = errors.New("fuzz: send failed")
	errNoAnswer = errors.New("fuzz: no such name")
)

func itoa(n int) string { return strconv.Itoa(n) }

func join(parts []string) string { return strings.Join(parts, ", ") }
