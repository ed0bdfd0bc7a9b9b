// Command routeproxy is bench/proxy.sh's "sansip-route": the proxy of
// `sansip serve`'s benchmark configuration (UDP, record-routing, one
// processor by default) with an application routing callback in front of
// every new request, as a programmable server has one: it refuses a
// blocked source, sends numbers with a prefix to a gateway, and routes
// everything else as the server does by itself (package service's
// Request.Default). What it measures is the cost of asking the
// application: the RouteRequest event, the callback and its decision.
//
//	routeproxy -udp 127.0.0.1:5090 -procs 1
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
	udp := flag.String("udp", "127.0.0.1:5090", "UDP address to listen on")
	procs := flag.Int("procs", 1, "processors (GOMAXPROCS); 0: all")
	metrics := flag.String("metrics", "", "metrics address")
	gcPercent := flag.Int("gc-percent", 0, "the garbage collector's target (0: the runtime's, as proxy.sh's sansip-1)")
	pprof := flag.Bool("pprof", false, "serve /debug/pprof/ on the metrics address")
	flag.Parse()
	blocked := map[netip.Addr]bool{netip.MustParseAddr("192.0.2.66"): true}
	gateway, _ := uri.Parse("sip:127.0.0.1:5099")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := service.Run(ctx, service.Config{
		UDP: []string{*udp}, Domains: []string{"localhost"}, RecordRoute: true,
		Procs: *procs, GCPercent: *gcPercent, Metrics: *metrics, Pprof: *pprof,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Route: func(r *service.Request) {
			switch {
			case blocked[r.Source().Addr.Addr()]:
				r.Reply(403, "Forbidden (blocked source)")
			case r.Method() == "INVITE" && strings.HasPrefix(r.RequestURI().User, "00"):
				gw := gateway
				gw.User = r.RequestURI().User
				r.Proxy(gw)
			default:
				r.Default()
			}
		},
	})
	if err != nil {
		slog.Error("routeproxy", "err", err)
		os.Exit(1)
	}
}
