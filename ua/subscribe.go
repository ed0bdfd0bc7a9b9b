package ua

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// EventPackage is an event package (RFC 6665 §7) this UA serves as a
// notifier: SUBSCRIBEs for it go to the application, and it is listed in
// Allow-Events. A UA subscribes to any package; this list only says which
// ones others may subscribe to here.
type EventPackage struct {
	// Name is the event type as the Event header field writes it:
	// "presence", "dialog", "message-summary", "presence.winfo".
	Name string
	// Expires is the duration of a subscription whose SUBSCRIBE has no
	// Expires (default one hour); MaxExpires, when set, caps what a
	// subscriber may ask for (the notifier may shorten, RFC 6665
	// §4.2.1.1).
	Expires    time.Duration
	MaxExpires time.Duration
	// ContentType is the type of the NOTIFY bodies the application sends
	// with UA.Notify ("application/pidf+xml", ...).
	ContentType string
}

// referPackage is the built-in "refer" package (RFC 3515 §2.4.4): its
// NOTIFYs carry message/sipfrag.
var referPackage = EventPackage{Name: "refer", Expires: 60 * time.Second, ContentType: "message/sipfrag;version=2.0"}

// SubscribeOptions are the parts of a SUBSCRIBE sent with UA.Subscribe.
type SubscribeOptions struct {
	// Event is the Event header field's value: the event type and, when
	// several subscriptions to one package share a dialog, an id parameter
	// ("presence", "dialog;id=7").
	Event string
	// Expires is the duration asked for (default one hour); the notifier
	// may shorten it. The UA refreshes the subscription before it ends.
	Expires time.Duration
	// Accept lists the body types the subscriber understands.
	Accept []string
	// ContentType and Body are the SUBSCRIBE's body (a filter, say).
	ContentType string
	Body        []byte
	// Dest is where the SUBSCRIBE goes first: the outbound proxy, or the
	// notifier's address. Routes is a preloaded route set.
	Dest   effects.Peer
	Routes []header.Route
}

// Errors about subscriptions, matchable with errors.Is. A subscription's
// end (SubscriptionEnded) carries a *SubscriptionError that unwraps to one
// of them.
var (
	ErrNoSubscription = errors.New("ua: no such subscription")
	// ErrBadEvent: the event package is not one this UA serves (489).
	ErrBadEvent = errors.New("ua: bad event")
	// ErrSubscribeFailed: the SUBSCRIBE or REFER was refused (Code says
	// how) or timed out.
	ErrSubscribeFailed = errors.New("ua: subscription refused")
	// ErrNoNotify: no NOTIFY arrived within Timer N (64·T1) of the 2xx to
	// the SUBSCRIBE (RFC 6665 §4.1.2.4).
	ErrNoNotify = errors.New("ua: no NOTIFY within Timer N")
	// ErrUnsubscribed: the subscriber ended the subscription (Expires: 0).
	ErrUnsubscribed = errors.New("ua: unsubscribed")
	// ErrReplaced: the call was replaced by another one (RFC 3891).
	ErrReplaced = errors.New("ua: the call was replaced")
	// The reasons a notifier gives for ending a subscription (RFC 6665
	// §4.1.3), and ErrSubTerminated for any other.
	ErrDeactivated   = errors.New("ua: subscription deactivated")
	ErrProbation     = errors.New("ua: subscription on probation")
	ErrRejected      = errors.New("ua: subscription rejected")
	ErrSubTimeout    = errors.New("ua: subscription timed out")
	ErrGiveUp        = errors.New("ua: the notifier gave up")
	ErrNoResource    = errors.New("ua: no such resource")
	ErrInvariant     = errors.New("ua: the resource's state cannot change")
	ErrSubTerminated = errors.New("ua: subscription terminated")
)

// SubscriptionError is why a subscription ended: the reason parameter of
// the terminating NOTIFY's Subscription-State (RFC 6665 §4.1.3) and its
// retry-after, or a local cause. It unwraps to one of the Err values.
type SubscriptionError struct {
	Reason     string        // the reason token, "" when none was given
	RetryAfter time.Duration // when the subscriber may try again, 0 if not said
	Err        error
}

