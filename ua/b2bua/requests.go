package b2bua

import (
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
)

// requestIn relays a request in a leg's dialog (INFO, RFC 6086; MESSAGE,
// RFC 3428) to the other leg's dialog, with its method, content type and
// body; its final response comes back in requestDone. A request the other
// leg cannot carry is answered here: 481 when the other leg ended, 500 (with
// Retry-After, RFC 3261 §21.5.1) when it is not established yet or its 2xx
// is not acknowledged.
func (b *B2BUA) requestIn(now effects.Time, br *bridge, u *ua.UA, ev effects.Event, out []Effect) []Effect {
	_, o := br.leg(u, ev.Ref)
	if o == nil || ev.Msg == nil {
		return out
	}
	if o.ua == nil || o.done {
		return b.reply(now, u, ev.ID, 481, out)
	}
	if o.unsure(br) {
		return b.reply(now, u, ev.ID, 500, out)
	}
	m := ev.Msg
	ct, _ := m.Get("Content-Type")
	var id uint64
	out, err := b.run(now, o.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		var err error
		id, out, err = o.ua.CallRequest(now, o.id, m.Method(), ct, []byte(m.Body()), out)
		return out, err
	}, out)
	if err != nil {
		return b.reply(now, u, ev.ID, 500, out)
	}
	b.relays[reqKey{o.ua, id}] = reqKey{u, ev.ID}
	return out
}

// requestDone relays the final response to a relayed request back to the
// leg it came from, with its body: the same code but for those failureCode
// maps (a challenge, an overload, a redirection).
func (b *B2BUA) requestDone(now effects.Time, u *ua.UA, ev effects.Event, out []Effect) []Effect {
	k := reqKey{u, ev.ID}
	src, ok := b.relays[k]
	if !ok {
		return out
	}
	delete(b.relays, k)
	code := ev.Code
	if code < 200 || code >= 300 {
		code = failureCode(code)
	}
	var o ua.ReplyOptions
	if m := ev.Msg; m != nil && len(m.Body()) > 0 {
		o.ContentType, _ = m.Get("Content-Type")
		o.Body = []byte(m.Body())
	}
	out, _ = b.run(now, src.ua, func(out []effects.Effect) ([]effects.Effect, error) {
		return src.ua.Reply(now, src.id, code, o, out)
	}, out)
	return out
}

// reply answers a request waiting on u with code (a 500 asks for a retry
// a second later).
func (b *B2BUA) reply(now effects.Time, u *ua.UA, id uint64, code int, out []Effect) []Effect {
	var o ua.ReplyOptions
	if code == 500 {
		o.Fields = [][2]string{{"Retry-After", "1"}}
	}
	out, _ = b.run(now, u, func(out []effects.Effect) ([]effects.Effect, error) {
		return u.Reply(now, id, code, o, out)
	}, out)
	return out
}
