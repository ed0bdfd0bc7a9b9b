package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
)

var callCommand = &command{
	name:     "call",
	synopsis: "[-duration D] [-timeout D] [-user U -pass P] [-proxy ADDR] [-transport T] [-local ADDR] URI",
	summary:  "place a call, report each response, hang up after a while",
	help: `
Call places a call to URI: an INVITE with an SDP offer of one audio stream
on the local address (no media is sent), to the server RFC 3263 finds for
URI (a numeric host is used as is) or to -proxy. It prints each response
as it comes, provisional and final; once the call is answered it hangs up
after -duration and prints the answer to its BYE. A digest challenge is
answered with -user and -pass. Without an answer within -timeout the call
is cancelled; an interrupt (^C) hangs up at once.

Exit status: 0 when the call was answered and hung up cleanly (a 2xx to
the BYE), 1 when it failed (the failure code is printed), was not
answered in time, or the peer hung up first; 2 for a usage error.`,
}

func init() { callCommand.run = runCall }

func runCall(args []string, sio stdio) int {
	fs := callCommand.flagSet(args, sio)
	var f clientFlags
	f.add(fs, 30*time.Second, true)
	duration := fs.Duration("duration", 2*time.Second, "how long to stay in the call once answered")
	operands, status, stop := parseFlags(fs, args)
	if stop {
		return status
	}
	target, ok := targetArg("call", operands, sio)
	if !ok {
		return exitUsage
	}
	cfg, err := f.config(target, sio)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip call: %v\n", err)
		return exitUsage
	}
	s, err := startClient(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip call: %v\n", err)
		return exitUsage
	}
	defer s.stop()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	c := &caller{s: s, sio: sio, duration: *duration, timeout: f.timeout}
	return c.run(ctx)
}

// caller is a call command in progress.
type caller struct {
	s                 *session
	sio               stdio
	duration, timeout time.Duration
	id                ua.CallID
	answered, hungUp  bool
}

func (c *caller) run(ctx context.Context) int {
	offer, err := c.s.Offer()
	if err != nil {
		fmt.Fprintf(c.sio.err, "sansip call: %v\n", err)
		return exitUsage
	}
	err = c.s.do(func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		c.id, out, err = u.Call(now, c.s.Target(), ua.CallOptions{Dest: c.s.Next(), Body: offer}, out)
		return out, err
	})
	if err != nil {
		fmt.Fprintf(c.sio.err, "sansip call: %v\n", err)
		return exitUsage
	}
	next := c.s.Next()
	next.Conn = 0 // the WebSocket connection's id says nothing to a user
	fmt.Fprintf(c.sio.out, "calling %s via %s\n", c.s.Target(), next)
	deadline := time.NewTimer(c.timeout)
	defer deadline.Stop()
	var hangup <-chan time.Time
	for {
		select {
		case n := <-c.s.notes:
			if n.resp != nil {
				if code, done := c.response(n); done {
					return code
				}
				continue
			}
			if code, done := c.event(n.ev); done {
				return code
			}
			if n.ev.Kind == effects.CallAnswered {
				deadline.Stop()
				hangup = time.After(c.duration)
			}
		case <-hangup:
			hangup = nil
			if code, done := c.hangup(); done {
				return code
			}
			deadline.Reset(c.timeout)
		case <-ctx.Done():
			ctx = context.Background()
			fmt.Fprintln(c.sio.out, "interrupted")
			hangup = nil
			if code, done := c.hangup(); done {
				return code
			}
			deadline.Reset(c.timeout)
		case <-deadline.C:
			return c.expired()
		}
	}
}

// response prints a response to the INVITE or the BYE; the BYE's ends the
// command.
func (c *caller) response(n note) (int, bool) {
	switch n.resp.CSeq().Method {
	case "INVITE":
		fmt.Fprintln(c.sio.out, n.resp.StartLine())
	case "CANCEL":
		fmt.Fprintf(c.sio.out, "CANCEL: %s\n", n.resp.StartLine())
	case "BYE":
		fmt.Fprintf(c.sio.out, "BYE: %s\n", n.resp.StartLine())
		if code := n.resp.StatusCode(); code >= 200 && code < 300 {
			return exitOK, true
		} else if code >= 200 && code != 401 && code != 407 {
			return exitInvalid, true
		}
	}
	return 0, false
}

// event handles the call's events; it reports the exit status when the
// command is over.
func (c *caller) event(ev effects.Event) (int, bool) {
	switch ev.Kind {
	case effects.CallAnswered:
		c.answered = true
		fmt.Fprintf(c.sio.out, "answered; hanging up in %v\n", c.duration)
	case effects.CallFailed:
		fmt.Fprintf(c.sio.out, "call failed: %s\n", failure(ev))
		return exitInvalid, true
	case effects.CallEnded:
		if !c.hungUp {
			fmt.Fprintf(c.sio.out, "call ended by the peer: %v\n", ev.Err)
			return exitInvalid, true
		}
	}
	return 0, false
}

// hangup ends the call: a BYE once answered, else a CANCEL.
func (c *caller) hangup() (int, bool) {
	c.hungUp = true
	if c.answered {
		fmt.Fprintln(c.sio.out, "hanging up")
	} else {
		fmt.Fprintln(c.sio.out, "cancelling")
	}
	err := c.s.do(func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return u.Hangup(now, c.id, out)
	})
	if err != nil {
		fmt.Fprintf(c.sio.err, "sansip call: hangup: %v\n", err)
		return exitInvalid, true
	}
	return 0, false
}

// expired handles -timeout: no answer (cancel, then wait for the 487 a
// while), or no answer to the BYE or CANCEL.
func (c *caller) expired() int {
	if c.hungUp {
		fmt.Fprintf(c.sio.out, "no answer to the hangup within %v\n", c.timeout)
		return exitInvalid
	}
	fmt.Fprintf(c.sio.out, "not answered within %v\n", c.timeout)
	c.hangup()
	wait := time.After(c.timeout)
	for {
		select {
		case n := <-c.s.notes:
			if n.resp != nil {
				c.response(n)
			} else if n.ev.Kind == effects.CallFailed || n.ev.Kind == effects.CallEnded {
				c.event(n.ev)
				return exitInvalid
			} else if n.ev.Kind == effects.CallAnswered {
				// Answered as it was cancelled: the UA sends the BYE.
				c.answered = true
			}
		case <-wait:
			return exitInvalid
		}
	}
}
