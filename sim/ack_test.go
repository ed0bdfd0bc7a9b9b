package sim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestLostAck: Alice calls Bob, who answers; a Filter drops Alice's ACKs
// for the 2xx, every one (a third of the seeds) or the first k (k from 1 to
// 10), on a network that loses up to 30% of the datagrams, duplicates and
// reorders them, or, for a quarter of the seeds, over TCP (where the
// Filter stands for ACKs the receiver discarded). The seed picks who hangs
// up, 1 to 50 s after the call was answered on that side. RFC 3261
// §13.3.1.4 and §13.2.2.4 require, whatever the network did:
//
//   - Bob, the UAS, retransmits his 2xx T1 after the first send, then with
//     the interval doubling up to T2 (0.5, 1, 2, 4, 4... s), on TCP too
//     ("independent of whatever transport protocols are used"), and
//     nothing else, until the first ACK arrives, his call ends (Alice's
//     BYE), or 64·T1 have passed.
//   - If no ACK arrived within 64·T1 and Alice's BYE did not come first,
//     Bob ends the call then, exactly 64·T1 after his first 2xx, with a BYE
//     (ErrNoAck); he never reports the call answered.
//   - When an ACK arrives first, Bob reports the call answered then.
//   - Alice acknowledges every 2xx that reaches her while her call lasts,
//     the retransmissions included, at once (§13.2.2.4).
//
// and the call's outcome is one of any call's (expect.check).
func TestLostAck(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, lostAck(tl))
}

func lostAck(tl tally) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		w := watch(s)
		r := s.Rand()
		tr, target := "", "sip:bob@192.0.2.2"
		if r.IntN(4) == 0 {
			tr, target = "TCP:", "sip:bob@192.0.2.2;transport=tcp"
		}
		alice := sim.Must(s.AddUA("alice", tr+"192.0.2.1:5060", ua.Config{}))
		bob := sim.Must(s.AddUA("bob", tr+"192.0.2.2:5060", ua.Config{}))
		link := lossy(s)
		if tr != "" {
			link.Loss, link.Dup = 0, 0 // a stream loses nothing
		}
		s.SetDefaultLink(link)
		// Drop every ACK for a 2xx Alice sends, or the first k.
		k := 1 + r.IntN(10)
		if r.IntN(3) == 0 {
			k = 1 << 30
		}
		acks := 0
		s.Filter(func(rec *sim.Record) bool {
			if rec.Node != alice.Node || !strings.HasPrefix(rec.Summary(), "ACK") {
				return false
			}
			acks++
			return acks <= k
		})
		bob.Answering(sim.Callee{Ring: 180, After: time.Duration(r.IntN(2000)) * time.Millisecond, Answer: []byte(sdpAnswer)})
		hangup := []*sim.UANode{alice, bob}[r.IntN(2)]
		hangup.HangupAfter(time.Duration(1000+r.IntN(49000)) * time.Millisecond)
		if _, err := alice.Call(target, ua.CallOptions{Body: []byte(sdpOffer), Expires: giveUp}); err != nil {
			return s, err
		}
		x := expect{tally: tl, caller: alice, callees: []*sim.UANode{bob}, stream: tr != ""}
		if err := x.check(s, w); err != nil {
			return s, err
		}
		if err := reAcked(w, alice); err != nil {
			return s, err
		}
		return s, okRetransmitted(w, bob, alice, k, tl)
	}
}

// reAcked checks that Alice sent an ACK at each 2xx that reached her while
// her call lasted (§13.2.2.4), with the 2xx's CSeq number.
func reAcked(w *wire, alice *sim.UANode) error {
	c := calls(alice.Node)
	if len(c) != 1 {
		return nil
	}
	end := c[0].last().At
	for _, r := range inviteResponses(w, alice.Node, 200, 299) {
		if r.At >= end {
			continue
		}
		seq := w.msg(r).CSeq().Seq
		acked := false
		for _, a := range w.allFrom(alice.Node, nil, "ACK") {
			if a.At == r.At && w.msg(a).CSeq().Seq == seq {
				acked = true
			}
		}
		if !acked {
			return fmt.Errorf("Alice did not acknowledge the 2xx that arrived at %v", time.Duration(r.At))
		}
	}
	return nil
}

