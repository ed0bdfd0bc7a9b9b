package effects_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/txn"
)

// A driver's loop: feed an input, act on each effect. Here an OPTIONS
// arrives over UDP; the transaction layer hands it up, and the TU answers.
func Example() {
	layer := txn.New(txn.Config{})
	from := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	options := []byte("OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n" +
		"From: <sip:alice@example.com>;tag=9fxced76sl\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: 3848276298220188511@atlanta.example.com\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")

	var out []effects.Effect
	now := effects.Time(0)
	out = layer.Handle(effects.Input{Kind: effects.Received, Now: now, Data: options, From: from}, out[:0])
	for i := range out {
		switch e := &out[i]; e.Kind {
		case effects.Send:
			fmt.Println("send", e.Msg.StartLine(), "to", e.To)
		case effects.SetTimer:
			fmt.Println("set timer", e.After)
		case effects.CancelTimer:
			fmt.Println("cancel timer")
		case effects.Deliver:
			fmt.Println("deliver", e.Event.Kind, e.Event.Msg.Method())
		}
	}
	// Output:
	// deliver txn-request OPTIONS
}

func ExampleTime() {
	start := effects.Time(0)
	later := start.Add(1500 * time.Millisecond)
	fmt.Println(later.Sub(start))
	// Output:
	// 1.5s
}
