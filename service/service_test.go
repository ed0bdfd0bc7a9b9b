package service_test

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

const answerSDP = "v=0\r\no=svc 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// TestRoute: the routing callback decides for every new request outside
// a dialog (RFC 3261 §16.5's target set is the application's), at once
// or later, and each decision comes out as RFC 3261 says:
//
//	| Request-URI user | decision                          | outcome (RFC)                                   |
//	|------------------|-----------------------------------|-------------------------------------------------|
//	| bob              | Default                           | Bob's registered contact answers (§16.5, §10.3) |
//	| 0044…            | Proxy to the gateway, edited      | the gateway answers; its INVITE has X-Route      |
//	|                  |                                   | and no User-Agent (§16.6)                       |
//	| any, from Mallory | Reply 403 with a reason           | 403 Blocked (§16.5: the proxy may answer)       |
//	| echo             | Local; OnCall answers             | answered by the service's UA (§13.3)            |
//	| bridge           | Bridge to Bob, From replaced      | answered when Bob answers; Bob sees the new     |
//	|                  |                                   | From and a Call-ID on the same shard (RFC 7092) |
//	| slow             | Default, decided 300 ms later     | answered (retransmissions absorbed, §17.2.1)     |
//	| late             | none                              | 504 after RouteTimeout (§21.5.5)                |
//	| moved            | Redirect                          | 302 with the Contact (§8.3)                     |
//	| nobody           | Default                           | 404: not registered (§16.5)                     |
func TestRoute(t *testing.T) {
	var gwAddr, bobAddr string
	var mu sync.Mutex
	var malloryPort uint16
	svc, addr := start(t, service.Config{
		RecordRoute: true, Shards: 4, RouteTimeout: 500 * time.Millisecond,
		Route: func(r *service.Request) {
			mu.Lock()
			blocked := r.Source().Addr.Port() == malloryPort
			mu.Unlock()
			user := r.RequestURI().User
			switch {
			case r.Method() != "INVITE":
				r.Default()
			case blocked:
				r.Reply(403, "Blocked")
			case strings.HasPrefix(user, "0044"):
				gw := mustURI(t, "sip:"+user+"@"+gwAddr)
				r.ProxyWith(proxycore.Decision{Targets: []proxycore.Target{{URI: gw}},
					Add: []proxycore.Field{{Name: "X-Route", Value: "gateway"}}, Remove: []string{"User-Agent"}})
			case user == "echo":
				r.Local()
			case user == "bridge":
				r.Bridge(mustURI(t, "sip:bob@localhost"), service.BridgeOptions{
					From: header.From{Display: "Operator", URI: mustURI(t, "sip:operator@localhost")}})
			case user == "slow":
				go func() {
					time.Sleep(300 * time.Millisecond)
					if err := r.ProxyWith(proxycore.Decision{Targets: []proxycore.Target{{URI: mustURI(t, "sip:bob@"+bobAddr)}}}); err != nil {
						t.Errorf("late decision: %v", err)
					}
				}()
			case user == "late":
				// no decision
			case user == "moved":
				r.Redirect(mustURI(t, "sip:bob@example.org"))
			default:
				r.Default()
			}
		},
		OnCall: func(c *service.Call) {
			c.Ring(180, nil)
			c.Answer([]byte(answerSDP))
		},
	})
	alice := newPeer(t, "alice", addr, false, "")
	bob := newPeer(t, "bob", addr, true, "")
	gw := newPeer(t, "gw", addr, true, "")
	mallory := newPeer(t, "mallory", addr, false, "")
	gwAddr, bobAddr = gw.c.Local().String(), bob.c.Local().String()
	mu.Lock()
	malloryPort = mallory.c.Local().Port()
	mu.Unlock()
	bob.register()

	for _, tc := range []struct {
		who    *peer
		target string
		want   string
		callee *peer
	}{
		{alice, "sip:bob@localhost", "answered", bob},
		// The server's own port names the domain: the same address of
		// record (RFC 3261 §10.3 step 5, §16.5).
		{alice, "sip:bob@localhost:" + strconv.Itoa(int(addr.Port())), "answered", bob},
		{alice, "sip:00441234@localhost", "answered", gw},
		{mallory, "sip:bob@localhost", "403 Blocked", nil},
		{alice, "sip:echo@localhost", "answered", nil},
		{alice, "sip:bridge@localhost", "answered", bob},
		{alice, "sip:slow@localhost", "answered", bob},
		{alice, "sip:late@localhost", "504", nil},
		{alice, "sip:moved@localhost", "302", nil},
		{alice, "sip:nobody@localhost", "404", nil},
	} {
		t.Run(strings.TrimPrefix(tc.target, "sip:"), func(t *testing.T) {
			id, got := tc.who.call(tc.target)
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("call to %s: %s, want %s", tc.target, got, tc.want)
			}
			if tc.callee != nil {
				in := tc.callee.wait(5*time.Second, effects.CallIncoming)
				m := in.Msg
				switch tc.target {
				case "sip:00441234@localhost":
					if v, _ := m.Get("X-Route"); v != "gateway" || m.Has("User-Agent") {
						t.Errorf("the gateway's INVITE:\n%s", m.Bytes())
					}
				case "sip:bridge@localhost":
					if m.From().URI.String() != "sip:operator@localhost" || m.From().Display != "Operator" {
						t.Errorf("bridged From %v", m.From())
					}
					if m.Has("Record-Route") {
						t.Errorf("a B2BUA leg carries Record-Route:\n%s", m.Bytes())
					}
				}
				if tc.target == "sip:bridge@localhost" {
					// Both legs on one shard (4 shards, loop.Runtime's
					// FNV-1a of the Call-ID).
					legA := alice.lastCallID()
					if shardOf(legA, 4) != shardOf(m.CallID(), 4) {
						t.Errorf("legs on shards %d and %d", shardOf(legA, 4), shardOf(m.CallID(), 4))
					}
				}
			}
			if got == "answered" {
				tc.who.hangup(id)
				if tc.callee != nil {
					tc.callee.wait(5*time.Second, effects.CallEnded)
				}
			}
		})
	}
	_ = svc
}

