package loop

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// memNet is a Transport joining runtimes in memory, by address.
type memNet struct {
	mu    sync.Mutex
	nodes map[netip.AddrPort]*Runtime
	fail  bool
}

type memTransport struct {
	net  *memNet
	self netip.AddrPort
}

func (t memTransport) Send(to effects.Peer, data []byte) error {
	t.net.mu.Lock()
	dst := t.net.nodes[to.Addr]
	fail := t.net.fail
	t.net.mu.Unlock()
	if fail || dst == nil {
		return errors.New("unreachable")
	}
	dst.Receive(data, effects.Peer{Addr: t.self, Transport: effects.TCP}, to.Addr)
	return nil
}

func (memTransport) Close(effects.ConnID) error { return nil }

func mustURI(t *testing.T, s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// uaCore is a UA that says when it is idle.
type uaCore struct{ *ua.UA }

func (c uaCore) Idle() bool { return c.Calls() == 0 && c.Transactions().Len() == 0 }

const offer = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

// Two runtimes of two shards each run a UA; a call goes through their
// transports and OnEvent handlers, and ends; the runtimes drain (every
// transaction ends) and leave no goroutine.
func TestCallBetweenRuntimes(t *testing.T) {
	before := runtime.NumGoroutine()
	mn := &memNet{nodes: map[netip.AddrPort]*Runtime{}}
	aAddr, bAddr := netip.MustParseAddrPort("127.0.0.1:5060"), netip.MustParseAddrPort("127.0.0.2:5060")
	events := make(chan string, 64)
	mk := func(name string, addr netip.AddrPort, onEvent func(s *Shard, ev effects.Event)) *Runtime {
		r, err := New(Config{
			Shards: 2,
			NewCore: func(i int) Core {
				u, err := ua.New(ua.Config{
					AOR: mustURI(t, "sip:"+name+"@example.com"), Contact: mustURI(t, "sip:"+name+"@"+addr.String()),
					Host: addr.Addr().String(), Port: addr.Port(), Gen: ident.Seeded(uint64(i + 1 + 10*len(name))),
					// A short T1, so that Timers L and M (64·T1, on every
					// transport) let the drain finish quickly.
					Txn: txn.Config{T1: 20 * time.Millisecond},
				})
				if err != nil {
					t.Fatal(err)
				}
				return uaCore{u}
			},
			Transport: memTransport{mn, addr},
			OnEvent:   onEvent,
		})
		if err != nil {
			t.Fatal(err)
		}
		mn.nodes[addr] = r
		return r
	}
	bob := mk("bob", bAddr, func(s *Shard, ev effects.Event) {
		events <- "bob " + ev.Kind.String()
		if ev.Kind == effects.CallIncoming {
			u := s.Core().(uaCore)
			out, err := u.Answer(s.rt.Now(), ev.ID, []byte(offer), nil)
			if err != nil {
				t.Error(err)
			}
			s.Exec(s.rt.Now(), out)
		}
	})
	alice := mk("alice", aAddr, func(s *Shard, ev effects.Event) {
		events <- "alice " + ev.Kind.String()
		if ev.Kind == effects.CallAnswered {
			u := s.Core().(uaCore)
			out, err := u.Hangup(s.rt.Now(), ev.ID, nil)
			if err != nil {
				t.Error(err)
			}
			s.Exec(s.rt.Now(), out)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range []*Runtime{alice, bob} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, 5*time.Second) }()
	}
	// Alice calls from shard 0.
	alice.Shards()[0].Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
		u := alice.Shards()[0].Core().(uaCore)
		_, out, err := u.Call(now, mustURI(t, "sip:bob@127.0.0.2"), ua.CallOptions{Body: []byte(offer), Dest: effects.Peer{Addr: bAddr, Transport: effects.TCP}}, out)
		if err != nil {
			t.Error(err)
		}
		return out
	})
	want := map[string]bool{"alice call-answered": false, "alice call-ended": false, "bob call-incoming": false, "bob call-ended": false}
	deadline := time.After(5 * time.Second)
	for missing := len(want); missing > 0; {
		select {
		case e := <-events:
			if seen, ok := want[e]; ok && !seen {
				want[e] = true
				missing--
			}
		case <-deadline:
			t.Fatalf("events missing: %v", want)
		}
	}
	cancel()
	wg.Wait()
	for _, r := range []*Runtime{alice, bob} {
		for _, s := range r.Shards() {
			if !s.Core().(uaCore).Idle() {
				u := s.Core().(uaCore)
				t.Errorf("shard %d not idle after the drain: %d calls, %d transactions", s.ID(), u.Calls(), u.Transactions().Len())
			}
		}
		if r.Stats().Received.Load() == 0 || r.Stats().Sent.Load() == 0 {
			t.Error("no traffic counted")
		}
	}
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// nullCore counts what it sees.
type nullCore struct {
	mu   sync.Mutex
	seen []effects.Input
	effs []effects.Effect
}

