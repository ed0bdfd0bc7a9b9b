package fuzz

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// uaApp is the UA under test and its application: it answers, rejects or
// hangs up incoming calls, accepts or refuses subscriptions and requests,
// as the policy of the message that caused the event says, and runs the
// commands of App records. It remembers every id it heard of, to end what
// it holds when the input is over.
type uaApp struct {
	n  *node
	u  *ua.UA
	id struct {
		calls, subs, notifiers, reqs, regs []uint64
	}
	ending bool
	seen   map[effects.EventKind]int // events delivered, for the seed tests
}

// newUA returns Alice's UA, a registered endpoint: AOR
// sip:alice@example.com, contact sip:alice@192.0.2.10:5060, session timers
// on, a notifier of presence, credentials for any realm.
func newUA(t testing.TB) *uaApp {
	u, err := ua.New(ua.Config{
		AOR:            mustURI("sip:alice@example.com"),
		Contact:        mustURI("sip:alice@192.0.2.10:5060"),
		Host:           "192.0.2.10",
		Port:           5060,
		Gen:            ident.Seeded(1),
		SessionExpires: 1800 * time.Second,
		UserAgent:      "sansip-fuzz",
		Events:         []ua.EventPackage{{Name: "presence", Expires: 10 * time.Minute, ContentType: "application/pidf+xml"}},
		Credentials: func(realm string) (digest.Credentials, bool) {
			return digest.Credentials{Username: "alice", Password: "secret"}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &uaApp{u: u, seen: map[effects.EventKind]int{}}
	a.n = newNode(t, "ua", u.Handle)
	a.n.react = a.react
	return a
}

// note adds id to ids once; the lists stay short (at most 16 ids).
func note(ids []uint64, id uint64) []uint64 {
	if id == 0 || slices.Contains(ids, id) || len(ids) >= 16 {
		return ids
	}
	return append(ids, id)
}

// pick returns the i-th id of ids (modulo their number), or 0.
func pick(ids []uint64, i int) uint64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[i%len(ids)]
}

// answerFor returns the description that answers an INVITE's or UPDATE's
// offer, or the offer to make when it had none.
func answerFor(m *message.Message) []byte {
	if m != nil && len(m.Body()) > 0 {
		return []byte(sdpAliceAnswer)
	}
	return []byte(sdpAliceOffer)
}

// react is the application's handling of an event, by the policy of the
// message that caused it; once the input is over, it ends everything.
func (a *uaApp) react(ev effects.Event) {
	u, n, now := a.u, a.n, a.n.now
	a.seen[ev.Kind]++
	p := n.policy
	switch ev.Kind {
	case effects.CallIncoming:
		a.id.calls = note(a.id.calls, ev.ID)
		body := answerFor(ev.Msg)
		if a.ending {
			n.do(u.Reject(now, ev.ID, 480, n.app[:0]))
			return
		}
		switch p {
		case 0:
			n.do(u.Answer(now, ev.ID, body, n.app[:0]))
		case 1:
			n.do(u.Ring(now, ev.ID, ua.RingOptions{}, n.app[:0]))
			n.do(u.Answer(now, ev.ID, body, n.app[:0]))
		case 2:
			n.do(u.Ring(now, ev.ID, ua.RingOptions{Code: 183, Body: body, Reliable: true}, n.app[:0]))
		case 3:
			n.do(u.Reject(now, ev.ID, 486, n.app[:0]))
		case 4:
			n.do(u.Ring(now, ev.ID, ua.RingOptions{}, n.app[:0]))
		case 5:
			n.do(u.Answer(now, ev.ID, body, n.app[:0]))
			n.do(u.Hangup(now, ev.ID, n.app[:0]))
		case 6:
			n.do(u.Ring(now, ev.ID, ua.RingOptions{Reliable: true}, n.app[:0]))
		}
	case effects.CallReinvite:
		a.id.calls = note(a.id.calls, ev.ID)
		if p&1 == 0 && !a.ending {
			n.do(u.Accept(now, ev.ID, answerFor(ev.Msg), n.app[:0]))
		} else {
			n.do(u.Decline(now, ev.ID, 488, n.app[:0]))
		}
	case effects.CallRinging, effects.CallAnswered, effects.CallFailed, effects.CallEnded,
		effects.SessionEstablished, effects.SessionModified, effects.CallUpdateFailed:
		a.id.calls = note(a.id.calls, ev.ID)
	case effects.RequestIncoming:
		a.id.reqs = note(a.id.reqs, ev.ID)
		switch {
		case a.ending:
			n.do(u.Reply(now, ev.ID, 500, ua.ReplyOptions{}, n.app[:0]))
		case p&3 == 0:
			n.do(u.Reply(now, ev.ID, 200, ua.ReplyOptions{}, n.app[:0]))
		case p&3 == 1:
			n.do(u.Reply(now, ev.ID, 486, ua.ReplyOptions{}, n.app[:0]))
		case p&3 == 2:
			n.do(u.Reply(now, ev.ID, 200, ua.ReplyOptions{ContentType: "text/plain", Body: []byte("ok"), Fields: [][2]string{{"Subject", "fuzz"}}}, n.app[:0]))
		}
	case effects.SubscribeIncoming:
		a.id.notifiers = note(a.id.notifiers, ev.ID)
		switch {
		case a.ending || p&3 == 2:
			n.do(u.RejectSubscription(now, ev.ID, 403, n.app[:0]))
		case p&3 == 0:
			n.do(u.AcceptSubscription(now, ev.ID, 0, n.app[:0]))
		case p&3 == 1:
			n.do(u.PendSubscription(now, ev.ID, 0, n.app[:0]))
		}
	case effects.ReferIncoming:
		a.id.notifiers = note(a.id.notifiers, ev.ID)
		switch {
		case a.ending || p&3 == 2:
			n.do(u.RejectSubscription(now, ev.ID, 603, n.app[:0]))
		case p&3 == 0:
			n.do(u.AcceptRefer(now, ev.ID, n.app[:0]))
			a.callReferred(ev.ID)
		case p&3 == 1:
			n.do(u.AcceptRefer(now, ev.ID, n.app[:0]))
		}
	case effects.SubscriptionActive, effects.SubscriptionPending, effects.NotifyReceived,
		effects.ReferAccepted, effects.TransferProgress:
		a.id.subs = note(a.id.subs, ev.ID)
	case effects.Registered, effects.RegistrationFailed, effects.RegistrationBindings, effects.RegistrationFlowFailed:
		a.id.regs = note(a.id.regs, ev.ID)
	}
}

// callReferred places the call a REFER the application accepted asks for
// (RFC 3515 §2.4.5), to peer 1.
func (a *uaApp) callReferred(id uint64) {
	target, err := a.u.ReferTarget(id)
	if err != nil {
		return
	}
	n := a.n
	cid := n.doID(a.u.Call(n.now, target, ua.CallOptions{Refer: id, Dest: PeerOf(1, effects.UDP), Body: []byte(sdpAliceOffer)}, n.app[:0]))
	a.id.calls = note(a.id.calls, cid)
}

// The application commands of App records (Arg), each on the id, peer
// and transport the record's first data byte picks: bits 0-2 the index
// among the ids of that kind, bits 3-4 the peer, bit 5 TCP.
const (
	cmdCall = iota
	cmdCallLate
	cmdHangup
	cmdAnswer
	cmdReject
	cmdReinvite
	cmdUpdate
	cmdHold
	cmdRefer
	cmdInfo
	cmdSubscribe
	cmdUnsubscribe
	cmdRefresh
	cmdNotify
	cmdNotifyEnd
	cmdRegister
	cmdUnregister
	cmdMessage
	cmdOptions
	cmdRingReliable
	cmdAccept
	cmdDecline
	cmdRegisterOutbound
	cmdFetch
	cmdReply
	cmdAcceptSub
	cmdResume
	cmdCallExpires
	cmdReferReplaces
	cmdUnregisterAll
	cmdBindings
	cmdCallReferred
)

// command runs an App record.
func (a *uaApp) command(r Record) {
	var sel byte
	if len(r.Data) > 0 {
		sel = r.Data[0]
	}
	i := int(sel & 7)
	tr := effects.UDP
	if sel&0x20 != 0 {
		tr = effects.TCP
	}
	dest := PeerOf(int(sel>>3)&3, tr)
	dest.Conn = 0 // a request of ours opens its own connection
	u, n, now := a.u, a.n, a.n.now
	call, sub, notifier := pick(a.id.calls, i), pick(a.id.subs, i), pick(a.id.notifiers, i)
	bob := mustURI("sip:bob@example.net")
	switch r.Arg {
	case cmdCall, cmdCallLate, cmdCallExpires:
		o := ua.CallOptions{Dest: dest}
		if r.Arg != cmdCallLate {
			o.Body = []byte(sdpAliceOffer)
		} else {
			o.LateAnswer = []byte(sdpAliceAnswer)
		}
		if r.Arg == cmdCallExpires {
			o.Expires = 5 * time.Second
		}
		a.id.calls = note(a.id.calls, n.doID(u.Call(now, bob, o, n.app[:0])))
	case cmdHangup:
		n.do(u.Hangup(now, call, n.app[:0]))
	case cmdAnswer:
		n.do(u.Answer(now, call, []byte(sdpAliceAnswer), n.app[:0]))
	case cmdReject:
		n.do(u.Reject(now, call, 480, n.app[:0]))
	case cmdReinvite:
		n.do(u.Update(now, call, []byte(sdpAliceOffer2), ua.UpdateOptions{}, n.app[:0]))
	case cmdUpdate:
		n.do(u.Update(now, call, []byte(sdpAliceOffer2), ua.UpdateOptions{UseUpdate: true}, n.app[:0]))
	case cmdHold:
		n.do(u.Hold(now, call, ua.UpdateOptions{UseUpdate: sel&0x40 != 0}, n.app[:0]))
	case cmdResume:
		n.do(u.Resume(now, call, ua.UpdateOptions{UseUpdate: sel&0x40 != 0}, n.app[:0]))
	case cmdRefer, cmdReferReplaces:
		var o ua.ReferOptions
		if r.Arg == cmdReferReplaces {
			o.Replaces = pick(a.id.calls, i+1)
		}
		a.id.subs = note(a.id.subs, n.doID(u.Refer(now, call, mustURI("sip:carol@192.0.2.21"), o, n.app[:0])))
	case cmdInfo:
		n.doID(u.CallRequest(now, call, "INFO", "application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"), n.app[:0]))
	case cmdSubscribe:
		a.id.subs = note(a.id.subs, n.doID(u.Subscribe(now, bob, ua.SubscribeOptions{
			Event: "presence", Expires: 10 * time.Minute, Accept: []string{"application/pidf+xml"}, Dest: dest,
		}, n.app[:0])))
	case cmdUnsubscribe:
		n.do(u.Unsubscribe(now, sub, n.app[:0]))
	case cmdRefresh:
		n.do(u.Refresh(now, sub, 5*time.Minute, n.app[:0]))
	case cmdNotify:
		n.do(u.Notify(now, notifier, header.SubscriptionState{State: "active"}, []byte(pidf), n.app[:0]))
	case cmdNotifyEnd:
		n.do(u.Notify(now, notifier, header.SubscriptionState{State: "terminated", Params: ";reason=deactivated"}, nil, n.app[:0]))
	case cmdAcceptSub:
		n.do(u.AcceptSubscription(now, notifier, time.Minute, n.app[:0]))
	case cmdRegister, cmdRegisterOutbound, cmdFetch:
		o := ua.RegisterOptions{Registrar: mustURI("sip:example.com"), Dest: dest, Expires: 10 * time.Minute, Retry: sel&0x40 != 0}
		if r.Arg == cmdRegisterOutbound {
			o.Outbound = &ua.OutboundOptions{Instance: "urn:uuid:00000000-0000-1000-8000-000a95a0e128", RegID: 1}
		}
		if r.Arg == cmdFetch {
			a.id.regs = note(a.id.regs, n.doID(u.FetchBindings(now, o, n.app[:0])))
		} else {
			a.id.regs = note(a.id.regs, n.doID(u.Register(now, o, n.app[:0])))
		}
	case cmdUnregister:
		n.do(u.Unregister(now, pick(a.id.regs, i), n.app[:0]))
	case cmdUnregisterAll:
		n.do(u.UnregisterAll(now, pick(a.id.regs, i), n.app[:0]))
	case cmdBindings:
		n.do(u.Bindings(now, pick(a.id.regs, i), n.app[:0]))
	case cmdMessage:
		n.doID(u.Request(now, "MESSAGE", bob, ua.RequestOptions{Dest: dest, ContentType: "text/plain", Body: []byte("hello")}, n.app[:0]))
	case cmdOptions:
		n.doID(u.Request(now, "OPTIONS", bob, ua.RequestOptions{Dest: dest, Contact: true}, n.app[:0]))
	case cmdRingReliable:
		n.do(u.Ring(now, call, ua.RingOptions{Code: 183, Body: []byte(sdpAliceAnswer), Reliable: true}, n.app[:0]))
	case cmdAccept:
		n.do(u.Accept(now, call, []byte(sdpAliceAnswer), n.app[:0]))
	case cmdDecline:
		n.do(u.Decline(now, call, 488, n.app[:0]))
	case cmdReply:
		n.do(u.Reply(now, pick(a.id.reqs, i), 200, ua.ReplyOptions{}, n.app[:0]))
	case cmdCallReferred:
		a.callReferred(notifier)
	}
}

// end is what the application does once the input is over: it hangs up
// or rejects every call, ends every subscription on either side, answers
// every request and removes every registration. Commands that do not fit
// an id's state fail, and that is fine.
func (a *uaApp) end() {
	a.ending = true
	u, n, now := a.u, a.n, a.n.now
	for _, id := range a.id.calls {
		n.do(u.Hangup(now, id, n.app[:0]))
		n.do(u.Reject(now, id, 480, n.app[:0]))
	}
	for _, id := range a.id.notifiers {
		n.do(u.RejectSubscription(now, id, 403, n.app[:0]))
		n.do(u.Notify(now, id, header.SubscriptionState{State: "terminated"}, nil, n.app[:0]))
	}
	for _, id := range a.id.subs {
		n.do(u.Unsubscribe(now, id, n.app[:0]))
	}
	for _, id := range a.id.reqs {
		n.do(u.Reply(now, id, 500, ua.ReplyOptions{}, n.app[:0]))
	}
	for _, id := range a.id.regs {
		n.do(u.Unregister(now, id, n.app[:0]))
	}
	n.settle()
}

// left describes what the UA still holds, or returns "".
func (a *uaApp) left() string {
	u := a.u
	var parts []string
	add := func(n int, what string) {
		if n != 0 {
			parts = append(parts, itoa(n)+" "+what)
		}
	}
	add(u.Calls(), "calls")
	add(u.Dialogs(), "dialogs")
	add(u.Transactions().Len(), "transactions")
	add(u.Subscriptions(), "subscriptions")
	add(u.Registrations(), "registrations")
	add(u.Requests(), "requests")
	add(u.Timers(), "UA timers")
	add(len(a.n.timers), "pending timers")
	sort.Strings(parts)
	return join(parts)
}

// runUA runs one FuzzUABytes input and checks that, once the application
// has ended everything and every timer has fired, nothing is left.
func runUA(t testing.TB, data []byte) *uaApp {
	a := newUA(t)
	for r := range Records(data) {
		a.n.step(r, a.command)
	}
	// The peers fall silent; the application ends what it holds; time
	// runs until no timer is left (transactions time out, subscriptions
	// and registrations expire), twice in case ending something started
	// something new.
	for range 2 {
		a.end()
		a.n.drain(20000)
	}
	if s := a.left(); s != "" {
		t.Fatalf("ua: state left after the input ended and every timer fired: %s", s)
	}
	return a
}

// FuzzUABytes feeds a UA core, configured as a registered endpoint with an
// application that answers calls and subscriptions as the input says,
// arbitrary messages and the inputs a driver would give it (see the
// package documentation). It checks that nothing panics, that what it
// sends parses, that timers are consistent, and that no state is left.
func FuzzUABytes(f *testing.F) {
	for _, s := range uaSeeds(f) {
		f.Add([]byte(s.script))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runUA(t, data)
	})
}