func shardOf(callID string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return int(h.Sum32() % uint32(n))
}

// TestDial: a call placed from a goroutine with Dial reaches a registered
// user and is hung up; a call nobody answers is cancelled when its
// context is done (RFC 3261 §9.1: CANCEL, the callee's call fails 487);
// a request (OPTIONS) gets its final response.
func TestDial(t *testing.T) {
	svc, addr := start(t, service.Config{Shards: 2})
	bob := newPeer(t, "bob", addr, true, "")
	carol := newPeer(t, "carol", addr, false, "")
	bob.register()
	carol.register()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offer, _ := bob.c.Offer() // any valid offer
	call, err := svc.Dial(ctx, mustURI(t, "sip:bob@localhost"), service.DialOptions{SDP: offer})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if len(call.RemoteSDP()) == 0 {
		t.Error("no answer SDP")
	}
	bob.wait(5*time.Second, effects.CallAnswered)
	call.Hangup()
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
	bob.wait(5*time.Second, effects.CallEnded)

	short, cancel2 := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel2()
	_, err = svc.Dial(short, mustURI(t, "sip:carol@localhost"), service.DialOptions{SDP: offer})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial with a short context: %v", err)
	}
	carol.wait(5*time.Second, effects.CallIncoming)
	if ev := carol.wait(5*time.Second, effects.CallEnded, effects.CallFailed); ev.Code != 487 {
		t.Errorf("carol's call ended with %d %v, want 487", ev.Code, ev.Err)
	}

	_, err = svc.Dial(ctx, mustURI(t, "sip:nobody@localhost"), service.DialOptions{SDP: offer})
	var ce *service.CallError
	if !errors.As(err, &ce) || ce.Code != 404 {
		t.Errorf("Dial to nobody: %v", err)
	}

	resp, err := svc.Request(ctx, "OPTIONS", mustURI(t, "sip:bob@localhost"), service.RequestOptions{})
	if err != nil || resp.StatusCode() != 200 {
		t.Errorf("OPTIONS: %v %v", resp, err)
	}
}