// Error describes the end.
func (e *SubscriptionError) Error() string {
	s := e.Err.Error()
	if e.Reason != "" {
		s += " (reason=" + e.Reason + ")"
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *SubscriptionError) Unwrap() error { return e.Err }

// reasonErr maps a reason token to its error (RFC 6665 §4.1.3).
func reasonErr(reason string) error {
	switch strings.ToLower(reason) {
	case "deactivated":
		return ErrDeactivated
	case "probation":
		return ErrProbation
	case "rejected":
		return ErrRejected
	case "timeout":
		return ErrSubTimeout
	case "giveup":
		return ErrGiveUp
	case "noresource":
		return ErrNoResource
	case "invariant":
		return ErrInvariant
	}
	return ErrSubTerminated
}

// subscription is one subscription (RFC 6665), on either side: a
// SUBSCRIBE's or a REFER's (implicit, RFC 3515).
type subscription struct {
	id  uint64
	ref uint64 // the id Subscribe returned (a fork's first subscription)
	// notifier: this side sends the NOTIFYs.
	notifier bool
	event    header.Event
	refer    bool
	d        *dialog.Dialog // nil until the subscriber's dialog exists
	peer     effects.Peer   // where in-dialog requests go when the next hop is a name
	call     CallID         // the call whose dialog it shares, or 0
	state    string         // "", pending, active
	wanted   time.Duration  // the duration asked for
	expires  time.Duration  // the duration granted
	until    effects.Time   // when it expires
	tExpiry  effects.TimerID
	ended    bool

	// Subscriber.
	origin        *subOrigin
	accept        []string
	gotNotify     bool
	refreshing    bool // a refresh SUBSCRIBE in progress
	unsubscribing bool // Expires: 0 sent
	unsubWanted   bool // Unsubscribe before any dialog: sent once one exists
	tRefresh      effects.TimerID
	tN            effects.TimerID // Timer N: 2xx without NOTIFY, unsubscribe without final NOTIFY

	// Notifier.
	pkg      EventPackage
	waitTxn  txn.ID // the SUBSCRIBE or REFER waiting for the application
	waitReq  *message.Message
	tGuard   effects.TimerID
	body     []byte           // the state last notified
	referReq *message.Message // REFER: the request
	lastFrag int              // REFER: the status last reported in a sipfrag
}

// subOrigin is a SUBSCRIBE sent outside any dialog: while it may still
// fork, each NOTIFY with a new From tag that matches its Call-ID, From tag
// and Event creates a subscription (RFC 6665 §4.1.2.4).
type subOrigin struct {
	key    originKey
	req    *message.Message
	first  *subscription
	subs   []*subscription
	tClose effects.TimerID
}

type originKey struct{ callID, tag string }

// Subscriptions returns the number of subscriptions the UA holds, on
// either side, including those waiting for the application.
func (u *UA) Subscriptions() int { return len(u.subs) }

// Packages returns the event packages this UA serves (Config.Events, with
// the built-in refer).
func (u *UA) Packages() []EventPackage { return slices.Clone(u.cfg.Events) }

// pkgFor returns the package serving an event type.
func (u *UA) pkgFor(ev header.Event) (EventPackage, bool) {
	for _, p := range u.cfg.Events {
		if p.Name == ev.Type {
			return p, true
		}
	}
	return EventPackage{}, false
}

// allowEvents fills Allow-Events with the packages this UA serves.
func (u *UA) allowEvents(m *message.Message) error {
	names := make([]string, len(u.cfg.Events))
	for i, p := range u.cfg.Events {
		names[i] = p.Name
	}
	return m.Set("Allow-Events", strings.Join(names, ", "))
}

// Subscribe sends a SUBSCRIBE to target (RFC 6665 §4.1.2.1) and returns the
// subscription's id. SubscriptionActive or SubscriptionPending follow with
// the first NOTIFY, NotifyReceived with each, and SubscriptionEnded once.
// The UA refreshes the subscription before it expires. A SUBSCRIBE that
// forks may create several subscriptions: each extra one has its own ID and
// the returned id as Ref.
func (u *UA) Subscribe(now effects.Time, target uri.URI, o SubscribeOptions, out []effects.Effect) (uint64, []effects.Effect, error) {
	ev, err := header.ParseValue[header.Event](o.Event)
	if err != nil {
		return 0, out, fmt.Errorf("ua: subscribe: Event %q: %w", o.Event, err)
	}
	if ev.Type == "refer" {
		return 0, out, fmt.Errorf("%w: refer subscriptions come from UA.Refer", ErrState)
	}
	if len(o.Body) > 0 && o.ContentType == "" {
		return 0, out, fmt.Errorf("%w: a body needs its ContentType", ErrState)
	}
	wanted := o.Expires
	if wanted <= 0 {
		wanted = time.Hour
	}
	req, err := message.NewRequest("SUBSCRIBE", target, message.RequestOptions{
		From: header.From{URI: u.cfg.AOR}, To: header.To{URI: target}, Via: u.via(o.Dest),
		Contact: &header.Contact{URI: u.localContact()}, Routes: o.Routes,
		ContentType: o.ContentType, Body: o.Body, Gen: u.cfg.Gen,
	})
	if err != nil {
		return 0, out, fmt.Errorf("ua: subscribe: %w", err)
	}
	if err := u.subscribeFields(req, ev, wanted, o.Accept); err != nil {
		return 0, out, fmt.Errorf("ua: subscribe: %w", err)
	}
	sub := u.newSub(ev, o.Dest)
	sub.wanted, sub.accept = wanted, o.Accept
	org := &subOrigin{key: originKey{req.CallID(), req.FromTag()}, req: req, first: sub, subs: []*subscription{sub}}
	sub.origin = org
	role := txnRole{kind: roleOwned, owner: subOwner{u}, ref: sub.id}
	if _, out, err = u.newClient(now, req, o.Dest, role, out); err != nil {
		delete(u.subs, sub.id)
		return 0, out, fmt.Errorf("ua: subscribe: %w", err)
	}
	u.origins[org.key] = org
	// NOTIFYs of other forks may come as long as the SUBSCRIBE may still
	// be answered: 64·T1.
	org.tClose, out = u.setFuncTimer(64*u.t1(), func(now effects.Time, out []effects.Effect) []effects.Effect {
		org.tClose = 0
		return u.closeOrigin(org, out)
	}, out)
	return sub.id, out, nil
}

// subscribeFields sets a SUBSCRIBE's Event, Expires, Accept and User-Agent.
func (u *UA) subscribeFields(req *message.Message, ev header.Event, expires time.Duration, accept []string) error {
	if err := message.Set(req, ev); err != nil {
		return err
	}
	if err := message.Set(req, header.Expires(uint32(expires/time.Second))); err != nil {
		return err
	}
	if len(accept) > 0 {
		if err := req.Set("Accept", strings.Join(accept, ", ")); err != nil {
			return err
		}
	}
	if u.cfg.UserAgent != "" {
		return message.Set(req, header.UserAgent(u.cfg.UserAgent))
	}
	return nil
}

func (u *UA) newSub(ev header.Event, peer effects.Peer) *subscription {
	u.nextID++
	sub := &subscription{id: u.nextID, ref: u.nextID, event: ev, peer: peer}
	u.subs[sub.id] = sub
	return sub
}

// closeOrigin stops matching NOTIFYs to a SUBSCRIBE that may have forked.
func (u *UA) closeOrigin(org *subOrigin, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&org.tClose, out)
	if u.origins[org.key] == org {
		delete(u.origins, org.key)
	}
	for _, s := range org.subs {
		s.origin = nil
	}
	org.subs, org.first = nil, nil
	return out
}

// usage is the subscription's usage of its dialog (RFC 5057).
func (sub *subscription) usage() dialog.Usage {
	return dialog.Usage{Kind: dialog.SubscribeUsage, Event: sub.event.Type, ID: sub.event.ID()}
}

// attach puts a subscription in dialog d: a call's (shared) or its own.
func (u *UA) attach(sub *subscription, d *dialog.Dialog) {
	sub.d = d
	d.AddUsage(sub.usage())
	if s := u.byDialog[d.ID]; s != nil && s.d == d {
		sub.call = s.c.id
	} else {
		u.subDlgs[d.ID] = d
	}
	u.subsByDlg[d.ID] = append(u.subsByDlg[d.ID], sub)
}

