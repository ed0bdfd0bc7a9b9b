package ua

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// ErrReferDone ends the implicit subscription of a REFER once the referred
// request got its final response (RFC 3515 §2.4.5).
var ErrReferDone = errors.New("ua: the referred request completed")

// ReferOptions tune Refer.
type ReferOptions struct {
	// Replaces, when set, names an established call of this UA whose
	// dialog the referred party's INVITE is to replace (an attended
	// transfer, RFC 3891 §4): the Refer-To URI carries its Replaces.
	Replaces CallID
	// NoReferredBy leaves out Referred-By (RFC 3892), which by default
	// names Config.AOR.
	NoReferredBy bool
}

// Refer asks the peer of the established call id to contact referTo (RFC
// 3515): a blind transfer, or with o.Replaces an attended one. It returns
// the id of the REFER's implicit subscription: ReferAccepted follows the
// 2xx, TransferProgress each NOTIFY (Code is the referred request's status,
// from the message/sipfrag body), and SubscriptionEnded the last. The call
// itself goes on; hang it up when the transfer is done.
func (u *UA) Refer(now effects.Time, id CallID, referTo uri.URI, o ReferOptions, out []effects.Effect) (uint64, []effects.Effect, error) {
	s, err := u.established(id)
	if err != nil {
		return 0, out, err
	}
	target := referTo
	if o.Replaces != 0 {
		r, err := u.ReplacesFor(o.Replaces)
		if err != nil {
			return 0, out, fmt.Errorf("ua: refer: replaces: %w", err)
		}
		target.Headers = "Replaces=" + uri.EscapeHeader(header.String(&r))
	}
	req, next, err := s.d.Request("REFER", dialog.RequestOptions{Via: u.via(s.peer)})
	if err != nil {
		return 0, out, fmt.Errorf("ua: refer: %w", err)
	}
	if err := u.referFields(req, target, o); err != nil {
		return 0, out, fmt.Errorf("ua: refer: %w", err)
	}
	sub := u.newSub(header.Event{Type: "refer", Params: header.Params(fmt.Sprintf(";id=%d", req.CSeq().Seq))}, s.peer)
	sub.refer = true
	// NOTIFYs may come before the 2xx: the subscription is in the dialog
	// from now on.
	u.attach(sub, s.d)
	role := txnRole{kind: roleOwned, owner: subOwner{u}, ref: sub.id, dlg: s.d}
	if _, out, err = u.newClient(now, req, nextHop(next, s.peer), role, out); err != nil {
		out = u.endSub(sub, 503, "", 0, ErrTransport, nil, out)
		return 0, out, fmt.Errorf("ua: refer: %w", err)
	}
	return sub.id, out, nil
}

func (u *UA) referFields(req *message.Message, target uri.URI, o ReferOptions) error {
	if err := message.Set(req, header.ReferTo{URI: target}); err != nil {
		return err
	}
	if !o.NoReferredBy {
		if err := message.Set(req, header.ReferredBy{URI: u.cfg.AOR}); err != nil {
			return err
		}
	}
	if u.cfg.UserAgent != "" {
		return message.Set(req, header.UserAgent(u.cfg.UserAgent))
	}
	return nil
}

// ReplacesFor returns the Replaces header field naming the dialog of the
// established call id, as its peer sees it (RFC 3891 §6.1: to-tag is the
// peer's tag, from-tag ours), for a Refer-To or an INVITE.
func (u *UA) ReplacesFor(id CallID) (header.Replaces, error) {
	s, err := u.established(id)
	if err != nil {
		return header.Replaces{}, err
	}
	p := header.Params("").With("to-tag", s.d.ID.RemoteTag).With("from-tag", s.d.ID.LocalTag)
	return header.Replaces{CallID: s.d.ID.CallID, Params: p}, nil
}

// referAnswered handles the final response to a REFER of ours.
func (u *UA) referAnswered(now effects.Time, sub *subscription, req *message.Message, code int, m *message.Message, out []effects.Effect) []effects.Effect {
	if code >= 300 {
		return u.endSub(sub, code, "", 0, ErrSubscribeFailed, m, out)
	}
	// RFC 3515 §2.4.6: the implicit subscription's id is the CSeq of the
	// REFER that was accepted, which a digest retry may have changed.
	sub.event.Params = header.Params(fmt.Sprintf(";id=%d", req.CSeq().Seq))
	out = deliver(out, effects.Event{Kind: effects.ReferAccepted, ID: sub.id, Ref: sub.call, Msg: m, Code: code})
	if !sub.gotNotify {
		out = u.startTimerN(sub, out)
	}
	return out
}

// AcceptRefer accepts the REFER of ReferIncoming id: 202, then a NOTIFY
// whose message/sipfrag body is "SIP/2.0 100 Trying" (RFC 3515 §2.4.5).
// The application then places the referred call with Call and
// CallOptions.Refer set to id (ReferTarget gives the target), and the UA
// reports that call's progress to the referrer.
func (u *UA) AcceptRefer(now effects.Time, id uint64, out []effects.Effect) ([]effects.Effect, error) {
	if sub := u.subs[id]; sub == nil || !sub.refer {
		return out, ErrNoSubscription
	}
	return u.acceptSub(now, id, 0, header.SubStateActive, out)
}

