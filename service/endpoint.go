package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sansip/sansip/drivers/idgen"
	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sdp"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// CallError is why a call failed: the final response's code and reason,
// or the UA's error (a timeout is 408, a transport failure 503).
type CallError struct {
	Code   int
	Reason string
	Err    error
}

func (e *CallError) Error() string {
	s := "service: call failed: " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += " " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the UA's error.
func (e *CallError) Unwrap() error { return e.Err }

// Call is a call of the local UA: one that a Route decision sent to it
// (Request.Local, heard by Config.OnCall) or one it placed (Dial). Its
// commands never block: they are queued to the call's shard; the call's
// state shows in Answered, Done, Err and RemoteSDP.
type Call struct {
	svc      *Service
	ls       *loop.Shard
	id       ua.CallID
	incoming bool
	callID   string
	ruri     uri.URI
	from     header.From
	to       header.To
	invite   *message.Message
	answered chan struct{}
	done     chan struct{}

	mu     sync.Mutex
	up     bool // answered
	ended  bool
	err    error
	remote []byte
	local  []byte
}

// Incoming reports whether the call came in (rather than Dial placed it).
func (c *Call) Incoming() bool { return c.incoming }

// CallID returns the call's Call-ID (for a placed call, once a response
// came).
func (c *Call) CallID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callID
}

// RequestURI returns the Request-URI of the call's INVITE: whom an
// incoming call is for, whom a placed call went to.
func (c *Call) RequestURI() uri.URI { return c.ruri }

// From and To return the call's From and To as its INVITE carried them.
func (c *Call) From() header.From { return c.from }

// To returns the call's To as its INVITE carried it.
func (c *Call) To() header.To { return c.to }

// Invite returns the INVITE of an incoming call, to be read during
// Config.OnCall only (the core owns it afterwards); nil for a placed
// call.
func (c *Call) Invite() *message.Message { return c.invite }

// RemoteSDP returns the peer's session description: the offer of an
// incoming call, the answer of a placed one (nil until it came).
func (c *Call) RemoteSDP() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// Answered returns a channel closed once the call is answered.
func (c *Call) Answered() <-chan struct{} { return c.answered }

// Done returns a channel closed once the call ended (or failed).
func (c *Call) Done() <-chan struct{} { return c.done }

// Err returns why the call ended, once Done: a *CallError for a failed
// call, ua.ErrRemoteBye, ua.ErrHangup, ...
func (c *Call) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Ring sends a provisional response (180, or code; 183 with sdp is early
// media) for an incoming call.
func (c *Call) Ring(code int, sdp []byte) error {
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.Ring(now, c.id, ua.RingOptions{Code: code, Body: sdp}, out)
	})
}

// Answer answers an incoming call with desc, the session description
// answering its offer (or an offer, when the INVITE had none). With desc
// nil the service makes it from Config.Media (sdp.AnswerTo), and refuses
// the call 488 (Not Acceptable Here, RFC 3261 §13.3.1.3) when nothing
// offered is acceptable.
func (c *Call) Answer(desc []byte) error {
	if desc == nil {
		d, err := sdp.AnswerTo(c.RemoteSDP(), c.svc.media())
		if err != nil {
			c.svc.cfg.Logger.Info("offer not acceptable", "call-id", c.CallID(), "err", err)
			return c.Reject(488, "")
		}
		desc = d
	}
	c.mu.Lock()
	c.local = desc
	c.mu.Unlock()
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.Answer(now, c.id, desc, out)
	})
}

// Reject refuses an incoming call with code (300 to 699: 486 Busy Here,
// 603 Decline...) and a reason phrase ("" for the usual one).
func (c *Call) Reject(code int, reason string) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("service: reject with %d: not a final failure", code)
	}
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.RejectWith(now, c.id, code, ua.RejectOptions{Reason: reason}, out)
	})
}

// Redirect answers an incoming call 302 (Moved Temporarily) with the
// contacts (RFC 3261 §8.3).
func (c *Call) Redirect(contacts ...uri.URI) error {
	if len(contacts) == 0 {
		return errors.New("service: redirect without a contact")
	}
	var cs []header.Contact
	for _, u := range contacts {
		cs = append(cs, header.Contact{URI: u})
	}
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.RejectWith(now, c.id, 302, ua.RejectOptions{Contacts: cs}, out)
	})
}

