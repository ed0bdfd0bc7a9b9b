package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/stun"
)

// Link is how one direction between two nodes behaves.
type Link struct {
	// Loss is the probability that a datagram is lost (0 to 1).
	Loss float64
	// Dup is the probability that a datagram that is not lost arrives
	// twice, the copy with its own jitter.
	Dup float64
	// Delay is the one-way delay; zero means DefaultDelay.
	Delay time.Duration
	// Jitter adds a delay drawn uniformly from [0, Jitter) to each
	// datagram, so that datagrams overtake one another; on a stream it
	// delays the data but never reorders it.
	Jitter time.Duration
}

// SetDefaultLink sets the link between nodes that have none of their own.
func (s *Sim) SetDefaultLink(l Link) {
	if l.Delay <= 0 {
		l.Delay = DefaultDelay
	}
	s.cfg.Link = l
}

// SetLink sets the link from one node to another (one direction).
func (s *Sim) SetLink(from, to *Node, l Link) {
	if l.Delay <= 0 {
		l.Delay = DefaultDelay
	}
	s.links[[2]int{from.index, to.index}] = l
}

// SetLinks sets the links both ways between a and b.
func (s *Sim) SetLinks(a, b *Node, l Link) {
	s.SetLink(a, b, l)
	s.SetLink(b, a, l)
}

// ClearLinks forgets every link set with SetLink: the default link then
// serves every pair.
func (s *Sim) ClearLinks() { clear(s.links) }

func (s *Sim) link(from, to *Node) Link {
	if from != nil && to != nil {
		if l, ok := s.links[[2]int{from.index, to.index}]; ok {
			return l
		}
	}
	return s.cfg.Link
}

// Filter adds a rule that drops the messages it returns true for, as they
// are sent (the record it sees is the send's: Node the sender, Peer the
// receiver, Data the message; Summary gives its first line): a scenario's
// deterministic loss, such as every 2xx of one callee, or the first ACK.
// On a stream too, though a real stream never loses data: there it stands
// for a message the receiver discarded. It must not keep the *Record.
func (s *Sim) Filter(drop func(r *Record) bool) { s.filters = append(s.filters, drop) }

// cut is a partition: nothing passes between the two sets from from until
// until (for ever when until is 0).
type cut struct {
	a, b        []*Node
	from, until effects.Time
}

// Partition cuts the network between the nodes of a and those of b, both
// ways, from time from until time until (for ever if until is 0). A
// datagram sent across the cut meanwhile is lost; data on a stream waits
// for the partition to heal (TCP retransmits) and arrives in order after
// it, or, when it never heals, the connection breaks.
func (s *Sim) Partition(a, b []*Node, from, until effects.Time) {
	s.cuts = append(s.cuts, cut{a: a, b: b, from: from, until: until})
}

// severed returns whether a partition separates from and to now, and when
// it heals (0: never).
func (s *Sim) severed(from, to *Node) (bool, effects.Time) {
	cutNow, heal := false, effects.Time(0)
	for i := range s.cuts {
		c := &s.cuts[i]
		if s.now < c.from || c.until != 0 && s.now >= c.until {
			continue
		}
		if !(has(c.a, from) && has(c.b, to) || has(c.b, from) && has(c.a, to)) {
			continue
		}
		if !cutNow || c.until == 0 || heal != 0 && c.until > heal {
			heal = c.until
		}
		cutNow = true
	}
	return cutNow, heal
}

func has(list []*Node, n *Node) bool {
	for _, m := range list {
		if m == n {
			return true
		}
	}
	return false
}

// delay draws the delay of one datagram or segment on l.
func (s *Sim) delay(l Link) time.Duration {
	d := l.Delay
	if l.Jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(l.Jitter)))
	}
	return d
}

// chance draws an event of probability p.
func (s *Sim) chance(p float64) bool { return p > 0 && s.rng.Float64() < p }

