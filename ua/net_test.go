package ua

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/stun"
	"github.com/sansip/sansip/uri"
)

// node is one UA on the test network, with the application behaviour the
// test gives it.
type node struct {
	name string
	ua   *UA
	// handle, when set, stands in for a UA (a test proxy).
	handle func(in effects.Input) []effects.Effect
	addr   effects.Peer
	events []effects.Event
	// on runs for each event the UA delivers; it may issue commands, whose
	// effects the network carries out.
	on func(n *node, ev effects.Event)
	// call is the call id the node last heard about or placed.
	call CallID
	net  *network
}

// wireEntry is one message on the wire.
type wireEntry struct {
	at       time.Duration
	from, to string
	msg      *message.Message
	dropped  bool
}

func (w wireEntry) String() string {
	first := w.msg.Method()
	if !w.msg.IsRequest() {
		first = fmt.Sprintf("%d", w.msg.StatusCode())
	}
	s := fmt.Sprintf("%s->%s %s", w.from, w.to, first)
	if w.dropped {
		s += " (lost)"
	}
	return s
}

// item is something scheduled on the network: a message arriving or a timer
// firing.
type item struct {
	at    effects.Time
	seq   int
	node  *node
	timer effects.TimerID
	data  []byte
	from  effects.Peer
	kind  effects.InputKind // of data: Received unless set (Pong)
	fn    func()            // an application action
}

// network carries messages between nodes with a latency, and fires their
// timers, on a virtual clock. drop decides which messages are lost.
// tester is what the network needs of a *testing.T; properties pass one
// that records the failure instead.
type tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Fatal(args ...any)
	Errorf(format string, args ...any)
}

type network struct {
	t       tester
	now     effects.Time
	seq     int
	queue   []item
	nodes   map[netip.AddrPort]*node
	pending map[*node]map[effects.TimerID]bool
	wire    []wireEntry
	latency time.Duration
	drop    func(w wireEntry) bool
	// raw sees the sends of raw bytes (keep-alives), which carry no
	// message.
	raw func(from *node, e effects.Effect)
	// stunServer, when set, answers the STUN requests sent to a node as
	// a SIP edge proxy's driver would (RFC 5626 §8): the response it
	// returns arrives at the sender as a Pong after a round trip; nil
	// answers nothing. Without it STUN goes nowhere.
	stunServer func(from, to *node, req []byte) []byte
}

func newNetwork(t tester) *network {
	return &network{t: t, nodes: map[netip.AddrPort]*node{}, pending: map[*node]map[effects.TimerID]bool{}, latency: 10 * time.Millisecond}
}

// add puts a UA on the network at addr over transport tr.
func (n *network) add(name, addr string, tr effects.Transport, cfg Config, seed uint64) *node {
	ap := netip.MustParseAddrPort(addr)
	if cfg.Gen == nil {
		cfg.Gen = ident.Seeded(seed)
	}
	if cfg.Host == "" {
		cfg.Host = ap.Addr().String()
		cfg.Port = ap.Port()
	}
	if cfg.Contact.Host == "" {
		cfg.Contact = mustURI(fmt.Sprintf("sip:%s@%s", name, ap))
		if tr != effects.UDP {
			cfg.Contact = cfg.Contact.WithParam("transport", strings.ToLower(tr.String()))
		}
	}
	if cfg.AOR.Host == "" {
		cfg.AOR = mustURI(fmt.Sprintf("sip:%s@example.com", name))
	}
	u, err := New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	nd := &node{name: name, ua: u, addr: effects.Peer{Addr: ap, Transport: tr}, net: n}
	n.nodes[ap] = nd
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
			to := n.nodes[e.To.Addr]
			if e.Msg == nil && n.raw != nil {
				n.raw(nd, e)
			}
			if e.Msg == nil && to != nil && n.stunServer != nil && stun.IsSTUN(e.Data) {
				if resp := n.stunServer(nd, to, e.Data); resp != nil {
					n.schedule(item{at: n.now.Add(2 * n.latency), node: nd, data: resp, from: to.addr, kind: effects.Pong})
				}
			}
			if to == nil || e.Msg == nil {
				continue
			}
			w := wireEntry{at: time.Duration(n.now), from: nd.name, to: to.name, msg: e.Msg}
			if n.drop != nil && n.drop(w) {
				w.dropped = true
				n.wire = append(n.wire, w)
				continue
			}
			n.wire = append(n.wire, w)
			from := nd.addr
			from.Transport = e.To.Transport
			if from.Transport.Reliable() {
				from.Conn = 1
			}
			n.schedule(item{at: n.now.Add(n.latency), node: to, data: e.Msg.Bytes(), from: from})
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
			ev := e.Event
			if ev.Kind >= effects.CallIncoming {
				nd.events = append(nd.events, ev)
				if ev.ID != 0 && ev.Kind < effects.SubscribeIncoming {
					nd.call = ev.ID // subscription events name subscriptions
				}
				if nd.on != nil {
					nd.on(nd, ev)
				}
			}
		}
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
		if steps > 100000 {
			n.t.Fatal("the network never quiesces")
		}
		i := slices.IndexFunc(n.queue, func(it item) bool { return true })
		for j, it := range n.queue {
			if it.at < n.queue[i].at || it.at == n.queue[i].at && it.seq < n.queue[i].seq {
				i = j
			}
		}
		it := n.queue[i]
		n.queue = slices.Delete(n.queue, i, i+1)
		if time.Duration(it.at) > limit {
			n.queue = append(n.queue, it)
			n.now = effects.Time(limit)
			return
		}
		if it.at > n.now {
			n.now = it.at
		}
		if it.fn != nil {
			it.fn()
			continue
		}
		in := effects.Input{Kind: effects.Received, Now: n.now, Data: it.data, From: it.from}
		if it.kind != 0 {
			in.Kind = it.kind
		}
		if it.data == nil {
			if !n.pending[it.node][it.timer] {
				continue // cancelled
			}
			delete(n.pending[it.node], it.timer)
			in = effects.Input{Kind: effects.TimerFired, Now: n.now, Timer: it.timer}
		}
		if it.node.handle != nil {
			n.apply(it.node, it.node.handle(in))
		} else {
			n.apply(it.node, it.node.ua.Handle(in, nil))
		}
	}
}

