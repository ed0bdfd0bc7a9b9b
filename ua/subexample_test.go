package ua_test

import (
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/ua"
)

// ExampleUA_Subscribe subscribes Alice to Bob's presence (RFC 6665): Bob
// accepts, which sends the 200 and an immediate NOTIFY, then notifies his
// state; Alice unsubscribes and Bob's final NOTIFY ends the subscription.
// Messages go straight from one core to the other; timers are not needed.
func ExampleUA_Subscribe() {
	alice := mustUA("alice", "192.0.2.1:5060", 1)
	bob, err := ua.New(ua.Config{
		AOR: mustURI("sip:bob@example.com"), Contact: mustURI("sip:bob@192.0.2.2:5060"),
		Host: "192.0.2.2", Port: 5060, Gen: ident.Seeded(2),
		Events: []ua.EventPackage{{Name: "presence", ContentType: "application/pidf+xml"}},
	})
	if err != nil {
		panic(err)
	}
	addr := map[*ua.UA]effects.Peer{alice: peer("192.0.2.1:5060"), bob: peer("192.0.2.2:5060")}
	name := map[*ua.UA]string{alice: "alice", bob: "bob"}
	var queue []struct {
		src *ua.UA
		eff effects.Effect
	}
	enqueue := func(src *ua.UA, effs []effects.Effect) {
		for _, e := range effs {
			queue = append(queue, struct {
				src *ua.UA
				eff effects.Effect
			}{src, e})
		}
	}
	var now effects.Time
	run := func() {
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			switch p.eff.Kind {
			case effects.Send:
				to := alice
				if p.eff.To == addr[bob] {
					to = bob
				}
				m := p.eff.Msg
				line := m.StartLine()
				if st, ok := m.Get("Subscription-State"); ok {
					line += " [" + st + "]"
				}
				fmt.Printf("%s -> %s: %s\n", name[p.src], name[to], line)
				enqueue(to, to.Handle(effects.Input{Kind: effects.Received, Now: now, Data: m.Bytes(), From: addr[p.src]}, nil))
			case effects.Deliver:
				ev := p.eff.Event
				fmt.Printf("%s: %v\n", name[p.src], ev.Kind)
				if p.src == bob && ev.Kind == effects.SubscribeIncoming {
					out, err := bob.AcceptSubscription(now, ev.ID, 0, nil)
					if err != nil {
						panic(err)
					}
					out, err = bob.Notify(now, ev.ID, header.SubscriptionState{State: "active"}, []byte("<presence/>"), out)
					if err != nil {
						panic(err)
					}
					enqueue(bob, out)
				}
			}
		}
	}
	id, out, err := alice.Subscribe(now, mustURI("sip:bob@192.0.2.2"), ua.SubscribeOptions{Event: "presence", Dest: addr[bob]}, nil)
	if err != nil {
		panic(err)
	}
	enqueue(alice, out)
	run()
	out, err = alice.Unsubscribe(now, id, nil)
	if err != nil {
		panic(err)
	}
	enqueue(alice, out)
	run()
	fmt.Println("subscriptions left:", alice.Subscriptions(), bob.Subscriptions())
	// Output:
	// alice -> bob: SUBSCRIBE sip:bob@192.0.2.2 SIP/2.0
	// bob: subscribe-incoming
	// bob -> alice: SIP/2.0 200 OK
	// bob -> alice: NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0 [active;expires=3600]
	// bob -> alice: NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0 [active;expires=3600]
	// alice -> bob: SIP/2.0 200 OK
	// alice: subscription-active
	// alice: notify-received
	// alice -> bob: SIP/2.0 200 OK
	// alice: notify-received
	// alice -> bob: SUBSCRIBE sip:bob@192.0.2.2:5060 SIP/2.0
	// bob -> alice: SIP/2.0 200 OK
	// bob -> alice: NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0 [terminated;reason=timeout]
	// bob: subscription-ended
	// alice -> bob: SIP/2.0 200 OK
	// alice: notify-received
	// alice: subscription-ended
	// subscriptions left: 0 0
}
