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
	"errors"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sansip/sansip/sdp"
	"github.com/sansip/sansip/service"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP and TCP address")
	hangup := flag.Duration("hangup", 0, "hang up answered calls after this long (0: never)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	host := "127.0.0.1" // the media address written in the SDP
	if a, err := netip.ParseAddrPort(*listen); err == nil && !a.Addr().IsUnspecified() {
		host = a.Addr().String()
	}
	caps := sdp.Capabilities{Username: "autoanswer", SessionID: uint64(time.Now().Unix()), Address: host,
		Media: []sdp.MediaCapability{{Type: "audio", Port: 40000, Codecs: []sdp.Codec{
			{Name: "PCMU", ClockRate: 8000}, {Name: "PCMA", ClockRate: 8000},
			{Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"},
		}}}}

	onCall := func(c *service.Call) {
		user := c.Invite().RequestURI().User
		log.Info("call", "to", user, "from", c.From().URI.String(), "call-id", c.CallID())
		if user == "busy" {
			c.Reject(486, "")
			return
		}
		answer, err := answerTo(c.RemoteSDP(), caps)
		if err != nil {
			log.Warn("offer not accepted", "call-id", c.CallID(), "err", err)
			c.Reject(488, "")
			return
		}
		c.Ring(180, nil)
		c.Answer(answer)
		if *hangup > 0 {
			time.AfterFunc(*hangup, func() { c.Hangup() })
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := service.Run(ctx, service.Config{
		UDP: []string{*listen}, TCP: []string{*listen},
		Route: func(r *service.Request) { r.Local() }, OnCall: onCall, Logger: log,
	})
	if err != nil {
		log.Error("stopped", "err", err)
		os.Exit(1)
	}
}

// answerTo returns the SDP answer to offer (RFC 3264), or an offer of
// ours when there is none; an error when nothing offered is acceptable.
func answerTo(offer []byte, caps sdp.Capabilities) ([]byte, error) {
	s, err := sdp.Offer(caps)
	if len(offer) > 0 {
		var o *sdp.Session
		if o, err = sdp.Parse(offer); err == nil {
			s, err = sdp.Answer(o, caps)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, m := range s.Media {
		if m.Port != 0 {
			return s.Marshal(), nil
		}
	}
	return nil, errors.New("no codec in common")
}
