package proxycore_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// node is one core on the test network: a UA, a stateful proxy or a
// stateless one.
type node struct {
	name   string
	addr   effects.Peer
	ua     *ua.UA
	proxy  *proxycore.Proxy
	sl     *proxycore.Stateless
	custom func(in effects.Input) []effects.Effect
	events []effects.Event
	// on runs for each event delivered; it may issue commands.
	on   func(n *node, ev effects.Event)
	call ua.CallID
	net  *network
}

func (nd *node) handle(in effects.Input) []effects.Effect {
	switch {
	case nd.custom != nil:
		return nd.custom(in)
	case nd.ua != nil:
		return nd.ua.Handle(in, nil)
	case nd.proxy != nil:
		return nd.proxy.Handle(in, nil)
	}
	return nd.sl.Handle(in, nil)
}

// wireEntry is one message on the wire.
type wireEntry struct {
	at       effects.Time
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
	if debugWire {
		s = time.Duration(w.at).String() + " " + s + " " + w.msg.Branch()
	}
	return s
}

type item struct {
	at    effects.Time
	seq   int
	node  *node
	timer effects.TimerID
	data  []byte
	from  effects.Peer
	in    *effects.Input
	fn    func()
}

// tester is what the network needs of a *testing.T.
type tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// network carries messages between nodes with a latency and fires their
// timers on a virtual clock; drop decides which messages are lost; dns
// answers Resolve effects.
type network struct {
	t       tester
	now     effects.Time
	seq     int
	queue   []item
	nodes   map[netip.AddrPort]*node
	pending map[*node]map[effects.TimerID]int
	wire    []wireEntry
	latency time.Duration
	drop    func(w wireEntry) bool
	dns     map[string][]effects.Target
	// seen, when set, sees every message sent.
	seen func(from *node, e effects.Effect)
}

func newNetwork(t tester) *network {
	return &network{t: t, nodes: map[netip.AddrPort]*node{}, pending: map[*node]map[effects.TimerID]int{},
		latency: 10 * time.Millisecond, dns: map[string][]effects.Target{}}
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func (n *network) place(name, addr string) *node {
	ap := netip.MustParseAddrPort(addr)
	nd := &node{name: name, addr: effects.Peer{Addr: ap, Transport: effects.UDP}, net: n}
	n.nodes[ap] = nd
	n.pending[nd] = map[effects.TimerID]int{}
	return nd
}

// addUA puts a UA on the network.
func (n *network) addUA(name, addr string, seed uint64) *node {
	nd := n.place(name, addr)
	ap := nd.addr.Addr
	u, err := ua.New(ua.Config{Gen: ident.Seeded(seed), Host: ap.Addr().String(), Port: ap.Port(),
		Contact: mustURI(fmt.Sprintf("sip:%s@%s", name, ap)), AOR: mustURI(fmt.Sprintf("sip:%s@example.com", name))})
	if err != nil {
		n.t.Fatalf("%v", err)
	}
	nd.ua = u
	return nd
}

// addProxy puts a stateful proxy on the network.
func (n *network) addProxy(name, addr string, cfg proxycore.Config) *node {
	nd := n.place(name, addr)
	if cfg.Gen == nil {
		cfg.Gen = ident.Seeded(uint64(len(n.nodes)) * 77)
	}
	cfg.Host, cfg.Port = nd.addr.Addr.Addr().String(), nd.addr.Addr.Port()
	p, err := proxycore.New(cfg)
	if err != nil {
		n.t.Fatalf("%v", err)
	}
	nd.proxy = p
	return nd
}

// addStateless puts a stateless proxy on the network.
func (n *network) addStateless(name, addr string, cfg proxycore.Config) *node {
	nd := n.place(name, addr)
	cfg.Host, cfg.Port = nd.addr.Addr.Addr().String(), nd.addr.Addr.Port()
	p, err := proxycore.NewStateless(cfg)
	if err != nil {
		n.t.Fatalf("%v", err)
	}
	nd.sl = p
	return nd
}

func (n *network) schedule(it item) {
	n.seq++
	it.seq = n.seq
	n.queue = append(n.queue, it)
}

// apply carries out a node's effects.
func (n *network) apply(nd *node, effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			if e.Msg == nil {
				continue
			}
			if n.seen != nil {
				n.seen(nd, e)
			}
			to := n.nodes[e.To.Addr]
			name := e.To.Addr.String()
			if to != nil {
				name = to.name
			}
			msg := e.Msg
			if nd.sl != nil {
				msg = msg.Clone() // valid until the next Handle only
			}
			w := wireEntry{at: n.now, from: nd.name, to: name, msg: msg}
			if to == nil || n.drop != nil && n.drop(w) {
				w.dropped = true
				n.wire = append(n.wire, w)
				continue
			}
			n.wire = append(n.wire, w)
			n.schedule(item{at: n.now.Add(n.latency), node: to, data: e.Msg.Bytes(), from: effects.Peer{Addr: nd.addr.Addr, Transport: e.To.Transport}})
		case effects.SetTimer:
			if n.pending[nd][e.Timer] != 0 {
				n.t.Fatalf("%s: timer %x set twice", nd.name, e.Timer)
			}
			n.schedule(item{at: n.now.Add(e.After), node: nd, timer: e.Timer})
			n.pending[nd][e.Timer] = n.seq
		case effects.CancelTimer:
			if n.pending[nd][e.Timer] == 0 {
				n.t.Fatalf("%s: cancel of timer %x not pending", nd.name, e.Timer)
			}
			delete(n.pending[nd], e.Timer)
		case effects.Resolve:
			in := effects.Input{Kind: effects.Resolved, Tag: e.Tag, Answer: n.dns[e.Name]}
			n.schedule(item{at: n.now.Add(n.latency), node: nd, in: &in})
		case effects.Deliver:
			ev := e.Event
			if ev.Kind >= effects.CallIncoming {
				nd.events = append(nd.events, ev)
				if nd.ua != nil && ev.Kind < effects.SubscribeIncoming && ev.ID != 0 {
					nd.call = ev.ID
				}
				if nd.on != nil {
					nd.on(nd, ev)
				}
			}
		}
	}
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
		if it.fn != nil {
			it.fn()
			continue
		}
		var in effects.Input
		switch {
		case it.in != nil:
			in = *it.in
		case it.data != nil:
			in = effects.Input{Kind: effects.Received, Data: it.data, From: it.from, Local: it.node.addr.Addr}
		default:
			if n.pending[it.node][it.timer] != it.seq {
				continue // cancelled, perhaps set again since
			}
			delete(n.pending[it.node], it.timer)
			in = effects.Input{Kind: effects.TimerFired, Timer: it.timer}
		}
		in.Now = n.now
		n.apply(it.node, it.node.handle(in))
	}
}

