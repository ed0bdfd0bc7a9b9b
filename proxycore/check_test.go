package proxycore_test

import (
	"github.com/google/go-cmp/cmp"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

// request renders a request from alice at 192.0.2.1 with extra header
// lines.
func request(method, ruri string, extra ...string) string {
	lines := []string{method + " " + ruri + " SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1",
		"Max-Forwards: 70", "From: <sip:alice@example.com>;tag=a1", "To: <sip:bob@example.com>", "Call-ID: c1@192.0.2.1",
		"CSeq: 1 " + method}
	for _, e := range extra {
		if strings.HasPrefix(e, "Max-Forwards:") {
			lines[2] = e
			continue
		}
		lines = append(lines, e)
	}
	return strings.Join(lines, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

var alicePeer = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}

// TestValidation checks the request validation of RFC 3261 §16.3 on the
// stateful and the stateless proxy: each request is answered with the
// status, or forwarded (0).
func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		code int
		hdr  string // a header field the response must carry
	}{
		{"§16.3 step 2: unknown URI scheme: 416", request("INVITE", "http://example.com/bob"), 416, ""},
		{"§16.3 step 3: Max-Forwards 0: 483", request("INVITE", "sip:bob@192.0.2.2", "Max-Forwards: 0"), 483, ""},
		{"§16.3 step 3: OPTIONS to the proxy with Max-Forwards 0: 200", request("OPTIONS", "sip:192.0.2.10:5060", "Max-Forwards: 0"), 200, "Allow"},
		{"§11: OPTIONS to the proxy itself is answered, not forwarded to itself", request("OPTIONS", "sip:192.0.2.10:5060"), 200, "Allow"},
		{"§11: the same on another port it listens on (Config.Ports)", request("OPTIONS", "sip:192.0.2.10:5061;transport=tls"), 200, "Allow"},
		{"§16.3 step 3: OPTIONS to someone else with Max-Forwards 0: 483", request("OPTIONS", "sip:bob@192.0.2.2", "Max-Forwards: 0"), 483, ""},
		{"§16.3 step 5: unknown Proxy-Require: 420 with Unsupported", request("INVITE", "sip:bob@192.0.2.2", "Proxy-Require: foo"), 420, "Unsupported"},
		// An element of Proxy-Require that is no option tag cannot go in
		// Unsupported: the request is malformed (§20.29) and still gets
		// an answer, so that its transaction ends (found by
		// fuzz.FuzzProxyBytes: the stateful proxy answered nothing and
		// kept the server transaction forever).
		{"§20.29: empty Proxy-Require: 400", request("INVITE", "sip:bob@192.0.2.2", "Proxy-Require:"), 400, ""},
		{"§20.29: Proxy-Require that is no option tag: 400", request("INVITE", "sip:bob@192.0.2.2", "Proxy-Require: foo bar"), 400, ""},
		{"§16.3 step 5: known Proxy-Require forwarded", request("INVITE", "sip:bob@192.0.2.2", "Proxy-Require: sec-agree"), 0, ""},
		{"Max-Forwards 1 is forwarded with 0", request("INVITE", "sip:bob@192.0.2.2", "Max-Forwards: 1"), 0, ""},
		{"§16.3 step 1: syntax: 400", request("INVITE", "sip:bob@192.0.2.2", "Max-Forwards: x"), 400, ""},
	}
	for _, stateless := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(map[bool]string{false: "stateful/", true: "stateless/"}[stateless]+tc.name, func(t *testing.T) {
				n := newNetwork(t)
				cfg := proxycore.Config{Supported: []string{"sec-agree"}, Ports: []uint16{5061}}
				var p *node
				if stateless {
					p = n.addStateless("p", "192.0.2.10:5060", cfg)
				} else {
					p = n.addProxy("p", "192.0.2.10:5060", cfg)
				}
				n.inject(p, alicePeer, tc.raw)
				n.run(time.Second)
				var resp, fwd *message.Message
				for _, w := range n.wire {
					if w.to == "192.0.2.1:5060" && w.msg.StatusCode() >= 200 {
						resp = w.msg
					}
					if w.to == "192.0.2.2:5060" && w.msg.IsRequest() {
						fwd = w.msg
					}
				}
				if tc.code == 0 {
					if fwd == nil || resp != nil {
						t.Fatalf("not forwarded: %v", n.log())
					}
					if mf, _ := fwd.MaxForwards(); mf >= 70 {
						t.Errorf("Max-Forwards %d not decremented", mf)
					}
					return
				}
				if resp == nil || resp.StatusCode() != tc.code {
					t.Fatalf("want %d: %v", tc.code, n.log())
				}
				if tc.hdr != "" && !resp.Has(tc.hdr) {
					t.Errorf("%d lacks %s:\n%s", tc.code, tc.hdr, resp)
				}
				if fwd != nil {
					t.Errorf("forwarded too")
				}
			})
		}
	}
}

