package txn

import (
	"net/netip"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// key identifies a transaction in the table.
//
// For RFC 3261 messages (a branch with the magic cookie) a server
// transaction is the top Via's branch and sent-by with the method, ACK
// counting as INVITE (§17.2.3); a client transaction is the branch with the
// CSeq method (§17.1.3). For an RFC 2543 request (no cookie) a server
// transaction is the Request-URI, Call-ID, From tag, CSeq number and method
// and the top Via (§17.2.3), kept in legacy.
type key struct {
	branch string
	host   string
	port   uint16
	client bool
	method string
	legacy *legacyKey
}

// legacyKey holds the RFC 2543 matching fields. The map compares keys by
// value, so the pointer is replaced by the value before lookups (see
// lookupKey).
type legacyKey struct {
	ruri, callID, fromTag string
	seq                   uint32
}

// indexKey is the comparable form used in the map: legacy fields inline.
type indexKey struct {
	branch, host, method  string
	port                  uint16
	client                bool
	ruri, callID, fromTag string
	seq                   uint32
}

func (k key) index() indexKey {
	ik := indexKey{branch: k.branch, host: k.host, method: k.method, port: k.port, client: k.client}
	if k.legacy != nil {
		ik.ruri, ik.callID, ik.fromTag, ik.seq = k.legacy.ruri, k.legacy.callID, k.legacy.fromTag, k.legacy.seq
	}
	return ik
}

// serverKey is the key of the server transaction a request belongs to, with
// method standing for the request's own (INVITE for an ACK, or the method a
// CANCEL looks for).
func serverKey(m *message.Message, method string) key {
	v := m.TopVia()
	k := key{branch: v.Branch(), host: v.Host, port: v.Port, method: method}
	if !v.HasCookie() {
		k.legacy = &legacyKey{ruri: m.RequestURI().String(), callID: m.CallID(), fromTag: m.FromTag(), seq: m.CSeq().Seq}
	}
	return k
}

// clientKey is the key of the client transaction a response (or our own
// request) belongs to.
func clientKey(m *message.Message) key {
	return key{branch: m.Branch(), client: true, method: m.CSeq().Method}
}

func (l *Layer) lookup(k key) *txn {
	slot, ok := l.index[k.index()]
	if !ok {
		return nil
	}
	return l.slots[slot]
}

func (l *Layer) insert(t *txn, k key) {
	t.key = k
	l.index[k.index()] = uint32(t.id)
}

// stampVia records where a request came from in its top Via (RFC 3261
// §18.2.1: received when the sent-by host is not the source address; RFC
// 3581 §4: rport set to the source port, with received, when the client
// asked for it).
func stampVia(m *message.Message, from effects.Peer) {
	v := m.TopVia()
	src := from.Addr.Addr().Unmap()
	if !src.IsValid() {
		return
	}
	_, rport := v.RPort()
	sentBy, err := netip.ParseAddr(hostname(v.Host))
	if !rport && err == nil && sentBy.Unmap() == src {
		return
	}
	p := v.Params.With("received", src.String())
	if rport {
		p = p.With("rport", itoa(uint64(from.Addr.Port())))
	}
	v.Params = p
	_ = m.ReplaceTopVia(v)
}

func hostname(h string) string {
	if len(h) > 1 && h[0] == '[' {
		return h[1 : len(h)-1]
	}
	return h
}

// responseDest says where the responses to a request go (RFC 3261
// §18.2.2, RFC 3581 §4): back on the connection it came on for a reliable
// transport; otherwise to the source address, at the rport when the client
// asked for one, else at the sent-by port (5060 when absent), or to the
// maddr.
func responseDest(v header.Via, from effects.Peer) effects.Peer {
	if from.Transport.Reliable() {
		return from
	}
	port := v.Port
	if port == 0 {
		port = 5060
	}
	if m := v.MAddr(); m != "" {
		if a, err := netip.ParseAddr(hostname(m)); err == nil {
			return effects.Peer{Addr: netip.AddrPortFrom(a, port), Transport: from.Transport}
		}
	}
	if _, ok := v.RPort(); ok {
		port = from.Addr.Port()
	}
	return effects.Peer{Addr: netip.AddrPortFrom(from.Addr.Addr(), port), Transport: from.Transport}
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