// endSub forgets a subscription, its timers and its usage of the dialog,
// and reports its end. A dialog of its own ends with its last usage.
func (u *UA) endSub(sub *subscription, code int, reason string, retry time.Duration, cause error, m *message.Message, out []effects.Effect) []effects.Effect {
	if sub.ended {
		return out
	}
	sub.ended = true
	for _, t := range []*effects.TimerID{&sub.tExpiry, &sub.tRefresh, &sub.tN, &sub.tGuard} {
		out = u.cancelTimer(t, out)
	}
	delete(u.subs, sub.id)
	if org := sub.origin; org != nil && org.first == sub && sub.d == nil {
		// The SUBSCRIBE failed before any dialog: no fork will come.
		out = u.closeOrigin(org, out)
	}
	if d := sub.d; d != nil {
		list := slices.DeleteFunc(u.subsByDlg[d.ID], func(x *subscription) bool { return x == sub })
		if len(list) == 0 {
			delete(u.subsByDlg, d.ID)
		} else {
			u.subsByDlg[d.ID] = list
		}
		d.EndUsage(sub.usage())
		if len(list) == 0 && u.subDlgs[d.ID] == d {
			// A dialog of subscriptions only ends with the last (RFC 5057).
			delete(u.subDlgs, d.ID)
			d.Terminate()
		}
	}
	err := &SubscriptionError{Reason: reason, RetryAfter: retry, Err: cause}
	return deliver(out, effects.Event{Kind: effects.SubscriptionEnded, ID: sub.id, Ref: sub.ref, Code: code, Msg: m, Err: err})
}

// keepSubscriptions runs when a call's session ends: the subscriptions
// sharing its dialog (a REFER's, say) keep a copy of it, which lives on
// until the last of them ends (RFC 5057 §5.5: BYE ends only the INVITE
// usage).
func (u *UA) keepSubscriptions(d *dialog.Dialog) {
	subs := u.subsByDlg[d.ID]
	if len(subs) == 0 || subs[0].d != d {
		return
	}
	kept := *d
	kept.Usages = slices.DeleteFunc(slices.Clone(d.Usages), func(x dialog.Usage) bool { return x.Kind == dialog.InviteUsage })
	kept.RouteSet = slices.Clone(d.RouteSet)
	for _, sub := range subs {
		sub.d = &kept
		kept.AddUsage(sub.usage())
	}
	u.subDlgs[d.ID] = &kept
}

// subOwner routes the responses to the UA's SUBSCRIBEs, REFERs and
// NOTIFYs.
type subOwner struct{ u *UA }

func (o subOwner) clientResponse(now effects.Time, r txnRole, m *message.Message, out []effects.Effect) []effects.Effect {
	u := o.u
	sub := u.subs[r.ref]
	code := m.StatusCode()
	if sub == nil || code < 200 {
		return out
	}
	switch r.req.Method() {
	case "NOTIFY":
		return u.notifyAnswered(sub, code, m, out)
	case "REFER":
		return u.referAnswered(now, sub, r.req, code, m, out)
	case "SUBSCRIBE":
		if code == 423 {
			// RFC 6665 §4.1.2.1 with RFC 3261 §10.2.8: ask again for at
			// least Min-Expires.
			if out, ok := u.retryMinExpires(now, sub, r, m, out); ok {
				return out
			}
		}
	}
	// A SUBSCRIBE outside any dialog has no dialog in its role; one in the
	// dialog does even when its To has no tag (a notifier whose NOTIFY had
	// none, RFC 3261 §12.1.1: the tag is then null).
	if r.dlg == nil {
		return u.subscribeAnswered(now, sub, r.req, m, out)
	}
	return u.refreshAnswered(now, sub, r.req, m, out)
}

func (o subOwner) clientFailure(now effects.Time, r txnRole, ev effects.Event, out []effects.Effect) []effects.Effect {
	u := o.u
	sub := u.subs[r.ref]
	if sub == nil {
		return out
	}
	code := 408
	if ev.Kind == effects.TxnTransportError {
		code = 503
	}
	switch {
	case r.req.Method() == "NOTIFY":
		// RFC 6665 §4.2.2: a NOTIFY that times out ends the subscription.
		return u.endSub(sub, code, "", 0, ErrTimeout, nil, out)
	case r.dlg == nil || r.req.Method() == "REFER":
		if sub.d != nil && r.req.Method() == "SUBSCRIBE" {
			return out // a NOTIFY already created the subscription
		}
		return u.endSub(sub, code, "", 0, ErrSubscribeFailed, nil, out)
	}
	return u.refreshFailed(sub, code, nil, out)
}

// subscribeAnswered handles the final response to a SUBSCRIBE sent outside
// any dialog (RFC 6665 §4.1.2.1).
func (u *UA) subscribeAnswered(now effects.Time, sub *subscription, req, m *message.Message, out []effects.Effect) []effects.Effect {
	code := m.StatusCode()
	if code >= 300 {
		if sub.d != nil {
			return out // a NOTIFY came first: the subscription stands
		}
		return u.endSub(sub, code, "", 0, ErrSubscribeFailed, m, out)
	}
	if m.ToTag() == "" {
		// No dialog from this 2xx: a NOTIFY may yet make one (Timer N).
		if sub.d == nil && !sub.gotNotify {
			out = u.startTimerN(sub, out)
		}
		return out
	}
	id := dialog.IDOf(m, true)
	target := sub
	if sub.origin != nil {
		target = u.forkSub(sub.origin, id)
	}
	if target == nil || target.ended {
		return out
	}
	if target.d == nil {
		d, err := dialog.NewUAC(req, m, u.localContact(), target.peer.Transport.Secure())
		if err != nil {
			// No Contact: the first NOTIFY makes the dialog, or Timer N
			// ends the wait.
			return u.startTimerN(target, out)
		}
		u.attach(target, d)
	} else if target.d.ID == id {
		target.d.LocalSeq = max(target.d.LocalSeq, req.CSeq().Seq)
	}
	out = u.granted(now, target, m, out)
	if !target.gotNotify {
		out = u.startTimerN(target, out)
	}
	if target.unsubWanted {
		target.unsubWanted = false
		out, _ = u.sendUnsubscribe(now, target, out)
	}
	return out
}

// forkSub returns the subscription of a SUBSCRIBE's dialog id: the first
// one while it has no dialog, one of its forks, or a new fork.
func (u *UA) forkSub(org *subOrigin, id dialog.ID) *subscription {
	for _, s := range org.subs {
		if s.d != nil && s.d.ID == id {
			return s
		}
	}
	if f := org.first; f != nil && f.d == nil && !f.ended {
		return f
	}
	if org.first == nil {
		return nil
	}
	sub := u.newSub(org.first.event, org.first.peer)
	sub.ref, sub.wanted, sub.accept, sub.origin = org.first.id, org.first.wanted, org.first.accept, org
	org.subs = append(org.subs, sub)
	return sub
}