// TestLoop: a request that comes back unchanged is a loop (RFC 3261 §16.3
// step 4): the proxy recognises its own Via's branch and answers 482.
func TestLoop(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{})
	p2 := n.addProxy("p2", "192.0.2.20:5060", proxycore.Config{})
	p1.proxy = mustProxy(t, p1, proxycore.Config{Router: func(m *messageT) proxycore.Decision {
		return proxycore.ProxyTo(proxycore.Target{URI: m.RequestURI(), Peer: p2.addr})
	}})
	p2.proxy = mustProxy(t, p2, proxycore.Config{Router: func(m *messageT) proxycore.Decision {
		return proxycore.ProxyTo(proxycore.Target{URI: m.RequestURI(), Peer: p1.addr})
	}})
	alice.callTo("sip:bob@example.com", p1)
	n.quiesce()
	ev, ok := alice.last(effects.CallFailed)
	if !ok || ev.Code != 482 {
		t.Fatalf("caller got %v, want 482\n%s", alice.kinds(), strings.Join(n.log(), "\n"))
	}
	if k := strings.Count(strings.Join(n.log(), "\n"), "p2->p1 INVITE"); k != 1 {
		t.Errorf("the loop went round %d times", k)
	}
}

// TestStrictRouter: a request from a strict router carries our Record-Route
// URI as Request-URI; the proxy restores the Request-URI from the last Route
// (RFC 3261 §16.4) and sends the request there.
func TestStrictRouter(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		n := newNetwork(t)
		var p *node
		if stateless {
			p = n.addStateless("p", "192.0.2.10:5060", proxycore.Config{})
		} else {
			p = n.addProxy("p", "192.0.2.10:5060", proxycore.Config{})
		}
		raw := strings.Replace(request("BYE", "sip:192.0.2.10:5060;lr", "Route: <sip:bob@192.0.2.2:5060>"), "To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1", 1)
		n.inject(p, alicePeer, raw)
		n.run(time.Second)
		var fwd *message.Message
		for _, w := range n.wire {
			if w.to == "192.0.2.2:5060" {
				fwd = w.msg
			}
		}
		if fwd == nil {
			t.Fatalf("stateless %v: nothing forwarded: %v", stateless, n.log())
		}
		if got := fwd.RequestURI().String(); got != "sip:bob@192.0.2.2:5060" || fwd.Has("Route") {
			t.Errorf("stateless %v: forwarded to %s with Route %v", stateless, got, fwd.Values("Route"))
		}
	}
}

// TestRouteRemoved: our own top Route is removed and the next one is the
// next hop (loose routing, RFC 3261 §16.4, §16.6 step 7).
func TestRouteRemoved(t *testing.T) {
	n := newNetwork(t)
	p := n.addProxy("p", "192.0.2.10:5060", proxycore.Config{})
	raw := request("INVITE", "sip:bob@192.0.2.2", "Route: <sip:192.0.2.10:5060;lr>, <sip:192.0.2.20;lr>")
	n.inject(p, alicePeer, raw)
	n.run(time.Second)
	if !sent(n, "p", "192.0.2.20:5060", "INVITE") {
		t.Fatalf("not sent to the next Route: %v", n.log())
	}
	for _, w := range n.wire {
		if w.to == "192.0.2.20:5060" {
			if r := w.msg.Values("Route"); len(r) != 1 || !strings.Contains(r[0], "192.0.2.20") {
				t.Errorf("Route %v", r)
			}
		}
	}
}

