// Package stun reads and writes the STUN messages (RFC 5389) that SIP
// outbound flows use as keep-alives (RFC 5626 §4.4.2, §8): Binding
// requests, and Binding responses that tell the requester the address its
// request came from, as the server saw it, in XOR-MAPPED-ADDRESS.
//
// A message is a 20-byte header (type, length, the magic cookie 0x2112A442
// and a 96-bit transaction id, RFC 5389 §6) followed by attributes, each a
// type, a length and a value padded to a multiple of 4 bytes (§15). Parse
// reads one message from a datagram into a Message whose attribute values
// refer to the datagram's bytes; Message.AppendTo writes one. A FINGERPRINT
// (§15.5: CRC-32 of the message before it, XOR 0x5354554e) is checked by
// Parse when present, and written when Message.Fingerprint is set, as every
// message this package builds does: it tells STUN from SIP on a shared
// port beyond doubt.
//
// The package is pure, like the rest of the protocol core (DESIGN.md §1):
// no I/O, no clock, no random source. A client passes the transaction id,
// drawn from its own generator (package ua takes it from its
// ident.Generator).
//
// What a server answers (AppendResponse) is what RFC 5626 §8 asks of a SIP
// edge proxy: a Binding request gets a success response carrying
// XOR-MAPPED-ADDRESS of its source; a request carrying
// comprehension-required attributes this package does not know gets a 420
// error response listing them in UNKNOWN-ATTRIBUTES (RFC 5389 §7.3.1);
// anything else (indications, responses, other methods) gets no answer.
//
// Left out: authentication (MESSAGE-INTEGRITY is known, so it causes no
// 420, but it is neither checked nor written; neither are USERNAME, REALM
// and NONCE used), ALTERNATE-SERVER, STUN over streams (framing STUN among
// SIP on TCP), and RFC 3489's classic STUN without the magic cookie, which
// Parse refuses.
package stun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// MagicCookie is the fixed value in every STUN message's header (RFC 5389
// §6); the XOR-MAPPED-ADDRESS of a message is XORed with it.
const MagicCookie uint32 = 0x2112A442

// HeaderLen is the length of a STUN header (RFC 5389 §6).
const HeaderLen = 20

// fingerprintXOR is what the CRC-32 of a FINGERPRINT is XORed with (RFC
// 5389 §15.5).
const fingerprintXOR = 0x5354554e

// Errors of Parse and of reading attributes, matchable with errors.Is.
var (
	// ErrNotSTUN: the bytes are not a STUN message: the first two bits
	// are not zero or the magic cookie is missing (RFC 5389 §6).
	ErrNotSTUN = errors.New("stun: not a STUN message")
	// ErrMalformed: the header's length or an attribute's does not fit
	// the bytes (RFC 5389 §6, §15).
	ErrMalformed = errors.New("stun: malformed message")
	// ErrFingerprint: the FINGERPRINT attribute does not match the
	// message, or is not its last attribute (RFC 5389 §15.5).
	ErrFingerprint = errors.New("stun: bad FINGERPRINT")
	// ErrNoAddress: the message carries neither XOR-MAPPED-ADDRESS nor
	// MAPPED-ADDRESS.
	ErrNoAddress = errors.New("stun: no mapped address")
	// ErrAddress: an address attribute has an unknown family or the
	// wrong length (RFC 5389 §15.1, §15.2).
	ErrAddress = errors.New("stun: bad address attribute")
	// ErrTooLarge: a message or attribute built is over the 64 KiB a
	// length field can say.
	ErrTooLarge = errors.New("stun: message too large")
)

// IsSTUN reports whether a datagram that arrived on a port shared with SIP
// is STUN rather than SIP, by its first byte: 0 to 3 is STUN (RFC 7983 §7,
// RFC 5389's first two zero bits), while a SIP message starts with a
// letter and a CRLF keep-alive with 13. It is a quick test for
// demultiplexing; Parse tells whether the message is valid.
func IsSTUN(b []byte) bool { return len(b) > 0 && b[0] < 4 }

// TransactionID is a STUN transaction id: 96 random bits chosen by the
// client and echoed in the response (RFC 5389 §6).
type TransactionID [12]byte

// Class is a message's class (RFC 5389 §6).
type Class uint8

// The classes.
const (
	ClassRequest    Class = 0
	ClassIndication Class = 1
	ClassSuccess    Class = 2
	ClassError      Class = 3
)

// String names the class.
func (c Class) String() string {
	switch c {
	case ClassRequest:
		return "request"
	case ClassIndication:
		return "indication"
	case ClassSuccess:
		return "success response"
	case ClassError:
		return "error response"
	}
	return "invalid"
}