// granted applies the Expires of a 2xx to a SUBSCRIBE: the subscription
// lasts that long unless refreshed.
func (u *UA) granted(now effects.Time, sub *subscription, m *message.Message, out []effects.Effect) []effects.Effect {
	exp, ok, err := message.First[header.Expires](m)
	if err != nil || !ok {
		return out
	}
	return u.setExpiry(now, sub, time.Duration(exp)*time.Second, true, out)
}

// setExpiry (re)arms a subscription's expiry, d from now, and, for a
// subscriber, the refresh before it: half-way for short subscriptions,
// 64·T1 ahead of the end for long ones. Short or long is the interval
// granted, d itself when grant is set (a 2xx's Expires, the notifier's own
// grant); a NOTIFY's expires is the time left (RFC 6665 §4.1.3): it moves
// the end, and the refresh with it, but does not make a long subscription
// short, its refresh later than 64·T1 ahead of the end.
func (u *UA) setExpiry(now effects.Time, sub *subscription, d time.Duration, grant bool, out []effects.Effect) []effects.Effect {
	if grant || sub.expires <= 0 {
		sub.expires = d
	}
	sub.until = now.Add(d)
	out = u.cancelTimer(&sub.tExpiry, out)
	out = u.cancelTimer(&sub.tRefresh, out)
	id := sub.id
	sub.tExpiry, out = u.setFuncTimer(d, func(now effects.Time, out []effects.Effect) []effects.Effect {
		if sub := u.subs[id]; sub != nil {
			sub.tExpiry = 0
			return u.subExpired(now, sub, out)
		}
		return out
	}, out)
	if sub.notifier || sub.refer || sub.unsubscribing || d <= 0 {
		return out
	}
	sub.tRefresh, out = u.setFuncTimer(max(d-min(sub.expires/2, 64*u.t1()), 0), func(now effects.Time, out []effects.Effect) []effects.Effect {
		if sub := u.subs[id]; sub != nil {
			sub.tRefresh = 0
			out, _ = u.refreshSub(now, sub, sub.wanted, out)
		}
		return out
	}, out)
	return out
}

// subExpired ends a subscription whose time ran out: the notifier says so in
// a final NOTIFY (reason=timeout); the subscriber, which missed it or got
// no refresh through, gives up (RFC 6665 §4.1.2.2, §4.2.2).
func (u *UA) subExpired(now effects.Time, sub *subscription, out []effects.Effect) []effects.Effect {
	if sub.notifier {
		return u.finalNotify(now, sub, terminated("timeout"), ErrSubTimeout, out)
	}
	return u.endSub(sub, 0, "timeout", 0, ErrSubTimeout, nil, out)
}

// startTimerN waits 64·T1 for a NOTIFY (RFC 6665 §4.1.2.4): after a 2xx to
// a SUBSCRIBE, a REFER or an unsubscribe.
func (u *UA) startTimerN(sub *subscription, out []effects.Effect) []effects.Effect {
	out = u.cancelTimer(&sub.tN, out)
	id := sub.id
	sub.tN, out = u.setFuncTimer(64*u.t1(), func(now effects.Time, out []effects.Effect) []effects.Effect {
		sub := u.subs[id]
		if sub == nil {
			return out
		}
		sub.tN = 0
		if sub.unsubscribing {
			return u.endSub(sub, 0, "", 0, ErrUnsubscribed, nil, out)
		}
		return u.endSub(sub, 408, "", 0, ErrNoNotify, nil, out)
	}, out)
	return out
}

// Refresh sends a SUBSCRIBE in the subscription's dialog asking for
// expires more (RFC 6665 §4.1.2.2); the UA also does so by itself before
// the subscription expires.
func (u *UA) Refresh(now effects.Time, id uint64, expires time.Duration, out []effects.Effect) ([]effects.Effect, error) {
	sub := u.subs[id]
	if sub == nil || sub.notifier {
		return out, ErrNoSubscription
	}
	if sub.refer || sub.d == nil || sub.unsubscribing {
		return out, ErrState
	}
	if expires <= 0 {
		expires = sub.wanted
	}
	sub.wanted = expires
	return u.refreshSub(now, sub, expires, out)
}

// Unsubscribe ends a subscription: a SUBSCRIBE with Expires: 0 in its
// dialog (RFC 6665 §4.1.2.3). SubscriptionEnded follows with the
// notifier's final NOTIFY, or 64·T1 after the 2xx without one.
func (u *UA) Unsubscribe(now effects.Time, id uint64, out []effects.Effect) ([]effects.Effect, error) {
	sub := u.subs[id]
	if sub == nil || sub.notifier {
		return out, ErrNoSubscription
	}
	if sub.unsubscribing || sub.unsubWanted {
		return out, ErrPending
	}
	if sub.d == nil {
		// The SUBSCRIBE is unanswered: unsubscribe once its dialog exists.
		sub.unsubWanted = true
		return out, nil
	}
	return u.sendUnsubscribe(now, sub, out)
}

func (u *UA) sendUnsubscribe(now effects.Time, sub *subscription, out []effects.Effect) ([]effects.Effect, error) {
	sub.unsubscribing = true
	out = u.cancelTimer(&sub.tRefresh, out)
	return u.refreshSub(now, sub, 0, out)
}

// refreshSub sends a SUBSCRIBE in the subscription's dialog: a refresh, or
// with expires 0 an unsubscribe. The implicit subscription of a REFER is
// refreshed with Event: refer;id=... (RFC 3515 §2.4.6).
func (u *UA) refreshSub(now effects.Time, sub *subscription, expires time.Duration, out []effects.Effect) ([]effects.Effect, error) {
	if sub.refreshing && expires > 0 {
		return out, ErrPending
	}
	req, next, err := sub.d.Request("SUBSCRIBE", dialog.RequestOptions{Via: u.via(sub.peer)})
	if err != nil {
		return out, fmt.Errorf("ua: refresh: %w", err)
	}
	if err := u.subscribeFields(req, sub.event, expires, sub.accept); err != nil {
		return out, fmt.Errorf("ua: refresh: %w", err)
	}
	role := txnRole{kind: roleOwned, owner: subOwner{u}, ref: sub.id, dlg: sub.d}
	if _, out, err = u.newClient(now, req, nextHop(next, sub.peer), role, out); err != nil {
		return out, fmt.Errorf("ua: refresh: %w", err)
	}
	sub.refreshing = true
	return out, nil
}

