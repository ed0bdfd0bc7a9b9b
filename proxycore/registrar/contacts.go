package registrar

import (
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/location"
)

// contacts runs step 6: it reads the Contacts, Expires and Path of p's
// REGISTER into p.update, or returns the status code and reason of the
// response that refuses it.
func (r *Registrar) contacts(now effects.Time, p *pending) (int, string) {
	req := p.req
	contacts, err := message.All[header.Contact](req)
	if err != nil {
		return 400, "Bad Request (malformed Contact)"
	}
	exp, hasExp, err := message.First[header.Expires](req)
	if err != nil {
		return 400, "Bad Request (malformed Expires)"
	}
	paths, err := message.All[header.Path](req)
	if err != nil {
		return 400, "Bad Request (malformed Path)"
	}
	p.update = location.Update{CallID: req.CallID(), CSeq: req.CSeq().Seq}
	p.gruu = r.GRUUs() != nil && message.HasToken(req, "Supported", "gruu")
	if star(contacts) {
		if len(contacts) != 1 || !hasExp || exp != 0 {
			return 400, "Bad Request (Contact: * needs Expires: 0 and no other Contact)"
		}
		p.update.RemoveAll = true
		return 0, ""
	}
	gruus := r.GRUUs()
	for _, c := range contacts {
		if gruus != nil && gruu.Is(c.URI) && r.Serves(c.URI) {
			return 403, "Forbidden (Contact is a GRUU)"
		}
		if e := r.expires(c, uint32(exp), hasExp); e != 0 && e < r.cfg.MinExpires {
			return 423, ""
		}
	}
	p.paths = detachPaths(paths)
	p.stored = p.paths
	if r.cfg.FlowPath != nil {
		if own, ok := r.cfg.FlowPath(p.from); ok {
			p.stored = append([]header.Path{own}, p.paths...)
		}
	}
	for _, c := range contacts {
		b := r.binding(now, p, c, r.expires(c, uint32(exp), hasExp))
		p.outbound = p.outbound || b.Outbound()
		p.update.Contacts = append(p.update.Contacts, b)
	}
	p.outbound = p.outbound && message.HasToken(req, "Supported", "outbound")
	return 0, ""
}

func star(cs []header.Contact) bool {
	for _, c := range cs {
		if c.Star {
			return true
		}
	}
	return false
}

// expires returns a contact's registration interval: its expires
// parameter, else the Expires header field, else the default; capped at
// MaxExpires.
func (r *Registrar) expires(c header.Contact, exp uint32, hasExp bool) time.Duration {
	d := r.cfg.DefaultExpires
	if v, ok := c.Expires(); ok {
		d = time.Duration(v) * time.Second
	} else if hasExp {
		d = time.Duration(exp) * time.Second
	}
	return min(d, r.cfg.MaxExpires)
}

// binding builds the binding a contact asks for, expiring after e.
func (r *Registrar) binding(now effects.Time, p *pending, c header.Contact, e time.Duration) location.Binding {
	q, ok := c.Q()
	if !ok {
		q = location.DefaultQ
	}
	b := location.Binding{
		AOR: p.aor, Contact: detachContact(c), Q: q, Expires: now.Add(e), Updated: now,
		Path: p.stored, Instance: c.Instance(), Flow: p.from,
	}
	// RFC 5626 §6: a reg-id is honoured when outbound is supported and the
	// registrar is the first hop (no Path) or the edge proxy, which added
	// the last Path value, marked it with "ob".
	if id, ok := c.RegID(); ok && b.Instance != "" && r.supports("outbound") && firstHopOutbound(p.stored) {
		b.RegID = id
	}
	if e > 0 {
		b.FlowToken = r.cfg.Gen.Tag()
	}
	return b
}

func firstHopOutbound(paths []header.Path) bool {
	return len(paths) == 0 || paths[len(paths)-1].URI.Params.Has("ob")
}

// detachContact returns c without its expires parameter, in strings of its
// own rather than the request's buffer, so that a stored binding does not
// keep the whole REGISTER alive.
func detachContact(c header.Contact) header.Contact {
	c.Params = c.Params.Without("expires")
	d, err := header.ParseValue[header.Contact](string(c.AppendTo(nil)))
	if err != nil {
		return c
	}
	return d
}

func detachPaths(ps []header.Path) []header.Path {
	if len(ps) == 0 {
		return nil
	}
	out := make([]header.Path, len(ps))
	for i, p := range ps {
		d, err := header.ParseValue[header.Path](string(p.AppendTo(nil)))
		if err != nil {
			d = p
		}
		out[i] = d
	}
	return out
}
