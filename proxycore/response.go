package proxycore

import (
	"fmt"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// response handles a response on a branch (RFC 3261 §16.7): provisionals
// but 100 go upstream at once, and restart Timer C; every 2xx goes upstream
// at once and ends the forking; other finals are kept until every branch
// is done.
func (p *Proxy) response(now effects.Time, b *branch, m *message.Message, out []effects.Effect) []effects.Effect {
	code := m.StatusCode()
	if !forwardable(m) {
		if code < 300 {
			return out // as if lost: the branch goes on as if it had not come
		}
		// A final response that cannot be relayed (no Via left below
		// ours: a UAS answered the INVITE with the Via of our CANCEL, as
		// SIPp's [last_Via:] does; or a broken one) still ends the
		// branch: the client transaction took it and acknowledged it
		// (§17.1.1.3), so no other will come. Its code counts; the
		// response itself is not kept, and the one the client gets is
		// built from the original request (§16.7 step 3, §16.10: 487).
		m = nil
	}
	c := b.ctx
	switch {
	case code < 200:
		b.provisional = true
		if c.invite && code > 100 && !b.cancelled && !b.done {
			out = p.disarm(b, timerC, out)
			out = p.arm(b, timerC, p.cfg.TimerC, out)
		}
		if b.wantCancel || c.cancelled || b.done {
			out = p.cancelBranch(now, b, out)
		}
		if code == 100 || c.final || b.done {
			return out
		}
		return p.upstream(now, c, m, out)
	case code < 300:
		b.sent = nil // no CANCEL after a final response
		out = p.disarm(b, timerC, out)
		first := !c.final
		if first || c.invite {
			c.final, c.code = true, code
			out = p.upstream(now, c, m, out)
		}
		if first && c.invite {
			out = p.cancelAll(now, c, out) // §16.7 step 10
		}
		// The 2xx went upstream (or is not needed): the branch keeps only
		// its code, as finish never runs once a 2xx went.
		out = p.branchDone(now, b, code, nil, out)
		return p.maybeEnd(c, out)
	}
	b.sent = nil
	out = p.disarm(b, timerC, out)
	if code == 503 && len(b.peers) > 0 {
		return p.failed(now, b, 503, out) // RFC 3263 §4.3: the next server
	}
	return p.branchDone(now, b, code, m, out)
}

// upstream forwards a response received on a branch to the client, with
// our Via removed (§16.7 step 3): through the server transaction while it
// lives, else by the next Via as a stateless proxy would (RFC 6026 §7.3).
//
// m is changed in place: a provisional or 2xx response is the proxy's alone
// once the client transaction has passed it up (nothing keeps it).
func (p *Proxy) upstream(now effects.Time, c *rctx, m *message.Message, out []effects.Effect) []effects.Effect {
	fwd := m
	if _, err := fwd.RemoveTopVia(); err != nil {
		return out
	}
	if !c.srvGone {
		var err error
		if out, err = p.respond(now, c.srv, fwd, out); err == nil {
			return out
		}
	}
	return p.pend.sendByVia(fwd, out)
}

// forwardable reports whether a response whose top Via is ours may be
// relayed (RFC 3261 §16.7 step 3, §16.11): a Via must remain below ours,
// for a response with none left was meant for this element, and it must
// parse, for the next element sends the response by it (§18.2.2) and the
// client matches it to its transaction by it (§17.1.3). A response whose
// next Via a downstream element broke is dropped, not relayed broken.
func forwardable(m *message.Message) bool {
	ours := true
	for name, value := range m.Headers() {
		if header.Lookup(name) != header.IDVia {
			continue
		}
		if ours {
			// The top Via, ours, parsed with the message: skip it.
			ours = false
			if _, rest, comma, _ := header.CutList(value); comma && rest != "" {
				value = rest
			} else {
				continue
			}
		}
		var next header.Via
		_, err := next.ParseFirst(value)
		return err == nil
	}
	return false
}

// forwardResponse forwards a response that matches no transaction of ours
// by its Via, if its top Via is ours and it is a 2xx to an INVITE (one
// retransmitted after the client transaction ended, or sent by a branch
// given up) or the answer to a CANCEL forwarded statelessly (§16.10);
// other stray responses are dropped (RFC 6026 §7.3, §8.2).
func (p *Proxy) forwardResponse(m *message.Message, out []effects.Effect) []effects.Effect {
	code, method := m.StatusCode(), m.CSeq().Method
	invite2xx := code >= 200 && code < 300 && method == "INVITE"
	// The answer to a CANCEL forwarded statelessly (§16.10) has no
	// transaction to find either; it goes back by the Via too.
	if !invite2xx && method != "CANCEL" || !p.self.ourVia(m.TopVia()) || !forwardable(m) {
		return out
	}
	fwd := m.Clone()
	if _, err := fwd.RemoveTopVia(); err != nil {
		return out
	}
	return p.pend.sendByVia(fwd, out)
}

// finish sends the best final response once every branch is done (RFC
// 3261 §16.7 step 6): a 6xx if any, else one of the lowest class (401,
// 407, 415, 420 and 484 preferred among 4xx), a 500 for a 503, a 408 when
// no branch answered; for a 401 or 407 every challenge of every branch
// (step 7).
func (p *Proxy) finish(now effects.Time, c *rctx, out []effects.Effect) []effects.Effect {
	best := bestBranch(c.branches)
	switch {
	case best == nil && c.cancelled:
		return p.reply(now, c, 487, out)
	case best == nil:
		return p.reply(now, c, 408, out)
	case best.code == 503:
		return p.reply(now, c, 500, out)
	case best.resp == nil:
		return p.reply(now, c, best.code, out)
	}
	resp := best.resp.Clone()
	if _, err := resp.RemoveTopVia(); err != nil {
		return p.reply(now, c, 500, out)
	}
	if best.code == 401 || best.code == 407 {
		aggregate(resp, best, c.branches)
	}
	return p.sendFinal(now, c, resp, out)
}

// bestBranch chooses the branch whose final response is best.
func bestBranch(bs []*branch) *branch {
	var best *branch
	for _, b := range bs {
		if !b.done || b.code < 300 {
			continue
		}
		if best == nil || better(b.code, best.code) || sameClass(b.code, best.code) && b.resp != nil && best.resp == nil && !better(best.code, b.code) {
			best = b
		}
	}
	return best
}

// better reports whether code a beats code b.
func better(a, b int) bool {
	ca, cb := a/100, b/100
	switch {
	case ca == 6 || cb == 6:
		return ca == 6 && cb != 6
	case ca != cb:
		return ca < cb
	case ca == 4:
		return preferred4xx(a) && !preferred4xx(b)
	}
	return false
}

// sameClass reports whether a and b are of one class: then a response
// received beats one the proxy made up (a timeout, a transport error).
func sameClass(a, b int) bool { return a/100 == b/100 }

func preferred4xx(code int) bool {
	switch code {
	case 401, 407, 415, 420, 484:
		return true
	}
	return false
}

// aggregate adds to resp the challenges of every other 401 and 407 (RFC
// 3261 §16.7 step 7), each in its own field as received (line folds
// unfolded). A field the message API refuses does not parse as a
// challenge: no client could answer it, and it is left out.
func aggregate(resp *message.Message, best *branch, bs []*branch) {
	for _, b := range bs {
		if b == best || b.resp == nil || b.code != 401 && b.code != 407 {
			continue
		}
		for name, value := range b.resp.Headers() {
			if id := header.Lookup(name); id == header.IDWWWAuthenticate || id == header.IDProxyAuthenticate {
				if err := resp.Add(id.Name(), value); err != nil {
					continue // malformed: see above
				}
			}
		}
	}
}

// authenticate checks the request's Proxy-Authorization (RFC 3261 §22.3):
// a request without credentials for our realm is challenged with 407;
// credentials are verified against the user's, looked up at once or by the
// application (ProxyCredentials).
func (p *Proxy) authenticate(now effects.Time, c *rctx, out []effects.Effect) []effects.Effect {
	a := p.cfg.Auth
	cred, ok := credentialsFor(c.req, a.Server.Realm)
	if !ok {
		return p.challenge(now, c, false, out)
	}
	if a.Lookup != nil {
		user, found := a.Lookup(cred.Username())
		return p.verify(now, c, cred, user, found, out)
	}
	out = p.await(c, waitCredentials, out)
	return append(out, effects.Effect{Kind: effects.Deliver, Event: effects.Event{Kind: effects.ProxyCredentials, ID: c.srv, Msg: c.req, From: c.from}})
}

// Credentials answers a ProxyCredentials event: user are the credentials of
// the user the request's Proxy-Authorization names, found false when there
// is no such user.
func (p *Proxy) Credentials(now effects.Time, id uint64, user digest.Credentials, found bool, out []effects.Effect) ([]effects.Effect, error) {
	c := p.ctxs[id]
	if c == nil || c.waiting != waitCredentials {
		return out, fmt.Errorf("%w: %d awaits no credentials", ErrNoContext, id)
	}
	out = p.answered(c, out)
	if c.final {
		return out, nil
	}
	cred, ok := credentialsFor(c.req, p.cfg.Auth.Server.Realm)
	if !ok {
		return p.challenge(now, c, false, out), nil
	}
	return p.verify(now, c, cred, user, found, out), nil
}

// verify checks the credentials and routes the request, or challenges it
// again.
func (p *Proxy) verify(now effects.Time, c *rctx, cred header.Credentials, user digest.Credentials, found bool, out []effects.Effect) []effects.Effect {
	if !found {
		return p.challenge(now, c, false, out)
	}
	res, _ := p.cfg.Auth.Server.Verify(now, cred, c.req.Method(), c.req.RequestURI().String(), []byte(c.req.Body()), user)
	switch res {
	case digest.OK:
		return p.routeRequest(now, c, out)
	case digest.Stale:
		return p.challenge(now, c, true, out)
	}
	return p.challenge(now, c, false, out)
}

// challenge answers 407 with the server's challenges: one
// Proxy-Authenticate field per algorithm (RFC 8760 §2.3, RFC 3261 §7.3.1).
// A challenge that cannot be written (a realm the grammar refuses) is a
// misconfiguration: 500, rather than a 407 missing challenges.
func (p *Proxy) challenge(now effects.Time, c *rctx, stale bool, out []effects.Effect) []effects.Effect {
	resp, err := message.NewResponse(c.req, 407, "", message.ResponseOptions{Gen: p.cfg.Gen})
	if err != nil {
		return out
	}
	chs := p.cfg.Auth.Server.Challenge(now, stale, "")
	vals := make([]header.ProxyAuthenticate, len(chs))
	for i, ch := range chs {
		vals[i] = header.ProxyAuthenticate{Challenge: ch}
	}
	if err := message.Add(resp, vals...); err != nil || len(vals) == 0 {
		return p.reply(now, c, 500, out)
	}
	return p.sendFinal(now, c, resp, out)
}

// credentialsFor returns the request's Proxy-Authorization credentials for
// realm.
func credentialsFor(m *message.Message, realm string) (header.Credentials, bool) {
	all, err := message.All[header.ProxyAuthorization](m)
	if err != nil {
		return header.Credentials{}, false
	}
	for _, a := range all {
		if a.Realm() == realm {
			return a.Credentials, true
		}
	}
	return header.Credentials{}, false
}
