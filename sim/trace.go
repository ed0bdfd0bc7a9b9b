package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc64"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/stun"
)

// Op says what a Record records.
type Op uint8

// The operations recorded.
const (
	// OpSend: Node sent Data to Addr (the node Peer, if any).
	OpSend Op = iota + 1
	// OpRecv: Data from Addr (the node Peer, if any) arrived at Node.
	OpRecv
	// OpDrop: Data from Node to Addr was not delivered; Detail says why
	// (lost, partition, no node, connection closed). For a drop on
	// arrival, Node is the receiver and Peer the sender, as for OpRecv.
	OpDrop
	// OpDup: the link duplicated Data from Node to Peer.
	OpDup
	// OpSet, OpCancel, OpFire: Node's core set (for After), cancelled, or
	// had fire its timer Timer.
	OpSet
	OpCancel
	OpFire
	// OpEvent: Node's core delivered an event (Event, ID, Code).
	OpEvent
	// OpCommand: the application gave Node's core a command (Detail: its
	// error, if any).
	OpCommand
	// OpAction: an application action (At, After) ran.
	OpAction
	// OpResolve: Node asked for a DNS look-up; Detail is the name, the
	// service and the answer.
	OpResolve
	// OpConnOpen, OpConnClose: the connection Conn between Node and Peer
	// opened, or closed (Detail: why).
	OpConnOpen
	OpConnClose
	// OpError: the Sim saw a misuse (Detail).
	OpError
	// OpDelay: a test delayed Data, a datagram from Node to Peer in
	// flight, by After (Sim.Delay).
	OpDelay
)

var opNames = [...]string{OpSend: "send", OpRecv: "recv", OpDrop: "drop", OpDup: "dup", OpSet: "set", OpCancel: "cancel",
	OpFire: "fire", OpEvent: "event", OpCommand: "command", OpAction: "action", OpResolve: "resolve",
	OpConnOpen: "conn-open", OpConnClose: "conn-close", OpError: "ERROR", OpDelay: "delay"}

// String names the operation.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op" + strconv.Itoa(int(o))
}

// Record is one entry of the trace. Which fields mean something depends on
// Op.
type Record struct {
	At   effects.Time
	Op   Op
	Node *Node // the node acting (sending, receiving, timing...)
	Peer *Node // the other node, when there is one
	// Addr and Transport: the destination of a send, the source of an
	// arrival; Conn the stream connection.
	Addr      netip.AddrPort
	Transport effects.Transport
	Conn      effects.ConnID
	// Data is the message (or keep-alive) sent or received, as on the
	// wire. It must not be modified.
	Data  []byte
	Timer effects.TimerID
	After time.Duration
	Event effects.EventKind
	ID    uint64
	Code  int
	// Detail says more: why a message was dropped, a DNS answer, an error.
	Detail string
}

// Message parses the record's Data.
func (r *Record) Message() (*message.Message, error) { return message.Parse(r.Data, nil) }

// IsMessage reports whether the record carries a SIP message (not a CRLF
// or STUN keep-alive).
func (r *Record) IsMessage() bool { return len(r.Data) > 4 && !stun.IsSTUN(r.Data) }

// Summary is the record's message in short: "INVITE sip:bob@example.com"
// for a request, "200 INVITE" for a response.
func (r *Record) Summary() string { return Summary(r.Data) }

// Summary returns a message in short, from its wire form: the method and
// Request-URI of a request, the status code and CSeq method of a response,
// "ping" or "pong" for a keep-alive.
func Summary(data []byte) string {
	switch {
	case isPing(data):
		return "ping"
	case isPong(data):
		return "pong"
	case stun.IsSTUN(data):
		if m, err := stun.Parse(data); err == nil {
			return "STUN " + m.Type.String()
		}
		return "STUN?"
	}
	line, _, _ := bytes.Cut(data, []byte("\r\n"))
	if rest, ok := bytes.CutPrefix(line, []byte("SIP/2.0 ")); ok {
		code, _, _ := bytes.Cut(rest, []byte(" "))
		return string(code) + " " + cseqMethod(data)
	}
	line = bytes.TrimSuffix(line, []byte(" SIP/2.0"))
	return string(line)
}

// cseqMethod finds the method of a message's CSeq without parsing it.
func cseqMethod(data []byte) string {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\r\n"))
		if len(line) == 0 {
			break
		}
		data = rest
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || !strings.EqualFold(string(bytes.TrimSpace(name)), "cseq") {
			continue
		}
		f := bytes.Fields(val)
		if len(f) == 2 {
			return string(f[1])
		}
	}
	return "?"
}

// crcTable is the digest's table: CRC-64 is deterministic across runs and
// processes (unlike hash/maphash) and hashes the messages' bytes fast.
var crcTable = crc64.MakeTable(crc64.ECMA)

// chunkLen is the number of records in each chunk of the ring: the ring
// grows a chunk at a time, without copying what it holds.
const chunkLen = 64

// trace keeps the last records in a ring and hashes every one.
type trace struct {
	limit   int
	chunks  [][]Record
	n       int // records kept
	head    int // the oldest record, once the ring is full
	dropped int
	h       hash.Hash64
	buf     []byte
	observe []func(*Record)
}

// at returns the slot of the i-th record of the ring's storage.
func (t *trace) at(i int) *Record { return &t.chunks[i/chunkLen][i%chunkLen] }

