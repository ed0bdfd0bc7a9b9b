package proxycore

import (
	"cmp"
	"slices"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// wait says what a context waits for from the application.
type wait uint8

const (
	waitDecision wait = iota + 1
	waitCredentials
)

// rctx is a response context (RFC 3261 §16): one request being proxied, its
// targets and branches, and what came back.
type rctx struct {
	srv       txn.ID
	req       *message.Message // as received (Via stamped)
	fwd       *message.Message // after route preprocessing
	from      effects.Peer
	loop      uint64 // loopHash of the request
	invite    bool
	waiting   wait
	preset    *Decision // HandleRouted's decision, until routing
	fork      ForkMode
	rr        RecordRouteMode
	add       []Field
	remove    []string
	limit     time.Duration
	recurse   bool
	breadth   int
	groupQ    int
	targets   []Target // not yet tried, best first
	tried     []uri.URI
	branches  []*branch
	final     bool // a final response went upstream
	code      int  // the final response sent upstream
	cancelled bool // no new branches
	srvGone   bool
	settled   bool // no longer counted against MaxContexts
	ended     bool
	n         int // branches made, for branch ids
}

// addTargets queues targets not tried yet (RFC 3261 §16.5: a target is
// tried once), best q-value first, keeping the order of equals.
func (c *rctx) addTargets(ts []Target, max int) {
	for _, t := range ts {
		if len(c.tried) >= max {
			return
		}
		if slices.ContainsFunc(c.tried, func(u uri.URI) bool { return uri.Equal(u, t.URI) }) {
			continue
		}
		c.tried = append(c.tried, t.URI)
		c.targets = append(c.targets, t)
	}
	if c.fork != Parallel {
		slices.SortStableFunc(c.targets, func(a, b Target) int { return cmp.Compare(b.Q, a.Q) })
	}
}

// recordRoutes reports whether c's forwarded requests get Record-Route,
// def being the configuration's choice.
func (c *rctx) recordRoutes(def bool) bool {
	switch c.rr {
	case RecordRouteOn:
		return true
	case RecordRouteOff:
		return false
	}
	return def
}

// activeBranches counts the branches without a final outcome.
func (c *rctx) activeBranches() int {
	n := 0
	for _, b := range c.branches {
		if !b.done {
			n++
		}
	}
	return n
}

// branch is one target being tried: its forwarded request, its next hops
// (DNS answers) and its client transaction.
type branch struct {
	seq         uint64
	ctx         *rctx
	target      Target
	breadth     int              // its Max-Breadth
	base        *message.Message // the request while its next hop is being resolved
	sent        *message.Message // as sent last, until a final response (for CANCEL)
	peers       []effects.Peer   // DNS answers not tried yet
	peer        effects.Peer     // where sent last
	txn         txn.ID
	resolving   bool
	provisional bool
	wantCancel  bool
	cancelled   bool
	done        bool
	code        int
	resp        *message.Message // final response, when one came
	armed       uint8            // timers pending, by bit
	// sentBranches are the branches of the Vias this branch sent with.
	sentBranches []string
}

// The proxy's own timers, per branch.
const (
	timerC     = 1 // RFC 3261 §16.6 step 11
	timerLimit = 2 // the branch's time limit when forking in turn
	// timerAnswer is the context's own timer (its low bits are the
	// server transaction, not a branch): the application's Decide or
	// Credentials is late.
	timerAnswer = 3
)

func answerTimerID(c *rctx) effects.TimerID {
	return effects.TimerID(ownBit | uint64(timerAnswer)<<56 | uint64(c.srv)&(1<<56-1))
}

// await makes c wait for the application's answer w, with a timer.
func (p *Proxy) await(c *rctx, w wait, out []effects.Effect) []effects.Effect {
	c.waiting = w
	id := answerTimerID(c)
	p.timers[id] = true
	return append(out, effects.Effect{Kind: effects.SetTimer, Timer: id, After: p.cfg.AnswerTimeout})
}

// answered stops c waiting for the application.
func (p *Proxy) answered(c *rctx, out []effects.Effect) []effects.Effect {
	c.waiting = 0
	id := answerTimerID(c)
	if !p.timers[id] {
		return out
	}
	delete(p.timers, id)
	return append(out, effects.Effect{Kind: effects.CancelTimer, Timer: id})
}

// answerLate answers 504 for a request whose routing decision or
// credentials the application did not give within AnswerTimeout (RFC 3261
// §21.5.5: a server it relied on did not answer in time).
func (p *Proxy) answerLate(now effects.Time, id effects.TimerID, out []effects.Effect) []effects.Effect {
	c := p.ctxs[txn.ID(uint64(id)&(1<<56-1))]
	if c == nil || answerTimerID(c) != id || c.waiting == 0 {
		return out
	}
	c.waiting = 0
	if c.final {
		return out
	}
	return p.reply(now, c, 504, out)
}

func timerID(b *branch, which uint8) effects.TimerID {
	return effects.TimerID(ownBit | uint64(which)<<56 | b.seq)
}

// startNext starts the branches the fork mode and Max-Breadth allow, and
// sends the best response when nothing is left to try (§16.7 step 5).
func (p *Proxy) startNext(now effects.Time, c *rctx, out []effects.Effect) []effects.Effect {
	if c.final && !c.invite || c.cancelled || c.final && c.code < 300 {
		c.targets = nil
	}
	active := c.activeBranches()
	limit := c.breadth
	if c.fork == Serial {
		limit = 1
	}
	var start []Target
	for len(c.targets) > 0 && active+len(start) < limit {
		t := c.targets[0]
		if active+len(start) == 0 {
			c.groupQ = t.Q
		} else if c.fork == ByQ && t.Q != c.groupQ {
			break
		}
		start = append(start, t)
		c.targets = c.targets[1:]
	}
	// Every branch is made before any is sent, so that one failing at
	// once (no transaction could be made for it: 503) finds the others
	// pending: the context then waits for their responses, as it must
	// before it chooses the best (RFC 3261 §16.7 steps 5 and 6), instead
	// of answering while targets it chose are still to be tried.
	made := len(c.branches)
	for _, t := range start {
		p.seq++
		b := &branch{seq: p.seq, ctx: c, target: t, breadth: max(1, c.breadth/(active+len(start)))}
		c.branches = append(c.branches, b)
		p.branches[b.seq] = b
	}
	for _, b := range c.branches[made : made+len(start)] {
		out = p.startBranch(now, b, out)
	}
	if len(start) == 0 && active == 0 && !c.final {
		return p.finish(now, c, out)
	}
	return out
}

// startBranch forwards the request to the target of the branch b (RFC 3261
// §16.6 steps 1 to 7): a copy with the target as Request-URI, Max-Forwards
// decremented, the target's route set, Max-Breadth; then the next hop.
func (p *Proxy) startBranch(now effects.Time, b *branch, out []effects.Effect) []effects.Effect {
	c, t := b.ctx, b.target
	switch {
	case b.done:
		return out
	case c.cancelled:
		return p.branchDone(now, b, 487, nil, out)
	}
	m, code := p.branchRequest(b)
	if code != 0 {
		return p.failed(now, b, code, out)
	}
	if c.limit > 0 && c.fork != Parallel {
		out = p.arm(b, timerLimit, c.limit, out)
	}
	if t.Peer.Addr.IsValid() {
		return p.send(now, b, t.Peer, m, out)
	}
	h := hopFor(b.nextHop())
	if h.peer.Addr.IsValid() {
		return p.send(now, b, h.peer, m, out)
	}
	b.resolving, b.base = true, m
	return append(out, effects.Effect{Kind: effects.Resolve, Name: h.name, Service: h.service,
		To: h.lookup(), Tag: ownBit | b.seq})
}

// nextHop is nextHop of the branch's request, read without parsing it
// again: the target's first route, else the forwarded request's top Route
// (parsed once, by the route preprocessing), else the target.
func (b *branch) nextHop() uri.URI {
	if len(b.target.Routes) > 0 {
		return b.target.Routes[0]
	}
	if r, ok, err := message.First[header.Route](b.ctx.fwd); err == nil && ok {
		return r.URI
	}
	return b.target.URI
}

// branchRequest makes the request a branch forwards, without our Via and
// Record-Route (steps 1 to 6), or the code of the failure.
func (p *Proxy) branchRequest(b *branch) (*message.Message, int) {
	t := b.target
	m := b.ctx.fwd.Clone()
	if !uri.Identical(m.RequestURI(), t.URI) {
		if err := m.SetRequestURI(t.URI); err != nil {
			return nil, 500
		}
	}
	if _, err := m.DecrementMaxForwards(); err != nil {
		return nil, 483
	}
	for i := len(t.Routes) - 1; i >= 0; i-- {
		if err := m.PrependRoute(header.Route{URI: t.Routes[i]}); err != nil {
			return nil, 500
		}
	}
	_ = message.Set(m, header.MaxBreadth(b.breadth))
	for _, name := range b.ctx.remove {
		m.Del(name)
	}
	for _, f := range b.ctx.add {
		if err := m.Add(f.Name, f.Value); err != nil {
			return nil, 500 // Validate checked it: not reached
		}
	}
	return m, 0
}

// resolved takes the DNS answer for a branch's next hop (RFC 3263 §4).
func (p *Proxy) resolved(in effects.Input, out []effects.Effect) []effects.Effect {
	b := p.branches[in.Tag&^ownBit]
	if b == nil || !b.resolving || b.done {
		return out
	}
	b.resolving = false
	for _, t := range in.Answer {
		if t.Addr.IsValid() && t.Transport != 0 {
			b.peers = append(b.peers, effects.Peer{Addr: t.Addr, Transport: t.Transport})
		}
	}
	m := b.base
	b.base = nil
	if len(b.peers) == 0 {
		return p.failed(in.Now, b, 503, out)
	}
	next := b.peers[0]
	b.peers = b.peers[1:]
	return p.send(in.Now, b, next, m, out)
}

// flowUser is the user part of our Record-Route for a request from one
// flow to another (RFC 5626 §5.3): with Config.Flows, the token of the
// connection it goes out on when it was chosen (a client's flow), else of
// the one it came in on; "" when neither is a connection. A request of the
// dialog that comes back through us from elsewhere then goes out on that
// connection (routeRequest), which is how a client behind a NAT, or on a
// connection to another node, is reached again.
func (p *Proxy) flowUser(from, to effects.Peer) string {
	switch {
	case p.cfg.Flows == nil:
		return ""
	case to.Conn != 0:
		return p.cfg.Flows.Token(to)
	case from.Conn != 0:
		return p.cfg.Flows.Token(from)
	}
	return ""
}

// send sends the branch's request m (made by branchRequest, and now the
// branch's own) to peer in a new client transaction: Record-Route and our
// Via added (RFC 3261 §16.6 steps 4 and 8), Timer C started for an INVITE
// (step 11).
func (p *Proxy) send(now effects.Time, b *branch, peer effects.Peer, m *message.Message, out []effects.Effect) []effects.Effect {
	c := b.ctx
	if c.recordRoutes(p.self.rr) && m.ToTag() == "" && m.Method() != "REGISTER" {
		if err := p.self.recordRoute(m, c.from.Transport, peer.Transport, p.flowUser(c.from, peer)); err != nil {
			return p.failed(now, b, 500, out)
		}
	}
	c.n++
	br := branchFor(c.loop, c.req.TopVia(), c.n) // a string of its own, unlike m.Branch()
	if err := m.PrependVia(p.self.via(peer.Transport, br)); err != nil {
		return p.failed(now, b, 500, out)
	}
	id, out, err := p.txns.NewClient(now, m, peer, out)
	if err != nil {
		return p.failed(now, b, 503, out)
	}
	b.txn, b.sent, b.peer = id, m, peer
	b.sentBranches = append(b.sentBranches, br)
	p.byBranch[br] = b
	b.provisional, b.wantCancel = false, false
	p.clients[id] = b
	if c.invite {
		out = p.disarm(b, timerC, out)
		out = p.arm(b, timerC, p.cfg.TimerC, out)
	}
	return out
}

// resend sends the branch's request again to its next DNS answer (RFC
// 3263 §4.3), in a new client transaction with a new Via.
func (p *Proxy) resend(now effects.Time, b *branch, out []effects.Effect) []effects.Effect {
	next := b.peers[0]
	b.peers = b.peers[1:]
	m, code := p.branchRequest(b)
	if code != 0 {
		return p.branchDone(now, b, code, nil, out)
	}
	return p.send(now, b, next, m, out)
}

// arm sets one of the branch's timers.
func (p *Proxy) arm(b *branch, which uint8, d time.Duration, out []effects.Effect) []effects.Effect {
	id := timerID(b, which)
	b.armed |= 1 << which
	p.timers[id] = true
	return append(out, effects.Effect{Kind: effects.SetTimer, Timer: id, After: d})
}

// disarm cancels one of the branch's timers if it is pending.
func (p *Proxy) disarm(b *branch, which uint8, out []effects.Effect) []effects.Effect {
	if b.armed&(1<<which) == 0 {
		return out
	}
	b.armed &^= 1 << which
	id := timerID(b, which)
	delete(p.timers, id)
	return append(out, effects.Effect{Kind: effects.CancelTimer, Timer: id})
}

func (p *Proxy) stopTimers(b *branch, out []effects.Effect) []effects.Effect {
	out = p.disarm(b, timerC, out)
	return p.disarm(b, timerLimit, out)
}

// timerFired handles Timer C and branch time limits.
func (p *Proxy) timerFired(now effects.Time, id effects.TimerID, out []effects.Effect) []effects.Effect {
	if !p.timers[id] {
		return out
	}
	delete(p.timers, id)
	which := uint8(uint64(id) >> 56 & 0x3f)
	if which == timerAnswer {
		return p.answerLate(now, id, out)
	}
	b := p.branches[uint64(id)&(1<<56-1)]
	if b == nil {
		return out
	}
	b.armed &^= 1 << which
	switch which {
	case timerC:
		return p.timerC(now, b, out)
	case timerLimit:
		return p.giveUp(now, b, out)
	}
	return out
}

// timerC handles Timer C (RFC 3261 §16.8): a branch that had a provisional
// response is cancelled; one that had none is treated as a 408. A
// cancelled branch that still has no final response is given up.
func (p *Proxy) timerC(now effects.Time, b *branch, out []effects.Effect) []effects.Effect {
	if b.done && b.txn == 0 {
		return out
	}
	if b.provisional && !b.cancelled {
		out = p.cancelBranch(now, b, out)
		if b.cancelled {
			// §9.1: give the CANCEL 64·T1 to end the INVITE.
			return p.arm(b, timerC, 64*p.txns.Config().T1, out)
		}
		return out
	}
	if b.txn != 0 {
		return p.abandon(now, b.txn, out) // TxnTerminated fails the branch with 408
	}
	return p.failed(now, b, 408, out)
}

// giveUp ends a branch whose time limit passed, so that the next group or
// target starts: it is cancelled now, or when it sends a provisional
// response (§9.1); its transaction lives on, so that a late 2xx still goes
// upstream.
func (p *Proxy) giveUp(now effects.Time, b *branch, out []effects.Effect) []effects.Effect {
	if b.done {
		return out
	}
	out = p.cancelBranch(now, b, out)
	return p.branchDone(now, b, 408, nil, out)
}

// cancelBranch cancels a pending INVITE branch (RFC 3261 §16.10): at once
// if it had a provisional response, else when it has one (§9.1).
func (p *Proxy) cancelBranch(now effects.Time, b *branch, out []effects.Effect) []effects.Effect {
	if b.cancelled || !b.ctx.invite {
		return out
	}
	if b.resolving {
		return p.failed(now, b, 487, out)
	}
	if b.txn == 0 {
		return out
	}
	if !b.provisional {
		b.wantCancel = true
		return out
	}
	if k, st, ok := p.txns.State(b.txn); !ok || k != txn.ClientInvite || st != txn.Proceeding {
		return out
	}
	if b.sent == nil {
		return out // let go at its final response: nothing to cancel
	}
	cancel, err := message.CancelFor(b.sent)
	if err != nil {
		return out
	}
	b.cancelled = true
	id, out, err := p.txns.NewClient(now, cancel, b.peer, out)
	if err == nil {
		p.cancels[id] = true
	}
	return out
}

// cancelAll cancels every pending branch of c and starts no new one.
func (p *Proxy) cancelAll(now effects.Time, c *rctx, out []effects.Effect) []effects.Effect {
	c.cancelled = true
	c.targets = nil
	for _, b := range c.branches {
		if !b.done || b.txn != 0 {
			out = p.cancelBranch(now, b, out)
		}
	}
	return out
}

// failed records a branch's outcome when no response came with it: a
// timeout (408), a transport error or no address (503), a local failure.
// A 503 or a timeout moves on to the next DNS answer first (RFC 3263
// §4.3).
func (p *Proxy) failed(now effects.Time, b *branch, code int, out []effects.Effect) []effects.Effect {
	if b.done {
		return out
	}
	if (code == 503 || code == 408) && len(b.peers) > 0 && !b.ctx.cancelled && !b.cancelled {
		if b.txn != 0 {
			delete(p.clients, b.txn)
			old := b.txn
			b.txn = 0
			out = p.abandon(now, old, out)
		}
		return p.resend(now, b, out)
	}
	return p.branchDone(now, b, code, nil, out)
}

// branchDone records a branch's final outcome and moves the context on.
func (p *Proxy) branchDone(now effects.Time, b *branch, code int, resp *message.Message, out []effects.Effect) []effects.Effect {
	if b.done {
		return out
	}
	b.done, b.code, b.resp, b.resolving, b.base = true, code, resp, false, nil
	out = p.disarm(b, timerLimit, out)
	c := b.ctx
	if code >= 600 {
		out = p.cancelAll(now, c, out)
	}
	if code >= 300 && code < 400 && c.recurse && resp != nil && !c.cancelled {
		c.addTargets(contactTargets(resp), p.cfg.MaxTargets)
	}
	out = p.startNext(now, c, out)
	return p.maybeEnd(c, out)
}

// contactTargets reads the Contacts of a 3xx as targets (RFC 3261 §16.7
// step 4).
func contactTargets(resp *message.Message) []Target {
	cs, err := message.All[header.Contact](resp)
	if err != nil {
		return nil
	}
	var ts []Target
	for _, ct := range cs {
		if ct.Star || !ct.URI.IsSIP() {
			continue
		}
		q, ok := ct.Q()
		if !ok {
			q = 1000
		}
		ts = append(ts, Target{URI: ct.URI, Q: q})
	}
	return ts
}
