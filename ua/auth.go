package ua

import (
	"strings"

	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// maxAuthRetries bounds how often one request is sent again with
// credentials: a server that keeps answering stale=true, or challenges for
// realm after realm, is given up on.
const maxAuthRetries = 3

// authRetry answers a 401 or 407 to the request of r (RFC 3261 §22.2,
// §22.3): when the application has credentials for a challenged realm and
// the challenge does not say they were refused, the request goes again with
// a new CSeq (the next one of its dialog, or one more outside any), a new
// branch, and the credentials, in a new client transaction with the same
// role. It reports whether it did; if not, the response goes on to the
// request's owner as any failure would.
func (u *UA) authRetry(now effects.Time, r txnRole, resp *message.Message, out []effects.Effect) ([]effects.Effect, bool) {
	if u.auth == nil || r.req == nil || r.resent >= maxAuthRetries {
		return out, false
	}
	switch r.kind {
	case roleInvite:
		c := r.call
		if !u.live(c) || c.state != stCalling || c.invite != r.req || c.cancelled || c.hangupWanted {
			return out, false
		}
	case roleReinvite, roleUpdate, roleBye:
		if r.s == nil || (r.kind != roleBye && (r.s.d.State == dialog.Terminated || !u.live(r.call))) {
			return out, false
		}
	case roleOwned:
	default:
		return out, false // CANCEL and PRACK are not challenged (§22.1)
	}
	proxy := resp.StatusCode() == 407
	chs, sent := challenges(resp, r.req, proxy)
	for _, ch := range chs {
		for _, c := range sent {
			if digest.Rejected(c, ch) {
				return out, false // RFC 7616 §3.3: the credentials were refused
			}
		}
	}
	body := []byte(r.req.Body())
	creds, err := u.auth.Answer(chs, r.req.Method(), r.req.RequestURI().String(), body, u.cfg.Gen)
	if err != nil {
		return out, false
	}
	// Credentials for other realms (a proxy's, when a registrar challenges
	// next) stay; those for a realm answered now are replaced.
	var keep []header.Credentials
	for _, c := range sent {
		if !answered(creds, c.Realm()) {
			keep = append(keep, c)
		}
	}
	keep = append(keep, creds...)
	out, err = u.resend(now, r, func(req *message.Message) error { return setCredentials(req, proxy, keep) }, out)
	return out, err == nil
}

// resend sends the request of client transaction r again, edited by edit,
// with a new CSeq (the next one of its dialog, or one more outside any)
// and a new branch, in a new client transaction with the same role; the
// references the call or session keeps to the transaction follow.
func (u *UA) resend(now effects.Time, r txnRole, edit func(*message.Message) error, out []effects.Effect) ([]effects.Effect, error) {
	d := r.dlg
	if r.s != nil && r.kind != roleInvite {
		d = r.s.d
	}
	req := r.req.Clone()
	if err := edit(req); err != nil {
		return out, err
	}
	cseq := req.CSeq()
	if d != nil && r.kind != roleInvite {
		d.LocalSeq++
		cseq.Seq = d.LocalSeq
	} else {
		cseq.Seq++
	}
	if err := message.Set(req, cseq); err != nil {
		return out, err
	}
	if err := req.ReplaceTopVia(u.via(r.to)); err != nil {
		return out, err
	}
	role := r
	role.resent++
	id, out, err := u.newClient(now, req, r.to, role, out)
	if err != nil {
		return out, err
	}
	switch r.kind {
	case roleInvite:
		r.call.invite, r.call.inviteTxn = req, id
	case roleReinvite:
		r.s.clientInvite = id
	case roleUpdate:
		r.s.clientUpdate = id
	}
	return out, nil
}

// challenges returns the challenges of a 401 (WWW-Authenticate) or 407
// (Proxy-Authenticate), one per header field (RFC 3261 §7.3.1), and the
// credentials of the same kind that the request carried. A field that does
// not parse is skipped like a challenge the UA does not understand (RFC
// 8760 §2.4): it must not keep the others from being answered.
func challenges(resp, req *message.Message, proxy bool) ([]header.Challenge, []header.Credentials) {
	chID, crID := header.IDWWWAuthenticate, header.IDAuthorization
	if proxy {
		chID, crID = header.IDProxyAuthenticate, header.IDProxyAuthorization
	}
	var chs []header.Challenge
	for name, value := range resp.Headers() {
		var ch header.Challenge
		if header.Lookup(name) == chID && ch.Parse(value) == nil {
			chs = append(chs, ch)
		}
	}
	var sent []header.Credentials
	for name, value := range req.Headers() {
		var c header.Credentials
		if header.Lookup(name) == crID && c.Parse(value) == nil {
			sent = append(sent, c)
		}
	}
	return chs, sent
}

func answered(creds []header.Credentials, realm string) bool {
	for _, c := range creds {
		if strings.EqualFold(c.Realm(), realm) {
			return true
		}
	}
	return false
}

// setCredentials replaces the Authorization (or Proxy-Authorization) fields
// of req with creds.
func setCredentials(req *message.Message, proxy bool, creds []header.Credentials) error {
	if proxy {
		vals := make([]header.ProxyAuthorization, len(creds))
		for i, c := range creds {
			vals[i] = header.ProxyAuthorization{Credentials: c}
		}
		return message.Set(req, vals...)
	}
	vals := make([]header.Authorization, len(creds))
	for i, c := range creds {
		vals[i] = header.Authorization{Credentials: c}
	}
	return message.Set(req, vals...)
}