// Method is a message's method (RFC 5389 §18.1), a 12-bit number.
type Method uint16

// MethodBinding is the Binding method (RFC 5389 §3).
const MethodBinding Method = 0x001

// Type is a message type: a method and a class, their bits interleaved as
// RFC 5389 §6 (figure 3) lays them out.
type Type uint16

// The Binding message types.
const (
	BindingRequest    Type = 0x0001
	BindingIndication Type = 0x0011
	BindingSuccess    Type = 0x0101
	BindingError      Type = 0x0111
)

// NewType returns the type of method m in class c.
func NewType(m Method, c Class) Type {
	return Type(m&0x000f | (m&0x0070)<<1 | (m&0x0f80)<<2 | Method(c&1)<<4 | Method(c&2)<<7)
}

// Method returns the type's method.
func (t Type) Method() Method {
	return Method(t&0x000f | (t>>1)&0x0070 | (t>>2)&0x0f80)
}

// Class returns the type's class.
func (t Type) Class() Class { return Class((t>>4)&1 | (t>>7)&2) }

// String names the type: "Binding request", or the method's number and
// the class.
func (t Type) String() string {
	if t.Method() == MethodBinding {
		return "Binding " + t.Class().String()
	}
	return fmt.Sprintf("method 0x%03x %s", uint16(t.Method()), t.Class())
}

// AttrType is an attribute's type (RFC 5389 §15, §18.2).
type AttrType uint16

// The attributes of RFC 5389 §18.2. Types below 0x8000 are
// comprehension-required, the others comprehension-optional.
const (
	AttrMappedAddress     AttrType = 0x0001
	AttrUsername          AttrType = 0x0006
	AttrMessageIntegrity  AttrType = 0x0008
	AttrErrorCode         AttrType = 0x0009
	AttrUnknownAttributes AttrType = 0x000a
	AttrRealm             AttrType = 0x0014
	AttrNonce             AttrType = 0x0015
	AttrXORMappedAddress  AttrType = 0x0020
	AttrSoftware          AttrType = 0x8022
	AttrAlternateServer   AttrType = 0x8023
	AttrFingerprint       AttrType = 0x8028
)

// Required reports whether the attribute is comprehension-required: an
// agent that does not understand it must not process the message as if it
// were absent (RFC 5389 §15).
func (a AttrType) Required() bool { return a < 0x8000 }

// Known reports whether this package knows the attribute (those of RFC
// 5389 §18.2).
func (a AttrType) Known() bool {
	switch a {
	case AttrMappedAddress, AttrUsername, AttrMessageIntegrity, AttrErrorCode, AttrUnknownAttributes,
		AttrRealm, AttrNonce, AttrXORMappedAddress, AttrSoftware, AttrAlternateServer, AttrFingerprint:
		return true
	}
	return false
}

// Attr is one attribute: its type and its value, without the padding.
type Attr struct {
	Type  AttrType
	Value []byte
}

// Message is one STUN message.
//
// A Message Parse filled refers to the bytes it parsed: its attribute
// values are slices of them.
type Message struct {
	Type Type
	TxID TransactionID
	// Attrs are the attributes in order, FINGERPRINT excepted.
	Attrs []Attr
	// Fingerprint: the message ends with a FINGERPRINT (Parse checked it;
	// AppendTo writes it).
	Fingerprint bool
}

// Parse parses the STUN message b, a whole datagram (RFC 5389 §6, §15):
// the header's length must be a multiple of 4 and cover exactly the bytes
// after the header, and the attributes must fill it. A FINGERPRINT must be
// the last attribute and match. The message's attribute values refer to b.
func Parse(b []byte) (Message, error) {
	var m Message
	err := ParseInto(&m, b)
	return m, err
}