// refreshAnswered handles the response to a SUBSCRIBE in the dialog.
func (u *UA) refreshAnswered(now effects.Time, sub *subscription, req, m *message.Message, out []effects.Effect) []effects.Effect {
	sub.refreshing = false
	code := m.StatusCode()
	if code >= 300 {
		return u.refreshFailed(sub, code, m, out)
	}
	sub.d.RefreshTarget(m)
	if exp, _, _ := message.First[header.Expires](req); exp == 0 {
		// Unsubscribed: the final NOTIFY ends it, or Timer N.
		out = u.cancelTimer(&sub.tExpiry, out)
		return u.startTimerN(sub, out)
	}
	return u.granted(now, sub, m, out)
}

// refreshFailed handles a refresh or unsubscribe that failed: the
// subscription ends when it was an unsubscribe, or when the refresh was
// refused with one of the codes RFC 6665 §4.1.2.2 lists as ending it (see
// refreshEnds); any other failure, a timeout among them, leaves it valid
// until the expiry last known, from the last 2xx or a NOTIFY's
// Subscription-State (§4.1.2.2), when it ends unless refreshed meanwhile.
func (u *UA) refreshFailed(sub *subscription, code int, m *message.Message, out []effects.Effect) []effects.Effect {
	sub.refreshing = false
	switch {
	case sub.unsubscribing:
		return u.endSub(sub, code, "", 0, ErrUnsubscribed, m, out)
	case refreshEnds(code):
		return u.endSub(sub, code, "", 0, ErrDialogGone, m, out)
	}
	return out
}

// refreshEnds reports whether a refresh refused with code ends the
// subscription: RFC 6665 §4.1.2.2 lists 404, 405, 410, 416, 480 to 485,
// 489, 501 and 604. Any other failure, a timeout (408, RFC 3261 §8.1.3.1)
// or a 403 among them, leaves the subscription valid until it expires.
func refreshEnds(code int) bool {
	switch code {
	case 404, 405, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604:
		return true
	}
	return false
}

// notifyAnswered handles the response to a NOTIFY this notifier sent: one
// that says the subscriber no longer has the subscription or dialog ends
// it (RFC 6665 §4.2.2, RFC 5057 §5.1).
func (u *UA) notifyAnswered(sub *subscription, code int, m *message.Message, out []effects.Effect) []effects.Effect {
	if code < 300 || dialog.Impact(code) == dialog.TransactionOnly {
		return out
	}
	return u.endSub(sub, code, "", 0, ErrDialogGone, m, out)
}

// subRequest handles a SUBSCRIBE, NOTIFY or REFER inside dialog d (the
// dialog of the call s, or nil for a dialog of subscriptions only); d has
// already checked its CSeq.
func (u *UA) subRequest(now effects.Time, d *dialog.Dialog, s *session, ev effects.Event, out []effects.Effect) []effects.Effect {
	switch ev.Msg.Method() {
	case "NOTIFY":
		return u.notifyReceived(now, d, ev, out)
	case "REFER":
		return u.subscribeIncoming(now, ev, d, s, out)
	}
	m := ev.Msg
	e, err := header.ParseValue[header.Event](eventValue(m))
	if err != nil {
		return u.reply(now, ev.ID, m, 489, d.ID.LocalTag, u.allowEvents, out)
	}
	for _, sub := range u.subsByDlg[d.ID] {
		if sub.notifier && sub.event.Matches(e) {
			return u.subscribeRefresh(now, sub, ev, out)
		}
	}
	return u.subscribeIncoming(now, ev, d, s, out)
}

// eventValue returns a request's Event value ("o" is its compact form).
func eventValue(m *message.Message) string {
	v, _ := m.Get("Event")
	return v
}

// subDialogRequest handles a request whose dialog is no call's: one of a
// dialog of subscriptions only, or a NOTIFY that creates a subscription's
// dialog (it may come before the 2xx, RFC 6665 §4.1.2.4). Anything else
// gets 481.
func (u *UA) subDialogRequest(now effects.Time, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	id := dialog.IDOf(m, true)
	d := u.subDlgs[id]
	if d == nil && m.Method() == "NOTIFY" {
		// A NOTIFY without a Subscription-State (RFC 6665 §8.2.3) is
		// refused before it creates a dialog: a subscription made by a
		// NOTIFY that got 400 would be known to nobody and end never.
		if _, ok, err := message.First[header.SubscriptionState](m); err != nil || !ok {
			return u.reply(now, ev.ID, m, 400, "", nil, out)
		}
		d = u.notifyDialog(m, id, ev.From)
	}
	if d == nil {
		return u.reply(now, ev.ID, m, 481, "", nil, out)
	}
	if err := d.Receive(m); err != nil {
		if errors.Is(err, dialog.ErrOutOfOrder) {
			return u.reply(now, ev.ID, m, 500, d.ID.LocalTag, nil, out)
		}
		return u.reply(now, ev.ID, m, 481, d.ID.LocalTag, nil, out)
	}
	switch m.Method() {
	case "SUBSCRIBE", "NOTIFY", "REFER":
		return u.subRequest(now, d, nil, ev, out)
	case "OPTIONS":
		return u.reply(now, ev.ID, m, 200, d.ID.LocalTag, u.capabilities, out)
	}
	// RFC 5057 §5.5: the dialog has no INVITE usage for a BYE, re-INVITE or
	// UPDATE to act on.
	return u.reply(now, ev.ID, m, 481, d.ID.LocalTag, nil, out)
}

// notifyDialog makes the dialog a NOTIFY establishes for a SUBSCRIBE of
// ours that is still open to forks (RFC 6665 §4.1.2.4: Call-ID, our From
// tag and Event match), with the route set and target of the NOTIFY, as a
// UAS does. The dialog belongs to the first subscription when it has none
// yet, or to a new one.
func (u *UA) notifyDialog(m *message.Message, id dialog.ID, from effects.Peer) *dialog.Dialog {
	org := u.origins[originKey{m.CallID(), m.ToTag()}]
	if org == nil || org.first == nil {
		return nil
	}
	e, err := header.ParseValue[header.Event](eventValue(m))
	if err != nil || !e.Matches(org.first.event) {
		return nil
	}
	d, err := dialog.NewUAS(m, m.ToTag(), u.localContact(), from.Transport.Secure())
	if err != nil {
		return nil
	}
	d.LocalSeq = org.req.CSeq().Seq
	d.Confirm(m, false)
	d.RemoteSeqSet = false // Receive records the NOTIFY's CSeq
	sub := u.forkSub(org, id)
	if sub == nil || sub.ended || sub.d != nil {
		// A late NOTIFY of a subscription that ended: no new one.
		return nil
	}
	u.attach(sub, d)
	return d
}

