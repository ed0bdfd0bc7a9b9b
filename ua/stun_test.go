package ua

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/stun"
)

// stunSend is one STUN keep-alive Bob sent.
type stunSend struct {
	at time.Duration
	tx stun.TransactionID
	to effects.Peer
}

// RFC 5626 §4.4.2 with RFC 5389 §7.2.1: on a UDP flow the keep-alive is a
// STUN Binding request, sent at the §4.4.1 interval (24-29 s without
// Flow-Timer) and retransmitted after RTO, 2·RTO, 4·RTO... (RTO = T1,
// seven requests at most) until a response with its transaction id
// arrives. The flow fails, and the UA registers again after the §4.5
// backoff, when no response comes within 39.5 s (16·RTO after the
// seventh request), when an error response comes, or when the
// XOR-MAPPED-ADDRESS differs from the flow's first one: the NAT binding
// changed. A response with another transaction id is not the answer.
func TestOutboundSTUN(t *testing.T) {
	natA := netip.MustParseAddrPort("203.0.113.9:40000")
	natB := netip.MustParseAddrPort("203.0.113.9:40002")
	success := func(req stun.Message, mapped netip.AddrPort) []byte {
		return stun.AppendBindingSuccess(nil, req.TxID, mapped)
	}
	retransmits := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond,
		7500 * time.Millisecond, 15500 * time.Millisecond, 31500 * time.Millisecond}
	tests := []struct {
		name string
		// answer is the edge proxy's answer to transmission sent (from 0)
		// of Bob's transaction k (from 0); nil answers nothing.
		answer func(k, sent int, req stun.Message) []byte
		// sends are the transmissions of the failing transaction (or the
		// first), after its first.
		sends []time.Duration
		// fail is the reason of the first flow failure ("" for none),
		// which comes failAfter after the first request of transaction
		// failTx.
		fail      string
		failTx    int
		failAfter time.Duration
		// mapped is the flow's address at the end.
		mapped netip.AddrPort
	}{
		{
			name:   "responses accepted",
			answer: func(k, sent int, req stun.Message) []byte { return success(req, natA) },
			sends:  retransmits[:1],
			mapped: natA,
		},
		{
			name: "two requests lost, the third answered",
			answer: func(k, sent int, req stun.Message) []byte {
				if k == 0 && sent < 2 {
					return nil
				}
				return success(req, natA)
			},
			sends:  retransmits[:3],
			mapped: natA,
		},
		{
			name:      "no response: the flow fails 39.5 s after the request",
			answer:    func(k, sent int, req stun.Message) []byte { return nil },
			sends:     retransmits,
			fail:      "no STUN Binding response",
			failAfter: 39500 * time.Millisecond,
		},
		{
			name: "another transaction's response is no answer",
			answer: func(k, sent int, req stun.Message) []byte {
				req.TxID[0]++
				return success(req, natA)
			},
			sends:     retransmits,
			fail:      "no STUN Binding response",
			failAfter: 39500 * time.Millisecond,
		},
		{
			name: "error response",
			answer: func(k, sent int, req stun.Message) []byte {
				m := stun.Message{Type: stun.BindingError, TxID: req.TxID, Fingerprint: true}
				m.AddErrorCode(500, "Server Error")
				b, _ := m.AppendTo(nil)
				return b
			},
			sends:     retransmits[:1],
			fail:      "STUN Binding error response 500 Server Error",
			failAfter: 20 * time.Millisecond,
		},
		{
			name: "the mapped address changes: the NAT binding changed",
			answer: func(k, sent int, req stun.Message) []byte {
				if k == 0 {
					return success(req, natA)
				}
				return success(req, natB)
			},
			sends:     retransmits[:1],
			fail:      "the NAT binding changed from 203.0.113.9:40000 to 203.0.113.9:40002",
			failTx:    1,
			failAfter: 20 * time.Millisecond,
			mapped:    natB, // the new flow's, accepted after the re-registration
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, id, _ := newOutbound(t, effects.UDP, 0)
			n, bob := s.n, s.bob
			var sends []stunSend
			var txs []stun.TransactionID
			sent := map[stun.TransactionID]int{}
			n.raw = func(from *node, e effects.Effect) {
				m, err := stun.Parse(e.Data)
				if from != bob || err != nil {
					t.Errorf("raw send %q from %s", e.Data, from.name)
					return
				}
				if m.Type != stun.BindingRequest || !m.Fingerprint || len(m.Attrs) != 0 {
					t.Errorf("keep-alive %+v", m)
				}
				if sent[m.TxID] == 0 {
					txs = append(txs, m.TxID)
				}
				sent[m.TxID]++
				sends = append(sends, stunSend{at: time.Duration(n.now), tx: m.TxID, to: e.To})
			}
			n.stunServer = func(from, to *node, b []byte) []byte {
				req, err := stun.Parse(b)
				if err != nil {
					t.Fatal(err)
				}
				k := len(txs) - 1
				return tc.answer(k, sent[req.TxID]-1, req)
			}
			type at struct {
				at time.Duration
				ev effects.Event
			}
			var events []at
			bob.on = func(nd *node, ev effects.Event) { events = append(events, at{time.Duration(n.now), ev}) }
			n.run(200 * time.Second)

			if len(txs) < 3 {
				t.Fatalf("%d STUN transactions", len(txs))
			}
			for _, s := range sends {
				if s.to != (effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.100:5060"), Transport: effects.UDP}) {
					t.Errorf("keep-alive to %v", s.to)
				}
			}
			// The transmissions of the transaction that matters.
			first := func(k int) time.Duration {
				for _, s := range sends {
					if s.tx == txs[k] {
						return s.at
					}
				}
				return -1
			}
			var got []time.Duration
			t0 := first(tc.failTx)
			for _, s := range sends {
				if s.tx == txs[tc.failTx] {
					got = append(got, s.at-t0)
				}
			}
			if diff := cmp.Diff(tc.sends, got); diff != "" {
				t.Errorf("transmissions of transaction %d (-want +got):\n%s", tc.failTx, diff)
			}
			// The first keep-alive goes 24-29 s after the 200 (20 ms).
			if d := first(0) - 20*time.Millisecond; d < 24*time.Second || d > 29*time.Second {
				t.Errorf("first keep-alive after %v", d)
			}
			var kinds []string
			var failure *at
			for i, e := range events {
				kinds = append(kinds, e.ev.Kind.String())
				if e.ev.Kind == effects.RegistrationFlowFailed && failure == nil {
					failure = &events[i]
				}
			}
			regs := registersAt(n)
			info, _ := bob.ua.Registration(id)
			if tc.fail == "" {
				if failure != nil || len(regs) != 1 {
					t.Errorf("events %v, REGISTERs at %v", kinds, regs)
				}
				// Each request after the interval, as §4.4.1 asks.
				for k := 1; k < len(txs); k++ {
					if gap := first(k) - first(k-1); gap < 24*time.Second || gap > 29*time.Second+time.Second {
						t.Errorf("keep-alive %d after %v", k, gap)
					}
				}
			} else {
				if failure == nil {
					t.Fatalf("no flow failure: %v", kinds)
				}
				if !errors.Is(failure.ev.Err, ErrFlowFailed) || !strings.Contains(failure.ev.Err.Error(), tc.fail) {
					t.Errorf("failure %v", failure.ev.Err)
				}
				if d := failure.at - t0; d != tc.failAfter {
					t.Errorf("flow failed %v after the request, want %v", d, tc.failAfter)
				}
				if diff := cmp.Diff([]string{"registered", "registration-flow-failed", "registered"}, kinds[:3]); diff != "" {
					t.Error(diff)
				}
				// §4.5: registered again after 50-100% of 30 s.
				if len(regs) < 2 || regs[1]-failure.at < 15*time.Second || regs[1]-failure.at > 30*time.Second {
					t.Errorf("failed at %v, REGISTERs at %v", failure.at, regs)
				}
			}
			if info.Mapped != tc.mapped && tc.mapped.IsValid() {
				t.Errorf("mapped %v, want %v", info.Mapped, tc.mapped)
			}
			unregisterAll(s)
			s.n.quiesce()
		})
	}
}

