package ua

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
)

// violation is what a property's tester panics with.
type violation string

type catcher struct{}

func (catcher) Helper()                           {}
func (catcher) Fatalf(format string, args ...any) { panic(violation(fmt.Sprintf(format, args...))) }
func (catcher) Fatal(args ...any)                 { panic(violation(fmt.Sprint(args...))) }
func (catcher) Errorf(format string, args ...any) { panic(violation(fmt.Sprintf(format, args...))) }

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

// step is one thing an application does at some time.
type step struct {
	After int // ms after the previous step
	Who   int // 0: Alice, 1: Bob
	What  int
	Arg   int
}

type callScenario struct {
	Reliable bool
	Timers   bool
	Loss     int // percent of messages lost
	Seed     uint32
	Bob      int // how Bob answers: ring then answer, answer at once, reject, never
	Steps    []step
}

// TestPropCalls runs random calls between two UA cores through a
// record-routing proxy, with random application actions (calls, hang-ups,
// re-INVITEs, UPDATEs, hold, accept or decline, address changes) and random
// loss, and checks:
//   - in each dialog, the CSeq of each side's requests strictly increases
//     (ACK and CANCEL repeat their request's);
//   - a confirmed dialog's route set never changes: every request a UA sends
//     in it carries the same Route;
//   - the remote target (the Request-URI of in-dialog requests) changes
//     only after the peer sent a new Contact in a target refresh;
//   - once everything is hung up and every timer has fired, no call, dialog,
//     timer or transaction is left in any node.
func TestPropCalls(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 300
	if testing.Short() {
		p.MinSuccessfulTests = 50
	}
	if s := os.Getenv("SANSIP_PROP_ITERS"); s != "" {
		p.MinSuccessfulTests, _ = strconv.Atoi(s)
	}
	seed := int64(20261123)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d (replay: SANSIP_PROP_SEED=%d go test -run TestPropCalls ./ua/)", seed, seed)
	props := gopter.NewProperties(p)
	props.Property("calls", prop.ForAll(func(sc callScenario) *gopter.PropResult {
		return check(func() string { return runScenario(sc) })
	}, gen.Struct(reflect.TypeOf(callScenario{}), map[string]gopter.Gen{
		"Reliable": gen.Bool(),
		"Timers":   gen.Bool(),
		"Loss":     gen.IntRange(0, 20),
		"Seed":     gen.UInt32(),
		"Bob":      gen.IntRange(0, 3),
		"Steps": gen.SliceOfN(12, gen.Struct(reflect.TypeOf(step{}), map[string]gopter.Gen{
			"After": gen.IntRange(0, 3000), "Who": gen.IntRange(0, 1), "What": gen.IntRange(0, 6), "Arg": gen.IntRange(0, 1000),
		})),
	})))
	props.TestingRun(t)
	t.Logf("%d messages on the wire", totalWire)
}

