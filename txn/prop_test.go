package txn

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// violation is what a property's failer panics with.
type violation string

// catcher is a failer that turns a harness failure into a violation.
type catcher struct{}

func (catcher) Helper()                           {}
func (catcher) Fatalf(format string, args ...any) { panic(violation(fmt.Sprintf(format, args...))) }
func (catcher) Fatal(args ...any)                 { panic(violation(fmt.Sprint(args...))) }

// check runs f, turning a violation into a failed property with its text.
func check(f func() string) (res *gopter.PropResult) {
	defer func() {
		if r := recover(); r != nil {
			v, ok := r.(violation)
			if !ok {
				panic(r)
			}
			res = &gopter.PropResult{Status: gopter.PropFalse, Labels: []string{string(v)}}
		}
	}()
	if msg := f(); msg != "" {
		return &gopter.PropResult{Status: gopter.PropFalse, Labels: []string{msg}}
	}
	return &gopter.PropResult{Status: gopter.PropTrue}
}

func propParams(t *testing.T) *gopter.TestParameters {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 1000
	seed := int64(20261123)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d (replay: SANSIP_PROP_SEED=%d go test -run %s ./txn/)", seed, seed, t.Name())
	return p
}

// action is one input of a random sequence: op picks what happens, arg
// picks a response code or which pending timer fires.
type action struct {
	Op  int
	Arg int
}

var codes = []int{100, 180, 183, 200, 202, 300, 302, 404, 408, 486, 500, 503, 603}

type scenario struct {
	Invite  bool
	TCP     bool
	Actions []action
}

func genScenario(ops int) gopter.Gen {
	return gen.Struct(reflect.TypeOf(scenario{}), map[string]gopter.Gen{
		"Invite": gen.Bool(),
		"TCP":    gen.Bool(),
		"Actions": gen.SliceOfN(30, gen.Struct(reflect.TypeOf(action{}), map[string]gopter.Gen{
			"Op":  gen.IntRange(0, ops-1),
			"Arg": gen.IntRange(0, 1000),
		})),
	})
}

