package ua

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// soloUA is one UA driven by hand: the test plays every peer.
type soloUA struct {
	t      *testing.T
	u      *UA
	now    effects.Time
	sent   []*message.Message
	events []effects.Event
	timers map[effects.TimerID]effects.Time
	// trace is every effect, rendered: what the same seed must repeat.
	trace []string
}

var proxyPeer = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.100:5060"), Transport: effects.UDP}

func newSolo(t *testing.T, cfg Config) *soloUA {
	t.Helper()
	cfg.AOR = mustURI("sip:alice@atlanta.example.com")
	cfg.Contact = mustURI("sip:alice@192.0.2.1:5060")
	cfg.Host, cfg.Port = "192.0.2.1", 5060
	cfg.Gen = ident.Seeded(3)
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &soloUA{t: t, u: u, timers: map[effects.TimerID]effects.Time{}}
}

func (s *soloUA) take(effs []effects.Effect) {
	for _, e := range effs {
		s.trace = append(s.trace, renderEffect(s.now, e))
		switch e.Kind {
		case effects.Send:
			m, err := message.Parse(e.Msg.Bytes(), nil)
			if err != nil {
				s.t.Fatalf("sent an unparseable message: %v\n%s", err, e.Msg.Bytes())
			}
			s.sent = append(s.sent, m)
		case effects.SetTimer:
			s.timers[e.Timer] = s.now.Add(e.After)
		case effects.CancelTimer:
			delete(s.timers, e.Timer)
		case effects.Deliver:
			s.events = append(s.events, e.Event)
		}
	}
}

// renderEffect renders an effect with its message's bytes.
func renderEffect(now effects.Time, e effects.Effect) string {
	text := fmt.Sprintf("%v %v timer=%x after=%v to=%v tag=%x", now, e.Kind, e.Timer, e.After, e.To, e.Tag)
	if e.Msg != nil {
		text += "\n" + string(e.Msg.Bytes())
	}
	if e.Kind == effects.Deliver {
		text += fmt.Sprintf(" event=%v id=%v code=%d err=%v", e.Event.Kind, e.Event.ID, e.Event.Code, e.Event.Err)
		if e.Event.Msg != nil {
			text += "\n" + string(e.Event.Msg.Bytes())
		}
	}
	return text
}

func (s *soloUA) do(f func(now effects.Time, out []effects.Effect) ([]effects.Effect, error)) {
	s.t.Helper()
	out, err := f(s.now, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.take(out)
}

func (s *soloUA) receive(m *message.Message) {
	s.take(s.u.Handle(effects.Input{Kind: effects.Received, Now: s.now, Data: m.Bytes(), From: proxyPeer}, nil))
}

// advance moves the clock, firing every timer due.
func (s *soloUA) advance(d time.Duration) {
	end := s.now.Add(d)
	for {
		var next effects.TimerID
		var at effects.Time
		for id, t := range s.timers {
			// Timers due at once fire in the order of their ids: the
			// map's order must not decide it.
			if t <= end && (next == 0 || t < at || t == at && id < next) {
				next, at = id, t
			}
		}
		if next == 0 {
			break
		}
		delete(s.timers, next)
		s.now = at
		s.take(s.u.Handle(effects.Input{Kind: effects.TimerFired, Now: s.now, Timer: next}, nil))
	}
	s.now = end
}

func (s *soloUA) last() *message.Message {
	s.t.Helper()
	if len(s.sent) == 0 {
		s.t.Fatal("nothing sent")
	}
	return s.sent[len(s.sent)-1]
}

func (s *soloUA) lastRequest() *message.Message {
	s.t.Helper()
	for i := len(s.sent) - 1; i >= 0; i-- {
		if s.sent[i].IsRequest() && s.sent[i].Method() != "ACK" {
			return s.sent[i]
		}
	}
	s.t.Fatal("no request sent")
	return nil
}

func (s *soloUA) event(k effects.EventKind) (effects.Event, bool) {
	for _, e := range s.events {
		if e.Kind == k {
			return e, true
		}
	}
	return effects.Event{}, false
}

func respond(t *testing.T, req *message.Message, code int, toTag string, edit func(*message.Message)) *message.Message {
	t.Helper()
	resp, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: toTag})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(resp)
	}
	return resp
}