// TestUASeeds runs each seed of FuzzUABytes and checks that it reaches
// what it was written for: the in-dialog messages of a seed match the
// dialogs the UA created, so the events that only they cause arrive.
func TestUASeeds(t *testing.T) {
	for _, s := range uaSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			a := runUA(t, s.script)
			for _, k := range s.want {
				if a.seen[k] == 0 {
					t.Errorf("no %v event; events seen: %v", k, a.seen)
				}
			}
		})
	}
}

// TestUADeterministic runs every seed twice: the same input must give the
// same messages, byte for byte (DESIGN.md §1).
func TestUADeterministic(t *testing.T) {
	for _, s := range uaSeeds(t) {
		var runs [2][]string
		for i := range runs {
			a := newUA(t)
			a.n.record = &runs[i]
			for r := range Records(s.script) {
				a.n.step(r, a.command)
			}
			a.end()
			a.n.drain(20000)
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("%s: two runs sent different messages", s.name)
		}
	}
}

type seed struct {
	name   string
	script Script
	want   []effects.EventKind
}

// uaSeeds are the starting corpus of FuzzUABytes: call flows on both sides
// (with PRACK, UPDATE, re-INVITE, CANCEL, glare, forking, session timers),
// subscriptions on both sides, REFER, registration with digest, requests
// outside dialogs, TCP with closed connections, and every RFC 4475 and
// RFC 5118 torture message.
func uaSeeds(t testing.TB) []seed {
	const udp, tcp = effects.UDP, effects.TCP
	var seeds []seed
	add := func(name string, s Script, want ...effects.EventKind) {
		seeds = append(seeds, seed{name, s, want})
	}
	inv := bobInvite("z9hG4bKb1", "")
	add("uas-call", Script{}.
		Receive(udp, 0, 1, inv).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1a", "", "")).
		Receive(udp, 0, 0, bobReq("INVITE", 2, "z9hG4bKb2", "Content-Type: application/sdp\r\n", sdpBobOffer2)).
		Receive(udp, 0, 0, bobReq("ACK", 2, "z9hG4bKb2a", "", "")).
		Receive(udp, 0, 0, bobReq("UPDATE", 3, "z9hG4bKb3", "Content-Type: application/sdp\r\n", sdpBobOffer)).
		Receive(udp, 0, 0, bobReq("INFO", 4, "z9hG4bKb4", "Content-Type: application/dtmf-relay\r\n", "Signal=1\r\n")).
		Advance(8).
		Receive(udp, 0, 0, bobReq("BYE", 5, "z9hG4bKb5", "", "")).
		Advance(15),
		effects.CallIncoming, effects.CallAnswered, effects.CallReinvite, effects.SessionModified, effects.RequestIncoming, effects.CallEnded)
	add("uas-cancel", Script{}.
		Receive(udp, 0, 4, inv).
		Advance(4).
		Receive(udp, 0, 0, bobReq("CANCEL", 1, "z9hG4bKb1", "", "")).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1", "", "")),
		effects.CallIncoming, effects.CallEnded)
	add("uas-prack", Script{}.
		Receive(udp, 0, 2, bobInvite("z9hG4bKp1", "Require: 100rel\r\n")).
		Receive(udp, 0, 0, bobReq("PRACK", 2, "z9hG4bKp2", "RAck: "+RSeq+" 1 INVITE\r\n", "")).
		App(cmdAnswer).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKp1a", "", "")).
		Receive(udp, 0, 0, bobReq("BYE", 3, "z9hG4bKp3", "", "")),
		effects.CallIncoming, effects.SessionEstablished, effects.CallAnswered, effects.CallEnded)
	add("uas-noack", Script{}.
		Receive(udp, 0, 0, inv).
		Fire(20).
		Advance(15).
		Receive(udp, 0, 0, bobResp(200, "OK", "", "")),
		effects.CallIncoming, effects.CallEnded)
	add("uas-glare", Script{}.
		Receive(udp, 0, 0, inv).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1a", "", "")).
		App(cmdReinvite).
		Receive(udp, 0, 0, bobReq("INVITE", 2, "z9hG4bKg2", "Content-Type: application/sdp\r\n", sdpBobOffer2)).
		Receive(udp, 0, 0, aliceRespTag(491, "Request Pending", "bob1", "", "")).
		Advance(11).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "bob1", "Contact: <sip:bob@192.0.2.20:5060>\r\nContent-Type: application/sdp\r\n", sdpBobAnswer)).
		App(cmdHangup).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "bob1", "", "")),
		effects.CallIncoming, effects.CallAnswered, effects.CallEnded)
	add("uas-session-timer", Script{}.
		Receive(udp, 0, 0, bobInvite("z9hG4bKs1", "Min-SE: 90\r\n")).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKs1a", "", "")).
		Advance(24).Advance(26).Fire(4),
		effects.CallIncoming, effects.CallAnswered, effects.CallEnded)

	// Alice calls Bob (peer 0): the responses carry the macros of her
	// INVITE.
	ok := "Contact: <sip:bob@192.0.2.20:5060>\r\nContent-Type: application/sdp\r\n"
	add("uac-call", Script{}.
		App(cmdCall).
		Receive(udp, 0, 0, aliceResp(100, "Trying", "-", "")).
		Receive(udp, 0, 0, aliceResp(180, "Ringing", "Contact: <sip:bob@192.0.2.20:5060>\r\n", "")).
		Receive(udp, 0, 0, aliceResp(200, "OK", ok, sdpBobAnswer)).
		Receive(udp, 0, 0, aliceResp(200, "OK", ok, sdpBobAnswer)).
		Advance(9).
		Receive(udp, 0, 0, peerReq("BYE", 2, "z9hG4bKu2", "", "")),
		effects.CallRinging, effects.CallAnswered, effects.SessionEstablished, effects.CallEnded)
	add("uac-prack-update", Script{}.
		App(cmdCall).
		Receive(udp, 0, 0, aliceResp(183, "Session Progress", ok+"Require: 100rel\r\nRSeq: 4711\r\n", sdpBobAnswer)).
		Receive(udp, 0, 0, aliceResp(200, "OK", "", "")).
		Receive(udp, 0, 0, inviteResp(200, "OK", "Contact: <sip:bob@192.0.2.20:5060>\r\n", "")).
		App(cmdUpdate).
		Receive(udp, 0, 0, aliceResp(200, "OK", ok, sdpBobAnswer)).
		App(cmdInfo).
		Receive(udp, 0, 0, aliceResp(200, "OK", "", "")).
		App(cmdHangup).
		Receive(udp, 0, 0, aliceResp(200, "OK", "", "")),
		effects.CallRinging, effects.CallAnswered, effects.SessionModified, effects.RequestDone, effects.CallEnded)
	add("uac-cancel", Script{}.
		App(cmdCall).
		Receive(udp, 0, 0, aliceResp(180, "Ringing", "Contact: <sip:bob@192.0.2.20:5060>\r\n", "")).
		App(cmdHangup).
		Receive(udp, 0, 0, aliceResp(200, "OK", "", "")).
		Receive(udp, 0, 0, inviteResp(487, "Request Terminated", "", "")),
		effects.CallRinging, effects.CallFailed)
	add("uac-fork", Script{}.
		App(cmdCallLate).
		Receive(udp, 0, 0, aliceRespTag(180, "Ringing", "x1", "Contact: <sip:bob@192.0.2.20:5060>\r\n", "")).
		Receive(udp, 2, 0, aliceRespTag(180, "Ringing", "x2", "Contact: <sip:bob@192.0.2.20:5070>\r\n", "")).
		Receive(udp, 2, 0, aliceRespTag(200, "OK", "x2", "Contact: <sip:bob@192.0.2.20:5070>\r\nContent-Type: application/sdp\r\n", sdpBobOffer)).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "x1", "Contact: <sip:bob@192.0.2.20:5060>\r\nContent-Type: application/sdp\r\n", sdpBobOffer)).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "x1", "", "")).
		App(cmdHangup),
		effects.CallRinging, effects.CallAnswered, effects.CallEnded)
	add("uac-challenge-timeout", Script{}.
		App(cmdCallExpires, 0x20).
		Receive(tcp, 0, 0, aliceResp(407, "Proxy Authentication Required", `Proxy-Authenticate: Digest realm="example.com", nonce="n0nce", qop="auth", algorithm=MD5`+"\r\n", "")).
		Receive(tcp, 0, 0, aliceResp(100, "Trying", "-", "")).
		Advance(11).
		Receive(tcp, 0, 0, inviteResp(487, "Request Terminated", "", "")).
		Close(0),
		effects.CallFailed)

	// Subscriptions: Alice subscribes to Bob, then Bob to Alice.
	add("subscriber", Script{}.
		App(cmdSubscribe).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "n1", "Contact: <sip:bob@192.0.2.20:5060>\r\nExpires: 600\r\n", "")).
		Receive(udp, 0, 0, notify(1, "n1", "active;expires=600", pidf)).
		App(cmdRefresh).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "n1", "Expires: 300\r\n", "")).
		Receive(udp, 0, 0, notify(2, "n1", "active;expires=300", pidf)).
		App(cmdUnsubscribe).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "n1", "Expires: 0\r\n", "")).
		Receive(udp, 0, 0, notify(3, "n1", "terminated;reason=timeout", "")),
		effects.SubscriptionActive, effects.NotifyReceived, effects.SubscriptionEnded)
	add("notifier", Script{}.
		Receive(udp, 0, 0, subscribe(1, "z9hG4bKn1", false, 600)).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		App(cmdNotify).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		Receive(udp, 0, 0, subscribe(2, "z9hG4bKn2", true, 600)).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		Receive(udp, 0, 0, subscribe(3, "z9hG4bKn3", true, 0)).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")),
		effects.SubscribeIncoming, effects.SubscriptionRefreshed, effects.SubscriptionEnded)
	add("refer", Script{}.
		Receive(udp, 0, 0, inv).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1a", "", "")).
		Receive(udp, 0, 1, bobReq("REFER", 2, "z9hG4bKr2", "Refer-To: <sip:carol@192.0.2.21>\r\nReferred-By: <sip:bob@example.net>\r\n", "")).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		App(cmdCallReferred).
		Receive(udp, 1, 0, carolResp(180, "Ringing", "")).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		Receive(udp, 1, 0, carolResp(200, "OK", sdpBobAnswer)).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")).
		Receive(udp, 0, 0, bobReq("BYE", 3, "z9hG4bKr3", "", "")),
		effects.ReferIncoming, effects.CallAnswered, effects.SubscriptionEnded)
	add("refer-out", Script{}.
		Receive(udp, 0, 0, inv).
		Receive(udp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1a", "", "")).
		App(cmdRefer).
		Receive(udp, 0, 0, bobRespToAlice(202, "Accepted")).
		Receive(udp, 0, 0, bobReq("NOTIFY", 2, "z9hG4bKr4", "Event: refer\r\nSubscription-State: active;expires=60\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 100 Trying\r\n")).
		Receive(udp, 0, 0, bobReq("NOTIFY", 3, "z9hG4bKr5", "Event: refer\r\nSubscription-State: terminated;reason=noresource\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 200 OK\r\n")).
		App(cmdHangup).
		Receive(udp, 0, 0, bobRespToAlice(200, "OK")),
		effects.ReferAccepted, effects.TransferProgress, effects.CallEnded)

	// Registration with a digest challenge, a refresh, the end.
	add("register", Script{}.
		App(cmdRegister).
		Receive(udp, 0, 0, aliceRespTag(401, "Unauthorized", "r1", `WWW-Authenticate: Digest realm="example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", algorithm=MD5`+"\r\n", "")).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "r1", "Contact: <sip:alice@192.0.2.10:5060>;expires=600\r\n", "")).
		Advance(23).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "r1", "Contact: <sip:alice@192.0.2.10:5060>;expires=600\r\n", "")).
		App(cmdFetch).
		App(cmdUnregister).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "r1", "", "")),
		effects.Registered, effects.Unregistered)
	add("register-outbound", Script{}.
		App(cmdRegisterOutbound, 0x20).
		Receive(tcp, 0, 0, aliceRespTag(200, "OK", "r2", "Require: outbound\r\nFlow-Timer: 30\r\nContact: <sip:alice@192.0.2.10:5060>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";expires=600\r\n", "")).
		Advance(18).
		KeepAlive(tcp, 0).
		Close(0).
		Advance(18).
		Answer(false, 0),
		effects.Registered, effects.RegistrationFlowFailed)
	// Outbound over UDP: STUN keep-alives (RFC 5626 §4.4.2); the first
	// response is accepted, the second reports another address (the NAT
	// binding changed) and the flow fails; the UA registers again.
	add("register-outbound-udp", Script{}.
		App(cmdRegisterOutbound).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "r3", "Require: outbound\r\nFlow-Timer: 30\r\nContact: <sip:alice@192.0.2.10:5060>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";expires=600\r\n", "")).
		Advance(14).
		Pong(0, false).
		Advance(14).
		Pong(0, true).
		Advance(15).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "r3", "Require: outbound\r\nContact: <sip:alice@192.0.2.10:5060>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";expires=600\r\n", "")),
		effects.Registered, effects.RegistrationFlowFailed)

	// Requests outside any dialog, both ways.
	add("requests", Script{}.
		Receive(udp, 0, 0, outside("OPTIONS", 1, "z9hG4bKo1", "Accept: application/sdp\r\n", "")).
		Receive(udp, 0, 0, outside("MESSAGE", 2, "z9hG4bKo2", "Content-Type: text/plain\r\n", "hello")).
		Receive(udp, 0, 3, outside("MESSAGE", 3, "z9hG4bKo3", "Content-Type: text/plain\r\n", "hi")).
		Receive(udp, 3, 0, outside("REGISTER", 4, "z9hG4bKo4", "Contact: <sip:bob@[2001:db8::20]>\r\n", "")).
		Receive(udp, 0, 0, outside("INFO", 5, "z9hG4bKo5", "", "")).
		Receive(udp, 0, 0, outside("NOTIFY", 6, "z9hG4bKo6", "Event: presence\r\nSubscription-State: active\r\n", "")).
		Receive(udp, 0, 0, outside("PUBLISH", 7, "z9hG4bKo7", "Event: presence\r\n", "")).
		App(cmdMessage).
		Receive(udp, 0, 0, aliceRespTag(200, "OK", "m1", "", "")).
		App(cmdOptions, 0x08).
		Receive(udp, 1, 0, aliceRespTag(200, "OK", "m2", "Allow: INVITE\r\n", "")).
		App(cmdReply, 1).
		Advance(14),
		effects.RequestIncoming, effects.RequestDone)
	add("tcp", Script{}.
		Receive(tcp, 0, 0, inv).
		Receive(tcp, 0, 0, bobReq("ACK", 1, "z9hG4bKb1a", "", "")).
		Close(0).
		Receive(udp, 0, 0, bobReq("BYE", 2, "z9hG4bKb2", "", "")).
		KeepAlive(udp, 0).
		Answer(true, 0),
		effects.CallIncoming, effects.CallEnded)

	// The torture messages, each alone.
	msgs := torture(t)
	names := make([]string, 0, len(msgs))
	for name := range msgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		add(name, Script{}.Receive(udp, 0, 0, string(msgs[name])).Advance(15))
	}
	return seeds
}

