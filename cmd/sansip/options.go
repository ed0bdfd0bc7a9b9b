package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
)

var optionsCommand = &command{
	name:     "options",
	synopsis: "[-proxy ADDR] [-transport T] [-local ADDR] [-timeout D] [-user U -pass P] URI",
	summary:  "send an OPTIONS request and show what the peer supports",
	help: `
Options sends an OPTIONS request (RFC 3261 §11) to URI, to the server RFC
3263 finds for it (a numeric host is used as is) or to -proxy, and prints
the final response's status line and its Allow, Supported and Accept
header fields. A digest challenge is answered with -user and -pass.

Exit status: 0 for a 2xx response, 1 for any other final response or no
response within -timeout, 2 for a usage error or when the request could
not be sent.`,
}

func init() { optionsCommand.run = runOptions }

func runOptions(args []string, sio stdio) int {
	fs := optionsCommand.flagSet(args, sio)
	var f clientFlags
	f.add(fs, 10*time.Second, true)
	operands, status, stop := parseFlags(fs, args)
	if stop {
		return status
	}
	target, ok := targetArg("options", operands, sio)
	if !ok {
		return exitUsage
	}
	cfg, err := f.config(target, sio)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip options: %v\n", err)
		return exitUsage
	}
	s, err := startClient(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(sio.err, "sansip options: %v\n", err)
		return exitUsage
	}
	defer s.stop()
	err = s.do(func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Request(now, "OPTIONS", target, ua.RequestOptions{Dest: s.Next(), Contact: true}, out)
		return out, err
	})
	if err != nil {
		fmt.Fprintf(sio.err, "sansip options: %v\n", err)
		return exitUsage
	}
	return waitOptions(s, f.timeout, sio)
}

// waitOptions waits for the OPTIONS's final response and prints it.
func waitOptions(s *session, timeout time.Duration, sio stdio) int {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case n := <-s.notes:
			if n.ev.Kind != effects.RequestDone {
				continue
			}
			if n.ev.Msg == nil {
				fmt.Fprintf(sio.out, "no response: %s\n", failure(n.ev))
				return exitInvalid
			}
			printOptions(n.ev.Msg, sio)
			if c := n.ev.Code; c >= 200 && c < 300 {
				return exitOK
			}
			return exitInvalid
		case <-deadline.C:
			fmt.Fprintf(sio.out, "no response within %v\n", timeout)
			return exitInvalid
		}
	}
}

// printOptions prints the status line and what the peer supports.
func printOptions(m *message.Message, sio stdio) {
	fmt.Fprintln(sio.out, m.StartLine())
	for _, name := range []string{"Allow", "Supported", "Accept"} {
		if v := m.Values(name); len(v) > 0 {
			fmt.Fprintf(sio.out, "%s: %s\n", name, strings.Join(v, ", "))
		}
	}
}
