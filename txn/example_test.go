package txn_test

import (
	"fmt"
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// A client transaction over UDP: the INVITE goes out with Timers A and B,
// a 180 moves it to Proceeding, a 200 to Accepted (RFC 6026).
func Example() {
	layer := txn.New(txn.Config{})
	ruri, _ := uri.Parse("sip:bob@192.0.2.2")
	from, _ := uri.Parse("sip:alice@example.com")
	invite, _ := message.NewRequest("INVITE", ruri, message.RequestOptions{
		From:    header.From{URI: from},
		Via:     header.Via{Transport: "UDP", Host: "192.0.2.1", Port: 5060},
		Contact: &header.Contact{URI: from},
		Gen:     ident.Seeded(1),
	})
	bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}

	id, out, _ := layer.NewClient(0, invite, bob, nil)
	show(out)
	for _, code := range []int{180, 200} {
		resp, _ := message.NewResponse(invite, code, "", message.ResponseOptions{ToTag: "b7"})
		out = layer.Handle(effects.Input{Kind: effects.Received, Data: resp.Bytes(), From: bob}, out[:0])
		show(out)
	}
	_, state, _ := layer.State(id)
	fmt.Println(state)
	// Output:
	// send INVITE
	// set Timer A 500ms
	// set Timer B 32s
	// cancel Timer A
	// cancel Timer B
	// deliver txn-response 180
	// deliver txn-response 200
	// set Timer M 32s
	// Accepted
}

func show(out []effects.Effect) {
	for _, e := range out {
		switch e.Kind {
		case effects.Send:
			fmt.Println("send", e.Msg.Method())
		case effects.SetTimer:
			w, _ := txn.TimerOf(e.Timer)
			fmt.Println("set", w, e.After)
		case effects.CancelTimer:
			w, _ := txn.TimerOf(e.Timer)
			fmt.Println("cancel", w)
		case effects.Deliver:
			if e.Event.Msg != nil {
				fmt.Println("deliver", e.Event.Kind, e.Event.Msg.StatusCode())
			}
		}
	}
}
