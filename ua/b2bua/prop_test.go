package b2bua_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
)

// violation is what catcher panics with.
type violation string

// catcher is a tester that panics, so that a property or the fuzz target
// can turn a failure into its own report.
type catcher struct{}

func (catcher) Helper()                           {}
func (catcher) Fatalf(format string, args ...any) { panic(violation(fmt.Sprintf(format, args...))) }
func (catcher) Errorf(format string, args ...any) { panic(violation(fmt.Sprintf(format, args...))) }

// scenario is a random bridged call: how the callee behaves, how many
// messages are lost, and what the applications do, when.
type scenario struct {
	Loss     int // percent of messages lost
	Seed     uint32
	Callee   int // 0 ring then answer, 1 answer at once, 2 reject, 3 ring forever, 4 early media then answer, 5 decline re-INVITEs
	Late     bool
	Reliable bool
	OneUA    bool
	Steps    []int // each: delay, who, what (see act)
}

// act decodes one step: after up to 3 s, alice or bob hangs up, holds,
// resumes, holds by UPDATE, sends INFO or MESSAGE, or offers again.
func (w *world) act(v int) {
	who := w.alice
	if v>>12&1 == 1 {
		who = w.bob
	}
	w.n.after(time.Duration(v%3000)*time.Millisecond, func() {
		who.try(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
			u, id := who.ua, who.call
			switch v >> 13 % 7 {
			case 0:
				return u.Hangup(now, id, o)
			case 1:
				return u.Hold(now, id, ua.UpdateOptions{}, o)
			case 2:
				return u.Resume(now, id, ua.UpdateOptions{}, o)
			case 3:
				return u.Hold(now, id, ua.UpdateOptions{UseUpdate: true}, o)
			case 4:
				_, o, err := u.CallRequest(now, id, "INFO", "application/dtmf-relay", []byte("Signal=5\r\n"), o)
				return o, err
			case 5:
				_, o, err := u.CallRequest(now, id, "MESSAGE", "text/plain", []byte("hi"), o)
				return o, err
			}
			return u.Update(now, id, []byte(sdpOffer), ua.UpdateOptions{}, o)
		})
	})
}

// runScenario plays sc and returns what went wrong, or "".
func runScenario(t tester, sc scenario) string {
	w := newWorld(t, worldOptions{oneUA: sc.OneUA, reliable: sc.Reliable})
	rnd := uint64(sc.Seed)*2862933555777941757 + 3037000493
	w.n.drop = func(wireEntry) bool {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		return int(rnd>>33%100) < sc.Loss
	}
	w.alice.on = answerer{accept: recvonly}.on
	a := answerer{after: 2 * time.Second, answer: sdpAnswer, accept: recvonly, ringCode: 180}
	switch sc.Callee {
	case 1:
		a.ringCode, a.after = 0, 0
	case 2:
		a.after = -1
		a.ringCode = 0
	case 3:
		a.after = -1
	case 4:
		a.ringCode, a.ringBody = 183, sdpAnswer
	case 5:
		a.decline = 488
	}
	w.bob.on = a.on
	if sc.Callee == 2 {
		w.bob.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.CallIncoming {
				nd.try(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Reject(now, ev.ID, 486, o)
				})
			}
		}
	}
	offer := sdpOffer
	if sc.Late {
		offer = ""
		w.alice.on = answerer{accept: recvonly}.on
	}
	w.call(offer)
	for _, v := range sc.Steps {
		w.act(v)
	}
	w.n.run(20 * time.Second)
	// One end hangs up, if its call is still up: the other end's call must
	// then end through the B2BUA, or it is left over.
	nd := w.alice
	if sc.Seed&1 == 1 {
		nd = w.bob
	}
	nd.try(func(now effects.Time, o []effects.Effect) ([]effects.Effect, error) {
		return nd.ua.Hangup(now, nd.call, o)
	})
	w.n.quiesce()
	endedOnce(t, w.alice, w.in, w.out, w.bob)
	return bridgesBalanced(w)
}

// bridgesBalanced checks that every call the B2BUA took made one bridge
// that ended once, and that a leg never outlived its peer leg: the last
// end event of every bridge's legs came before its BridgeEnded.
func bridgesBalanced(w *world) string {
	incoming, ended := 0, 0
	for _, ev := range w.in.events {
		if ev.Kind == effects.CallIncoming {
			incoming++
		}
	}
	for _, ev := range w.n.bridge {
		if ev.Kind == effects.BridgeEnded {
			ended++
		}
	}
	if incoming != ended {
		return fmt.Sprintf("%d calls came in, %d bridges ended: %v\n%s", incoming, ended, kinds(w.n.bridge), strings.Join(w.n.wireLog(), "\n"))
	}
	return ""
}

// check runs f and turns a catcher's panic into a failed result.
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

// TestPropBridges plays random bridged calls (RFC 3261 §6 and RFC 7092's
// signalling B2BUA): random callee behaviour (answer, reject, never
// answer, early media, refused re-INVITEs), late or early offer, reliable
// provisional responses or not, one UA or two for the B2BUA, random loss,
// and random application actions at random times on both ends (hang-up,
// hold and resume by re-INVITE or UPDATE, new offers, INFO, MESSAGE). It
// checks that each leg ends exactly once, that the end of one leg ends
// the other (every bridge ends), and that nothing is left in any UA (calls,
// dialogs, timers, transactions, requests) or in the B2BUA (bridges,
// relays) once every timer has fired.
func TestPropBridges(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 500
	if testing.Short() {
		p.MinSuccessfulTests = 60
	}
	props := gopter.NewProperties(p)
	g := gen.Struct(reflect.TypeOf(scenario{}), map[string]gopter.Gen{
		"Loss":     gen.OneGenOf(gen.Const(0), gen.IntRange(0, 25)),
		"Seed":     gen.UInt32(),
		"Callee":   gen.IntRange(0, 5),
		"Late":     gen.Bool(),
		"Reliable": gen.Bool(),
		"OneUA":    gen.Bool(),
		"Steps":    gen.SliceOfN(6, gen.IntRange(0, 1<<16-1)),
	})
	props.Property("legs end together, once, and leave nothing", prop.ForAll(func(sc scenario) *gopter.PropResult {
		return check(func() string { return runScenario(catcher{}, sc) })
	}, g))
	props.TestingRun(t)
}

// FuzzB2BUA plays a scenario the fuzzer writes: its first bytes choose
// loss, seed, callee behaviour and options, the rest the steps.
func FuzzB2BUA(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0x10, 0x00, 0x20, 0x00})
	f.Add([]byte{10, 7, 3, 1, 0x00, 0x05, 0x60, 0x01})
	f.Add([]byte{0, 2, 4, 6, 0x30, 0x00, 0x48, 0x00, 0x99, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 || len(data) > 64 {
			return
		}
		sc := scenario{Loss: int(data[0] % 30), Seed: uint32(data[1]), Callee: int(data[2] % 6),
			Late: data[3]&1 != 0, Reliable: data[3]&2 != 0, OneUA: data[3]&4 != 0}
		for i := 4; i+1 < len(data); i += 2 {
			sc.Steps = append(sc.Steps, int(data[i])<<8|int(data[i+1]))
		}
		if res := check(func() string { return runScenario(catcher{}, sc) }); res.Status != gopter.PropTrue {
			t.Fatalf("%+v: %v", sc, res.Labels)
		}
	})
}
