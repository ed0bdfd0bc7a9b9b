package fuzz

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/flow"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/txn"
)

// registrarTimer is the id of the registrar's expiry timer: apart from the
// transaction layer's (their ids are small) and the proxy's own (the top
// bit).
const registrarTimer = effects.TimerID(1 << 62)

// proxyRun is a proxy under test: the stateful one with its registrar and
// location service, as sansip serve composes them, or the stateless one.
type proxyRun struct {
	n     *node
	p     *proxycore.Proxy
	s     *proxycore.Stateless
	reg   *registrar.Memory
	store *location.Store
	sent  []string // "peer first-line" of every message sent, for the seed tests
}

// proxyConfig is the configuration both proxies share: the proxy of
// example.com at 192.0.2.10:5060 (also reached as proxy.example.com and
// on port 5061), record-routing, with small bounds so that the fuzzer
// reaches them.
func proxyConfig() proxycore.Config {
	return proxycore.Config{
		Gen:         ident.Seeded(2),
		Host:        "192.0.2.10",
		Port:        5060,
		Aliases:     []string{"proxy.example.com"},
		Ports:       []uint16{5061},
		Domains:     []string{"example.com"},
		RecordRoute: true,
		MaxContexts: 16,
		MaxPending:  8,
		MaxTargets:  8,
		Txn:         txn.Config{MaxTransactions: 64},
	}
}

