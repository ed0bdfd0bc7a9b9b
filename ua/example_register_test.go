package ua_test

import (
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
)

// ExampleUA_Register registers Bob with a registrar that grants 600 s of
// the hour asked for: the refresh timer is set for 300 s, firing it sends
// the refresh with the same Call-ID and the next CSeq, and Unregister
// removes the binding. The "registrar" here answers each REGISTER by hand,
// granting what it was asked up to 600 s.
func ExampleUA_Register() {
	bob := mustUA("bob", "192.0.2.2:5060", 2)
	registrar := peer("192.0.2.100:5060")
	var now effects.Time
	var timer effects.TimerID

	// answer plays the registrar and feeds its 200 back to the UA.
	answer := func(req *message.Message) []effects.Effect {
		resp, _ := message.NewResponse(req, 200, "", message.ResponseOptions{ToTag: "r1"})
		if c, ok, _ := message.First[header.Contact](req); ok && !c.Star {
			if e, _ := c.Expires(); e > 0 {
				c.Params = c.Params.With("expires", fmt.Sprint(min(e, 600)))
				message.Set(resp, c)
			}
		}
		return bob.Handle(effects.Input{Kind: effects.Received, Now: now, Data: resp.Bytes(), From: registrar}, nil)
	}
	var handle func(out []effects.Effect)
	handle = func(out []effects.Effect) {
		for _, e := range out {
			switch e.Kind {
			case effects.Send:
				c, _ := e.Msg.Get("Contact")
				fmt.Printf("REGISTER CSeq %d Contact %s\n", e.Msg.CSeq().Seq, c)
				handle(answer(e.Msg))
			case effects.SetTimer:
				if e.After > time.Minute { // the refresh, not a transaction timer
					timer = e.Timer
					fmt.Println("refresh in", e.After)
				}
			case effects.Deliver:
				fmt.Println("event:", e.Event.Kind, e.Event.Code)
			}
		}
	}

	id, out, err := bob.Register(now, ua.RegisterOptions{
		Registrar: mustURI("sip:example.com"),
		Dest:      registrar,
		Expires:   time.Hour,
	}, nil)
	if err != nil {
		panic(err)
	}
	handle(out)

	now = now.Add(300 * time.Second)
	handle(bob.Handle(effects.Input{Kind: effects.TimerFired, Now: now, Timer: timer}, nil))

	out, _ = bob.Unregister(now, id, nil)
	handle(out)
	fmt.Println("registrations left:", bob.Registrations())
	// Output:
	// REGISTER CSeq 1 Contact <sip:bob@192.0.2.2:5060>;expires=3600
	// event: registered 200
	// refresh in 5m0s
	// REGISTER CSeq 2 Contact <sip:bob@192.0.2.2:5060>;expires=3600
	// event: registered 200
	// refresh in 5m0s
	// REGISTER CSeq 3 Contact <sip:bob@192.0.2.2:5060>;expires=0
	// event: unregistered 200
	// registrations left: 0
}