func (c *nullCore) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, in)
	out = append(out, c.effs...)
	c.effs = nil
	return out
}

// A full inbox refuses a message and hands it to Overload; memory stays
// bounded whatever is offered.
func TestOverload(t *testing.T) {
	var overloaded int
	r, err := New(Config{Shards: 1, QueueLen: 2, NewCore: func(int) Core { return &nullCore{} },
		Transport: memTransport{&memNet{}, netip.MustParseAddrPort("127.0.0.1:1")},
		Overload:  func([]byte, effects.Peer, netip.AddrPort) { overloaded++ }})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n")
	// The shard is busy (held elsewhere): messages queue, up to the bound.
	r.Shards()[0].mu.Lock()
	defer r.Shards()[0].mu.Unlock()
	accepted := 0
	for range 10 {
		if r.Receive(msg, effects.Peer{}, netip.AddrPort{}) {
			accepted++
		}
	}
	if accepted != 2 || overloaded != 8 || r.Stats().Overloaded.Load() != 8 {
		t.Errorf("accepted %d, overloaded %d", accepted, overloaded)
	}
}

type fakeResolver struct{}

func (fakeResolver) Resolve(_ context.Context, name, service string, tr effects.Transport, port uint16) ([]effects.Target, error) {
	return []effects.Target{{Addr: netip.MustParseAddrPort("127.0.0.9:5060"), Transport: tr}}, nil
}

// A Resolve effect goes to the lookup pool and comes back as a Resolved
// input with its Tag; a failed Send comes back as SendFailed.
func TestResolveAndSendFailed(t *testing.T) {
	core := &nullCore{}
	mn := &memNet{fail: true}
	r, err := New(Config{Shards: 1, NewCore: func(int) Core { return core }, Transport: memTransport{mn, netip.MustParseAddrPort("127.0.0.1:1")}, Resolver: fakeResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, time.Second); close(done) }()
	r.Shards()[0].Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
		return append(out,
			effects.Effect{Kind: effects.Resolve, Name: "example.com", Service: "sip", Tag: 7, To: effects.Peer{Transport: effects.TCP}},
			effects.Effect{Kind: effects.Send, Data: []byte("x"), To: effects.Peer{Addr: netip.MustParseAddrPort("127.0.0.5:5060")}, Tag: 9})
	})
	deadline := time.Now().Add(3 * time.Second)
	var gotResolved, gotFailed bool
	for time.Now().Before(deadline) && !(gotResolved && gotFailed) {
		core.mu.Lock()
		for _, in := range core.seen {
			gotResolved = gotResolved || in.Kind == effects.Resolved && in.Tag == 7 && len(in.Answer) == 1 && in.Answer[0].Transport == effects.TCP
			gotFailed = gotFailed || in.Kind == effects.SendFailed && in.Tag == 9
		}
		core.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !gotResolved || !gotFailed {
		t.Errorf("resolved %v, send failed %v", gotResolved, gotFailed)
	}
}

func TestCallID(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"INVITE sip:a@b SIP/2.0\r\nVia: x\r\nCall-ID: abc@host \r\n\r\n", "abc@host"},
		{"SIP/2.0 200 OK\r\ni:\tcompact\r\n\r\n", "compact"},
		{"INVITE sip:a@b SIP/2.0\r\nCALL-ID:upper\r\n\r\n", "upper"},
		{"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nCall-ID: in-body\r\n", ""},
		{"garbage", ""},
	}
	for _, tc := range tests {
		if got := string(CallID([]byte(tc.msg))); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func FuzzCallID(f *testing.F) {
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nCall-ID: abc\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) { CallID(b) })
}

func BenchmarkCallID(b *testing.B) {
	msg := []byte("INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		CallID(msg)
	}
}

// Commands run in the order they were given, even while messages handled
// inline on other goroutines contend for the shard: the shard's goroutine
// never takes an item out of the inbox before it holds the shard (an
// item taken, then waited with, was overtaken by the inline handler's
// drain of the next one).
func TestCommandOrder(t *testing.T) {
	r, err := New(Config{Shards: 1, QueueLen: 1 << 16, NewCore: func(int) Core { return &nullCore{} },
		Transport: memTransport{&memNet{}, netip.MustParseAddrPort("127.0.0.1:1")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, time.Second) }()
	sh := r.Shards()[0]
	const n = 20000
	var got []int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	msg := []byte("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n")
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					r.Receive(msg, effects.Peer{}, netip.AddrPort{})
				}
			}
		}()
	}
	finished := make(chan struct{})
	for i := range n {
		last := i == n-1
		for !sh.Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
			got = append(got, i)
			if last {
				close(finished)
			}
			return out
		}) {
			runtime.Gosched() // the inbox is full: try again
		}
	}
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("the commands did not run")
	}
	close(stop)
	wg.Wait()
	cancel()
	<-done
	for i, v := range got {
		if v != i {
			t.Fatalf("command %d ran %dth", v, i)
		}
	}
}
