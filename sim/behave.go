package sim

import (
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
)

// Callee is how a UA answers the calls that come in: a policy for
// UANode.Answering.
type Callee struct {
	// Ring, when not 0, is the provisional response sent at once (180,
	// 183), with RingBody.
	Ring     int
	RingBody []byte
	// After is how long after the call came in its final response is sent.
	After time.Duration
	// Reject, when not 0, is the final response's code; else the call is
	// answered (2xx) with Answer.
	Reject int
	Answer []byte
	// Never leaves calls unanswered: they ring until the caller gives up.
	Never bool
}

// Answering makes the UA answer each incoming call as c says, and accept
// each re-INVITE or UPDATE with c.Answer. Commands that fail because the
// call went away meanwhile (a CANCEL won the race) are ignored; the trace
// records them.
func (n *UANode) Answering(c Callee) {
	n.On(func(ev effects.Event) {
		switch ev.Kind {
		case effects.CallIncoming:
			id := ev.ID
			if c.Ring != 0 {
				_ = n.Ring(id, ua.RingOptions{Code: c.Ring, Body: c.RingBody})
			}
			if c.Never {
				return
			}
			n.sim.After(c.After, func() {
				if c.Reject != 0 {
					_ = n.Reject(id, c.Reject)
					return
				}
				_ = n.Answer(id, c.Answer)
			})
		case effects.CallReinvite:
			id := ev.ID
			_ = n.Do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return n.UA.Accept(now, id, c.Answer, out)
			})
		}
	})
}

// HangupAfter makes the UA hang up each call d after it was answered (on
// either side: the caller hears CallAnswered with the 2xx, the callee with
// the ACK). A call that ended meanwhile is left alone.
func (n *UANode) HangupAfter(d time.Duration) {
	n.On(func(ev effects.Event) {
		if ev.Kind != effects.CallAnswered {
			return
		}
		id := ev.ID
		n.sim.After(d, func() { _ = n.Hangup(id) })
	})
}