func challenge(srv *digest.Server, now effects.Time, proxy, stale bool) func(*message.Message) {
	return func(m *message.Message) {
		for _, ch := range srv.Challenge(now, stale, "") {
			if proxy {
				message.Add(m, header.ProxyAuthenticate{Challenge: ch})
			} else {
				message.Add(m, header.WWWAuthenticate{Challenge: ch})
			}
		}
	}
}

var aliceCreds = func(realm string) (digest.Credentials, bool) {
	switch realm {
	case "atlanta.example.com", "biloxi.example.com":
		return digest.Credentials{Username: "alice", Password: "cryptic"}, true
	}
	return digest.Credentials{}, false
}

func verify(t *testing.T, srv *digest.Server, now effects.Time, req *message.Message, proxy bool, password string) digest.Result {
	t.Helper()
	var cred header.Credentials
	if proxy {
		all, err := message.All[header.ProxyAuthorization](req)
		if err != nil || len(all) == 0 {
			t.Fatalf("no Proxy-Authorization in %s", req.StartLine())
		}
		for _, c := range all {
			if c.Realm() == srv.Realm {
				cred = c.Credentials
			}
		}
	} else {
		all, err := message.All[header.Authorization](req)
		if err != nil || len(all) == 0 {
			t.Fatalf("no Authorization in %s", req.StartLine())
		}
		for _, c := range all {
			if c.Realm() == srv.Realm {
				cred = c.Credentials
			}
		}
	}
	res, _ := srv.Verify(now, cred, req.Method(), req.RequestURI().String(), []byte(req.Body()), digest.Credentials{Username: "alice", Password: password})
	return res
}

// RFC 3665 §3.2 (the 407 part) and RFC 3261 §22.3: an INVITE challenged by
// a proxy goes again with Proxy-Authorization, the same Call-ID and From
// tag, CSeq one higher and a new branch; the 407 is acknowledged by the
// transaction layer; the call then proceeds.
func TestAuthInvite(t *testing.T) {
	srv := &digest.Server{Realm: "atlanta.example.com", Secret: []byte("0123456789abcdef-proxy")}
	a := newSolo(t, Config{Credentials: aliceCreds})
	var id CallID
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = a.u.Call(now, mustURI("sip:bob@biloxi.example.com"), CallOptions{Body: []byte(sdpOffer), Dest: proxyPeer}, out)
		return out, err
	})
	inv1 := a.last()
	a.receive(respond(t, inv1, 407, "p1", challenge(srv, a.now, true, false)))
	if n := len(a.sent); n != 3 || a.sent[1].Method() != "ACK" || a.sent[2].Method() != "INVITE" {
		t.Fatalf("after 407: %v", startLines(a.sent))
	}
	inv2 := a.sent[2]
	if inv2.CallID() != inv1.CallID() || inv2.FromTag() != inv1.FromTag() || inv2.CSeq().Seq != inv1.CSeq().Seq+1 || inv2.Branch() == inv1.Branch() {
		t.Errorf("§22.3: retried INVITE: Call-ID %q/%q tag %q/%q CSeq %d/%d branch %q/%q",
			inv2.CallID(), inv1.CallID(), inv2.FromTag(), inv1.FromTag(), inv2.CSeq().Seq, inv1.CSeq().Seq, inv2.Branch(), inv1.Branch())
	}
	if r := verify(t, srv, a.now, inv2, true, "cryptic"); r != digest.OK {
		t.Fatalf("proxy verifies the credentials: %v", r)
	}
	if inv2.Body() != sdpOffer {
		t.Error("the offer went missing from the retried INVITE")
	}
	if _, failed := a.event(effects.CallFailed); failed {
		t.Fatal("the 407 failed the call")
	}
	// The call goes on: 180, 200, ACK for the new CSeq; CANCEL would match
	// the new INVITE.
	a.receive(respond(t, inv2, 180, "bob1", nil))
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.u.Hangup(now, id, out)
	})
	cancel := a.last()
	if cancel.Method() != "CANCEL" || cancel.Branch() != inv2.Branch() || cancel.CSeq().Seq != inv2.CSeq().Seq {
		t.Errorf("§9.1: CANCEL must match the retried INVITE: %s branch %s CSeq %d", cancel.StartLine(), cancel.Branch(), cancel.CSeq().Seq)
	}
	a.receive(respond(t, cancel, 200, "bob1", nil))
	a.receive(respond(t, inv2, 487, "bob1", nil))
	a.advance(time.Minute)
	if e, ok := a.event(effects.CallFailed); !ok || e.Code != 487 {
		t.Errorf("CallFailed: %+v %v", e, ok)
	}
	if a.u.Calls() != 0 || a.u.Timers() != 0 || a.u.Transactions().Len() != 0 {
		t.Errorf("left: calls %d timers %d txns %d", a.u.Calls(), a.u.Timers(), a.u.Transactions().Len())
	}
}