// notifyReceived handles a NOTIFY in dialog d (RFC 6665 §4.1.3): it is
// answered 200 when it matches a subscription, 481 when none, and its
// Subscription-State moves the subscription on.
func (u *UA) notifyReceived(now effects.Time, d *dialog.Dialog, ev effects.Event, out []effects.Effect) []effects.Effect {
	m, local := ev.Msg, d.ID.LocalTag
	e, err := header.ParseValue[header.Event](eventValue(m))
	if err != nil {
		return u.reply(now, ev.ID, m, 489, local, u.allowEvents, out)
	}
	st, ok, err := message.First[header.SubscriptionState](m)
	if err != nil || !ok {
		return u.reply(now, ev.ID, m, 400, local, nil, out)
	}
	sub := u.subscriberFor(d, e)
	if sub == nil {
		return u.reply(now, ev.ID, m, 481, local, nil, out)
	}
	out = u.reply(now, ev.ID, m, 200, local, nil, out)
	d.RefreshTarget(m)
	sub.gotNotify = true
	if !sub.unsubscribing {
		out = u.cancelTimer(&sub.tN, out)
	}
	if st.Is(header.SubStateTerminated) {
		out = u.reportNotify(sub, m, out)
		retry, _ := st.RetryAfter()
		cause := reasonErr(st.Reason())
		if sub.unsubscribing {
			cause = ErrUnsubscribed
		}
		return u.endSub(sub, 0, st.Reason(), time.Duration(retry)*time.Second, cause, m, out)
	}
	out = u.stateChange(now, sub, st, m, out)
	out = u.reportNotify(sub, m, out)
	if sub.unsubWanted {
		// Unsubscribe was asked before any dialog existed.
		sub.unsubWanted = false
		out, _ = u.sendUnsubscribe(now, sub, out)
	}
	return out
}

// subscriberFor finds the subscription of ours in dialog d that a NOTIFY's
// Event names. A refer NOTIFY without an id matches the dialog's only
// REFER (RFC 3515 §2.4.6 before RFC 6665 made the id mandatory).
func (u *UA) subscriberFor(d *dialog.Dialog, e header.Event) *subscription {
	var refers []*subscription
	for _, sub := range u.subsByDlg[d.ID] {
		if sub.notifier {
			continue
		}
		if sub.event.Matches(e) {
			return sub
		}
		if sub.refer && e.Type == "refer" {
			refers = append(refers, sub)
		}
	}
	if len(refers) == 1 && e.ID() == "" {
		return refers[0]
	}
	return nil
}

// reportNotify delivers a NOTIFY's content: for a REFER, the status of its
// message/sipfrag body (TransferProgress); else the NOTIFY itself.
func (u *UA) reportNotify(sub *subscription, m *message.Message, out []effects.Effect) []effects.Effect {
	if sub.refer {
		if code, ok := sipfragStatus(m.Body()); ok {
			return deliver(out, effects.Event{Kind: effects.TransferProgress, ID: sub.id, Ref: sub.call, Msg: m, Code: code})
		}
		return out
	}
	return deliver(out, effects.Event{Kind: effects.NotifyReceived, ID: sub.id, Ref: sub.ref, Msg: m})
}

// stateChange applies an active or pending Subscription-State: the event
// when the state changes, and the expires parameter, which may shorten the
// subscription (RFC 6665 §4.1.3).
func (u *UA) stateChange(now effects.Time, sub *subscription, st header.SubscriptionState, m *message.Message, out []effects.Effect) []effects.Effect {
	if exp, ok := st.Expires(); ok && !sub.unsubscribing {
		// The notifier's word on the time left stands (RFC 6665 §4.1.3).
		out = u.setExpiry(now, sub, time.Duration(exp)*time.Second, false, out)
	}
	state := strings.ToLower(st.State)
	if state == sub.state || sub.refer || (state != header.SubStateActive && state != header.SubStatePending) {
		return out
	}
	sub.state = state
	kind := effects.SubscriptionActive
	if state == header.SubStatePending {
		kind = effects.SubscriptionPending
	}
	return deliver(out, effects.Event{Kind: kind, ID: sub.id, Ref: sub.ref, Msg: m})
}

// sipfragStatus reads the status code of a message/sipfrag body's status
// line ("SIP/2.0 180 Ringing").
func sipfragStatus(body string) (int, bool) {
	line, _, _ := strings.Cut(body, "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") || len(f[1]) != 3 {
		return 0, false
	}
	code := 0
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, code >= 100
}

// subscribeIncoming handles a SUBSCRIBE or REFER that asks for a new
// subscription, outside any dialog (d nil) or in dialog d (the call s's,
// or one of subscriptions only): an unknown event package gets 489 with
// Allow-Events, a known one goes to the application (SubscribeIncoming,
// ReferIncoming).
func (u *UA) subscribeIncoming(now effects.Time, ev effects.Event, d *dialog.Dialog, s *session, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	tag := ""
	if d != nil {
		tag = d.ID.LocalTag
	}
	e, pkg, code := u.requestedEvent(m)
	if code != 0 {
		fill := u.allowEvents
		if code != 489 {
			fill = nil
		}
		return u.reply(now, ev.ID, m, code, tag, fill, out)
	}
	if d == nil {
		tag = u.cfg.Gen.Tag()
		nd, err := dialog.NewUAS(m, tag, u.localContact(), ev.From.Transport.Secure())
		if err != nil {
			return u.reply(now, ev.ID, m, 400, tag, nil, out)
		}
		nd.Confirm(m, false)
		d = nd
	}
	sub := u.newSub(e, ev.From)
	sub.notifier, sub.pkg, sub.refer = true, pkg, m.Method() == "REFER"
	sub.waitTxn, sub.waitReq, sub.d = ev.ID, m, d
	sub.wanted = pkg.Expires
	if exp, ok, err := message.First[header.Expires](m); err == nil && ok && !sub.refer {
		sub.wanted = time.Duration(exp) * time.Second
	}
	if pkg.MaxExpires > 0 {
		sub.wanted = min(sub.wanted, pkg.MaxExpires)
	}
	if s != nil {
		sub.call = s.c.id
	}
	// The application answers before the subscriber's Timer F runs out,
	// or the UA answers 408 for it (RFC 3261 §21.4.9).
	id := sub.id
	sub.tGuard, out = u.setFuncTimer(60*u.t1(), func(now effects.Time, out []effects.Effect) []effects.Effect {
		if sub := u.subs[id]; sub != nil && sub.waitTxn != 0 {
			sub.tGuard = 0
			out, _ = u.RejectSubscription(now, id, 408, out)
		}
		return out
	}, out)
	kind := effects.SubscribeIncoming
	if sub.refer {
		kind, sub.referReq = effects.ReferIncoming, m
	}
	return deliver(out, effects.Event{Kind: kind, ID: sub.id, Ref: sub.call, Msg: m, From: ev.From})
}