// ParseInto is Parse into m, reusing its Attrs slice.
func ParseInto(m *Message, b []byte) error {
	attrs := m.Attrs[:0]
	*m = Message{}
	if len(b) < HeaderLen {
		if len(b) > 0 && b[0]&0xc0 != 0 {
			return ErrNotSTUN
		}
		return fmt.Errorf("%w: %d bytes, shorter than the 20-byte header", ErrMalformed, len(b))
	}
	if b[0]&0xc0 != 0 {
		return fmt.Errorf("%w: first byte 0x%02x", ErrNotSTUN, b[0])
	}
	if binary.BigEndian.Uint32(b[4:8]) != MagicCookie {
		return fmt.Errorf("%w: no magic cookie", ErrNotSTUN)
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 {
		return fmt.Errorf("%w: length %d is not a multiple of 4", ErrMalformed, n)
	}
	if HeaderLen+n != len(b) {
		return fmt.Errorf("%w: length %d, but %d bytes follow the header", ErrMalformed, n, len(b)-HeaderLen)
	}
	m.Type = Type(binary.BigEndian.Uint16(b[0:2]))
	copy(m.TxID[:], b[8:20])
	for off := HeaderLen; off < len(b); {
		if len(b)-off < 4 {
			return fmt.Errorf("%w: attribute header cut at byte %d", ErrMalformed, off)
		}
		typ := AttrType(binary.BigEndian.Uint16(b[off:]))
		vlen := int(binary.BigEndian.Uint16(b[off+2:]))
		end := off + 4 + (vlen+3)&^3
		if end > len(b) {
			return fmt.Errorf("%w: attribute 0x%04x at byte %d: %d bytes run past the message", ErrMalformed, uint16(typ), off, vlen)
		}
		value := b[off+4 : off+4+vlen : off+4+vlen]
		if typ == AttrFingerprint {
			if vlen != 4 || end != len(b) {
				return fmt.Errorf("%w: at byte %d, not the last 4-byte attribute", ErrFingerprint, off)
			}
			if binary.BigEndian.Uint32(value) != crc32.ChecksumIEEE(b[:off])^fingerprintXOR {
				return fmt.Errorf("%w: CRC mismatch", ErrFingerprint)
			}
			m.Fingerprint = true
			break
		}
		attrs = append(attrs, Attr{Type: typ, Value: value})
		off = end
	}
	m.Attrs = attrs
	return nil
}

// AppendTo appends the message's wire form to dst: the header, each
// attribute padded with zeros to a multiple of 4 bytes, and a FINGERPRINT
// last when m.Fingerprint is set. It fails with ErrTooLarge when the
// attributes are over what a length field can say.
func (m *Message) AppendTo(dst []byte) ([]byte, error) {
	n := 0
	for _, a := range m.Attrs {
		if len(a.Value) > 0xffff {
			return dst, fmt.Errorf("%w: attribute 0x%04x of %d bytes", ErrTooLarge, uint16(a.Type), len(a.Value))
		}
		n += 4 + (len(a.Value)+3)&^3
	}
	if m.Fingerprint {
		n += 8
	}
	if n > 0xffff {
		return dst, fmt.Errorf("%w: %d bytes of attributes", ErrTooLarge, n)
	}
	start := len(dst)
	dst = appendHeader(dst, m.Type, n, m.TxID)
	for _, a := range m.Attrs {
		dst = appendAttr(dst, a.Type, a.Value)
	}
	if m.Fingerprint {
		dst = appendFingerprint(dst, start)
	}
	return dst, nil
}

func appendHeader(dst []byte, t Type, n int, id TransactionID) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(t))
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = binary.BigEndian.AppendUint32(dst, MagicCookie)
	return append(dst, id[:]...)
}

func appendAttr(dst []byte, t AttrType, v []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(t))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(v)))
	dst = append(dst, v...)
	for i := len(v); i%4 != 0; i++ {
		dst = append(dst, 0)
	}
	return dst
}

// appendFingerprint appends the FINGERPRINT of the message that starts at
// dst[start:]; its header's length already counts the 8 bytes.
func appendFingerprint(dst []byte, start int) []byte {
	crc := crc32.ChecksumIEEE(dst[start:]) ^ fingerprintXOR
	dst = binary.BigEndian.AppendUint16(dst, uint16(AttrFingerprint))
	dst = binary.BigEndian.AppendUint16(dst, 4)
	return binary.BigEndian.AppendUint32(dst, crc)
}

// Get returns the value of the message's first attribute of type t.
func (m *Message) Get(t AttrType) ([]byte, bool) {
	for _, a := range m.Attrs {
		if a.Type == t {
			return a.Value, true
		}
	}
	return nil, false
}

// Add appends an attribute.
func (m *Message) Add(t AttrType, value []byte) {
	m.Attrs = append(m.Attrs, Attr{Type: t, Value: value})
}

// UnknownRequired lists the comprehension-required attributes of the
// message that this package does not know, each once, in order (RFC 5389
// §7.3.1: a request carrying any is answered 420).
func (m *Message) UnknownRequired() []AttrType {
	var out []AttrType
	for _, a := range m.Attrs {
		if a.Type.Required() && !a.Type.Known() && !contains(out, a.Type) {
			out = append(out, a.Type)
		}
	}
	return out
}