// TestAuthSeveralChallenges: a 401 may carry several WWW-Authenticate
// fields (RFC 3261 §7.3.1), one per algorithm (RFC 8760 §2.3) and, from a
// forking proxy, per realm (§16.7 step 7). The UA answers each realm it
// has credentials for once (§22.3), with the strongest algorithm it can
// use among that realm's challenges (RFC 8760 §2.4 leaves the choice to
// the client's policy), ignoring those it cannot answer; the REGISTER
// goes again with one Authorization field per realm, each verified by
// that realm's server.
func TestAuthSeveralChallenges(t *testing.T) {
	srv := func(realm string, algs ...digest.Algorithm) *digest.Server {
		return &digest.Server{Realm: realm, Secret: []byte("0123456789abcdef-" + realm), Algorithms: algs, AsGiven: true}
	}
	md5Only := func(realm string) (digest.Credentials, bool) {
		c, ok := aliceCreds(realm)
		ha1 := md5hex(c.Username + ":" + realm + ":" + c.Password)
		return digest.Credentials{Username: c.Username, HA1: map[digest.Algorithm]string{digest.MD5: ha1}}, ok
	}
	cases := []struct {
		name    string
		creds   func(string) (digest.Credentials, bool)
		servers []*digest.Server
		raw     []string // more challenges, as written
		want    map[string]string
	}{
		{"MD5 first, SHA-256 second: the strongest", aliceCreds,
			[]*digest.Server{srv("biloxi.example.com", digest.MD5, digest.SHA256)}, nil,
			map[string]string{"biloxi.example.com": "SHA-256"}},
		{"SHA-256 first", aliceCreds,
			[]*digest.Server{srv("biloxi.example.com", digest.SHA256, digest.MD5)}, nil,
			map[string]string{"biloxi.example.com": "SHA-256"}},
		{"credentials that know only MD5 (a stored HA1)", md5Only,
			[]*digest.Server{srv("biloxi.example.com", digest.SHA256, digest.MD5)}, nil,
			map[string]string{"biloxi.example.com": "MD5"}},
		{"an unknown algorithm and another scheme are ignored", aliceCreds,
			[]*digest.Server{srv("biloxi.example.com", digest.MD5)},
			[]string{`Digest realm="biloxi.example.com", nonce="x", qop="auth", algorithm=SHA-999`, `Bearer realm="biloxi.example.com"`},
			map[string]string{"biloxi.example.com": "MD5"}},
		{"a malformed challenge does not hide the others", aliceCreds,
			[]*digest.Server{srv("biloxi.example.com", digest.MD5)},
			[]string{`Digest realm="biloxi.example.com", nonce`},
			map[string]string{"biloxi.example.com": "MD5"}},
		{"two realms (§22.3), two algorithms each", aliceCreds,
			[]*digest.Server{srv("biloxi.example.com", digest.MD5, digest.SHA256), srv("atlanta.example.com", digest.SHA512_256, digest.MD5)}, nil,
			map[string]string{"biloxi.example.com": "SHA-256", "atlanta.example.com": "SHA-512-256"}},
		{"a realm without credentials is left out", aliceCreds,
			[]*digest.Server{srv("chicago.example.com", digest.SHA256), srv("biloxi.example.com", digest.MD5, digest.SHA256)}, nil,
			map[string]string{"biloxi.example.com": "SHA-256"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newSolo(t, Config{Credentials: tc.creds})
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				_, out, err := a.u.Register(now, RegisterOptions{Registrar: mustURI("sip:biloxi.example.com"), Dest: proxyPeer, Expires: time.Hour}, out)
				return out, err
			})
			reg1 := a.last()
			resp := respond(t, reg1, 401, "r1", func(m *message.Message) {
				for _, s := range tc.servers {
					vals := []header.WWWAuthenticate{}
					for _, ch := range s.Challenge(a.now, false, "") {
						vals = append(vals, header.WWWAuthenticate{Challenge: ch})
					}
					if err := message.Add(m, vals...); err != nil {
						t.Fatal(err)
					}
				}
			})
			// The fields as written, even malformed ones, which the
			// message API refuses to add.
			var more string
			for _, r := range tc.raw {
				more += "WWW-Authenticate: " + r + "\r\n"
			}
			head, _, _ := strings.Cut(string(resp.Bytes()), "\r\n\r\n")
			resp, err := message.ParseString(head+"\r\n"+more+"\r\n", nil)
			if err != nil {
				t.Fatal(err)
			}
			a.receive(resp)
			reg2 := a.last()
			if reg2.Method() != "REGISTER" || reg2 == reg1 {
				t.Fatalf("no REGISTER after the 401: %v", startLines(a.sent))
			}
			all, err := message.All[header.Authorization](reg2)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range all {
				if _, dup := got[c.Realm()]; dup {
					t.Errorf("two credentials for %s", c.Realm())
				}
				got[c.Realm()] = c.Algorithm()
			}
			if len(got) != len(tc.want) || len(reg2.Values("Authorization")) != len(tc.want) {
				t.Errorf("answered %v, want %v", got, tc.want)
			}
			for realm, alg := range tc.want {
				if got[realm] != alg {
					t.Errorf("%s answered with %q, want %s", realm, got[realm], alg)
				}
				for _, s := range tc.servers {
					if s.Realm == realm {
						if r := verify(t, s, a.now, reg2, false, "cryptic"); r != digest.OK {
							t.Errorf("%s: the server says %v", realm, r)
						}
					}
				}
			}
		})
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func startLines(ms []*message.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.StartLine())
	}
	return s
}

