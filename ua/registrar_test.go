package ua

import (
	"fmt"
	"strings"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// testRegistrar is a tiny pure registrar (RFC 3261 §10.3) for the tests:
// it challenges with package digest's Server when users is set, keeps
// bindings per address of record, answers 423 below minExpires, and
// supports outbound (RFC 5626) when outbound is set. script, when set,
// decides first: a code > 0 answers with it (extra fields added by fill),
// -1 drops the request, 0 goes on as a registrar.
type testRegistrar struct {
	nd         *node
	srv        *digest.Server
	users      map[string]string
	bindings   map[string][]testBinding
	minExpires uint32
	maxExpires uint32
	outbound   bool
	flowTimer  uint32
	script     func(req *message.Message) (code int, fill func(*message.Message))
	requests   []*message.Message
	// gruu makes the registrar assign GRUUs (RFC 5627 §5.2) to contacts
	// with an instance id when the REGISTER says Supported: gruu. Their
	// host is gruuHost, so that the test network, which routes by
	// address, takes requests to them straight to the UA, as the
	// domain's proxy would.
	gruu     bool
	gruuHost string
}

type testBinding struct {
	c  header.Contact
	at effects.Time // when it expires
}

// addRegistrar puts a registrar on the network.
func (n *network) addRegistrar(addr string, tr effects.Transport, users map[string]string) *testRegistrar {
	nd := n.add("registrar", addr, tr, Config{}, 99)
	nd.ua = nil
	r := &testRegistrar{nd: nd, users: users, bindings: map[string][]testBinding{}, maxExpires: 7200}
	if users != nil {
		r.srv = &digest.Server{Realm: "biloxi.example.com", Secret: []byte("0123456789abcdef0123"), Algorithms: []digest.Algorithm{digest.MD5}}
	}
	nd.handle = func(in effects.Input) []effects.Effect { return r.handle(n.now, in) }
	return r
}

func (r *testRegistrar) handle(now effects.Time, in effects.Input) []effects.Effect {
	if in.Kind != effects.Received {
		return nil
	}
	req, err := message.Parse(in.Data, nil)
	if err != nil || !req.IsRequest() || req.Method() != "REGISTER" {
		return nil
	}
	r.requests = append(r.requests, req)
	resp := r.answer(now, req)
	if resp == nil {
		return nil
	}
	return []effects.Effect{{Kind: effects.Send, Msg: resp, To: in.From}}
}

func (r *testRegistrar) respond(req *message.Message, code int) *message.Message {
	resp, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: "reg1"})
	if err != nil {
		panic(err)
	}
	return resp
}

// answer decides the response to a REGISTER.
func (r *testRegistrar) answer(now effects.Time, req *message.Message) *message.Message {
	if r.script != nil {
		code, fill := r.script(req)
		if code < 0 {
			return nil
		}
		if code > 0 {
			resp := r.respond(req, code)
			if fill != nil {
				fill(resp)
			}
			return resp
		}
	}
	if resp := r.authenticate(now, req); resp != nil {
		return resp
	}
	aor := req.To().URI
	aor.Params, aor.Port = "", 0
	key := aor.String()
	contacts, _ := message.All[header.Contact](req)
	expHdr, hasExp, _ := message.First[header.Expires](req)
	if len(contacts) == 1 && contacts[0].Star {
		if !hasExp || expHdr != 0 {
			return r.respond(req, 400)
		}
		delete(r.bindings, key)
		return r.ok(now, req, key)
	}
	for _, c := range contacts {
		e := uint32(3600)
		if hasExp {
			e = uint32(expHdr)
		}
		if v, ok := c.Expires(); ok {
			e = v
		}
		if e != 0 && e < r.minExpires {
			resp := r.respond(req, 423)
			message.Set(resp, header.MinExpires(r.minExpires))
			return resp
		}
		e = min(e, r.maxExpires)
		r.bind(key, c, e, now)
	}
	return r.ok(now, req, key)
}

// authenticate challenges or checks the request; nil lets it through.
func (r *testRegistrar) authenticate(now effects.Time, req *message.Message) *message.Message {
	if r.srv == nil {
		return nil
	}
	stale := false
	creds, _ := message.All[header.Authorization](req)
	for _, c := range creds {
		if c.Realm() != r.srv.Realm {
			continue
		}
		pw, ok := r.users[c.Username()]
		if !ok {
			break
		}
		res, _ := r.srv.Verify(now, c.Credentials, "REGISTER", req.RequestURI().String(), nil, digest.Credentials{Username: c.Username(), Password: pw})
		if res == digest.OK {
			return nil
		}
		stale = res == digest.Stale
	}
	resp := r.respond(req, 401)
	for _, ch := range r.srv.Challenge(now, stale, "") {
		message.Set(resp, header.WWWAuthenticate{Challenge: ch})
	}
	return resp
}

// bind adds, refreshes or (expires 0) removes a binding.
func (r *testRegistrar) bind(key string, c header.Contact, e uint32, now effects.Time) {
	bs := r.bindings[key]
	for i, b := range bs {
		if uri.Equal(b.c.URI, c.URI) || (c.Instance() != "" && b.c.Instance() == c.Instance() && b.c.Params.Has("reg-id") && sameRegID(b.c, c)) {
			bs = append(bs[:i], bs[i+1:]...)
			break
		}
	}
	if e > 0 {
		c.Params = c.Params.Without("expires")
		bs = append(bs, testBinding{c: c, at: now.Add(time.Duration(e) * time.Second)})
	}
	r.bindings[key] = bs
}

func sameRegID(a, b header.Contact) bool {
	x, _ := a.RegID()
	y, _ := b.RegID()
	return x == y
}

// ok answers 200 with the bindings still alive, each with its remaining
// expires.
func (r *testRegistrar) ok(now effects.Time, req *message.Message, key string) *message.Message {
	resp := r.respond(req, 200)
	var vals []header.Contact
	for _, b := range r.bindings[key] {
		if b.at <= now {
			continue
		}
		c := b.c
		c.Params = c.Params.With("expires", fmt.Sprint(int(b.at.Sub(now)/time.Second)))
		if inst := c.Instance(); r.gruu && inst != "" && message.HasToken(req, "Supported", "gruu") {
			c.Params = c.Params.With("pub-gruu", header.Quote("sip:"+req.To().URI.User+"@"+r.gruuHost+";gr="+inst))
			c.Params = c.Params.With("temp-gruu", header.Quote("sip:tgruu.7hs@"+r.gruuHost+";gr"))
		}
		vals = append(vals, c)
	}
	if len(vals) > 0 {
		message.Set(resp, vals...)
	}
	if r.outbound && message.HasToken(req, "Supported", "outbound") {
		resp.Add("Require", "outbound")
		if r.flowTimer > 0 {
			message.Set(resp, header.FlowTimer(r.flowTimer))
		}
	}
	return resp
}

// regLine describes a REGISTER or its response for the wire checks:
// "REGISTER 2 <contact> auth" or "200 <contacts>".
func regLine(m *message.Message) string {
	var b strings.Builder
	if m.IsRequest() {
		fmt.Fprintf(&b, "%s %d", m.Method(), m.CSeq().Seq)
	} else {
		fmt.Fprintf(&b, "%d", m.StatusCode())
	}
	if cs := m.Values("Contact"); len(cs) > 0 {
		b.WriteString(" " + strings.Join(cs, ", "))
	}
	if e, ok := m.Get("Expires"); ok {
		b.WriteString(" Expires:" + e)
	}
	if m.Has("Authorization") {
		b.WriteString(" auth")
	}
	return b.String()
}
