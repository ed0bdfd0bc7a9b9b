package dispatch_test

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/ua"
)

// Example routes two INVITEs: the application refuses the first with 403
// and lets the local UA answer the second. The loop is a driver in
// miniature: it prints what the core sends and answers each RouteRequest
// at once.
func Example() {
	core, err := dispatch.New(dispatch.Config{
		Proxy: proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", Domains: []string{"example.com"}},
		UA:    ua.Config{Gen: ident.Seeded(2), Host: "192.0.2.10", Contact: mustURI("sip:192.0.2.10")},
		Ask:   true,
	})
	if err != nil {
		panic(err)
	}
	var now effects.Time
	var run func(effs []effects.Effect)
	run = func(effs []effects.Effect) {
		for _, e := range effs {
			switch {
			case e.Kind == effects.Send:
				fmt.Println("send:", e.Msg.StartLine())
			case e.Kind == effects.Deliver && e.Event.Kind == effects.RouteRequest:
				d := dispatch.Decision{Action: dispatch.Reply, Proxy: proxycore.Decision{Code: 403}}
				if e.Event.Msg.RequestURI().User == "echo" {
					d = dispatch.Decision{Action: dispatch.Local}
				}
				out, err := core.Route(now, e.Event.ID, d, nil)
				if err != nil {
					panic(err)
				}
				run(out)
			case e.Kind == effects.Deliver && e.Event.Kind == effects.CallIncoming:
				fmt.Println("local call from", e.Event.Msg.From().URI.String())
				out, err := core.UACommand(now, func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
					return u.Answer(now, e.Event.ID, []byte(answer), out)
				}, nil)
				if err != nil {
					panic(err)
				}
				run(out)
			}
		}
	}
	run(core.Handle(effects.Input{Kind: effects.Received, Now: now, Data: []byte(invite()), From: alice}, nil))
	echo := strings.NewReplacer("INVITE sip:bob@192.0.2.2", "INVITE sip:echo@192.0.2.10", "z9hG4bKinv1", "z9hG4bKinv2").Replace(invite())
	run(core.Handle(effects.Input{Kind: effects.Received, Now: now, Data: []byte(echo), From: alice}, nil))
	// Output:
	// send: SIP/2.0 403 Forbidden
	// local call from sip:alice@example.com
	// send: SIP/2.0 200 OK
}
