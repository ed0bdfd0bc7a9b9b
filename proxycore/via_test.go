package proxycore_test

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

// responseVia is a response to alice's INVITE of request() through the
// proxy at 192.0.2.10, with the proxy's Via on top (branch) and next.
func responseVia(code int, branch, next string) string {
	vias := "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=" + branch + "\r\n"
	if next != "" {
		vias += "Via: " + next + "\r\n"
	}
	return "SIP/2.0 " + itoa(code) + " " + message.ReasonPhrase(code) + "\r\n" + vias +
		"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\nCall-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:bob@192.0.2.2>\r\nContent-Length: 0\r\n\r\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

// sentMessages returns the messages among effs, rendered.
func sentMessages(effs []effects.Effect) []string {
	var out []string
	for _, e := range effs {
		if e.Kind == effects.Send && e.Msg != nil {
			out = append(out, string(e.Msg.Bytes()))
		}
	}
	return out
}

const goodVia = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1"

// brokenVias are Vias below the proxy's that a downstream element broke:
// trailing junk, an empty parameter, a bad port.
var brokenVias = []string{
	"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1 junk",
	"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1;",
	"SIP/2.0/UDP 192.0.2.1:99999;branch=z9hG4bKabc1",
}

// RFC 3261 §16.11 and §16.7 step 3: a proxy relays a response to the Via
// below its own, which the next element sends it by (§18.2.2) and the
// client matches it with (§17.1.3). A response with no Via left, or whose
// next Via does not parse, is not relayed: the stateless proxy drops it.
// (Found by fuzz.FuzzProxyBytes: both proxies relayed such responses, which
// nobody upstream could parse.)
func TestStatelessDropsResponseWithBrokenVia(t *testing.T) {
	s, err := proxycore.NewStateless(proxycore.Config{Host: "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
	feed := func(raw string) []string {
		return sentMessages(s.Handle(effects.Input{Kind: effects.Received, Data: []byte(raw), From: bob}, nil))
	}
	if got := feed(responseVia(180, "z9hG4bKx", goodVia)); len(got) != 1 {
		t.Fatalf("a good response was not relayed: %q", got)
	}
	for _, next := range append(brokenVias, "") {
		if got := feed(responseVia(180, "z9hG4bKx", next)); len(got) != 0 {
			t.Errorf("next Via %q: relayed %q", next, got)
		}
	}
}

// The stateful proxy treats a provisional or 2xx response it cannot relay
// as lost: nothing goes upstream, the branch goes on, and a good response
// after it is relayed (RFC 3261 §16.7 step 3, §18.2.2). (A final non-2xx
// ends the branch all the same: TestCancelled487WithOnlyOurVia.)
func TestStatefulIgnoresResponseWithBrokenVia(t *testing.T) {
	p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	bob := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
	var branch string
	for _, e := range p.Handle(effects.Input{Kind: effects.Received, Data: []byte(request("INVITE", "sip:bob@192.0.2.2")), From: alicePeer}, nil) {
		if e.Kind == effects.Send && e.Msg != nil && e.Msg.IsRequest() {
			branch = e.Msg.Branch()
		}
	}
	if branch == "" {
		t.Fatal("the INVITE was not forwarded")
	}
	feed := func(raw string) []string {
		return sentMessages(p.Handle(effects.Input{Kind: effects.Received, Data: []byte(raw), From: bob}, nil))
	}
	for _, code := range []int{180, 200} {
		for _, next := range append(brokenVias, "") {
			if got := feed(responseVia(code, branch, next)); len(got) != 0 {
				t.Errorf("%d with next Via %q: sent %q", code, next, got)
			}
		}
		got := feed(responseVia(code, branch, goodVia))
		if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 "+itoa(code)) {
			t.Fatalf("a good %d was not relayed: %q", code, got)
		}
		if _, err := message.Parse([]byte(got[0]), nil); err != nil {
			t.Errorf("relayed %d does not parse: %v", code, err)
		}
	}
}

// RFC 3261 §16.7 step 3, §9.1 and §16.10: some UASes answer a cancelled
// INVITE with a 487 that copies the Via of the proxy's CANCEL (SIPp
// scenarios that answer with [last_Via:] once the CANCEL came): one Via,
// the proxy's own, with the INVITE branch's branch and CSeq "n INVITE".
// The proxy's client INVITE transaction matches it (§17.1.3: branch and
// CSeq method); with no Via left below ours it is not relayed (§16.7 step
// 3), but it is the branch's final response: the branch ends and the
// caller's INVITE gets a 487 built from the original request at once, not
// a 408 when the branch times out.
func TestCancelled487WithOnlyOurVia(t *testing.T) {
	n := newNetwork(t)
	alice := n.addUA("alice", "192.0.2.1:5060", 1)
	p := n.addProxy("p", "192.0.2.10:5060", proxycore.Config{})
	bob := n.place("bob", "192.0.2.2:5060")
	var lastVia []string // the Via lines of the last request received
	bob.custom = func(in effects.Input) []effects.Effect {
		if in.Kind != effects.Received {
			return nil
		}
		m, err := message.Parse(in.Data, nil)
		if err != nil || !m.IsRequest() {
			return nil
		}
		lastVia = m.Values("Via")
		answer := func(code int, method, toTag string) {
			raw := "SIP/2.0 " + itoa(code) + " " + message.ReasonPhrase(code) + "\r\n"
			for _, v := range lastVia {
				raw += "Via: " + v + "\r\n"
			}
			raw += "From: " + m.Values("From")[0] + "\r\nTo: " + m.Values("To")[0] + toTag + "\r\nCall-ID: " + m.CallID() + "\r\n" +
				"CSeq: " + strconv.FormatUint(uint64(m.CSeq().Seq), 10) + " " + method + "\r\nContact: <sip:bob@192.0.2.2>\r\nContent-Length: 0\r\n\r\n"
			n.inject(p, bob.addr, raw)
		}
		switch m.Method() {
		case "INVITE":
			answer(180, "INVITE", ";tag=b1")
		case "CANCEL":
			answer(200, "CANCEL", ";tag=b1")
			answer(487, "INVITE", ";tag=b1") // [last_Via:]: the CANCEL's only Via
		}
		return nil
	}
	alice.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.CallRinging {
			nd.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				return nd.ua.Hangup(now, nd.call, out)
			})
		}
	}
	alice.callTo("sip:bob@192.0.2.2", p)
	n.run(5 * time.Second)
	if ev, ok := alice.last(effects.CallFailed); !ok || ev.Code != 487 {
		t.Errorf("the caller's call ended with %+v (%v), want 487 within 5 s:\n%s", ev, ok, strings.Join(n.log(), "\n"))
	}
	var final *message.Message
	for _, w := range n.wire {
		if w.from == "p" && w.to == "alice" && w.msg.IsResponse() && w.msg.CSeq().Method == "INVITE" && w.msg.StatusCode() >= 200 {
			if final != nil {
				t.Errorf("a second final response upstream: %d", w.msg.StatusCode())
			}
			final = w.msg
		}
	}
	if final == nil {
		t.Fatalf("no final response upstream:\n%s", strings.Join(n.log(), "\n"))
	}
	if final.StatusCode() != 487 {
		t.Errorf("upstream final %d, want 487", final.StatusCode())
	}
	// Built from the original request (§16.7 step 3, §8.2.6): the
	// caller's Via alone, its branch.
	if vias := final.Values("Via"); len(vias) != 1 || !strings.Contains(vias[0], "192.0.2.1") {
		t.Errorf("487 upstream has Vias %q, want the caller's only", vias)
	}
	n.quiesce()
}
