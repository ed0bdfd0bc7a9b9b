// Package dialog is the SIP dialog (RFC 3261 §12): the peer-to-peer
// relationship an INVITE or SUBSCRIBE creates, with its identity, state,
// route set, targets and sequence numbers, and the usages that share it
// (RFC 5057).
//
// A Dialog is plain data with the rules of §12 as methods: create it from
// the request and response that establish it (NewUAC, NewUAS), build the
// requests sent inside it (Request), check and record the requests received
// inside it (Receive), refresh its remote target, and tell which responses
// end a usage or the whole dialog (Impact). It holds no timers and sends
// nothing; package ua drives it.
package dialog

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// ID identifies a dialog (§12): the Call-ID and the two tags, as seen from
// this side.
type ID struct {
	CallID    string
	LocalTag  string
	RemoteTag string
}

// String returns "call-id;local;remote".
func (id ID) String() string { return id.CallID + ";" + id.LocalTag + ";" + id.RemoteTag }

// IDOf returns the id of the dialog a message belongs to, seen from this
// side; received says whether this side received the message (a request
// from the peer, or a response to our request) or sends it.
func IDOf(m *message.Message, received bool) ID {
	local, remote := m.FromTag(), m.ToTag()
	if m.IsRequest() == received {
		local, remote = remote, local
	}
	return ID{CallID: m.CallID(), LocalTag: local, RemoteTag: remote}
}

// State is a dialog's state (§12).
type State uint8

// The states.
const (
	Early State = iota + 1
	Confirmed
	Terminated
)

// String names the state.
func (s State) String() string {
	switch s {
	case Early:
		return "early"
	case Confirmed:
		return "confirmed"
	case Terminated:
		return "terminated"
	}
	return "invalid"
}

// Errors from dialog rules, matchable with errors.Is.
var (
	// ErrOutOfOrder: a request's CSeq is lower than the dialog's remote
	// sequence number; answer 500 (§12.2.2).
	ErrOutOfOrder = errors.New("dialog: request out of order")
	// ErrMismatch: a message does not belong to the dialog.
	ErrMismatch = errors.New("dialog: message does not belong to the dialog")
	// ErrNoDialog: the message cannot create a dialog (no tag, no Contact,
	// not a dialog-creating exchange).
	ErrNoDialog = errors.New("dialog: cannot create a dialog")
	// ErrTerminated: the dialog has ended.
	ErrTerminated = errors.New("dialog: terminated")
)

// Dialog is the state of one dialog (§12.1).
type Dialog struct {
	ID    ID
	State State
	// Secure is set when the dialog was created by a request to a sips
	// URI over TLS (§12.1.1, §12.1.2).
	Secure bool
	// LocalSeq is the CSeq number of the last request this side sent in the
	// dialog; RemoteSeq that of the last request received, when
	// RemoteSeqSet (§12.1).
	LocalSeq     uint32
	RemoteSeq    uint32
	RemoteSeqSet bool
	// Local and Remote are this side's and the peer's addresses (From and
	// To), with their tags.
	Local, Remote header.NameAddr
	// LocalTarget is this side's Contact; RemoteTarget the peer's.
	LocalTarget, RemoteTarget uri.URI
	// RouteSet is the route set, in the order requests use it (§12.1.1,
	// §12.1.2).
	RouteSet []header.Route
	// Usages share the dialog (RFC 5057).
	Usages []Usage
}

