package registrar

import (
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// response builds a response to p's REGISTER with a fresh To tag, or nil
// if the request cannot be answered (it lacks a field every response
// copies).
func (r *Registrar) response(p *pending, code int, reason string) *message.Message {
	resp, err := message.NewResponse(p.req, code, reason, message.ResponseOptions{Gen: r.cfg.Gen})
	if err != nil {
		return nil
	}
	return resp
}

// challenge builds a 401 with one challenge per algorithm (step 3).
func (r *Registrar) challenge(now effects.Time, p *pending, stale bool) *message.Message {
	resp := r.response(p, 401, "")
	if resp == nil {
		return nil
	}
	for _, ch := range r.cfg.Auth.Challenge(now, stale, "") {
		resp.Add("WWW-Authenticate", string(ch.AppendTo(nil)))
	}
	return resp
}

// unavailable builds a 503 with Retry-After.
func (r *Registrar) unavailable(p *pending, reason string) *message.Message {
	resp := r.response(p, 503, reason)
	if resp != nil {
		message.Set(resp, header.RetryAfter{Delta: r.cfg.RetryAfter})
	}
	return resp
}

// ok builds the 200 of step 8: every binding with its remaining expires,
// the Path echoed, the outbound option and Authentication-Info.
func (r *Registrar) ok(now effects.Time, p *pending) *message.Message {
	resp := r.response(p, 200, "")
	if resp == nil {
		return nil
	}
	if len(p.result) > 0 {
		cs := make([]header.Contact, len(p.result))
		for i := range p.result {
			cs[i] = p.result[i].ContactAt(now)
		}
		message.Set(resp, cs...)
	}
	if len(p.paths) > 0 && r.supports("path") && message.HasToken(p.req, "Supported", "path") {
		message.Set(resp, p.paths...)
	}
	if p.outbound {
		message.Set(resp, header.Require("outbound"))
		if r.cfg.FlowTimer > 0 {
			message.Set(resp, header.FlowTimer(seconds(r.cfg.FlowTimer)))
		}
	}
	if p.authed {
		if info, err := r.cfg.Auth.AuthenticationInfo(p.cred, p.user, nil); err == nil {
			message.Set(resp, info)
		}
	}
	return resp
}
