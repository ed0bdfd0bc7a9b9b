package sim_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestSubscribe: Alice watches Bob's presence (RFC 6665): she SUBSCRIBEs
// for 120 s, Bob accepts (200, then the NOTIFY of the subscription's state
// at once, §4.2.1.2), then notifies 4 to 8 state changes over the next
// 400 s, each a NOTIFY with the whole state (a PIDF body numbered in order);
// Alice refreshes the subscription before it expires (§4.1.2.2), Bob
// answering each refresh with 200 and a NOTIFY. At 420 s to 480 s the
// subscription ends: Alice unsubscribes (Expires: 0, §4.1.2.3), or Bob
// terminates it (Subscription-State: terminated;reason=deactivated,
// §4.2.2), as the seed decides. The network loses up to 30% of the
// datagrams, duplicates and reorders them; for a third of the seeds it is
// also cut between Alice and Bob for 20 s to 100 s, so that NOTIFYs and
// refreshes time out. Whatever the network did:
//
//	| rule                                                          | RFC                         |
//	|---------------------------------------------------------------|-----------------------------|
//	| each side's subscription begins once (a retransmitted or        | RFC 3261 §17.2.2            |
//	| duplicated SUBSCRIBE is not a new one) and ends once            | §4.1.2.4, §4.2.2            |
//	| Alice hears SubscriptionActive once, before any NOTIFY's body   | §4.1.3                      |
//	| the NOTIFYs Alice hears have strictly increasing CSeqs, each    | RFC 3261 §12.2.2, §17.2.2;  |
//	| one Bob sent, with its body: states in order, no NOTIFY twice   | §4.1.3                      |
//	| every NOTIFY that reaches Alice while her subscription lasts    | §4.1.3; RFC 3261 §12.2.2    |
//	| is answered 200 and heard, or 500 when a later one was (out of  |                             |
//	| order); 481 only once it ended                                  |                             |
//	| each refresh goes before the expiry last granted (the 2xx's     | §4.1.2.2, §4.1.3            |
//	| Expires, a NOTIFY's expires), min(half of it, 64·T1) ahead      |                             |
//	| Alice's end says why: the terminated NOTIFY she heard (its      | §4.1.3, §4.1.2.3, §4.1.2.2, |
//	| reason, or unsubscribed), her unsubscribe (the final NOTIFY     | §4.1.2.4 (Timer N)          |
//	| lost: Timer N after its 2xx), a refresh refused with a code     |                             |
//	| that ends it (404, 405, 410, 416, 480-485, 489, 501, 604), the  |                             |
//	| expiry last known (a refresh that timed out or got another      |                             |
//	| code leaves the subscription valid until then); Bob's: her      | §4.2.2                      |
//	| unsubscribe, his own termination, the expiry, a NOTIFY refused  |                             |
//	| or unanswered                                                   |                             |
//	| without a partition, the subscription lasts until the planned   |                             |
//	| end on both sides unless a transaction timed out, and then ends |                             |
//	| as planned                                                      |                             |
//
// and afterwards neither holds a subscription, dialog, transaction or
// timer.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, subscribeScenario(tl))
}

// presencePkg is the event package Bob serves.
var presencePkg = ua.EventPackage{Name: "presence", Expires: time.Hour, ContentType: "application/pidf+xml"}

// pidfState is the presence document of state k.
func pidfState(k int) []byte {
	return fmt.Appendf(nil, "<presence entity=\"sip:bob@example.com\"><tuple id=\"t\"><status><basic>open</basic></status><note>state %d</note></tuple></presence>", k)
}

// subWorld is TestSubscribe's network and plan.
type subWorld struct {
	s           *sim.Sim
	w           *wire
	alice, bob  *sim.UANode
	sub         uint64 // Alice's subscription
	bobSub      uint64 // Bob's, once the SUBSCRIBE came
	unsubscribe bool   // the plan: Alice unsubscribes (else Bob terminates)
	endAt       effects.Time
	partition   bool
	unsubAt     effects.Time // when Alice unsubscribed (0: never)
	terminateAt effects.Time // when Bob terminated (0: never)
	expiry      effects.Time // the expiry last granted to Alice
	bad         error
}

func (x *subWorld) fail(err error) {
	if x.bad == nil {
		x.bad = fmt.Errorf("at %v: %w", time.Duration(x.s.Now()), err)
	}
}

