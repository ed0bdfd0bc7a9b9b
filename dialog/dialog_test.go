package dialog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

func parse(t *testing.T, s string) *message.Message {
	t.Helper()
	m, err := message.ParseString(strings.ReplaceAll(s, "\n", "\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func u(s string) uri.URI {
	x, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return x
}

// The INVITE of RFC 3665 §3.2 as proxy 2 forwards it, and Bob's 180 and
// 200 coming back through both proxies.
const invite = `INVITE sip:bob@client.biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP ss2.biloxi.example.com:5060;branch=z9hG4bK721e4.1
Via: SIP/2.0/TCP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.111
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
Max-Forwards: 68
Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>
Content-Length: 0

`

const ringing = `SIP/2.0 180 Ringing
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@client.biloxi.example.com;transport=tcp>
Content-Length: 0

`

// §12.1.2: the UAC's dialog: early from a 1xx with a tag, its route set the
// Record-Route reversed, its remote target the Contact.
func TestUACDialog(t *testing.T) {
	req, resp := parse(t, invite), parse(t, ringing)
	d, err := NewUAC(req, resp, u("sip:alice@client.atlanta.example.com;transport=tcp"), false)
	if err != nil {
		t.Fatal(err)
	}
	want := ID{CallID: "2xTb9vxSit55XU7p8@atlanta.example.com", LocalTag: "9fxced76sl", RemoteTag: "314159"}
	if d.ID != want || d.State != Early || d.LocalSeq != 1 || d.RemoteSeqSet {
		t.Errorf("dialog %+v", d)
	}
	if got := routeURIs(d.RouteSet); !cmp.Equal(got, []string{"sip:ss1.atlanta.example.com;lr", "sip:ss2.biloxi.example.com;lr"}) {
		t.Errorf("route set %v", got)
	}
	if d.RemoteTarget.String() != "sip:bob@client.biloxi.example.com;transport=tcp" {
		t.Errorf("remote target %v", d.RemoteTarget)
	}
	// §13.2.2.4: the 2xx confirms it and recomputes route set and target.
	ok := parse(t, strings.NewReplacer("180 Ringing", "200 OK", "client.biloxi", "new.biloxi",
		"<sip:ss2.biloxi.example.com;lr>, ", "").Replace(ringing))
	if err := d.Confirm(ok, true); err != nil {
		t.Fatal(err)
	}
	if d.State != Confirmed || len(d.RouteSet) != 1 || d.RemoteTarget.Host != "new.biloxi.example.com" {
		t.Errorf("confirmed %+v", d)
	}
	// A 100 or a response without a tag creates no dialog.
	for _, bad := range []string{strings.Replace(ringing, "180 Ringing", "100 Trying", 1), strings.Replace(ringing, ";tag=314159", "", 1)} {
		if _, err := NewUAC(req, parse(t, bad), u("sip:a@b"), false); !errors.Is(err, ErrNoDialog) {
			t.Errorf("no dialog expected: %v", err)
		}
	}
}

func routeURIs(rs []header.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.URI.String())
	}
	return out
}