func contains(ts []AttrType, t AttrType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// The address families of RFC 5389 §15.1.
const (
	familyIPv4 = 0x01
	familyIPv6 = 0x02
)

// appendAddress appends the value of an address attribute; with xor, the
// port and address are XORed as XOR-MAPPED-ADDRESS asks (RFC 5389 §15.2).
func appendAddress(dst []byte, a netip.AddrPort, xor bool, id TransactionID) []byte {
	ip := a.Addr().Unmap()
	port := a.Port()
	if xor {
		port ^= uint16(MagicCookie >> 16)
	}
	if ip.Is4() {
		v := ip.As4()
		if xor {
			xorBytes(v[:], id, 4)
		}
		dst = append(dst, 0, familyIPv4)
		dst = binary.BigEndian.AppendUint16(dst, port)
		return append(dst, v[:]...)
	}
	v := ip.As16()
	if xor {
		xorBytes(v[:], id, 16)
	}
	dst = append(dst, 0, familyIPv6)
	dst = binary.BigEndian.AppendUint16(dst, port)
	return append(dst, v[:]...)
}

// xorBytes XORs the first n bytes of b with the magic cookie followed by
// the transaction id.
func xorBytes(b []byte, id TransactionID, n int) {
	var key [16]byte
	binary.BigEndian.PutUint32(key[:4], MagicCookie)
	copy(key[4:], id[:])
	for i := 0; i < n; i++ {
		b[i] ^= key[i]
	}
}

// readAddress reads an address attribute's value (RFC 5389 §15.1, §15.2).
func readAddress(v []byte, xor bool, id TransactionID) (netip.AddrPort, error) {
	if len(v) < 4 {
		return netip.AddrPort{}, fmt.Errorf("%w: %d bytes", ErrAddress, len(v))
	}
	port := binary.BigEndian.Uint16(v[2:4])
	if xor {
		port ^= uint16(MagicCookie >> 16)
	}
	switch v[1] {
	case familyIPv4:
		if len(v) != 8 {
			return netip.AddrPort{}, fmt.Errorf("%w: IPv4 address of %d bytes", ErrAddress, len(v)-4)
		}
		var b [4]byte
		copy(b[:], v[4:])
		if xor {
			xorBytes(b[:], id, 4)
		}
		return netip.AddrPortFrom(netip.AddrFrom4(b), port), nil
	case familyIPv6:
		if len(v) != 20 {
			return netip.AddrPort{}, fmt.Errorf("%w: IPv6 address of %d bytes", ErrAddress, len(v)-4)
		}
		var b [16]byte
		copy(b[:], v[4:])
		if xor {
			xorBytes(b[:], id, 16)
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), port), nil
	}
	return netip.AddrPort{}, fmt.Errorf("%w: family 0x%02x", ErrAddress, v[1])
}

// AddXORMappedAddress adds an XOR-MAPPED-ADDRESS carrying a (RFC 5389
// §15.2), XORed with the message's transaction id: set TxID first. An
// IPv4-mapped IPv6 address is written as IPv4.
func (m *Message) AddXORMappedAddress(a netip.AddrPort) {
	m.Add(AttrXORMappedAddress, appendAddress(nil, a, true, m.TxID))
}

// AddMappedAddress adds a MAPPED-ADDRESS carrying a (RFC 5389 §15.1).
func (m *Message) AddMappedAddress(a netip.AddrPort) {
	m.Add(AttrMappedAddress, appendAddress(nil, a, false, m.TxID))
}

// XORMappedAddress reads the message's XOR-MAPPED-ADDRESS (RFC 5389
// §15.2); ErrNoAddress when it has none.
func (m *Message) XORMappedAddress() (netip.AddrPort, error) {
	v, ok := m.Get(AttrXORMappedAddress)
	if !ok {
		return netip.AddrPort{}, ErrNoAddress
	}
	return readAddress(v, true, m.TxID)
}

// MappedAddress reads the message's MAPPED-ADDRESS (RFC 5389 §15.1), which
// servers written for RFC 3489 send; ErrNoAddress when it has none.
func (m *Message) MappedAddress() (netip.AddrPort, error) {
	v, ok := m.Get(AttrMappedAddress)
	if !ok {
		return netip.AddrPort{}, ErrNoAddress
	}
	return readAddress(v, false, m.TxID)
}

// ReflexiveAddress returns the address a Binding success response reports
// for the requester: its XOR-MAPPED-ADDRESS, else its MAPPED-ADDRESS (RFC
// 5389 §7.3.3, §15.1).
func (m *Message) ReflexiveAddress() (netip.AddrPort, error) {
	if _, ok := m.Get(AttrXORMappedAddress); ok {
		return m.XORMappedAddress()
	}
	return m.MappedAddress()
}