// requestedEvent checks the event a SUBSCRIBE or REFER asks for: a REFER
// is the refer package with the REFER's CSeq as id (RFC 3515 §2.4.6) and
// needs exactly one Refer-To (else 400); a SUBSCRIBE needs an Event of a
// package this UA serves (else 489), and never creates a refer
// subscription (403).
func (u *UA) requestedEvent(m *message.Message) (header.Event, EventPackage, int) {
	if m.Method() == "REFER" {
		rt, err := message.All[header.ReferTo](m)
		if err != nil || len(rt) != 1 {
			return header.Event{}, EventPackage{}, 400
		}
		pkg, _ := u.pkgFor(header.Event{Type: "refer"})
		return header.Event{Type: "refer", Params: header.Params(fmt.Sprintf(";id=%d", m.CSeq().Seq))}, pkg, 0
	}
	e, err := header.ParseValue[header.Event](eventValue(m))
	if err != nil {
		return e, EventPackage{}, 489
	}
	if e.Type == "refer" {
		return e, EventPackage{}, 403
	}
	pkg, ok := u.pkgFor(e)
	if !ok {
		return e, pkg, 489
	}
	return e, pkg, 0
}

// waitingSub returns the notifier's subscription whose SUBSCRIBE or REFER
// waits for the application.
func (u *UA) waitingSub(id uint64) (*subscription, error) {
	sub := u.subs[id]
	if sub == nil || !sub.notifier {
		return nil, ErrNoSubscription
	}
	if sub.waitTxn == 0 {
		return nil, ErrState
	}
	return sub, nil
}

// AcceptSubscription accepts the SUBSCRIBE of SubscribeIncoming id with a
// 200 granting expires (the duration asked for when 0 or longer), and at
// once sends the NOTIFY with the subscription's state, active, as RFC 6665
// §4.2.1.2 requires (with no body yet: Notify sends the resource's state).
// A SUBSCRIBE with Expires: 0 (a fetch) gets its one NOTIFY, terminated.
// For a REFER, use AcceptRefer.
func (u *UA) AcceptSubscription(now effects.Time, id uint64, expires time.Duration, out []effects.Effect) ([]effects.Effect, error) {
	return u.acceptSub(now, id, expires, header.SubStateActive, out)
}

// PendSubscription accepts the SUBSCRIBE of SubscribeIncoming id while its
// authorization is pending: 200, then a NOTIFY with Subscription-State
// pending (RFC 6665 §4.2.1.1). Notify with state active or terminated
// follows once the application decides.
func (u *UA) PendSubscription(now effects.Time, id uint64, expires time.Duration, out []effects.Effect) ([]effects.Effect, error) {
	return u.acceptSub(now, id, expires, header.SubStatePending, out)
}

func (u *UA) acceptSub(now effects.Time, id uint64, expires time.Duration, state string, out []effects.Effect) ([]effects.Effect, error) {
	sub, err := u.waitingSub(id)
	if err != nil {
		return out, err
	}
	grant := sub.wanted
	if expires > 0 && expires < grant {
		grant = expires
	}
	code := 200
	if sub.refer {
		code = 202 // RFC 3515 §2.4.2
	}
	if sub.d.State == dialog.Terminated {
		// The call whose dialog the request came in ended meanwhile.
		return u.RejectSubscription(now, id, 481, out)
	}
	req, tid := sub.waitReq, sub.waitTxn
	sub.waitReq, sub.waitTxn = nil, 0
	out = u.cancelTimer(&sub.tGuard, out)
	out = u.reply(now, tid, req, code, sub.d.ID.LocalTag, func(resp *message.Message) error {
		return u.acceptFields(resp, req, sub.d, grant)
	}, out)
	d := sub.d
	u.attach(sub, d)
	if req.Method() == "SUBSCRIBE" {
		d.RefreshTarget(req)
	}
	sub.state = state
	if grant <= 0 {
		return u.finalNotify(now, sub, terminated("timeout"), ErrSubTimeout, out), nil
	}
	out = u.setExpiry(now, sub, grant, true, out)
	if sub.refer {
		sub.body, sub.lastFrag = []byte("SIP/2.0 100 Trying\r\n"), 100
	}
	return u.sendNotify(now, sub, header.SubscriptionState{State: state}, out)
}

// acceptFields fills the 2xx accepting a SUBSCRIBE or REFER: our Contact,
// the Record-Route of a dialog-creating request (§12.1.1) and the granted
// Expires.
func (u *UA) acceptFields(resp, req *message.Message, d *dialog.Dialog, grant time.Duration) error {
	if err := message.Set(resp, header.Contact{URI: d.LocalTarget}); err != nil {
		return err
	}
	if req.ToTag() == "" {
		for _, rr := range req.Values("Record-Route") {
			if err := resp.Add("Record-Route", rr); err != nil {
				return err
			}
		}
	}
	return message.Set(resp, header.Expires(uint32(grant/time.Second)))
}

// RejectSubscription refuses the SUBSCRIBE or REFER of SubscribeIncoming
// or ReferIncoming id with code (403 by default; 489 for an event the
// application does not serve after all, 603 to decline a REFER).
func (u *UA) RejectSubscription(now effects.Time, id uint64, code int, out []effects.Effect) ([]effects.Effect, error) {
	sub, err := u.waitingSub(id)
	if err != nil {
		return out, err
	}
	if code == 0 {
		code = 403
	}
	if code < 300 || code > 699 {
		return out, fmt.Errorf("%w: a rejection is a final non-2xx response, not %d", ErrState, code)
	}
	req, tid := sub.waitReq, sub.waitTxn
	sub.waitReq, sub.waitTxn = nil, 0
	var fill func(*message.Message) error
	if code == 489 {
		fill = u.allowEvents
	}
	out = u.reply(now, tid, req, code, sub.d.ID.LocalTag, fill, out)
	sub.d = nil // never attached
	return u.endSub(sub, code, "rejected", 0, ErrRejected, nil, out), nil
}

