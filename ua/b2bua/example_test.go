package b2bua_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
)

// Example bridges Alice's call to Bob through a B2BUA with one UA, then
// Bob hangs up. The loop is a driver in miniature: it carries each Send to
// the UA at its address, hands the B2BUA's UA's events to the B2BUA, and
// carries out what the B2BUA returns on the UA each effect is tagged with.
// Timers are not needed without loss.
func Example() {
	addrs := map[string]string{"alice": "192.0.2.1:5060", "b2b": "192.0.2.10:5060", "bob": "192.0.2.2:5060"}
	uas, names := map[netip.AddrPort]*ua.UA{}, map[*ua.UA]string{}
	newUA := func(name string, seed uint64) *ua.UA {
		ap := netip.MustParseAddrPort(addrs[name])
		u, err := ua.New(ua.Config{AOR: mustURI("sip:" + name + "@example.com"), Contact: mustURI("sip:" + name + "@" + ap.String()),
			Host: ap.Addr().String(), Port: ap.Port(), Gen: ident.Seeded(seed)})
		if err != nil {
			panic(err)
		}
		uas[ap], names[u] = u, name
		return u
	}
	alice, mid, bob := newUA("alice", 1), newUA("b2b", 2), newUA("bob", 3)
	peer := func(name string) effects.Peer {
		return effects.Peer{Addr: netip.MustParseAddrPort(addrs[name]), Transport: effects.UDP}
	}
	b, err := b2bua.New(b2bua.Config{Inside: mid, Outside: mid, Route: func(*ua.UA, effects.Event) b2bua.Decision {
		return b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: peer("bob")}}
	}})
	if err != nil {
		panic(err)
	}
	var now effects.Time
	var bobCall ua.CallID
	var queue []b2bua.Effect
	push := func(u *ua.UA, effs []effects.Effect) {
		for _, e := range effs {
			queue = append(queue, b2bua.Effect{UA: u, Effect: e})
		}
	}
	for _, step := range []func(){
		func() {
			_, out, _ := alice.Call(now, mustURI("sip:bob@example.com"), ua.CallOptions{Dest: peer("b2b"), Body: []byte(sdpOffer)}, nil)
			push(alice, out)
		},
		func() {
			out, _ := bob.Hangup(now, bobCall, nil)
			push(bob, out)
		},
	} {
		step()
		for len(queue) > 0 {
			e := queue[0]
			queue = queue[1:]
			switch {
			case e.UA == nil:
				fmt.Println("b2bua:", e.Event.Kind)
			case e.Kind == effects.Send:
				to := uas[e.To.Addr]
				fmt.Printf("%s -> %s: %s\n", names[e.UA], names[to], e.Msg.StartLine())
				in := effects.Input{Kind: effects.Received, Now: now, Data: e.Msg.Bytes(), From: peer(names[e.UA])}
				push(to, to.Handle(in, nil))
			case e.Kind == effects.Deliver && e.UA == mid:
				// The B2BUA's effects go first: they answer this event.
				queue = append(b.Handle(now, mid, e.Event, nil), queue...)
			case e.Kind == effects.Deliver && e.UA == bob && e.Event.Kind == effects.CallIncoming:
				bobCall = e.Event.ID
				out, _ := bob.Answer(now, bobCall, []byte(sdpAnswer), nil)
				push(bob, out)
			}
		}
	}
	// Output:
	// alice -> b2b: INVITE sip:bob@example.com SIP/2.0
	// b2b -> bob: INVITE sip:bob@192.0.2.2 SIP/2.0
	// bob -> b2b: SIP/2.0 200 OK
	// b2b -> bob: ACK sip:bob@192.0.2.2:5060 SIP/2.0
	// b2b -> alice: SIP/2.0 200 OK
	// b2bua: bridge-answered
	// alice -> b2b: ACK sip:b2b@192.0.2.10:5060 SIP/2.0
	// bob -> b2b: BYE sip:b2b@192.0.2.10:5060 SIP/2.0
	// b2b -> bob: SIP/2.0 200 OK
	// b2b -> alice: BYE sip:alice@192.0.2.1:5060 SIP/2.0
	// b2bua: bridge-ended
	// alice -> b2b: SIP/2.0 200 OK
}
