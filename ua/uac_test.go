package ua

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// RFC 3261 §12.1.2 and §13.2.2.4: a 2xx to an INVITE that can create no
// dialog (no To tag, or no Contact) cannot be acknowledged. When the
// INVITE transaction ends (Timer M, RFC 6026 §7.2) with nothing better
// arrived, the call attempt has failed: CallFailed, and nothing left. (Found
// by fuzz.FuzzUABytes: the call stayed forever, and Hangup could not end
// it.)
func TestUnusable2xxFailsCall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tag     string
		contact bool
	}{
		{"no To tag", "", true},
		{"no Contact", "b1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := New(Config{AOR: mustURI("sip:alice@example.com"), Contact: mustURI("sip:alice@192.0.2.1"), Host: "192.0.2.1", Gen: ident.Seeded(1)})
			if err != nil {
				t.Fatal(err)
			}
			bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
			timers := map[effects.TimerID]effects.Time{}
			var now effects.Time
			var events []effects.Event
			var invite *message.Message
			apply := func(effs []effects.Effect) {
				for _, e := range effs {
					switch e.Kind {
					case effects.Send:
						if e.Msg != nil && e.Msg.IsRequest() && e.Msg.Method() == "INVITE" {
							invite = e.Msg
						}
					case effects.SetTimer:
						timers[e.Timer] = now.Add(e.After)
					case effects.CancelTimer:
						delete(timers, e.Timer)
					case effects.Deliver:
						events = append(events, e.Event)
					}
				}
			}
			id, out, err := u.Call(now, mustURI("sip:bob@192.0.2.2"), CallOptions{Dest: bob, Body: []byte(sdpOffer)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			apply(out)
			// A 100 gets no To tag: made one, it becomes the 2xx.
			code := 200
			if tc.tag == "" {
				code = 100
			}
			ok, err := message.NewResponse(invite, code, "", message.ResponseOptions{ToTag: tc.tag})
			if err != nil {
				t.Fatal(err)
			}
			if err := ok.SetStatus(200, "OK"); err != nil {
				t.Fatal(err)
			}
			if tc.contact {
				ok.Set("Contact", "<sip:bob@192.0.2.2>")
			}
			ok.SetBody("application/sdp", []byte(sdpAnswer))
			apply(u.Handle(effects.Input{Kind: effects.Received, Now: now, Data: ok.Bytes(), From: bob}, nil))
			out, _ = u.Hangup(now, id, nil)
			apply(out)
			fireTimers(t, u, &now, timers, apply)
			failed := slices.IndexFunc(events, func(ev effects.Event) bool { return ev.Kind == effects.CallFailed && ev.ID == id })
			if failed < 0 {
				t.Errorf("no CallFailed; events %v", events)
			}
			if u.Calls() != 0 || u.Transactions().Len() != 0 || u.Timers() != 0 {
				t.Errorf("left %d calls, %d transactions, %d timers", u.Calls(), u.Transactions().Len(), u.Timers())
			}
		})
	}
}

// RFC 3261 §15: a BYE may end an early dialog; when it ends the last one,
// the call ends while its INVITE still waits for a final response, and in
// the Proceeding state no timer of the transaction's own ends it
// (§17.1.1.2). The INVITE is cancelled (§9.1) and its transaction let go
// 64·T1 later: nothing is left. (Found by fuzz.FuzzUABytes: the INVITE
// transaction stayed forever once an UPDATE in the early dialog timed
// out; a BYE from the callee ends the early dialog the same way.)
func TestEarlyDialogEndLetsInviteGo(t *testing.T) {
	u, err := New(Config{AOR: mustURI("sip:alice@example.com"), Contact: mustURI("sip:alice@192.0.2.1"), Host: "192.0.2.1", Gen: ident.Seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
	timers := map[effects.TimerID]effects.Time{}
	var now effects.Time
	var sent []*message.Message
	var events []effects.Event
	apply := func(effs []effects.Effect) {
		for _, e := range effs {
			switch e.Kind {
			case effects.Send:
				if e.Msg != nil {
					sent = append(sent, e.Msg)
				}
			case effects.SetTimer:
				timers[e.Timer] = now.Add(e.After)
			case effects.CancelTimer:
				delete(timers, e.Timer)
			case effects.Deliver:
				events = append(events, e.Event)
			}
		}
	}
	id, out, err := u.Call(now, mustURI("sip:bob@192.0.2.2"), CallOptions{Dest: bob, Body: []byte(sdpOffer)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(out)
	invite := sent[0]
	ringing, err := message.NewResponse(invite, 180, "", message.ResponseOptions{ToTag: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	ringing.Set("Contact", "<sip:bob@192.0.2.2>")
	apply(u.Handle(effects.Input{Kind: effects.Received, Now: now, Data: ringing.Bytes(), From: bob}, nil))
	bye := "BYE sip:alice@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKbye1\r\nMax-Forwards: 70\r\n" +
		"From: <sip:bob@192.0.2.2>;tag=b1\r\nTo: <sip:alice@example.com>;tag=" + invite.FromTag() + "\r\nCall-ID: " + invite.CallID() + "\r\n" +
		"CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
	apply(u.Handle(effects.Input{Kind: effects.Received, Now: now, Data: []byte(bye), From: bob}, nil))
	if !slices.ContainsFunc(events, func(ev effects.Event) bool { return ev.Kind == effects.CallEnded && ev.ID == id }) {
		t.Fatalf("the BYE did not end the call: %v", events)
	}
	if !slices.ContainsFunc(sent, func(m *message.Message) bool { return m.IsRequest() && m.Method() == "CANCEL" }) {
		t.Error("the INVITE was not cancelled (§9.1)")
	}
	fireTimers(t, u, &now, timers, apply)
	if u.Calls() != 0 || u.Dialogs() != 0 || u.Transactions().Len() != 0 || u.Timers() != 0 {
		t.Errorf("left %d calls, %d dialogs, %d transactions, %d timers", u.Calls(), u.Dialogs(), u.Transactions().Len(), u.Timers())
	}
}

// fireTimers fires the timers of a UA driven by hand in time order, ids
// breaking ties so that runs replay, until none is left; it fails the test
// if they run on past an hour. *now is the clock apply reads (it records
// SetTimer in timers as *now plus the delay), moved as timers fire.
func fireTimers(t *testing.T, u *UA, now *effects.Time, timers map[effects.TimerID]effects.Time, apply func([]effects.Effect)) {
	t.Helper()
	for len(timers) > 0 {
		next := slices.MinFunc(slices.Collect(maps.Keys(timers)), func(a, b effects.TimerID) int {
			return cmp.Or(cmp.Compare(timers[a], timers[b]), cmp.Compare(a, b))
		})
		*now = max(*now, timers[next])
		if time.Duration(*now) > time.Hour {
			t.Fatal("timers still set after an hour")
		}
		delete(timers, next)
		apply(u.Handle(effects.Input{Kind: effects.TimerFired, Now: *now, Timer: next}, nil))
	}
}
