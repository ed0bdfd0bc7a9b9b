package txn

import (
	"net/netip"
	"strings"

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

// equal reports whether k and o identify the same transaction.
func (k key) equal(o key) bool {
	if k.branch != o.branch || k.host != o.host || k.port != o.port || k.client != o.client || k.method != o.method {
		return false
	}
	if k.legacy == nil || o.legacy == nil {
		return k.legacy == o.legacy
	}
	return *k.legacy == *o.legacy
}

// detached returns k with its own copies of the strings, which otherwise
// refer to the bytes of the message they were read from: a transaction
// that lets its request go keeps a few dozen bytes for its key, not the
// whole message.
func (k key) detached() key {
	both := k.branch + k.host // one allocation for the two
	k.branch, k.host = both[:len(k.branch)], both[len(k.branch):]
	k.method = message.InternMethod(k.method)
	if k.legacy != nil {
		lk := *k.legacy
		lk.ruri, lk.callID, lk.fromTag = strings.Clone(lk.ruri), strings.Clone(lk.callID), strings.Clone(lk.fromTag)
		k.legacy = &lk
	}
	return k
}

// hash is the index's hash of k. It is fixed (the core uses no random
// source); keys crafted to collide only land in the overflow map, itself
// a Go map, so they cost no more than they did before.
func (k key) hash() uint64 {
	h := hashString(0x9e3779b97f4a7c15, k.branch)
	h = hashString(h, k.host)
	h = hashString(h, k.method)
	v := uint64(k.port) << 1
	if k.client {
		v |= 1
	}
	if lk := k.legacy; lk != nil {
		h = hashString(hashString(hashString(h, lk.ruri), lk.callID), lk.fromTag)
		v |= uint64(lk.seq) << 32
	}
	return mix(h, v)
}

// hashString folds s into h eight bytes at a time; the length goes in
// too, so that adjacent strings cannot trade bytes.
func hashString(h uint64, s string) uint64 {
	h = mix(h, uint64(len(s)))
	for ; len(s) >= 8; s = s[8:] {
		h = mix(h, uint64(s[0])|uint64(s[1])<<8|uint64(s[2])<<16|uint64(s[3])<<24|
			uint64(s[4])<<32|uint64(s[5])<<40|uint64(s[6])<<48|uint64(s[7])<<56)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	return mix(h, v)
}

// mix folds v into h (a multiply-xorshift step).
func mix(h, v uint64) uint64 {
	h = (h ^ v) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// lookup finds the live transaction with key k. The index maps a key's
// hash to the transaction last inserted with it; a key whose hash another
// key holds goes to the overflow map (a hash collision: rare).
func (l *Layer) lookup(k key) *txn {
	if slot, ok := l.index[k.hash()]; ok {
		if t := l.slots[slot]; t != nil && t.key.equal(k) {
			return t
		}
	}
	if len(l.overflow) > 0 {
		if slot, ok := l.overflow[k.index()]; ok {
			return l.slots[slot]
		}
	}
	return nil
}

// insert enters t in the index under k; it replaces a transaction with
// the same key.
func (l *Layer) insert(t *txn, k key) {
	t.key = k
	h := k.hash()
	if slot, ok := l.index[h]; ok {
		if o := l.slots[slot]; o != nil && !o.key.equal(k) {
			l.overflow[k.index()] = uint32(t.id)
			return
		}
	}
	l.index[h] = uint32(t.id)
}

// unindex removes t from the index.
func (l *Layer) unindex(t *txn) {
	h := t.key.hash()
	if slot, ok := l.index[h]; ok && slot == uint32(t.id) {
		delete(l.index, h)
		return
	}
	if len(l.overflow) > 0 {
		ik := t.key.index()
		if slot, ok := l.overflow[ik]; ok && slot == uint32(t.id) {
			delete(l.overflow, ik)
		}
	}
}

// release lets go of t's request once it has its final response: what
// t keeps from here on (its key, CSeq and tag) gets its own memory.
func (l *Layer) release(t *txn) {
	t.req = nil
	old := t.key
	t.key = old.detached() // same hash: the index is unchanged
	if len(l.overflow) > 0 {
		ik := old.index()
		if slot, ok := l.overflow[ik]; ok && slot == uint32(t.id) {
			delete(l.overflow, ik)
			l.overflow[t.key.index()] = slot
		}
	}
	t.cseq.Method = message.InternMethod(t.cseq.Method)
	t.tag = strings.Clone(t.tag)
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

// Match returns the live transaction a received message belongs to, as
// Handle would find it, without handling it: for a response its client
// transaction (§17.1.3); for an ACK the INVITE server transaction it
// acknowledges (§17.2.3, with the RFC 2543 To tag rule); for any other
// request the server transaction it retransmits. A dispatcher that feeds
// several cores, each with its own Layer, asks each which one a message
// is for.
func (l *Layer) Match(m *message.Message) (ID, bool) {
	var t *txn
	switch {
	case !m.IsRequest():
		t = l.lookup(clientKey(m))
	case m.Method() == "ACK":
		t = l.lookup(serverKey(m, "INVITE"))
		if t != nil && (t.kind != ServerInvite || t.key.legacy != nil && m.ToTag() != t.tag) {
			t = nil
		}
	default:
		t = l.lookup(serverKey(m, m.Method()))
	}
	if t == nil {
		return 0, false
	}
	return t.id, true
}

// Cancels returns the live INVITE server transaction that the CANCEL
// request m cancels (§9.2: matched as a request matches a transaction,
// with method INVITE).
func (l *Layer) Cancels(m *message.Message) (ID, bool) {
	if !m.IsRequest() || m.Method() != "CANCEL" {
		return 0, false
	}
	t := l.lookup(serverKey(m, "INVITE"))
	if t == nil || t.kind != ServerInvite {
		return 0, false
	}
	return t.id, true
}
