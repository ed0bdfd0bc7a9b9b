package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/stun"
)

// datagramIO is a UDP socket's batched input and output: golang.org/x/net's
// ipv4/ipv6 ReadBatch and WriteBatch (xnetIO, everywhere), or recvmmsg and
// sendmmsg issued as raw system calls (rawIO, Linux on amd64 and arm64).
type datagramIO interface {
	// readBatch waits for datagrams and reads up to len(bufs) of them,
	// the i-th into bufs[i], describing it in got[i].
	readBatch(bufs [][]byte, got []datagram) (int, error)
	// writeBatch writes datagrams in order with one system call; it
	// returns how many were written, and when that is fewer than
	// len(out), the error of the first one not written (if any).
	writeBatch(out []Outgoing) (int, error)
	// writeTo writes one datagram.
	writeTo(to netip.AddrPort, data []byte) error
}

// datagram describes one datagram readBatch read.
type datagram struct {
	n    int            // its length
	from netip.AddrPort // its source, unmapped
	ok   bool           // the source is an IP address
}

type udpSocket struct {
	t     *Transport
	uc    *net.UDPConn
	io    datagramIO
	local netip.AddrPort
	v4    bool // bound to an IPv4 address
	dual  bool // bound to the IPv6 wildcard: serves both families

	// While the reader hands a batch of datagrams to the Handler, the
	// datagrams sent through this socket (the answers, mostly) are held
	// and written with one system call once the batch is done. Send
	// reports success for a held datagram; if writing it fails, the
	// failure is counted in Stats (a UDP send error says little anyway:
	// the network drops datagrams silently).
	outMu    sync.Mutex
	batching bool
	held     []Outgoing
	arena    []byte

	// stunMsg and stunBuf are the reader's, to read a STUN message and
	// write the answer without allocating.
	stunMsg stun.Message
	stunBuf [64]byte
}

// Outgoing is one message for SendBatch.
type Outgoing struct {
	To   effects.Peer
	Data []byte
}

var ping = []byte("\r\n\r\n")

// ListenUDP opens a UDP socket on addr ("127.0.0.1:5060", "[::1]:0",
// ":5060") and starts its reader. It returns the bound address.
func (t *Transport) ListenUDP(addr string) (netip.AddrPort, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("transport: listen udp %s: %w", addr, err)
	}
	uc := pc.(*net.UDPConn)
	if n := t.cfg.UDPBuffer; n > 0 {
		// Best effort: the system caps what it grants.
		uc.SetReadBuffer(n)
		uc.SetWriteBuffer(n)
	}
	local := addrPortOf(uc.LocalAddr())
	s := &udpSocket{t: t, uc: uc, local: local}
	s.v4 = local.Addr().Is4()
	s.dual = !s.v4 && local.Addr().IsUnspecified()
	if !t.cfg.UDPPortableIO {
		s.io = newRawIO(uc, s.v4) // nil where there is no raw path
	}
	if s.io == nil {
		s.io = newXnetIO(uc, s.v4, s.dual)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		uc.Close()
		return netip.AddrPort{}, fmt.Errorf("transport: listen udp %s: %w", addr, ErrClosed)
	}
	t.udp = append(t.udp, s)
	t.wg.Add(1)
	t.mu.Unlock()
	go s.readLoop()
	t.log.Info("listening", "transport", "UDP", "addr", local)
	return local, nil
}

// readLoop reads batches of datagrams into a ring of buffers until the
// socket closes.
func (s *udpSocket) readLoop() {
	t := s.t
	defer t.wg.Done()
	size := t.maxMsg + 1 // one byte more tells an oversize datagram
	if size > 65536 {
		size = 65536
	}
	bufs := make([][]byte, t.cfg.UDPBatch)
	got := make([]datagram, len(bufs))
	ring := make([]byte, len(bufs)*size)
	for i := range bufs {
		bufs[i] = ring[i*size : (i+1)*size : (i+1)*size]
	}
	for {
		n, err := s.io.readBatch(bufs, got)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Debug("udp read", "local", s.local, "err", err)
			continue
		}
		s.hold(true)
		for i := range got[:n] {
			s.handle(bufs[i], got[i])
		}
		s.hold(false)
		if d := t.cfg.UDPLinger; d > 0 && n < len(bufs)/4 {
			// A thin batch: let a few more datagrams arrive, so that the
			// next read and the writes it causes carry several at once.
			time.Sleep(d)
		}
	}
}

