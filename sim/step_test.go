package sim_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
)

// TestChoices: Queue lists the events in the order Run handles them, and
// the choices of a test change it as documented: RunEvent delivers a
// datagram now (the clock unchanged), fires a timer at its time (never
// early, never before an earlier one of its node) and refuses stream data
// that would overtake earlier data; Drop, Duplicate and Delay change a
// datagram's fate; choices on what is not a datagram in flight fail with
// ErrChoice. The same choices give the same run.
func TestChoices(t *testing.T) {
	run := func() (*sim.Sim, *sink) {
		s := sim.New(1)
		a := sim.Must(s.Add("a", "192.0.2.1:5060", coreFunc(func(in effects.Input, out []effects.Effect) []effects.Effect { return out })))
		k := &sink{}
		b := sim.Must(s.Add("b", "192.0.2.2:5060", k))
		s.SetLink(a, b, sim.Link{Delay: 100 * time.Millisecond})
		for _, d := range []string{"one", "two", "three", "four"} {
			if err := a.Do(sendTo(b, effects.UDP, d)); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{"tcp1", "tcp2"} {
			if err := a.Do(sendTo(b, effects.TCP, d)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			out = append(out, effects.Effect{Kind: effects.SetTimer, Timer: 1, After: time.Second})
			return append(out, effects.Effect{Kind: effects.SetTimer, Timer: 2, After: 2 * time.Second}), nil
		}); err != nil {
			t.Fatal(err)
		}
		q := s.Queue()
		if len(q) != 8 || !q[0].Datagram() || string(q[0].Data) != "one" || q[4].Datagram() || q[4].Conn == 0 || q[6].Kind != sim.QueuedTimer || q[6].Timer != 1 {
			t.Fatalf("queue: %+v", q)
		}
		// "three" arrives now, first; "one" is lost; "two" arrives twice;
		// "four" a second late.
		if err := s.RunEvent(q[2]); err != nil || s.Now() != 0 {
			t.Fatalf("RunEvent: %v at %v", err, s.Now())
		}
		if err := s.Drop(q[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.Duplicate(q[1], 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := s.Delay(q[3], time.Second); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			err  error
			what string
		}{
			{s.Drop(q[0]), "a datagram dropped twice"},
			{s.Drop(q[4]), "stream data dropped"},
			{s.Delay(q[6], time.Second), "a timer delayed"},
			{s.RunEvent(q[5]), "stream data overtaking"},
			{s.RunEvent(q[7]), "a timer before an earlier one"},
		} {
			if !errors.Is(bad.err, sim.ErrChoice) {
				t.Errorf("%s: %v", bad.what, bad.err)
			}
		}
		// Timer 1 fires at its time; the events due before it are late.
		if err := s.RunEvent(q[6]); err != nil || s.Now() != effects.Time(time.Second) {
			t.Fatalf("timer: %v at %v", err, s.Now())
		}
		if err := s.RunUntilQuiet(time.Minute); err != nil {
			t.Fatal(err)
		}
		return s, k
	}
	s, k := run()
	want := []string{"three", "two", "two", "tcp1", "tcp2", "four"}
	if got := k.received(); !slices.Equal(got, want) {
		t.Errorf("received %q, want %q\n%s", got, want, s.Trace())
	}
	if s2, _ := run(); s2.Digest() != s.Digest() {
		t.Errorf("the same choices ran two ways")
	}
}

// TestHealBreak: Heal ends a partition at once (and one set to start
// later), Break breaks a connection by its id.
func TestHealBreak(t *testing.T) {
	s := sim.New(1)
	a := sim.Must(s.Add("a", "192.0.2.1:5060", &sink{}))
	k := &sink{}
	b := sim.Must(s.Add("b", "192.0.2.2:5060", k))
	s.Partition([]*sim.Node{a}, []*sim.Node{b}, 0, 0)
	s.Partition([]*sim.Node{a}, []*sim.Node{b}, effects.Time(time.Hour), 0)
	_ = a.Do(sendTo(b, effects.UDP, "lost"))
	s.Heal()
	_ = a.Do(sendTo(b, effects.UDP, "passes"))
	_ = a.Do(sendTo(b, effects.TCP, "tcp"))
	conns := s.Conns()
	if len(conns) != 1 {
		t.Fatalf("connections %v", conns)
	}
	if err := s.Break(conns[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Break(conns[0]); !errors.Is(err, sim.ErrNoConn) {
		t.Errorf("broken twice: %v", err)
	}
	if err := s.RunFor(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := k.received(); !slices.Equal(got, []string{"passes"}) {
		t.Errorf("received %q\n%s", got, s.Trace())
	}
	if !slices.ContainsFunc(k.ins, func(in effects.Input) bool { return in.Kind == effects.ConnClosed && in.Conn == conns[0] }) {
		t.Errorf("no ConnClosed: %+v", k.ins)
	}
}