// TestMiddleware: the trace logs a line per message each way; the rate
// limit answers 503 past its burst to one source and not to another;
// failed authentications are logged in one line with the source and
// counted, a stale nonce or a right password not.
func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	var lmu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&lmu, &logs}, nil))
	_, addr := start(t, service.Config{
		Users: map[string]string{"alice": "right", "bob": "bob"},
		Middleware: []service.Middleware{
			service.Trace(log),
			service.LogAuthFailures(log),
			service.RateLimit{PerSecond: 1, Burst: 3}.Middleware(),
		},
	})
	// Each source its own loopback address.
	noisy := newPeerAt(t, "noisy", "127.0.0.2:0", addr, false, "")
	quiet := newPeerAt(t, "quiet", "127.0.0.3:0", addr, false, "")
	codes := map[int]int{}
	for range 6 {
		codes[noisy.options("sip:"+addr.String())]++
	}
	if codes[200] < 3 || codes[503] < 2 {
		t.Errorf("noisy source: %v, want 3 or 4 200s, then 503s", codes)
	}
	if c := quiet.options("sip:" + addr.String()); c != 200 {
		t.Errorf("quiet source: %d", c)
	}

	mallory := newPeerAt(t, "alice", "127.0.0.4:0", addr, false, "wrong")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := mallory.c.Do(ctx, registerCmd(t, mallory)); err != nil {
		t.Fatal(err)
	}
	if ev := mallory.wait(5*time.Second, effects.Registered, effects.RegistrationFailed); ev.Kind != effects.RegistrationFailed || ev.Code != 401 {
		t.Errorf("wrong password: %v %d", ev.Kind, ev.Code)
	}
	bob := newPeerAt(t, "bob", "127.0.0.5:0", addr, false, "bob")
	bob.register()

	lmu.Lock()
	out := logs.String()
	lmu.Unlock()
	if n := strings.Count(out, `msg="auth failed"`); n != 1 {
		t.Errorf("%d auth failure lines:\n%s", n, out)
	}
	want := `msg="auth failed" user=alice realm=localhost src=127.0.0.4 port=` + strconv.Itoa(int(mallory.c.Local().Port()))
	if !strings.Contains(out, want) || !strings.Contains(out, `reason="wrong password"`) {
		t.Errorf("no %q in:\n%s", want, out)
	}
	if !strings.Contains(out, `msg=sip dir=in transport=UDP`) || !strings.Contains(out, `msg=sip dir=out`) ||
		!strings.Contains(out, `msg="OPTIONS sip:`) {
		t.Errorf("no trace lines in:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// slowStore is a Store that answers later (not Immediate), as a database
// does, and fails when told to.
type slowStore struct {
	mem  *service.MemoryStore
	fail bool
	mu   sync.Mutex
	ops  int
}

func (s *slowStore) Lookup(ctx context.Context, now effects.Time, aor uri.URI) ([]location.Binding, error) {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.ops++
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return nil, errors.New("store down")
	}
	return s.mem.Lookup(ctx, now, aor)
}

func (s *slowStore) Apply(ctx context.Context, now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.ops++
	s.mu.Unlock()
	return s.mem.Apply(ctx, now, aor, u)
}

// TestAsyncRegistrar: a registrar whose credentials and store answer
// later (on workers, never on a shard) registers with digest (RFC 3261
// §10.3, §22.4) and routes calls to the binding; when the store fails, a
// call to the domain gets 503 with Retry-After (RFC 3261 §21.5.4).
func TestAsyncRegistrar(t *testing.T) {
	store := &slowStore{mem: service.NewMemoryStore()}
	var lookups sync.Map
	creds := service.CredentialsFunc(func(ctx context.Context, user, realm string) (digest.Credentials, bool, error) {
		time.Sleep(10 * time.Millisecond)
		lookups.Store(user, realm)
		return digest.Credentials{Username: user, Password: user}, user == "bob", nil
	})
	_, addr := start(t, service.Config{Store: store, Credentials: creds})
	bob := newPeer(t, "bob", addr, true, "bob")
	alice := newPeer(t, "alice", addr, false, "")
	bob.register()
	if _, ok := lookups.Load("bob"); !ok {
		t.Error("credentials never looked up")
	}
	id, got := alice.call("sip:bob@localhost")
	if got != "answered" {
		t.Fatalf("call: %s", got)
	}
	alice.hangup(id)
	store.mu.Lock()
	store.fail = true
	store.mu.Unlock()
	if _, got := alice.call("sip:bob@localhost"); got != "503 Service Unavailable (location service)" {
		t.Errorf("with the store down: %s", got)
	}
}

// TestEndpoint: the local UA's calls and requests through their handles.
// A call rings and is transferred before it is answered (302 with the new
// target, RFC 3261 §8.3) or after (REFER with Refer-To, RFC 3515 §2.4);
// an INFO in the call reaches OnRequest with its call (RFC 6086); a
// SUBSCRIBE to the presence package is accepted and its NOTIFY carries the
// body the application gives (RFC 6665 §4.2).
func TestEndpoint(t *testing.T) {
	calls := make(chan *service.Call, 4)
	infos := make(chan *service.IncomingRequest, 4)
	subs := make(chan *service.Subscription, 4)
	_, addr := start(t, service.Config{
		Route:       func(r *service.Request) { r.Local() },
		Events:      []ua.EventPackage{{Name: "presence", ContentType: "application/pidf+xml"}},
		OnCall:      func(c *service.Call) { c.Ring(180, nil); calls <- c },
		OnRequest:   func(r *service.IncomingRequest) { r.Reply(200, ua.ReplyOptions{}); infos <- r },
		OnSubscribe: func(s *service.Subscription) { s.Accept(0); s.Notify("active", []byte("<presence/>")); subs <- s },
	})
	alice := newPeer(t, "alice", addr, false, "")

	// Transferred while ringing: 302 with the new target.
	go func() { c := <-calls; c.Transfer(mustURI(t, "sip:bob@example.org")) }()
	if _, got := alice.call("sip:desk@localhost"); got != "302 Moved Temporarily" {
		t.Fatalf("transfer while ringing: %s", got)
	}

	// Answered, then an INFO, then transferred with a REFER.
	go func() { c := <-calls; c.Answer([]byte(answerSDP)); calls <- c }()
	id, got := alice.call("sip:desk@localhost")
	if got != "answered" {
		t.Fatalf("call: %s", got)
	}
	c := <-calls
	select {
	case <-c.Answered():
	case <-time.After(5 * time.Second):
		t.Fatal("the call is not answered on the service's side")
	}
	if c.CallID() != alice.lastCallID() || !strings.Contains(string(c.RemoteSDP()), "m=audio") {
		t.Errorf("call %q (alice's %q), remote SDP %q", c.CallID(), alice.lastCallID(), c.RemoteSDP())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := alice.c.Do(ctx, func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.CallRequest(now, id, "INFO", "application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"), out)
		return out, err
	}); err != nil {
		t.Fatal(err)
	}
	if ev := alice.wait(5*time.Second, effects.RequestDone); ev.Code != 200 {
		t.Errorf("INFO answered %d", ev.Code)
	}
	select {
	case r := <-infos:
		if r.Method() != "INFO" || r.Call() != c || !strings.Contains(string(r.Body()), "Signal=5") {
			t.Errorf("INFO %s in call %v: %q", r.Method(), r.Call(), r.Body())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no INFO")
	}
	if err := c.Transfer(mustURI(t, "sip:carol@example.org")); err != nil {
		t.Fatal(err)
	}
	refer := alice.wait(5*time.Second, effects.ReferIncoming)
	if v, _ := refer.Msg.Get("Refer-To"); !strings.Contains(v, "sip:carol@example.org") {
		t.Errorf("Refer-To %q", v)
	}
	alice.hangup(id)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end on the service's side")
	}

	// A subscription, accepted and notified.
	if err := alice.c.Do(ctx, func(u *ua.UA, now effects.Time, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Subscribe(now, mustURI(t, "sip:desk@localhost"), ua.SubscribeOptions{Event: "presence", Expires: time.Minute, Dest: alice.c.Next()}, out)
		return out, err
	}); err != nil {
		t.Fatal(err)
	}
	// The first NOTIFY goes as the SUBSCRIBE is accepted (RFC 6665
	// §4.2.1.2), the application's with its body next.
	var bodies []string
	for len(bodies) < 2 {
		bodies = append(bodies, alice.wait(5*time.Second, effects.NotifyReceived).Msg.Body())
	}
	if bodies[1] != "<presence/>" {
		t.Errorf("NOTIFY bodies %q", bodies)
	}
	s := <-subs
	if s.Event() != "presence" || s.From().URI.User != "alice" {
		t.Errorf("subscription to %q from %v", s.Event(), s.From())
	}
}