// hold starts holding the datagrams sent on s, or writes those held and
// stops.
func (s *udpSocket) hold(on bool) {
	s.outMu.Lock()
	if on {
		s.batching = true
		s.outMu.Unlock()
		return
	}
	held, arena := s.held, s.arena
	s.batching = false
	s.held, s.arena = nil, nil
	s.outMu.Unlock()
	if len(held) > 0 {
		s.writeBatch(held)
		clear(held)
	}
	// Only the reader holds and releases, so the buffers can go back for
	// the next batch (queue appends to them only while batching).
	s.outMu.Lock()
	s.held, s.arena = held[:0], arena[:0]
	s.outMu.Unlock()
}

// queue holds a datagram while a batch is being handled, and reports
// whether it did.
func (s *udpSocket) queue(to effects.Peer, data []byte) bool {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if !s.batching || len(s.held) >= s.t.cfg.UDPBatch {
		return false
	}
	start := len(s.arena)
	s.arena = append(s.arena, data...)
	s.held = append(s.held, Outgoing{To: to, Data: s.arena[start:len(s.arena):len(s.arena)]})
	return true
}

func (s *udpSocket) handle(buf []byte, d datagram) {
	t := s.t
	if d.n > t.maxMsg || !d.ok {
		t.stats.drops.Add(1)
		return
	}
	data := buf[:d.n]
	from := effects.Peer{Addr: d.from, Transport: effects.UDP}
	switch {
	case stun.IsSTUN(data):
		s.stun(data, from)
	case bytes.Equal(data, ping):
		t.deliver(Packet{From: from, Local: s.local, Ping: true})
	case len(bytes.Trim(data, "\r\n")) == 0:
		// A stray CRLF or an empty datagram: a NAT keep-alive, ignored.
		t.stats.of(effects.UDP).keepAlives.Add(1)
	default:
		t.deliver(Packet{Data: data, From: from, Local: s.local})
	}
}

// stun handles a STUN datagram on a SIP port (RFC 7983: its first byte is
// 0 to 3). A Binding request is answered at once, from this socket, with
// its source in XOR-MAPPED-ADDRESS (RFC 5626 §8; a request carrying
// unknown comprehension-required attributes gets 420, package stun's
// AppendResponse), and counted as a keep-alive; a Binding response (success
// or error) goes to the Handler as a Pong with the message in Data, the
// answer to the core's own keep-alive (§4.4.2). Anything else is dropped.
func (s *udpSocket) stun(data []byte, from effects.Peer) {
	t := s.t
	m := &s.stunMsg
	if err := stun.ParseInto(m, data); err != nil || m.Type.Method() != stun.MethodBinding {
		t.stats.drops.Add(1)
		return
	}
	switch m.Type.Class() {
	case stun.ClassSuccess, stun.ClassError:
		t.deliver(Packet{Data: data, From: from, Local: s.local, Pong: true})
		return
	case stun.ClassRequest:
		resp, ok := stun.AppendResponse(s.stunBuf[:0], m, from.Addr)
		if !ok {
			break
		}
		t.stats.of(effects.UDP).keepAlives.Add(1)
		if s.queue(from, resp) {
			return // written with the rest of the batch
		}
		if err := s.io.writeTo(from.Addr, resp); err != nil {
			t.stats.sendErrors.Add(1)
			t.log.Debug("stun answer", "to", from.Addr, "err", err)
			return
		}
		t.stats.sent(effects.UDP, len(resp))
		return
	}
	t.stats.drops.Add(1)
}

// socketFor returns the UDP socket to send to addr from.
func (t *Transport) socketFor(addr netip.AddrPort) (*udpSocket, error) {
	v4 := addr.Addr().Is4()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	var dual *udpSocket
	for _, s := range t.udp {
		if s.dual && dual == nil {
			dual = s
		}
		if !s.dual && s.v4 == v4 {
			return s, nil
		}
	}
	if dual != nil {
		return dual, nil
	}
	return nil, ErrNoSocket
}

func (t *Transport) sendUDP(to effects.Peer, data []byte) error {
	s, err := t.socketFor(to.Addr)
	if err != nil {
		return err
	}
	if s.queue(to, data) {
		return nil // written with the rest of the batch
	}
	if err := s.io.writeTo(to.Addr, data); err != nil {
		return err
	}
	t.stats.sent(effects.UDP, len(data))
	return nil
}

