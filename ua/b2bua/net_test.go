package b2bua_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/ua/b2bua"
	"github.com/sansip/sansip/uri"
)

// tester is what the network needs of a *testing.T; properties and the
// fuzz target pass one that panics instead.
type tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// node is one UA on the test network. The B2BUA's UAs route their events
// to the B2BUA; the others to their application, on.
type node struct {
	name   string
	ua     *ua.UA
	addr   effects.Peer
	events []effects.Event
	on     func(n *node, ev effects.Event)
	call   ua.CallID
	net    *network
}

// wireEntry is one message on the wire.
type wireEntry struct {
	from, to string
	msg      *message.Message
	dropped  bool
}

func (w wireEntry) String() string {
	first := w.msg.Method()
	if !w.msg.IsRequest() {
		first = fmt.Sprint(w.msg.StatusCode())
	}
	s := w.from + "->" + w.to + " " + first
	if w.dropped {
		s += " (lost)"
	}
	return s
}

// item is a message arriving, a timer firing or an application action, at
// a time on the virtual clock.
type item struct {
	at    effects.Time
	seq   int
	node  *node
	timer effects.TimerID
	data  []byte
	from  effects.Peer
	fn    func()
}

// network carries messages between nodes with a latency and fires their
// timers on a virtual clock; drop decides which messages are lost.
type network struct {
	t       tester
	now     effects.Time
	seq     int
	queue   []item
	nodes   map[netip.AddrPort]*node
	byUA    map[*ua.UA]*node
	pending map[*node]map[effects.TimerID]bool
	wire    []wireEntry
	latency time.Duration
	drop    func(w wireEntry) bool
	b2b     *b2bua.B2BUA
	bridge  []effects.Event // the B2BUA's own events
	onBr    func(ev effects.Event)
}

func newNetwork(t tester) *network {
	return &network{t: t, nodes: map[netip.AddrPort]*node{}, byUA: map[*ua.UA]*node{},
		pending: map[*node]map[effects.TimerID]bool{}, latency: 10 * time.Millisecond}
}

// add puts a UA named name on the network at addr (UDP).
func (n *network) add(name, addr string, cfg ua.Config, seed uint64) *node {
	ap := netip.MustParseAddrPort(addr)
	cfg.Gen = ident.Seeded(seed)
	cfg.Host, cfg.Port = ap.Addr().String(), ap.Port()
	cfg.Contact = mustURI(fmt.Sprintf("sip:%s@%s", name, ap))
	if cfg.AOR.Host == "" {
		cfg.AOR = mustURI("sip:" + name + "@example.com")
	}
	u, err := ua.New(cfg)
	if err != nil {
		n.t.Fatalf("%v", err)
	}
	nd := &node{name: name, ua: u, addr: effects.Peer{Addr: ap, Transport: effects.UDP}, net: n}
	n.nodes[ap], n.byUA[u] = nd, nd
	n.pending[nd] = map[effects.TimerID]bool{}
	return nd
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// apply carries out a node's effects.
func (n *network) apply(nd *node, effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			n.send(nd, e)
		case effects.SetTimer:
			if n.pending[nd][e.Timer] {
				n.t.Fatalf("%s: timer %x set twice", nd.name, e.Timer)
			}
			n.pending[nd][e.Timer] = true
			n.schedule(item{at: n.now.Add(e.After), node: nd, timer: e.Timer})
		case effects.CancelTimer:
			if !n.pending[nd][e.Timer] {
				n.t.Fatalf("%s: cancel of timer %x not pending", nd.name, e.Timer)
			}
			delete(n.pending[nd], e.Timer)
		case effects.Deliver:
			n.deliver(nd, e.Event)
		}
	}
}

func (n *network) send(nd *node, e effects.Effect) {
	to := n.nodes[e.To.Addr]
	if to == nil || e.Msg == nil {
		return
	}
	w := wireEntry{from: nd.name, to: to.name, msg: e.Msg}
	if n.drop != nil && n.drop(w) {
		w.dropped = true
		n.wire = append(n.wire, w)
		return
	}
	n.wire = append(n.wire, w)
	n.schedule(item{at: n.now.Add(n.latency), node: to, data: slices.Clone(e.Msg.Bytes()), from: nd.addr})
}

// deliver hands a UA's event to the B2BUA, when the UA is one of its, or
// to the node's application.
func (n *network) deliver(nd *node, ev effects.Event) {
	if ev.Kind < effects.CallIncoming {
		return
	}
	nd.events = append(nd.events, ev)
	if n.b2b != nil && nd.on == nil {
		n.applyB2B(n.b2b.Handle(n.now, nd.ua, ev, nil))
		return
	}
	if ev.ID != 0 && ev.Kind < effects.RequestIncoming {
		nd.call = ev.ID
	}
	if nd.on != nil {
		nd.on(nd, ev)
	}
}