// TestTimerC: an INVITE branch that rings longer than Timer C is cancelled
// (RFC 3261 §16.8) and the caller hears 487.
func TestTimerC(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{TimerC: 181 * time.Second})
	bob := n.addUA("bob", "192.0.2.2:5060", 2)
	bob.on = callee(ringing, 0)
	alice.callTo("sip:bob@192.0.2.2", p1)
	n.run(180 * time.Second)
	if sent(n, "p1", "bob", "CANCEL") {
		t.Fatal("cancelled before Timer C")
	}
	n.quiesce()
	if !sent(n, "p1", "bob", "CANCEL") {
		t.Fatalf("Timer C cancelled nothing: %v", n.log())
	}
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 487 {
		t.Errorf("caller: %v %d\n%s", alice.kinds(), ev.Code, strings.Join(n.log(), "\n"))
	}
}

// TestDNSFailover: the next hop is a name; the proxy asks for it to be
// resolved (Resolve) and tries the answers in order, moving on after a
// timeout or a 503 (RFC 3263 §4.3).
func TestDNSFailover(t *testing.T) {
	for _, first := range []int{unreachable, 503} {
		n := newNetwork(t)
		alice := n.addUA("alice", "192.0.2.1:5060", 1)
		p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{})
		if first == 503 {
			down := n.addUA("down", "192.0.2.99:5060", 3)
			down.on = func(nd *node, ev effects.Event) {
				if ev.Kind == effects.CallIncoming {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.ua.Reject(now, ev.ID, 503, out)
					})
				}
			}
		}
		bob := n.addUA("bob", "192.0.2.2:5060", 2)
		bob.on = callee(200, time.Second)
		n.dns["biloxi.example.com"] = []effects.Target{
			{Addr: netip.MustParseAddrPort("192.0.2.99:5060"), Transport: effects.UDP},
			{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}}
		alice.on = hangupAfter(time.Second)
		alice.callTo("sip:bob@biloxi.example.com", p1)
		n.quiesce()
		if _, ok := alice.last(effects.CallAnswered); !ok {
			t.Errorf("first %d: not answered: %s", first, strings.Join(n.log(), "\n"))
		}
		if !sent(n, "p1", "bob", "INVITE") {
			t.Errorf("first %d: no failover", first)
		}
	}
}

// TestCancelCrossing200: the caller hangs up as the callee answers; the
// CANCEL crosses the 200 (RFC 3261 §9.2, §16.10): the proxy answers the
// CANCEL, the 2xx goes through, and the call ends with a BYE.
func TestCancelCrossing200(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
	bob := n.addUA("bob", "192.0.2.2:5060", 2)
	bob.on = callee(200, 2*time.Second)
	alice.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallRinging {
			nd.net.after(2*time.Second-5*time.Millisecond, func() {
				nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
					return nd.ua.Hangup(now, nd.call, out)
				})
			})
		}
	}
	alice.callTo("sip:bob@192.0.2.2", p1)
	n.quiesce()
	log := strings.Join(n.log(), "\n")
	if !strings.Contains(log, "alice->p1 CANCEL") || !strings.Contains(log, "p1->alice 200") || !strings.Contains(log, "alice->p1 BYE") {
		t.Errorf("wire:\n%s", log)
	}
}

// TestMaxBreadth: parallel branches are limited by Max-Breadth and share
// it (RFC 5393 §5.3); a request with Max-Breadth 0 that would fork is
// refused with 440.
func TestMaxBreadth(t *testing.T) {
	n := newNetwork(t)
	targets := []proxycore.Target{{URI: mustURI("sip:a@192.0.2.31")}, {URI: mustURI("sip:b@192.0.2.32")}, {URI: mustURI("sip:c@192.0.2.33")}}
	p := n.addProxy("p", "192.0.2.10:5060", proxycore.Config{MaxBreadth: 2, Router: func(*messageT) proxycore.Decision {
		return proxycore.Decision{Targets: targets, Fork: proxycore.Parallel}
	}})
	n.inject(p, alicePeer, request("MESSAGE", "sip:bob@example.com"))
	n.run(time.Second)
	dests := map[string]bool{}
	for _, w := range n.wire {
		if w.msg.IsRequest() && w.from == "p" {
			dests[w.to] = true
			if mb, _, _ := message.First[header.MaxBreadth](w.msg); mb != 1 {
				t.Errorf("Max-Breadth %d, want 1", mb)
			}
		}
	}
	if k := len(dests); k != 2 {
		t.Errorf("%d parallel branches, want 2: %v", k, n.log())
	}
	n.inject(p, alicePeer, strings.Replace(request("MESSAGE", "sip:bob@example.com", "Max-Breadth: 0"), "abc1", "abc2", 1))
	n.run(2 * time.Second)
	if !strings.Contains(strings.Join(n.log(), " "), "p->192.0.2.1:5060 440") {
		t.Errorf("no 440: %v", n.log())
	}
}

