package ua

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// fuzzNet is a network of two UA cores whose every step the fuzzer
// chooses: which message in flight to deliver, drop, duplicate or corrupt,
// when the clock moves, and what each application does.
type fuzzNet struct {
	t      *testing.T
	now    effects.Time
	uas    [2]*UA
	addrs  [2]effects.Peer
	flight []fuzzMsg
	timers [2]map[effects.TimerID]effects.Time
	calls  [2][]CallID
	events int
}

type fuzzMsg struct {
	to   int
	from effects.Peer
	data []byte
}

func newFuzzNet(t *testing.T, reliable bool, timers bool) *fuzzNet {
	f := &fuzzNet{t: t}
	for i, name := range []string{"alice", "bob"} {
		ap := netip.MustParseAddrPort(fmt.Sprintf("192.0.2.%d:5060", i+1))
		cfg := Config{
			AOR: mustURI("sip:" + name + "@example.com"), Contact: mustURI(fmt.Sprintf("sip:%s@%s", name, ap)),
			Host: ap.Addr().String(), Port: ap.Port(), Gen: ident.Seeded(uint64(i + 1)), Reliable: reliable,
		}
		if timers {
			cfg.SessionExpires = 90 * time.Second
		}
		u, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.uas[i], f.addrs[i] = u, effects.Peer{Addr: ap, Transport: effects.UDP}
		f.timers[i] = map[effects.TimerID]effects.Time{}
	}
	return f
}

// apply carries out UA i's effects.
func (f *fuzzNet) apply(i int, effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			if e.Msg == nil {
				continue
			}
			// What a UA sends must parse back, except an error response to
			// a malformed request, which echoes its fields as they came
			// (message.ErrorResponse, RFC 4475).
			if _, err := message.Parse(e.Msg.Bytes(), nil); err != nil && (e.Msg.IsRequest() || e.Msg.StatusCode() < 400) {
				f.t.Fatalf("%d sent a message that does not parse: %v\n%s", i, err, e.Msg.Bytes())
			}
			to := 1 - i
			if fuzzTrace {
				f.t.Logf("    %d sends %s %v", i, e.Msg.StartLine(), e.Msg.CSeq())
			}
			if e.To.Addr != f.addrs[to].Addr {
				continue // elsewhere: lost
			}
			f.flight = append(f.flight, fuzzMsg{to: to, from: f.addrs[i], data: slices.Clone(e.Msg.Bytes())})
		case effects.SetTimer:
			if _, dup := f.timers[i][e.Timer]; dup {
				f.t.Fatalf("%d: timer %x set twice", i, e.Timer)
			}
			f.timers[i][e.Timer] = f.now.Add(e.After)
		case effects.CancelTimer:
			if _, ok := f.timers[i][e.Timer]; !ok {
				f.t.Fatalf("%d: cancel of timer %x not pending", i, e.Timer)
			}
			delete(f.timers[i], e.Timer)
		case effects.Deliver:
			if fuzzTrace {
				f.t.Logf("    %d: event %v %d", i, e.Event.Kind, e.Event.ID)
			}
			if e.Event.Kind >= effects.CallIncoming {
				f.events++
				if !slices.Contains(f.calls[i], e.Event.ID) {
					f.calls[i] = append(f.calls[i], e.Event.ID)
				}
			}
		}
	}
}

func (f *fuzzNet) deliver(k int, data []byte) {
	m := f.flight[k]
	if fuzzTrace {
		first, _, _ := strings.Cut(string(data), "\r\n")
		msg, _ := message.Parse(data, nil)
		cseq := ""
		if msg != nil {
			cseq = fmt.Sprint(msg.CSeq())
		}
		f.t.Logf("%v -> %d: %s %s", f.now, m.to, first, cseq)
	}
	f.apply(m.to, f.uas[m.to].Handle(effects.Input{Kind: effects.Received, Now: f.now, Data: data, From: m.from}, nil))
}