// §12.1.1: the UAS's dialog: route set in Record-Route order, remote
// sequence number from the request.
func TestUASDialog(t *testing.T) {
	req := parse(t, invite)
	d, err := NewUAS(req, "314159", u("sip:bob@client.biloxi.example.com;transport=tcp"), false)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != (ID{CallID: req.CallID(), LocalTag: "314159", RemoteTag: "9fxced76sl"}) || !d.RemoteSeqSet || d.RemoteSeq != 1 || d.LocalSeq != 0 {
		t.Errorf("dialog %+v", d)
	}
	if got := routeURIs(d.RouteSet); !cmp.Equal(got, []string{"sip:ss2.biloxi.example.com;lr", "sip:ss1.atlanta.example.com;lr"}) {
		t.Errorf("route set %v", got)
	}
	if d.Local.Tag() != "314159" || d.Remote.Tag() != "9fxced76sl" {
		t.Errorf("tags %q %q", d.Local.Tag(), d.Remote.Tag())
	}
	// A BYE from Bob goes to Alice's Contact through both proxies (§12.2.1.1).
	bye, next, err := d.Request("BYE", RequestOptions{Via: header.Via{Transport: "TCP", Host: "client.biloxi.example.com", Params: ";branch=z9hG4bKnashds7"}})
	if err != nil {
		t.Fatal(err)
	}
	if bye.RequestURI().String() != "sip:alice@client.atlanta.example.com;transport=tcp" || next.Host != "ss2.biloxi.example.com" {
		t.Errorf("BYE to %v via %v", bye.RequestURI(), next)
	}
	if got := bye.Values("Route"); !cmp.Equal(got, []string{"<sip:ss2.biloxi.example.com;lr>", "<sip:ss1.atlanta.example.com;lr>"}) {
		t.Errorf("Route %v", got)
	}
	if bye.FromTag() != "314159" || bye.ToTag() != "9fxced76sl" || bye.CSeq().Seq != 1 || bye.CallID() != req.CallID() {
		t.Errorf("BYE %s", bye)
	}
	if IDOf(bye, false) != d.ID {
		t.Errorf("IDOf our request %v", IDOf(bye, false))
	}
}