// subscribeScenario is TestSubscribe's scenario.
func subscribeScenario(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		x := &subWorld{s: s, w: watch(s)}
		x.alice = sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
		x.bob = sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{Events: []ua.EventPackage{presencePkg}}))
		s.SetDefaultLink(lossy(s))
		r := s.Rand()
		if r.IntN(3) == 0 {
			x.partition = true
			from := effects.Time(time.Duration(30+r.IntN(350)) * time.Second)
			s.Partition([]*sim.Node{x.alice.Node}, []*sim.Node{x.bob.Node}, from, from+effects.Time(time.Duration(20+r.IntN(81))*time.Second))
		}
		x.unsubscribe = r.IntN(2) == 0
		x.endAt = effects.Time(time.Duration(420+r.IntN(61)) * time.Second)
		// Bob's application: accept, then the state changes.
		changes := 4 + r.IntN(5)
		var times []time.Duration
		for range changes {
			times = append(times, time.Duration(1000+r.IntN(399000))*time.Millisecond)
		}
		slices.Sort(times)
		accept := time.Duration(r.IntN(500)) * time.Millisecond
		x.bob.On(func(ev effects.Event) {
			if ev.Kind != effects.SubscribeIncoming {
				return
			}
			if x.bobSub != 0 {
				x.fail(fmt.Errorf("a second SubscribeIncoming at Bob"))
				return
			}
			x.bobSub = ev.ID
			s.After(accept, func() {
				_ = x.bob.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return x.bob.UA.AcceptSubscription(now, x.bobSub, 0, out)
				})
			})
			for k, at := range times {
				s.At(effects.Time(at), func() {
					// Fails once the subscription ended at Bob's: nothing to notify.
					_ = x.bob.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return x.bob.UA.Notify(now, x.bobSub, header.SubscriptionState{State: "active"}, pidfState(k+1), out)
					})
				})
			}
		})
		s.At(x.endAt, func() {
			if x.unsubscribe {
				x.unsubAt = s.Now()
				_ = x.alice.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return x.alice.UA.Unsubscribe(now, x.sub, out)
				})
				return
			}
			if x.bobSub == 0 {
				return
			}
			x.terminateAt = s.Now()
			st := header.SubscriptionState{State: "terminated", Params: header.Params(";reason=deactivated")}
			_ = x.bob.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return x.bob.UA.Notify(now, x.bobSub, st, nil, out)
			})
		})
		err := x.alice.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			var err error
			x.sub, out, err = x.alice.UA.Subscribe(now, mustURI("sip:bob@192.0.2.2"), ua.SubscribeOptions{
				Event: "presence", Expires: 120 * time.Second, Accept: []string{"application/pidf+xml"}, Dest: x.bob.Peer()}, out)
			return out, err
		})
		if err != nil {
			return s, err
		}
		if err := s.RunUntilQuiet(time.Hour); err != nil {
			return s, err
		}
		if x.bad != nil {
			return s, x.bad
		}
		if err := x.verify(tl); err != nil {
			return s, err
		}
		return s, s.CheckQuiet()
	}
}

// subEvents returns a node's subscription events (SubscribeIncoming to
// SubscriptionRefreshed) with their times.
func subEvents(n *sim.Node) []sim.Event {
	var out []sim.Event
	for _, e := range n.Events() {
		if e.Kind >= effects.SubscribeIncoming && e.Kind <= effects.SubscriptionRefreshed {
			out = append(out, e)
		}
	}
	return out
}

// notifyState returns a NOTIFY's Subscription-State.
func notifyState(m *message.Message) header.SubscriptionState {
	st, _, _ := message.First[header.SubscriptionState](m)
	return st
}