func (t *trace) init(limit int) {
	t.limit = max(limit, 0)
	t.h = crc64.New(crcTable)
}

// record stamps r with the time, hashes it, shows it to the observers and
// keeps it.
func (s *Sim) record(r Record) {
	r.At = s.now
	t := &s.trace
	t.hash(&r)
	for _, fn := range t.observe {
		fn(&r)
	}
	switch {
	case t.limit == 0:
	case t.n < t.limit:
		if t.n/chunkLen == len(t.chunks) {
			t.chunks = append(t.chunks, make([]Record, chunkLen))
		}
		*t.at(t.n) = r
		t.n++
	default:
		*t.at(t.head) = r
		t.head = (t.head + 1) % t.limit
		t.dropped++
	}
}

func nodeIndex(n *Node) int64 {
	if n == nil {
		return -1
	}
	return int64(n.index)
}

func (t *trace) hash(r *Record) {
	b := t.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(r.At))
	b = append(b, byte(r.Op), byte(r.Transport))
	b = binary.LittleEndian.AppendUint64(b, uint64(nodeIndex(r.Node)))
	b = binary.LittleEndian.AppendUint64(b, uint64(nodeIndex(r.Peer)))
	b = append(b, r.Addr.Addr().AsSlice()...)
	b = binary.LittleEndian.AppendUint16(b, r.Addr.Port())
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Conn))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Timer))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.After))
	b = append(b, byte(r.Event))
	b = binary.LittleEndian.AppendUint64(b, r.ID)
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Code))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Data)))
	b = append(b, r.Detail...)
	t.buf = b
	t.h.Write(b)
	t.h.Write(r.Data)
}

// Observe adds a function that sees every record as it is made (before the
// ring may drop it): a test collecting the messages a node sent, say. It
// must not keep the *Record.
func (s *Sim) Observe(fn func(r *Record)) { s.trace.observe = append(s.trace.observe, fn) }

// Digest returns a hash of every record made so far (times, nodes,
// operations and the messages' bytes): two runs with the same seed have
// the same Digest.
func (s *Sim) Digest() uint64 { return s.trace.h.Sum64() }

// Records returns the records kept, oldest first.
func (s *Sim) Records() []Record {
	t := &s.trace
	out := make([]Record, 0, t.n)
	for i := range t.n {
		out = append(out, *t.at((t.head + i) % t.n))
	}
	return out
}

// Trace renders the records kept, one a line, without the timers set and
// cancelled (TraceAll has them).
func (s *Sim) Trace() string { return s.render(false) }

// TraceAll renders every record kept, one a line.
func (s *Sim) TraceAll() string { return s.render(true) }

func (s *Sim) render(all bool) string {
	var b strings.Builder
	if n := s.trace.dropped; n > 0 {
		fmt.Fprintf(&b, "(%d earlier records not kept)\n", n)
	}
	for _, r := range s.Records() {
		if !all && (r.Op == OpSet || r.Op == OpCancel) {
			continue
		}
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "digest %016x\n", s.Digest())
	return b.String()
}

func fmtTime(t effects.Time) string {
	return strconv.FormatFloat(time.Duration(t).Seconds(), 'f', 6, 64) + "s"
}

func nodeName(n *Node, addr netip.AddrPort) string {
	if n != nil {
		return n.name
	}
	if addr.IsValid() {
		return addr.String()
	}
	return "-"
}

// String renders the record as a line of the trace:
//
//	1.234000s alice    send    -> bob        UDP INVITE sip:bob@192.0.2.2
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%11s %-8s %-10s", fmtTime(r.At), nodeName(r.Node, netip.AddrPort{}), r.Op)
	switch r.Op {
	case OpSend, OpDup:
		fmt.Fprintf(&b, " -> %-8s %s%s %s", nodeName(r.Peer, r.Addr), r.Transport, connString(r.Conn), r.Summary())
	case OpDelay:
		fmt.Fprintf(&b, " -> %-8s %s %s by %v", nodeName(r.Peer, r.Addr), r.Transport, r.Summary(), r.After)
	case OpRecv:
		fmt.Fprintf(&b, " <- %-8s %s%s %s", nodeName(r.Peer, r.Addr), r.Transport, connString(r.Conn), r.Summary())
	case OpDrop:
		fmt.Fprintf(&b, " %s %-8s %s%s %s", arrow(r), nodeName(r.Peer, r.Addr), r.Transport, connString(r.Conn), r.Summary())
	case OpSet:
		fmt.Fprintf(&b, " %#x after %v", uint64(r.Timer), r.After)
	case OpCancel, OpFire:
		fmt.Fprintf(&b, " %#x", uint64(r.Timer))
	case OpEvent:
		fmt.Fprintf(&b, " %s #%d", r.Event, r.ID)
		if r.Code != 0 {
			fmt.Fprintf(&b, " %d", r.Code)
		}
	case OpConnOpen, OpConnClose:
		fmt.Fprintf(&b, " %s %s#%d", nodeName(r.Peer, r.Addr), r.Transport, r.Conn)
	}
	if r.Detail != "" {
		b.WriteString(" (" + r.Detail + ")")
	}
	return b.String()
}

func arrow(r Record) string {
	if r.Transport.Reliable() && r.Detail == "connection closed" {
		return "<-"
	}
	return "->"
}

func connString(c effects.ConnID) string {
	if c == 0 {
		return ""
	}
	return "#" + strconv.FormatUint(uint64(c), 10)
}
