// Autoanswer is a user agent server on package service that answers every
// call: calls to user "busy" get 486 Busy Here, the others ring and are
// answered with an SDP answer to their offer (G.711 audio; no media is
// sent), then hung up after -hangup, or by the caller when it is 0.
//
//	go run ./examples/autoanswer -hangup 10s
//
// Then call sip:anyone@127.0.0.1:5060. Ctrl-C stops it.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sansip/sansip/service"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP and TCP address")
	hangup := flag.Duration("hangup", 0, "hang up answered calls after this long (0: never)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	onCall := func(c *service.Call) {
		user := c.RequestURI().User
		log.Info("call", "to", user, "from", c.From().URI.String(), "call-id", c.CallID())
		if user == "busy" {
			c.Reject(486, "")
			return
		}
		c.Ring(180, nil)
		c.Answer(nil) // the answer to the offer, from the service's default audio codecs; 488 if none fits
		if *hangup > 0 {
			time.AfterFunc(*hangup, func() { c.Hangup() })
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := service.Run(ctx, service.Config{
		Listen: []string{*listen},
		Route:  func(r *service.Request) { r.Local() }, OnCall: onCall, Logger: log,
	})
	if err != nil {
		log.Error("stopped", "err", err)
		os.Exit(1)
	}
}
