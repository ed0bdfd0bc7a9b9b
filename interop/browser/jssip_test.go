package browser

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// registered is what the harness's start resolves with.
type registered struct {
	Status  int      `json:"status"`
	Contact []string `json:"contact"`
}

// ended is the detail of a session's ended or failed event.
type ended struct {
	Originator string `json:"originator"`
	Cause      string `json:"cause"`
	Status     int    `json:"status"`
}

// invite is what the harness keeps of an INVITE it received.
type invite struct {
	RURI        string   `json:"ruri"`
	RecordRoute []string `json:"recordRoute"`
	Via         []string `json:"via"`
	Contact     []string `json:"contact"`
	From        string   `json:"from"`
}

// register starts the harness's UA in tb for user over the server's WSS
// and waits for its registration.
func register(tb *tab, s srv, user string, answer bool) registered {
	tb.t.Helper()
	a := "false"
	if answer {
		a = "true"
	}
	r := eval[registered](tb, 15*time.Second, `start({ws: `+js(s.wsURL())+`, user: `+js(user)+
		`, password: `+js(user)+`, domain: `+js(domain)+`, answer: `+a+`, ms: 10000})`)
	if r.Status != 200 {
		tb.t.Fatalf("%s: registered with %d", tb.name, r.Status)
	}
	tb.t.Logf("%s registered over WSS, Contact %v", tb.name, r.Contact)
	return r
}

// confirmed waits until the call in tb is confirmed: for the caller, it
// sent the ACK; for the callee, the ACK reached it.
func confirmed(tb *tab, limit time.Duration) {
	tb.t.Helper()
	ms := strconv.Itoa(int((limit - 2*time.Second) / time.Millisecond))
	_, err := tryEval[any](tb, limit, `waitFor('confirmed', `+ms+`, ['failed', 'ended'])`)
	if err != nil {
		tb.t.Fatalf("%s: the call was not confirmed (did the ACK reach the callee? sansip forwards the "+
			"ACK of a 2xx statelessly by its Request-URI, which for a WebSocket callee is an .invalid "+
			"Contact reachable only on its flow): %v", tb.name, err)
	}
}

// TestJsSIPCall: two JsSIP user agents in headless Chromium, each in a
// browser context of its own, register alice and bob over WSS; alice calls
// bob with audio from the fake device, bob answers, both see the call
// confirmed, the descriptions (with ICE candidates and DTLS fingerprints)
// reach each side exactly as the other sent them, the media path connects
// over the candidates, and alice hangs up: both see the call end.
func TestJsSIPCall(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	url := servePage(t)
	b := startBrowser(t)
	alice, bob := b.open("alice", url), b.open("bob", url)
	register(bob, s, "bob", true)
	register(alice, s, "alice", false)

	started := time.Now()
	offer := eval[string](alice, 15*time.Second, `call(`+js("sip:bob@"+domain)+`, 10000)`)
	confirmed(alice, 20*time.Second)
	confirmed(bob, 10*time.Second)
	t.Logf("call confirmed on both sides after %v", time.Since(started).Round(time.Millisecond))

	received := eval[string](bob, 5*time.Second, `H.offerReceived`)
	answerSent := eval[string](bob, 5*time.Second, `H.answerSent`)
	answerReceived := eval[string](alice, 5*time.Second, `H.answerReceived`)
	inv := eval[invite](bob, 5*time.Second, `H.invite`)
	t.Logf("bob's INVITE: Request-URI %s, Record-Route %v, Via %v, Contact %v", inv.RURI, inv.RecordRoute, inv.Via, inv.Contact)
	checkWebRTC(t, "alice's offer", offer)
	checkWebRTC(t, "bob's answer", answerSent)
	same(t, "the offer", offer, received)
	same(t, "the answer", answerSent, answerReceived)

	// The descriptions are usable: ICE connects over the candidates.
	for _, tb := range []*tab{alice, bob} {
		state := eval[string](tb, 15*time.Second, `waitFor('ice-connected', 10000, ['ice-failed']).then(() => H.pc.iceConnectionState)`)
		t.Logf("%s: ICE %s", tb.name, state)
	}

	eval[any](alice, 5*time.Second, `hangup()`)
	ea := eval[ended](alice, 10*time.Second, `waitFor('ended', 8000, ['failed'])`)
	eb := eval[ended](bob, 10*time.Second, `waitFor('ended', 8000, ['failed'])`)
	if ea.Originator != "local" || eb.Originator != "remote" || eb.Cause != "Terminated" {
		t.Errorf("ended: alice %+v, bob %+v; want alice local, bob remote (Terminated: alice's BYE)", ea, eb)
	}
	t.Logf("call of %v ended by alice's BYE: alice %+v, bob %+v", time.Since(started).Round(time.Millisecond), ea, eb)
	for _, tb := range []*tab{alice, bob} {
		eval[any](tb, 10*time.Second, `stop(5000)`)
	}
}

// checkWebRTC checks that a description is a WebRTC one: ICE credentials
// and candidates, a DTLS fingerprint, an audio m= line.
func checkWebRTC(t *testing.T, what, sdp string) {
	t.Helper()
	for _, want := range []string{"\r\nm=audio ", "\r\na=ice-ufrag:", "\r\na=ice-pwd:", "\r\na=fingerprint:", "\r\na=candidate:", "\r\na=setup:"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("%s has no %q:\n%s", what, strings.TrimSpace(want), sdp)
		}
	}
}

// same checks that a description arrived exactly as it was sent; on a
// difference it names the lines that matter (m=, fingerprint, ICE).
func same(t *testing.T, what, sent, got string) {
	t.Helper()
	if sent == got {
		return
	}
	key := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\r\n") {
			if strings.HasPrefix(l, "m=") || strings.HasPrefix(l, "a=fingerprint:") ||
				strings.HasPrefix(l, "a=ice-") || strings.HasPrefix(l, "a=candidate:") || strings.HasPrefix(l, "c=") {
				out = append(out, l)
			}
		}
		return out
	}
	t.Errorf("%s changed on its way (%d bytes sent, %d received)\nsent lines: %q\nreceived lines: %q\nsent:\n%s\nreceived:\n%s",
		what, len(sent), len(got), key(sent), key(got), sent, got)
}