// after schedules an application action d from now.
func (n *network) after(d time.Duration, fn func()) {
	n.schedule(item{at: n.now.Add(d), fn: fn})
}

// do runs a command on a node now and carries out its effects.
func (nd *node) do(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) {
	nd.net.t.Helper()
	out, err := f(nd.net.now, nil)
	if err != nil {
		nd.net.t.Fatalf("%s: %v", nd.name, err)
	}
	nd.net.apply(nd, out)
}

// callTo places a call from nd to target through the first hop via.
func (nd *node) callTo(target string, via *node) ua.CallID {
	nd.net.t.Helper()
	id, out, err := nd.ua.Call(nd.net.now, mustURI(target), ua.CallOptions{Dest: via.addr, Body: []byte(sdpOffer)}, nil)
	if err != nil {
		nd.net.t.Fatalf("%v", err)
	}
	nd.call = id
	nd.net.apply(nd, out)
	return id
}

// kinds lists a node's call events.
func (nd *node) kinds() []string {
	var out []string
	for _, ev := range nd.events {
		switch ev.Kind {
		case effects.CallIncoming, effects.CallRinging, effects.CallAnswered, effects.CallFailed, effects.CallEnded:
			out = append(out, strings.TrimPrefix(ev.Kind.String(), "call-"))
		}
	}
	return out
}

func (nd *node) last(k effects.EventKind) (effects.Event, bool) {
	for i := len(nd.events) - 1; i >= 0; i-- {
		if nd.events[i].Kind == k {
			return nd.events[i], true
		}
	}
	return effects.Event{}, false
}

// log renders the wire as "from->to FIRST" lines.
func (n *network) log() []string {
	var out []string
	for _, w := range n.wire {
		out = append(out, w.String())
	}
	return out
}

// quiesce runs until nothing is left and checks that no core holds state.
func (n *network) quiesce() {
	n.t.Helper()
	n.run(time.Duration(1<<62 - 1))
	for _, nd := range n.nodes {
		switch {
		case nd.ua != nil:
			if nd.ua.Calls() != 0 || nd.ua.Dialogs() != 0 || nd.ua.Transactions().Len() != 0 || len(n.pending[nd]) != 0 {
				n.t.Errorf("%s left %d calls, %d dialogs, %d transactions, %d timers", nd.name, nd.ua.Calls(), nd.ua.Dialogs(), nd.ua.Transactions().Len(), len(n.pending[nd]))
			}
		case nd.proxy != nil:
			p := nd.proxy
			if p.Contexts() != 0 || p.Timers() != 0 || p.Transactions().Len() != 0 || p.Pending() != 0 || len(n.pending[nd]) != 0 {
				n.t.Errorf("%s left %d contexts, %d timers, %d transactions, %d pending, %d timers on the network", nd.name, p.Contexts(), p.Timers(), p.Transactions().Len(), p.Pending(), len(n.pending[nd]))
			}
		case nd.sl != nil:
			if nd.sl.Pending() != 0 {
				n.t.Errorf("%s left %d pending", nd.name, nd.sl.Pending())
			}
		}
	}
}

// inject sends raw bytes to a node as if from a peer.
func (n *network) inject(to *node, from effects.Peer, raw string) {
	n.schedule(item{at: n.now, node: to, data: []byte(raw), from: from})
}

const sdpOffer = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
const sdpAnswer = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

var _ = testing.Short

type messageT = message.Message

var uaRing = ua.RingOptions{}

// mustProxy replaces a node's proxy by one with cfg.
func mustProxy(t tester, nd *node, cfg proxycore.Config) *proxycore.Proxy {
	if cfg.Gen == nil {
		cfg.Gen = ident.Seeded(99)
	}
	cfg.Host, cfg.Port = nd.addr.Addr.Addr().String(), nd.addr.Addr.Port()
	p, err := proxycore.New(cfg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// mustUA replaces a node's UA by one with credentials.
func mustUA(t tester, nd *node, creds func(realm string) (digest.Credentials, bool)) *ua.UA {
	ap := nd.addr.Addr
	u, err := ua.New(ua.Config{Gen: ident.Seeded(5), Host: ap.Addr().String(), Port: ap.Port(), Credentials: creds,
		Contact: mustURI(fmt.Sprintf("sip:%s@%s", nd.name, ap)), AOR: mustURI(fmt.Sprintf("sip:%s@example.com", nd.name))})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return u
}

// debugWire adds times and branches to the wire log.
var debugWire = false