// verify checks the rules of TestSubscribe once all is quiet.
func (x *subWorld) verify(tl tally) error {
	w, alice, bob := x.w, x.alice.Node, x.bob.Node
	// Alice: one subscription, ending once, last; active once, first.
	var aEnd *sim.Event
	actives := 0
	var heard []sim.Event
	for _, e := range subEvents(alice) {
		if e.ID != x.sub {
			return fmt.Errorf("Alice has an event of another subscription: %v", e.Kind)
		}
		if aEnd != nil {
			return fmt.Errorf("Alice heard %v after her subscription ended", e.Kind)
		}
		switch e.Kind {
		case effects.SubscriptionActive:
			actives++
			if actives > 1 || len(heard) > 0 {
				return errors.New("Alice heard SubscriptionActive twice, or after a NOTIFY")
			}
		case effects.NotifyReceived:
			if actives == 0 {
				return errors.New("Alice heard a NOTIFY before SubscriptionActive")
			}
			heard = append(heard, e)
		case effects.SubscriptionEnded:
			aEnd = &e
		case effects.SubscriptionPending:
			return errors.New("Alice's subscription went pending")
		}
	}
	if aEnd == nil {
		return errors.New("Alice's subscription never ended")
	}
	// What Bob sent, by CSeq.
	sent := map[uint32]*message.Message{}
	for _, r := range w.allFrom(bob, alice, "NOTIFY") {
		m := parse(r)
		sent[m.CSeq().Seq] = m
	}
	// The NOTIFYs Alice heard: in CSeq order, each as Bob sent it.
	var last uint32
	heardSeq := map[uint32]bool{}
	for _, e := range heard {
		seq := e.Msg.CSeq().Seq
		if seq <= last {
			return fmt.Errorf("Alice heard NOTIFY CSeq %d after %d", seq, last)
		}
		last, heardSeq[seq] = seq, true
		m := sent[seq]
		if m == nil || m.Body() != e.Msg.Body() {
			return fmt.Errorf("Alice heard a NOTIFY CSeq %d that Bob did not send so", seq)
		}
	}
	// Every NOTIFY reaching her while her subscription lasts is heard, or
	// refused as out of order.
	answered := map[uint32]string{}
	for _, r := range w.allFrom(alice, bob, "") {
		if m := parse(r); m.IsResponse() && m.CSeq().Method == "NOTIFY" {
			if _, ok := answered[m.CSeq().Seq]; !ok {
				answered[m.CSeq().Seq] = strconv.Itoa(m.StatusCode())
			}
		}
	}
	var highest uint32
	arrived := map[uint32]bool{}
	for _, r := range w.find(sim.OpRecv, alice, bob, "NOTIFY") {
		seq := parse(r).CSeq().Seq
		if arrived[seq] {
			continue // a retransmission or a copy: the transaction answers it
		}
		arrived[seq] = true
		code := answered[seq]
		live := r.At < aEnd.At || r.At == aEnd.At && code != "481"
		switch {
		case !live && code != "481":
			return fmt.Errorf("NOTIFY CSeq %d came after Alice's subscription ended, answered %s", seq, code)
		case live && code == "200" && !heardSeq[seq]:
			return fmt.Errorf("NOTIFY CSeq %d answered 200, but Alice did not hear it", seq)
		case live && code == "500" && seq >= highest:
			return fmt.Errorf("NOTIFY CSeq %d refused as out of order, though the highest before was %d", seq, highest)
		case live && code != "200" && code != "500":
			return fmt.Errorf("NOTIFY CSeq %d answered %s while Alice's subscription lasted", seq, code)
		}
		highest = max(highest, seq)
	}
	if err := x.refreshes(aEnd.At, answered); err != nil {
		return err
	}
	// Bob: one subscription if the SUBSCRIBE came, ending once.
	var bEnd *sim.Event
	for _, e := range subEvents(bob) {
		switch e.Kind {
		case effects.SubscribeIncoming:
		case effects.SubscriptionRefreshed:
			if bEnd != nil {
				return errors.New("Bob's subscription refreshed after its end")
			}
		case effects.SubscriptionEnded:
			if bEnd != nil {
				return errors.New("Bob's subscription ended twice")
			}
			bEnd = &e
		default:
			return fmt.Errorf("Bob heard %v", e.Kind)
		}
	}
	if x.bobSub != 0 && bEnd == nil {
		return errors.New("Bob's subscription never ended")
	}
	outcome, err := x.aliceEnd(*aEnd, bEnd)
	if err != nil {
		return err
	}
	if bEnd != nil {
		if err := x.bobEnd(*bEnd); err != nil {
			return err
		}
	}
	// Without a partition, only a transaction that timed out keeps the
	// subscription from lasting until the planned end.
	if !x.partition && !strings.HasPrefix(outcome, "as planned") {
		timedOut := aEnd.Code == 408 || bEnd != nil && bEnd.Code == 408
		if !timedOut && !errors.Is(aEnd.Err, ua.ErrSubTimeout) && !errors.Is(aEnd.Err, ua.ErrNoNotify) {
			return fmt.Errorf("no partition, nothing timed out, and the subscription ended so: %s", outcome)
		}
	}
	tl.add(outcome)
	return stopAtOutcome(outcome)
}