func runScenario(sc callScenario) string {
	n := newNetwork(catcher{})
	cfg := Config{Reliable: sc.Reliable}
	if sc.Timers {
		cfg.SessionExpires, cfg.MinSE = 90*time.Second, 90*time.Second
	}
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, cfg, uint64(sc.Seed))
	b := n.add("bob", "192.0.2.2:5060", effects.UDP, cfg, uint64(sc.Seed)+1)
	p := n.addProxy("proxy", "192.0.2.100:5060", []*node{b}, true)
	rng := sc.Seed | 1
	n.drop = func(w wireEntry) bool {
		rng = rng*1103515245 + 12345
		return int(rng>>16)%100 < sc.Loss
	}
	version := 2890844527
	offer := func() []byte {
		version++
		return []byte(strings.Replace(sdpOffer, "2890844526 IN", strconv.Itoa(version)+" IN", 1))
	}
	b.on = func(nd *node, ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			switch sc.Bob {
			case 0:
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Ring(now, ev.ID, RingOptions{Code: 183, Body: []byte(sdpAnswer)}, out)
				})
				n.after(time.Second, func() {
					if nd.ua.calls[ev.ID] != nil {
						out, _ := nd.ua.Answer(n.now, ev.ID, []byte(sdpAnswer), nil)
						n.apply(nd, out)
					}
				})
			case 1:
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, []byte(sdpAnswer), out)
				})
			case 2:
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Reject(now, ev.ID, 486, out)
				})
			}
		case effects.CallReinvite:
			if sc.Seed%3 == 0 {
				out, _ := nd.ua.Decline(n.now, ev.ID, 488, nil)
				n.apply(nd, out)
			} else {
				out, _ := nd.ua.Accept(n.now, ev.ID, []byte(sdpAnswer), nil)
				n.apply(nd, out)
			}
		}
	}
	a.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallReinvite {
			out, _ := nd.ua.Accept(n.now, ev.ID, offer(), nil)
			n.apply(nd, out)
		}
	}
	moves := 0
	for _, st := range sc.Steps {
		n.run(time.Duration(n.now) + time.Duration(st.After)*time.Millisecond)
		nd := a
		if st.Who == 1 {
			nd = b
		}
		var out []effects.Effect
		switch st.What {
		case 0:
			// Below: a new call.
		case 1:
			out, _ = nd.ua.Hangup(n.now, nd.call, nil)
		case 2:
			out, _ = nd.ua.Update(n.now, nd.call, offer(), UpdateOptions{}, nil)
		case 3:
			out, _ = nd.ua.Update(n.now, nd.call, offer(), UpdateOptions{UseUpdate: true}, nil)
		case 4:
			out, _ = nd.ua.Update(n.now, nd.call, []byte(hold(string(offer()))), UpdateOptions{}, nil)
		case 5:
			moves++
			nd.ua.SetContact(mustURI(fmt.Sprintf("sip:%s@192.0.2.%d:5060", nd.name, map[*node]int{a: 1, b: 2}[nd])).WithParam("m", strconv.Itoa(moves)))
			out, _ = nd.ua.Update(n.now, nd.call, offer(), UpdateOptions{}, nil)
		case 6:
			out, _ = nd.ua.Hangup(n.now, nd.call, nil)
		}
		n.apply(nd, out)
		if a.ua.Calls() == 0 && (st.What == 0 || st.Arg%2 == 0) {
			a.callTo(b, CallOptions{Body: offer(), Dest: p.nd.addr})
		}
	}
	// Hang up whatever is left, then let every timer fire.
	n.run(time.Duration(n.now) + 40*time.Second)
	for _, nd := range []*node{a, b} {
		for id := range nd.ua.calls {
			out, _ := nd.ua.Hangup(n.now, id, nil)
			n.apply(nd, out)
		}
	}
	n.quiesce()
	if dumpWire {
		for _, w := range n.wire {
			c, _ := w.msg.Get("Contact")
			fmt.Println(w.at, w, w.msg.CSeq(), w.msg.FromTag(), w.msg.ToTag(), w.msg.Branch(), c)
		}
	}
	if msg := checkEvents(a); msg != "" {
		return msg
	}
	if msg := checkEvents(b); msg != "" {
		return msg
	}
	totalWire += len(n.wire)
	return checkWire(n)
}

// checkEvents checks the events a UA delivered for each call: every call
// ends with exactly one CallEnded or CallFailed, nothing follows it, an
// answered call (CallAnswered) ends with CallEnded, and a re-INVITE
// arrives only on a call whose session was established.
func checkEvents(nd *node) string {
	type story struct {
		ended, answered, established bool
	}
	calls := map[uint64]*story{}
	var order []uint64
	for _, ev := range nd.events {
		if ev.Kind < effects.CallIncoming {
			continue
		}
		st := calls[ev.ID]
		if st == nil {
			st = &story{}
			calls[ev.ID] = st
			order = append(order, ev.ID)
		}
		if st.ended {
			return fmt.Sprintf("%s: call %v: %v after its end", nd.name, ev.ID, ev.Kind)
		}
		switch ev.Kind {
		case effects.CallEnded, effects.CallFailed:
			if ev.Kind == effects.CallFailed && st.answered {
				return fmt.Sprintf("%s: call %v failed after it was answered", nd.name, ev.ID)
			}
			st.ended = true
		case effects.CallAnswered:
			st.answered = true
		case effects.SessionEstablished:
			st.established = true
		case effects.CallReinvite:
			if !st.established {
				return fmt.Sprintf("%s: call %v: an offer before the session was established", nd.name, ev.ID)
			}
		}
	}
	for _, id := range order {
		if !calls[id].ended {
			return fmt.Sprintf("%s: call %v never ended", nd.name, id)
		}
	}
	return ""
}

