package sim_test

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
)

// coreFunc is a Core made of a function, to drive the Sim directly.
type coreFunc func(in effects.Input, out []effects.Effect) []effects.Effect

func (f coreFunc) Handle(in effects.Input, out []effects.Effect) []effects.Effect { return f(in, out) }

// sink records the inputs it gets.
type sink struct {
	ins  []effects.Input
	left string
}

func (k *sink) Handle(in effects.Input, out []effects.Effect) []effects.Effect {
	in.Data = append([]byte(nil), in.Data...)
	k.ins = append(k.ins, in)
	return out
}

func (k *sink) Leftover() string { return k.left }

func (k *sink) received() []string {
	var out []string
	for _, in := range k.ins {
		if in.Kind == effects.Received {
			out = append(out, string(in.Data))
		}
	}
	return out
}

// sendTo returns a command sending data to n over tr.
func sendTo(n *sim.Node, tr effects.Transport, data string) sim.Command {
	return func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return append(out, effects.Effect{Kind: effects.Send, Data: []byte(data), To: effects.Peer{Addr: n.Addr(), Transport: tr}}), nil
	}
}

func TestTimers(t *testing.T) {
	s := sim.New(1)
	var fired []effects.TimerID
	var at []effects.Time
	nd := sim.Must(s.Add("n", "192.0.2.1:5060", coreFunc(func(in effects.Input, out []effects.Effect) []effects.Effect {
		if in.Kind == effects.TimerFired {
			fired = append(fired, in.Timer)
			at = append(at, in.Now)
		}
		return out
	})))
	err := nd.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return append(out,
			effects.Effect{Kind: effects.SetTimer, Timer: 1, After: 3 * time.Second},
			effects.Effect{Kind: effects.SetTimer, Timer: 2, After: time.Second},
			effects.Effect{Kind: effects.SetTimer, Timer: 3, After: time.Second},
			effects.Effect{Kind: effects.SetTimer, Timer: 4, After: 2 * time.Second},
			effects.Effect{Kind: effects.CancelTimer, Timer: 4},
		), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if nd.Timers() != 3 {
		t.Errorf("%d timers pending", nd.Timers())
	}
	if err := s.CheckQuiet(); !errors.Is(err, sim.ErrNotQuiet) || !strings.Contains(err.Error(), "n holds 3 timers pending") {
		t.Errorf("CheckQuiet with timers: %v", err)
	}
	if err := s.RunUntilQuiet(time.Minute); err != nil {
		t.Fatal(err)
	}
	// Equal times fire in the order set.
	if fmt.Sprint(fired) != "[2 3 1]" || at[0] != effects.Time(time.Second) || at[2] != effects.Time(3*time.Second) {
		t.Errorf("fired %v at %v", fired, at)
	}
	if s.Now() != effects.Time(3*time.Second) {
		t.Errorf("quiet at %v", s.Now())
	}
	if err := s.CheckQuiet(); err != nil {
		t.Error(err)
	}
}

func TestTimerMisuse(t *testing.T) {
	for name, script := range map[string][]effects.Effect{
		"set twice":      {{Kind: effects.SetTimer, Timer: 7, After: time.Second}, {Kind: effects.SetTimer, Timer: 7, After: time.Second}},
		"cancel unknown": {{Kind: effects.CancelTimer, Timer: 8}},
		"cancel fired":   {{Kind: effects.SetTimer, Timer: 9}},
	} {
		t.Run(name, func(t *testing.T) {
			s := sim.New(1)
			nd := sim.Must(s.Add("n", "192.0.2.1:5060", coreFunc(func(in effects.Input, out []effects.Effect) []effects.Effect {
				if in.Kind == effects.TimerFired {
					out = append(out, effects.Effect{Kind: effects.CancelTimer, Timer: in.Timer})
				}
				return out
			})))
			_ = nd.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return append(out, script...), nil
			})
			err := s.RunUntilQuiet(time.Minute)
			if !errors.Is(err, sim.ErrTimer) || !errors.Is(s.Err(), sim.ErrTimer) {
				t.Errorf("err %v", err)
			}
			if !strings.Contains(s.Trace(), "ERROR") {
				t.Errorf("the trace does not show it:\n%s", s.Trace())
			}
		})
	}
}