// refreshes checks that Alice sent each refresh before the expiry last
// known to her (the last 2xx's Expires, or a later NOTIFY's expires,
// §4.1.3), min(half the interval granted, 64·T1) ahead: a NOTIFY's
// expires, the time left, moves the end, not the margin (see
// TestSubscribe).
func (x *subWorld) refreshes(end effects.Time, answered map[uint32]string) error {
	type grant struct {
		at                effects.Time
		expires, interval time.Duration
	}
	due := func(g grant) effects.Time {
		return max(g.at, g.at.Add(g.expires-min(g.interval/2, T1x4)))
	}
	var grants []grant
	var interval time.Duration // the last 2xx's Expires
	first := map[string]bool{}
	for _, r := range x.w.find(sim.OpRecv, x.alice.Node, x.bob.Node, "") {
		m := parse(r)
		key := fmt.Sprint(m.IsRequest(), m.CSeq().Seq, m.CSeq().Method)
		if first[key] || x.unsubAt != 0 && r.At >= x.unsubAt {
			continue // a retransmission, or after the unsubscribe
		}
		first[key] = true
		switch {
		case m.IsResponse() && m.CSeq().Method == "SUBSCRIBE" && m.StatusCode() < 300 && m.StatusCode() >= 200:
			if e, ok, _ := message.First[header.Expires](m); ok && e > 0 {
				interval = time.Duration(e) * time.Second
				grants = append(grants, grant{r.At, interval, interval})
			}
		case m.IsRequest() && m.Method() == "NOTIFY" && answered[m.CSeq().Seq] == "200":
			if e, ok := notifyState(m).Expires(); ok {
				d := time.Duration(e) * time.Second
				grants = append(grants, grant{r.At, d, cmp.Or(interval, d)})
			}
		}
	}
	if n := len(grants); n > 0 {
		x.expiry = grants[n-1].at.Add(grants[n-1].expires)
	}
	// The refreshes: SUBSCRIBEs in the dialog with Expires above 0, the
	// first of each transaction.
	seen := map[uint32]bool{}
	for _, r := range x.w.allFrom(x.alice.Node, x.bob.Node, "SUBSCRIBE") {
		m := parse(r)
		if e, _, _ := message.First[header.Expires](m); m.ToTag() == "" || e == 0 || seen[m.CSeq().Seq] {
			continue
		}
		seen[m.CSeq().Seq] = true
		var g *grant
		for i := range grants {
			if grants[i].at <= r.At {
				g = &grants[i]
			}
		}
		if g == nil {
			return fmt.Errorf("refresh at %v before any grant", time.Duration(r.At))
		}
		if due := due(*g); r.At > due {
			return fmt.Errorf("refresh at %v, due at %v (%v left at %v, of %v granted)", time.Duration(r.At), time.Duration(due), g.expires, time.Duration(g.at), g.interval)
		}
	}
	// And no expiry passed without a refresh going (unless it ended): one
	// sent since the grant, or still in progress (within 64·T1).
	for i, g := range grants {
		due := due(g)
		if i+1 < len(grants) && grants[i+1].at <= due || due >= end {
			continue
		}
		refreshed := false
		for _, r := range x.w.allFrom(x.alice.Node, x.bob.Node, "SUBSCRIBE") {
			if r.At <= due && (r.At >= g.at || r.At > due.Add(-T1x4)) {
				refreshed = true
				break
			}
		}
		if !refreshed {
			return fmt.Errorf("no refresh went between the grant of %v at %v and %v", g.expires, time.Duration(g.at), time.Duration(due))
		}
	}
	return nil
}