// checkWire checks the dialog invariants on the requests the UAs sent.
func checkWire(n *network) string {
	type key struct{ dialog, from string }
	lastSeq := map[key]uint32{}
	seenBranch := map[string]bool{}
	seenResp := map[string]bool{}
	routes := map[key]string{}
	uri := map[key]string{}
	contacts := map[key]string{}   // the latest Contact each side sent in an accepted target refresh, by dialog
	offered := map[string]string{} // the Contact of each target refresh request, by dialog, side and CSeq
	for _, w := range n.wire {
		m := w.msg
		if w.from == "proxy" {
			continue
		}
		tags := []string{m.FromTag(), m.ToTag()}
		slices.Sort(tags)
		dlg := m.CallID() + ";" + strings.Join(tags, ";")
		k := key{dlg, w.from}
		resp := fmt.Sprintf("%s %d %v", m.Branch(), m.StatusCode(), m.CSeq())
		if !m.IsRequest() && seenResp[resp] {
			continue // a retransmission changes nothing
		}
		seenResp[resp] = true
		refresh := m.CSeq().Method == "INVITE" || m.CSeq().Method == "UPDATE"
		peer := key{dlg, map[string]string{"alice": "bob", "bob": "alice"}[w.from]}
		switch {
		case refresh && m.IsRequest():
			// The new target counts once the request is accepted.
			if c, ok := m.Get("Contact"); ok {
				offered[fmt.Sprint(k, m.CSeq().Seq)] = c
			}
		case refresh && m.StatusCode() < 300 && m.StatusCode() > 100:
			// A target refresh of ours answered (RFC 6141 §4)...
			if c, ok := m.Get("Contact"); ok {
				contacts[k] = c
			}
			// ...or one of the peer's that we accept.
			if m.StatusCode() >= 200 {
				if c, ok := offered[fmt.Sprint(peer, m.CSeq().Seq)]; ok {
					contacts[peer] = c
				}
			}
		}
		if !m.IsRequest() {
			continue
		}
		method := m.Method()
		if seenBranch[m.Branch()] {
			// A retransmission, or the ACK of a non-2xx (the INVITE's
			// branch, sent by its transaction, outside the dialog's rules).
			continue
		}
		seenBranch[m.Branch()] = true
		if m.ToTag() == "" {
			continue
		}
		if method != "ACK" && method != "CANCEL" {
			if last, ok := lastSeq[k]; ok && m.CSeq().Seq <= last {
				return fmt.Sprintf("%v: CSeq %d after %d", w, m.CSeq().Seq, last)
			}
			lastSeq[k] = m.CSeq().Seq
		}
		r := strings.Join(m.Values("Route"), ",")
		if prev, ok := routes[k]; ok && prev != r {
			return fmt.Sprintf("%v: Route %q after %q", w, r, prev)
		}
		routes[k] = r
		ruri := m.RequestURI().String()
		if prev, ok := uri[k]; ok && prev != ruri && !strings.Contains(contacts[peer], ruri) {
			return fmt.Sprintf("%v: Request-URI %s changed from %s without a target refresh", w, ruri, prev)
		}
		uri[k] = ruri
	}
	return ""
}

var _ = message.Parse

var dumpWire = os.Getenv("SANSIP_DUMP_WIRE") != ""

// totalWire counts the messages of every scenario, to show the property
// exercises the protocol.
var totalWire int