// TestAuth: the proxy challenges a request without credentials (407), and
// forwards it once the caller answers; the credentials are looked up at
// once (Users) or by the application (ProxyCredentials, answered later).
func TestAuth(t *testing.T) {
	users := proxycore.Users{"alice": {Username: "alice", Password: "secret"}}
	for _, ask := range []bool{false, true} {
		n := newNetwork(t)
		alice := n.addUA("alice", "192.0.2.1:5060", 1)
		alice.ua = mustUA(t, alice, func(realm string) (digest.Credentials, bool) { return users["alice"], realm == "example.com" })
		auth := &proxycore.Auth{Server: &digest.Server{Realm: "example.com", Secret: []byte("0123456789abcdef")}, Lookup: users.Lookup}
		if ask {
			auth.Lookup = nil
		}
		p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{Auth: auth})
		p1.on = func(nd *node, ev effects.Event) {
			if ev.Kind == effects.ProxyCredentials {
				cred, _, _ := message.First[header.ProxyAuthorization](ev.Msg)
				u, ok := users.Lookup(cred.Username())
				nd.net.after(time.Millisecond, func() {
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return nd.proxy.Credentials(now, ev.ID, u, ok, out)
					})
				})
			}
		}
		bob := n.addUA("bob", "192.0.2.2:5060", 2)
		bob.on = callee(200, time.Second)
		alice.on = hangupAfter(time.Second)
		alice.callTo("sip:bob@192.0.2.2", p1)
		n.quiesce()
		log := strings.Join(n.log(), "\n")
		if !strings.Contains(log, "p1->alice 407") || !strings.Contains(log, "p1->bob INVITE") {
			t.Errorf("ask %v: wire:\n%s", ask, log)
		}
		if _, ok := alice.last(effects.CallAnswered); !ok {
			t.Errorf("ask %v: not answered", ask)
		}
	}
}

// TestAuthChallenges: the 407 carries one Proxy-Authenticate per
// algorithm the digest.Server offers, each in its own header field (RFC
// 8760 §2.3, RFC 3261 §7.3.1 and §20.27), strongest first unless the
// order is given; the UA answers the strongest it supports for the realm
// (RFC 8760 §2.4) and the call goes through.
func TestAuthChallenges(t *testing.T) {
	cases := []struct {
		name    string
		algs    []digest.Algorithm
		asGiven bool
		want    []string // the algorithms of the challenges, in order
		answer  string   // the algorithm of the credentials
	}{
		{"nil: the default, MD5 alone", nil, false, []string{"MD5"}, "MD5"},
		{"RFC 8760 §2.3: strongest first", []digest.Algorithm{digest.MD5, digest.SHA256}, false, []string{"SHA-256", "MD5"}, "SHA-256"},
		{"the order given", []digest.Algorithm{digest.MD5, digest.SHA256}, true, []string{"MD5", "SHA-256"}, "SHA-256"},
		{"three", []digest.Algorithm{digest.MD5, digest.SHA256, digest.SHA512_256}, false, []string{"SHA-512-256", "SHA-256", "MD5"}, "SHA-512-256"},
	}
	users := proxycore.Users{"alice": {Username: "alice", Password: "secret"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			alice := n.addUA("alice", "192.0.2.1:5060", 1)
			alice.ua = mustUA(t, alice, func(realm string) (digest.Credentials, bool) { return users["alice"], realm == "example.com" })
			auth := &proxycore.Auth{Server: &digest.Server{Realm: "example.com", Secret: []byte("0123456789abcdef"), Algorithms: tc.algs, AsGiven: tc.asGiven}, Lookup: users.Lookup}
			p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{Auth: auth})
			bob := n.addUA("bob", "192.0.2.2:5060", 2)
			bob.on = callee(200, time.Second)
			alice.on = hangupAfter(time.Second)
			alice.callTo("sip:bob@192.0.2.2", p1)
			n.quiesce()
			var challenged, answered *message.Message
			for _, w := range n.wire {
				switch {
				case w.from == "p1" && w.msg.StatusCode() == 407:
					challenged = w.msg
				case w.from == "alice" && w.msg.Method() == "INVITE" && w.msg.Has("Proxy-Authorization"):
					answered = w.msg
				}
			}
			if challenged == nil || answered == nil {
				t.Fatalf("no 407 or no answer to it:\n%s", strings.Join(n.log(), "\n"))
			}
			chs, err := message.All[header.ProxyAuthenticate](challenged)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ch := range chs {
				got = append(got, ch.Algorithm())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("407 challenges (-want +got):\n%s", diff)
			}
			if n := len(challenged.Values("Proxy-Authenticate")); n != len(tc.want) {
				t.Errorf("%d Proxy-Authenticate fields, want %d", n, len(tc.want))
			}
			creds, err := message.All[header.ProxyAuthorization](answered)
			if err != nil || len(creds) != 1 || creds[0].Algorithm() != tc.answer {
				t.Errorf("answered with %v (%v), want one credential with %s", creds, err, tc.answer)
			}
			if _, ok := alice.last(effects.CallAnswered); !ok {
				t.Errorf("not answered:\n%s", strings.Join(n.log(), "\n"))
			}
		})
	}
}