// ReferTarget returns the URI the REFER of subscription id refers to: its
// Refer-To without the header fields it carries (a Replaces, which Call
// with CallOptions.Refer puts in the INVITE) or a method parameter.
func (u *UA) ReferTarget(id uint64) (uri.URI, error) {
	sub := u.subs[id]
	if sub == nil || sub.referReq == nil {
		return uri.URI{}, ErrNoSubscription
	}
	rt, _, err := message.First[header.ReferTo](sub.referReq)
	if err != nil {
		return uri.URI{}, fmt.Errorf("ua: Refer-To: %w", err)
	}
	t := rt.URI.WithoutParam("method")
	t.Headers = ""
	return t, nil
}

// referHeaders returns the Referred-By and Replaces the INVITE for the
// REFER of subscription id carries (RFC 3892 §3, RFC 3891 §4).
func (u *UA) referHeaders(id uint64) (*header.ReferredBy, *header.Replaces, error) {
	sub := u.subs[id]
	if sub == nil || sub.referReq == nil || sub.waitTxn != 0 {
		return nil, nil, fmt.Errorf("%w: no accepted REFER %d", ErrNoSubscription, id)
	}
	var rb *header.ReferredBy
	if v, ok, err := message.First[header.ReferredBy](sub.referReq); err == nil && ok {
		rb = &v
	}
	rt, _, err := message.First[header.ReferTo](sub.referReq)
	if err != nil {
		return nil, nil, fmt.Errorf("ua: Refer-To: %w", err)
	}
	rep, err := replacesOf(rt.URI)
	return rb, rep, err
}

// replacesOf returns the Replaces a Refer-To URI carries among its
// headers (?Replaces=...), or nil.
func replacesOf(target uri.URI) (*header.Replaces, error) {
	for _, f := range strings.Split(target.Headers, "&") {
		name, value, _ := strings.Cut(f, "=")
		if !strings.EqualFold(name, "Replaces") {
			continue
		}
		raw, err := uri.Unescape(value)
		if err != nil {
			return nil, fmt.Errorf("ua: Refer-To Replaces: %w", err)
		}
		r, err := header.ParseValue[header.Replaces](raw)
		if err != nil {
			return nil, fmt.Errorf("ua: Refer-To Replaces: %w", err)
		}
		return &r, nil
	}
	return nil, nil
}

// referProgress reports the progress of a call placed for a REFER to the
// referrer: a NOTIFY with the status line as message/sipfrag for each new
// provisional status, and the final one, terminated, which ends the
// implicit subscription (RFC 3515 §2.4.5).
func (u *UA) referProgress(now effects.Time, c *call, code int, reason string, out []effects.Effect) []effects.Effect {
	sub := u.subs[c.refer]
	if sub == nil || sub.ended {
		c.refer = 0
		return out
	}
	if code < 200 && (code <= 100 || code == sub.lastFrag) {
		return out
	}
	if reason == "" {
		reason = message.ReasonPhrase(code)
	}
	sub.body, sub.lastFrag = []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)), code
	if code < 200 {
		out, _ = u.sendNotify(now, sub, header.SubscriptionState{State: header.SubStateActive}, out)
		return out
	}
	c.refer = 0
	return u.finalNotify(now, sub, terminated("noresource"), ErrReferDone, out)
}

// replaced checks the Replaces of an INVITE (RFC 3891 §3) and returns the
// call whose dialog it names, or the code to refuse the INVITE with: 400
// for several, 481 when no dialog matches (or an early one this UA did not
// start), 486 when early-only names a confirmed dialog.
func (u *UA) replaced(m *message.Message) (CallID, int) {
	reps, err := message.All[header.Replaces](m)
	if err != nil || len(reps) != 1 {
		return 0, 400
	}
	r := reps[0]
	s := u.byDialog[dialog.ID{CallID: r.CallID, LocalTag: r.ToTag(), RemoteTag: r.FromTag()}]
	switch {
	case s == nil || s.d.State == dialog.Terminated || !u.live(s.c):
		return 0, 481
	case r.EarlyOnly() && s.d.State == dialog.Confirmed:
		return 0, 486
	case s.d.State == dialog.Early && !s.c.uac:
		return 0, 481
	}
	return s.c.id, 0
}

// endReplaced ends the call that the answered call c replaces (RFC 3891
// §3): a BYE for an established one, a CANCEL for one still calling.
func (u *UA) endReplaced(now effects.Time, c *call, out []effects.Effect) []effects.Effect {
	old := u.calls[c.replaces]
	c.replaces = 0
	if old == nil {
		return out
	}
	if old.state == stEstablished && old.kept != nil && (old.uac || old.kept.ok == nil) {
		out = deliver(out, effects.Event{Kind: effects.CallEnded, ID: old.id, Ref: c.id, Err: ErrReplaced})
		return u.sendBye(now, old.kept, out)
	}
	out, _ = u.Hangup(now, old.id, out)
	return out
}
