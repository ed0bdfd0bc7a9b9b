// B2bua is a back-to-back user agent on package service that hides the
// caller: every INVITE it receives is answered by a new call of its own to
// the -to URI, from the -identity address, and the two legs relay each
// other (offer and answer, BYE). OPTIONS are answered locally; other
// requests are refused 405.
//
//	go run ./examples/b2bua -to sip:service@127.0.0.1:5080
//
// Then call anyone at 127.0.0.1:5060. Ctrl-C stops it.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/uri"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP and TCP address")
	to := flag.String("to", "", "SIP URI every call is bridged to")
	identity := flag.String("identity", "Operator <sip:operator@example.com>", "caller shown to the -to side")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	target, err := uri.Parse(*to)
	if err != nil {
		log.Error("-to: want a SIP URI", "err", err)
		os.Exit(2)
	}
	from, err := header.ParseValue[header.From](*identity)
	if err != nil {
		log.Error("-identity: want a From value", "err", err)
		os.Exit(2)
	}

	route := func(r *service.Request) {
		switch r.Method() {
		case "INVITE":
			log.Info("bridging", "call-id", r.CallID(), "from", r.From().URI.String())
			if err := r.Bridge(target, service.BridgeOptions{From: from}); err != nil {
				log.Warn("not bridged", "call-id", r.CallID(), "err", err)
				r.Reply(500, "")
			}
		case "OPTIONS":
			r.Local()
		default:
			r.Reply(405, "", service.Field{Name: "Allow", Value: "INVITE, ACK, CANCEL, BYE, OPTIONS"})
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = service.Run(ctx, service.Config{
		Listen: []string{*listen},
		Route:  route, Logger: log,
	})
	if err != nil {
		log.Error("stopped", "err", err)
		os.Exit(1)
	}
}