// Transfer sends the caller to target: a 302 redirection while the call
// rings, a REFER (RFC 3515, a blind transfer) once it is answered.
func (c *Call) Transfer(target uri.URI) error {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	if !up {
		return c.Redirect(target)
	}
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.Refer(now, c.id, target, ua.ReferOptions{}, out)
		return out, err
	})
}

// Hangup ends the call: CANCEL while a placed call rings, 480 for an
// incoming one not answered, BYE once answered.
func (c *Call) Hangup() error {
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		if c.incoming {
			c.mu.Lock()
			up := c.up
			c.mu.Unlock()
			if !up {
				out, err := u.Reject(now, c.id, 480, out)
				if !errors.Is(err, ua.ErrState) {
					return out, err
				}
			}
		}
		return u.Hangup(now, c.id, out)
	})
}

// Send sends a request in the call's dialog (INFO, MESSAGE, ...) with a
// body.
func (c *Call) Send(method, contentType string, body []byte) error {
	return c.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		_, out, err := u.CallRequest(now, c.id, method, contentType, body, out)
		return out, err
	})
}

// cmd queues a UA command for the call; its failure is logged.
func (c *Call) cmd(f uaCmd) error {
	select {
	case <-c.done:
		return fmt.Errorf("service: call %s: %w", c.CallID(), ua.ErrNoCall)
	default:
	}
	return c.svc.uaDo(c.ls, "call command", f)
}

// event updates the call with one of its UA's events.
func (c *Call) event(sh *shard, ev effects.Event) {
	if ev.Msg != nil {
		c.mu.Lock()
		if c.callID == "" {
			c.callID = ev.Msg.CallID()
		}
		c.mu.Unlock()
	}
	switch ev.Kind {
	case effects.CallAnswered:
		c.mu.Lock()
		c.up = true
		if !c.incoming && ev.Msg != nil && len(ev.Msg.Body()) > 0 {
			c.remote = []byte(ev.Msg.Body())
		}
		c.mu.Unlock()
		close(c.answered)
	case effects.SessionEstablished, effects.SessionModified:
		if ev.Msg != nil && len(ev.Msg.Body()) > 0 && (!c.incoming || ev.Msg.IsRequest()) {
			c.mu.Lock()
			c.remote = []byte(ev.Msg.Body())
			c.mu.Unlock()
		}
	case effects.CallReinvite:
		// The peer's re-INVITE or UPDATE (hold, resume, a refresh):
		// accepted with the description given last.
		c.mu.Lock()
		local := c.local
		c.mu.Unlock()
		sh.uaNow("re-INVITE acceptance", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.Accept(now, c.id, local, out)
		})
	case effects.CallFailed:
		reason := ""
		if ev.Msg != nil {
			reason = ev.Msg.Reason()
		}
		c.end(sh, &CallError{Code: ev.Code, Reason: reason, Err: ev.Err})
	case effects.CallEnded:
		err := ev.Err
		if !c.upNow() && ev.Code >= 300 {
			err = &CallError{Code: ev.Code, Err: ev.Err}
		}
		c.end(sh, err)
	}
}

func (c *Call) upNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// end ends the call once.
func (c *Call) end(sh *shard, err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended, c.err = true, err
	c.mu.Unlock()
	delete(sh.calls, c.id)
	close(c.done)
}

// incomingCall hands a call of the local UA to Config.OnCall.
func (sh *shard) incomingCall(ev effects.Event) {
	m := ev.Msg
	c := &Call{svc: sh.s, ls: sh.ls, id: ev.ID, incoming: true, callID: m.CallID(), ruri: m.RequestURI(), from: m.From(), to: m.To(),
		invite: m, answered: make(chan struct{}), done: make(chan struct{})}
	if len(m.Body()) > 0 {
		c.remote = []byte(m.Body())
	}
	sh.calls[c.id] = c
	if sh.s.cfg.OnCall == nil {
		sh.uaNow("call rejection", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.Reject(now, c.id, 480, out)
		})
		return
	}
	sh.callback(func() { sh.s.cfg.OnCall(c) })
}

