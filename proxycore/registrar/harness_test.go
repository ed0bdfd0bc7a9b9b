package registrar_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// The test network: UA cores and a registrar TU exchanging messages with a
// latency on a virtual clock; every message is recorded on the wire.

const realm = "biloxi.example.com"

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func peer(addr string, tr effects.Transport) effects.Peer {
	return effects.Peer{Addr: netip.MustParseAddrPort(addr), Transport: tr}
}

// endpoint is one node: a UA core or the registrar TU.
type endpoint struct {
	name   string
	addr   effects.Peer
	handle func(in effects.Input) []effects.Effect
	timers map[effects.TimerID]bool
	events []effects.Event
}

type item struct {
	at    effects.Time
	seq   int
	to    *endpoint
	data  []byte
	from  effects.Peer
	timer effects.TimerID
}

type wireMsg struct {
	from, to string
	msg      *message.Message
	peer     effects.Peer // the source the receiver sees
}

type network struct {
	t       *testing.T
	now     effects.Time
	seq     int
	queue   []item
	nodes   map[netip.AddrPort]*endpoint
	wire    []wireMsg
	latency time.Duration
}

func newNetwork(t *testing.T) *network {
	return &network{t: t, nodes: map[netip.AddrPort]*endpoint{}, latency: 10 * time.Millisecond}
}

func (n *network) add(name string, addr effects.Peer, h func(in effects.Input) []effects.Effect) *endpoint {
	e := &endpoint{name: name, addr: addr, handle: h, timers: map[effects.TimerID]bool{}}
	n.nodes[addr.Addr] = e
	return e
}

// apply carries out an endpoint's effects.
func (n *network) apply(from *endpoint, effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			to := n.nodes[e.To.Addr]
			if to == nil || e.Msg == nil {
				continue
			}
			src := from.addr
			src.Transport = e.To.Transport
			if src.Transport.Reliable() {
				src.Conn = 7
			}
			n.wire = append(n.wire, wireMsg{from: from.name, to: to.name, msg: e.Msg, peer: src})
			n.schedule(item{at: n.now.Add(n.latency), to: to, data: e.Msg.Bytes(), from: src})
		case effects.SetTimer:
			if from.timers[e.Timer] {
				n.t.Fatalf("%s: timer %x set twice", from.name, e.Timer)
			}
			from.timers[e.Timer] = true
			n.schedule(item{at: n.now.Add(e.After), to: from, timer: e.Timer})
		case effects.CancelTimer:
			delete(from.timers, e.Timer)
		case effects.Deliver:
			from.events = append(from.events, e.Event)
		}
	}
}

func (n *network) schedule(it item) {
	n.seq++
	it.seq = n.seq
	n.queue = append(n.queue, it)
}

// run processes the queue in time order until it is empty or the clock
// would pass until.
func (n *network) run(until effects.Time) {
	for steps := 0; len(n.queue) > 0; steps++ {
		if steps > 100000 {
			n.t.Fatal("the network never quiesces")
		}
		i := 0
		for j, it := range n.queue {
			if it.at < n.queue[i].at || it.at == n.queue[i].at && it.seq < n.queue[i].seq {
				i = j
			}
		}
		it := n.queue[i]
		if it.at > until {
			break
		}
		n.queue = slices.Delete(n.queue, i, i+1)
		n.now = max(n.now, it.at)
		in := effects.Input{Kind: effects.Received, Now: n.now, Data: it.data, From: it.from}
		if it.data == nil {
			if !it.to.timers[it.timer] {
				continue
			}
			delete(it.to.timers, it.timer)
			in = effects.Input{Kind: effects.TimerFired, Now: n.now, Timer: it.timer}
		}
		n.apply(it.to, it.to.handle(in))
	}
	n.now = max(n.now, until)
}

// line describes a message for the wire checks: "REGISTER 2 <contacts>
// Expires:0 auth" or "200 <contacts> Require:outbound".
func line(m *message.Message) string {
	var b strings.Builder
	if m.IsRequest() {
		fmt.Fprintf(&b, "%s %d", m.Method(), m.CSeq().Seq)
	} else {
		fmt.Fprintf(&b, "%d", m.StatusCode())
	}
	if cs := m.Values("Contact"); len(cs) > 0 {
		b.WriteString(" " + strings.Join(cs, ", "))
	}
	for _, h := range []string{"Expires", "Min-Expires", "Require", "Unsupported", "Flow-Timer", "Path"} {
		if vs := m.Values(h); len(vs) > 0 {
			b.WriteString(" " + h + ":" + strings.Join(vs, ","))
		}
	}
	if m.Has("Authorization") {
		b.WriteString(" auth")
	}
	if m.Has("WWW-Authenticate") {
		b.WriteString(" challenge")
		if ch, ok, _ := message.First[header.WWWAuthenticate](m); ok && ch.Stale() {
			b.WriteString(" stale")
		}
	}
	if m.Has("Authentication-Info") {
		b.WriteString(" info")
	}
	return b.String()
}