// aliceEnd checks why Alice's subscription ended, and names the outcome.
func (x *subWorld) aliceEnd(e sim.Event, bEnd *sim.Event) (string, error) {
	unsubscribed := x.unsubAt != 0 && e.At >= x.unsubAt
	switch {
	case e.Msg != nil && e.Msg.IsRequest() && e.Msg.Method() == "NOTIFY":
		st := notifyState(e.Msg)
		if !st.Is(header.SubStateTerminated) {
			return "", fmt.Errorf("Alice's subscription ended on a NOTIFY %s", st.State)
		}
		want := ua.ErrSubTerminated
		switch {
		case unsubscribed:
			want = ua.ErrUnsubscribed
		case st.Reason() == "deactivated":
			want = ua.ErrDeactivated
		case st.Reason() == "timeout":
			want = ua.ErrSubTimeout
		}
		if !errors.Is(e.Err, want) {
			return "", fmt.Errorf("Alice's subscription ended by a NOTIFY %s;reason=%s with %v", st.State, st.Reason(), e.Err)
		}
		switch {
		case unsubscribed:
			return "as planned: unsubscribed, the final NOTIFY came", nil
		case x.terminateAt != 0 && st.Reason() == "deactivated":
			return "as planned: deactivated by the notifier", nil
		}
		return "ended by the notifier: " + st.Reason(), nil
	case errors.Is(e.Err, ua.ErrUnsubscribed):
		if !unsubscribed {
			return "", fmt.Errorf("Alice's subscription ended unsubscribed, though she did not: %v", e.Err)
		}
		return "as planned: unsubscribed, the final NOTIFY lost", nil
	case errors.Is(e.Err, ua.ErrSubscribeFailed):
		if e.Code != 408 || len(x.w.find(sim.OpRecv, x.alice.Node, x.bob.Node, "NOTIFY")) > 0 {
			return "", fmt.Errorf("Alice's SUBSCRIBE failed with %d: %v", e.Code, e.Err)
		}
		return "SUBSCRIBE timed out", nil
	case errors.Is(e.Err, ua.ErrNoNotify):
		if e.Code != 408 {
			return "", fmt.Errorf("Alice's subscription ended so: %d %v", e.Code, e.Err)
		}
		return "no NOTIFY within Timer N", nil
	case errors.Is(e.Err, ua.ErrDialogGone):
		// A refresh refused with one of the codes that end a subscription
		// (§4.1.2.2: 404, 405, 410, 416, 480 to 485, 489, 501, 604; here
		// 481, Bob no longer had it). Any other failure, a timeout among
		// them, leaves it valid until the expiry last known.
		if !refreshEnds(e.Code) {
			return "", fmt.Errorf("Alice's subscription ended when a refresh failed with %d (RFC 6665 §4.1.2.2: it lasts until it expires)", e.Code)
		}
		if e.Code == 481 && bEnd != nil && bEnd.At < e.At && x.terminateAt != 0 && bEnd.At == x.terminateAt {
			// Her refresh crossed Bob's final NOTIFY (§4.1.2.2).
			return "as planned: deactivated, a refresh crossing it got 481", nil
		}
		return fmt.Sprintf("refresh failed (%d)", e.Code), nil
	case errors.Is(e.Err, ua.ErrSubTimeout):
		// At the expiry last known: the 2xx's Expires or a NOTIFY's.
		if x.expiry == 0 || e.At != x.expiry {
			return "", fmt.Errorf("Alice's subscription expired at %v; the expiry last known was %v", time.Duration(e.At), time.Duration(x.expiry))
		}
		return "expired", nil
	}
	return "", fmt.Errorf("Alice's subscription ended so: %d %v", e.Code, e.Err)
}

// bobEnd checks why Bob's subscription ended.
func (x *subWorld) bobEnd(e sim.Event) error {
	switch {
	case errors.Is(e.Err, ua.ErrUnsubscribed):
		// Alice's SUBSCRIBE with Expires: 0 reached him.
		for _, r := range x.w.find(sim.OpRecv, x.bob.Node, x.alice.Node, "SUBSCRIBE") {
			if ex, _, _ := message.First[header.Expires](parse(r)); ex == 0 && r.At <= e.At {
				return nil
			}
		}
		return errors.New("Bob's subscription ended unsubscribed, without an unsubscribe")
	case errors.Is(e.Err, ua.ErrDeactivated):
		if x.terminateAt == 0 || e.At != x.terminateAt {
			return errors.New("Bob's subscription deactivated, though he did not end it")
		}
	case errors.Is(e.Err, ua.ErrSubTimeout), errors.Is(e.Err, ua.ErrTimeout):
	case errors.Is(e.Err, ua.ErrDialogGone):
		if e.Code != 481 {
			return fmt.Errorf("a NOTIFY of Bob's refused with %d", e.Code)
		}
	default:
		return fmt.Errorf("Bob's subscription ended so: %d %v", e.Code, e.Err)
	}
	return nil
}

// refreshEnds reports whether a refresh refused with code ends the
// subscription (RFC 6665 §4.1.2.2).
func refreshEnds(code int) bool {
	switch code {
	case 404, 405, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604:
		return true
	}
	return false
}