// applyB2B carries out the B2BUA's effects: each on its UA's node; the
// UAs' events among them are recorded, not fed back.
func (n *network) applyB2B(out []b2bua.Effect) {
	for _, e := range out {
		if e.UA == nil {
			n.bridge = append(n.bridge, e.Event)
			if n.onBr != nil {
				n.onBr(e.Event)
			}
			continue
		}
		nd := n.byUA[e.UA]
		if e.Kind == effects.Deliver {
			nd.events = append(nd.events, e.Event)
			continue
		}
		n.apply(nd, []effects.Effect{e.Effect})
	}
}

func (n *network) schedule(it item) {
	n.seq++
	it.seq = n.seq
	n.queue = append(n.queue, it)
}

// run processes scheduled items in time order until the queue is empty or
// the clock passes limit.
func (n *network) run(limit time.Duration) {
	for steps := 0; len(n.queue) > 0; steps++ {
		if steps > 200000 {
			n.t.Fatalf("the network never quiesces")
		}
		i := 0
		for j, it := range n.queue {
			if it.at < n.queue[i].at || it.at == n.queue[i].at && it.seq < n.queue[i].seq {
				i = j
			}
		}
		it := n.queue[i]
		if time.Duration(it.at) > limit {
			n.now = effects.Time(limit)
			return
		}
		n.queue = slices.Delete(n.queue, i, i+1)
		n.now = max(n.now, it.at)
		n.step(it)
	}
}

func (n *network) step(it item) {
	if it.fn != nil {
		it.fn()
		return
	}
	in := effects.Input{Kind: effects.Received, Now: n.now, Data: it.data, From: it.from}
	if it.data == nil {
		if !n.pending[it.node][it.timer] {
			return // cancelled
		}
		delete(n.pending[it.node], it.timer)
		in = effects.Input{Kind: effects.TimerFired, Now: n.now, Timer: it.timer}
	}
	n.apply(it.node, it.node.ua.Handle(in, nil))
}

// after schedules an application action d from now.
func (n *network) after(d time.Duration, fn func()) {
	n.schedule(item{at: n.now.Add(d), fn: fn})
}

// do runs a command on a node now and carries out its effects; it fails
// the test on error.
func (nd *node) do(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) {
	nd.net.t.Helper()
	out, err := f(nd.net.now, nil)
	if err != nil {
		nd.net.t.Fatalf("%s: %v", nd.name, err)
	}
	nd.net.apply(nd, out)
}

// try runs a command that may fail (a race the scenario allows).
func (nd *node) try(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) bool {
	out, err := f(nd.net.now, nil)
	nd.net.apply(nd, out)
	return err == nil
}

// callTo places a call from nd to the node to.
func (nd *node) callTo(to *node, o ua.CallOptions) ua.CallID {
	nd.net.t.Helper()
	o.Dest = to.addr
	id, out, err := nd.ua.Call(nd.net.now, mustURI(fmt.Sprintf("sip:%s@%s", to.name, to.addr.Addr)), o, nil)
	if err != nil {
		nd.net.t.Fatalf("%v", err)
	}
	nd.call = id
	nd.net.apply(nd, out)
	return id
}

// kinds lists the kinds of a node's events, without their "call-" prefix.
func (nd *node) kinds() []string {
	var out []string
	for _, ev := range nd.events {
		out = append(out, strings.TrimPrefix(ev.Kind.String(), "call-"))
	}
	return out
}

// last returns the node's last event of a kind.
func (nd *node) last(k effects.EventKind) (effects.Event, bool) {
	for i := len(nd.events) - 1; i >= 0; i-- {
		if nd.events[i].Kind == k {
			return nd.events[i], true
		}
	}
	return effects.Event{}, false
}

// count returns how many events of a kind the node had.
func (nd *node) count(k effects.EventKind) int {
	c := 0
	for _, ev := range nd.events {
		if ev.Kind == k {
			c++
		}
	}
	return c
}

// wireLog renders the wire as "from->to FIRST" lines.
func (n *network) wireLog() []string {
	var out []string
	for _, w := range n.wire {
		out = append(out, w.String())
	}
	return out
}

// sent returns the messages from one node to another, first line first.
func (n *network) sent(from, to, first string) []*message.Message {
	var out []*message.Message
	for _, w := range n.wire {
		if w.from == from && w.to == to && !w.dropped && strings.HasSuffix(w.String(), " "+first) {
			out = append(out, w.msg)
		}
	}
	return out
}

