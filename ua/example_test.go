package ua_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

const offer = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
const answer = "v=0\r\no=bob 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\n"

// Example drives two UA cores by hand: Alice calls Bob, Bob answers, Alice
// hangs up. The loop below is a driver in miniature: it carries each Send
// to the other UA as a Received input (a real driver writes to a socket),
// shows each event to the "application", and ignores timers, which a call
// without loss never needs to fire.
func Example() {
	alice := mustUA("alice", "192.0.2.1:5060", 1)
	bob := mustUA("bob", "192.0.2.2:5060", 2)
	addr := map[*ua.UA]effects.Peer{alice: peer("192.0.2.1:5060"), bob: peer("192.0.2.2:5060")}
	name := map[*ua.UA]string{alice: "alice", bob: "bob"}
	var now effects.Time

	type pending struct {
		to  *ua.UA
		eff effects.Effect
		src *ua.UA
	}
	var queue []pending
	enqueue := func(src *ua.UA, effs []effects.Effect) {
		for _, e := range effs {
			queue = append(queue, pending{src: src, eff: e})
		}
	}
	// The applications: Bob answers every call.
	onEvent := func(u *ua.UA, ev effects.Event) {
		fmt.Printf("%s: %v\n", name[u], ev.Kind)
		if u == bob && ev.Kind == effects.CallIncoming {
			out, err := bob.Answer(now, ev.ID, []byte(answer), nil)
			if err != nil {
				panic(err)
			}
			enqueue(bob, out)
		}
	}
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
				fmt.Printf("%s -> %s: %s\n", name[p.src], name[to], p.eff.Msg.StartLine())
				in := effects.Input{Kind: effects.Received, Now: now, Data: p.eff.Msg.Bytes(), From: addr[p.src]}
				enqueue(to, to.Handle(in, nil))
			case effects.Deliver:
				onEvent(p.src, p.eff.Event)
			}
		}
	}

	id, out, err := alice.Call(now, mustURI("sip:bob@192.0.2.2"), ua.CallOptions{
		Body: []byte(offer), Dest: addr[bob],
	}, nil)
	if err != nil {
		panic(err)
	}
	enqueue(alice, out)
	run()
	out, err = alice.Hangup(now, id, nil)
	if err != nil {
		panic(err)
	}
	enqueue(alice, out)
	run()
	// Output:
	// alice -> bob: INVITE sip:bob@192.0.2.2 SIP/2.0
	// bob: call-incoming
	// bob -> alice: SIP/2.0 200 OK
	// bob: session-established
	// bob: media-started
	// alice -> bob: ACK sip:bob@192.0.2.2:5060 SIP/2.0
	// alice: call-answered
	// alice: session-established
	// alice: media-started
	// bob: call-answered
	// alice: call-ended
	// alice -> bob: BYE sip:bob@192.0.2.2:5060 SIP/2.0
	// bob -> alice: SIP/2.0 200 OK
	// bob: call-ended
}

func mustUA(user, addr string, seed uint64) *ua.UA {
	ap := netip.MustParseAddrPort(addr)
	u, err := ua.New(ua.Config{
		AOR:     mustURI("sip:" + user + "@example.com"),
		Contact: mustURI("sip:" + user + "@" + addr),
		Host:    ap.Addr().String(),
		Port:    ap.Port(),
		Gen:     ident.Seeded(seed),
	})
	if err != nil {
		panic(err)
	}
	return u
}

func peer(addr string) effects.Peer {
	return effects.Peer{Addr: netip.MustParseAddrPort(addr), Transport: effects.UDP}
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