// TestDecide: with Ask the proxy delivers ProxyRequest and waits for the
// application's Decide (RFC 3261 §16.5); a Router answers it; a redirect
// decision answers 302; with Recurse a 3xx's Contacts are tried (§16.7 step
// 4).
func TestDecide(t *testing.T) {
	bobURI := mustURI("sip:bob@192.0.2.2:5060")
	cases := []struct {
		name string
		d    proxycore.Decision
		code int
	}{
		{"proxy to a target", proxycore.ProxyTo(proxycore.Target{URI: bobURI}), 200},
		{"redirect server: 302", proxycore.Redirect(header.Contact{URI: bobURI}), 302},
		{"reply 404", proxycore.Reply(404), 404},
		{"3xx recursion", proxycore.Decision{Targets: []proxycore.Target{{URI: mustURI("sip:r@192.0.2.40")}}, Recurse: true}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(t)
			alice := n.addUA("alice", "192.0.2.1:5060", 1)
			p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{Ask: true})
			n.addProxy("r", "192.0.2.40:5060", proxycore.Config{Router: func(*messageT) proxycore.Decision {
				return proxycore.Redirect(header.Contact{URI: bobURI})
			}})
			p1.on = func(nd *node, ev effects.Event) {
				if ev.Kind == effects.ProxyRequest {
					router := proxycore.Router(func(*messageT) proxycore.Decision { return tc.d })
					nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
						return router.Answer(now, nd.proxy, ev, out)
					})
				}
			}
			bob := n.addUA("bob", "192.0.2.2:5060", 2)
			bob.on = callee(200, time.Second)
			alice.on = hangupAfter(time.Second)
			alice.callTo("sip:bob@example.com", p1)
			n.quiesce()
			code := 200
			if ev, ok := alice.last(effects.CallFailed); ok {
				code = ev.Code
			}
			if code != tc.code {
				t.Errorf("caller's outcome %d, want %d\n%s", code, tc.code, strings.Join(n.log(), "\n"))
			}
			if _, ok := p1.last(effects.ProxyDone); !ok {
				t.Errorf("no ProxyDone")
			}
		})
	}
}

// TestBoundedContexts: past MaxContexts new requests get 503 (and every
// context is released at the end).
func TestBoundedContexts(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	carol := n.addUA("carol", "192.0.2.3:5060", 3)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{MaxContexts: 1})
	bob := n.addUA("bob", "192.0.2.2:5060", 2)
	bob.on = callee(486, time.Second)
	alice.callTo("sip:bob@192.0.2.2", p1)
	carol.callTo("sip:bob@192.0.2.2", p1)
	n.quiesce()
	if ev, ok := carol.last(effects.CallFailed); !ok || ev.Code != 503 {
		t.Errorf("carol: %v", carol.kinds())
	}
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 486 {
		t.Errorf("alice: %v", alice.kinds())
	}
}

