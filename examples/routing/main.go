// Routing is a registrar and record-routing proxy with its own routing
// logic on package service: users register with digest authentication
// (-users) for the -domain list; an INVITE whose Request-URI user starts
// with -prefix goes to the -gateway; requests from the -block addresses
// are refused 403; everything else is routed as by default (registrar,
// location service, Request-URI).
//
//	go run ./examples/routing -gateway 127.0.0.1:5080
//
// Then register as alice (password alice) at 127.0.0.1:5060 and call bob,
// or 0044... to reach the gateway. Ctrl-C stops it.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/uri"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP and TCP address")
	domains := flag.String("domain", "localhost,127.0.0.1", "domains served, comma-separated")
	users := flag.String("users", "alice:alice,bob:bob", "user:password pairs allowed to register")
	prefix := flag.String("prefix", "00", "Request-URI user prefix of calls for the gateway")
	gateway := flag.String("gateway", "", "host:port of the gateway")
	block := flag.String("block", "", "source IP addresses refused, comma-separated")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	gw, err := uri.Parse("sip:" + *gateway)
	if err != nil {
		log.Error("-gateway: want host:port", "err", err)
		os.Exit(2)
	}
	blocked := map[netip.Addr]bool{}
	for _, s := range strings.Split(*block, ",") {
		if a, err := netip.ParseAddr(s); err == nil {
			blocked[a] = true
		}
	}
	passwords := map[string]string{}
	for _, s := range strings.Split(*users, ",") {
		user, password, _ := strings.Cut(s, ":")
		passwords[user] = password
	}

	route := func(r *service.Request) {
		switch user := r.RequestURI().User; {
		case blocked[r.Source().Addr.Addr()]:
			log.Info("blocked", "source", r.Source().Addr, "method", r.Method())
			r.Reply(403, "Forbidden (blocked source)")
		case r.Method() == "INVITE" && strings.HasPrefix(user, *prefix):
			target := gw
			target.User = user
			r.Proxy(target)
		default:
			r.Default()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = service.Run(ctx, service.Config{
		Listen:  []string{*listen},
		Domains: strings.Split(*domains, ","), Users: passwords,
		RecordRoute: true, Route: route, Logger: log,
	})
	if err != nil {
		log.Error("stopped", "err", err)
		os.Exit(1)
	}
}