// after schedules an application action d from now.
func (n *network) after(d time.Duration, fn func()) {
	n.schedule(item{at: n.now.Add(d), fn: fn})
}

// do runs a command on a node at the current time and carries out its
// effects; it fails the test on error.
func (nd *node) do(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) {
	nd.net.t.Helper()
	out, err := f(nd.net.now, nil)
	if err != nil {
		nd.net.t.Fatalf("%s: %v", nd.name, err)
	}
	nd.net.apply(nd, out)
}

// call places a call from nd to the node to.
func (nd *node) callTo(to *node, o CallOptions) CallID {
	nd.net.t.Helper()
	if o.Dest.Addr == (netip.AddrPort{}) {
		o.Dest = effects.Peer{Addr: to.addr.Addr, Transport: to.addr.Transport}
	}
	id, out, err := nd.ua.Call(nd.net.now, mustURI(fmt.Sprintf("sip:%s@%s", to.name, to.addr.Addr)), o, nil)
	if err != nil {
		nd.net.t.Fatal(err)
	}
	nd.call = id
	nd.net.apply(nd, out)
	return id
}

// kinds lists the kinds of a node's events.
func (nd *node) kinds() []string {
	var out []string
	for _, ev := range nd.events {
		if ev.Kind >= effects.MediaStarted && ev.Kind <= effects.MediaStopped {
			continue // checked by TestMediaEvents
		}
		out = append(out, strings.TrimPrefix(ev.Kind.String(), "call-"))
	}
	return out
}

// lastEvent returns the node's last event of a kind.
func (nd *node) lastEvent(k effects.EventKind) (effects.Event, bool) {
	for i := len(nd.events) - 1; i >= 0; i-- {
		if nd.events[i].Kind == k {
			return nd.events[i], true
		}
	}
	return effects.Event{}, false
}

// wireLog renders the wire as "from->to FIRST" lines.
func (n *network) wireLog() []string {
	var out []string
	for _, w := range n.wire {
		out = append(out, w.String())
	}
	return out
}

// quiesce fires every pending timer and then checks that no node holds a
// call, dialog, timer or transaction.
func (n *network) quiesce() {
	n.t.Helper()
	n.run(time.Duration(1<<62) - 1)
	for _, nd := range n.nodes {
		if nd.ua == nil {
			continue
		}
		if nd.ua.Calls() != 0 || nd.ua.Dialogs() != 0 || nd.ua.Subscriptions() != 0 || nd.ua.Registrations() != 0 || nd.ua.Timers() != 0 || nd.ua.Transactions().Len() != 0 || nd.ua.Requests() != 0 || len(n.pending[nd]) != 0 {
			if dumpWire {
				for _, w := range n.wire {
					c, _ := w.msg.Get("Contact")
					fmt.Println(w.at, w, w.msg.CSeq(), w.msg.FromTag(), w.msg.ToTag(), w.msg.Branch(), c)
				}
			}
			n.t.Errorf("%s left %d calls, %d dialogs, %d subscriptions, %d UA timers, %d transactions, %d pending timers",
				nd.name, nd.ua.Calls(), nd.ua.Dialogs(), nd.ua.Subscriptions(), nd.ua.Timers(), nd.ua.Transactions().Len(), len(n.pending[nd]))
		}
	}
}

const sdpOffer = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
const sdpAnswer = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

func hold(sdp string) string {
	return strings.Replace(strings.Replace(sdp, "2890844526 IN", "2890844527 IN", 1), "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n", 1)
}

func parseAgain(m *message.Message) (*message.Message, error) { return message.Parse(m.Bytes(), nil) }