// advance moves the clock by d, firing due timers in order.
func (f *fuzzNet) advance(d time.Duration) {
	until := f.now.Add(d)
	for {
		who, id, at := -1, effects.TimerID(0), until
		for i := range f.timers {
			for t, when := range f.timers[i] {
				if when < at || when == at && (who < 0 || t < id) {
					who, id, at = i, t, when
				}
			}
		}
		if who < 0 {
			f.now = until
			return
		}
		delete(f.timers[who], id)
		f.now = at
		f.apply(who, f.uas[who].Handle(effects.Input{Kind: effects.TimerFired, Now: f.now, Timer: id}, nil))
	}
}

// command runs one application action on UA i, on its n-th known call.
func (f *fuzzNet) command(i int, op, n byte) {
	u := f.uas[i]
	if fuzzTrace {
		f.t.Logf("%v: %d does %d on call #%d", f.now, i, op%13, n)
	}
	var id CallID
	if c := f.calls[i]; len(c) > 0 {
		id = c[int(n)%len(c)]
	}
	body := []byte(sdpOffer)
	if n&1 == 1 {
		body = []byte(hold(sdpOffer))
	}
	var out []effects.Effect
	switch op % 13 {
	case 0:
		cid, effs, err := u.Call(f.now, mustURI(fmt.Sprintf("sip:peer@%s", f.addrs[1-i].Addr)), CallOptions{Body: body, Dest: f.addrs[1-i]}, nil)
		if err == nil {
			f.calls[i] = append(f.calls[i], cid)
		}
		out = effs
	case 1:
		out, _ = u.Ring(f.now, id, RingOptions{Code: 180 + int(n%4), Body: []byte(sdpAnswer)}, nil)
	case 2:
		out, _ = u.Answer(f.now, id, []byte(sdpAnswer), nil)
	case 3:
		out, _ = u.Reject(f.now, id, 486, nil)
	case 4:
		out, _ = u.Hangup(f.now, id, nil)
	case 5:
		out, _ = u.Update(f.now, id, body, UpdateOptions{}, nil)
	case 6:
		out, _ = u.Update(f.now, id, body, UpdateOptions{UseUpdate: true}, nil)
	case 7:
		out, _ = u.Accept(f.now, id, []byte(sdpAnswer), nil)
	case 8:
		out, _ = u.Decline(f.now, id, 488, nil)
	case 9:
		out, _ = u.Answer(f.now, id, nil, nil)
	case 10:
		_, out, _ = u.CallRequest(f.now, id, "INFO", "application/dtmf-relay", []byte("Signal=1\r\n"), nil)
	case 11:
		_, out, _ = u.Request(f.now, "MESSAGE", mustURI(fmt.Sprintf("sip:peer@%s", f.addrs[1-i].Addr)), RequestOptions{
			Dest: f.addrs[1-i], ContentType: "text/plain", Body: []byte("hi"),
		}, nil)
	case 12:
		out, _ = u.Reply(f.now, id, 200+int(n%5)*100, ReplyOptions{}, nil)
	}
	f.apply(i, out)
}

// fuzzTrace logs what FuzzUA does, to read a failing input.
var fuzzTrace = os.Getenv("SANSIP_FUZZ_TRACE") != ""

// FuzzUA runs two UA cores on a program the fuzzer writes: each pair of
// bytes is an operation (deliver, drop, duplicate or corrupt a message in
// flight, move the clock, or an application command on either side). It
// checks that nothing panics, that every message a UA sends parses, that
// timers are set and cancelled consistently, and that once both sides hang
// up and every timer has fired, neither keeps a call, dialog, timer or
// transaction: no input sequence leaks state.
func FuzzUA(f *testing.F) {
	f.Add(false, false, []byte{10, 0, 0, 0, 0, 0, 0, 0, 11, 2, 0, 0, 0, 0, 10, 4})
	f.Add(true, false, []byte{10, 0, 0, 0, 11, 1, 0, 0, 0, 0, 0, 0, 11, 2, 0, 0, 0, 0, 10, 5, 0, 0, 0, 0})
	f.Add(true, true, []byte{10, 0, 1, 0, 5, 9, 0, 0, 11, 2, 3, 0, 0, 0, 4, 200, 10, 4})
	f.Add(false, false, []byte{10, 0, 2, 0, 0, 0, 3, 1, 0, 0, 11, 4, 4, 250})
	f.Add(false, false, []byte{10, 0, 0, 0, 11, 2, 0, 0, 0, 0, 10, 10, 0, 0, 11, 12, 0, 0, 10, 11, 0, 0, 4, 100, 10, 4})
	f.Fuzz(runFuzzUA)
}

