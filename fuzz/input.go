package fuzz

import (
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
)

// Limits on one input, so that memory stays bounded whatever the fuzzer
// writes: records past MaxRecords are ignored, and a message is cut to
// MaxMessage bytes (after its macros are expanded).
const (
	MaxRecords = 64
	MaxMessage = 8192
)

// Kind is what a record of an input does: the low three bits of its
// control byte. The other five bits are the record's Arg.
type Kind uint8

// The record kinds.
const (
	// UDP: the record's data is a message that arrives over UDP from the
	// peer Arg&3. Arg>>2 is the application's policy for the events this
	// message causes (see Policy).
	UDP Kind = iota
	// TCP: the same over the peer's TCP connection (its ConnID is the
	// peer's index plus one).
	TCP
	// Advance: the virtual clock moves by Step(Arg); the timers that fall
	// due fire in time order.
	Advance
	// Fire: the clock moves to the earliest pending timer, which fires
	// (with any others due at the same instant); Arg+1 times.
	Fire
	// Close: the TCP connection of the peer Arg&3 closes.
	Close
	// App: the application command Arg; the record's first data byte, if
	// any, picks what the command applies to.
	App
	// Answer: the oldest DNS look-up (effects.Resolve) is answered, with
	// nothing when Arg is odd, else with the peer (Arg>>1)&3; a core that
	// resolves nothing sees instead the failure of its last send
	// (effects.SendFailed).
	Answer
	// KeepAlive: a CRLFCRLF ping (RFC 5626 §4.4.1) arrives from the peer
	// Arg&3, over TCP when Arg&4 is set; when Arg&8 is set, a STUN
	// Binding response (effects.Pong, §4.4.2) arrives over UDP instead:
	// the record's data, or without data the success response to the
	// core's last Binding request, reporting Mapped (Rebound when Arg&16
	// is set).
	KeepAlive
)

var kindNames = [...]string{"udp", "tcp", "advance", "fire", "close", "app", "answer", "keepalive"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// Separator ends a record. A message that holds the byte itself writes it
// as the escape "\x01\x02" (see Learned.Expand).
const Separator = 0xff

// Record is one step of an input.
type Record struct {
	Kind Kind
	Arg  uint8  // 0 to 31
	Data []byte // the rest of the record, macros not expanded
}

// Peer returns the peer index (0 to 3) of a UDP, TCP, Close, KeepAlive or
// Answer record.
func (r Record) Peer() int {
	if r.Kind == Answer {
		return int(r.Arg>>1) & 3
	}
	return int(r.Arg & 3)
}

// Policy returns the application's policy (0 to 7) that a UDP or TCP
// record sets.
func (r Record) Policy() uint8 { return r.Arg >> 2 }

// Transport returns the transport of a UDP or TCP record.
func (r Record) Transport() effects.Transport {
	if r.Kind == TCP {
		return effects.TCP
	}
	return effects.UDP
}

// Records returns the records of an input: data split at each Separator,
// the first byte of each part its control byte. Empty parts are skipped,
// and at most MaxRecords records are returned.
func Records(data []byte) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		n := 0
		for len(data) > 0 && n < MaxRecords {
			part := data
			i := 0
			for i < len(data) && data[i] != Separator {
				i++
			}
			part, data = data[:i], data[min(i+1, len(data)):]
			if len(part) == 0 {
				continue
			}
			n++
			if !yield(Record{Kind: Kind(part[0] & 7), Arg: part[0] >> 3, Data: part[1:]}) {
				return
			}
		}
	}
}

// Peers are the four far ends inputs come from, by index: two ports of one
// IPv4 host, another IPv4 host, and an IPv6 host (RFC 5118).
var Peers = [4]netip.AddrPort{
	netip.MustParseAddrPort("192.0.2.20:5060"),
	netip.MustParseAddrPort("192.0.2.21:5060"),
	netip.MustParseAddrPort("192.0.2.20:5070"),
	netip.MustParseAddrPort("[2001:db8::20]:5060"),
}

// PeerOf returns the effects.Peer of peer index i over tr: on TCP with the
// connection id i+1.
func PeerOf(i int, tr effects.Transport) effects.Peer {
	p := effects.Peer{Addr: Peers[i&3], Transport: tr}
	if tr.Reliable() {
		p.Conn = effects.ConnID(i&3 + 1)
	}
	return p
}

// steps are the clock moves of Advance records: from nothing through the
// transaction timers (T1 = 500 ms, Timer B/F = 32 s) to the session and
// registration intervals.
var steps = [32]time.Duration{
	0, time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second,
	8 * time.Second, 16 * time.Second, 31 * time.Second, 32 * time.Second,
	33 * time.Second, 45 * time.Second, time.Minute, 90 * time.Second,
	2 * time.Minute, 3 * time.Minute, 210 * time.Second, 5 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 12 * time.Hour, 24 * time.Hour, 25 * time.Hour,
}

// Step returns how far an Advance record with arg moves the clock.
func Step(arg uint8) time.Duration { return steps[arg&31] }