// TestDatagrams: loss, duplication and jitter on UDP happen at the rates
// set, and jitter reorders.
func TestDatagrams(t *testing.T) {
	s := sim.New(7)
	a := sim.Must(s.Add("a", "192.0.2.1:5060", &sink{}))
	kb := &sink{}
	b := sim.Must(s.Add("b", "192.0.2.2:5060", kb))
	s.SetLink(a, b, sim.Link{Loss: 0.3, Dup: 0.1, Delay: 20 * time.Millisecond, Jitter: 50 * time.Millisecond})
	const n = 20000
	for i := range n {
		s.At(effects.Time(i)*effects.Time(time.Millisecond), func() {
			_ = a.Do(sendTo(b, effects.UDP, fmt.Sprint(i)))
		})
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	got := kb.received()
	seen := map[string]int{}
	reordered := 0
	prev := -1
	for _, d := range got {
		seen[d]++
		var v int
		fmt.Sscan(d, &v)
		if v < prev {
			reordered++
		}
		prev = v
	}
	lost := n - len(seen)
	dups := len(got) - len(seen)
	if math.Abs(float64(lost)/n-0.3) > 0.02 {
		t.Errorf("lost %d of %d", lost, n)
	}
	if math.Abs(float64(dups)/float64(len(seen))-0.1) > 0.02 {
		t.Errorf("%d duplicates of %d", dups, len(seen))
	}
	if reordered == 0 {
		t.Error("jitter reordered nothing")
	}
	for _, in := range kb.ins {
		if in.From != (effects.Peer{Addr: a.Addr(), Transport: effects.UDP}) || in.Local != b.Addr() {
			t.Fatalf("arrived from %v on %v", in.From, in.Local)
		}
	}
	// The other direction has the default link: perfect.
	ka := a.Core().(*sink)
	_ = b.Do(sendTo(a, effects.UDP, "back"))
	if err := s.RunUntilQuiet(time.Hour); err != nil || len(ka.received()) != 1 {
		t.Errorf("back: %v %v", ka.received(), err)
	}
}

// TestStream: a stream transport delivers in order, once, whatever the
// link's loss and jitter, over one connection both ways; breaking it
// loses what is in flight and tells both ends.
func TestStream(t *testing.T) {
	s := sim.New(3)
	ka, kb := &sink{}, &sink{}
	a := sim.Must(s.Add("a", "TCP:192.0.2.1:5060", ka))
	b := sim.Must(s.Add("b", "TCP:192.0.2.2:5060", kb))
	if a.Transport() != effects.TCP || a.Peer().Transport != effects.TCP {
		t.Fatalf("transport %v", a.Transport())
	}
	s.SetLinks(a, b, sim.Link{Loss: 0.5, Dup: 0.5, Jitter: 80 * time.Millisecond})
	for i := range 500 {
		s.At(effects.Time(i)*effects.Time(time.Millisecond), func() { _ = a.Do(sendTo(b, effects.TCP, fmt.Sprint(i))) })
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	got := kb.received()
	if len(got) != 500 {
		t.Fatalf("%d arrived", len(got))
	}
	for i, d := range got {
		if d != fmt.Sprint(i) {
			t.Fatalf("arrival %d is %s", i, d)
		}
	}
	conn := kb.ins[0].From.Conn
	if conn == 0 || kb.ins[0].From.Transport != effects.TCP {
		t.Fatalf("from %v", kb.ins[0].From)
	}
	// The answer takes the same connection, by id or by address.
	_ = b.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return append(out, effects.Effect{Kind: effects.Send, Data: []byte("x"), To: effects.Peer{Addr: a.Addr(), Transport: effects.TCP, Conn: conn}},
			effects.Effect{Kind: effects.Send, Data: []byte("y"), To: effects.Peer{Addr: a.Addr(), Transport: effects.TCP}}), nil
	})
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(ka.ins) != 2 || ka.ins[0].From.Conn != conn || ka.ins[1].From.Conn != conn || len(s.Conns()) != 1 {
		t.Fatalf("answers %+v, conns %v", ka.ins, s.Conns())
	}
	// Data in flight when the connection breaks is lost; both ends hear
	// ConnClosed; the next send opens a new connection.
	_ = a.Do(sendTo(b, effects.TCP, "in flight"))
	if err := s.BreakConn(a, b); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*sink{ka, kb} {
		last := k.ins[len(k.ins)-1]
		if last.Kind != effects.ConnClosed || last.Conn != conn {
			t.Errorf("last input %+v", last)
		}
	}
	if got := kb.received(); got[len(got)-1] == "in flight" {
		t.Error("data in flight survived the break")
	}
	if err := s.BreakConn(a, b); !errors.Is(err, sim.ErrNoConn) {
		t.Errorf("second break: %v", err)
	}
	_ = a.Do(sendTo(b, effects.TCP, "again"))
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	if last := kb.ins[len(kb.ins)-1]; string(last.Data) != "again" || last.From.Conn == conn || last.From.Conn == 0 {
		t.Errorf("after the break: %+v", last)
	}
}