// NewUAC creates the dialog a response to a dialog-creating request we
// sent establishes (§12.1.2): early for a provisional response with a To
// tag, confirmed for a 2xx. local is our Contact; secure whether the
// request went over TLS to a sips URI.
func NewUAC(req, resp *message.Message, local uri.URI, secure bool) (*Dialog, error) {
	code := resp.StatusCode()
	if code <= 100 || code >= 300 || resp.ToTag() == "" {
		return nil, fmt.Errorf("%w: response %d with To tag %q", ErrNoDialog, code, resp.ToTag())
	}
	target, err := contact(resp)
	if err != nil {
		return nil, err
	}
	d := &Dialog{
		ID:           IDOf(resp, true),
		State:        Early,
		Secure:       secure && req.RequestURI().Scheme == uri.SIPS,
		LocalSeq:     req.CSeq().Seq,
		Local:        header.NameAddr(req.From()),
		Remote:       header.NameAddr(resp.To()),
		LocalTarget:  local,
		RemoteTarget: target,
		RouteSet:     reversedRoutes(resp),
	}
	if code >= 200 {
		d.State = Confirmed
	}
	return d, nil
}

// NewUAS creates the dialog we establish by answering a dialog-creating
// request with a response that carries localTag (§12.1.1). The dialog is
// early until Confirm; local is our Contact.
func NewUAS(req *message.Message, localTag string, local uri.URI, secure bool) (*Dialog, error) {
	if localTag == "" {
		return nil, fmt.Errorf("%w: no local tag", ErrNoDialog)
	}
	target, err := contact(req)
	if err != nil {
		return nil, err
	}
	rr, err := message.All[header.RecordRoute](req)
	if err != nil {
		return nil, err
	}
	to := req.To()
	to.Params = to.Params.With("tag", localTag)
	d := &Dialog{
		ID:           ID{CallID: req.CallID(), LocalTag: localTag, RemoteTag: req.FromTag()},
		State:        Early,
		Secure:       secure && req.RequestURI().Scheme == uri.SIPS,
		RemoteSeq:    req.CSeq().Seq,
		RemoteSeqSet: true,
		Local:        header.NameAddr(to),
		Remote:       header.NameAddr(req.From()),
		LocalTarget:  local,
		RemoteTarget: target,
	}
	for _, r := range rr {
		d.RouteSet = append(d.RouteSet, header.Route(r))
	}
	return d, nil
}

// contact returns the single Contact URI of a dialog-creating message.
func contact(m *message.Message) (uri.URI, error) {
	c, err := message.All[header.Contact](m)
	if err != nil {
		return uri.URI{}, err
	}
	if len(c) != 1 || c[0].Star {
		return uri.URI{}, fmt.Errorf("%w: %d Contact values", ErrNoDialog, len(c))
	}
	return c[0].URI, nil
}

// reversedRoutes returns a response's Record-Route in reverse: the UAC's
// route set (§12.1.2).
func reversedRoutes(resp *message.Message) []header.Route {
	rr, _ := message.All[header.RecordRoute](resp)
	out := make([]header.Route, 0, len(rr))
	for i := len(rr) - 1; i >= 0; i-- {
		out = append(out, header.Route(rr[i]))
	}
	return out
}

// Confirm moves an early dialog to confirmed with the 2xx that does so. On
// the UAC side the route set and remote target are recomputed from the 2xx
// (§13.2.2.4); on the UAS side nothing else changes.
func (d *Dialog) Confirm(resp *message.Message, uac bool) error {
	if d.State == Terminated {
		return ErrTerminated
	}
	if uac {
		if IDOf(resp, true) != d.ID {
			return ErrMismatch
		}
		target, err := contact(resp)
		if err != nil {
			return err
		}
		d.RemoteTarget = target
		d.RouteSet = reversedRoutes(resp)
	}
	d.State = Confirmed
	return nil
}

// RequestOptions are the parts of an in-dialog request that the dialog does
// not determine.
type RequestOptions struct {
	// Via is the request's Via (the TU's transport and sent-by, with a
	// fresh branch).
	Via header.Via
	// CSeq, when non-zero, is used instead of the next sequence number (for
	// an ACK, which repeats its INVITE's, or a CANCEL).
	CSeq uint32
	// Contact adds this side's target; target refresh requests (re-INVITE,
	// UPDATE, SUBSCRIBE, NOTIFY) and REFER always carry it.
	Contact bool
	// Body and its type.
	ContentType string
	Body        []byte
}