// pendingSorted returns the pending timers, sorted, so that a random index
// picks one deterministically.
func (h *harness) pendingSorted() []effects.TimerID {
	ids := make([]effects.TimerID, 0, len(h.pending))
	for id := range h.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestPropClientTransaction: for any sequence of responses (any code, in
// any order, retransmitted), timer fires and transport errors, a client
// transaction
//   - delivers exactly one final outcome (a final response, a timeout or a
//     transport error), plus every 2xx that arrives in Accepted;
//   - retransmits at T1 doubling (capped at T2 for non-INVITE, T2 in
//     Proceeding) and never after the final outcome, nor on TCP;
//   - emits nothing after it terminated, and leaves no timer pending;
//   - leaves the table once its timers have fired (after a final response).
func TestPropClientTransaction(t *testing.T) {
	props := gopter.NewProperties(propParams(t))
	props.Property("client transaction", prop.ForAll(func(sc scenario) *gopter.PropResult {
		return check(func() string { return runClient(sc) })
	}, genScenario(4)))
	props.TestingRun(t)
}

func runClient(sc scenario) string {
	h := newHarness(catcher{}, Config{})
	tr := effects.UDP
	if sc.TCP {
		tr = effects.TCP
	}
	method := "OPTIONS"
	if sc.Invite {
		method = "INVITE"
	}
	req := request(method, tr, ident.Seeded(1))
	id, start := h.newClient(req, onTransport(bob, tr))

	outcomes, accepted, twoxxIn, twoxxOut := 0, false, 0, 0
	var intervals []time.Duration
	observe := func(effs []effects.Effect) string {
		for _, e := range effs {
			switch e.Kind {
			case effects.Send:
				if e.Msg.IsRequest() && e.Msg.Method() == method && outcomes > 0 {
					return "request retransmitted after the final outcome"
				}
			case effects.SetTimer:
				w, _ := TimerOf(e.Timer)
				if w == TimerA || w == TimerE {
					if tr.Reliable() {
						return "retransmission timer on a reliable transport"
					}
					intervals = append(intervals, e.After)
				}
			case effects.Deliver:
				switch e.Event.Kind {
				case effects.TxnResponse:
					code := e.Event.Msg.StatusCode()
					switch {
					case code < 200 && outcomes > 0:
						return "provisional response delivered after the final outcome"
					case code >= 200 && outcomes == 0:
						outcomes++
						accepted = sc.Invite && code < 300
						if accepted {
							twoxxOut--
						}
					case code >= 200 && !accepted:
						return fmt.Sprintf("second final response %d delivered", code)
					}
					if accepted && code < 300 {
						twoxxOut++
					}
				case effects.TxnTimeout, effects.TxnTransportError:
					outcomes++
					if outcomes > 1 {
						return fmt.Sprintf("%v after the final outcome", e.Event.Kind)
					}
				}
			}
		}
		return ""
	}
	observe(start)
	for _, a := range sc.Actions {
		if h.gone[id] {
			break
		}
		var effs []effects.Effect
		switch a.Op {
		case 0, 1: // a response
			code := codes[a.Arg%len(codes)]
			if accepted && code >= 200 && code < 300 {
				twoxxIn++
			}
			effs = h.receive(response(req, code), onTransport(bob, tr))
		case 2: // a timer
			ids := h.pendingSorted()
			if len(ids) == 0 {
				continue
			}
			effs = h.fireID(ids[a.Arg%len(ids)])
		case 3: // transport error
			effs = h.sendFailed(id)
		}
		if msg := observe(effs); msg != "" {
			return msg
		}
	}
	if twoxxIn != twoxxOut {
		return fmt.Sprintf("%d 2xx arrived in Accepted, %d delivered", twoxxIn, twoxxOut)
	}
	if msg := checkIntervals(intervals, sc.Invite); msg != "" {
		return msg
	}
	if h.gone[id] && outcomes != 1 {
		return fmt.Sprintf("terminated with %d outcomes", outcomes)
	}
	// A final response, then every timer: the table must empty.
	if !h.gone[id] && outcomes == 0 {
		observe(h.receive(response(req, 486), onTransport(bob, tr)))
	}
	h.drain()
	if h.l.Len() != 0 {
		return fmt.Sprintf("%d transactions left once every timer fired", h.l.Len())
	}
	if outcomes != 1 {
		return fmt.Sprintf("%d final outcomes", outcomes)
	}
	return ""
}

// checkIntervals checks a retransmission timer's successive values:
// INVITE (Timer A) T1, 2·T1, 4·T1... with no cap; non-INVITE (Timer E)
// doubling from T1 and capped at T2, or T2 once a provisional arrived.
func checkIntervals(iv []time.Duration, invite bool) string {
	for i, d := range iv {
		switch {
		case i == 0 && d != t1:
			return fmt.Sprintf("first interval %v, want T1", d)
		case i == 0:
		case invite && d != 2*iv[i-1]:
			return fmt.Sprintf("Timer A %v after %v, want doubling", d, iv[i-1])
		case !invite && d != min(2*iv[i-1], t2) && d != t2:
			return fmt.Sprintf("Timer E %v after %v, want min(2x, T2) or T2", d, iv[i-1])
		case !invite && d > t2:
			return fmt.Sprintf("Timer E %v over T2", d)
		}
	}
	return ""
}

// TestPropServerTransaction: for any sequence of request retransmissions,
// ACKs, TU responses (any code, allowed or not), timer fires and transport
// errors, a server transaction
//   - re-sends exactly its latest response for a retransmitted request, or
//     absorbs it;
//   - retransmits a non-2xx final INVITE response at T1 doubling, capped at
//     T2, and only on unreliable transports;
//   - emits nothing after it terminated and leaves no timer pending;
//   - leaves the table once the TU has answered and its timers fired.
func TestPropServerTransaction(t *testing.T) {
	props := gopter.NewProperties(propParams(t))
	props.Property("server transaction", prop.ForAll(func(sc scenario) *gopter.PropResult {
		return check(func() string { return runServer(sc) })
	}, genScenario(6)))
	props.TestingRun(t)
}

func runServer(sc scenario) string {
	h := newHarness(catcher{}, Config{})
	tr := effects.UDP
	if sc.TCP {
		tr = effects.TCP
	}
	method := "OPTIONS"
	if sc.Invite {
		method = "INVITE"
	}
	gen := ident.Seeded(1)
	req := request(method, tr, gen)
	from := onTransport(alice, tr)
	ev := events(h.receive(req, from))
	if len(ev) != 1 {
		return "no TxnRequest"
	}
	id := ev[0].ID
	var final *message.Message // the final response given
	var last []byte            // the wire form of the latest response sent
	var g []time.Duration
	observe := func(effs []effects.Effect) string {
		for _, e := range effs {
			switch e.Kind {
			case effects.Send:
				last = wire(e)
			case effects.SetTimer:
				if w, _ := TimerOf(e.Timer); w == TimerG {
					if tr.Reliable() {
						return "Timer G on a reliable transport"
					}
					g = append(g, e.After)
				}
			}
		}
		return ""
	}
	for _, a := range sc.Actions {
		if h.gone[id] {
			break
		}
		var effs []effects.Effect
		switch a.Op {
		case 0: // the request retransmitted
			effs = h.receive(req, from)
			var sent [][]byte
			for _, e := range effs {
				if e.Kind == effects.Send {
					sent = append(sent, wire(e))
				}
			}
			if len(sent) > 1 || len(sent) == 1 && !bytes.Equal(sent[0], last) {
				return "a retransmission got something other than the latest response"
			}
		case 1, 2: // the TU answers
			code := codes[a.Arg%len(codes)]
			resp := response(req, code)
			var err error
			effs, err = h.l.Respond(h.now, id, resp, nil)
			if err != nil {
				continue // not allowed in this state: nothing happens
			}
			h.take(effs)
			if code >= 200 {
				final = resp
			}
		case 3: // a timer
			ids := h.pendingSorted()
			if len(ids) == 0 {
				continue
			}
			effs = h.fireID(ids[a.Arg%len(ids)])
		case 4: // an ACK
			if final == nil {
				continue
			}
			ack, err := message.AckFor(req, final)
			if err != nil {
				return err.Error()
			}
			if final.StatusCode() < 300 {
				v := ack.TopVia()
				v.Params = v.Params.With("branch", gen.Branch())
				ack.ReplaceTopVia(v)
			}
			effs = h.receive(ack, from)
		case 5:
			effs = h.sendFailed(id)
		}
		if msg := observe(effs); msg != "" {
			return msg
		}
	}
	for i := 1; i < len(g); i++ {
		if g[i] != min(2*g[i-1], t2) {
			return fmt.Sprintf("Timer G %v after %v", g[i], g[i-1])
		}
	}
	if len(g) > 0 && g[0] != t1 {
		return fmt.Sprintf("first Timer G %v", g[0])
	}
	if !h.gone[id] && final == nil {
		effs, err := h.l.Respond(h.now, id, response(req, 486), nil)
		if err != nil {
			return "final response refused: " + err.Error()
		}
		h.take(effs)
	}
	h.drain()
	if h.l.Len() != 0 {
		return fmt.Sprintf("%d transactions left once every timer fired", h.l.Len())
	}
	return ""
}
