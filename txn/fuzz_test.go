package txn

import (
	"fmt"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// FuzzLayer feeds a Layer an arbitrary interleaving of inputs for many
// transactions (new client transactions, requests and their
// retransmissions, responses of any code, TU answers, ACKs, timer fires,
// transport errors, closed connections, keep-alives, arbitrary bytes) and
// checks that it never panics, that the table stays within its bound, that
// nothing concerns a transaction after it ended and that no timer is left
// pending for one; then it answers everything and fires every timer, after
// which the table must be empty.
func FuzzLayer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{0, 0, 0, 2, 2, 2, 5, 5, 5, 3, 3, 3, 7, 7})
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		const max = 16
		h := newHarness(catcher{}, Config{MaxTransactions: max})
		gen := ident.Seeded(uint64(len(ops)))
		var reqs []*message.Message // requests sent to us or by us
		var servers []ID
		type final struct {
			id   ID
			resp *message.Message
			req  *message.Message
		}
		var finals []final
		pick := func(b byte, n int) int { return int(b) % n }
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%v", r)
			}
		}()
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], ops[i+1]
			tr := effects.UDP
			if arg&1 == 1 {
				tr = effects.TCP
			}
			var effs []effects.Effect
			switch op % 12 {
			case 0: // the TU starts a client transaction
				method := [...]string{"INVITE", "OPTIONS", "BYE"}[pick(arg, 3)]
				req := request(method, tr, gen)
				reqs = append(reqs, req)
				_, out, _ := h.l.NewClient(h.now, req, onTransport(bob, tr), nil)
				effs = h.take(out)
			case 1: // a new request arrives
				req := request([...]string{"INVITE", "OPTIONS", "CANCEL"}[pick(arg, 3)], tr, gen)
				reqs = append(reqs, req)
				effs = h.receive(req, onTransport(alice, tr))
			case 2: // an earlier request arrives again
				if len(reqs) > 0 {
					effs = h.receive(reqs[pick(arg, len(reqs))], alice)
				}
			case 3: // a response to an earlier request
				if len(reqs) > 0 {
					effs = h.receive(response(reqs[pick(arg, len(reqs))], codes[pick(arg>>3, len(codes))]), bob)
				}
			case 4, 5: // the TU answers a server transaction
				if len(servers) > 0 {
					id := servers[pick(arg, len(servers))]
					if r := h.l.Request(id); r != nil {
						resp := response(r, codes[pick(arg>>3, len(codes))])
						if out, err := h.l.Respond(h.now, id, resp, nil); err == nil {
							effs = h.take(out)
							if resp.StatusCode() >= 200 {
								finals = append(finals, final{id, resp, r})
							}
						}
					}
				}
			case 6: // an ACK for a final response we sent
				if len(finals) > 0 {
					fin := finals[pick(arg, len(finals))]
					if r := fin.req; r.Method() == "INVITE" {
						if ack, err := message.AckFor(r, fin.resp); err == nil {
							effs = h.receive(ack, alice)
						}
					}
				}
			case 7, 8: // a timer
				if ids := h.pendingSorted(); len(ids) > 0 {
					effs = h.fireID(ids[pick(arg, len(ids))])
				}
			case 9: // a send fails
				effs = h.take(h.l.Handle(effects.Input{Kind: effects.SendFailed, Tag: ID(arg) | ID(arg)<<32}, nil))
				for _, e := range h.log {
					if e.Kind == effects.Send && e.Tag != 0 && pick(arg, 4) == 0 {
						effs = h.sendFailed(e.Tag)
						break
					}
				}
			case 10: // a connection closes, or a keep-alive
				if arg&2 == 0 {
					effs = h.take(h.l.Handle(effects.Input{Kind: effects.ConnClosed, Conn: 7}, nil))
				} else {
					effs = h.take(h.l.Handle(effects.Input{Kind: effects.KeepAlive, From: alice}, nil))
				}
			case 11: // arbitrary bytes
				effs = h.take(h.l.Handle(effects.Input{Kind: effects.Received, Data: ops[i:], From: alice}, nil))
			}
			for _, e := range effs {
				if e.Kind == effects.Deliver && (e.Event.Kind == effects.TxnRequest || e.Event.Kind == effects.TxnCancel) {
					servers = append(servers, e.Event.ID)
				}
			}
			if h.l.Len() > max {
				t.Fatalf("%d transactions, bound %d", h.l.Len(), max)
			}
		}
		// Answer every server transaction, give every client transaction a
		// final response, fire every timer: nothing may be left.
		for _, id := range servers {
			if r := h.l.Request(id); r != nil {
				if out, err := h.l.Respond(h.now, id, response(r, 500), nil); err == nil {
					h.take(out)
				}
			}
		}
		for _, r := range reqs {
			h.receive(response(r, 500), bob)
		}
		h.drain()
		if h.l.Len() != 0 {
			t.Fatal(fmt.Sprintf("%d transactions left", h.l.Len()))
		}
	})
}