// Request builds a request inside the dialog (§12.2.1.1): To with the
// remote tag, From with the local tag, the Call-ID, the next CSeq, the
// Request-URI and Route fields from the remote target and the route set
// (with a strict router's Request-URI when the first route lacks lr), and
// Max-Forwards 70. It returns the request and the URI of the next hop: the
// first route, or the remote target.
func (d *Dialog) Request(method string, o RequestOptions) (*message.Message, uri.URI, error) {
	if d.State == Terminated {
		return nil, uri.URI{}, ErrTerminated
	}
	seq := o.CSeq
	if seq == 0 {
		d.LocalSeq++
		seq = d.LocalSeq
	}
	ruri := d.RemoteTarget
	routes := slices.Clone(d.RouteSet)
	next := d.RemoteTarget
	if len(routes) > 0 {
		next = routes[0].URI
		if !routes[0].URI.Params.Has("lr") {
			// Strict routing: the first route becomes the Request-URI
			// (without the parameters a Request-URI cannot carry) and the
			// remote target goes last.
			ruri = routes[0].URI.WithoutParam("method")
			ruri.Headers = ""
			routes = append(routes[1:], header.Route{URI: d.RemoteTarget})
		}
	}
	var c *header.Contact
	if o.Contact || TargetRefresh(method) || method == "REFER" {
		c = &header.Contact{URI: d.LocalTarget}
	}
	m, err := message.NewRequest(method, ruri, message.RequestOptions{
		From:        header.From(d.Local),
		To:          header.To(d.Remote),
		CallID:      d.ID.CallID,
		CSeq:        seq,
		Via:         o.Via,
		Contact:     c,
		Routes:      routes,
		ContentType: o.ContentType,
		Body:        o.Body,
	})
	if err != nil {
		return nil, uri.URI{}, err
	}
	return m, next, nil
}

// Receive checks a request received inside the dialog and records its
// sequence number (§12.2.2). A request with a CSeq lower than the remote
// sequence number is ErrOutOfOrder (answer 500); ACK and CANCEL, which
// repeat the CSeq of the request they belong to, are not counted. The
// remote target changes only when a target refresh is accepted
// (RefreshTarget).
func (d *Dialog) Receive(req *message.Message) error {
	if d.State == Terminated {
		return ErrTerminated
	}
	if IDOf(req, true) != d.ID {
		return ErrMismatch
	}
	method, seq := req.Method(), req.CSeq().Seq
	if method == "ACK" || method == "CANCEL" {
		return nil
	}
	if d.RemoteSeqSet && seq < d.RemoteSeq {
		return fmt.Errorf("%w: CSeq %d after %d", ErrOutOfOrder, seq, d.RemoteSeq)
	}
	d.RemoteSeq, d.RemoteSeqSet = seq, true
	return nil
}

// RefreshTarget replaces the remote target with the Contact of m, when it
// has one: a 2xx to a target refresh request this side sent (§12.2.1.2), or
// a target refresh request the peer sent, once this side answers it with a
// 2xx. A refresh the UAS refuses changes nothing (RFC 6141 §4, updating
// §12.2.2), so Receive leaves the target alone. The route set never changes
// once the dialog is confirmed.
func (d *Dialog) RefreshTarget(m *message.Message) {
	if target, err := contact(m); err == nil {
		d.RemoteTarget = target
	}
}

// TargetRefresh reports whether a method refreshes the remote target: INVITE
// (re-INVITE) and UPDATE (RFC 3311), SUBSCRIBE and NOTIFY (RFC 6665 §4.4.1).
func TargetRefresh(method string) bool {
	switch method {
	case "INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY":
		return true
	}
	return false
}

// Terminate ends the dialog and all its usages.
func (d *Dialog) Terminate() {
	d.State = Terminated
	d.Usages = nil
}