// Bob (peer 0, sip:bob@example.net) and Alice (the UA, sip:alice@...).

const (
	sdpAliceOffer  = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
	sdpAliceOffer2 = "v=0\r\no=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	sdpAliceAnswer = "v=0\r\no=alice 2890844530 2890844530 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49174 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	sdpBobOffer    = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	sdpBobOffer2   = "v=0\r\no=bob 2808844564 2808844565 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n"
	sdpBobAnswer   = "v=0\r\no=bob 2808844570 2808844570 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3458 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	pidf           = "<?xml version=\"1.0\"?>\r\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@example.com\"><tuple id=\"a\"><status><basic>open</basic></status></tuple></presence>\r\n"
)

// bobInvite is Bob's INVITE to Alice with an offer, in his call c1.
func bobInvite(branch, extra string) string {
	return "INVITE sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Bob\" <sip:bob@example.net>;tag=bob1\r\n" +
		"To: <sip:alice@example.com>\r\n" +
		"Call-ID: c1@192.0.2.20\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:bob@192.0.2.20:5060>\r\n" +
		"Supported: 100rel, timer, replaces\r\n" +
		"Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, INFO, MESSAGE, REFER, NOTIFY, SUBSCRIBE, OPTIONS\r\n" +
		"Session-Expires: 90\r\n" +
		extra +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + Length + "\r\n\r\n" + sdpBobOffer
}

