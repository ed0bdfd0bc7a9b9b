package registrar

import (
	"errors"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
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

// challenge builds a 401 with one challenge per algorithm (step 3), each
// in its own WWW-Authenticate field (RFC 8760 §2.3, RFC 3261 §7.3.1). A
// challenge that cannot be written (a realm the grammar refuses) is a
// misconfiguration: 500, rather than a 401 missing challenges.
func (r *Registrar) challenge(now effects.Time, p *pending, stale bool) *message.Message {
	resp := r.response(p, 401, "")
	if resp == nil {
		return nil
	}
	chs := r.cfg.Auth.Challenge(now, stale, "")
	vals := make([]header.WWWAuthenticate, len(chs))
	for i, ch := range chs {
		vals[i] = header.WWWAuthenticate{Challenge: ch}
	}
	if err := message.Add(resp, vals...); err != nil || len(vals) == 0 {
		return r.response(p, 500, "Server Internal Error (no digest challenge could be written)")
	}
	return resp
}

// unavailable builds a 503 with Retry-After.
func (r *Registrar) unavailable(p *pending, reason string) *message.Message {
	resp := r.response(p, 503, reason)
	if resp != nil {
		if err := message.Set(resp, header.RetryAfter{Delta: r.cfg.RetryAfter}); err != nil {
			return r.response(p, 500, "")
		}
	}
	return resp
}

// withGRUUs returns c, the Contact listed for the binding b, with the
// binding's pub-gruu and temp-gruu as quoted parameters (RFC 5627 §5.2)
// when it has an instance id; as it is when it has none, or its AOR
// cannot have GRUUs (no user part).
func (r *Registrar) withGRUUs(b *location.Binding, c header.Contact) header.Contact {
	if b.Instance == "" {
		return c
	}
	pub, err := gruu.Public(b.AOR, b.Instance)
	if err != nil {
		return c
	}
	temp, err := r.gruus.Temporary(b.AOR, b.Instance, b.CallID)
	if err != nil {
		return c
	}
	c.Params = c.Params.With("pub-gruu", header.Quote(pub.String())).With("temp-gruu", header.Quote(temp.String()))
	return c
}

// ok builds the 200 of step 8: every binding with its remaining expires,
// the Path echoed, the outbound option and Authentication-Info.
func (r *Registrar) ok(now effects.Time, p *pending) *message.Message {
	resp := r.response(p, 200, "")
	if resp == nil {
		return nil
	}
	// A value the message refuses would leave the 200 short of what it
	// must say (a binding, the Path): 500 instead. The bindings were
	// stored; the client's retry gets the full answer.
	var err error // errors.Join of nils allocates nothing
	if len(p.result) > 0 {
		cs := make([]header.Contact, len(p.result))
		for i := range p.result {
			cs[i] = p.result[i].ContactAt(now)
			if p.gruu {
				cs[i] = r.withGRUUs(&p.result[i], cs[i])
			}
		}
		err = errors.Join(err, message.Set(resp, cs...))
	}
	if p.gruu {
		err = errors.Join(err, message.Set(resp, header.Supported("gruu")))
	}
	if len(p.paths) > 0 && r.supports("path") && message.HasToken(p.req, "Supported", "path") {
		err = errors.Join(err, message.Set(resp, p.paths...))
	}
	if p.outbound {
		err = errors.Join(err, message.Set(resp, header.Require("outbound")))
		if r.cfg.FlowTimer > 0 {
			err = errors.Join(err, message.Set(resp, header.FlowTimer(seconds(r.cfg.FlowTimer))))
		}
	}
	if p.authed {
		// Authentication-Info is optional (RFC 7616 §3.5): credentials
		// it cannot be computed for leave it out.
		if info, infoErr := r.cfg.Auth.AuthenticationInfo(p.cred, p.user, nil); infoErr == nil {
			err = errors.Join(err, message.Set(resp, info))
		}
	}
	if err != nil {
		return r.response(p, 500, "Server Internal Error (response not built)")
	}
	return resp
}