// RFC 7616 §3.3: credentials refused (a fresh challenge, stale=false, for a
// request that answered a fresh one) end the attempt instead of looping;
// stale=true is answered again.
func TestAuthRefusedAndStale(t *testing.T) {
	srv := &digest.Server{Realm: "biloxi.example.com", Secret: []byte("0123456789abcdef-registrar")}
	tests := []struct {
		name     string
		password string
		stale    bool
		wantCode int
	}{
		{"wrong password: the second 401 ends it (RFC 7616 §3.3)", "wrong", false, 401},
		{"stale nonce: answered again (RFC 7616 §3.3)", "cryptic", true, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds := func(realm string) (digest.Credentials, bool) {
				return digest.Credentials{Username: "alice", Password: tc.password}, realm == "biloxi.example.com"
			}
			a := newSolo(t, Config{Credentials: creds})
			var rid uint64
			a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
				var err error
				rid, out, err = a.u.Request(now, "MESSAGE", mustURI("sip:bob@biloxi.example.com"), RequestOptions{
					Dest: proxyPeer, ContentType: "text/plain", Body: []byte("Watson, come here."),
				}, out)
				return out, err
			})
			m1 := a.last()
			a.receive(respond(t, m1, 401, "b1", challenge(srv, a.now, false, false)))
			m2 := a.last()
			if m2 == m1 || m2.Method() != "MESSAGE" || m2.CSeq().Seq != m1.CSeq().Seq+1 {
				t.Fatalf("no retry after the first 401: %v", startLines(a.sent))
			}
			switch {
			case tc.stale:
				a.receive(respond(t, m2, 401, "b1", challenge(srv, a.now, false, true)))
				m3 := a.last()
				if m3 == m2 || m3.CSeq().Seq != m2.CSeq().Seq+1 {
					t.Fatalf("stale=true not answered: %v", startLines(a.sent))
				}
				if r := verify(t, srv, a.now, m3, false, "cryptic"); r != digest.OK {
					t.Fatalf("verify: %v", r)
				}
				a.receive(respond(t, m3, 200, "b1", nil))
			default:
				if r := verify(t, srv, a.now, m2, false, "cryptic"); r == digest.OK {
					t.Fatal("a wrong password verified")
				}
				a.receive(respond(t, m2, 401, "b1", challenge(srv, a.now, false, false)))
				if a.last() != m2 {
					t.Fatalf("refused credentials were sent again: %v", startLines(a.sent))
				}
			}
			e, ok := a.event(effects.RequestDone)
			if !ok || e.ID != rid || e.Code != tc.wantCode {
				t.Fatalf("RequestDone = %+v, %v; want code %d", e, ok, tc.wantCode)
			}
			a.advance(time.Minute)
			if a.u.Requests() != 0 || a.u.Timers() != 0 || a.u.Transactions().Len() != 0 {
				t.Errorf("left: requests %d timers %d txns %d", a.u.Requests(), a.u.Timers(), a.u.Transactions().Len())
			}
		})
	}
}