// wireFrom renders the wire from entry k on.
func (n *network) wireFrom(k int) []string {
	var out []string
	for _, w := range n.wire[k:] {
		out = append(out, w.from+"->"+w.to+" "+line(w.msg))
	}
	return out
}

// server is a small transaction user: a txn.Layer in front of a registrar
// whose questions Memory answers at once, or, when deferred, are held
// until release answers them from the same store (a slow database).
type server struct {
	layer    *txn.Layer
	mem      *registrar.Memory
	deferred bool
	held     []effects.Event
	gen      ident.Generator
}

func newServer(t *testing.T, cfg registrar.Config, users map[string]string) *server {
	if cfg.Gen == nil {
		cfg.Gen = ident.Seeded(99)
	}
	if cfg.Domains == nil {
		cfg.Domains = []string{realm}
	}
	m, err := registrar.NewMemory(cfg, &location.Store{}, users)
	if err != nil {
		t.Fatal(err)
	}
	return &server{layer: txn.New(txn.Config{}), mem: m, gen: cfg.Gen}
}

func authServer() *digest.Server {
	return &digest.Server{Realm: realm, Secret: []byte("0123456789abcdef0123"), Algorithms: []digest.Algorithm{digest.MD5}}
}

func (s *server) handle(in effects.Input) []effects.Effect {
	return s.route(in.Now, s.layer.Handle(in, nil))
}

// route handles the events among effs and returns what the driver does.
func (s *server) route(now effects.Time, effs []effects.Effect) []effects.Effect {
	var out []effects.Effect
	for i := 0; i < len(effs); i++ {
		e := effs[i]
		if e.Kind != effects.Deliver {
			out = append(out, e)
			continue
		}
		ev := e.Event
		switch ev.Kind {
		case effects.TxnRequest:
			effs = s.request(now, ev, effs)
		case effects.RegistrarResponse:
			effs, _ = s.layer.Respond(now, ev.ID, ev.Msg, effs)
		case effects.RegistrarCredentials, effects.RegistrarLoad, effects.RegistrarStore:
			s.held = append(s.held, ev)
		case effects.TxnTerminated:
			s.mem.Registrar.Cancel(ev.ID)
		}
	}
	return out
}

func (s *server) request(now effects.Time, ev effects.Event, effs []effects.Effect) []effects.Effect {
	if ev.Msg.Method() != "REGISTER" {
		resp, _ := message.NewResponse(ev.Msg, 405, "", message.ResponseOptions{Gen: s.gen})
		effs, _ = s.layer.Respond(now, ev.ID, resp, effs)
		return effs
	}
	var err error
	if s.deferred {
		effs, err = s.mem.Registrar.Handle(now, ev.ID, ev.Msg, ev.From, effs)
	} else {
		effs, err = s.mem.Handle(now, ev.ID, ev.Msg, ev.From, effs)
	}
	if err != nil {
		panic(err)
	}
	return effs
}

// release answers the questions held now, as a slow store would, and
// returns what follows; the questions the answers raise are held in turn.
func (s *server) release(now effects.Time) []effects.Effect {
	var effs []effects.Effect
	held := s.held
	s.held = nil
	for _, ev := range held {
		effs = append(effs, answerLater(now, s.mem, ev)...)
	}
	return s.route(now, effs)
}

// answerLater answers one question from m's store and users, as the owner
// of a Registrar without Memory would.
func answerLater(now effects.Time, m *registrar.Memory, ev effects.Event) []effects.Effect {
	r := m.Registrar
	p, ok := r.Pending(ev.ID)
	if !ok {
		return nil
	}
	var out []effects.Effect
	switch ev.Kind {
	case effects.RegistrarCredentials:
		c, found := m.Users(p.Username, p.Realm)
		out, _ = r.Credentials(now, ev.ID, c, found, out)
	case effects.RegistrarLoad:
		out, _ = r.Bindings(now, ev.ID, m.Store.Lookup(now, p.AOR), nil, out)
	case effects.RegistrarStore:
		_, err := m.Store.Apply(now, p.AOR, p.Update)
		out, _ = r.Stored(now, ev.ID, err, out)
	}
	return out
}

// bobUA is Bob's UA core of RFC 3665 §2 at addr, knowing password.
func bobUA(t *testing.T, addr effects.Peer, password string, seed uint64) *ua.UA {
	contact := "sip:bob@" + addr.Addr.String()
	if addr.Transport != effects.UDP {
		contact += ";transport=" + strings.ToLower(addr.Transport.String())
	}
	u, err := ua.New(ua.Config{
		AOR: mustURI("sip:bob@biloxi.example.com"), Contact: mustURI(contact),
		Host: addr.Addr.Addr().String(), Port: addr.Addr.Port(), Gen: ident.Seeded(seed),
		Credentials: func(r string) (digest.Credentials, bool) {
			return digest.Credentials{Username: "bob", Password: password}, r == realm
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// kinds returns the names of the events among evs of at least kind min.
func kinds(evs []effects.Event, min effects.EventKind) []string {
	var out []string
	for _, e := range evs {
		if e.Kind >= min {
			out = append(out, e.Kind.String())
		}
	}
	return out
}
