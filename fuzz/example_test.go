package fuzz_test

import (
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/fuzz"
)

// An input for FuzzUABytes: Bob's INVITE arrives (policy 0: Alice's
// application answers), time passes, and Bob's BYE comes in the dialog
// Alice's UA created: its To tag is the Tag macro, expanded when the
// message is fed to the UA.
func Example() {
	in := fuzz.Script{}.
		Receive(effects.UDP, 0, 0, "INVITE sip:alice@192.0.2.10 SIP/2.0\r\n...").
		Advance(8).
		Receive(effects.UDP, 0, 0, "BYE sip:alice@192.0.2.10 SIP/2.0\r\nTo: <sip:alice@example.com>;tag="+fuzz.Tag+"\r\n...").
		Fire(4)
	fmt.Print(fuzz.Describe(in))

	// What the macro becomes once the UA has answered with tag 3kf9a.
	l := fuzz.Learned{Tag: "3kf9a"}
	fmt.Printf("%s\n", l.Expand(nil, []byte("To: <sip:alice@example.com>;tag="+fuzz.Tag)))
	// Output:
	// udp from 192.0.2.20:5060 policy 0: "INVITE sip:alice@192.0.2.10 SIP/2.0"
	// advance 1s
	// udp from 192.0.2.20:5060 policy 0: "BYE sip:alice@192.0.2.10 SIP/2.0"
	// fire x4
	// To: <sip:alice@example.com>;tag=3kf9a
}