// uaEvent handles an event of the local UA (not a bridge's).
func (sh *shard) uaEvent(ev effects.Event) {
	switch ev.Kind {
	case effects.CallIncoming:
		sh.incomingCall(ev)
	case effects.RequestIncoming:
		sh.incomingRequest(ev)
	case effects.RequestDone:
		if ch := sh.outgoing[ev.ID]; ch != nil {
			delete(sh.outgoing, ev.ID)
			ch <- requestResult{resp: ev.Msg, code: ev.Code, err: ev.Err}
		}
	case effects.SubscribeIncoming:
		sh.incomingSubscription(ev)
	case effects.SubscriptionEnded:
		if sub := sh.subs[ev.ID]; sub != nil {
			delete(sh.subs, ev.ID)
			sub.end(ev.Err)
		}
	case effects.ReferIncoming:
		// Transfers of the local UA's calls are not taken (603).
		sh.uaNow("REFER rejection", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.RejectSubscription(now, ev.ID, 603, out)
		})
	default:
		if c := sh.calls[ev.ID]; c != nil && ev.Kind >= effects.CallIncoming && ev.Kind <= effects.MediaStopped {
			c.event(sh, ev)
		}
	}
}

// DialOptions are the parts of a call placed with Dial.
type DialOptions struct {
	// From is the caller; by default sip:sansip@ the first domain.
	From header.From
	// Dest is the next hop; zero: the target's registered contact for one
	// of the domains, else its address (DNS, RFC 3263, for a name).
	Dest effects.Peer
	// SDP is the offer; without one the callee offers in its 2xx (the
	// call's RemoteSDP) and the UA answers it with LateAnswer. NoOffer
	// sends no offer; otherwise an SDP left nil is an offer made from
	// Config.Media.
	SDP        []byte
	NoOffer    bool
	LateAnswer []byte
	// Expires, when set, cancels the call unanswered after it.
	Expires time.Duration
}

// Dial places a call to target from any goroutine (not from a callback:
// it waits) and returns it once answered; a failed call returns a
// *CallError with the final response's code. When ctx is done first the
// INVITE is cancelled (CANCEL, RFC 3261 §9.1) and ctx's error returned.
func (s *Service) Dial(ctx context.Context, target uri.URI, o DialOptions) (*Call, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	if err := target.Validate(); err != nil {
		return nil, fmt.Errorf("service: dial %s: %w", target.String(), err)
	}
	dest, err := s.dest(ctx, target, o.Dest)
	if err != nil {
		return nil, err
	}
	if o.SDP == nil && !o.NoOffer {
		d, err := sdp.AnswerTo(nil, s.media())
		if err != nil {
			return nil, fmt.Errorf("service: dial: offer: %w", err)
		}
		o.SDP = d
	}
	ls := s.shardOf()
	c := &Call{svc: s, ls: ls, ruri: target, to: header.To{URI: target}, from: o.From, answered: make(chan struct{}), done: make(chan struct{}), local: o.SDP}
	placed := make(chan error, 1)
	err = s.do(ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
		var id ua.CallID
		out, err := sh.core.UACommand(now, func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			var err error
			id, out, err = u.Call(now, target, ua.CallOptions{From: o.From, Dest: dest.peer, Routes: dest.routes, Body: o.SDP, LateAnswer: o.LateAnswer, Expires: o.Expires}, out)
			return out, err
		}, out)
		if err == nil {
			c.id = id
			sh.calls[id] = c
		}
		placed <- err
		return out
	})
	if err != nil {
		return nil, err
	}
	select {
	case err := <-placed:
		if err != nil {
			return nil, fmt.Errorf("service: dial %s: %w", target.String(), err)
		}
	case <-s.stopped:
		return nil, ErrClosed
	}
	select {
	case <-c.answered:
		return c, nil
	case <-c.done:
		return nil, c.Err()
	case <-ctx.Done():
		c.Hangup()
		select {
		case <-c.answered:
			// The 2xx crossed the CANCEL: the call is up; hang it up.
			c.Hangup()
		case <-c.done:
		case <-s.stopped:
		case <-time.After(64 * 500 * time.Millisecond):
		}
		return nil, ctx.Err()
	case <-s.stopped:
		return nil, ErrClosed
	}
}