// okRetransmitted checks Bob's side of §13.3.1.4 (see TestLostAck): when
// his 2xx went, how often it went again, when it stopped and how his call
// ended. The first k ACKs Alice sent were dropped.
func okRetransmitted(w *wire, bob, alice *sim.UANode, k int, tl tally) error {
	oks := w.allFrom(bob.Node, alice.Node, "2")
	var sends []effects.Time
	for _, r := range oks {
		if m := w.msg(r); m.CSeq().Method == "INVITE" {
			sends = append(sends, r.At)
		}
	}
	c := calls(bob.Node)
	if len(sends) == 0 || len(c) != 1 {
		return nil // Bob never answered (the INVITE never reached him)
	}
	t0 := sends[0]
	end := c[0].last()
	stop := t0.Add(T1x4)
	var ackAt effects.Time
	if acks := w.find(sim.OpRecv, bob.Node, alice.Node, "ACK"); len(acks) > 0 {
		ackAt = acks[0].At
		stop = min(stop, ackAt)
	}
	if terminal(end.Kind) && end.At < stop {
		stop = end.At
	}
	if k > 1<<20 && ackAt != 0 {
		return fmt.Errorf("an ACK reached Bob at %v, though every ACK was dropped", time.Duration(ackAt))
	}
	// The 2xx goes at t0, then T1, 2·T1, 4·T1... capped at T2, while before stop.
	want := []effects.Time{t0}
	for at, iv := t0, T1; ; iv = min(2*iv, T2) {
		at = at.Add(iv)
		if at >= stop {
			if at == stop && len(sends) > len(want) && sends[len(want)] == at {
				// The timer and what stops it fell at the same instant.
				want = append(want, at)
			}
			break
		}
		want = append(want, at)
	}
	if len(sends) != len(want) {
		return fmt.Errorf("Bob sent his 2xx at %v, not at %v (first at %v, stop at %v)", durations(sends), durations(want), time.Duration(t0), time.Duration(stop))
	}
	for i := range want {
		if sends[i] != want[i] {
			return fmt.Errorf("Bob sent his 2xx at %v, not at %v", durations(sends), durations(want))
		}
	}
	_, answered := c[0].has(effects.CallAnswered)
	switch {
	case ackAt != 0 && (!terminal(end.Kind) || ackAt <= end.At):
		if ev, _ := c[0].has(effects.CallAnswered); !answered || ev.At != ackAt {
			return fmt.Errorf("Bob's ACK came at %v, but: %s", time.Duration(ackAt), c[0])
		}
		return reached(tl, fmt.Sprintf("ACK after %d 2xx", len(sends)))
	case end.Kind == effects.CallEnded && errors.Is(end.Err, ua.ErrNoAck):
		if answered || end.At != t0.Add(T1x4) {
			return fmt.Errorf("Bob ended the call for want of an ACK at %v, not 64·T1 after his 2xx at %v: %s", time.Duration(end.At), time.Duration(t0), c[0])
		}
		byes := w.allFrom(bob.Node, alice.Node, "BYE")
		if len(byes) == 0 || byes[0].At != end.At {
			return fmt.Errorf("Bob sent no BYE when he gave up the ACK")
		}
		return reached(tl, "no ACK: BYE at 64·T1")
	case end.Kind == effects.CallEnded && errors.Is(end.Err, ua.ErrRemoteBye):
		return reached(tl, "Alice's BYE before any ACK")
	default:
		return fmt.Errorf("Bob's call, without an ACK: %s", c[0])
	}
}

// T2 is the transaction layer's default T2 (RFC 3261 §17.1.2.2), the cap
// of the 2xx's retransmission interval.
const T2 = 4 * time.Second

func durations(ts []effects.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = time.Duration(t)
	}
	return out
}