// TestNowhere: a datagram to an address where nobody listens is dropped;
// a stream send there fails (SendFailed with the effect's tag).
func TestNowhere(t *testing.T) {
	s := sim.New(1)
	k := &sink{}
	a := sim.Must(s.Add("a", "192.0.2.1:5060", k))
	_ = a.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		to := netip.MustParseAddrPort("192.0.2.99:5060")
		return append(out, effects.Effect{Kind: effects.Send, Data: []byte("udp"), To: effects.Peer{Addr: to, Transport: effects.UDP}, Tag: 1},
			effects.Effect{Kind: effects.Send, Data: []byte("tcp"), To: effects.Peer{Addr: to, Transport: effects.TCP}, Tag: 2}), nil
	})
	if err := s.RunUntilQuiet(time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(k.ins) != 1 || k.ins[0].Kind != effects.SendFailed || k.ins[0].Tag != 2 || !errors.Is(k.ins[0].Err, sim.ErrRefused) {
		t.Errorf("inputs %+v", k.ins)
	}
	if tr := s.Trace(); strings.Count(tr, "(no node") != 2 {
		t.Errorf("trace:\n%s", tr)
	}
}

// TestPartition: datagrams across a partition are lost while it lasts;
// stream data waits for it to heal, in order; a partition that never
// heals breaks the connection.
func TestPartition(t *testing.T) {
	s := sim.New(1)
	ka, kb, kc := &sink{}, &sink{}, &sink{}
	a := sim.Must(s.Add("a", "192.0.2.1:5060", ka))
	b := sim.Must(s.Add("b", "192.0.2.2:5060", kb))
	c := sim.Must(s.Add("c", "192.0.2.3:5060", kc))
	s.Partition([]*sim.Node{a}, []*sim.Node{b, c}, effects.Time(time.Second), effects.Time(2*time.Second))
	for _, ms := range []int{500, 1500, 2500} {
		s.At(effects.Time(ms)*effects.Time(time.Millisecond), func() {
			_ = a.Do(sendTo(b, effects.UDP, fmt.Sprint("udp", ms)))
			_ = c.Do(sendTo(a, effects.UDP, fmt.Sprint("udp", ms)))
			_ = a.Do(sendTo(b, effects.TCP, fmt.Sprint("tcp", ms)))
		})
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(kb.received()); got != "[udp500 tcp500 tcp1500 udp2500 tcp2500]" {
		t.Errorf("b got %s", got)
	}
	if got := fmt.Sprint(ka.received()); got != "[udp500 udp2500]" {
		t.Errorf("a got %s", got)
	}
	for _, in := range kb.ins {
		if string(in.Data) == "tcp1500" && in.Now < effects.Time(2*time.Second) {
			t.Errorf("held data arrived at %v", time.Duration(in.Now))
		}
	}
	// For ever: the connection breaks.
	s.Partition([]*sim.Node{a}, []*sim.Node{b}, s.Now(), 0)
	_ = a.Do(sendTo(b, effects.TCP, "never"))
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Fatal(err)
	}
	if last := ka.ins[len(ka.ins)-1]; last.Kind != effects.ConnClosed {
		t.Errorf("a's last input %+v", last)
	}
}