// Notify sends a NOTIFY for the subscription id (which this UA accepted)
// with state and body, the resource's state in the package's ContentType
// (RFC 6665 §4.2.2). For active and pending states the UA adds expires (the
// time left); terminated, with a reason parameter of the application's
// choice ("noresource", "deactivated", ...; default "noresource"), ends the
// subscription.
func (u *UA) Notify(now effects.Time, id uint64, state header.SubscriptionState, body []byte, out []effects.Effect) ([]effects.Effect, error) {
	sub := u.subs[id]
	if sub == nil || !sub.notifier {
		return out, ErrNoSubscription
	}
	if sub.waitTxn != 0 || sub.refer {
		return out, ErrState
	}
	if len(body) > 0 && sub.pkg.ContentType == "" {
		return out, fmt.Errorf("%w: package %s has no ContentType for NOTIFY bodies", ErrConfig, sub.pkg.Name)
	}
	sub.body = body
	if state.Is(header.SubStateTerminated) {
		if state.Reason() == "" {
			state.Params = state.Params.With("reason", "noresource")
		}
		return u.finalNotify(now, sub, state, reasonErr(state.Reason()), out), nil
	}
	if !state.Is(header.SubStateActive) && !state.Is(header.SubStatePending) {
		return out, fmt.Errorf("%w: Subscription-State %q", ErrState, state.State)
	}
	sub.state = strings.ToLower(state.State)
	return u.sendNotify(now, sub, header.SubscriptionState{State: sub.state}, out)
}

// sendNotify sends a NOTIFY in the subscription's dialog with its state
// (expires added for active and pending) and its current body.
func (u *UA) sendNotify(now effects.Time, sub *subscription, st header.SubscriptionState, out []effects.Effect) ([]effects.Effect, error) {
	if !st.Is(header.SubStateTerminated) {
		left := max(sub.until.Sub(now), 0)
		st.Params = st.Params.With("expires", fmt.Sprint(int64((left+time.Second/2)/time.Second)))
	}
	ct := ""
	if len(sub.body) > 0 {
		ct = sub.pkg.ContentType
	}
	req, next, err := sub.d.Request("NOTIFY", dialog.RequestOptions{Via: u.via(sub.peer), ContentType: ct, Body: sub.body})
	if err != nil {
		return out, fmt.Errorf("ua: notify: %w", err)
	}
	if err := message.Set(req, sub.event); err != nil {
		return out, fmt.Errorf("ua: notify: %w", err)
	}
	if err := message.Set(req, st); err != nil {
		return out, fmt.Errorf("ua: notify: %w", err)
	}
	if u.cfg.UserAgent != "" {
		message.Set(req, header.UserAgent(u.cfg.UserAgent))
	}
	role := txnRole{kind: roleOwned, owner: subOwner{u}, ref: sub.id, dlg: sub.d}
	if _, out, err = u.newClient(now, req, nextHop(next, sub.peer), role, out); err != nil {
		return out, fmt.Errorf("ua: notify: %w", err)
	}
	return out, nil
}

// finalNotify ends a subscription of this notifier with a NOTIFY whose
// state is terminated with reason (RFC 6665 §4.2.2).
func (u *UA) finalNotify(now effects.Time, sub *subscription, st header.SubscriptionState, cause error, out []effects.Effect) []effects.Effect {
	out, _ = u.sendNotify(now, sub, st, out)
	retry, _ := st.RetryAfter()
	return u.endSub(sub, 0, st.Reason(), time.Duration(retry)*time.Second, cause, nil, out)
}

// terminated is a terminated Subscription-State with reason.
func terminated(reason string) header.SubscriptionState {
	return header.SubscriptionState{State: header.SubStateTerminated, Params: header.Params(";reason=" + reason)}
}

// subscribeRefresh handles a SUBSCRIBE in the dialog of a subscription this
// UA notifies: a refresh (200 with the granted Expires, then a NOTIFY with
// the current state, RFC 6665 §4.2.1.2) or, with Expires: 0, the end (200,
// then the final NOTIFY, terminated).
func (u *UA) subscribeRefresh(now effects.Time, sub *subscription, ev effects.Event, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	if sub.waitTxn != 0 {
		return u.reply(now, ev.ID, m, 500, sub.d.ID.LocalTag, func(r *message.Message) error {
			return message.Set(r, header.RetryAfter{Delta: 1})
		}, out)
	}
	grant := sub.pkg.Expires
	if exp, ok, err := message.First[header.Expires](m); err == nil && ok {
		grant = time.Duration(exp) * time.Second
	}
	if sub.pkg.MaxExpires > 0 {
		grant = min(grant, sub.pkg.MaxExpires)
	}
	out = u.reply(now, ev.ID, m, 200, sub.d.ID.LocalTag, func(resp *message.Message) error {
		if err := message.Set(resp, header.Contact{URI: sub.d.LocalTarget}); err != nil {
			return err
		}
		return message.Set(resp, header.Expires(uint32(grant/time.Second)))
	}, out)
	sub.d.RefreshTarget(m)
	if grant <= 0 {
		return u.finalNotify(now, sub, terminated("timeout"), ErrUnsubscribed, out)
	}
	out = u.setExpiry(now, sub, grant, true, out)
	out, _ = u.sendNotify(now, sub, header.SubscriptionState{State: sub.state}, out)
	return deliver(out, effects.Event{Kind: effects.SubscriptionRefreshed, ID: sub.id, Ref: sub.call, Msg: m})
}

// retryMinExpires sends a SUBSCRIBE refused with 423 again, asking for
// the Min-Expires the notifier wants, at most twice per request.
func (u *UA) retryMinExpires(now effects.Time, sub *subscription, r txnRole, m *message.Message, out []effects.Effect) ([]effects.Effect, bool) {
	me, ok, err := message.First[header.MinExpires](m)
	if err != nil || !ok || me == 0 || r.resent >= 2 || sub.ended {
		return out, false
	}
	out, err = u.resend(now, r, func(req *message.Message) error {
		return message.Set(req, header.Expires(uint32(me)))
	}, out)
	if err != nil {
		return out, false
	}
	sub.wanted = time.Duration(me) * time.Second
	return out, true
}