// OutboundOptions.CRLFKeepAlive keeps the CRLFCRLF ping on UDP for an edge
// proxy that does not answer STUN (§4.4.1).
func TestOutboundCRLFOnUDP(t *testing.T) {
	n := newNetwork(t)
	bob := n.add("bob", "192.0.2.2:5060", effects.UDP, Config{}, 2)
	reg := n.addRegistrar("192.0.2.100:5060", effects.UDP, nil)
	reg.outbound = true
	s := &regSetup{n: n, bob: bob, reg: reg}
	var raw []string
	n.raw = func(from *node, e effects.Effect) { raw = append(raw, string(e.Data)) }
	o := s.options()
	o.Outbound = &OutboundOptions{Instance: instance, RegID: 1, CRLFKeepAlive: true}
	s.register(o)
	n.run(100 * time.Second)
	if len(raw) < 3 || strings.Trim(strings.Join(raw, ""), "\r\n") != "" {
		t.Errorf("keep-alives %q", raw)
	}
	unregisterAll(s)
	n.quiesce()
}

// The STUN transaction ids come from the generator: fresh for each
// keep-alive, and the same for the same seed (DESIGN §1).
func TestOutboundSTUNDeterministic(t *testing.T) {
	run := func() []stun.TransactionID {
		s, _, _ := newOutbound(t, effects.UDP, 0)
		var txs []stun.TransactionID
		s.n.raw = func(from *node, e effects.Effect) {
			m, _ := stun.Parse(e.Data)
			txs = append(txs, m.TxID)
		}
		s.n.run(300 * time.Second)
		unregisterAll(s)
		s.n.quiesce()
		return txs
	}
	a, b := run(), run()
	if len(a) < 5 || !cmp.Equal(a, b) {
		t.Fatalf("%x\n%x", a, b)
	}
	seen := map[stun.TransactionID]bool{}
	for _, tx := range a {
		if seen[tx] || tx == (stun.TransactionID{}) {
			t.Errorf("transaction id %x again", tx)
		}
		seen[tx] = true
	}
}
