package txn

import (
	"errors"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// Match and Cancels find what Handle would (§17.1.3, §17.2.3, §9.2)
// without handling the message: a dispatcher asks before it chooses a
// core.
func TestMatchAndCancels(t *testing.T) {
	h := newHarness(t, Config{})
	inv := request("INVITE", effects.UDP, ident.Seeded(1))
	if _, ok := h.l.Match(inv); ok {
		t.Fatal("a new INVITE matched")
	}
	ev := events(h.receive(inv, alice))
	id := ev[0].ID
	for _, tc := range []struct {
		name string
		m    *message.Message
		want ID
	}{
		{"the INVITE retransmitted", inv, id},
		{"another INVITE", request("INVITE", effects.UDP, ident.Seeded(2)), 0},
	} {
		got, ok := h.l.Match(tc.m)
		if got != tc.want || ok != (tc.want != 0) {
			t.Errorf("%s: Match = %x, %v; want %x", tc.name, got, ok, tc.want)
		}
	}
	cancel, _ := message.CancelFor(inv)
	if got, ok := h.l.Cancels(cancel); !ok || got != id {
		t.Errorf("Cancels = %x, %v; want %x", got, ok, id)
	}
	if _, ok := h.l.Match(cancel); ok {
		t.Error("a CANCEL matched before its own transaction existed")
	}
	if _, ok := h.l.Cancels(inv); ok {
		t.Error("an INVITE cancels something")
	}
	// The ACK of a non-2xx final response matches the INVITE's
	// transaction.
	resp := response(inv, 486)
	h.respond(id, resp)
	ack, _ := message.AckFor(inv, resp)
	if got, ok := h.l.Match(ack); !ok || got != id {
		t.Errorf("ACK: Match = %x, %v; want %x", got, ok, id)
	}

	// A response matches the client transaction of its request.
	req := request("OPTIONS", effects.UDP, ident.Seeded(3))
	cid, _ := h.newClient(req, bob)
	if got, ok := h.l.Match(response(req, 200)); !ok || got != cid {
		t.Errorf("response: Match = %x, %v; want %x", got, ok, cid)
	}
	if _, ok := h.l.Match(response(request("OPTIONS", effects.UDP, ident.Seeded(4)), 200)); ok {
		t.Error("a stray response matched")
	}
}

// Transaction ids stay below 2^56 and timer ids below 2^60 however often a
// slot is reused: the upper bits are the transaction user's (see ID).
func TestIDBounds(t *testing.T) {
	l := New(Config{})
	tx := l.alloc(ServerNonInvite)
	slot := uint32(tx.id)
	l.gens[slot] = 1<<genBits - 2
	for range 4 {
		l.slots[slot] = nil
		l.live--
		l.free = append(l.free, slot)
		tx = l.alloc(ServerNonInvite)
		if tx.id >= 1<<56 || uint64(timerID(tx.id, TimerK)) >= 1<<60 {
			t.Fatalf("id %x, timer id %x out of bounds", tx.id, timerID(tx.id, TimerK))
		}
		if tx.id>>32 == 0 {
			t.Fatalf("generation 0 in id %x", tx.id)
		}
	}
}

// Busy reports transactions that wait for a final response, not those
// that linger for their timers (RFC 3261 §17: Completed, Confirmed;
// RFC 6026: Accepted).
func TestBusy(t *testing.T) {
	h := newHarness(t, Config{})
	if h.l.Busy() {
		t.Fatal("an empty layer is busy")
	}
	inv := request("INVITE", effects.UDP, ident.Seeded(1))
	id := events(h.receive(inv, alice))[0].ID
	if !h.l.Busy() {
		t.Fatal("an INVITE in Proceeding is not busy")
	}
	h.respond(id, response(inv, 486))
	if h.l.Busy() || h.l.Len() != 1 {
		t.Fatalf("a Completed INVITE is busy (or gone: %d live)", h.l.Len())
	}
	req := request("OPTIONS", effects.UDP, ident.Seeded(2))
	h.newClient(req, bob)
	if !h.l.Busy() {
		t.Fatal("a client transaction in Trying is not busy")
	}
}

// TestRespondStateless: a final response given statelessly (RFC 3261
// §8.2.7) is sent and ends the non-INVITE server transaction at once, its
// timers cancelled, so that a retransmission of the request is a new
// request; INVITE transactions, provisional responses and transactions
// already answered are refused.
func TestRespondStateless(t *testing.T) {
	h := newHarness(t, Config{})
	reg := request("REGISTER", effects.UDP, ident.Seeded(1))
	id := events(h.receive(reg, alice))[0].ID
	if _, err := h.l.RespondStateless(0, id, response(reg, 100), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("a 100: %v", err)
	}
	out, err := h.l.RespondStateless(0, id, response(reg, 401), nil)
	if err != nil {
		t.Fatal(err)
	}
	var sent, ended int
	for _, e := range out {
		switch {
		case e.Kind == effects.Send && e.Msg != nil && e.Msg.StatusCode() == 401:
			sent++
		case e.Kind == effects.Deliver && e.Event.Kind == effects.TxnTerminated && e.Event.ID == id:
			ended++
		case e.Kind == effects.SetTimer:
			t.Errorf("a timer set: %+v", e)
		}
	}
	if sent != 1 || ended != 1 || h.l.Len() != 0 {
		t.Errorf("sent %d, ended %d, %d live; effects %+v", sent, ended, h.l.Len(), out)
	}
	// The retransmission is a new request.
	evs := events(h.l.Handle(effects.Input{Kind: effects.Received, Data: reg.Bytes(), From: alice}, nil))
	if len(evs) != 1 || evs[0].Kind != effects.TxnRequest || evs[0].ID == id {
		t.Errorf("retransmission: %+v", evs)
	}
	if _, err := h.l.RespondStateless(0, id, response(reg, 401), nil); !errors.Is(err, ErrNoTransaction) {
		t.Errorf("ended transaction: %v", err)
	}
	h.respond(evs[0].ID, response(reg, 200))
	if _, err := h.l.RespondStateless(0, evs[0].ID, response(reg, 401), nil); !errors.Is(err, ErrState) {
		t.Errorf("answered transaction: %v", err)
	}
	inv := request("INVITE", effects.UDP, ident.Seeded(2))
	iid := events(h.receive(inv, alice))[0].ID
	if _, err := h.l.RespondStateless(0, iid, response(inv, 401), nil); !errors.Is(err, ErrState) {
		t.Errorf("INVITE: %v", err)
	}
}