// Script builds an input record by record, for seeds and tests.
type Script []byte

func (s Script) record(k Kind, arg uint8, data []byte) Script {
	s = append(s, byte(k)|arg<<3)
	for _, c := range data {
		switch c {
		case Separator:
			s = append(s, macro, escFF)
		default:
			s = append(s, c)
		}
	}
	return append(s, Separator)
}

// Receive adds a message arriving from peer over tr (UDP or TCP), with
// the application's policy for the events it causes. msg may hold macros
// (see Learned.Expand), so a literal 0x01 byte in it must be written
// "\x01\x01"; a Separator byte in it is escaped here.
func (s Script) Receive(tr effects.Transport, peer int, policy uint8, msg string) Script {
	k := UDP
	if tr == effects.TCP {
		k = TCP
	}
	return s.record(k, uint8(peer&3)|(policy&7)<<2, []byte(msg))
}

// Advance adds a clock move by Step(arg).
func (s Script) Advance(arg uint8) Script { return s.record(Advance, arg&31, nil) }

// Fire adds the firing of the earliest pending timer, n times (1 to 32).
func (s Script) Fire(n int) Script { return s.record(Fire, uint8(max(n-1, 0)&31), nil) }

// Close adds the closing of peer's TCP connection.
func (s Script) Close(peer int) Script { return s.record(Close, uint8(peer&3), nil) }

// App adds the application command cmd (0 to 31) with its data.
func (s Script) App(cmd uint8, data ...byte) Script { return s.record(App, cmd&31, data) }

// Answer adds the answer to the oldest DNS look-up: peer's address when ok,
// else none.
func (s Script) Answer(ok bool, peer int) Script {
	arg := uint8(peer&3) << 1
	if !ok {
		arg |= 1
	}
	return s.record(Answer, arg, nil)
}

// Mapped and Rebound are the reflexive addresses the STUN responses of
// KeepAlive records report: the core's UDP flow as a NAT maps it, and the
// same after the NAT's binding changed.
var (
	Mapped  = netip.MustParseAddrPort("203.0.113.50:40000")
	Rebound = netip.MustParseAddrPort("203.0.113.50:40001")
)

// Pong adds a STUN Binding response from peer to the core's last Binding
// request, reporting Mapped, or Rebound when rebound.
func (s Script) Pong(peer int, rebound bool) Script {
	arg := uint8(peer&3) | 8
	if rebound {
		arg |= 16
	}
	return s.record(KeepAlive, arg, nil)
}

// KeepAlive adds a CRLFCRLF ping from peer over tr.
func (s Script) KeepAlive(tr effects.Transport, peer int) Script {
	arg := uint8(peer & 3)
	if tr == effects.TCP {
		arg |= 4
	}
	return s.record(KeepAlive, arg, nil)
}

// The macro escape: macro followed by one of these bytes.
const (
	macro     = 0x01
	escMacro  = 0x01 // a literal 0x01
	escFF     = 0x02 // a literal Separator
	macTag    = 'T'
	macBranch = 'B'
	macCallID = 'C'
	macCSeq   = 'N'
	macMethod = 'M'
	macRSeq   = 'R'
	macVias   = 'V'
	macFrom   = 'F'
	macLength = 'L'
	// The INVITE's: lower case.
	macInvBranch = 'b'
	macInvCallID = 'c'
	macInvCSeq   = 'n'
	macInvFrom   = 'f'
	macInvVias   = 'v'
)

// Macros a message in an input may hold, so that a peer's message can
// answer what the core under test sent before, whatever identifiers it
// drew (see Learned.Expand).
const (
	// Tag is the core's own tag in the dialog it last took part in.
	Tag = "\x01T"
	// Branch, CallID, CSeq and Method are those of the last request the
	// core sent (an ACK aside): what a response to it carries.
	Branch = "\x01B"
	CallID = "\x01C"
	CSeq   = "\x01N"
	Method = "\x01M"
	// From is the From tag of that request (outside a dialog, a fresh one).
	From = "\x01F"
	// RSeq is the RSeq of the last reliable provisional response the core
	// sent, for the RAck of a PRACK (RFC 3262 §7.2).
	RSeq = "\x01R"
	// Vias are the Via header field lines of the last request the core
	// sent, each with its CRLF: the Vias of a response to it.
	Vias = "\x01V"
	// InviteBranch, InviteCallID, InviteCSeq, InviteFrom and InviteVias
	// are those of the last INVITE the core sent: what its responses carry
	// after a CANCEL, a PRACK or another request went out meanwhile.
	InviteBranch = "\x01b"
	InviteCallID = "\x01c"
	InviteCSeq   = "\x01n"
	InviteFrom   = "\x01f"
	InviteVias   = "\x01v"
	// Length is the length of the body: what follows the first empty line
	// once everything else is expanded.
	Length = "\x01L"
)

// Learned is what a harness learned from the messages a core sent: the
// values the macros of later messages expand to.
type Learned struct {
	Tag, Branch, CallID, CSeq, Method, From, RSeq, Vias string
	// The Invite ones are the last INVITE's.
	InviteBranch, InviteCallID, InviteCSeq, InviteFrom, InviteVias string
}