// send carries out a Send effect of nd.
func (s *Sim) send(nd *Node, e *effects.Effect) {
	src := nd.addrs[0]
	if so, ok := nd.core.(Sourcer); ok {
		src = so.Source(e)
	}
	tr := e.To.Transport
	if tr == 0 {
		tr = effects.UDP
	}
	var data []byte
	if e.Msg != nil {
		data = e.Msg.AppendTo(make([]byte, 0, e.Msg.Size()))
	} else {
		data = append([]byte(nil), e.Data...)
	}
	to := s.byAddr[e.To.Addr]
	r := Record{Op: OpSend, Node: nd, Peer: to, Addr: e.To.Addr, Transport: tr, Data: data}
	for _, f := range s.filters {
		if f(&r) {
			r.Op, r.Detail = OpDrop, "filtered"
			s.record(r)
			return
		}
	}
	if tr.Reliable() {
		s.sendStream(nd, src, to, e, r)
		return
	}
	if to == nil {
		r.Op, r.Detail = OpDrop, "no node"
		s.record(r)
		return
	}
	if cut, _ := s.severed(nd, to); cut {
		r.Op, r.Detail = OpDrop, "partition"
		s.record(r)
		return
	}
	l := s.link(nd, to)
	if s.chance(l.Loss) {
		r.Op, r.Detail = OpDrop, "lost"
		s.record(r)
		return
	}
	s.record(r)
	from := effects.Peer{Addr: src, Transport: tr}
	s.arrival(to, e.To.Addr, nd, from, data, s.now.Add(s.delay(l)), nil)
	if s.chance(l.Dup) {
		r.Op, r.Detail = OpDup, "duplicated"
		s.record(r)
		s.arrival(to, e.To.Addr, nd, from, data, s.now.Add(s.delay(l)), nil)
	}
}

// arrival schedules data to arrive at a node.
func (s *Sim) arrival(to *Node, local netip.AddrPort, sender *Node, from effects.Peer, data []byte, at effects.Time, c *conn) {
	ev := s.newEvent(evArrive, at, to)
	ev.data, ev.from, ev.sender, ev.local, ev.conn = data, from, sender, local, c
	if c != nil {
		ev.epoch = c.epoch
	}
	s.push(ev)
}

// arrive handles data arriving at a node.
func (s *Sim) arrive(e *event) {
	nd := e.node
	r := Record{Op: OpRecv, Node: nd, Peer: e.sender, Addr: e.from.Addr, Transport: e.from.Transport, Data: e.data}
	if c := e.conn; c != nil && (c.closed || c.epoch != e.epoch) {
		r.Op, r.Detail = OpDrop, "connection closed"
		s.record(r)
		return
	}
	s.record(r)
	in := effects.Input{Kind: effects.Received, Data: e.data, From: e.from, Local: e.local}
	switch {
	case isPing(e.data):
		in = effects.Input{Kind: effects.KeepAlive, From: e.from}
	case isPong(e.data):
		return // drivers drop pongs (drivers/transport Packet.Pong)
	case e.conn == nil && stun.IsSTUN(e.data):
		s.stun(nd, e)
		return
	}
	s.input(nd, in)
}

// stun handles a STUN datagram as drivers/transport does on a SIP port
// (RFC 5626 §8): a Binding request is answered by the node's "driver" at
// once with its source in XOR-MAPPED-ADDRESS, a Binding response goes to
// the core as a Pong, anything else is dropped.
func (s *Sim) stun(nd *Node, e *event) {
	m, err := stun.Parse(e.data)
	switch {
	case err != nil:
		// Not STUN after all: dropped.
	case m.Type.Method() == stun.MethodBinding && (m.Type.Class() == stun.ClassSuccess || m.Type.Class() == stun.ClassError):
		s.input(nd, effects.Input{Kind: effects.Pong, Data: e.data, From: e.from})
		return
	default:
		if resp, ok := stun.AppendResponse(nil, &m, e.from.Addr); ok {
			s.send(nd, &effects.Effect{Kind: effects.Send, Data: resp, To: e.from})
		}
	}
}

func isPing(b []byte) bool { return string(b) == "\r\n\r\n" }
func isPong(b []byte) bool { return string(b) == "\r\n" }

// conn is a simulated stream connection between two addresses.
type conn struct {
	id     effects.ConnID
	key    connKey
	ends   [2]*Node // ends[0] opened it
	addrs  [2]netip.AddrPort
	tr     effects.Transport
	closed bool
	epoch  uint32
	last   [2]effects.Time // last arrival scheduled, by direction (to ends[i])
}

// connKey names the connection between two addresses over a transport,
// whichever end opened it.
type connKey struct {
	lo, hi netip.AddrPort
	tr     effects.Transport
}

func keyOf(a, b netip.AddrPort, tr effects.Transport) connKey {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b, tr}
}

