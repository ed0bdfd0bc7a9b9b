package message

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

func invite(t *testing.T) (*Message, []byte) {
	t.Helper()
	data := readFixture(t, "../testdata/bench/invite.sip")
	m, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, data
}

func headLines(s string) []string {
	head, _, _ := strings.Cut(s, "\r\n\r\n")
	return strings.Split(head, "\r\n")
}

// RFC 3261 §16.6: a proxy adds a Via and a Record-Route, decrements
// Max-Forwards and may rewrite the Request-URI; nothing else changes.
func TestProxyEditsKeepOtherBytes(t *testing.T) {
	m, data := invite(t)
	before := headLines(string(data))
	if err := m.PrependVia(header.Via{Transport: "UDP", Host: "proxy.example.org", Port: 5070, Params: ";branch=z9hG4bKp1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := m.DecrementMaxForwards(); err != nil || n != 68 {
		t.Fatalf("Max-Forwards %d %v", n, err)
	}
	if err := m.PrependRecordRoute(header.RecordRoute{URI: mustURI(t, "sip:proxy.example.org;lr")}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetRequestURI(mustURI(t, "sip:bob@192.0.2.4:5062")); err != nil {
		t.Fatal(err)
	}
	out := m.String()
	after := headLines(out)
	want := []string{
		"INVITE sip:bob@192.0.2.4:5062 SIP/2.0",
		"Via: SIP/2.0/UDP proxy.example.org:5070;branch=z9hG4bKp1",
		before[1], before[2],
		"Max-Forwards: 68",
		"Record-Route: <sip:proxy.example.org;lr>",
	}
	want = append(want, before[4:]...)
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("rendered header section (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(out, string(data[strings.Index(string(data), "\r\n\r\n"):])) {
		t.Errorf("body changed")
	}
	// The typed view follows the edits.
	eq(t, "top branch", m.Branch(), "z9hG4bKp1")
	mf, _ := m.MaxForwards()
	eq(t, "Max-Forwards", mf, 68)
	eq(t, "R-URI", m.RequestURI().Host, "192.0.2.4")
	re, err := Parse([]byte(out), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "re-parsed branch", re.Branch(), "z9hG4bKp1")
	eq(t, "Via count", len(re.Values("Via")), 3)

	// RFC 3261 §16.7 step 3: the proxy removes its Via from the response.
	top, err := re.RemoveTopVia()
	if err != nil || top.Branch() != "z9hG4bKp1" {
		t.Fatalf("RemoveTopVia %v %v", top, err)
	}
	eq(t, "branch after removal", re.Branch(), "z9hG4bK776asdhds")
}

// RFC 3261 §7.3.1: values on one line and on several lines are the same.
func TestListValuesAcrossLines(t *testing.T) {
	one := "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2\r\nRoute: <sip:r1;lr>, <sip:r2;lr>\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
	two := "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nv: SIP/2.0/TCP b;branch=z9hG4bK2\r\nRoute: <sip:r1;lr>\r\nRoute: <sip:r2;lr>\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
	m1, err := ParseString(one, nil)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseString(two, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Via", "Route"} {
		if diff := cmp.Diff(m1.Values(name), m2.Values(name)); diff != "" {
			t.Errorf("%s values differ:\n%s", name, diff)
		}
	}
	r1, _ := All[header.Route](m1)
	r2, _ := All[header.Route](m2)
	if diff := cmp.Diff(r1, r2); diff != "" || len(r1) != 2 {
		t.Errorf("typed routes differ:\n%s", diff)
	}
	// Removing the top Via from a shared line keeps the rest as written.
	if _, err := m1.RemoveTopVia(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m1.String(), "\r\nVia: SIP/2.0/TCP b;branch=z9hG4bK2\r\n") {
		t.Errorf("rest of the Via line: %q", m1.String())
	}
	r, err := m1.RemoveTopRoute()
	if err != nil || r.URI.Host != "r1" {
		t.Fatalf("RemoveTopRoute %v %v", r, err)
	}
	eq(t, "routes left", len(m1.Values("Route")), 1)
}

// Safe construction: no name or value can smuggle in a line or break the
// grammar.
func TestEditsRejectInjection(t *testing.T) {
	m, _ := invite(t)
	orig := m.String()
	bad := []struct {
		name, value string
	}{
		{"X-Test", "a\r\nInjected: yes"},
		{"X-Test", "a\nInjected: yes"},
		{"X-Test", "a\rInjected: yes"},
		{"X-Test", "nul\x00byte"},
		{"Bad Name", "x"},
		{"Bad:Name", "x"},
		{"", "x"},
		{"X-Test\r\nInjected", "x"},
		{"Via", "not a via"},
		{"Contact", "<sip:a@b"},
		{"CSeq", "1"},
		{"Max-Forwards", "256"},
		{"Content-Length", "5"},
		{"Route", "<sip:a@b>, "},
	}
	for _, tc := range bad {
		for _, op := range []func(string, string) error{m.Add, m.Set, m.Prepend} {
			if err := op(tc.name, tc.value); !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: %q accepted (%v)", tc.name, tc.value, err)
			}
		}
	}
	// Typed values are checked the same way.
	if err := m.PrependVia(header.Via{Transport: "UDP", Host: "h\r\nX: y"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Via host with CRLF: %v", err)
	}
	if err := Set(m, header.From{Display: "evil\r\nX: y", URI: mustURI(t, "sip:a@b")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("display name with CRLF: %v", err)
	}
	if err := Set(m, header.From{URI: uri.URI{Scheme: uri.SIP, Host: "a b"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("URI host with a space: %v", err)
	}
	if err := Set(m, header.Subject("x\r\nY: z")); !errors.Is(err, ErrInvalid) {
		t.Errorf("Subject with CRLF: %v", err)
	}
	if err := m.SetStatus(200, "OK"); !errors.Is(err, ErrWrongKind) {
		t.Errorf("SetStatus on a request: %v", err)
	}
	if err := m.SetRequestURI(uri.URI{Scheme: uri.SIP, Host: "h\r\n"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("R-URI with CRLF: %v", err)
	}
	if m.String() != orig {
		t.Errorf("a rejected edit changed the message")
	}
	// A display name with a quote or backslash is escaped, not rejected.
	if err := Set(m, header.From{Display: `a "b" \c`, URI: mustURI(t, "sip:a@b"), Params: ";tag=1"}); err != nil {
		t.Fatal(err)
	}
	if got := m.From().Display; got != `a "b" \c` {
		t.Errorf("display %q", got)
	}
}

func TestRawAndTypedEdits(t *testing.T) {
	m, _ := invite(t)
	if err := m.Add("X-Custom", "one"); err != nil {
		t.Fatal(err)
	}
	if err := m.Add("x-custom", "two"); err != nil {
		t.Fatal(err)
	}
	eq(t, "custom values", strings.Join(m.Values("X-CUSTOM"), ","), "one,two")
	eq(t, "deleted", m.Del("X-Custom"), 2)
	eq(t, "gone", m.Has("X-Custom"), false)

	// Typed access is cached, and an edit refreshes it.
	c, err := All[header.Contact](m)
	if err != nil || len(c) != 1 {
		t.Fatal(c, err)
	}
	eq(t, "instance", c[0].Instance(), "urn:uuid:00000000-0000-1000-8000-000A95A0E128")
	if err := Add(m, header.Contact{URI: mustURI(t, "sip:alice@192.0.2.9"), Params: ";expires=60"}); err != nil {
		t.Fatal(err)
	}
	c, _ = All[header.Contact](m)
	eq(t, "contacts after Add", len(c), 2)
	exp, _ := c[1].Expires()
	eq(t, "expires", exp, uint32(60))

	if err := Set(m, header.Expires(3600)); err != nil {
		t.Fatal(err)
	}
	e, ok, err := First[header.Expires](m)
	if err != nil || !ok || e != 3600 {
		t.Fatalf("Expires %v %v %v", e, ok, err)
	}
	if err := Add(m, header.Expires(10)); !errors.Is(err, ErrInvalid) {
		t.Errorf("second Expires accepted: %v", err)
	}
	if err := Set(m, header.Supported("100rel"), header.Supported("timer")); err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get("Supported")
	eq(t, "token list on one line", v, "100rel, timer")
	if err := Set[header.Supported](m); err != nil || m.Has("Supported") {
		t.Errorf("Set with no values should remove: %v", err)
	}

	// The core typed view follows raw edits too.
	if err := m.Set("CSeq", "7 INVITE"); err != nil {
		t.Fatal(err)
	}
	eq(t, "CSeq", m.CSeq().Seq, uint32(7))
	if err := m.Set("From", `"New" <sip:new@example.com>;tag=99`); err != nil {
		t.Fatal(err)
	}
	eq(t, "From tag", m.FromTag(), "99")
	eq(t, "From display", m.From().Display, "New")

	if err := m.SetBody("text/plain", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	eq(t, "Content-Length", m.ContentLength(), 2)
	re, err := Parse(m.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "body", re.Body(), "hi")
	ct, _ := re.Get("Content-Type")
	eq(t, "Content-Type", ct, "text/plain")
	if err := m.SetBody("", nil); err != nil || m.Has("Content-Type") || m.ContentLength() != 0 {
		t.Errorf("empty body: %v", err)
	}
}

// RFC 3261 §7.3.1 excepts WWW-Authenticate, Authorization,
// Proxy-Authenticate and Proxy-Authorization from its rule: several fields
// of them may be present, but each holds one value and is never combined
// into a comma list (RFC 7235 §4.1; RFC 8760 §2.3: one challenge per
// algorithm). The typed API adds, sets and prepends several, one per line,
// and All reads them back; a single-valued header still refuses a second.
func TestRepeatableAuthHeaders(t *testing.T) {
	ch := func(alg string) header.Challenge {
		return header.Challenge{Scheme: header.SchemeDigest, Params: header.AuthParams(`,realm="r",nonce="n",qop="auth",algorithm=` + alg)}
	}
	cr := func(realm string) header.Credentials {
		return header.Credentials{Scheme: header.SchemeDigest, Params: header.AuthParams(`,username="u",realm="` + realm + `",nonce="n",uri="sip:r",response="00"`)}
	}
	cases := []struct {
		name  string
		edit  func(m *Message) error
		field string
		want  []string // the field lines, in order
		read  func(m *Message) ([]string, error)
	}{
		{"Add: two challenges in one call", func(m *Message) error {
			return Add(m, header.WWWAuthenticate{Challenge: ch("SHA-256")}, header.WWWAuthenticate{Challenge: ch("MD5")})
		}, "WWW-Authenticate", []string{
			`Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256`,
			`Digest realm="r", nonce="n", qop="auth", algorithm=MD5`,
		}, func(m *Message) ([]string, error) { return strs(All[header.WWWAuthenticate](m)) }},
		{"Add: one at a time, after the first", func(m *Message) error {
			if err := Add(m, header.ProxyAuthenticate{Challenge: ch("SHA-256")}); err != nil {
				return err
			}
			return Add(m, header.ProxyAuthenticate{Challenge: ch("MD5")})
		}, "Proxy-Authenticate", []string{
			`Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256`,
			`Digest realm="r", nonce="n", qop="auth", algorithm=MD5`,
		}, func(m *Message) ([]string, error) { return strs(All[header.ProxyAuthenticate](m)) }},
		{"Set: credentials for two realms (RFC 3261 §22.3)", func(m *Message) error {
			if err := Set(m, header.Authorization{Credentials: cr("old")}); err != nil {
				return err
			}
			return Set(m, header.Authorization{Credentials: cr("a")}, header.Authorization{Credentials: cr("b")})
		}, "Authorization", []string{
			`Digest username="u", realm="a", nonce="n", uri="sip:r", response="00"`,
			`Digest username="u", realm="b", nonce="n", uri="sip:r", response="00"`,
		}, func(m *Message) ([]string, error) { return strs(All[header.Authorization](m)) }},
		{"Prepend before the first", func(m *Message) error {
			if err := Add(m, header.ProxyAuthorization{Credentials: cr("b")}); err != nil {
				return err
			}
			return Prepend(m, header.ProxyAuthorization{Credentials: cr("a")})
		}, "Proxy-Authorization", []string{
			`Digest username="u", realm="a", nonce="n", uri="sip:r", response="00"`,
			`Digest username="u", realm="b", nonce="n", uri="sip:r", response="00"`,
		}, func(m *Message) ([]string, error) { return strs(All[header.ProxyAuthorization](m)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := invite(t)
			if err := tc.edit(m); err != nil {
				t.Fatal(err)
			}
			// Each value on its own line, as written, and so after a
			// round trip through the bytes.
			re, err := Parse(m.Bytes(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range headLines(re.String()) {
				if name, v, ok := strings.Cut(l, ": "); ok && name == tc.field {
					lines = append(lines, v)
				}
			}
			if diff := cmp.Diff(tc.want, lines); diff != "" {
				t.Errorf("%s lines (-want +got):\n%s", tc.field, diff)
			}
			for _, msg := range []*Message{m, re} {
				got, err := tc.read(msg)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("All (-want +got):\n%s", diff)
				}
			}
		})
	}
	m, _ := invite(t)
	if err := Add(m, header.Expires(1), header.Expires(2)); !errors.Is(err, ErrInvalid) {
		t.Errorf("two Expires accepted: %v", err)
	}
	if err := Add(m, header.AuthenticationInfo{Params: `,qop=auth`}, header.AuthenticationInfo{Params: `,qop=auth`}); !errors.Is(err, ErrInvalid) {
		t.Errorf("two Authentication-Info accepted: %v", err)
	}
}

// strs renders typed values with their String method.
func strs[T interface{ String() string }](vals []T, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.String()
	}
	return out, nil
}

func TestCloneIsIndependent(t *testing.T) {
	m, data := invite(t)
	c := m.Clone()
	if err := c.Add("X-Only-In-Clone", "1"); err != nil {
		t.Fatal(err)
	}
	c.DecrementMaxForwards()
	if m.String() != string(data) {
		t.Errorf("editing the clone changed the original")
	}
	if !strings.Contains(c.String(), "X-Only-In-Clone") {
		t.Errorf("clone lost its edit")
	}
}

func TestParseIntoReuse(t *testing.T) {
	_, data := invite(t)
	other := []byte("OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKo\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: other\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	var m Message
	if err := ParseInto(&m, data, nil); err != nil {
		t.Fatal(err)
	}
	kept := m.Clone()
	if err := ParseInto(&m, other, nil); err != nil {
		t.Fatal(err)
	}
	eq(t, "reused message", m.CallID(), "other")
	eq(t, "clone survives reuse", kept.CallID(), "a84b4c76e66710@pc33.atlanta.example.com")
	eq(t, "clone bytes", kept.String(), string(data))
	// A failed parse into a reused message leaves no stale state behind.
	if err := ParseInto(&m, []byte("garbage\r\n\r\n"), nil); err == nil {
		t.Fatal("garbage parsed")
	}
	eq(t, "no stale Call-ID", m.CallID(), "")
}

// RFC 3261 §8.1.1: a request built from scratch has every mandatory header.
func TestNewRequest(t *testing.T) {
	gen := ident.Seeded(7)
	contact := header.Contact{URI: mustURI(t, "sip:alice@192.0.2.1:5060")}
	m, err := NewRequest("INVITE", mustURI(t, "sip:bob@biloxi.example.com"), RequestOptions{
		From:        header.From{Display: "Alice", URI: mustURI(t, "sip:alice@atlanta.example.com")},
		Via:         header.Via{Host: "192.0.2.1", Port: 5060},
		Contact:     &contact,
		Routes:      []header.Route{{URI: mustURI(t, "sip:proxy.example.com;lr")}},
		Supported:   []string{"100rel", "timer"},
		ContentType: "application/sdp",
		Body:        []byte("v=0\r\n"),
		Gen:         gen,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Via", "Max-Forwards", "Route", "To", "From", "Call-ID", "CSeq", "Contact", "Supported", "Content-Type", "Content-Length"} {
		if !m.Has(name) {
			t.Errorf("missing %s", name)
		}
	}
	if !m.TopVia().HasCookie() || len(m.Branch()) < 20 {
		t.Errorf("branch %q", m.Branch())
	}
	eq(t, "transport default", m.TopVia().Transport, "UDP")
	eq(t, "From tag present", m.FromTag() != "", true)
	eq(t, "no To tag", m.ToTag(), "")
	eq(t, "To defaults to the R-URI", m.To().URI.String(), "sip:bob@biloxi.example.com")
	eq(t, "CSeq", m.CSeq(), header.CSeq{Seq: 1, Method: "INVITE"})
	mf, _ := m.MaxForwards()
	eq(t, "Max-Forwards", mf, 70)
	eq(t, "body", m.Body(), "v=0\r\n")
	if err := m.Validate(); err != nil {
		t.Errorf("built request does not validate: %v", err)
	}
	// Same generator seed, same request: builders are deterministic.
	m2, _ := NewRequest("INVITE", mustURI(t, "sip:bob@biloxi.example.com"), RequestOptions{
		From: header.From{Display: "Alice", URI: mustURI(t, "sip:alice@atlanta.example.com")}, Via: header.Via{Host: "192.0.2.1", Port: 5060},
		Contact: &contact, Routes: []header.Route{{URI: mustURI(t, "sip:proxy.example.com;lr")}}, Supported: []string{"100rel", "timer"},
		ContentType: "application/sdp", Body: []byte("v=0\r\n"), Gen: ident.Seeded(7)})
	eq(t, "deterministic", m2.String(), m.String())

	errs := []struct {
		name string
		o    RequestOptions
		want error
	}{
		{"INVITE without Contact (§8.1.1.8)", RequestOptions{From: header.From{URI: mustURI(t, "sip:a@b")}, Via: header.Via{Host: "h"}, Gen: gen}, ErrInvalid},
		{"no generator", RequestOptions{From: header.From{URI: mustURI(t, "sip:a@b")}, Via: header.Via{Host: "h"}, Contact: &contact}, ErrNoGenerator},
		{"no Via host", RequestOptions{From: header.From{URI: mustURI(t, "sip:a@b")}, Contact: &contact, Gen: gen}, ErrInvalid},
		{"display name with CRLF", RequestOptions{From: header.From{Display: "x\r\ny", URI: mustURI(t, "sip:a@b")}, Via: header.Via{Host: "h"}, Contact: &contact, Gen: gen}, ErrInvalid},
		{"bad Supported token", RequestOptions{From: header.From{URI: mustURI(t, "sip:a@b")}, Via: header.Via{Host: "h"}, Contact: &contact, Gen: gen, Supported: []string{"a b"}}, ErrInvalid},
		{"body type with CRLF", RequestOptions{From: header.From{URI: mustURI(t, "sip:a@b")}, Via: header.Via{Host: "h"}, Contact: &contact, Gen: gen, ContentType: "text/plain\r\nX: y", Body: []byte("x")}, ErrInvalid},
	}
	for _, tc := range errs {
		if _, err := NewRequest("INVITE", mustURI(t, "sip:b@h"), tc.o); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := NewRequest("IN VITE", mustURI(t, "sip:b@h"), RequestOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("method with a space: %v", err)
	}
}

// RFC 3261 §8.2.6: a response copies Via, From, Call-ID and CSeq, and To
// with a tag.
func TestNewResponse(t *testing.T) {
	req, data := invite(t)
	resp, err := NewResponse(req, 180, "", ResponseOptions{ToTag: "as83kd9bs"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "start line", resp.StartLine(), "SIP/2.0 180 Ringing")
	reqLines := headLines(string(data))
	respLines := headLines(resp.String())
	// Via, From, Call-ID and CSeq lines are copied byte for byte, in order.
	var copied []string
	for _, l := range reqLines {
		for _, p := range []string{"Via:", "From:", "Call-ID:", "CSeq:"} {
			if strings.HasPrefix(l, p) {
				copied = append(copied, l)
			}
		}
	}
	var got []string
	for _, l := range respLines {
		for _, p := range []string{"Via:", "From:", "Call-ID:", "CSeq:"} {
			if strings.HasPrefix(l, p) {
				got = append(got, l)
			}
		}
	}
	if diff := cmp.Diff(copied, got); diff != "" {
		t.Errorf("copied fields (-want +got):\n%s", diff)
	}
	eq(t, "To tag", resp.ToTag(), "as83kd9bs")
	eq(t, "To URI", resp.To().URI.String(), "sip:bob@biloxi.example.com")
	eq(t, "no body", resp.Body(), "")

	// 100 Trying carries no tag, and copies Timestamp with the delay
	// (§8.2.6.1).
	req2, err := ParseString("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nTimestamp: 54\r\nContent-Length: 0\r\n\r\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	trying, err := NewResponse(req2, 100, "", ResponseOptions{Delay: 1500000000})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "100 has no tag", trying.ToTag(), "")
	ts, _ := trying.Get("Timestamp")
	eq(t, "Timestamp with delay", ts, "54 1.500")
	ok200, err := NewResponse(req2, 200, "Fine", ResponseOptions{Gen: ident.Seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "tag from the generator", ok200.ToTag() != "", true)
	eq(t, "reason", ok200.Reason(), "Fine")
	eq(t, "no Timestamp in a 200", ok200.Has("Timestamp"), false)
	if _, err := NewResponse(req2, 200, "", ResponseOptions{}); !errors.Is(err, ErrNoGenerator) {
		t.Errorf("no tag and no generator: %v", err)
	}
	if _, err := NewResponse(req2, 700, "", ResponseOptions{ToTag: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("code 700: %v", err)
	}
	if _, err := NewResponse(req2, 200, "O\r\nK", ResponseOptions{ToTag: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("reason with CRLF: %v", err)
	}
	if err := ok200.SetStatus(486, ""); err != nil || ok200.StartLine() != "SIP/2.0 486 Busy Here" {
		t.Errorf("SetStatus: %v %q", err, ok200.StartLine())
	}
}

func TestErrorResponseDrops(t *testing.T) {
	tests := []struct {
		name string
		msg  string
	}{
		{"ACK is never answered", "ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 ACK\r\nCSeq: 2 ACK\r\n\r\n"},
		{"no Via", "OPTIONS sip:b@h SIP/2.0\r\nCSeq: 1 OPTIONS\r\nCSeq: 2 OPTIONS\r\n\r\n"},
		{"unusable Via", "OPTIONS sip:b@h SIP/2.0\r\nVia: garbage\r\nCSeq: 1 OPTIONS\r\n\r\n"},
		{"no CSeq", "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"},
		{"a response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nCSeq: x\r\n\r\n"},
	}
	for _, tc := range tests {
		m, err := ParseString(tc.msg, nil)
		if err == nil {
			t.Fatalf("%s: parsed", tc.name)
		}
		if resp, ok := ErrorResponse(m, err, ident.Seeded(1)); ok {
			t.Errorf("%s: answered %q", tc.name, resp.StartLine())
		}
	}
	// A limit exceeded is answered 513 when the request can be addressed.
	big := "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nX: " + strings.Repeat("y", 100) + "\r\n\r\n"
	m, err := ParseString(big, &parser.Limits{MaxHeaderLine: 50})
	if !errors.Is(err, parser.ErrLimit) {
		t.Fatalf("limit: %v", err)
	}
	resp, ok := ErrorResponse(m, err, ident.Seeded(1))
	if !ok || resp.StatusCode() != 513 || !strings.Contains(resp.Reason(), "MaxHeaderLine") {
		t.Errorf("limit response %v %v", ok, resp)
	}
}

// HasToken finds an element of a list header in any of its fields, by
// exact comparison, in long and compact forms (RFC 3261 §7.3.1, §7.3.3).
func TestHasToken(t *testing.T) {
	m, err := ParseString("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"+
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"+
		"Allow: INVITE, ACK ,CANCEL\r\nAllow: UPDATE\r\nk: 100rel,timer\r\nRequire: \r\n\r\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token string
		want        bool
	}{
		{"Allow", "INVITE", true}, {"Allow", "ACK", true}, {"Allow", "CANCEL", true},
		{"Allow", "UPDATE", true}, {"allow", "UPDATE", true}, {"Allow", "update", false},
		{"Allow", "BYE", false}, {"Supported", "timer", true}, {"k", "100rel", true},
		{"Supported", "100", false}, {"Require", "timer", false}, {"Unsupported", "timer", false},
	} {
		if got := HasToken(m, tc.name, tc.token); got != tc.want {
			t.Errorf("HasToken(%s, %s) = %v", tc.name, tc.token, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { HasToken(m, "Allow", "UPDATE") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
