package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// sippScenario is the absolute path of a SIPp scenario in testdata/sipp.
func sippScenario(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "sipp", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startSIPp starts SIPp for one call (-m 1) over UDP ("u1") or TCP
// ("t1") on a free port of 127.0.0.1, tracing the messages it sends and
// receives; it returns the process, its port and the trace's file. SIPp
// gives up after 30 s.
func startSIPp(t *testing.T, sipp, dir, mode string, args ...string) (*proc, int, string) {
	t.Helper()
	port := freePort(t)
	trace := filepath.Join(dir, "messages.log")
	p := start(t, dir, sipp, append(args, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", mode,
		"-m", "1", "-nostdin", "-trace_msg", "-message_file", trace, "-trace_err",
		"-timeout", "30s", "-timeout_error")...)
	t.Cleanup(func() {
		if t.Failed() {
			msgs, _ := os.ReadFile(trace)
			t.Logf("SIPp said:\n%s\nSIPp's messages:\n%s", p.output(), msgs)
		}
	})
	return p, port, trace
}

// sippDone waits for SIPp to finish its call: exit status 0 (the call
// went through its whole scenario) within limit.
func sippDone(t *testing.T, p *proc, trace string, limit time.Duration) {
	t.Helper()
	if rc := p.wait(t, limit); rc != 0 {
		errs, _ := filepath.Glob(filepath.Join(filepath.Dir(trace), "*_errors.log"))
		detail := ""
		for _, e := range errs {
			b, _ := os.ReadFile(e)
			detail += "\n" + e + ":\n" + string(b)
		}
		msgs, _ := os.ReadFile(trace)
		t.Fatalf("SIPp exit %d:\n%s%s\nmessages:\n%s", rc, p.output(), detail, msgs)
	}
}

// traced is a message of a SIPp trace, parsed.
type traced struct {
	sent bool
	msg  *message.Message
}

// sippTrace parses the messages of a SIPp -trace_msg file.
func sippTrace(t *testing.T, file string) []traced {
	t.Helper()
	var out []traced
	for _, m := range sippMessages(t, file) {
		pm, err := message.ParseString(m.text, nil)
		if err != nil {
			t.Fatalf("SIPp trace: %v:\n%s", err, m.text)
		}
		out = append(out, traced{sent: m.sent, msg: pm})
	}
	return out
}

// find returns the first message of the trace sent (or received) whose
// start line begins with prefix ("INVITE ", "SIP/2.0 200").
func find(t *testing.T, msgs []traced, sent bool, what string, match func(*message.Message) bool) *message.Message {
	t.Helper()
	for _, m := range msgs {
		if m.sent == sent && match(m.msg) {
			return m.msg
		}
	}
	dir := "received"
	if sent {
		dir = "sent"
	}
	t.Fatalf("SIPp %s no %s", dir, what)
	return nil
}

func isRequest(method string) func(*message.Message) bool {
	return func(m *message.Message) bool { return m.IsRequest() && m.Method() == method }
}

func isResponse(code int, method string) func(*message.Message) bool {
	return func(m *message.Message) bool {
		return !m.IsRequest() && m.StatusCode() == code && m.CSeq().Method == method
	}
}

// checkDoubleRecordRoute checks that m carries exactly two Record-Route
// values, both of the server (its host and port, loose routing): one
// naming WSS, one other ("udp" or "tcp": RFC 5658's double Record-Route,
// the transport changing on the way).
func checkDoubleRecordRoute(t *testing.T, s srv, what, other string, m *message.Message) {
	t.Helper()
	rrs, err := message.All[header.RecordRoute](m)
	if err != nil {
		t.Fatalf("%s: Record-Route: %v", what, err)
	}
	var transports []string
	for _, rr := range rrs {
		u := rr.URI
		if u.Host != "127.0.0.1" || int(u.Port) != s.port || !u.Params.Has("lr") {
			t.Errorf("%s: Record-Route %s is not the server's (127.0.0.1:%d, lr)", what, u.String(), s.port)
		}
		tr, ok := u.Params.Get("transport")
		if !ok {
			tr = "udp"
		}
		transports = append(transports, strings.ToLower(tr))
	}
	got := strings.Join(transports, ",")
	if len(rrs) != 2 || (got != other+",wss" && got != "wss,"+other) {
		t.Errorf("%s: want two Record-Route values of the server, one for %s and one for WSS; got %d (%s): %v",
			what, other, len(rrs), got, m.Values("Record-Route"))
	}
}

// TestJsSIPCallsSIPp: JsSIP in Chromium (alice, over WSS) calls a SIPp UAS
// through sansip. SIPp answers the WebRTC offer with a WebRTC answer (no
// candidates: it sends no media); the call is confirmed, SIPp receives the
// ACK, alice hangs up and SIPp receives her BYE. The INVITE SIPp received
// carries the server's two Record-Route values (WSS and TCP), and the
// offer and the answer arrive as they were sent.
//
// SIPp listens on TCP, not UDP: the INVITE with JsSIP's offer is about
// 3 KB, and sansip sends a request over 1300 bytes to a UDP destination
// over TCP instead (RFC 3261 §18.1.1's MUST; txn.Config.MaxUDPRequest,
// which service.Config does not expose). It does not fall back to UDP
// when the connection is refused (§18.1.1's SHOULD), so a UDP-only UAS
// never gets the INVITE (the caller waits for Timer B's 408, the refused
// dial not ending the client transaction).
func TestJsSIPCallsSIPp(t *testing.T) {
	needBrowser(t)
	sipp := need(t, "sipp")
	s := startServer(t)
	url := servePage(t)
	b := startBrowser(t)
	alice := b.open("alice", url)
	register(alice, s, "alice", false)

	dir := t.TempDir()
	uas, port, trace := startSIPp(t, sipp, dir, "t1", "-sf", sippScenario(t, "uas_webrtc.xml"))
	waitTCP(t, port, uas)

	started := time.Now()
	target := fmt.Sprintf("sip:sipp@127.0.0.1:%d;transport=tcp", port)
	offer := eval[string](alice, 15*time.Second, `call(`+js(target)+`, 10000)`)
	confirmed(alice, 20*time.Second)
	t.Logf("call to SIPp confirmed after %v", time.Since(started).Round(time.Millisecond))
	answer := eval[string](alice, 5*time.Second, `H.answerReceived`)
	eval[any](alice, 5*time.Second, `hangup()`)
	e := eval[ended](alice, 10*time.Second, `waitFor('ended', 8000, ['failed'])`)
	if e.Originator != "local" {
		t.Errorf("alice's call ended %+v; want by alice (local)", e)
	}
	sippDone(t, uas, trace, 15*time.Second)
	t.Logf("SIPp received the ACK and alice's BYE; call of %v", time.Since(started).Round(time.Millisecond))

	msgs := sippTrace(t, trace)
	inv := find(t, msgs, false, "INVITE", isRequest("INVITE"))
	checkDoubleRecordRoute(t, s, "the INVITE SIPp received", "tcp", inv)
	checkWebRTC(t, "alice's offer", offer)
	same(t, "the offer", offer, inv.Body())
	ok := find(t, msgs, true, "200 to the INVITE", isResponse(200, "INVITE"))
	same(t, "SIPp's answer", ok.Body(), answer)
	for _, method := range []string{"ACK", "BYE"} {
		m := find(t, msgs, false, method, isRequest(method))
		if v, _ := m.Get("Via"); !strings.Contains(v, "127.0.0.1:"+strconv.Itoa(s.port)) {
			t.Errorf("SIPp's %s did not come through the server: Via %s", method, v)
		}
		if m.Has("Route") {
			t.Errorf("SIPp's %s still has a Route: %v", method, m.Values("Route"))
		}
	}
}

// TestSIPpCallsJsSIP: a SIPp UAC calls bob, registered over WSS from
// JsSIP in Chromium, through sansip over UDP: the server reaches bob on
// his WebSocket (his Contact's host is .invalid), bob answers the WebRTC
// offer, the ACK reaches him (the call is confirmed on his side), SIPp
// hangs up and bob sees the call end. The 200 SIPp received carries the
// server's two Record-Route values, and the offer and the answer arrive
// as they were sent.
func TestSIPpCallsJsSIP(t *testing.T) {
	needBrowser(t)
	sipp := need(t, "sipp")
	s := startServer(t)
	url := servePage(t)
	b := startBrowser(t)
	bob := b.open("bob", url)
	register(bob, s, "bob", true)

	dir := t.TempDir()
	started := time.Now()
	uac, _, trace := startSIPp(t, sipp, dir, "u1", "-sf", sippScenario(t, "uac_webrtc.xml"),
		"-s", "bob", "-key", "domain", domain, s.hostport())
	confirmed(bob, 20*time.Second)
	t.Logf("call from SIPp confirmed on bob's side after %v", time.Since(started).Round(time.Millisecond))
	e := eval[ended](bob, 15*time.Second, `waitFor('ended', 10000, ['failed'])`)
	if e.Originator != "remote" || e.Cause != "Terminated" {
		t.Errorf("bob's call ended %+v; want by SIPp's BYE (remote, Terminated)", e)
	}
	sippDone(t, uac, trace, 15*time.Second)
	t.Logf("SIPp's call of %v ended by its BYE", time.Since(started).Round(time.Millisecond))

	received := eval[string](bob, 5*time.Second, `H.offerReceived`)
	answer := eval[string](bob, 5*time.Second, `H.answerSent`)
	inv := eval[invite](bob, 5*time.Second, `H.invite`)
	if !strings.Contains(inv.RURI, ".invalid") {
		t.Errorf("bob's INVITE has Request-URI %s; want his registered Contact (.invalid host)", inv.RURI)
	}
	msgs := sippTrace(t, trace)
	sentInv := find(t, msgs, true, "INVITE", isRequest("INVITE"))
	same(t, "SIPp's offer", sentInv.Body(), received)
	ok := find(t, msgs, false, "200 to the INVITE", isResponse(200, "INVITE"))
	checkDoubleRecordRoute(t, s, "the 200 SIPp received", "udp", ok)
	checkWebRTC(t, "bob's answer", answer)
	same(t, "bob's answer", answer, ok.Body())
}