// RFC 3261 §22.2 inside a dialog: a BYE challenged by the callee goes again
// with Authorization and the dialog's next CSeq; a later in-dialog request
// continues from there. Credentials for another realm (a proxy's) stay on
// the request when a second realm challenges (§22.3).
func TestAuthInDialog(t *testing.T) {
	uas := &digest.Server{Realm: "biloxi.example.com", Secret: []byte("0123456789abcdef-bob")}
	proxy := &digest.Server{Realm: "atlanta.example.com", Secret: []byte("0123456789abcdef-proxy")}
	a := newSolo(t, Config{Credentials: aliceCreds})
	var id CallID
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = a.u.Call(now, mustURI("sip:bob@biloxi.example.com"), CallOptions{Body: []byte(sdpOffer), Dest: proxyPeer}, out)
		return out, err
	})
	inv := a.last()
	a.receive(respond(t, inv, 200, "bobtag", func(m *message.Message) {
		m.Set("Contact", "<sip:bob@192.0.2.100:5060>")
		m.SetBody("application/sdp", []byte(sdpAnswer))
	}))
	if a.last().Method() != "ACK" {
		t.Fatalf("no ACK: %v", startLines(a.sent))
	}
	// An INFO first, challenged by the proxy (407) and then by Bob (401).
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.u.CallRequest(now, id, "INFO", "application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"), out)
		return out, err
	})
	info1 := a.last()
	a.receive(respond(t, info1, 407, "bobtag", challenge(proxy, a.now, true, false)))
	info2 := a.last()
	a.receive(respond(t, info2, 401, "bobtag", challenge(uas, a.now, false, false)))
	info3 := a.last()
	if info2.CSeq().Seq != info1.CSeq().Seq+1 || info3.CSeq().Seq != info2.CSeq().Seq+1 {
		t.Errorf("in-dialog CSeq: %d %d %d", info1.CSeq().Seq, info2.CSeq().Seq, info3.CSeq().Seq)
	}
	if verify(t, proxy, a.now, info3, true, "cryptic") != digest.OK || verify(t, uas, a.now, info3, false, "cryptic") != digest.OK {
		t.Error("§22.3: the INFO must carry both realms' credentials")
	}
	if info3.ToTag() != "bobtag" || info3.CallID() != inv.CallID() {
		t.Error("the retried INFO left its dialog")
	}
	a.receive(respond(t, info3, 200, "bobtag", nil))
	if e, ok := a.event(effects.RequestDone); !ok || e.Code != 200 || e.Ref != id {
		t.Errorf("RequestDone: %+v %v", e, ok)
	}
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		return a.u.Hangup(now, id, out)
	})
	bye1 := a.last()
	if bye1.Method() != "BYE" || bye1.CSeq().Seq != info3.CSeq().Seq+1 {
		t.Fatalf("BYE CSeq %d after INFO %d", bye1.CSeq().Seq, info3.CSeq().Seq)
	}
	a.receive(respond(t, bye1, 401, "bobtag", challenge(uas, a.now, false, false)))
	bye2 := a.last()
	if bye2.Method() != "BYE" || bye2.CSeq().Seq != bye1.CSeq().Seq+1 {
		t.Fatalf("§22.2: BYE not retried: %v", startLines(a.sent))
	}
	if r := verify(t, uas, a.now, bye2, false, "cryptic"); r != digest.OK {
		t.Errorf("BYE credentials: %v", r)
	}
	a.receive(respond(t, bye2, 200, "bobtag", nil))
	a.advance(time.Minute)
	if a.u.Calls() != 0 || a.u.Dialogs() != 0 || a.u.Timers() != 0 || a.u.Transactions().Len() != 0 {
		t.Errorf("left: calls %d dialogs %d timers %d txns %d", a.u.Calls(), a.u.Dialogs(), a.u.Timers(), a.u.Transactions().Len())
	}
}