// quiesce fires every pending timer, then checks that no node holds a
// call, dialog, timer, transaction or request, and the B2BUA no bridge or
// relay.
func (n *network) quiesce() {
	n.t.Helper()
	n.run(time.Duration(1<<62) - 1)
	for _, nd := range n.nodes {
		u := nd.ua
		if u.Calls() != 0 || u.Dialogs() != 0 || u.Timers() != 0 || u.Transactions().Len() != 0 || u.Requests() != 0 || len(n.pending[nd]) != 0 {
			n.t.Errorf("%s left %d calls, %d dialogs, %d UA timers, %d transactions, %d requests, %d pending timers\n%s",
				nd.name, u.Calls(), u.Dialogs(), u.Timers(), u.Transactions().Len(), u.Requests(), len(n.pending[nd]), strings.Join(n.wireLog(), "\n"))
		}
	}
	if n.b2b != nil && (n.b2b.Bridges() != 0 || n.b2b.Relays() != 0) {
		n.t.Errorf("the B2BUA left %d bridges, %d relays", n.b2b.Bridges(), n.b2b.Relays())
	}
}

const (
	sdpOffer  = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	sdpAnswer = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)

// world is a caller (alice), the B2BUA's UAs (in, out; the same node when
// one UA serves both sides) and a callee (bob).
type world struct {
	n                   *network
	alice, in, out, bob *node
	b2b                 *b2bua.B2BUA
}

// worldOptions vary the world.
type worldOptions struct {
	oneUA    bool // the B2BUA uses one UA for both sides
	reliable bool // every UA asks for and sends reliable provisional responses
	route    func(w *world) func(*ua.UA, effects.Event) b2bua.Decision
	expires  time.Duration // the outgoing leg's Expires
	bob      ua.Config
}

func newWorld(t tester, o worldOptions) *world {
	w := &world{n: newNetwork(t)}
	w.alice = w.n.add("alice", "192.0.2.1:5060", ua.Config{Reliable: o.reliable}, 1)
	w.in = w.n.add("in", "192.0.2.10:5060", ua.Config{Reliable: o.reliable}, 10)
	w.out = w.in
	if !o.oneUA {
		w.out = w.n.add("out", "192.0.2.11:5060", ua.Config{Reliable: o.reliable}, 11)
	}
	bcfg := o.bob
	bcfg.Reliable = bcfg.Reliable || o.reliable
	w.bob = w.n.add("bob", "192.0.2.2:5060", bcfg, 2)
	route := func(*ua.UA, effects.Event) b2bua.Decision {
		return b2bua.Decision{Target: mustURI("sip:bob@192.0.2.2"), Options: ua.CallOptions{Dest: w.bob.addr, Expires: o.expires}}
	}
	if o.route != nil {
		route = o.route(w)
	}
	b, err := b2bua.New(b2bua.Config{Inside: w.in.ua, Outside: w.out.ua, Route: route, Reliable: o.reliable})
	if err != nil {
		t.Fatalf("%v", err)
	}
	w.b2b, w.n.b2b = b, b
	return w
}

// call makes alice call the B2BUA with an offer (or none).
func (w *world) call(offer string) ua.CallID {
	return w.alice.callTo(w.in, ua.CallOptions{Body: []byte(offer)})
}

// answerer makes a callee ring (with code and body) and answer after d
// with body (never when d < 0); it accepts re-INVITEs and UPDATEs with
// accept, and answers requests 200.
type answerer struct {
	ringCode int
	ringBody string
	after    time.Duration
	answer   string
	accept   func(offer string) string
	decline  int
	reply    int
}

func (a answerer) on(nd *node, ev effects.Event) {
	switch ev.Kind {
	case effects.CallIncoming:
		if a.ringCode != 0 {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Ring(now, ev.ID, ua.RingOptions{Code: a.ringCode, Body: []byte(a.ringBody)}, out)
			})
		}
		if a.after >= 0 {
			nd.net.after(a.after, func() {
				nd.try(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Answer(now, ev.ID, []byte(a.answer), out)
				})
			})
		}
	case effects.CallAnswered:
		if ev.Msg != nil && ev.Msg.IsResponse() && len(ev.Msg.Body()) > 0 && a.accept != nil {
			// A late offer: the 2xx offered, the ACK answers.
			nd.try(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Accept(now, ev.ID, []byte(a.accept(ev.Msg.Body())), out)
			})
		}
	case effects.CallReinvite:
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			if a.decline != 0 {
				return nd.ua.Decline(now, ev.ID, a.decline, out)
			}
			return nd.ua.Accept(now, ev.ID, []byte(a.accept(ev.Msg.Body())), out)
		})
	case effects.RequestIncoming:
		code := a.reply
		if code == 0 {
			code = 200
		}
		nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
			return nd.ua.Reply(now, ev.ID, code, ua.ReplyOptions{}, out)
		})
	}
}

// recvonly answers an offer with sendonly streams (hold) with recvonly
// ones, else with sdpAnswer.
func recvonly(offer string) string {
	if strings.Contains(offer, "a=sendonly") {
		return strings.Replace(sdpAnswer, "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=recvonly\r\n", 1)
	}
	return sdpAnswer
}
