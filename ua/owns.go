package ua

import (
	"github.com/sansip/sansip/dialog"
	"github.com/sansip/sansip/message"
)

// Owns reports whether the received message m is this UA's business: a
// response to one of its requests (its client transaction, or a dialog it
// holds: a 2xx retransmitted after the transaction ended, §13.2.2.4), a
// retransmission of a request it is serving, an ACK or CANCEL for an
// INVITE it is answering (§17.2.3, §9.2), or a request inside one of its
// dialogs (§12.2.2), including the NOTIFY that creates the dialog of one
// of its SUBSCRIBEs (RFC 6665 §4.1.2.4). A dispatcher that shares the
// network with other cores (a proxy) gives the UA what it owns and the
// rest elsewhere; a request outside any dialog that nobody owns is new.
func (u *UA) Owns(m *message.Message) bool {
	dialogs := len(u.byDialog) > 0 || len(u.subDlgs) > 0
	if u.txns.Len() == 0 && !dialogs && len(u.origins) == 0 {
		return false // nothing of the UA's: the common case beside a proxy
	}
	if _, ok := u.txns.Match(m); ok {
		return true
	}
	if !m.IsRequest() {
		if !dialogs {
			return false
		}
		id := dialog.IDOf(m, true)
		return u.byDialog[id] != nil || u.subDlgs[id] != nil
	}
	if _, ok := u.txns.Cancels(m); ok {
		return true
	}
	if m.ToTag() == "" {
		return false
	}
	if !dialogs {
		return m.Method() == "NOTIFY" && u.origins[originKey{m.CallID(), m.ToTag()}] != nil
	}
	id := dialog.IDOf(m, true)
	if u.byDialog[id] != nil || u.subDlgs[id] != nil {
		return true
	}
	return m.Method() == "NOTIFY" && u.origins[originKey{m.CallID(), m.ToTag()}] != nil
}
