package ua

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
)

// subCommand runs one subscription action of Alice (the subscriber, even
// ops) or Bob (the notifier, odd ops) on the n-th id either knows.
func (f *fuzzNet) subCommand(op, n byte) {
	i := int(op % 2)
	u := f.uas[i]
	var id uint64
	if ids := f.calls[i]; len(ids) > 0 {
		id = ids[int(n)%len(ids)]
	}
	var out []effects.Effect
	switch op % 10 {
	case 0:
		sid, effs, err := u.Subscribe(f.now, mustURI(fmt.Sprintf("sip:bob@%s", f.addrs[1].Addr)), SubscribeOptions{
			Event: "presence", Expires: time.Duration(10+int(n)%200) * time.Second, Dest: f.addrs[1],
		}, nil)
		if err == nil {
			f.calls[0] = append(f.calls[0], sid)
		}
		out = effs
	case 2:
		out, _ = u.Unsubscribe(f.now, id, nil)
	case 4:
		out, _ = u.Refresh(f.now, id, time.Duration(n)*time.Second, nil)
	case 1:
		out, _ = u.AcceptSubscription(f.now, id, time.Duration(n)*time.Second, nil)
	case 3:
		out, _ = u.PendSubscription(f.now, id, 0, nil)
	case 5:
		out, _ = u.Notify(f.now, id, header.SubscriptionState{State: "active"}, []byte(pidfOpen), nil)
	case 7:
		out, _ = u.Notify(f.now, id, header.SubscriptionState{State: "terminated", Params: ";reason=giveup;retry-after=5"}, nil, nil)
	case 9:
		out, _ = u.RejectSubscription(f.now, id, 403+int(n)%200, nil)
	}
	f.apply(i, out)
}

// FuzzSubscribe runs a subscriber and a notifier on a program the fuzzer
// writes, as FuzzUA does for calls: deliver, drop, duplicate or corrupt
// messages in flight, move the clock, subscribe, refresh, unsubscribe,
// accept, pend, reject, notify, terminate. It checks that nothing panics,
// that what the UAs send parses, that timers stay consistent, and that once
// Alice unsubscribes and time runs out neither side keeps a subscription,
// dialog, timer or transaction.
func FuzzSubscribe(f *testing.F) {
	f.Add([]byte{10, 0, 0, 0, 0, 0, 11, 1, 0, 0, 0, 0, 11, 5, 0, 0, 10, 2, 0, 0, 0, 0})
	f.Add([]byte{10, 0, 2, 0, 0, 0, 4, 250, 11, 3, 0, 0, 11, 5, 0, 0, 4, 250, 10, 4, 0, 0})
	f.Add([]byte{10, 0, 10, 0, 0, 0, 0, 1, 11, 1, 11, 1, 3, 0, 0, 0, 0, 0, 11, 7, 0, 0, 4, 100})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 400 {
			prog = prog[:400]
		}
		fn := newFuzzNet(t, false, false)
		cfg := fn.uas[1].Config()
		cfg.Events = []EventPackage{presence}
		bob, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fn.uas[1] = bob
		for p := 0; p+1 < len(prog); p += 2 {
			op, arg := prog[p], prog[p+1]
			switch op % 12 {
			case 0, 1:
				if len(fn.flight) > 0 {
					k := int(arg) % len(fn.flight)
					fn.deliver(k, fn.flight[k].data)
					fn.flight = slices.Delete(fn.flight, k, k+1)
				}
			case 2:
				if len(fn.flight) > 0 {
					k := int(arg) % len(fn.flight)
					fn.flight = slices.Delete(fn.flight, k, k+1)
				}
			case 3:
				if len(fn.flight) > 0 {
					fn.deliver(int(arg)%len(fn.flight), fn.flight[int(arg)%len(fn.flight)].data)
				}
			case 4:
				fn.advance(time.Duration(arg) * 100 * time.Millisecond)
			case 5:
				if len(fn.flight) > 0 {
					k := int(arg) % len(fn.flight)
					data := slices.Clone(fn.flight[k].data)
					data[int(arg)*7%len(data)] ^= arg | 1
					fn.deliver(k, data)
				}
			case 10, 11:
				fn.subCommand(arg, byte(p))
			default:
				if len(fn.flight) > 0 {
					fn.deliver(0, fn.flight[0].data)
					fn.flight = fn.flight[1:]
				}
			}
		}
		for _, id := range fn.calls[0] {
			out, _ := fn.uas[0].Unsubscribe(fn.now, id, nil)
			fn.apply(0, out)
		}
		for step := 0; step < 10000 && (len(fn.flight) > 0 || len(fn.timers[0])+len(fn.timers[1]) > 0); step++ {
			if len(fn.flight) > 0 {
				fn.deliver(0, fn.flight[0].data)
				fn.flight = fn.flight[1:]
				continue
			}
			fn.advance(time.Minute)
		}
		for i, u := range fn.uas {
			if u.Subscriptions() != 0 || u.Dialogs() != 0 || u.Timers() != 0 || u.Transactions().Len() != 0 || len(fn.timers[i]) != 0 {
				t.Fatalf("UA %d left %d subscriptions, %d dialogs, %d UA timers, %d transactions, %d pending timers",
					i, u.Subscriptions(), u.Dialogs(), u.Timers(), u.Transactions().Len(), len(fn.timers[i]))
			}
		}
	})
}
