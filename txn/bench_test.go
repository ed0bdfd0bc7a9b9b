package txn

import (
	"runtime"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// BenchmarkServerNonInvite runs a whole non-INVITE server transaction over
// UDP: the request's bytes arrive, the TU builds and sends a 200, Timer J
// fires.
func BenchmarkServerNonInvite(b *testing.B) {
	data := request("OPTIONS", effects.UDP, ident.Seeded(1)).Bytes()
	l := New(Config{})
	out := make([]effects.Effect, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		out = l.Handle(effects.Input{Kind: effects.Received, Data: data, From: alice}, out[:0])
		ev := out[0].Event
		resp, err := message.NewResponse(ev.Msg, 200, "", message.ResponseOptions{ToTag: "t1"})
		if err != nil {
			b.Fatal(err)
		}
		out, err = l.Respond(0, ev.ID, resp, out[:0])
		if err != nil {
			b.Fatal(err)
		}
		timer := out[len(out)-1].Timer
		out = l.Handle(effects.Input{Kind: effects.TimerFired, Timer: timer}, out[:0])
		if l.Len() != 0 {
			b.Fatal("transaction left")
		}
	}
}

// BenchmarkClientInvite runs a whole INVITE client transaction over UDP:
// the INVITE goes out, 100, 180 and 200 arrive as bytes, Timer M fires.
func BenchmarkClientInvite(b *testing.B) {
	gen := ident.Seeded(1)
	n := 1024
	reqs := make([]*message.Message, n)
	resps := make([][3][]byte, n)
	for i := range reqs {
		reqs[i] = request("INVITE", effects.UDP, gen)
		for j, code := range []int{100, 180, 200} {
			resps[i][j] = response(reqs[i], code).Bytes()
		}
	}
	l := New(Config{})
	out := make([]effects.Effect, 0, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % n
		i++
		id, o, err := l.NewClient(0, reqs[k], bob, out[:0])
		if err != nil {
			b.Fatal(err)
		}
		out = o
		for _, data := range resps[k] {
			out = l.Handle(effects.Input{Kind: effects.Received, Data: data, From: bob}, out[:0])
		}
		out = l.Handle(effects.Input{Kind: effects.TimerFired, Timer: timerID(id, TimerM)}, out[:0])
		if l.Len() != 0 {
			b.Fatal("transaction left")
		}
	}
}

// BenchmarkRetransmitTimer is the hot path of an unreliable transport: Timer
// A fires, the request goes out again and Timer A is set. The effects are
// values in a reused slice: nothing is allocated.
func BenchmarkRetransmitTimer(b *testing.B) {
	l := New(Config{T1: 1})
	req := request("INVITE", effects.UDP, ident.Seeded(1))
	id, out, err := l.NewClient(0, req, bob, nil)
	if err != nil {
		b.Fatal(err)
	}
	t := l.get(id)
	b.ReportAllocs()
	for b.Loop() {
		t.interval = 1 // keep the doubling from overflowing
		out = l.Handle(effects.Input{Kind: effects.TimerFired, Timer: timerID(id, TimerA)}, out[:0])
		if len(out) != 2 {
			b.Fatal(describeAll(out))
		}
	}
}

// populate fills a Layer with n live INVITE server transactions (waiting
// for the TU) and returns one of their requests.
func populate(b *testing.B, n int) (*Layer, *message.Message) {
	l := New(Config{MaxTransactions: n + 10})
	gen := ident.Seeded(1)
	var last *message.Message
	for i := 0; i < n; i++ {
		last = request("INVITE", effects.UDP, gen)
		l.Handle(effects.Input{Kind: effects.Received, Data: last.Bytes(), From: alice}, nil)
	}
	if l.Len() != n {
		b.Fatalf("%d live", l.Len())
	}
	return l, last
}

// BenchmarkMatch measures finding the server transaction of a request in
// a table of 1 and of 100,000 live transactions.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1, 100000} {
		l, req := populate(b, n)
		m, _ := message.Parse(req.Bytes(), nil)
		b.Run(itoa(uint64(n)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if l.lookup(serverKey(m, "INVITE")) == nil {
					b.Fatal("no match")
				}
			}
		})
		b.Run(itoa(uint64(n))+"/retransmission", func(b *testing.B) {
			data := req.Bytes()
			out := make([]effects.Effect, 0, 8)
			b.ReportAllocs()
			for b.Loop() {
				out = l.Handle(effects.Input{Kind: effects.Received, Data: data, From: alice}, out[:0])
			}
		})
	}
}

// TestBytesPerTransaction measures the memory a live transaction holds
// beyond its request (goal: at most 512 bytes), with 100,000 of them.
func TestBytesPerTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100,000 transactions")
	}
	const n = 100000
	gen := ident.Seeded(1)
	datas := make([][]byte, n)
	for i := range datas {
		datas[i] = request("INVITE", effects.UDP, gen).Bytes()
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// The messages alone.
	base := heap()
	msgs := make([]*message.Message, n)
	for i, d := range datas {
		msgs[i], _ = message.Parse(d, nil)
	}
	withMsgs := heap()
	perMsg := float64(withMsgs-base) / n
	runtime.KeepAlive(msgs)
	msgs = nil
	// The same requests, each in a live INVITE server transaction.
	base = heap()
	l := New(Config{MaxTransactions: n})
	for _, d := range datas {
		l.Handle(effects.Input{Kind: effects.Received, Data: d, From: alice}, nil)
	}
	withTxns := heap()
	perTxn := float64(withTxns-base) / n
	runtime.KeepAlive(l)
	runtime.KeepAlive(datas) // live through both readings, or it would be counted in one only
	t.Logf("heap: base %d, with messages %d; base %d, with transactions %d", base, withMsgs, base, withTxns)
	beyond := perTxn - perMsg
	t.Logf("per live transaction: %.0f bytes in all, %.0f of them the parsed request, %.0f beyond it", perTxn, perMsg, beyond)
	if l.Len() != n {
		t.Fatalf("%d live", l.Len())
	}
	if beyond > 512 {
		t.Errorf("%.0f bytes beyond the message, goal 512", beyond)
	}
}
