package ua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/txn"
	"github.com/sansip/sansip/uri"
)

// RequestOptions are the parts of a request sent with Request outside any
// dialog.
type RequestOptions struct {
	// From is the sender; by default Config.AOR. To is the recipient; by
	// default the target.
	From header.From
	To   header.To
	// Dest is where the request goes first: the outbound proxy, or the
	// recipient's address.
	Dest effects.Peer
	// Routes is a preloaded route set (§8.1.2).
	Routes []header.Route
	// ContentType and Body are the request's body (text/plain, for
	// instance, for a MESSAGE).
	ContentType string
	Body        []byte
	// Contact adds this UA's Contact (OPTIONS, INFO); MESSAGE goes
	// without one (RFC 3428 §4).
	Contact bool
	// Fields are more header fields, written as given (name, value);
	// a field that is not a valid header field is refused.
	Fields [][2]string
}

// ReplyOptions are the parts of a response sent with Reply.
type ReplyOptions struct {
	Reason      string
	ContentType string
	Body        []byte
	Fields      [][2]string
}

// request is an application request in progress.
type request struct {
	id   uint64
	call CallID // the call whose dialog it went in, or 0
}

// incomingReq is a request the application has yet to answer.
type incomingReq struct {
	id     uint64
	txn    txn.ID
	req    *message.Message
	tag    string // the To tag of the response: the dialog's, or a new one
	tGuard effects.TimerID
}

// Request sends a request outside any dialog (MESSAGE per RFC 3428, OPTIONS
// per §11, INFO, or any method) and returns its id; RequestDone follows
// with the final response. A 401 or 407 is answered first when
// Config.Credentials has credentials for the realm.
func (u *UA) Request(now effects.Time, method string, target uri.URI, o RequestOptions, out []effects.Effect) (uint64, []effects.Effect, error) {
	if method == "INVITE" || method == "ACK" || method == "CANCEL" || method == "PRACK" || method == "BYE" || method == "UPDATE" {
		return 0, out, fmt.Errorf("%w: %s is sent by the call commands", ErrState, method)
	}
	from := o.From
	if from.URI.Host == "" && from.URI.Opaque == "" && from.URI.User == "" {
		from = header.From{URI: u.cfg.AOR}
	}
	to := o.To
	if to.URI.Scheme == 0 && to.URI.Opaque == "" {
		to = header.To{URI: target}
	}
	ro := message.RequestOptions{
		From: from, To: to, Via: u.via(o.Dest), Routes: o.Routes,
		ContentType: o.ContentType, Body: o.Body, Gen: u.cfg.Gen,
	}
	if ro.ContentType == "" && len(ro.Body) > 0 {
		return 0, out, fmt.Errorf("%w: a body needs its ContentType", ErrState)
	}
	if o.Contact {
		ro.Contact = &header.Contact{URI: u.localContact()}
	}
	if method == "OPTIONS" {
		ro.Supported, ro.Allow = u.cfg.Supported, u.cfg.Allow
	}
	req, err := message.NewRequest(method, target, ro)
	if err != nil {
		return 0, out, fmt.Errorf("ua: %s: %w", method, err)
	}
	if err := u.decorate(req, o.Fields); err != nil {
		return 0, out, err
	}
	return u.startRequest(now, req, o.Dest, 0, nil, out)
}

// CallRequest sends a request in the dialog of an established call: INFO
// (RFC 6086) or MESSAGE, with its body. RequestDone follows.
func (u *UA) CallRequest(now effects.Time, id CallID, method, contentType string, body []byte, out []effects.Effect) (uint64, []effects.Effect, error) {
	switch method {
	case "INVITE", "ACK", "CANCEL", "PRACK", "BYE", "UPDATE":
		return 0, out, fmt.Errorf("%w: %s is sent by the call commands", ErrState, method)
	}
	s, err := u.established(id)
	if err != nil {
		return 0, out, err
	}
	if contentType == "" && len(body) > 0 {
		return 0, out, fmt.Errorf("%w: a body needs its content type", ErrState)
	}
	req, next, err := s.d.Request(method, dialog.RequestOptions{Via: u.via(s.peer), ContentType: contentType, Body: body})
	if err != nil {
		return 0, out, fmt.Errorf("ua: %s: %w", method, err)
	}
	if u.cfg.UserAgent != "" {
		message.Set(req, header.UserAgent(u.cfg.UserAgent))
	}
	return u.startRequest(now, req, nextHop(next, s.peer), id, s, out)
}

func (u *UA) decorate(req *message.Message, fields [][2]string) error {
	if u.cfg.UserAgent != "" {
		if err := message.Set(req, header.UserAgent(u.cfg.UserAgent)); err != nil {
			return err
		}
	}
	for _, f := range fields {
		if err := req.Add(f[0], f[1]); err != nil {
			return fmt.Errorf("ua: field %s: %w", f[0], err)
		}
	}
	return nil
}

func (u *UA) startRequest(now effects.Time, req *message.Message, to effects.Peer, call CallID, s *session, out []effects.Effect) (uint64, []effects.Effect, error) {
	u.nextID++
	r := &request{id: u.nextID, call: call}
	role := txnRole{kind: roleOwned, owner: requestOwner{u}, ref: r.id}
	if s != nil {
		role.dlg = s.d
	}
	_, out, err := u.newClient(now, req, to, role, out)
	if err != nil {
		return 0, out, err
	}
	u.requests[r.id] = r
	return r.id, out, nil
}