// A settled context (final response sent, no branch going) lingers with
// its transactions but no longer counts against MaxContexts: the next call
// goes through.
func TestSettledContextsNotCounted(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	carol := n.addUA("carol", "192.0.2.3:5060", 3)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{MaxContexts: 1})
	bob := n.addUA("bob", "192.0.2.2:5060", 2)
	bob.on = callee(486, 0)
	alice.callTo("sip:bob@192.0.2.2", p1)
	n.run(2 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 486 {
		t.Fatalf("alice: %v", alice.kinds())
	}
	if p1.proxy.Contexts() != 1 {
		t.Fatalf("%d contexts after the first call, want its lingering one", p1.proxy.Contexts())
	}
	carol.callTo("sip:bob@192.0.2.2", p1)
	n.quiesce()
	if ev, ok := carol.last(effects.CallFailed); !ok || ev.Code != 486 {
		t.Errorf("carol: %v, want a 486 from bob, not a 503 from the proxy", carol.kinds())
	}
}

// RFC 3261 §16.10: a CANCEL that matches no response context is forwarded
// statelessly (the INVITE may have gone through another instance); the
// proxy keeps nothing of it, and the answer goes back by the Via.
func TestCancelWithoutContext(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p := n.addProxy("p", "192.0.2.10:5060", proxycore.Config{})
	n.addUA("bob", "192.0.2.2:5060", 2)
	n.inject(p, alice.addr, "CANCEL sip:bob@192.0.2.2 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlost1\r\n"+
		"Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"+
		"Call-ID: lost-invite\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n")
	n.quiesce()
	want := []string{"p->bob CANCEL", "bob->p 481", "p->alice 481"}
	if diff := cmp.Diff(want, n.log()); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
	fwd := n.wire[1].msg
	if vias := fwd.Values("Via"); len(vias) != 2 {
		t.Errorf("the forwarded CANCEL has Vias %q", vias)
	}
}

// An application that never answers ProxyRequest (or ProxyCredentials)
// does not hold the request for ever: after AnswerTimeout the caller gets
// 504 (RFC 3261 §21.5.5) and nothing is left; a late Decide is an error.
func TestAnswerTimeout(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p1 := n.addProxy("p1", "192.0.2.10:5060", proxycore.Config{Ask: true, AnswerTimeout: 5 * time.Second})
	var asked effects.Event
	p1.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.ProxyRequest {
			asked = ev // and never answered
		}
	}
	alice.callTo("sip:bob@example.com", p1)
	n.quiesce()
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 504 {
		t.Fatalf("caller's outcome %+v %v, want 504", ev, ok)
	}
	if _, err := p1.proxy.Decide(n.now, asked.ID, proxycore.RequestURI(), nil); err == nil {
		t.Error("a Decide after the timeout was accepted")
	}
}

// TestDoubleRecordRouteRemoved: a proxy that record-routed twice, its
// transports differing on either side (RFC 5658's double Record-Route:
// one value naming UDP, one TCP), finds both of its values on top of the
// requests in the dialog. It removes both (RFC 3261 §16.4 for each) and
// sends the request to the Request-URI, over the transport it names; it
// used to send the request to itself with the second value, and answer it
// 482 (a loop). Stateful and stateless.
func TestDoubleRecordRouteRemoved(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		n := newNetwork(t)
		var p *node
		if stateless {
			p = n.addStateless("p", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
		} else {
			p = n.addProxy("p", "192.0.2.10:5060", proxycore.Config{RecordRoute: true})
		}
		raw := strings.Replace(request("BYE", "sip:bob@192.0.2.2:5060;transport=tcp",
			"Route: <sip:192.0.2.10:5060;lr>, <sip:192.0.2.10:5060;transport=tcp;lr>"),
			"To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1", 1)
		n.inject(p, alicePeer, raw)
		n.run(time.Second)
		var fwd []wireEntry
		for _, w := range n.wire {
			if w.from == "p" && w.msg.IsRequest() {
				fwd = append(fwd, w)
			}
		}
		if len(fwd) != 1 || fwd[0].to != "192.0.2.2:5060" || fwd[0].msg.Has("Route") {
			t.Fatalf("stateless %v: forwarded %v", stateless, n.log())
		}
	}
}
