package main

import (
	"bufio"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/service"
)

//go:embed default.conf
var defaultConf string

var serveCommand = &command{
	name:     "serve",
	synopsis: "[-config FILE] [-udp ADDR] [-tcp ADDR] [-tls ADDR] [-ws ADDR] [-domain D,...] [-users FILE|u:p,...]",
	summary:  "run the sansip server: a registrar and forking proxy",
	help: `
Serve runs a registrar and forking stateful proxy on UDP, TCP, TLS and
WebSocket at once. Users listed in -users register with digest
authentication; calls to a registered address of record reach its
contacts, and other requests are routed by their Request-URI.

With no flags it runs the embedded default configuration (loopback
addresses, users alice and bob with their names as passwords, metrics on
127.0.0.1:9060; "sansip serve -print-config" shows it). A -config file
uses the same "key = value" lines; flags override it. -users takes a file
of "user:password" lines or an inline list. SIGINT or SIGTERM stops the
server gracefully: new requests get 503 while transactions finish.`,
}

func init() { serveCommand.run = runServe }

// serveKeys are the keys of the configuration, in order.
var serveKeys = []string{"udp", "tcp", "tls", "wss", "ws", "host", "cert", "key", "domain", "users", "digest", "secret", "store", "data", "redis", "redis-prefix", "redis-cache", "store-timeout", "metrics", "pprof", "record-route", "shards", "procs", "drain", "gc-percent", "udp-linger", "udp-portable-io", "dns", "log-level", "trace"}

func runServe(args []string, sio stdio) int {
	c := serveCommand
	fs := c.flagSet(args, sio)
	conf := fs.String("config", "", "a configuration file (key = value lines) replacing the embedded default")
	printConf := fs.Bool("print-config", false, "print the embedded default configuration and exit")
	flags := map[string]*string{}
	for _, k := range serveKeys {
		flags[k] = fs.String(k, "", "the "+k+" setting (see -print-config)")
	}
	if _, status, stop := parseFlags(fs, args); stop {
		return status
	}
	if *printConf {
		fmt.Fprint(sio.out, defaultConf)
		return exitOK
	}
	settings, err := parseConf(defaultConf)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip serve: embedded configuration: %v\n", err)
		return exitUsage
	}
	if *conf != "" {
		b, err := os.ReadFile(*conf)
		if err != nil {
			fmt.Fprintf(sio.err, "sansip serve: %v\n", err)
			return exitUsage
		}
		if settings, err = parseConf(string(b)); err != nil {
			fmt.Fprintf(sio.err, "sansip serve: %s: %v\n", *conf, err)
			return exitUsage
		}
	}
	fs.Visit(func(f *flagT) {
		if _, ok := flags[f.Name]; ok {
			settings[f.Name] = f.Value.String()
		}
	})
	cfg, err := serverConfig(settings, sio)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip serve: %v\n", err)
		return exitUsage
	}
	store, closeStore, err := openStore(settings, cfg.Logger)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip serve: %v\n", err)
		return exitUsage
	}
	defer closeStore()
	cfg.Store = store
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg); err != nil {
		fmt.Fprintf(sio.err, "sansip serve: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// parseConf reads "key = value" lines; # starts a comment.
func parseConf(s string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !known(k) {
			return nil, fmt.Errorf("line %d: want one of %s = value", n, strings.Join(serveKeys, ", "))
		}
		out[k] = v
	}
	return out, sc.Err()
}

func known(k string) bool {
	for _, x := range serveKeys {
		if x == k {
			return true
		}
	}
	return false
}

func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// serverConfig turns settings into a service.Config.
func serverConfig(st map[string]string, sio stdio) (service.Config, error) {
	cfg := service.Config{
		UDP: list(st["udp"]), TCP: list(st["tcp"]), TLS: list(st["tls"]), WS: list(st["ws"]), WSS: list(st["wss"]),
		Host: st["host"], CertFile: st["cert"], KeyFile: st["key"], Secret: []byte(st["secret"]), Domains: list(st["domain"]), Metrics: st["metrics"], DNS: st["dns"],
		RecordRoute: st["record-route"] != "false", Pprof: st["pprof"] == "true",
		UDPPortableIO: st["udp-portable-io"] == "true",
	}
	if v := st["shards"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("shards: %q is not a count", v)
		}
		cfg.Shards = n
	}
	if v := st["procs"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("procs: %q is not a count", v)
		}
		cfg.Procs = n
	}
	if v := st["gc-percent"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return cfg, fmt.Errorf("gc-percent: %q is not a number", v)
		}
		cfg.GCPercent = n
	}
	if v := st["udp-linger"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("udp-linger: %w", err)
		}
		cfg.UDPLinger = d
	}
	if v := st["store-timeout"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("store-timeout: %w", err)
		}
		cfg.StoreTimeout = d
	}
	if v := st["drain"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("drain: %w", err)
		}
		cfg.Drain = d
	}
	for _, name := range list(st["digest"]) {
		a, ok := digest.ParseAlgorithm(name)
		if !ok {
			return cfg, fmt.Errorf("digest: unknown algorithm %q", name)
		}
		cfg.Algorithms = append(cfg.Algorithms, a)
	}
	users, err := parseUsers(st["users"])
	if err != nil {
		return cfg, err
	}
	cfg.Users = users
	var level slog.Level
	if err := level.UnmarshalText([]byte(st["log-level"])); err != nil && st["log-level"] != "" {
		return cfg, fmt.Errorf("log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(sio.err, &slog.HandlerOptions{Level: level}))
	// Failed authentications are logged (a line per failure, for
	// fail2ban); with trace = true every message in and out too.
	cfg.Middleware = []service.Middleware{service.LogAuthFailures(cfg.Logger)}
	if st["trace"] == "true" {
		cfg.Middleware = append(cfg.Middleware, service.Trace(cfg.Logger))
	}
	return cfg, nil
}

// parseUsers reads "user:password" pairs from a file, or inline,
// comma-separated.
func parseUsers(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	text := v
	if !strings.Contains(v, ":") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, ".") {
		b, err := os.ReadFile(v)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		text = strings.ReplaceAll(string(b), "\n", ",")
	}
	users := map[string]string{}
	for _, pair := range list(text) {
		if strings.HasPrefix(pair, "#") {
			continue
		}
		u, p, ok := strings.Cut(pair, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("users: %q is not user:password", pair)
		}
		users[u] = p
	}
	return users, nil
}

type flagT = flag.Flag
