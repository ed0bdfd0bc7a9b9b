package proxycore_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/flow"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
)

// flowNode is a proxy and registrar of example.com at 192.0.2.10:5060 that
// is the edge of its clients' flows (Config.Flows, registrar FlowPath),
// over a location store it may share with another node.
func flowNode(t *testing.T, store *location.Store, host string, key string) *proxycore.Proxy {
	t.Helper()
	tokens, err := flow.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	var p *proxycore.Proxy
	mem, err := registrar.NewMemory(registrar.Config{
		Domains: []string{"example.com"}, Gen: ident.Seeded(5),
		FlowPath: func(f effects.Peer) (header.Path, bool) {
			if !f.Transport.Reliable() {
				return header.Path{}, false
			}
			return p.FlowPath(f)
		},
	}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err = proxycore.New(proxycore.Config{
		Gen: ident.Seeded(6), Host: host, Port: 5060, Domains: []string{"example.com"}, RecordRoute: true,
		Registrar: mem, Location: mem.Lookup, Flows: tokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// feed gives p one received message and returns the messages it sends,
// with where.
func feed(t *testing.T, p *proxycore.Proxy, from effects.Peer, raw string) []effects.Effect {
	t.Helper()
	out := p.Handle(effects.Input{Kind: effects.Received, Data: []byte(raw), From: from}, nil)
	var sent []effects.Effect
	for _, e := range out {
		if e.Kind == effects.Send {
			if e.Msg != nil {
				e.Data = e.Msg.Bytes()
			}
			sent = append(sent, e)
		}
	}
	return sent
}

func flowRequest(method, ruri, branch string, extra ...string) string {
	return method + " " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" + strings.Join(extra, "") +
		"To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=1\r\n" +
		"Call-ID: " + branch + "@x\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
}

// TestFlowTokens: RFC 5626 §5.2 and §5.3 with RFC 3327 across two nodes
// sharing one location store. Bob registers over TCP on node A, whose Path
// (its own URI with a flow token) is stored first in his binding; A
// reaches him on his connection (not by dialling his contact, which
// nothing listens on); node B routes a request for him to A with that
// Path as its Route, and A sends it on Bob's connection without routing
// to itself; a request that comes in on Bob's flow, a forged token and a
// token of another node are routed as usual.
func TestFlowTokens(t *testing.T) {
	store := &location.Store{}
	a := flowNode(t, store, "192.0.2.10", "key of node A, 16+")
	b := flowNode(t, store, "192.0.2.11", "key of node B, 16+")
	bobFlow := effects.Peer{Addr: netip.MustParseAddrPort("198.51.100.7:40312"), Transport: effects.TCP, Conn: 77}
	reg := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKreg1\r\nMax-Forwards: 70\r\n" +
		"To: <sip:bob@example.com>\r\nFrom: <sip:bob@example.com>;tag=r\r\nCall-ID: reg@x\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:bob@10.0.0.2:1;transport=tcp>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
	sent := feed(t, a, bobFlow, reg)
	if len(sent) != 1 || sent[0].To != bobFlow || !strings.HasPrefix(string(sent[0].Data), "SIP/2.0 200") {
		t.Fatalf("REGISTER: %v", sent)
	}
	if strings.Contains(string(sent[0].Data), "Path:") {
		t.Errorf("the 200 echoes a Path Bob did not send:\n%s", sent[0].Data)
	}
	bs := store.Lookup(0, mustURI("sip:bob@example.com"))
	if len(bs) != 1 || len(bs[0].Path) != 1 {
		t.Fatalf("binding %+v", bs)
	}
	path := bs[0].Path[0].URI
	if path.Host != "192.0.2.10" || len(path.User) != flow.TokenLen || !path.Params.Has("lr") || !path.Params.Has("ob") {
		t.Errorf("Path %s", path.String())
	}
	alice := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.50:5060"), Transport: effects.UDP}

	// On A: the binding's own Path is its flow.
	sent = feed(t, a, alice, flowRequest("MESSAGE", "sip:bob@example.com", "m1"))
	if len(sent) != 1 || sent[0].To != bobFlow {
		t.Fatalf("A: %v", sent)
	}
	if m := sent[0].Data; strings.Contains(string(m), "\r\nRoute:") || !strings.HasPrefix(string(m), "MESSAGE sip:bob@10.0.0.2:1;transport=tcp ") {
		t.Errorf("A sent:\n%s", m)
	}

	// On B: through A, the Path as the Route (RFC 3327 §5.3).
	sent = feed(t, b, alice, flowRequest("MESSAGE", "sip:bob@example.com", "m2"))
	if len(sent) != 1 || sent[0].To.Addr != netip.MustParseAddrPort("192.0.2.10:5060") {
		t.Fatalf("B: %v", sent)
	}
	viaB := string(sent[0].Data)
	route, ok, err := message.First[header.Route](mustParse(t, viaB))
	if !ok || err != nil || route.URI.User != path.User {
		t.Fatalf("B's request has Route %v %v:\n%s", route, err, viaB)
	}
	// A gets it from B and sends it on Bob's flow, its own Route gone.
	fromB := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.11:5060"), Transport: effects.UDP}
	sent = feed(t, a, fromB, viaB)
	if len(sent) != 1 || sent[0].To != bobFlow {
		t.Fatalf("A from B: %v", sent)
	}
	toBob := mustParse(t, string(sent[0].Data))
	if routes, _ := message.All[header.Route](toBob); len(routes) != 0 {
		t.Errorf("A forwarded its own Route:\n%s", sent[0].Data)
	}
	// A's Record-Route names Bob's flow: the requests of the dialog that
	// come back through A from elsewhere go out on it (RFC 5626 §5.3).
	rr, ok, err := message.First[header.RecordRoute](toBob)
	if !ok || err != nil || rr.URI.Host != "192.0.2.10" {
		t.Fatalf("Record-Route %v %v", rr, err)
	}
	if f, ok := a.Config().Flows.Peer(rr.URI.User); !ok || f != bobFlow {
		t.Errorf("Record-Route %s names %v %v, want Bob's flow", rr.URI.String(), f, ok)
	}
	// The ACK of the 2xx, forwarded without a transaction, goes on it too
	// (a Contact such as a WebSocket client's .invalid one, RFC 7118,
	// could not be reached otherwise).
	ack := flowRequest("ACK", "sip:bob@df7jal23ls0d.invalid;transport=ws", "ack1", "Route: <"+rr.URI.String()+">\r\n")
	if sent = feed(t, a, fromB, ack); len(sent) != 1 || sent[0].To != bobFlow {
		t.Fatalf("ACK from B: %v", sent)
	}
	bye := flowRequest("BYE", "sip:bob@10.0.0.2:1;transport=tcp", "bye1", "Route: <"+rr.URI.String()+">\r\n")
	if sent = feed(t, a, fromB, bye); len(sent) != 1 || sent[0].To != bobFlow {
		t.Fatalf("BYE from B: %v", sent)
	}
	// Bob's connection is gone: the BYE cannot go out on it, and B gets
	// 430 Flow Failed (RFC 5626 §5.3), not a 503 or a timeout.
	var answered []string
	for _, e := range a.Handle(effects.Input{Kind: effects.SendFailed, Tag: sent[0].Tag, Err: errors.New("connection closed")}, nil) {
		if e.Kind == effects.Send && e.Msg != nil {
			answered = append(answered, e.To.String()+" "+e.Msg.StartLine())
		}
	}
	if len(answered) != 1 || answered[0] != fromB.String()+" SIP/2.0 430 Flow Failed" {
		t.Errorf("after the flow failed, A sent %q", answered)
	}

	// Routed as usual (to the Request-URI, resolved): a request that
	// came in on the flow itself, a forged token, another node's token.
	tokenB := b.Config().Flows.Token(bobFlow)
	forged := []byte(path.User)
	forged[3] ^= 2
	for name, tc := range map[string]struct {
		from  effects.Peer
		token string
	}{
		"on the flow itself": {bobFlow, path.User},
		"forged token":       {fromB, string(forged)},
		"another node's":     {fromB, tokenB},
	} {
		raw := flowRequest("MESSAGE", "sip:carol@203.0.113.9:5060", "x"+fmt.Sprint(len(name)),
			"Route: <sip:"+tc.token+"@192.0.2.10:5060;lr;ob>\r\n")
		sent = feed(t, a, tc.from, raw)
		if len(sent) != 1 || sent[0].To.Addr != netip.MustParseAddrPort("203.0.113.9:5060") {
			t.Errorf("%s: %v", name, sent)
		}
	}
}

func mustParse(t *testing.T, raw string) *message.Message {
	t.Helper()
	m, err := message.Parse([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStatelessChallenge: the registrar's 401 leaves no transaction behind
// (RFC 3261 §8.2.7: answered statelessly); the retransmitted REGISTER is
// challenged afresh, with a new nonce.
func TestStatelessChallenge(t *testing.T) {
	mem, err := registrar.NewMemory(registrar.Config{
		Domains: []string{"example.com"}, Gen: ident.Seeded(5),
		Auth: &digest.Server{Realm: "example.com", Secret: []byte("0123456789abcdef-registrar")},
	}, &location.Store{}, map[string]string{"bob": "zanzibar"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(6), Host: "192.0.2.10", Domains: []string{"example.com"},
		Registrar: mem, Location: mem.Lookup})
	if err != nil {
		t.Fatal(err)
	}
	bob := effects.Peer{Addr: netip.MustParseAddrPort("198.51.100.7:5060"), Transport: effects.UDP}
	reg := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKreg1\r\nMax-Forwards: 70\r\n" +
		"To: <sip:bob@example.com>\r\nFrom: <sip:bob@example.com>;tag=r\r\nCall-ID: reg@x\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:bob@198.51.100.7>\r\nContent-Length: 0\r\n\r\n"
	var nonces []string
	for range 2 {
		sent := feed(t, p, bob, reg)
		if len(sent) != 1 || !strings.HasPrefix(string(sent[0].Data), "SIP/2.0 401") {
			t.Fatalf("sent %v", sent)
		}
		ch, ok, err := message.First[header.WWWAuthenticate](mustParse(t, string(sent[0].Data)))
		if !ok || err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, ch.Nonce())
		if n := p.Transactions().Len(); n != 0 {
			t.Errorf("%d transactions left after the 401", n)
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("the retransmission got the same nonce %q", nonces[0])
	}
}