// ErrorCode reads the message's ERROR-CODE (RFC 5389 §15.6): the code
// (300 to 699) and the reason phrase; false when it has none or it is
// malformed.
func (m *Message) ErrorCode() (code int, reason string, ok bool) {
	v, ok := m.Get(AttrErrorCode)
	if !ok || len(v) < 4 {
		return 0, "", false
	}
	class, number := int(v[2]&7), int(v[3])
	if class < 3 || class > 6 || number > 99 {
		return 0, "", false
	}
	return class*100 + number, string(v[4:]), true
}

// AddErrorCode adds an ERROR-CODE with code (300 to 699) and reason (RFC
// 5389 §15.6).
func (m *Message) AddErrorCode(code int, reason string) {
	v := []byte{0, 0, byte(code / 100 & 7), byte(code % 100)}
	m.Add(AttrErrorCode, append(v, reason...))
}

// NewBindingRequest returns a Binding request with transaction id id and a
// FINGERPRINT (RFC 5389 §7.1; RFC 5626 §4.4.2).
func NewBindingRequest(id TransactionID) Message {
	return Message{Type: BindingRequest, TxID: id, Fingerprint: true}
}

// NewBindingSuccess returns the Binding success response to the request
// with transaction id id that came from source: an XOR-MAPPED-ADDRESS
// carrying source, and a FINGERPRINT (RFC 5389 §7.3.1, §15.2; RFC 5626
// §8).
func NewBindingSuccess(id TransactionID, source netip.AddrPort) Message {
	m := Message{Type: BindingSuccess, TxID: id, Fingerprint: true}
	m.AddXORMappedAddress(source)
	return m
}

// AppendBindingRequest appends a Binding request with transaction id id
// and a FINGERPRINT to dst, without allocating when dst has room.
func AppendBindingRequest(dst []byte, id TransactionID) []byte {
	start := len(dst)
	dst = appendHeader(dst, BindingRequest, 8, id)
	return appendFingerprint(dst, start)
}

// AppendBindingSuccess appends NewBindingSuccess(id, source) to dst,
// without allocating when dst has room.
func AppendBindingSuccess(dst []byte, id TransactionID, source netip.AddrPort) []byte {
	alen := 8
	if !source.Addr().Unmap().Is4() {
		alen = 20
	}
	start := len(dst)
	dst = appendHeader(dst, BindingSuccess, 4+alen+8, id)
	dst = binary.BigEndian.AppendUint16(dst, uint16(AttrXORMappedAddress))
	dst = binary.BigEndian.AppendUint16(dst, uint16(alen))
	dst = appendAddress(dst, source, true, id)
	return appendFingerprint(dst, start)
}

// AppendResponse appends to dst what a STUN server on a SIP port answers
// to req, which came from source (RFC 5626 §8, RFC 5389 §7.3), and reports
// whether there is an answer: a Binding request gets a success response
// with XOR-MAPPED-ADDRESS (AppendBindingSuccess), unless it carries
// comprehension-required attributes this package does not know, which get
// a 420 (Unknown Attribute) error response listing them in
// UNKNOWN-ATTRIBUTES (§7.3.1). Other messages get none.
func AppendResponse(dst []byte, req *Message, source netip.AddrPort) ([]byte, bool) {
	if req.Type != BindingRequest {
		return dst, false
	}
	unknown := req.UnknownRequired()
	if len(unknown) == 0 {
		return AppendBindingSuccess(dst, req.TxID, source), true
	}
	m := Message{Type: BindingError, TxID: req.TxID, Fingerprint: true}
	m.AddErrorCode(420, "Unknown Attribute")
	var v []byte
	for _, t := range unknown {
		v = binary.BigEndian.AppendUint16(v, uint16(t))
	}
	m.Add(AttrUnknownAttributes, v)
	out, err := m.AppendTo(dst)
	if err != nil {
		// Too many unknown attributes to list: the request itself was
		// under 64 KiB, so this cannot be reached; answer nothing.
		return dst, false
	}
	return out, true
}

// UnknownAttributes reads the message's UNKNOWN-ATTRIBUTES (RFC 5389
// §15.9).
func (m *Message) UnknownAttributes() []AttrType {
	v, _ := m.Get(AttrUnknownAttributes)
	out := make([]AttrType, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		out = append(out, AttrType(binary.BigEndian.Uint16(v[i:])))
	}
	return out
}