// §12.2.1.1: with a strict router first in the route set, the Request-URI
// is that router and the remote target goes last in Route.
func TestStrictRouting(t *testing.T) {
	d := &Dialog{
		ID:           ID{CallID: "c", LocalTag: "l", RemoteTag: "r"},
		State:        Confirmed,
		Local:        header.NameAddr{URI: u("sip:a@a.example.com"), Params: ";tag=l"},
		Remote:       header.NameAddr{URI: u("sip:b@b.example.com"), Params: ";tag=r"},
		RemoteTarget: u("sip:b@192.0.2.4"),
		RouteSet: []header.Route{
			{URI: u("sip:strict.example.com;method=INVITE")},
			{URI: u("sip:loose.example.com;lr")},
		},
	}
	m, next, err := d.Request("INFO", RequestOptions{Via: header.Via{Transport: "UDP", Host: "a.example.com", Params: ";branch=z9hG4bK1"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.RequestURI().String() != "sip:strict.example.com" || next.Host != "strict.example.com" {
		t.Errorf("R-URI %v next %v", m.RequestURI(), next)
	}
	if got := m.Values("Route"); !cmp.Equal(got, []string{"<sip:loose.example.com;lr>", "<sip:b@192.0.2.4>"}) {
		t.Errorf("Route %v", got)
	}
	// CSeq increases; an ACK repeats the number it is given.
	m2, _, _ := d.Request("INFO", RequestOptions{Via: header.Via{Transport: "UDP", Host: "a", Params: ";branch=z9hG4bK2"}})
	ack, _, _ := d.Request("ACK", RequestOptions{Via: header.Via{Transport: "UDP", Host: "a", Params: ";branch=z9hG4bK3"}, CSeq: 1})
	if m.CSeq().Seq != 1 || m2.CSeq().Seq != 2 || ack.CSeq().Seq != 1 || d.LocalSeq != 2 {
		t.Errorf("CSeq %d %d %d, local %d", m.CSeq().Seq, m2.CSeq().Seq, ack.CSeq().Seq, d.LocalSeq)
	}
}

// §12.2.2: a request with a lower CSeq is out of order (500); a target
// refresh replaces the remote target.
func TestReceive(t *testing.T) {
	req := parse(t, invite)
	d, _ := NewUAS(req, "314159", u("sip:bob@b"), false)
	in := func(method string, seq string, contact string) *message.Message {
		s := `METHOD sip:bob@client.biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bKx` + seq + `
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com
CSeq: ` + seq + ` METHOD
` + contact + `Content-Length: 0

`
		return parse(t, strings.ReplaceAll(s, "METHOD", method))
	}
	if err := d.Receive(in("INFO", "2", "")); err != nil {
		t.Fatal(err)
	}
	if err := d.Receive(in("INFO", "1", "")); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("lower CSeq: %v", err)
	}
	if err := d.Receive(in("ACK", "1", "")); err != nil {
		t.Errorf("ACK repeats an older CSeq: %v", err)
	}
	before := d.RemoteTarget
	update := in("UPDATE", "3", "Contact: <sip:alice@moved.example.com>\n")
	if err := d.Receive(update); err != nil || d.RemoteTarget != before {
		// RFC 6141 §4: the target changes only once the UAS accepts.
		t.Errorf("target refresh before its 2xx: %v %v", err, d.RemoteTarget)
	}
	d.RefreshTarget(update)
	if d.RemoteTarget.Host != "moved.example.com" {
		t.Errorf("target refresh accepted: %v", d.RemoteTarget)
	}
	if err := d.Receive(in("INFO", "4", "Contact: <sip:alice@elsewhere.example.com>\n")); err != nil || d.RemoteTarget.Host != "moved.example.com" {
		t.Errorf("INFO is no target refresh: %v", d.RemoteTarget)
	}
	other := strings.Replace(invite, "tag=9fxced76sl", "tag=other", 1)
	if err := d.Receive(parse(t, other)); !errors.Is(err, ErrMismatch) {
		t.Errorf("another dialog's request: %v", err)
	}
}

func TestSecure(t *testing.T) {
	req := parse(t, strings.Replace(invite, "INVITE sip:bob@client", "INVITE sips:bob@client", 1))
	d, _ := NewUAS(req, "t", u("sips:bob@b"), true)
	d2, _ := NewUAS(req, "t", u("sips:bob@b"), false)
	d3, _ := NewUAS(parse(t, invite), "t", u("sip:bob@b"), true)
	if !d.Secure || d2.Secure || d3.Secure {
		t.Errorf("secure: sips over TLS %v, sips over TCP %v, sip over TLS %v", d.Secure, d2.Secure, d3.Secure)
	}
}

// RFC 5057: usages share the dialog; the last one to end ends it.
func TestUsages(t *testing.T) {
	d, _ := NewUAS(parse(t, invite), "t", u("sip:bob@b"), false)
	inv := Usage{Kind: InviteUsage}
	sub := Usage{Kind: SubscribeUsage, Event: "refer", ID: "1"}
	d.AddUsage(inv)
	d.AddUsage(sub)
	d.AddUsage(inv)
	if len(d.Usages) != 2 {
		t.Fatalf("usages %v", d.Usages)
	}
	if d.EndUsage(inv) || d.State == Terminated {
		t.Errorf("ending one of two usages ended the dialog")
	}
	if !d.EndUsage(sub) || d.State != Terminated {
		t.Errorf("ending the last usage did not end the dialog")
	}
	if _, _, err := d.Request("BYE", RequestOptions{}); !errors.Is(err, ErrTerminated) {
		t.Errorf("request on a terminated dialog: %v", err)
	}
}

// RFC 5057 §5.1.
func TestImpact(t *testing.T) {
	for code, want := range map[int]Effect{
		481: EndsDialog, 404: EndsDialog, 410: EndsDialog, 416: EndsDialog, 482: EndsDialog, 483: EndsDialog,
		484: EndsDialog, 485: EndsDialog, 502: EndsDialog, 604: EndsDialog,
		408: EndsUsage, 403: EndsUsage, 489: EndsUsage, 480: EndsUsage,
		400: TransactionOnly, 401: TransactionOnly, 405: TransactionOnly, 415: TransactionOnly, 420: TransactionOnly,
		486: TransactionOnly, 488: TransactionOnly, 491: TransactionOnly, 500: TransactionOnly, 503: TransactionOnly, 200: TransactionOnly,
	} {
		if got := Impact(code); got != want {
			t.Errorf("Impact(%d) = %v, want %v", code, got, want)
		}
	}
}
