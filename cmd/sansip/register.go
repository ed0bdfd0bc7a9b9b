package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

var registerCommand = &command{
	name:     "register",
	synopsis: "-user U -pass P [-contact URI] [-expires D] [-keep D [-answer] | -unregister] [-proxy ADDR] [-transport T] [-local ADDR] [-timeout D] URI",
	summary:  "register a contact for an address of record, or remove it",
	help: `
Register binds a contact to the address of record URI (RFC 3261 §10.2)
at the registrar of URI's domain, found by RFC 3263 (a numeric host is
used as is) or given with -proxy, answering digest challenges with -user
and -pass. It prints each response and the bindings the registrar
granted. The contact is the local address unless -contact says otherwise.

Without -keep the binding stays when the command ends, until it expires
(-expires). With -keep D the command stays registered for D, refreshing
the binding before it expires, then removes it. -unregister removes the
binding (it registers, then unregisters with expires=0).

Over -transport ws or wss the client is reached only on the connection it
opened, its contact naming a random .invalid host (RFC 7118): it
registers with RFC 5626 outbound (an instance id and reg-id 1), so the
server sends the calls for it on that connection, kept alive with CRLF
pings while -keep lasts.

Exit status: 0 when the registration (and the removal, if asked for)
succeeded, 1 when the registrar refused it or did not answer within
-timeout, 2 for a usage error.`,
}

func init() { registerCommand.run = runRegister }

// registerOptions are the register command's own flags.
type registerOptions struct {
	contact    string
	expires    time.Duration
	keep       time.Duration
	unregister bool
}

func runRegister(args []string, sio stdio) int {
	fs := registerCommand.flagSet(args, sio)
	var f clientFlags
	f.add(fs, 10*time.Second, true)
	var o registerOptions
	fs.StringVar(&o.contact, "contact", "", "the contact `URI` to bind (default: this client's address)")
	fs.DurationVar(&o.expires, "expires", time.Hour, "the registration interval asked for")
	fs.DurationVar(&o.keep, "keep", 0, "stay registered (refreshing) this long, then unregister")
	fs.BoolVar(&o.unregister, "unregister", false, "remove the binding")
	answer := fs.Bool("answer", false, "with -keep: answer the calls that arrive meanwhile (180, then 200 with an audio answer)")
	operands, status, stop := parseFlags(fs, args)
	if stop {
		return status
	}
	aor, ok := targetArg("register", operands, sio)
	if !ok {
		return exitUsage
	}
	if o.keep > 0 && o.unregister {
		fmt.Fprintln(sio.err, "sansip register: -keep and -unregister exclude each other")
		return exitUsage
	}
	cfg, err := f.config(aor, sio)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip register: %v\n", err)
		return exitUsage
	}
	cfg.AOR = aor
	cfg.AutoAnswer = *answer
	cfg.Target = uri.URI{Scheme: aor.Scheme, Host: aor.Host, Port: aor.Port, Params: aor.Params}
	opts := ua.RegisterOptions{Registrar: cfg.Target, AOR: aor, Expires: o.expires}
	if o.contact != "" {
		if opts.Contact, err = uri.Parse(o.contact); err != nil {
			fmt.Fprintf(sio.err, "sansip register: -contact: %v\n", err)
			return exitUsage
		}
	}
	s, err := startClient(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip register: %v\n", err)
		return exitUsage
	}
	defer s.stop()
	opts.Dest = s.Next()
	if o.contact == "" {
		// Over WebSocket: an outbound registration (RFC 5626), kept
		// alive on the client's connection, the only way calls reach it.
		// A -contact of another address is registered plainly.
		opts = s.RegisterOptions(opts)
	}
	r := &registration{s: s, opts: o, timeout: f.timeout, sio: sio}
	return r.run(opts)
}

// registration is a register command in progress.
type registration struct {
	s       *session
	opts    registerOptions
	timeout time.Duration
	sio     stdio
	id      uint64
	ending  bool // Unregister was sent
}

func (r *registration) run(opts ua.RegisterOptions) int {
	err := r.s.do(func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		r.id, out, err = u.Register(now, opts, out)
		if err == nil && r.opts.unregister {
			out, err = u.Unregister(now, r.id, out)
		}
		return out, err
	})
	if err != nil {
		fmt.Fprintf(r.sio.err, "sansip register: %v\n", err)
		return exitUsage
	}
	r.ending = r.opts.unregister
	deadline := time.NewTimer(r.timeout)
	defer deadline.Stop()
	var keep <-chan time.Time
	failed := false
	for {
		select {
		case n := <-r.s.notes:
			if n.resp != nil {
				if n.resp.CSeq().Method == "REGISTER" {
					fmt.Fprintln(r.sio.out, n.resp.StartLine())
				}
				continue
			}
			switch n.ev.Kind {
			case effects.Registered:
				r.bindings("registered", n.ev)
				if r.ending {
					continue
				}
				if r.opts.keep <= 0 {
					return exitOK
				}
				if keep == nil {
					deadline.Stop()
					fmt.Fprintf(r.sio.out, "keeping the registration for %v\n", r.opts.keep)
					keep = time.After(r.opts.keep)
				}
			case effects.RegistrationFailed:
				fmt.Fprintf(r.sio.out, "registration failed: %s\n", failure(n.ev))
				failed = true
			case effects.Unregistered:
				if n.ev.Err != nil || failed {
					if !failed {
						fmt.Fprintf(r.sio.out, "unregistration failed: %s\n", failure(n.ev))
					}
					return exitInvalid
				}
				r.bindings("unregistered", n.ev)
				return exitOK
			}
		case <-keep:
			keep = nil
			if code := r.unregister(); code >= 0 {
				return code
			}
			deadline.Reset(r.timeout)
		case <-deadline.C:
			fmt.Fprintf(r.sio.out, "no answer within %v\n", r.timeout)
			return exitInvalid
		}
	}
}

// unregister removes the binding; it returns -1 when it was sent.
func (r *registration) unregister() int {
	r.ending = true
	err := r.s.do(func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return u.Unregister(now, r.id, out)
	})
	if err != nil {
		fmt.Fprintf(r.sio.err, "sansip register: unregister: %v\n", err)
		return exitInvalid
	}
	return -1
}

// bindings prints the bindings a 2xx lists.
func (r *registration) bindings(what string, ev effects.Event) {
	list := contacts(ev.Msg)
	fmt.Fprintf(r.sio.out, "%s: %d binding(s)\n", what, len(list))
	for _, c := range list {
		fmt.Fprintf(r.sio.out, "  %s\n", c)
	}
}
