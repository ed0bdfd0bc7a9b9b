package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sansip/sansip/drivers/client"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// clientFlags are the flags the client commands share.
type clientFlags struct {
	proxy, local, transport string
	user, pass              string
	dns                     string
	timeout                 time.Duration
	verbose, insecure       bool
}

// add registers the flags on fs, -timeout with its default; auth adds
// -user and -pass.
func (f *clientFlags) add(fs *flag.FlagSet, timeout time.Duration, auth bool) {
	fs.StringVar(&f.proxy, "proxy", "", "send every request to this `host[:port]` (an outbound proxy) instead of the target's server")
	fs.StringVar(&f.local, "local", "", "bind this local `address` (default: port 0 on the loopback or outgoing address matching the target)")
	fs.StringVar(&f.transport, "transport", "", "udp, tcp, tls, ws or wss (default: the URI's transport parameter, tls for sips, else udp); over ws and wss the client opens a connection to the server (path /) and is reached only on it, its contact a random .invalid host (RFC 7118)")
	fs.StringVar(&f.dns, "dns", "", "the DNS `server` (host:port) for names; default the system's")
	fs.DurationVar(&f.timeout, "timeout", timeout, "how long to wait for a final response")
	fs.BoolVar(&f.insecure, "insecure", false, "with tls or wss: do not verify the server's certificate (a test server's self-signed one)")
	fs.BoolVar(&f.verbose, "v", false, "log the drivers' debug messages to standard error")
	if auth {
		fs.StringVar(&f.user, "user", "", "the user name for digest authentication (default: the URI's user)")
		fs.StringVar(&f.pass, "pass", "", "the password for digest authentication")
	}
}

// config returns the client configuration for target.
func (f *clientFlags) config(target uri.URI, sio stdio) (client.Config, error) {
	cfg := client.Config{Target: target, Proxy: f.proxy, Local: f.local, DNS: f.dns, Password: f.pass, Username: f.user}
	if f.transport != "" {
		cfg.Transport = effects.ParseTransport(f.transport)
		if cfg.Transport == 0 || cfg.Transport == effects.SCTP {
			return cfg, fmt.Errorf("-transport: %q is not udp, tcp, tls, ws or wss", f.transport)
		}
	}
	if cfg.Username == "" && cfg.Password != "" {
		cfg.Username = target.User
	}
	if f.insecure {
		cfg.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	if f.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(sio.err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg, nil
}

// targetArg parses the one operand of a client command: a SIP URI, with
// "sip:" added when missing.
func targetArg(name string, operands []string, sio stdio) (uri.URI, bool) {
	if len(operands) != 1 {
		fmt.Fprintf(sio.err, "sansip %s: want one URI, got %d arguments\n", name, len(operands))
		return uri.URI{}, false
	}
	s := operands[0]
	if l := strings.ToLower(s); !strings.HasPrefix(l, "sip:") && !strings.HasPrefix(l, "sips:") {
		s = "sip:" + s
	}
	u, err := uri.Parse(s)
	if err == nil && !u.IsSIP() {
		err = fmt.Errorf("not a sip or sips URI")
	}
	if err != nil {
		fmt.Fprintf(sio.err, "sansip %s: %q: %v\n", name, operands[0], err)
		return uri.URI{}, false
	}
	return u, true
}

// note is what a client reports to a command: an event, or a response.
type note struct {
	ev   effects.Event
	resp *message.Message
}

// session is a running client whose events and responses a command reads
// from notes.
type session struct {
	*client.Client
	notes chan note
	quit  chan struct{}
}

// startClient starts a client with cfg whose reports go to the session's
// notes; close it with stop.
func startClient(ctx context.Context, cfg client.Config) (*session, error) {
	s := &session{notes: make(chan note, 256), quit: make(chan struct{})}
	cfg.OnEvent = func(ev effects.Event) {
		if ev.Msg != nil {
			ev.Msg = ev.Msg.Clone()
		}
		s.post(note{ev: ev})
	}
	cfg.OnResponse = func(m *message.Message) { s.post(note{resp: m.Clone()}) }
	c, err := client.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.Client = c
	return s, nil
}

// post hands a note to the command, unless it has stopped reading.
func (s *session) post(n note) {
	select {
	case s.notes <- n:
	case <-s.quit:
	}
}

// stop closes the client.
func (s *session) stop() {
	close(s.quit)
	s.Close()
}

// do runs a UA command.
func (s *session) do(f func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Do(ctx, f)
}

// status writes a response's status line without the SIP version.
func status(m *message.Message) string {
	return fmt.Sprintf("%d %s", m.StatusCode(), m.Reason())
}

// failure writes the code an event carries, with the response's reason or
// the standard one, and the error when no response came.
func failure(ev effects.Event) string {
	if ev.Msg != nil {
		return status(ev.Msg)
	}
	s := fmt.Sprintf("%d %s", ev.Code, message.ReasonPhrase(ev.Code))
	if ev.Err != nil {
		s += " (" + ev.Err.Error() + ")"
	}
	return s
}

// contacts returns the Contact values of a message, as written.
func contacts(m *message.Message) []string {
	if m == nil {
		return nil
	}
	all, _ := message.All[header.Contact](m)
	var out []string
	for _, c := range all {
		out = append(out, string(c.AppendTo(nil)))
	}
	return out
}
