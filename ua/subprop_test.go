package ua

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
)

type subScenario struct {
	Loss  int // percent of messages lost
	Seed  uint32
	Bob   int // how Bob's application answers SUBSCRIBEs: accept, pend, reject
	Steps []step
}

// TestPropSubscriptions runs random subscriptions between a subscriber
// (Alice) and a notifier (Bob) with random application actions (subscribe,
// refresh, unsubscribe, new state, pending to active, termination with a
// reason) and random loss, and checks (RFC 6665, RFC 5057):
//   - in each dialog, the CSeq of each side's requests strictly increases;
//   - every subscription either side heard of ends with exactly one
//     SubscriptionEnded, and nothing about it follows;
//   - once time has run out, neither side keeps a subscription, dialog,
//     timer or transaction.
func TestPropSubscriptions(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 200
	if testing.Short() {
		p.MinSuccessfulTests = 30
	}
	if s := os.Getenv("SANSIP_PROP_ITERS"); s != "" {
		p.MinSuccessfulTests, _ = strconv.Atoi(s)
	}
	seed := int64(20261124)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d (replay: SANSIP_PROP_SEED=%d go test -run TestPropSubscriptions ./ua/)", seed, seed)
	props := gopter.NewProperties(p)
	props.Property("subscriptions", prop.ForAll(func(sc subScenario) *gopter.PropResult {
		return check(func() string { return runSubScenario(sc) })
	}, gen.Struct(reflect.TypeOf(subScenario{}), map[string]gopter.Gen{
		"Loss": gen.IntRange(0, 25),
		"Seed": gen.UInt32(),
		"Bob":  gen.IntRange(0, 5),
		"Steps": gen.SliceOfN(12, gen.Struct(reflect.TypeOf(step{}), map[string]gopter.Gen{
			"After": gen.IntRange(0, 60000), "Who": gen.IntRange(0, 1), "What": gen.IntRange(0, 6), "Arg": gen.IntRange(0, 1000),
		})),
	})))
	props.TestingRun(t)
}

func runSubScenario(sc subScenario) string {
	n := newNetwork(catcher{})
	a := n.add("alice", "192.0.2.1:5060", effects.UDP, Config{}, uint64(sc.Seed))
	b := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{Events: []EventPackage{presence}}, uint64(sc.Seed)+1)
	rng := sc.Seed | 1
	n.drop = func(w wireEntry) bool {
		rng = rng*1103515245 + 12345
		return int(rng>>16)%100 < sc.Loss
	}
	var aSubs, bSubs []uint64
	b.on = func(nd *node, ev effects.Event) {
		if ev.Kind != effects.SubscribeIncoming {
			return
		}
		bSubs = append(bSubs, ev.ID)
		var out []effects.Effect
		switch sc.Bob {
		case 0, 1, 2:
			out, _ = nd.ua.AcceptSubscription(n.now, ev.ID, 0, nil)
		case 3, 4:
			out, _ = nd.ua.PendSubscription(n.now, ev.ID, 0, nil)
		case 5:
			out, _ = nd.ua.RejectSubscription(n.now, ev.ID, 403, nil)
		}
		n.apply(nd, out)
	}
	pick := func(ids []uint64, arg int) uint64 {
		if len(ids) == 0 {
			return 0
		}
		return ids[arg%len(ids)]
	}
	for _, st := range sc.Steps {
		n.run(time.Duration(n.now) + time.Duration(st.After)*time.Millisecond)
		var out []effects.Effect
		by := b // whose command it is
		switch {
		case st.What == 0:
			id, effs, err := a.ua.Subscribe(n.now, mustURI("sip:bob@192.0.2.2"), SubscribeOptions{
				Event: "presence", Expires: time.Duration(30+st.Arg%300) * time.Second, Dest: b.addr,
			}, nil)
			if err == nil {
				aSubs = append(aSubs, id)
			}
			out, by = effs, a
		case st.What == 1 && st.Who == 0:
			out, _ = a.ua.Unsubscribe(n.now, pick(aSubs, st.Arg), nil)
			by = a
		case st.What == 2 && st.Who == 0:
			by = a
			out, _ = a.ua.Refresh(n.now, pick(aSubs, st.Arg), time.Duration(20+st.Arg%200)*time.Second, nil)
		case st.What <= 4:
			state := "active"
			if st.What == 4 && st.Arg%2 == 0 {
				state = "pending"
			}
			out, _ = b.ua.Notify(n.now, pick(bSubs, st.Arg), header.SubscriptionState{State: state}, []byte(fmt.Sprint(pidfOpen, st.Arg)), nil)
		case st.What == 5:
			reason := []string{"deactivated", "probation", "rejected", "timeout", "giveup", "noresource", "invariant"}[st.Arg%7]
			out, _ = b.ua.Notify(n.now, pick(bSubs, st.Arg), header.SubscriptionState{State: "terminated", Params: header.Params(";reason=" + reason)}, nil, nil)
		}
		n.apply(by, out)
	}
	for _, id := range aSubs {
		out, _ := a.ua.Unsubscribe(n.now, id, nil)
		n.apply(a, out)
	}
	n.quiesce()
	for _, nd := range []*node{a, b} {
		if msg := checkSubEvents(nd); msg != "" {
			return msg
		}
	}
	return checkWire(n)
}

// checkSubEvents checks that every subscription a node heard of ended
// exactly once, with nothing after.
func checkSubEvents(nd *node) string {
	ended := map[uint64]bool{}
	var seen []uint64
	for _, ev := range nd.events {
		if ev.Kind < effects.SubscribeIncoming {
			continue
		}
		if ended[ev.ID] {
			return fmt.Sprintf("%s: subscription %d: %v after its end", nd.name, ev.ID, ev.Kind)
		}
		if !slices.Contains(seen, ev.ID) {
			seen = append(seen, ev.ID)
		}
		if ev.Kind == effects.SubscriptionEnded {
			ended[ev.ID] = true
		}
	}
	for _, id := range seen {
		if !ended[id] {
			return fmt.Sprintf("%s: subscription %d never ended", nd.name, id)
		}
	}
	return ""
}