// sendStream carries out a Send over a stream transport: on the connection
// To.Conn names, else on the open one between the two addresses, else on a
// new one (as drivers/transport does).
func (s *Sim) sendStream(nd *Node, src netip.AddrPort, to *Node, e *effects.Effect, r Record) {
	if to == nil {
		r.Op, r.Detail = OpDrop, "no node: connection refused"
		s.record(r)
		fail := s.newEvent(evInput, s.now, nd)
		fail.in = effects.Input{Kind: effects.SendFailed, Tag: e.Tag, Err: fmt.Errorf("%w: %v", ErrRefused, e.To)}
		s.push(fail)
		return
	}
	c := s.conns[e.To.Conn]
	if c == nil || c.closed || c.tr != r.Transport || !(c.addrs[0] == src && c.addrs[1] == e.To.Addr || c.addrs[1] == src && c.addrs[0] == e.To.Addr) {
		c = s.connsBy[keyOf(src, e.To.Addr, r.Transport)]
	}
	if c == nil {
		s.nextConn++
		c = &conn{id: s.nextConn, key: keyOf(src, e.To.Addr, r.Transport), ends: [2]*Node{nd, to}, addrs: [2]netip.AddrPort{src, e.To.Addr}, tr: r.Transport}
		s.conns[c.id], s.connsBy[c.key] = c, c
		s.record(Record{Op: OpConnOpen, Node: nd, Peer: to, Addr: e.To.Addr, Transport: r.Transport, Conn: c.id})
	}
	r.Conn = c.id
	dir := 1 // towards ends[1]
	if c.ends[1] == nd && c.addrs[1] == src {
		dir = 0
	}
	at := s.now.Add(s.delay(s.link(nd, to)))
	if cut, heal := s.severed(nd, to); cut {
		if heal == 0 {
			r.Op, r.Detail = OpDrop, "partition: connection broken"
			s.record(r)
			s.breakConn(c, "partition")
			return
		}
		at = heal.Add(s.delay(s.link(nd, to)))
		r.Detail = "held by the partition"
	}
	at = max(at, c.last[dir])
	c.last[dir] = at
	s.record(r)
	s.arrival(c.ends[dir], c.addrs[dir], nd, effects.Peer{Addr: src, Transport: c.tr, Conn: c.id}, r.Data, at, c)
}

// closeConn carries out a Close effect of nd.
func (s *Sim) closeConn(nd *Node, id effects.ConnID) {
	c := s.conns[id]
	if c == nil || c.closed || (c.ends[0] != nd && c.ends[1] != nd) {
		return
	}
	s.breakConn(c, "closed by "+nd.name)
}

// breakConn closes c: data in flight is lost and both ends get ConnClosed,
// as the drivers report a closed connection to their cores.
func (s *Sim) breakConn(c *conn, why string) {
	c.closed = true
	c.epoch++
	delete(s.connsBy, c.key)
	s.record(Record{Op: OpConnClose, Node: c.ends[0], Peer: c.ends[1], Conn: c.id, Transport: c.tr, Detail: why})
	for i, nd := range c.ends {
		if i == 1 && nd == c.ends[0] {
			break // a node talking to itself hears it once
		}
		e := s.newEvent(evInput, s.now, nd)
		e.in = effects.Input{Kind: effects.ConnClosed, Conn: c.id}
		s.push(e)
	}
}

// BreakConn breaks the open connection between a and b (over any
// transport), as a network failure would: data in flight is lost and both
// ends get a ConnClosed input. It returns ErrNoConn when there is none.
func (s *Sim) BreakConn(a, b *Node) error {
	found := false
	for id := effects.ConnID(1); id <= s.nextConn; id++ {
		c := s.conns[id]
		if c == nil || c.closed || !(c.ends[0] == a && c.ends[1] == b || c.ends[0] == b && c.ends[1] == a) {
			continue
		}
		s.breakConn(c, "broken")
		found = true
	}
	if !found {
		return fmt.Errorf("%w between %s and %s", ErrNoConn, a.name, b.name)
	}
	return nil
}

// Conns returns the ids of the open connections, oldest first.
func (s *Sim) Conns() []effects.ConnID {
	var out []effects.ConnID
	for id := effects.ConnID(1); id <= s.nextConn; id++ {
		if c := s.conns[id]; c != nil && !c.closed {
			out = append(out, id)
		}
	}
	return out
}