// Without credentials for the realm the 401 is the answer.
func TestAuthNoCredentials(t *testing.T) {
	srv := &digest.Server{Realm: "elsewhere.example.net", Secret: []byte("0123456789abcdef-else")}
	a := newSolo(t, Config{Credentials: aliceCreds})
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.u.Call(now, mustURI("sip:carol@elsewhere.example.net"), CallOptions{Body: []byte(sdpOffer), Dest: proxyPeer}, out)
		return out, err
	})
	a.receive(respond(t, a.last(), 401, "c1", challenge(srv, a.now, false, false)))
	e, ok := a.event(effects.CallFailed)
	if !ok || e.Code != 401 {
		t.Fatalf("CallFailed: %+v %v", e, ok)
	}
	if errors.Is(e.Err, ErrCancelled) {
		t.Error("wrong reason")
	}
}

// RFC 7616 §3.4.3 through the UA: with PreferAuthInt, a challenge offering
// auth-int is answered with it, the body hashed in; the server verifies
// the answer against the body the request carries.
func TestAuthInt(t *testing.T) {
	srv := &digest.Server{Realm: "biloxi.example.com", Secret: []byte("0123456789abcdef-authint"), QOP: []string{digest.QOPAuth, digest.QOPAuthInt}}
	a := newSolo(t, Config{Credentials: aliceCreds, PreferAuthInt: true})
	a.do(func(now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := a.u.Request(now, "MESSAGE", mustURI("sip:bob@biloxi.example.com"), RequestOptions{
			Dest: proxyPeer, ContentType: "text/plain", Body: []byte("integrity, please"),
		}, out)
		return out, err
	})
	a.receive(respond(t, a.last(), 401, "b1", challenge(srv, a.now, false, false)))
	m := a.last()
	auth, ok, err := message.First[header.Authorization](m)
	if err != nil || !ok || auth.QOP() != digest.QOPAuthInt {
		t.Fatalf("Authorization qop %q (%v %v)", auth.QOP(), ok, err)
	}
	if r := verify(t, srv, a.now, m, false, "cryptic"); r != digest.OK {
		t.Errorf("verify: %v", r)
	}
}