// Sent learns from a message the core sent. Its strings are copied: a core
// may reuse the message's memory.
func (l *Learned) Sent(m *message.Message) {
	if m.IsRequest() {
		method := m.Method()
		if method == "ACK" {
			return
		}
		l.Branch = strings.Clone(m.Branch())
		l.CallID = strings.Clone(m.CallID())
		cseq := m.CSeq()
		l.CSeq, l.Method = strconv.FormatUint(uint64(cseq.Seq), 10), strings.Clone(method)
		l.From = strings.Clone(m.FromTag())
		var b strings.Builder
		for _, v := range m.Values("Via") {
			b.WriteString("Via: ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
		l.Vias = b.String()
		if method == "INVITE" {
			l.InviteBranch, l.InviteCallID, l.InviteCSeq, l.InviteFrom, l.InviteVias = l.Branch, l.CallID, l.CSeq, l.From, l.Vias
		}
		switch method {
		case "MESSAGE", "OPTIONS", "REGISTER", "PUBLISH", "CANCEL":
			// Outside any dialog: no dialog tag to learn.
		default:
			l.Tag = strings.Clone(m.FromTag())
		}
		return
	}
	code := m.StatusCode()
	switch m.CSeq().Method {
	case "INVITE", "SUBSCRIBE", "REFER":
		if code > 100 && code < 300 && m.ToTag() != "" {
			l.Tag = strings.Clone(m.ToTag())
		}
	}
	if v, ok := m.Get("RSeq"); ok {
		l.RSeq = strings.TrimSpace(v)
	}
}

// Expand appends src to dst with its macros expanded: Tag, Branch, CallID,
// CSeq, Method, From, RSeq, Vias and the Invite ones by what l learned, Length by the body's
// length; "\x01\x01" is a 0x01 byte and "\x01\x02" a Separator. Any other
// 0x01 is kept as it is. The result is cut to MaxMessage bytes.
func (l *Learned) Expand(dst, src []byte) []byte {
	start, lengthAt := len(dst), -1
	for i := 0; i < len(src) && len(dst)-start <= MaxMessage; i++ {
		c := src[i]
		if c != macro || i+1 == len(src) {
			dst = append(dst, c)
			continue
		}
		i++
		switch src[i] {
		case escMacro:
			dst = append(dst, macro)
		case escFF:
			dst = append(dst, Separator)
		case macTag:
			dst = append(dst, l.Tag...)
		case macBranch:
			dst = append(dst, l.Branch...)
		case macCallID:
			dst = append(dst, l.CallID...)
		case macCSeq:
			dst = append(dst, l.CSeq...)
		case macMethod:
			dst = append(dst, l.Method...)
		case macFrom:
			dst = append(dst, l.From...)
		case macRSeq:
			dst = append(dst, l.RSeq...)
		case macVias:
			dst = append(dst, l.Vias...)
		case macInvBranch:
			dst = append(dst, l.InviteBranch...)
		case macInvCallID:
			dst = append(dst, l.InviteCallID...)
		case macInvFrom:
			dst = append(dst, l.InviteFrom...)
		case macInvCSeq:
			dst = append(dst, l.InviteCSeq...)
		case macInvVias:
			dst = append(dst, l.InviteVias...)
		case macLength:
			if lengthAt < 0 {
				lengthAt = len(dst)
			}
		default:
			dst = append(dst, macro, src[i])
		}
	}
	if len(dst)-start > MaxMessage {
		dst = dst[:start+MaxMessage]
	}
	if lengthAt >= 0 && lengthAt <= len(dst) {
		body := 0
		if i := strings.Index(string(dst[lengthAt:]), "\r\n\r\n"); i >= 0 {
			body = len(dst) - (lengthAt + i + 4)
		}
		n := strconv.Itoa(body)
		dst = append(dst[:lengthAt], append([]byte(n), dst[lengthAt:]...)...)
	}
	return dst
}

// Describe renders an input as text, a record a line, to read what a
// failing input does.
func Describe(data []byte) string {
	var b strings.Builder
	for r := range Records(data) {
		fmt.Fprintf(&b, "%s", r.Kind)
		switch r.Kind {
		case UDP, TCP:
			fmt.Fprintf(&b, " from %s policy %d: %q", Peers[r.Peer()], r.Policy(), firstLine(r.Data))
		case Advance:
			fmt.Fprintf(&b, " %v", Step(r.Arg))
		case Fire:
			fmt.Fprintf(&b, " x%d", r.Arg+1)
		case Close, KeepAlive:
			fmt.Fprintf(&b, " %s", Peers[r.Peer()])
		case App:
			fmt.Fprintf(&b, " %d %x", r.Arg, r.Data)
		case Answer:
			if r.Arg&1 == 1 {
				b.WriteString(" none")
			} else {
				fmt.Fprintf(&b, " %s", Peers[r.Peer()])
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.Index(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