// bobReq is a request of Bob's in his call c1, inside the dialog Alice's
// UA created (its To tag is the Tag macro); ACK and CANCEL take the
// INVITE's CSeq number given.
func bobReq(method string, cseq int, branch, extra, body string) string {
	to := "To: <sip:alice@example.com>;tag=" + Tag + "\r\n"
	if method == "CANCEL" {
		to = "To: <sip:alice@example.com>\r\n"
	}
	return method + " sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Bob\" <sip:bob@example.net>;tag=bob1\r\n" +
		to +
		"Call-ID: c1@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		"Contact: <sip:bob@192.0.2.20:5060>\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// peerReq is a request of the peer's inside a dialog Alice's INVITE or
// SUBSCRIBE created (the Tag and CallID macros), from tag bob2.
func peerReq(method string, cseq int, branch, extra, body string) string {
	return method + " sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:bob@example.net>;tag=bob2\r\n" +
		"To: <sip:alice@example.com>;tag=" + Tag + "\r\n" +
		"Call-ID: " + CallID + "\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// aliceResp is the peer's response to the last request Alice's UA sent,
// with To tag bob2 ("-" for none).
func aliceResp(code int, reason, extra, body string) string {
	return aliceRespTag(code, reason, "bob2", extra, body)
}

func aliceRespTag(code int, reason, tag, extra, body string) string {
	to := "To: <sip:bob@example.net>;tag=" + tag + "\r\n"
	if tag == "-" {
		to = "To: <sip:bob@example.net>\r\n"
	}
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" + Vias +
		"From: <sip:alice@example.com>;tag=" + From + "\r\n" + to +
		"Call-ID: " + CallID + "\r\n" +
		"CSeq: " + CSeq + " " + Method + "\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// inviteResp is the peer's final response to Alice's last INVITE, after
// another request (PRACK, CANCEL) went out.
func inviteResp(code int, reason, extra, body string) string {
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" + InviteVias +
		"From: <sip:alice@example.com>;tag=" + InviteFrom + "\r\n" +
		"To: <sip:bob@example.net>;tag=bob2\r\n" +
		"Call-ID: " + InviteCallID + "\r\n" +
		"CSeq: " + InviteCSeq + " INVITE\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// bobResp is Bob's stray response in his call c1.
func bobResp(code int, reason, extra, body string) string {
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKstray\r\n" +
		"From: <sip:alice@example.com>;tag=" + Tag + "\r\n" +
		"To: \"Bob\" <sip:bob@example.net>;tag=bob1\r\n" +
		"Call-ID: c1@192.0.2.20\r\n" +
		"CSeq: 1 BYE\r\n" + extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// bobRespToAlice is Bob's response to the last request Alice's UA sent in
// a dialog Bob created (c1, or his subscription s1): From Alice's tag, To
// Bob's.
func bobRespToAlice(code int, reason string) string {
	return aliceRespTag(code, reason, "bob1", "", "")
}

// carolResp is Carol's (peer 1) response to Alice's last INVITE.
func carolResp(code int, reason, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" + InviteVias +
		"From: <sip:alice@example.com>;tag=" + InviteFrom + "\r\n" +
		"To: <sip:carol@192.0.2.21>;tag=carol1\r\n" +
		"Call-ID: " + InviteCallID + "\r\n" +
		"CSeq: " + InviteCSeq + " INVITE\r\n" +
		"Contact: <sip:carol@192.0.2.21:5060>\r\n" + ct +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// notify is Bob's NOTIFY in the subscription Alice's SUBSCRIBE created.
func notify(cseq int, tag, state, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/pidf+xml\r\n"
	}
	return "NOTIFY sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKnot" + itoa(cseq) + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:bob@example.net>;tag=" + tag + "\r\n" +
		"To: <sip:alice@example.com>;tag=" + Tag + "\r\n" +
		"Call-ID: " + CallID + "\r\n" +
		"CSeq: " + itoa(cseq) + " NOTIFY\r\n" +
		"Contact: <sip:bob@192.0.2.20:5060>\r\n" +
		"Event: presence\r\n" +
		"Subscription-State: " + state + "\r\n" + ct +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// subscribe is Bob's SUBSCRIBE to Alice's presence: the first outside any
// dialog, then refreshes inside the one it created.
func subscribe(cseq int, branch string, inDialog bool, expires int) string {
	to := "To: <sip:alice@example.com>\r\n"
	if inDialog {
		to = "To: <sip:alice@example.com>;tag=" + Tag + "\r\n"
	}
	return "SUBSCRIBE sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Bob\" <sip:bob@example.net>;tag=bob1\r\n" + to +
		"Call-ID: s1@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " SUBSCRIBE\r\n" +
		"Contact: <sip:bob@192.0.2.20:5060>\r\n" +
		"Event: presence\r\n" +
		"Accept: application/pidf+xml\r\n" +
		"Expires: " + itoa(expires) + "\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// outside is a request of Bob's outside any dialog.
func outside(method string, cseq int, branch, extra, body string) string {
	return method + " sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:bob@example.net>;tag=o" + itoa(cseq) + "\r\n" +
		"To: <sip:alice@example.com>\r\n" +
		"Call-ID: o" + itoa(cseq) + "@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
