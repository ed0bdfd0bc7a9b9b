package txn

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// harness drives a Layer the way a driver would, on a virtual clock: it
// keeps the pending timers, fires them in order, and records every effect.
type harness struct {
	t       failer
	l       *Layer
	now     effects.Time
	pending map[effects.TimerID]effects.Time // due times
	log     []effects.Effect                 // every effect so far
	gone    map[ID]bool                      // terminated transactions
}

// failer is what the harness needs of a *testing.T; properties pass one
// that records the failure instead.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

func newHarness(t failer, cfg Config) *harness {
	return &harness{t: t, l: New(cfg), pending: map[effects.TimerID]effects.Time{}, gone: map[ID]bool{}}
}

// take records effects, keeps the timer book and checks that nothing
// concerns a transaction after it terminated.
func (h *harness) take(effs []effects.Effect) []effects.Effect {
	h.t.Helper()
	for _, e := range effs {
		if id := concerns(e); id != 0 && h.gone[id] {
			h.t.Fatalf("effect %s after transaction %x terminated", describe(e), id)
		}
		switch e.Kind {
		case effects.SetTimer:
			if _, dup := h.pending[e.Timer]; dup {
				h.t.Fatalf("timer %v set twice", timerName(e.Timer))
			}
			h.pending[e.Timer] = h.now.Add(e.After)
		case effects.CancelTimer:
			if _, ok := h.pending[e.Timer]; !ok {
				h.t.Fatalf("cancel of timer %v that is not pending", timerName(e.Timer))
			}
			delete(h.pending, e.Timer)
		case effects.Deliver:
			if e.Event.Kind == effects.TxnTerminated {
				h.gone[e.Event.ID] = true
				for id := range h.pending {
					if _, tid := TimerOf(id); tid == e.Event.ID {
						h.t.Fatalf("transaction %x terminated with %v pending", e.Event.ID, timerName(id))
					}
				}
			}
		}
	}
	h.log = append(h.log, effs...)
	return effs
}

// concerns returns the transaction an effect is about, or 0.
func concerns(e effects.Effect) ID {
	switch e.Kind {
	case effects.Send:
		return e.Tag
	case effects.SetTimer:
		_, id := TimerOf(e.Timer)
		return id
	case effects.Deliver:
		if e.Event.Kind != effects.TxnTerminated {
			return e.Event.ID
		}
	}
	return 0
}

func timerName(id effects.TimerID) string {
	w, _ := TimerOf(id)
	return w.String()
}

// describe renders an effect compactly: "send INVITE", "set A 500ms",
// "cancel B", "response 180", "terminated".
func describe(e effects.Effect) string {
	switch e.Kind {
	case effects.Send:
		if e.Msg == nil {
			// Bytes the layer kept (a retransmitted response): described
			// as the message they are.
			m, err := message.Parse(e.Data, nil)
			if err != nil {
				return fmt.Sprintf("send %q", e.Data)
			}
			e.Msg = m
		}
		if e.Msg.IsRequest() {
			return "send " + e.Msg.Method()
		}
		return fmt.Sprintf("send %d", e.Msg.StatusCode())
	case effects.SetTimer:
		w, _ := TimerOf(e.Timer)
		return fmt.Sprintf("set %s %v", strings.TrimPrefix(w.String(), "Timer "), e.After)
	case effects.CancelTimer:
		w, _ := TimerOf(e.Timer)
		return "cancel " + strings.TrimPrefix(w.String(), "Timer ")
	case effects.Deliver:
		ev := e.Event
		name := strings.TrimPrefix(ev.Kind.String(), "txn-")
		switch {
		case ev.Msg == nil:
			return name
		case ev.Msg.IsRequest():
			return name + " " + ev.Msg.Method()
		default:
			return fmt.Sprintf("%s %d", name, ev.Msg.StatusCode())
		}
	}
	return e.Kind.String()
}

// wire is the bytes a Send effect puts on the wire.
func wire(e effects.Effect) []byte {
	if e.Msg != nil {
		return e.Msg.Bytes()
	}
	return e.Data
}

func describeAll(effs []effects.Effect) []string {
	out := make([]string, 0, len(effs))
	for _, e := range effs {
		out = append(out, describe(e))
	}
	return out
}

// fire fires the earliest pending timer (ties broken by id), moving the
// clock to it. It reports false when none is pending.
func (h *harness) fire() ([]effects.Effect, bool) {
	if len(h.pending) == 0 {
		return nil, false
	}
	ids := make([]effects.TimerID, 0, len(h.pending))
	for id := range h.pending {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b effects.TimerID) int {
		if h.pending[a] != h.pending[b] {
			return int(h.pending[a] - h.pending[b])
		}
		return int(a) - int(b)
	})
	return h.fireID(ids[0]), true
}

// fireTimer fires the pending timer w of transaction id.
func (h *harness) fireTimer(id ID, w Timer) []effects.Effect {
	h.t.Helper()
	tid := timerID(id, w)
	if _, ok := h.pending[tid]; !ok {
		h.t.Fatalf("%v of %x is not pending", w, id)
	}
	return h.fireID(tid)
}

func (h *harness) fireID(tid effects.TimerID) []effects.Effect {
	if due := h.pending[tid]; due > h.now {
		h.now = due
	}
	delete(h.pending, tid)
	return h.take(h.l.Handle(effects.Input{Kind: effects.TimerFired, Now: h.now, Timer: tid}, nil))
}

// drain fires timers until none is pending.
func (h *harness) drain() {
	for i := 0; i < 10000; i++ {
		if _, ok := h.fire(); !ok {
			return
		}
	}
	h.t.Fatal("timers never stop")
}

func (h *harness) receive(m *message.Message, from effects.Peer) []effects.Effect {
	return h.take(h.l.Handle(effects.Input{Kind: effects.Received, Now: h.now, Data: m.Bytes(), From: from}, nil))
}

func (h *harness) newClient(req *message.Message, to effects.Peer) (ID, []effects.Effect) {
	h.t.Helper()
	id, effs, err := h.l.NewClient(h.now, req, to, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return id, h.take(effs)
}

func (h *harness) respond(id ID, resp *message.Message) []effects.Effect {
	h.t.Helper()
	effs, err := h.l.Respond(h.now, id, resp, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.take(effs)
}

func (h *harness) sendFailed(id ID) []effects.Effect {
	return h.take(h.l.Handle(effects.Input{Kind: effects.SendFailed, Now: h.now, Tag: id}, nil))
}

var (
	alice = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	bob   = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
)

func onTransport(p effects.Peer, tr effects.Transport) effects.Peer {
	p.Transport = tr
	if tr.Reliable() {
		p.Conn = 7
	}
	return p
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// request builds a request from alice to bob over tr.
func request(method string, tr effects.Transport, gen ident.Generator) *message.Message {
	contact := header.Contact{URI: mustURI("sip:alice@192.0.2.1")}
	m, err := message.NewRequest(method, mustURI("sip:bob@192.0.2.2"), message.RequestOptions{
		From:    header.From{URI: mustURI("sip:alice@example.com")},
		Via:     header.Via{Transport: tr.String(), Host: "192.0.2.1", Port: 5060},
		Contact: &contact,
		Gen:     gen,
	})
	if err != nil {
		panic(err)
	}
	return m
}

func response(req *message.Message, code int) *message.Message {
	m, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: "totag"})
	if err != nil {
		panic(err)
	}
	return m
}

const (
	t1 = 500 * time.Millisecond
	t2 = 4 * time.Second
	t4 = 5 * time.Second
)
