package sim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sim"
	"github.com/sansip/sansip/ua"
)

// TestPrack: Alice calls Bob, whose UA sends its provisional responses
// reliably (RFC 3262, Require: 100rel; Alice requires 100rel herself for
// half of the seeds, and supports it for the others). The seed picks the
// provisional response: a 183 with the answer to Alice's offer, a 183 with
// an offer when Alice's INVITE had none (her PRACK answers, RFC 3262 §5),
// or a 180 without a description. Bob answers 0 to 2 s after the call came
// in; Alice hangs up 1 to 10 s after the answer. On a network that loses up
// to 30% of the datagrams, duplicates and reorders them:
//
//   - §3: Bob retransmits the reliable provisional response T1, 2·T1,
//     4·T1... after its first send (no cap), and otherwise only when a
//     retransmitted INVITE asks for it (RFC 3261 §17.2.1), until its PRACK
//     arrives, he sends a final response, or 64·T1 have passed; then,
//     without a PRACK, he rejects the INVITE with a 5xx (504), exactly
//     64·T1 after the first send, and Alice's call fails with it.
//   - §3: a 2xx does not leave before the PRACK of a reliable provisional
//     response that carried a description: it leaves when Bob answers, or
//     when that PRACK arrives if he answered before.
//   - §4: Alice sends one PRACK for each reliable provisional response the
//     first time it arrives (RAck: its RSeq, the INVITE's CSeq), at once,
//     and none for a retransmission; she PRACKs nothing else.
//
// and the call's outcome is one of any call's (expect.check).
func TestPrack(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, prackCall(tl, false))
}

// TestPrackTCP is TestPrack over TCP (RFC 3261 §18), with the delays and
// jitter of a lossy network but no loss; for most seeds the connection
// breaks at a random moment of the first 6 s, losing what was in flight,
// as in TestBasicCallTCP. The reliable provisional response is
// retransmitted over TCP too (§3: the reliability is end to end, the UAS
// core's, as for a 2xx), on a new connection after the break. Besides
// TestPrack's outcomes, the INVITE may fail with 503 on the broken
// connection (§8.1.3.1), and a PRACK lost with the connection fails its
// transaction; the retransmissions of its provisional response are
// discarded (§4), and Bob gives up on it after 64·T1 with a 504.
func TestPrackTCP(t *testing.T) {
	t.Parallel()
	tl := tally{}
	defer func() { t.Log(tl) }()
	forSeeds(t, prackCall(tl, true))
}

// prackTCP is TestPrackTCP's scenario.
func prackTCP(tl tally) scenario { return prackCall(tl, true) }

// prackUDP is TestPrack's scenario.
func prackUDP(tl tally) scenario { return prackCall(tl, false) }

// prackRun is one run of TestPrack or TestPrackTCP.
type prackRun struct {
	w          *wire
	alice, bob *sim.UANode
	// sdp: the reliable provisional response carries a description;
	// after: how long Bob takes to answer.
	sdp   bool
	after time.Duration
}

func prackCall(tl tally, tcp bool) scenario {
	return func(seed uint64) (*sim.Sim, error) {
		s := sim.New(seed)
		p := &prackRun{w: watch(s)}
		tr, target := "", "sip:bob@192.0.2.2"
		if tcp {
			tr, target = "TCP:", "sip:bob@192.0.2.2;transport=tcp"
		}
		r := s.Rand()
		p.alice = sim.Must(s.AddUA("alice", tr+"192.0.2.1:5060", ua.Config{Reliable: r.IntN(2) == 0}))
		p.bob = sim.Must(s.AddUA("bob", tr+"192.0.2.2:5060", ua.Config{Reliable: true}))
		link := lossy(s)
		if tcp {
			link.Loss, link.Dup = 0, 0
			if r.IntN(4) != 0 {
				at := effects.Time(r.Int64N(int64(6 * time.Second)))
				s.At(at, func() { _ = s.BreakConn(p.alice.Node, p.bob.Node) })
			}
		}
		s.SetDefaultLink(link)
		p.after = time.Duration(r.IntN(2000)) * time.Millisecond
		callee := sim.Callee{After: p.after}
		opts := ua.CallOptions{Expires: giveUp}
		switch r.IntN(3) {
		case 0: // the 183 answers the INVITE's offer
			callee.Ring, callee.RingBody, callee.Answer = 183, []byte(sdpAnswer), []byte(sdpAnswer)
			opts.Body = []byte(sdpOffer)
			p.sdp = true
		case 1: // the 183 offers; the PRACK answers (RFC 3262 §5)
			callee.Ring, callee.RingBody = 183, []byte(sdpAnswer)
			opts.LateAnswer = []byte(sdpOffer)
			p.sdp = true
		default: // a 180 without a description
			callee.Ring, callee.Answer = 180, []byte(sdpAnswer)
			opts.Body = []byte(sdpOffer)
		}
		p.bob.Answering(callee)
		p.alice.HangupAfter(time.Duration(1000+r.IntN(9000)) * time.Millisecond)
		if _, err := p.alice.Call(target, opts); err != nil {
			return s, err
		}
		x := expect{tally: tl, caller: p.alice, callees: []*sim.UANode{p.bob}, stream: tcp, ends: []error{ua.ErrTimeout}, outcome: p.outcome}
		if err := x.check(s, p.w); err != nil {
			return s, err
		}
		return s, p.rules()
	}
}