// newProxy returns the stateful proxy with a registrar for example.com
// whose bindings, in a location store, route the requests for the
// domain (RFC 3261 §10.3, §16.5), like sansip serve without users.
func newProxy(t testing.TB) *proxyRun {
	store := &location.Store{MaxAORs: 8, MaxBindings: 4}
	// The proxy is the edge of its clients' connections (RFC 5626 flow
	// tokens in its Path and Record-Route), as sansip serve is.
	var p *proxycore.Proxy
	flowPath := func(f effects.Peer) (header.Path, bool) {
		if !f.Transport.Reliable() || p == nil {
			return header.Path{}, false
		}
		return p.FlowPath(f)
	}
	reg, err := registrar.NewMemory(registrar.Config{Domains: []string{"example.com"}, Gen: ident.Seeded(3), MaxPending: 8, FlowPath: flowPath}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.Timer = registrarTimer
	cfg := proxyConfig()
	cfg.Registrar, cfg.Location = reg, reg.Lookup
	if cfg.Flows, err = flow.New([]byte("fuzzing flow token key")); err != nil {
		t.Fatal(err)
	}
	p, err = proxycore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &proxyRun{p: p, reg: reg, store: store}
	r.n = newNode(t, "proxy", p.Handle)
	r.n.onSend = r.onSend
	return r
}

// newStateless returns the stateless proxy, whose router sends bob to
// 192.0.2.21, carol to a name to resolve, and answers nobody 404.
func newStateless(t testing.TB) *proxyRun {
	cfg := proxyConfig()
	cfg.Router = func(m *message.Message) proxycore.Decision {
		switch m.RequestURI().User {
		case "bob":
			return proxycore.ProxyTo(proxycore.Target{URI: mustURI("sip:bob@192.0.2.21:5060")})
		case "carol":
			return proxycore.ProxyTo(proxycore.Target{URI: mustURI("sip:carol@biloxi.example.net")})
		case "nobody":
			return proxycore.Decision{Code: 404, Reason: "Not Found"}
		}
		return proxycore.RequestURI()
	}
	s, err := proxycore.NewStateless(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &proxyRun{s: s}
	r.n = newNode(t, "stateless", s.Handle)
	r.n.onSend = r.onSend
	return r
}

func (r *proxyRun) onSend(to effects.Peer, b []byte) {
	if len(r.sent) < 256 {
		r.sent = append(r.sent, to.Addr.String()+" "+firstLine(b))
	}
}

// left describes what the proxy still holds, or returns "".
func (r *proxyRun) left() string {
	var parts []string
	add := func(n int, what string) {
		if n != 0 {
			parts = append(parts, itoa(n)+" "+what)
		}
	}
	if p := r.p; p != nil {
		add(p.Contexts(), "contexts")
		add(p.Transactions().Len(), "transactions")
		add(p.Timers(), "proxy timers")
		add(p.Pending(), "messages waiting for DNS")
		add(r.reg.Registrar.Len(), "pending REGISTERs")
		add(r.store.Len(), "addresses of record")
	} else {
		add(r.s.Pending(), "messages waiting for DNS")
	}
	add(len(r.n.timers), "pending timers")
	add(len(r.n.dns), "unanswered look-ups")
	sort.Strings(parts)
	return join(parts)
}

// run feeds the input, then lets the network fall silent: every look-up
// is answered (with nothing) and every timer fires, in time order, until
// none is left; then the proxy must hold nothing: no context, transaction,
// timer, pending message or REGISTER, and no binding (they all expired).
func (r *proxyRun) run(data []byte) {
	n := r.n
	for rec := range Records(data) {
		n.step(rec, func(Record) {})
	}
	for i := 0; len(n.dns) > 0 || len(n.timers) > 0; i++ {
		if i > 20000 {
			n.fatalf("still busy after 20000 look-ups and timers")
		}
		if len(n.dns) > 0 {
			n.answer(false, 0)
			continue
		}
		n.fireNext()
	}
	if s := r.left(); s != "" {
		n.t.Fatalf("%s: state left after the input ended, every look-up was answered and every timer fired: %s", n.name, s)
	}
}

// runProxy runs one FuzzProxyBytes input through both proxies.
func runProxy(t testing.TB, data []byte) (stateful, stateless *proxyRun) {
	stateful, stateless = newProxy(t), newStateless(t)
	stateful.run(data)
	stateless.run(data)
	return stateful, stateless
}

// FuzzProxyBytes feeds arbitrary messages and driver inputs (see the
// package documentation) to the stateful proxy with its registrar and
// location service, as sansip serve runs it, and then to the stateless
// proxy. It checks that nothing panics, that what they send parses, that
// timers are consistent, and that no state is left.
func FuzzProxyBytes(f *testing.F) {
	for _, s := range proxySeeds(f) {
		f.Add([]byte(s.script))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runProxy(t, data)
	})
}

// TestProxySeeds runs each seed of FuzzProxyBytes and checks that the
// stateful proxy sent what the seed was written for: its in-dialog
// messages and responses match what the proxy forwarded.
func TestProxySeeds(t *testing.T) {
	for _, s := range proxySeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			p, _ := runProxy(t, s.script)
			for _, want := range s.sends {
				if !slices.ContainsFunc(p.sent, func(got string) bool { return strings.HasPrefix(got, want) }) {
					t.Errorf("nothing sent starts with %q; sent:\n%s", want, strings.Join(p.sent, "\n"))
				}
			}
		})
	}
}

// TestProxyDeterministic runs every seed twice: the same input must give
// the same messages, byte for byte.
func TestProxyDeterministic(t *testing.T) {
	for _, s := range proxySeeds(t) {
		for _, mk := range []func(testing.TB) *proxyRun{newProxy, newStateless} {
			var runs [2][]string
			for i := range runs {
				r := mk(t)
				r.n.record = &runs[i]
				r.run(s.script)
			}
			if !slices.Equal(runs[0], runs[1]) {
				t.Errorf("%s: two runs sent different messages", s.name)
			}
		}
	}
}

type proxySeed struct {
	name   string
	script Script
	sends  []string // what the stateful proxy must send: prefixes of "addr first-line"
}