// dest is where a request of the local UA to target goes first: given,
// or found (nextHop); an address of record with no reachable binding is a
// *CallError (404, 480).
func (s *Service) dest(ctx context.Context, target uri.URI, given effects.Peer) (hop, error) {
	if given.Addr.IsValid() {
		return hop{peer: given}, nil
	}
	h, code, err := s.nextHop(ctx, target)
	if err != nil {
		return hop{}, err
	}
	if code != 0 {
		return hop{}, &CallError{Code: code, Reason: "no registered contact"}
	}
	return h, nil
}

// wait waits until the service runs.
func (s *Service) wait(ctx context.Context) error {
	select {
	case <-s.started:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopped:
		return ErrClosed
	}
	select {
	case <-s.stopped:
		return ErrClosed
	default:
		return nil
	}
}

// requestResult is a request's outcome.
type requestResult struct {
	resp *message.Message
	code int
	err  error
}

// RequestOptions are the parts of a request sent with Service.Request.
type RequestOptions struct {
	// From is the sender; by default sip:sansip@ the first domain.
	From header.From
	// Dest is the next hop; zero as for Dial.
	Dest effects.Peer
	// ContentType and Body are the request's body.
	ContentType string
	Body        []byte
	// Fields are more header fields (name, value).
	Fields [][2]string
}

// Request sends a request outside any dialog (MESSAGE, OPTIONS, INFO...)
// from any goroutine but a callback, and returns its final response. A
// timeout or transport failure returns a *CallError (408, 503) and no
// response.
func (s *Service) Request(ctx context.Context, method string, target uri.URI, o RequestOptions) (*message.Message, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	dest, err := s.dest(ctx, target, o.Dest)
	if err != nil {
		return nil, err
	}
	res := make(chan requestResult, 1)
	ls := s.shardOf()
	err = s.do(ls, func(sh *shard, now effects.Time, out []effects.Effect) []effects.Effect {
		var id uint64
		out, err := sh.core.UACommand(now, func(u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			var err error
			id, out, err = u.Request(now, method, target, ua.RequestOptions{From: o.From, Dest: dest.peer, Routes: dest.routes,
				ContentType: o.ContentType, Body: o.Body, Fields: o.Fields, Contact: method != "MESSAGE"}, out)
			return out, err
		}, out)
		if err != nil {
			res <- requestResult{err: fmt.Errorf("service: %s %s: %w", method, target.String(), err)}
			return out
		}
		sh.outgoing[id] = res
		return out
	})
	if err != nil {
		return nil, err
	}
	select {
	case r := <-res:
		switch {
		case r.err != nil && r.resp == nil && r.code == 0:
			return nil, r.err
		case r.resp == nil:
			return nil, &CallError{Code: r.code, Err: r.err}
		}
		return r.resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.stopped:
		return nil, ErrClosed
	}
}

// IncomingRequest is a request other than INVITE that the local UA
// received (Config.OnRequest): a MESSAGE, an INFO, outside a call or in
// one. Reply answers it; unanswered, the UA answers 408 before the
// sender gives up.
type IncomingRequest struct {
	svc    *Service
	ls     *loop.Shard
	id     uint64
	msg    *message.Message
	call   *Call
	method string
	from   header.From
	body   []byte
}

// Msg returns the request, to be read during the callback only.
func (r *IncomingRequest) Msg() *message.Message { return r.msg }

// Method returns the request's method.
func (r *IncomingRequest) Method() string { return r.method }

// From returns the sender.
func (r *IncomingRequest) From() header.From { return r.from }

// Body returns the request's body.
func (r *IncomingRequest) Body() []byte { return r.body }

// Call returns the call whose dialog the request came in, or nil.
func (r *IncomingRequest) Call() *Call { return r.call }