// runFuzzUA runs one FuzzUA program.
func runFuzzUA(t *testing.T, reliable, timers bool, prog []byte) {
	if len(prog) > 400 {
		prog = prog[:400]
	}
	fn := newFuzzNet(t, reliable, timers)
	for p := 0; p+1 < len(prog); p += 2 {
		op, arg := prog[p], prog[p+1]
		switch op % 12 {
		case 0, 1: // deliver the arg-th message in flight
			if len(fn.flight) > 0 {
				k := int(arg) % len(fn.flight)
				fn.deliver(k, fn.flight[k].data)
				fn.flight = slices.Delete(fn.flight, k, k+1)
			}
		case 2: // lose it
			if len(fn.flight) > 0 {
				k := int(arg) % len(fn.flight)
				fn.flight = slices.Delete(fn.flight, k, k+1)
			}
		case 3: // deliver a copy and keep it in flight
			if len(fn.flight) > 0 {
				k := int(arg) % len(fn.flight)
				fn.deliver(k, fn.flight[k].data)
			}
		case 4: // move the clock by arg·20 ms
			fn.advance(time.Duration(arg) * 20 * time.Millisecond)
		case 5: // corrupt a byte and deliver
			if len(fn.flight) > 0 {
				k := int(arg) % len(fn.flight)
				data := slices.Clone(fn.flight[k].data)
				data[int(arg)*7%len(data)] ^= arg | 1
				fn.deliver(k, data)
			}
		case 10: // Alice's application
			fn.command(0, arg, byte(p))
		case 11: // Bob's application
			fn.command(1, arg, byte(p))
		default: // deliver the oldest
			if len(fn.flight) > 0 {
				fn.deliver(0, fn.flight[0].data)
				fn.flight = fn.flight[1:]
			}
		}
	}
	// Both hang up everything, the network delivers what is in flight,
	// and time runs until nothing is left to happen.
	if fuzzTrace {
		t.Logf("%v: both hang up", fn.now)
	}
	for i, u := range fn.uas {
		for id := range u.calls {
			out, _ := u.Hangup(fn.now, id, nil)
			fn.apply(i, out)
		}
	}
	for step := 0; step < 10000; step++ {
		if len(fn.flight) > 0 {
			fn.deliver(0, fn.flight[0].data)
			fn.flight = fn.flight[1:]
			continue
		}
		if len(fn.timers[0])+len(fn.timers[1]) == 0 {
			break
		}
		fn.advance(time.Second)
	}
	for i, u := range fn.uas {
		// An unanswered incoming call waits for its application; the
		// caller's CANCEL or its INVITE's end would have ended it.
		for id, c := range u.calls {
			if c.state == stIncoming {
				out, _ := u.Reject(fn.now, id, 480, nil)
				fn.apply(i, out)
			}
		}
	}
	fn.advance(time.Hour)
	for len(fn.flight) > 0 {
		fn.deliver(0, fn.flight[0].data)
		fn.flight = fn.flight[1:]
		fn.advance(time.Hour)
	}
	for i, u := range fn.uas {
		if u.Calls() != 0 || u.Dialogs() != 0 || u.Timers() != 0 || u.Transactions().Len() != 0 || u.Requests() != 0 || u.Subscriptions() != 0 || u.Registrations() != 0 || len(fn.timers[i]) != 0 {
			t.Fatalf("UA %d left %d calls, %d dialogs, %d UA timers, %d transactions, %d requests, %d pending timers",
				i, u.Calls(), u.Dialogs(), u.Timers(), u.Transactions().Len(), u.Requests(), len(fn.timers[i]))
		}
	}
}