// SendBatch sends the messages in order, as Send would, writing runs of UDP
// datagrams that leave by the same socket with one system call per
// UDPBatch datagrams (sendmmsg on Linux). It returns how many were sent and
// the first error (the others are counted in Stats).
func (t *Transport) SendBatch(out []Outgoing) (int, error) {
	sent := 0
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for i := 0; i < len(out); {
		to := out[i].To
		to.Addr = unmap(to.Addr)
		if to.Transport != effects.UDP {
			err := t.Send(to, out[i].Data)
			note(err)
			if err == nil {
				sent++
			}
			i++
			continue
		}
		s, err := t.socketFor(to.Addr)
		if err != nil {
			t.stats.sendErrors.Add(1)
			note(fmt.Errorf("transport: send to %v: %w", to, err))
			i++
			continue
		}
		j := i + 1
		for j < len(out) && j-i < t.cfg.UDPBatch && out[j].To.Transport == effects.UDP && t.sameSocket(s, out[j].To.Addr) {
			j++
		}
		n, err := s.writeBatch(out[i:j])
		sent += n
		note(err)
		i = j
	}
	return sent, first
}

func (t *Transport) sameSocket(s *udpSocket, a netip.AddrPort) bool {
	o, err := t.socketFor(unmap(a))
	return err == nil && o == s
}

// writeBatch writes the datagrams out on s, skipping any that fail.
func (s *udpSocket) writeBatch(out []Outgoing) (int, error) {
	sent := 0
	var first error
	rest := out
	for len(rest) > 0 {
		n, err := s.io.writeBatch(rest)
		for k := range rest[:n] {
			s.t.stats.sent(effects.UDP, len(rest[k].Data))
		}
		sent += n
		rest = rest[n:]
		if n == 0 && len(rest) > 0 {
			if err == nil {
				err = errors.New("nothing written")
			}
			s.t.stats.sendErrors.Add(1)
			if first == nil {
				first = fmt.Errorf("transport: send to %v: %w", rest[0].To, err)
			}
			rest = rest[1:] // skip the datagram that failed
		}
	}
	return sent, first
}

// xnetIO is a datagramIO through golang.org/x/net's ipv4 and ipv6
// PacketConn: recvmmsg and sendmmsg on Linux, a datagram per call
// elsewhere.
type xnetIO struct {
	uc *net.UDPConn
	pc interface {
		ReadBatch(ms []ipv4.Message, flags int) (int, error)
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	dual bool
	msgs []ipv4.Message // the reader's
}

func newXnetIO(uc *net.UDPConn, v4, dual bool) *xnetIO {
	x := &xnetIO{uc: uc, dual: dual}
	if v4 {
		x.pc = ipv4.NewPacketConn(uc)
	} else {
		x.pc = ipv6.NewPacketConn(uc)
	}
	return x
}

func (x *xnetIO) readBatch(bufs [][]byte, got []datagram) (int, error) {
	if len(x.msgs) != len(bufs) {
		x.msgs = make([]ipv4.Message, len(bufs))
		for i := range x.msgs {
			x.msgs[i].Buffers = make([][]byte, 1)
		}
	}
	for i := range bufs {
		x.msgs[i].Buffers[0] = bufs[i]
	}
	n, err := x.pc.ReadBatch(x.msgs, 0)
	if err != nil {
		return 0, err
	}
	for i := range x.msgs[:n] {
		m := &x.msgs[i]
		got[i] = datagram{n: m.N}
		if m.Addr != nil {
			got[i].from, got[i].ok = addrPortOf(m.Addr), true
		}
	}
	return n, nil
}

var batchPool = sync.Pool{New: func() any { return new([]ipv4.Message) }}

func (x *xnetIO) writeBatch(out []Outgoing) (int, error) {
	p := batchPool.Get().(*[]ipv4.Message)
	ms := (*p)[:0]
	for i := range out {
		a := unmap(out[i].To.Addr)
		if x.dual && a.Addr().Is4() {
			a = netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
		}
		ms = append(ms, ipv4.Message{Buffers: [][]byte{out[i].Data}, Addr: net.UDPAddrFromAddrPort(a)})
	}
	n, err := x.pc.WriteBatch(ms, 0)
	for i := range ms {
		ms[i] = ipv4.Message{}
	}
	*p = ms[:0]
	batchPool.Put(p)
	return max(n, 0), err
}

func (x *xnetIO) writeTo(to netip.AddrPort, data []byte) error {
	_, err := x.uc.WriteToUDPAddrPort(data, to)
	return err
}