// reliable is one reliable provisional response of Bob's: its RSeq and
// when each copy left (the first, then its retransmissions).
type reliable struct {
	rseq  uint32
	sends []effects.Time
	sdp   bool
}

// reliables returns Bob's reliable provisional responses to Alice, in the
// order of their RSeq.
func (p *prackRun) reliables() []reliable {
	var out []reliable
	for _, r := range p.w.allFrom(p.bob.Node, p.alice.Node, "1") {
		m := p.w.msg(r)
		rseq, ok, err := message.First[header.RSeq](m)
		if err != nil || !ok || m.CSeq().Method != "INVITE" {
			continue
		}
		if len(out) == 0 || out[len(out)-1].rseq != uint32(rseq) {
			out = append(out, reliable{rseq: uint32(rseq), sdp: len(m.Body()) > 0})
		}
		out[len(out)-1].sends = append(out[len(out)-1].sends, r.At)
	}
	return out
}

// pracks returns the PRACKs for rseq that arrived at Bob.
func (p *prackRun) pracks(rseq uint32) []sim.Record {
	var out []sim.Record
	for _, r := range p.w.find(sim.OpRecv, p.bob.Node, p.alice.Node, "PRACK") {
		if rack, ok, err := message.First[header.RAck](p.w.msg(r)); err == nil && ok && rack.RSeq == rseq {
			out = append(out, r)
		}
	}
	return out
}

// outcome accepts Alice's call failing with Bob's 504: he gave up on a
// PRACK that never came (RFC 3262 §3).
func (p *prackRun) outcome(w *wire, c call) (string, error) {
	end := c.last()
	if end.Kind != effects.CallFailed || end.Code != 504 {
		return "", nil
	}
	if err := p.gaveUp(); err != nil {
		return "", fmt.Errorf("Alice's call failed with 504, but %w: %s", err, c)
	}
	return "failed 504: no PRACK within 64·T1", nil
}

// gaveUp checks that Bob's call ended with 504 because no PRACK for his
// reliable provisional response arrived within 64·T1 of its first send.
func (p *prackRun) gaveUp() error {
	bc := calls(p.bob.Node)
	rels := p.reliables()
	if len(bc) != 1 || len(rels) == 0 {
		return fmt.Errorf("Bob sent no reliable provisional response")
	}
	end, rel := bc[0].last(), rels[len(rels)-1]
	due := rel.sends[0].Add(T1x4)
	if end.Kind != effects.CallEnded || end.Code != 504 || !errors.Is(end.Err, ua.ErrTimeout) || end.At != due {
		return fmt.Errorf("Bob's call did not end with 504 64·T1 after his reliable provisional response (at %v): %s", time.Duration(rel.sends[0]), bc[0])
	}
	if pr := p.pracks(rel.rseq); len(pr) > 0 && pr[0].At < due {
		return fmt.Errorf("a PRACK arrived at %v", time.Duration(pr[0].At))
	}
	return nil
}

