package registrar_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/sansip/sansip/uri"
)

// baseRegister is the REGISTER of RFC 3261 §24.1's style that the step
// tests edit.
const baseRegister = "REGISTER sip:biloxi.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@biloxi.example.com>\r\n" +
	"From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n" +
	"Call-ID: 843817637684230@998sdasdh09\r\n" +
	"CSeq: 1826 REGISTER\r\n" +
	"Contact: <sip:bob@192.0.2.4>\r\n" +
	"Expires: 7200\r\n" +
	"Content-Length: 0\r\n\r\n"

var bobPeer = peer("192.0.2.4:5060", effects.UDP)

// register returns baseRegister with the header fields in set replaced
// (a "" value removes the field) and those in add appended.
func register(t testing.TB, set map[string]string, add ...string) *message.Message {
	t.Helper()
	text := baseRegister
	if raw, ok := set["raw"]; ok {
		// A field line replaced as written, unchecked.
		name, _, _ := strings.Cut(raw, ":")
		i := strings.Index(text, name+":")
		j := i + strings.Index(text[i:], "\r\n")
		text = text[:i] + raw + text[j:]
		delete(set, "raw")
	}
	m, err := message.ParseString(text, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range set {
		if name == "Request-URI" {
			if err := m.SetRequestURI(mustURI(v)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		m.Del(name)
		if v != "" {
			if err := m.Add(name, v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	for _, f := range add {
		name, v, _ := strings.Cut(f, ": ")
		if err := m.Add(name, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return m
}

// answer hands req to m under a new handle and returns the response it
// gives at once.
func answer(t testing.TB, m *registrar.Memory, now effects.Time, req *message.Message) *message.Message {
	t.Helper()
	handle++
	out, err := m.Handle(now, handle, req, bobPeer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp *message.Message
	for _, e := range out {
		if e.Kind == effects.Deliver && e.Event.Kind == effects.RegistrarResponse {
			if resp != nil || e.Event.ID != handle {
				t.Fatalf("second response or wrong handle: %+v", e.Event)
			}
			resp = e.Event.Msg
		}
	}
	if resp == nil {
		t.Fatalf("no response in %+v", out)
	}
	if m.Registrar.Len() != 0 {
		t.Fatalf("%d REGISTERs left pending", m.Registrar.Len())
	}
	return resp
}

var handle uint64

func memory(t testing.TB, cfg registrar.Config) *registrar.Memory {
	t.Helper()
	if cfg.Gen == nil {
		cfg.Gen = ident.Seeded(7)
	}
	if cfg.Domains == nil {
		cfg.Domains = []string{realm}
	}
	m, err := registrar.NewMemory(cfg, &location.Store{}, map[string]string{"bob": "zanzibar", "alice": "wonderland"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSteps checks each step of RFC 3261 §10.3 with the response it gives
// and the header fields that go with it.
func TestSteps(t *testing.T) {
	tests := []struct {
		name string
		cfg  registrar.Config
		set  map[string]string
		add  []string
		want string // line() of the response
	}{
		{name: "accepted, Expires header applies, capped at MaxExpires (step 6)",
			cfg:  registrar.Config{MaxExpires: time.Hour},
			want: "200 <sip:bob@192.0.2.4>;expires=3600"},
		{name: "step 1: Request-URI for another domain is 404",
			set: map[string]string{"Request-URI": "sip:atlanta.example.com"}, want: "404"},
		{name: "step 1: any domain when none is configured",
			cfg: registrar.Config{Domains: []string{}}, set: map[string]string{"Request-URI": "sip:atlanta.example.com"},
			want: "200 <sip:bob@192.0.2.4>;expires=7200"},
		{name: "step 2: unknown Require is 420 with Unsupported (§8.2.2.3)",
			add: []string{"Require: foo, path", "Require: bar"}, want: "420 Unsupported:foo,bar"},
		{name: "§20.32: a Require element that is no option tag cannot go in Unsupported: 400",
			set: map[string]string{"raw": "Expires: 7200\r\nRequire: foo bar"}, want: "400"},
		{name: "step 2: unknown Proxy-Require is 420 too",
			add: []string{"Proxy-Require: foo"}, want: "420 Unsupported:foo"},
		{name: "step 2: Proxy-Require ignored behind a proxy",
			cfg: registrar.Config{IgnoreProxyRequire: true}, add: []string{"Proxy-Require: foo"},
			want: "200 <sip:bob@192.0.2.4>;expires=7200"},
		{name: "step 5: To of another domain is 404",
			set: map[string]string{"To": "<sip:bob@atlanta.example.com>"}, want: "404"},
		{name: "step 5: a tel To is no address of record (§10.2)",
			set: map[string]string{"To": "<tel:+15551234>"}, want: "404"},
		{name: "step 6: * with Expires: 0 alone is accepted",
			set: map[string]string{"Contact": "*", "Expires": "0"}, want: "200"},
		{name: "step 6: * without Expires is 400",
			set: map[string]string{"Contact": "*", "Expires": ""}, want: "400"},
		{name: "step 6: * with Expires other than 0 is 400",
			set: map[string]string{"Contact": "*", "Expires": "3600"}, want: "400"},
		{name: "step 6: * with another Contact is 400",
			set: map[string]string{"Contact": "*, <sip:bob@192.0.2.4>", "Expires": "0"}, want: "400"},
		{name: "step 6: interval below Min-Expires is 423 with Min-Expires",
			cfg: registrar.Config{MinExpires: 120 * time.Second}, set: map[string]string{"Expires": "60"},
			want: "423 Min-Expires:120"},
		{name: "step 6: the contact's expires wins over Expires",
			cfg: registrar.Config{MinExpires: 120 * time.Second}, set: map[string]string{"Contact": "<sip:bob@192.0.2.4>;expires=300", "Expires": "60"},
			want: "200 <sip:bob@192.0.2.4>;expires=300"},
		{name: "step 6: expires=0 is never too brief",
			cfg: registrar.Config{MinExpires: 120 * time.Second}, set: map[string]string{"Expires": "0"}, want: "200"},
		{name: "step 6: default interval without any expires",
			set: map[string]string{"Expires": ""}, want: "200 <sip:bob@192.0.2.4>;expires=3600"},
		{name: "step 6: malformed Contact is 400",
			set: map[string]string{"raw": "Contact: <sip:bob@192.0.2.4"}, want: "400"},
		{name: "step 6: q kept, sorted first",
			set:  map[string]string{"Contact": "<sip:a@192.0.2.4>;q=0.1, <sip:b@192.0.2.4>;q=0.9"},
			want: "200 <sip:b@192.0.2.4>;q=0.9;expires=7200, <sip:a@192.0.2.4>;q=0.1;expires=7200"},
		{name: "step 7: too many bindings is 403",
			cfg: registrar.Config{MaxBindings: 1}, set: map[string]string{"Contact": "<sip:a@192.0.2.4>, <sip:b@192.0.2.4>"},
			want: "403"},
		{name: "step 8: Path echoed when the client supports path (RFC 3327 §5.3)",
			add:  []string{"Path: <sip:P1.example.com;lr>", "Supported: path"},
			want: "200 <sip:bob@192.0.2.4>;expires=7200 Path:<sip:P1.example.com;lr>"},
		{name: "step 8: Path stored but not echoed without Supported: path",
			add: []string{"Path: <sip:P1.example.com;lr>"}, want: "200 <sip:bob@192.0.2.4>;expires=7200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memory(t, tc.cfg)
			resp := answer(t, m, 0, register(t, tc.set, tc.add...))
			got := strings.ReplaceAll(line(resp), ", ", ",")
			if want := strings.ReplaceAll(tc.want, ", ", ","); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// authorize answers the challenge of resp for req with user's password.
func authorize(t testing.TB, req, resp *message.Message, user, password string, nc uint32) *message.Message {
	t.Helper()
	ch, ok, err := message.First[header.WWWAuthenticate](resp)
	if !ok || err != nil {
		t.Fatalf("no challenge in %s", resp)
	}
	c, err := digest.Authorize(ch.Challenge, digest.Credentials{Username: user, Password: password}, "REGISTER", req.RequestURI().String(), nil, "0a4f113b", nc)
	if err != nil {
		t.Fatal(err)
	}
	req = req.Clone()
	req.Del("Authorization")
	if err := message.Add(req, header.Authorization{Credentials: c}); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestAuthentication covers steps 3 and 4: challenge, verification, stale
// nonces, unknown users and authorisation of the To address.
func TestAuthentication(t *testing.T) {
	tests := []struct {
		name           string
		user, password string
		to             string
		authorize      func(user string, aor uri.URI) bool
		later          time.Duration // between challenge and answer
		want           string
	}{
		{name: "right password (RFC 3261 §22.4)", user: "bob", password: "zanzibar", want: "200 <sip:bob@192.0.2.4>;expires=7200 info"},
		{name: "wrong password is challenged again", user: "bob", password: "x", want: "401 challenge"},
		{name: "unknown user is challenged again", user: "carol", password: "x", want: "401 challenge"},
		{name: "stale nonce: stale=true (RFC 7616 §3.3)", user: "bob", password: "zanzibar", later: 10 * time.Minute, want: "401 challenge stale"},
		{name: "step 4: bob may not register alice", user: "bob", password: "zanzibar", to: "<sip:alice@biloxi.example.com>", want: "403"},
		{name: "step 4: a hook allows third-party registration", user: "bob", password: "zanzibar", to: "<sip:alice@biloxi.example.com>",
			authorize: func(user string, aor uri.URI) bool { return user == "bob" }, want: "200 <sip:bob@192.0.2.4>;expires=7200 info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memory(t, registrar.Config{Auth: authServer(), Authorize: tc.authorize})
			set := map[string]string{}
			if tc.to != "" {
				set["To"] = tc.to
			}
			req := register(t, set)
			first := answer(t, m, 0, req)
			if got := line(first); got != "401 challenge" {
				t.Fatalf("without credentials: %s", got)
			}
			now := effects.Time(0).Add(tc.later)
			req = authorize(t, req, first, tc.user, tc.password, 1)
			req.Set("CSeq", "1827 REGISTER")
			if got := line(answer(t, m, now, req)); got != tc.want+" auth" && got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestChallengePerAlgorithm: the 401 carries one WWW-Authenticate field per
// algorithm the digest.Server offers (RFC 8760 §2.3, RFC 3261 §7.3.1),
// each of which the registrar accepts an answer to; by default MD5 alone.
func TestChallengePerAlgorithm(t *testing.T) {
	tests := []struct {
		name string
		algs []digest.Algorithm
		want []string
	}{
		{"nil: MD5 alone", nil, []string{"MD5"}},
		{"SHA-256 and MD5, strongest first", []digest.Algorithm{digest.MD5, digest.SHA256}, []string{"SHA-256", "MD5"}},
		{"three", []digest.Algorithm{digest.SHA512_256, digest.MD5, digest.SHA256}, []string{"SHA-512-256", "SHA-256", "MD5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, alg := range tc.want {
				auth := &digest.Server{Realm: realm, Secret: []byte("0123456789abcdef0123"), Algorithms: tc.algs}
				m := memory(t, registrar.Config{Auth: auth})
				req := register(t, nil)
				resp := answer(t, m, 0, req)
				chs, err := message.All[header.WWWAuthenticate](resp)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ch := range chs {
					got = append(got, ch.Algorithm())
				}
				if strings.Join(got, " ") != strings.Join(tc.want, " ") || len(resp.Values("WWW-Authenticate")) != len(tc.want) {
					t.Fatalf("challenges %v (%d fields), want %v", got, len(resp.Values("WWW-Authenticate")), tc.want)
				}
				// Any of them may be answered.
				c, err := digest.Authorize(chs[i].Challenge, digest.Credentials{Username: "bob", Password: "zanzibar"}, "REGISTER", req.RequestURI().String(), nil, "0a4f113b", 1)
				if err != nil {
					t.Fatal(err)
				}
				req = req.Clone()
				if err := message.Add(req, header.Authorization{Credentials: c}); err != nil {
					t.Fatal(err)
				}
				req.Set("CSeq", "1827 REGISTER")
				if got := answer(t, m, 0, req).StatusCode(); got != 200 {
					t.Errorf("answered with %s: %d", alg, got)
				}
			}
		})
	}
}

// TestOutOfOrder: RFC 3261 §10.3 step 7: a REGISTER whose CSeq is not
// higher than the one that set a binding, in the same Call-ID, fails (500)
// and changes nothing; another Call-ID replaces the binding.
func TestOutOfOrder(t *testing.T) {
	m := memory(t, registrar.Config{})
	aor := mustURI("sip:bob@biloxi.example.com")
	steps := []struct {
		callID, cseq, expires string
		want                  string
	}{
		{"a", "5", "7200", "200 <sip:bob@192.0.2.4>;expires=7200"},
		{"a", "5", "0", "500"}, // replayed
		{"a", "4", "0", "500"}, // late
		{"a", "6", "100", "200 <sip:bob@192.0.2.4>;expires=100"},
		{"b", "1", "200", "200 <sip:bob@192.0.2.4>;expires=200"}, // rebooted client
		{"a", "7", "0", "200"},
	}
	for i, s := range steps {
		req := register(t, map[string]string{"Call-ID": s.callID, "CSeq": s.cseq + " REGISTER", "Expires": s.expires})
		resp := answer(t, m, 0, req)
		if got := line(resp); got != s.want {
			t.Errorf("step %d: got %s, want %s", i, got, s.want)
		}
		if s.want == "500" && !strings.Contains(resp.Reason(), "out of order") {
			t.Errorf("step %d: reason %q", i, resp.Reason())
		}
	}
	if bs := m.Lookup(0, aor); len(bs) != 0 {
		t.Errorf("left %+v", bs)
	}
}

// TestStoreFull: a full location store answers 503 with Retry-After.
func TestStoreFull(t *testing.T) {
	m := memory(t, registrar.Config{})
	m.Store.MaxAORs = 1
	if got := line(answer(t, m, 0, register(t, nil))); !strings.HasPrefix(got, "200") {
		t.Fatal(got)
	}
	resp := answer(t, m, 0, register(t, map[string]string{"To": "<sip:alice@biloxi.example.com>"}))
	if resp.StatusCode() != 503 || !resp.Has("Retry-After") || !strings.Contains(resp.Reason(), "full") {
		t.Errorf("got %s", resp.StartLine())
	}
}

// TestErrors: calls out of turn fail with errors the owner can match.
func TestErrors(t *testing.T) {
	m := memory(t, registrar.Config{})
	r := m.Registrar
	if _, err := r.Handle(0, 1, nil, bobPeer, nil); !errors.Is(err, registrar.ErrNotRegister) {
		t.Errorf("nil request: %v", err)
	}
	req := register(t, nil)
	out, err := r.Handle(0, 1, req, bobPeer, nil)
	if err != nil || len(out) != 1 || out[0].Event.Kind != effects.RegistrarLoad {
		t.Fatalf("%v %+v", err, out)
	}
	if _, err := r.Handle(0, 1, req, bobPeer, nil); !errors.Is(err, registrar.ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := r.Stored(0, 1, nil, nil); !errors.Is(err, registrar.ErrUnexpected) {
		t.Errorf("early Stored: %v", err)
	}
	if _, err := r.Bindings(0, 2, nil, nil, nil); !errors.Is(err, registrar.ErrNoPending) {
		t.Errorf("unknown handle: %v", err)
	}
	// A store that cannot be read is unavailable, not broken: 503 with
	// Retry-After (RFC 3261 §21.5.4), nothing changed.
	out, _ = r.Bindings(0, 1, nil, errors.New("db down"), nil)
	if len(out) != 1 || out[0].Event.Code != 503 || !out[0].Event.Msg.Has("Retry-After") {
		t.Errorf("load error: %+v", out)
	}
	if _, err := registrar.New(registrar.Config{}); !errors.Is(err, registrar.ErrConfig) {
		t.Errorf("no Gen: %v", err)
	}
}

// countingStore is a shared store that counts what reaches it.
type countingStore struct {
	store           location.Store
	lookups, writes int
}

func (c *countingStore) Lookup(now effects.Time, aor uri.URI) []location.Binding {
	c.lookups++
	return c.store.Lookup(now, aor)
}

func (c *countingStore) Apply(now effects.Time, aor uri.URI, u location.Update) ([]location.Binding, error) {
	c.writes++
	return c.store.Apply(now, aor, u)
}

// A Memory over a shared store (NewShared) reads and writes the bindings
// there, not in a Store of its own; two registrars sharing it see each
// other's bindings.
func TestShared(t *testing.T) {
	shared := &countingStore{}
	cfg := registrar.Config{Domains: []string{"biloxi.example.com"}, Gen: ident.Seeded(3)}
	a, err := registrar.NewShared(cfg, shared, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := registrar.NewShared(cfg, shared, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp := answer(t, a, 0, register(t, nil)); resp.StatusCode() != 200 {
		t.Fatalf("REGISTER: %s", resp.StartLine())
	}
	if shared.writes != 1 || shared.lookups == 0 {
		t.Errorf("shared store: %d lookups, %d writes", shared.lookups, shared.writes)
	}
	if got := b.Lookup(0, mustURI("sip:bob@biloxi.example.com")); len(got) != 1 {
		t.Errorf("the other registrar sees %d bindings", len(got))
	}
	if _, err := registrar.NewShared(cfg, nil, nil); err == nil {
		t.Error("NewShared without a store")
	}
}

// TestOwnPorts: RFC 3261 §10.3 step 5 makes the To URI, canonical, the
// address of record, and §19.1.4 makes a URI with a port differ from one
// without; but on a served domain the server's own port (Config.Ports,
// else the scheme's default) names the domain itself. Such an AOR is
// stored without the port, and Memory.Lookup finds it by either form;
// any other port stays a distinct AOR.
func TestOwnPorts(t *testing.T) {
	const d = realm
	tests := []struct {
		name       string
		ports      []uint16
		registered string // To
		lookup     string // Memory.Lookup's URI
		aor        string // the canonical AOR stored
		found      bool
	}{
		{"registered bare, looked up on 5060 (default port)", nil, "sip:bob@" + d, "sip:bob@" + d + ":5060", "sip:bob@" + d, true},
		{"registered on 5060, looked up bare", nil, "sip:bob@" + d + ":5060", "sip:bob@" + d, "sip:bob@" + d, true},
		{"sips: 5061 is the default", nil, "sips:bob@" + d + ":5061", "sips:bob@" + d, "sips:bob@" + d, true},
		{"sip on 5061 is another AOR by default", nil, "sip:bob@" + d + ":5061", "sip:bob@" + d, "sip:bob@" + d + ":5061", false},
		{"another port stays distinct", nil, "sip:bob@" + d + ":5080", "sip:bob@" + d, "sip:bob@" + d + ":5080", false},
		{"... and is found on itself", nil, "sip:bob@" + d + ":5080", "sip:bob@" + d + ":5080", "sip:bob@" + d + ":5080", true},
		{"configured ports replace the default", []uint16{5070, 5072}, "sip:bob@" + d + ":5072", "sip:bob@" + d + ":5070", "sip:bob@" + d, true},
		{"with configured ports 5060 is another port", []uint16{5070}, "sip:bob@" + d + ":5060", "sip:bob@" + d, "sip:bob@" + d + ":5060", false},
		{"host case does not matter", nil, "sip:bob@BILOXI.example.com:5060", "sip:bob@biloxi.EXAMPLE.com", "sip:bob@" + d, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memory(t, registrar.Config{Ports: tc.ports})
			to := mustURI(tc.registered)
			resp := answer(t, m, 0, register(t, map[string]string{"To": "<" + tc.registered + ">", "From": "<" + tc.registered + ">;tag=1"}))
			if resp.StatusCode() != 200 {
				t.Fatalf("REGISTER for %s: %s", tc.registered, line(resp))
			}
			aor, err := m.Registrar.AOR(to)
			if err != nil || aor.String() != tc.aor {
				t.Errorf("AOR(%s) = %s, %v; want %s", tc.registered, aor.String(), err, tc.aor)
			}
			if got := m.Store.Lookup(0, mustURI(tc.aor)); len(got) != 1 {
				t.Errorf("stored under %s: %d bindings", tc.aor, len(got))
			}
			if got := m.Lookup(0, mustURI(tc.lookup)); (len(got) > 0) != tc.found {
				t.Errorf("Lookup(%s) after registering %s: %d bindings, want found %v", tc.lookup, tc.registered, len(got), tc.found)
			}
		})
	}
}

// TestStoreFailures: how a failed load, store or credentials look-up is
// answered (RFC 3261 §10.3 step 7 and §21.5.4): the merge rules' refusals
// as before, unreadable stored bindings 500, and a store or credentials
// database down or too slow 503 with Retry-After, so that the client
// tries again rather than giving up or taking the failure for a wrong
// password.
func TestStoreFailures(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name            string
		loadErr, putErr error
		credErr         bool
		want            int
		retryAfter      bool
	}{
		{name: "load: store down", loadErr: down, want: 503, retryAfter: true},
		{name: "load: unreadable", loadErr: fmt.Errorf("x: %w", location.ErrEncoding), want: 500},
		{name: "store: down", putErr: down, want: 503, retryAfter: true},
		{name: "store: timeout", putErr: context.DeadlineExceeded, want: 503, retryAfter: true},
		{name: "store: out of order", putErr: location.ErrOutOfOrder, want: 500},
		{name: "store: too many bindings", putErr: location.ErrTooManyBindings, want: 403},
		{name: "store: full", putErr: location.ErrFull, want: 503, retryAfter: true},
		{name: "credentials: database down", credErr: true, want: 503, retryAfter: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := registrar.Config{Domains: []string{"biloxi.example.com"}, Gen: ident.Seeded(1)}
			if tc.credErr {
				cfg.Auth = authServer()
			}
			r, err := registrar.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := register(t, nil)
			out, err := r.Handle(0, 1, req, bobPeer, nil)
			if err != nil || len(out) != 1 {
				t.Fatalf("%v %+v", err, out)
			}
			if tc.credErr {
				// The first REGISTER is challenged; the answer to it asks
				// for the credentials, whose look-up fails.
				req = authorize(t, req, out[0].Event.Msg, "bob", "zanzibar", 1)
				if out, err = r.Handle(0, 2, req, bobPeer, nil); err != nil || out[0].Event.Kind != effects.RegistrarCredentials {
					t.Fatalf("%v %+v", err, out)
				}
				out, err = r.CredentialsFailed(0, 2, down, nil)
			} else {
				out, err = r.Bindings(0, 1, nil, tc.loadErr, nil)
				if err == nil && tc.loadErr == nil {
					if len(out) != 1 || out[0].Event.Kind != effects.RegistrarStore {
						t.Fatalf("%+v", out)
					}
					out, err = r.Stored(0, 1, tc.putErr, nil)
				}
			}
			if err != nil || len(out) != 1 {
				t.Fatalf("%v %+v", err, out)
			}
			resp := out[0].Event.Msg
			if resp.StatusCode() != tc.want || resp.Has("Retry-After") != tc.retryAfter {
				t.Errorf("got %s (Retry-After %v), want %d (Retry-After %v)", resp.StartLine(), resp.Has("Retry-After"), tc.want, tc.retryAfter)
			}
			if r.Len() != 0 {
				t.Errorf("%d REGISTERs left pending", r.Len())
			}
		})
	}
}

// TestStoredBindings: a store that applied the update itself returns the
// bindings after it, which the 200 lists (RFC 3261 §10.3 step 8): another
// registrar's binding written since the load is listed, an expired one
// not.
func TestStoredBindings(t *testing.T) {
	r, err := registrar.New(registrar.Config{Domains: []string{"biloxi.example.com"}, Gen: ident.Seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	const now = effects.Time(1000 * time.Second)
	if _, err := r.Handle(now, 1, register(t, nil), bobPeer, nil); err != nil {
		t.Fatal(err)
	}
	out, err := r.Bindings(now, 1, nil, nil, nil)
	if err != nil || len(out) != 1 || out[0].Event.Kind != effects.RegistrarStore {
		t.Fatalf("%v %+v", err, out)
	}
	p, _ := r.Pending(1)
	ours := p.Update.Contacts[0]
	other := ours
	other.Contact.URI = mustParseURI(t, "sip:bob@198.51.100.9")
	gone := ours
	gone.Contact.URI = mustParseURI(t, "sip:bob@198.51.100.10")
	gone.Expires = now - 1
	out, err = r.StoredBindings(now, 1, []location.Binding{ours, other, gone}, nil, nil)
	if err != nil || len(out) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	resp := out[0].Event.Msg
	contacts, _ := message.All[header.Contact](resp)
	if resp.StatusCode() != 200 || len(contacts) != 2 || contacts[1].URI.Host != "198.51.100.9" {
		t.Errorf("got:\n%s", resp)
	}
}

func mustParseURI(t *testing.T, s string) uri.URI {
	t.Helper()
	u, err := uri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