func TestDNS(t *testing.T) {
	s := sim.New(1)
	k := &sink{}
	a := sim.Must(s.Add("a", "192.0.2.1:5060", k))
	b := sim.Must(s.Add("b", "192.0.2.2:5060", &sink{}))
	s.SetDNS("example.com", effects.Target{Addr: b.Addr(), Transport: effects.UDP}, effects.Target{Addr: netip.MustParseAddrPort("192.0.2.3:5060"), Transport: effects.TCP})
	ask := func(name string, tr effects.Transport, port uint16, tag uint64) effects.Effect {
		return effects.Effect{Kind: effects.Resolve, Name: name, Service: "sip", To: effects.Peer{Addr: netip.AddrPortFrom(netip.Addr{}, port), Transport: tr}, Tag: tag}
	}
	_ = a.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return append(out, ask("EXAMPLE.com.", 0, 0, 1), ask("example.com", effects.TCP, 0, 2), ask("example.com", effects.UDP, 5070, 3),
			ask("nowhere.example.com", 0, 0, 4), ask("192.0.2.9", 0, 0, 5)), nil
	})
	if err := s.RunUntilQuiet(time.Minute); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 [{192.0.2.2:5060 UDP} {192.0.2.3:5060 TCP}] <nil>",
		"2 [{192.0.2.3:5060 TCP}] <nil>",
		"3 [{192.0.2.2:5070 UDP}] <nil>",
		"4 [] sim: no such name: nowhere.example.com",
		"5 [{192.0.2.9:5060 UDP}] <nil>",
	}
	for i, in := range k.ins {
		var ts []string
		for _, t := range in.Answer {
			ts = append(ts, fmt.Sprintf("{%v %v}", t.Addr, t.Transport))
		}
		got := fmt.Sprintf("%d [%s] %v", in.Tag, strings.Join(ts, " "), in.Err)
		if in.Kind != effects.Resolved || got != want[i] || in.Now != effects.Time(sim.DefaultDNSDelay) {
			t.Errorf("answer %d: %s at %v, want %s", i, got, in.Now, want[i])
		}
	}
}

// TestCheckQuiet names the node and what its core holds.
func TestCheckQuiet(t *testing.T) {
	s := sim.New(1)
	k := &sink{left: "2 calls"}
	sim.Must(s.Add("busy", "192.0.2.1:5060", k))
	sim.Must(s.Add("idle", "192.0.2.2:5060", &sink{}))
	if err := s.CheckQuiet(); !errors.Is(err, sim.ErrNotQuiet) || err.Error() != "sim: not quiet: busy holds 2 calls" {
		t.Errorf("%v", err)
	}
	k.left = ""
	s.After(time.Hour, func() {})
	if err := s.RunUntilQuiet(time.Minute); !errors.Is(err, sim.ErrNotQuiet) {
		t.Errorf("RunUntilQuiet with an action left: %v", err)
	}
	if err := s.RunUntilQuiet(time.Hour); err != nil {
		t.Error(err)
	}
	if err := s.CheckQuiet(); err != nil {
		t.Error(err)
	}
}

// TestAddresses: names and addresses are unique; ParsePeer reads what
// Peer.String writes.
func TestAddresses(t *testing.T) {
	s := sim.New(1)
	sim.Must(s.Add("a", "192.0.2.1:5060", &sink{}))
	if _, err := s.Add("a", "192.0.2.2:5060", &sink{}); !errors.Is(err, sim.ErrAddress) {
		t.Errorf("same name: %v", err)
	}
	if _, err := s.Add("b", "192.0.2.1:5060", &sink{}); !errors.Is(err, sim.ErrAddress) {
		t.Errorf("same address: %v", err)
	}
	if _, err := s.Add("c", "nowhere", &sink{}); !errors.Is(err, sim.ErrAddress) {
		t.Errorf("bad address: %v", err)
	}
	for _, p := range []effects.Peer{
		{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP},
		{Addr: netip.MustParseAddrPort("[2001:db8::1]:5061"), Transport: effects.TLS},
	} {
		if got, err := sim.ParsePeer(p.String()); err != nil || got != p {
			t.Errorf("ParsePeer(%q) = %v, %v", p, got, err)
		}
	}
	if s.Node("a") == nil || s.Node("z") != nil || len(s.Nodes()) != 1 {
		t.Error("Node, Nodes")
	}
}

// TestSummary renders messages in short.
func TestSummary(t *testing.T) {
	for in, want := range map[string]string{
		"INVITE sip:bob@example.com SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n":     "INVITE sip:bob@example.com",
		"SIP/2.0 180 Ringing\r\nVia: x\r\ncseq:  2   INVITE\r\n\r\n":       "180 INVITE",
		"SIP/2.0 200 OK\r\nCSeq: 1 BYE\r\n\r\nv=0\r\nCSeq: 9 REGISTER\r\n": "200 BYE",
		"\r\n\r\n": "ping",
		"\r\n":     "pong",
	} {
		if got := sim.Summary([]byte(in)); got != want {
			t.Errorf("Summary(%q) = %q, want %q", in, got, want)
		}
	}
}