// rules checks RFC 3262 §3 and §4 (see TestPrack).
func (p *prackRun) rules() error {
	for _, u := range []*sim.UANode{p.alice, p.bob} {
		if c := calls(u.Node); len(c) == 1 && errors.Is(c[0].last().Err, ua.ErrTimeout) && c[0].last().Kind == effects.CallEnded {
			if err := p.gaveUp(); u != p.bob || err != nil {
				return fmt.Errorf("%s's call ended with a timeout: %s (%v)", u.Name(), c[0], err)
			}
		}
	}
	bc := calls(p.bob.Node)
	if len(bc) != 1 {
		return nil
	}
	// Bob's final response to the INVITE: when it first left.
	var final effects.Time
	var oks []sim.Record
	for _, r := range p.w.allFrom(p.bob.Node, p.alice.Node, "") {
		if m := p.w.msg(r); m.IsResponse() && m.CSeq().Method == "INVITE" && m.StatusCode() >= 200 {
			if final == 0 {
				final = r.At
			}
			if m.StatusCode() < 300 {
				oks = append(oks, r)
			}
		}
	}
	invites := p.w.find(sim.OpRecv, p.bob.Node, p.alice.Node, "INVITE")
	rels := p.reliables()
	for _, rel := range rels {
		stop := rel.sends[0].Add(T1x4)
		if final != 0 {
			stop = min(stop, final)
		}
		pr := p.pracks(rel.rseq)
		if len(pr) > 0 {
			stop = min(stop, pr[0].At)
		}
		if err := relRetransmitted(rel, stop, invites); err != nil {
			return err
		}
		// The 2xx waits for the PRACK of a response with a description.
		if rel.sdp && len(oks) > 0 {
			answerAt := bc[0].events[0].At.Add(p.after)
			if len(pr) == 0 || oks[0].At != max(answerAt, pr[0].At) {
				return fmt.Errorf("Bob's 2xx left at %v; he answered at %v, and the PRACK of RSeq %d arrived at %v (§3)",
					time.Duration(oks[0].At), time.Duration(answerAt), rel.rseq, pracksAt(pr))
			}
		}
	}
	return p.prackedOnce()
}

func pracksAt(pr []sim.Record) any {
	if len(pr) == 0 {
		return "never"
	}
	return time.Duration(pr[0].At)
}

// relRetransmitted checks §3's retransmissions of rel: T1, 2·T1, 4·T1...
// after its first send, while before stop, and otherwise only when an
// INVITE arrived.
func relRetransmitted(rel reliable, stop effects.Time, invites []sim.Record) error {
	// want: the timer's sends, true for those due before stop (one due
	// at stop itself may go or not, as the timer and what stops it fall
	// at the same instant).
	want := map[effects.Time]bool{}
	for at, iv := rel.sends[0], T1; ; iv *= 2 {
		at = at.Add(iv)
		if at > stop {
			break
		}
		want[at] = at < stop
	}
	got := map[effects.Time]bool{}
	for _, at := range rel.sends[1:] {
		got[at] = true
		if _, ok := want[at]; ok {
			continue
		}
		asked := false
		for _, r := range invites {
			asked = asked || r.At == at
		}
		if !asked {
			return fmt.Errorf("Bob sent RSeq %d at %v, neither on its timer nor for an INVITE (sent at %v, stop at %v)",
				rel.rseq, time.Duration(at), durations(rel.sends), time.Duration(stop))
		}
	}
	for at, due := range want {
		if due && !got[at] {
			return fmt.Errorf("Bob did not retransmit RSeq %d at %v (sent at %v, stop at %v)", rel.rseq, time.Duration(at), durations(rel.sends), time.Duration(stop))
		}
	}
	return nil
}

// prackedOnce checks §4: Alice sends a PRACK at the first arrival of each
// reliable provisional response while her call waits for its final
// response, with its RSeq and the INVITE's CSeq in RAck, and no other
// PRACK.
func (p *prackRun) prackedOnce() error {
	firsts := map[uint32]sim.Record{}
	var finalAt effects.Time
	end := callEnd(p.alice)
	for _, r := range p.w.find(sim.OpRecv, p.alice.Node, p.bob.Node, "") {
		m := p.w.msg(r)
		if !m.IsResponse() || m.CSeq().Method != "INVITE" || r.At >= end {
			continue
		}
		if m.StatusCode() >= 200 {
			if finalAt == 0 {
				finalAt = r.At
			}
			continue
		}
		rseq, ok, err := message.First[header.RSeq](m)
		if err != nil || !ok || finalAt != 0 {
			continue
		}
		if _, seen := firsts[uint32(rseq)]; !seen {
			firsts[uint32(rseq)] = r
		}
	}
	seen := map[string]bool{}
	var sent []sim.Record
	for _, r := range p.w.allFrom(p.alice.Node, p.bob.Node, "PRACK") {
		if m := p.w.msg(r); !seen[m.Branch()] {
			seen[m.Branch()] = true
			sent = append(sent, r)
		}
	}
	if len(sent) != len(firsts) {
		return fmt.Errorf("Alice sent %d PRACKs for %d reliable provisional responses", len(sent), len(firsts))
	}
	for _, r := range sent {
		m := p.w.msg(r)
		rack, _, _ := message.First[header.RAck](m)
		first, ok := firsts[rack.RSeq]
		if !ok || first.At != r.At || rack.Method != "INVITE" || rack.CSeq != p.w.msg(first).CSeq().Seq {
			return fmt.Errorf("Alice sent a PRACK at %v with RAck %+v, not at the first arrival of a reliable provisional response", time.Duration(r.At), rack)
		}
	}
	return nil
}
