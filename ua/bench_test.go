package ua

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
)

// benchPair is two UA cores wired back to back with no loss: each Send is
// handed to the other side as bytes, timers are recorded and cancelled but
// never fire (a call without loss needs none), events go to a callback.
type benchPair struct {
	uas    [2]*UA
	addrs  [2]effects.Peer
	queue  []benchItem
	buf    []effects.Effect
	on     func(i int, ev effects.Event)
	now    effects.Time
	timers [2]map[effects.TimerID]effects.Time
	due    []effects.TimerID
}

type benchItem struct {
	to   int
	data []byte
}

func newBenchPair(b testing.TB) *benchPair {
	p := &benchPair{}
	for i, name := range []string{"alice", "bob"} {
		ap := netip.MustParseAddrPort(fmt.Sprintf("192.0.2.%d:5060", i+1))
		u, err := New(Config{
			AOR: mustURI("sip:" + name + "@example.com"), Contact: mustURI(fmt.Sprintf("sip:%s@%s", name, ap)),
			Host: ap.Addr().String(), Port: ap.Port(), Gen: ident.Seeded(uint64(i + 1)),
		})
		if err != nil {
			b.Fatal(err)
		}
		p.uas[i], p.addrs[i] = u, effects.Peer{Addr: ap, Transport: effects.UDP}
		p.timers[i] = map[effects.TimerID]effects.Time{}
	}
	return p
}

// advance moves the clock by d and fires the timers due (in no particular
// order: after a call without loss, only the transactions' lingering
// timers are left, and their order does not matter).
func (p *benchPair) advance(d time.Duration) {
	p.now = p.now.Add(d)
	for i := range p.timers {
		p.due = p.due[:0]
		for id, at := range p.timers[i] {
			if at <= p.now {
				p.due = append(p.due, id)
			}
		}
		for _, id := range p.due {
			if _, ok := p.timers[i][id]; !ok {
				continue
			}
			delete(p.timers[i], id)
			p.buf = p.uas[i].Handle(effects.Input{Kind: effects.TimerFired, Now: p.now, Timer: id}, p.buf[:0])
			p.apply(i, p.buf)
		}
	}
}

func (p *benchPair) apply(i int, effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			p.queue = append(p.queue, benchItem{to: 1 - i, data: e.Msg.Bytes()})
		case effects.SetTimer:
			p.timers[i][e.Timer] = p.now.Add(e.After)
		case effects.CancelTimer:
			delete(p.timers[i], e.Timer)
		case effects.Deliver:
			if p.on != nil {
				p.on(i, e.Event)
			}
		}
	}
}

func (p *benchPair) run() {
	for len(p.queue) > 0 {
		it := p.queue[0]
		p.queue = p.queue[1:]
		p.buf = p.uas[it.to].Handle(effects.Input{Kind: effects.Received, Now: p.now, Data: it.data, From: p.addrs[1-it.to]}, p.buf[:0])
		p.apply(it.to, p.buf)
	}
}

// call places one call from Alice to Bob, who answers at once; Alice hangs
// up once it is answered when hangup is set.
func (p *benchPair) call(b testing.TB, hangup bool) CallID {
	id, out, err := p.uas[0].Call(p.now, mustURI("sip:bob@192.0.2.2"), CallOptions{Body: []byte(sdpOffer), Dest: p.addrs[1]}, p.buf[:0])
	if err != nil {
		b.Fatal(err)
	}
	p.apply(0, out)
	p.run()
	if hangup {
		out, err := p.uas[0].Hangup(p.now, id, p.buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		p.apply(0, out)
		p.run()
	}
	return id
}

// BenchmarkCall is one whole call between two UA cores, both sides' work:
// INVITE, 100-less 200, ACK, BYE, 200, each rendered, parsed and matched,
// with the dialogs, offer/answer state, transactions, their timers (set,
// cancelled, and the lingering ones fired a minute later) and events; Bob
// answers at once.
func BenchmarkCall(b *testing.B) {
	p := newBenchPair(b)
	p.on = func(i int, ev effects.Event) {
		if i == 1 && ev.Kind == effects.CallIncoming {
			out, err := p.uas[1].Answer(p.now, ev.ID, []byte(sdpAnswer), nil)
			if err != nil {
				b.Fatal(err)
			}
			p.apply(1, out)
		}
	}
	p.call(b, true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.call(b, true)
		p.advance(time.Minute)
	}
	b.StopTimer()
	for i, u := range p.uas {
		if u.Calls() != 0 || u.Transactions().Len() != 0 || len(p.timers[i]) != 0 {
			b.Fatalf("%d calls, %d transactions, %d timers left", u.Calls(), u.Transactions().Len(), len(p.timers[i]))
		}
	}
}

// TestBytesPerCall reports the memory an established call holds in both
// UA cores (dialogs, sessions, transactions in their Accepted or Completed
// states, the messages kept for retransmission and matching): run with -v.
func TestBytesPerCall(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	const n = 2000
	p := newBenchPair(t)
	p.on = func(i int, ev effects.Event) {
		if i == 1 && ev.Kind == effects.CallIncoming {
			out, _ := p.uas[1].Answer(p.now, ev.ID, []byte(sdpAnswer), nil)
			p.apply(1, out)
		}
	}
	p.call(t, false)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		p.call(t, false)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if p.uas[0].Calls() != n+1 || p.uas[1].Calls() != n+1 {
		t.Fatalf("%d and %d calls up", p.uas[0].Calls(), p.uas[1].Calls())
	}
	t.Logf("%d bytes per established call, both sides, while its transactions linger", (after.HeapAlloc-before.HeapAlloc)/n)
	runtime.KeepAlive(p)
}
