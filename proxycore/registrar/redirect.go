package registrar

import (
	"fmt"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
)

// Redirect builds a redirect server's answer (RFC 3261 §8.3, §21.3.3) to
// req from the bindings of its address of record at now: 302 (Moved
// Temporarily) listing each live binding as a Contact with its q (when not
// the default) and its remaining expires, most preferred first; without
// live bindings, 480 (Temporarily Unavailable) when the address of record
// is known (registered, not reachable now) or 404 (Not Found) when it is
// not. gen makes the To tag.
func Redirect(now effects.Time, req *message.Message, bindings []location.Binding, known bool, gen ident.Generator) (*message.Message, error) {
	live := make([]location.Binding, 0, len(bindings))
	for i := range bindings {
		if !bindings[i].Expired(now) {
			live = append(live, bindings[i])
		}
	}
	code := 302
	switch {
	case len(live) > 0:
	case known:
		code = 480
	default:
		code = 404
	}
	resp, err := message.NewResponse(req, code, "", message.ResponseOptions{Gen: gen})
	if err != nil {
		return nil, fmt.Errorf("registrar: redirect: %w", err)
	}
	if len(live) == 0 {
		return resp, nil
	}
	location.Sort(live)
	cs := make([]header.Contact, len(live))
	for i := range live {
		cs[i] = redirectContact(now, &live[i])
	}
	if err := message.Set(resp, cs...); err != nil {
		return nil, fmt.Errorf("registrar: redirect: %w", err)
	}
	return resp, nil
}

// redirectContact is the binding's Contact with only q and expires: the
// outbound parameters mean nothing to the caller.
func redirectContact(now effects.Time, b *location.Binding) header.Contact {
	c := header.Contact{Display: b.Contact.Display, URI: b.Contact.URI}
	if b.Q != location.DefaultQ {
		c.Params = c.Params.With("q", qvalue(b.Q))
	}
	c.Params = c.Params.With("expires", fmt.Sprint(b.RemainingSeconds(now)))
	return c
}

// qvalue writes q thousandths as a qvalue: "0.5", "0.25", "1".
func qvalue(q int) string {
	if q >= 1000 {
		return "1"
	}
	s := fmt.Sprintf("0.%03d", max(q, 0))
	for s[len(s)-1] == '0' && len(s) > 3 {
		s = s[:len(s)-1]
	}
	return s
}