// Requests returns how many of the application's requests are in progress
// or waiting for its answer.
func (u *UA) Requests() int { return len(u.requests) + len(u.waitingReqs) }

// requestOwner routes the responses of the application's requests.
type requestOwner struct{ u *UA }

func (o requestOwner) clientResponse(now effects.Time, r txnRole, m *message.Message, out []effects.Effect) []effects.Effect {
	u := o.u
	req := u.requests[r.ref]
	if req == nil || m.StatusCode() < 200 {
		return out
	}
	delete(u.requests, r.ref)
	out = deliver(out, effects.Event{Kind: effects.RequestDone, ID: req.id, Ref: req.call, Msg: m, Code: m.StatusCode()})
	if s := u.callSession(req.call); s != nil && dialog.Impact(m.StatusCode()) != dialog.TransactionOnly {
		// RFC 5057 §5.1: a 481 (or 408) to a request in the dialog means
		// the peer lost it.
		out = u.dialogGone(now, s, m, out)
	}
	return out
}

func (o requestOwner) clientFailure(now effects.Time, r txnRole, ev effects.Event, out []effects.Effect) []effects.Effect {
	u := o.u
	req := u.requests[r.ref]
	if req == nil {
		return out
	}
	delete(u.requests, r.ref)
	e := effects.Event{Kind: effects.RequestDone, ID: req.id, Ref: req.call, Code: 408, Err: ErrTimeout}
	if ev.Kind == effects.TxnTransportError {
		e.Code, e.Err = 503, ErrTransport
	}
	return deliver(out, e)
}

// callSession returns the kept session of a live call, or nil.
func (u *UA) callSession(id CallID) *session {
	if c := u.calls[id]; c != nil && c.state == stEstablished && c.kept != nil && c.kept.d.State != dialog.Terminated {
		return c.kept
	}
	return nil
}

// appRequest hands a request the application answers (MESSAGE, INFO, ...)
// up as RequestIncoming; s is its dialog's session, or nil outside any.
func (u *UA) appRequest(now effects.Time, ev effects.Event, s *session, out []effects.Effect) []effects.Effect {
	m := ev.Msg
	if code, fill := u.inspectOther(m); code != 0 {
		tag := ""
		if s != nil {
			tag = s.d.ID.LocalTag
		}
		return u.reply(now, ev.ID, m, code, tag, fill, out)
	}
	u.nextID++
	in := &incomingReq{id: u.nextID, txn: ev.ID, req: m}
	var ref CallID
	if s != nil {
		in.tag, ref = s.d.ID.LocalTag, s.c.id
	}
	// The application answers before the sender's Timer F (64·T1) runs
	// out, or the UA answers 408 for it (RFC 3261 §21.4.9).
	id := in.id
	in.tGuard, out = u.setFuncTimer(60*u.t1(), func(now effects.Time, out []effects.Effect) []effects.Effect {
		in := u.waitingReqs[id]
		if in == nil {
			return out
		}
		in.tGuard = 0
		delete(u.waitingReqs, id)
		return u.reply(now, in.txn, in.req, 408, in.tag, nil, out)
	}, out)
	u.waitingReqs[in.id] = in
	return deliver(out, effects.Event{Kind: effects.RequestIncoming, ID: in.id, Ref: ref, Msg: m, From: ev.From})
}

// inspectOther checks the body of a request the application answers
// against Config.AcceptOther.
func (u *UA) inspectOther(m *message.Message) (int, func(*message.Message) error) {
	if len(m.Body()) == 0 || u.cfg.AcceptOther == nil {
		return 0, nil
	}
	ct, ok, err := message.First[header.ContentType](m)
	if err == nil && ok && slices.ContainsFunc(u.cfg.AcceptOther, func(a string) bool {
		return strings.EqualFold(a, ct.Type+"/"+ct.Subtype)
	}) {
		return 0, nil
	}
	return 415, func(resp *message.Message) error {
		return resp.Set("Accept", strings.Join(u.cfg.AcceptOther, ", "))
	}
}

// Reply answers a request delivered as RequestIncoming with code (a final
// response, 200 to 699) and the options' reason, body and fields.
func (u *UA) Reply(now effects.Time, id uint64, code int, o ReplyOptions, out []effects.Effect) ([]effects.Effect, error) {
	in := u.waitingReqs[id]
	if in == nil {
		return out, ErrNoRequest
	}
	if code < 200 || code > 699 {
		return out, fmt.Errorf("%w: Reply sends a final response, not %d", ErrState, code)
	}
	tag := in.tag
	if tag == "" {
		tag = u.cfg.Gen.Tag()
	}
	resp, err := message.NewResponse(in.req, code, o.Reason, message.ResponseOptions{ToTag: tag})
	if err != nil {
		return out, err
	}
	if u.cfg.UserAgent != "" {
		message.Set(resp, header.Server(u.cfg.UserAgent))
	}
	for _, f := range o.Fields {
		if err := resp.Add(f[0], f[1]); err != nil {
			return out, fmt.Errorf("ua: field %s: %w", f[0], err)
		}
	}
	if len(o.Body) > 0 {
		if o.ContentType == "" {
			return out, fmt.Errorf("%w: a body needs its content type", ErrState)
		}
		if err := resp.SetBody(o.ContentType, o.Body); err != nil {
			return out, err
		}
	}
	delete(u.waitingReqs, id)
	out = u.cancelTimer(&in.tGuard, out)
	return u.respond(now, in.txn, resp, out)
}