// proxySeeds are the starting corpus of FuzzProxyBytes: registrations (one
// over TCP with outbound), calls through the proxy with record-routing
// (answered, cancelled, forked, refused), requests the proxy answers
// itself (OPTIONS to it, Max-Forwards exhausted, a loop, an unknown
// Proxy-Require, an unknown user), a name to resolve, and every RFC 4475
// and RFC 5118 torture message.
func proxySeeds(t testing.TB) []proxySeed {
	const udp, tcp = effects.UDP, effects.TCP
	var seeds []proxySeed
	add := func(name string, s Script, sends ...string) {
		seeds = append(seeds, proxySeed{name, s, sends})
	}
	const (
		alice = "192.0.2.20:5060 "
		bob   = "192.0.2.21:5060 "
		bob2  = "192.0.2.20:5070 "
	)
	reg := register("r1", 1, "<sip:bob@192.0.2.21:5060>;expires=600", "")
	add("call", Script{}.
		Receive(udp, 1, 0, reg).
		Receive(udp, 0, 0, aliceInvite("z9hG4bKa1", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(100, "Trying", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(180, "Ringing", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(200, "OK", sdpBobAnswer)).
		Receive(udp, 0, 0, aliceInDialog("ACK", 1, "z9hG4bKa1a", "")).
		Advance(9).
		Receive(udp, 1, 0, bobBye(2)).
		Receive(udp, 0, 0, aliceAnswersBye()),
		bob+"SIP/2.0 200 OK", bob+"INVITE sip:bob@192.0.2.21:5060", alice+"SIP/2.0 180 Ringing", alice+"SIP/2.0 200 OK",
		bob+"ACK sip:bob@192.0.2.21:5060", alice+"BYE sip:alice@192.0.2.20:5060", bob+"SIP/2.0 200 OK")
	add("cancel", Script{}.
		Receive(udp, 1, 0, reg).
		Receive(udp, 0, 0, aliceInvite("z9hG4bKa1", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(180, "Ringing", "")).
		Receive(udp, 0, 0, aliceCancel("z9hG4bKa1")).
		Receive(udp, 1, 0, bobFwdResp(200, "OK", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(487, "Request Terminated", "")).
		Receive(udp, 0, 0, aliceAck487("z9hG4bKa1")),
		bob+"CANCEL sip:bob@192.0.2.21:5060", alice+"SIP/2.0 487 Request Terminated")
	add("fork", Script{}.
		Receive(udp, 1, 0, reg).
		Receive(udp, 2, 0, register("r2", 1, "<sip:bob@192.0.2.20:5070>;expires=300;q=0.5", "")).
		Receive(udp, 0, 0, aliceInvite("z9hG4bKa2", "")).
		Receive(udp, 1, 0, bobFwdInviteResp(486, "Busy Here", "")).
		Advance(21).
		Receive(udp, 2, 0, bobFwdInviteResp(180, "Ringing", "")).
		Advance(22).
		Receive(udp, 2, 0, bobFwdInviteResp(408, "Request Timeout", "")),
		bob+"INVITE sip:bob@192.0.2.21:5060", bob2+"INVITE sip:bob@192.0.2.20:5070")
	add("outbound-tcp", Script{}.
		Receive(tcp, 1, 0, register("r3", 1, `<sip:bob@192.0.2.21:5060;transport=tcp;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e129>";expires=600`, "Supported: outbound, path\r\n")).
		Receive(udp, 0, 0, aliceInvite("z9hG4bKa3", "")).
		Receive(tcp, 1, 0, bobFwdInviteResp(200, "OK", sdpBobAnswer)).
		Close(1).
		Receive(udp, 0, 0, aliceInDialog("ACK", 1, "z9hG4bKa3a", "")).
		Receive(tcp, 1, 0, register("r3", 2, "*", "Expires: 0\r\n")),
		bob+"SIP/2.0 200 OK", bob+"INVITE sip:bob@192.0.2.21:5060")
	add("message", Script{}.
		Receive(udp, 1, 0, reg).
		Receive(udp, 0, 0, aliceRequest("MESSAGE", "sip:bob@example.com", 1, "z9hG4bKm1", "Content-Type: text/plain\r\n", "hello")).
		Receive(udp, 1, 0, bobFwdResp(200, "OK", "")).
		Receive(udp, 0, 0, aliceRequest("MESSAGE", "sip:nobody@example.com", 2, "z9hG4bKm2", "Content-Type: text/plain\r\n", "hello")),
		bob+"MESSAGE sip:bob@192.0.2.21:5060", alice+"SIP/2.0 200 OK", alice+"SIP/2.0 404")
	add("checks", Script{}.
		Receive(udp, 0, 0, aliceRequest("OPTIONS", "sip:192.0.2.10", 1, "z9hG4bKc1", "", "")).
		Receive(udp, 0, 0, strings.Replace(aliceRequest("OPTIONS", "sip:proxy.example.com", 2, "z9hG4bKc2", "", ""), "Max-Forwards: 70", "Max-Forwards: 0", 1)).
		Receive(udp, 0, 0, strings.Replace(aliceRequest("INVITE", "sip:bob@example.com", 3, "z9hG4bKc3", "", ""), "Max-Forwards: 70", "Max-Forwards: 0", 1)).
		Receive(udp, 0, 0, aliceRequest("INVITE", "sip:bob@example.com", 4, "z9hG4bKc4", "Proxy-Require: nothingSupportsThis\r\n", "")).
		Receive(udp, 0, 0, aliceRequest("INVITE", "sip:bob@example.com", 5, "z9hG4bKc5", "", "")).
		Receive(udp, 0, 0, aliceRequest("INVITE", "sip:bob@example.com", 6, "z9hG4bKc6", "Max-Breadth: 0\r\n", "")).
		Receive(udp, 0, 0, aliceRequest("INVITE", "gopher:bob@example.com", 7, "z9hG4bKc7", "", "")),
		alice+"SIP/2.0 200 OK", alice+"SIP/2.0 483", alice+"SIP/2.0 420", alice+"SIP/2.0 404")
	add("resolve", Script{}.
		Receive(udp, 0, 0, aliceRequest("INVITE", "sip:carol@biloxi.example.net", 1, "z9hG4bKd1", "", "")).
		Answer(true, 3).
		Receive(udp, 3, 0, bobFwdInviteResp(180, "Ringing", "")).
		Receive(udp, 0, 0, aliceRequest("OPTIONS", "sip:carol@atlanta.example.net", 2, "z9hG4bKd2", "", "")).
		Answer(false, 0).
		Receive(udp, 0, 0, aliceRequest("REGISTER", "sip:example.net", 3, "z9hG4bKd3", "Contact: <sip:alice@192.0.2.20>\r\n", "")).
		Advance(14).
		Answer(true, 2).
		Advance(21).Advance(21),
		"[2001:db8::20]:5060 INVITE sip:carol@biloxi.example.net", alice+"SIP/2.0 180 Ringing")
	add("loop-and-route", Script{}.
		Receive(udp, 0, 0, aliceRequest("OPTIONS", "sip:bob@example.com", 1, "z9hG4bKl1", "Route: <sip:192.0.2.10:5060;lr>, <sip:192.0.2.21;lr>\r\n", "")).
		Receive(udp, 1, 0, bobFwdResp(200, "OK", "")).
		Receive(udp, 0, 0, aliceRequest("INFO", "sip:192.0.2.10:5060", 2, "z9hG4bKl2", "Route: <sip:bob@192.0.2.21>\r\n", "")).
		Receive(udp, 0, 0, aliceRequest("OPTIONS", "sip:bob@192.0.2.21;maddr=192.0.2.20", 3, "z9hG4bKl3", "", "")).
		Receive(udp, 2, 0, "OPTIONS sip:bob@example.com SIP/2.0\r\n"+Vias+"Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKl4\r\nMax-Forwards: 69\r\nFrom: <sip:alice@example.com>;tag=l4\r\nTo: <sip:bob@example.com>\r\nCall-ID: l4\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").
		KeepAlive(udp, 0).KeepAlive(tcp, 1).
		Answer(false, 0),
		bob+"OPTIONS sip:bob@example.com")

	msgs := torture(t)
	names := make([]string, 0, len(msgs))
	for name := range msgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		add(name, Script{}.Receive(udp, 0, 0, string(msgs[name])).Answer(true, 1).Answer(true, 1))
	}
	return seeds
}

// register is Bob's REGISTER for sip:bob@example.com from the peer it is
// sent from, with the Contact given.
func register(callID string, cseq int, contact, extra string) string {
	return "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK" + callID + "c" + itoa(cseq) + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:bob@example.com>;tag=" + callID + "\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: " + callID + "@example.com\r\n" +
		"CSeq: " + itoa(cseq) + " REGISTER\r\n" +
		"Contact: " + contact + "\r\n" + extra +
		"Content-Length: 0\r\n\r\n"
}

// aliceInvite is Alice's (peer 0) INVITE to sip:bob@example.com through
// the proxy, in her call pc1.
func aliceInvite(branch, extra string) string {
	return aliceRequest("INVITE", "sip:bob@example.com", 1, branch, "Contact: <sip:alice@192.0.2.20:5060>\r\nSupported: 100rel\r\n"+extra+"Content-Type: application/sdp\r\n", sdpAliceOffer)
}

// aliceRequest is a request of Alice's (peer 0) outside any dialog, in
// call pc1 (its CSeq number cseq).
func aliceRequest(method, ruri string, cseq int, branch, extra, body string) string {
	return method + " " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: pc" + itoa(cseq) + "@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		extra +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// aliceInDialog is a request of Alice's in the dialog of call pc1, through
// the proxy's Record-Route, to Bob's Contact.
func aliceInDialog(method string, cseq int, branch, body string) string {
	return method + " sip:bob@192.0.2.21:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"Route: <sip:192.0.2.10:5060;lr>\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\n" +
		"Call-ID: pc1@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// aliceCancel is Alice's CANCEL of her INVITE (the same branch).
func aliceCancel(branch string) string {
	return "CANCEL sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: pc1@192.0.2.20\r\n" +
		"CSeq: 1 CANCEL\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// aliceAck487 is Alice's ACK of the proxy's 487 (hop by hop, §17.1.1.3).
func aliceAck487(branch string) string {
	return "ACK sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\n" +
		"Call-ID: pc1@192.0.2.20\r\n" +
		"CSeq: 1 ACK\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// bobFwdInviteResp is Bob's response to the INVITE the proxy forwarded last
// (its Vias), with his tag b1, his Contact and the Record-Route.
func bobFwdInviteResp(code int, reason, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	to := "To: <sip:bob@example.com>;tag=b1\r\n"
	if code == 100 {
		to = "To: <sip:bob@example.com>\r\n"
	}
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" + InviteVias +
		"Record-Route: <sip:192.0.2.10:5060;lr>\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=" + InviteFrom + "\r\n" + to +
		"Call-ID: " + InviteCallID + "\r\n" +
		"CSeq: " + InviteCSeq + " INVITE\r\n" +
		"Contact: <sip:bob@192.0.2.21:5060>\r\n" + ct +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// bobFwdResp is the response to the last request the proxy forwarded.
func bobFwdResp(code int, reason, body string) string {
	return "SIP/2.0 " + itoa(code) + " " + reason + "\r\n" + Vias +
		"From: \"Alice\" <sip:alice@example.com>;tag=" + From + "\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\n" +
		"Call-ID: " + CallID + "\r\n" +
		"CSeq: " + CSeq + " " + Method + "\r\n" +
		"Content-Length: " + Length + "\r\n\r\n" + body
}

// bobBye is Bob's BYE in the dialog of call pc1, through the proxy.
func bobBye(cseq int) string {
	return "BYE sip:alice@192.0.2.20:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKbb" + itoa(cseq) + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"Route: <sip:192.0.2.10:5060;lr>\r\n" +
		"From: <sip:bob@example.com>;tag=b1\r\n" +
		"To: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"Call-ID: pc1@192.0.2.20\r\n" +
		"CSeq: " + itoa(cseq) + " BYE\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// aliceAnswersBye is Alice's 200 to the BYE the proxy forwarded.
func aliceAnswersBye() string {
	return "SIP/2.0 200 OK\r\n" + Vias +
		"From: <sip:bob@example.com>;tag=b1\r\n" +
		"To: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"Call-ID: " + CallID + "\r\n" +
		"CSeq: " + CSeq + " BYE\r\n" +
		"Content-Length: 0\r\n\r\n"
}