// Reply answers the request with code and options (a body, more header
// fields).
func (r *IncomingRequest) Reply(code int, o ua.ReplyOptions) error {
	return r.svc.uaDo(r.ls, r.method+" reply", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.Reply(now, r.id, code, o, out)
	})
}

func (sh *shard) incomingRequest(ev effects.Event) {
	m := ev.Msg
	r := &IncomingRequest{svc: sh.s, ls: sh.ls, id: ev.ID, msg: m, call: sh.calls[ev.Ref], method: m.Method(),
		from: m.From(), body: []byte(m.Body())}
	if sh.s.cfg.OnRequest == nil {
		sh.uaNow("reply", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.Reply(now, ev.ID, 501, ua.ReplyOptions{}, out)
		})
		return
	}
	sh.callback(func() { sh.s.cfg.OnRequest(r) })
}

// Subscription is a subscription to one of Config.Events that the local
// UA received (Config.OnSubscribe, RFC 6665): Accept or Pend it, then
// Notify the resource's state; or Reject it.
type Subscription struct {
	svc   *Service
	ls    *loop.Shard
	id    uint64
	msg   *message.Message
	event string
	from  header.From
	done  chan struct{}
	mu    sync.Mutex
	err   error
}

// Msg returns the SUBSCRIBE, to be read during the callback only.
func (s *Subscription) Msg() *message.Message { return s.msg }

// Event returns the event package's name.
func (s *Subscription) Event() string { return s.event }

// From returns the subscriber.
func (s *Subscription) From() header.From { return s.from }

// Done returns a channel closed once the subscription ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended, once Done.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Accept accepts the subscription for expires (0: the package's
// default); the first NOTIFY follows with Notify.
func (s *Subscription) Accept(expires time.Duration) error {
	return s.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.AcceptSubscription(now, s.id, expires, out)
	})
}

// Reject refuses the subscription with code (403, 489...).
func (s *Subscription) Reject(code int) error {
	return s.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.RejectSubscription(now, s.id, code, out)
	})
}

// Notify sends a NOTIFY with the state ("active", "pending", or
// "terminated", which ends the subscription) and the resource's state.
func (s *Subscription) Notify(state string, body []byte) error {
	return s.cmd(func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
		return u.Notify(now, s.id, header.SubscriptionState{State: state}, body, out)
	})
}

func (s *Subscription) cmd(f uaCmd) error {
	return s.svc.uaDo(s.ls, "subscription command", f)
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.done)
}

func (sh *shard) incomingSubscription(ev effects.Event) {
	m := ev.Msg
	ename := ""
	if v, ok := m.Get("Event"); ok {
		ename = v
	}
	sub := &Subscription{svc: sh.s, ls: sh.ls, id: ev.ID, msg: m, event: ename, from: m.From(), done: make(chan struct{})}
	sh.subs[ev.ID] = sub
	if sh.s.cfg.OnSubscribe == nil {
		sh.uaNow("subscription rejection", func(now effects.Time, u *ua.UA, out []effects.Effect) ([]effects.Effect, error) {
			return u.RejectSubscription(now, ev.ID, 403, out)
		})
		return
	}
	sh.callback(func() { sh.s.cfg.OnSubscribe(sub) })
}

// media returns the capabilities the local UA's calls answer and offer
// with: Config.Media, or G.711 and telephone-event audio at the server's
// address, with a fresh session id.
func (s *Service) media() sdp.Capabilities {
	var c sdp.Capabilities
	if s.cfg.Media != nil {
		c = *s.cfg.Media
	} else {
		c = sdp.Capabilities{Username: "sansip", Address: strings.Trim(s.host, "[]"),
			Media: []sdp.MediaCapability{{Type: "audio", Port: 40000, Codecs: []sdp.Codec{
				{Name: "PCMU", ClockRate: 8000}, {Name: "PCMA", ClockRate: 8000},
				{Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"},
			}}}}
	}
	if c.SessionID == 0 {
		id := idgen.Crypto()() >> 2 // below 2^62: a positive number in any parser
		c.SessionID, c.SessionVersion = id, id
	}
	return c
}
