package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sansip/sansip/effects"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// WebSocket close codes (RFC 6455 §7.4.1).
const (
	closeNormal   = 1000
	closeGoAway   = 1001
	closeProtocol = 1002
	closeTooBig   = 1009
)

// errWSProtocol is what a frame that breaks RFC 6455 wraps, with
// ErrFraming.
var errWSProtocol = errors.New("websocket protocol violation")

// wsGUID is RFC 6455's key suffix (§1.3).
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// httpServer is the HTTP side of a WebSocket listener.
type httpServer struct {
	srv *http.Server
}

func (s *httpServer) close() { s.srv.Close() }

// ListenWS accepts WebSocket connections (RFC 7118) on addr, upgrading
// HTTP GET requests for path that offer the "sip" subprotocol, and returns
// the bound address. Each text or binary WebSocket message carries one SIP
// message.
func (t *Transport) ListenWS(addr, path string) (netip.AddrPort, error) {
	return t.listenWS(addr, path, effects.WS)
}

// ListenWSS is ListenWS over TLS with Config.TLS.
func (t *Transport) ListenWSS(addr, path string) (netip.AddrPort, error) {
	if t.cfg.TLS == nil {
		return netip.AddrPort{}, fmt.Errorf("transport: listen wss %s: no Config.TLS", addr)
	}
	return t.listenWS(addr, path, effects.WSS)
}

func (t *Transport) listenWS(addr, path string, tr effects.Transport) (netip.AddrPort, error) {
	ln, err := t.listen(addr, tr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	local := addrPortOf(ln.Addr())
	if tr == effects.WSS {
		cfg := t.cfg.TLS.Clone()
		cfg.NextProtos = []string{"http/1.1"} // no HTTP/2: it cannot upgrade
		ln = tls.NewListener(ln, cfg)
	}
	mux := http.NewServeMux()
	mux.Handle(path, &wsHandler{t: t, tr: tr})
	s := &httpServer{srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: t.cfg.DialTimeout,
		IdleTimeout:       t.cfg.DialTimeout, // between requests that are not upgrades
		ErrorLog:          slog.NewLogLogger(t.log.Handler(), slog.LevelDebug),
	}}
	t.mu.Lock()
	t.servers = append(t.servers, s)
	closed := t.closed
	t.mu.Unlock()
	if closed {
		s.close()
	}
	go func() {
		defer t.wg.Done()
		s.srv.Serve(ln)
	}()
	return local, nil
}

// wsHandler upgrades requests to WebSocket connections.
type wsHandler struct {
	t  *Transport
	tr effects.Transport
}

// ServeHTTP checks the upgrade request (RFC 6455 §4.2.1, RFC 7118 §4.1),
// answers 101 and serves the connection on this goroutine.
func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, status, reason := checkUpgrade(r)
	if status != 0 {
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, reason, status)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot upgrade", http.StatusInternalServerError)
		return
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	peer := effects.Peer{Addr: addrPortOf(nc.RemoteAddr()), Transport: h.tr}
	c, err := h.t.register(peer, nc, false, true)
	if err != nil {
		h.t.log.Warn("connection refused", "peer", peer, "err", err)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(nc, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		nc.Close()
		return
	}
	c.br = brw.Reader
	nc.SetWriteDeadline(time.Now().Add(h.t.cfg.WriteTimeout))
	if _, err := io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+acceptKey(key)+"\r\nSec-WebSocket-Protocol: sip\r\n\r\n"); err != nil {
		c.stop(fmt.Errorf("%w: %w", ErrWrite, err))
		c.finish()
		return
	}
	c.run()
}

// checkUpgrade returns the request's key, or the status and reason to
// refuse it with.
func checkUpgrade(r *http.Request) (key string, status int, reason string) {
	switch {
	case r.Method != http.MethodGet:
		return "", http.StatusMethodNotAllowed, "WebSocket upgrade needs GET"
	case !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket"):
		return "", http.StatusBadRequest, "not a WebSocket upgrade"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "", http.StatusUpgradeRequired, "unsupported WebSocket version"
	}
	key = r.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return "", http.StatusBadRequest, "bad Sec-WebSocket-Key"
	}
	if !headerHas(r.Header, "Sec-WebSocket-Protocol", "sip") {
		return "", http.StatusBadRequest, "the sip WebSocket subprotocol is required"
	}
	return key, 0, ""
}

// headerHas reports whether a comma-separated header field lists token,
// in any case.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// maxUpgradeResponse bounds the HTTP response to a dialled upgrade.
const maxUpgradeResponse = 16 << 10

// upgrade runs the client side of the opening handshake on a dialled
// connection (RFC 6455 §4.1, RFC 7118 §4.1): a GET of Config.WSPath asking
// for the "sip" subprotocol, answered by a 101 that must accept our key
// and choose "sip". It ends with ctx, and leaves c.br holding whatever the
// server sent after the response.
func (c *conn) upgrade(ctx context.Context, nc net.Conn) error {
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	host := c.wsHost()
	req := "GET " + c.t.cfg.WSPath + " HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		stop()
		return fmt.Errorf("%w: %w: %w", ErrWSHandshake, ErrWrite, err)
	}
	// The response is read through a limit, lifted once it is read: the
	// frames that follow go through the same buffer.
	lr := &io.LimitedReader{R: nc, N: maxUpgradeResponse}
	br := bufio.NewReaderSize(lr, readBufSize)
	resp, err := http.ReadResponse(br, nil)
	if !stop() {
		return fmt.Errorf("%w: %w", ErrWSHandshake, context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("%w: reading the response: %w", ErrWSHandshake, err)
	}
	resp.Body.Close()
	if err := checkUpgradeResponse(resp, key); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrWSHandshake, host, c.t.cfg.WSPath, err)
	}
	lr.N = math.MaxInt64
	nc.SetDeadline(time.Time{})
	c.br = br
	return nil
}

// checkUpgradeResponse checks a server's answer to our upgrade (RFC 6455
// §4.1, the client's checks of the server's handshake).
func checkUpgradeResponse(resp *http.Response, key string) error {
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fmt.Errorf("HTTP %s", resp.Status)
	case !headerHas(resp.Header, "Upgrade", "websocket"):
		return fmt.Errorf("the response's Upgrade is %q, not websocket", resp.Header.Get("Upgrade"))
	case !headerHas(resp.Header, "Connection", "upgrade"):
		return fmt.Errorf("the response's Connection is %q, not Upgrade", resp.Header.Get("Connection"))
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return fmt.Errorf("wrong Sec-WebSocket-Accept %q", resp.Header.Get("Sec-WebSocket-Accept"))
	case resp.Header.Get("Sec-WebSocket-Protocol") != "sip":
		return fmt.Errorf("the server chose subprotocol %q, not sip", resp.Header.Get("Sec-WebSocket-Protocol"))
	case resp.Header.Get("Sec-WebSocket-Extensions") != "":
		// We asked for none (RFC 6455 §4.1, point 5 of the client's checks).
		return fmt.Errorf("unasked Sec-WebSocket-Extensions %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	return nil
}

// wsHost is the Host of an upgrade to the peer: ServerName's name, else
// its address, with the port unless it is the scheme's default.
func (c *conn) wsHost() string {
	host := ""
	if c.t.cfg.ServerName != nil {
		host = c.t.cfg.ServerName(c.peer)
	}
	if host == "" {
		host = c.peer.Addr.Addr().String()
		if c.peer.Addr.Addr().Is6() {
			host = "[" + host + "]"
		}
	}
	port, def := c.peer.Addr.Port(), uint16(80)
	if c.peer.Transport == effects.WSS {
		def = 443
	}
	if port != def {
		host += ":" + strconv.Itoa(int(port))
	}
	return host
}

// readWS reads WebSocket frames: each data message (fragments joined, at
// most MaxWSFrame bytes) is delivered; pings are answered, pongs ignored, a
// close answered and ended.
func (c *conn) readWS() error {
	var msg []byte
	var msgOp byte // opcode of the message being joined; 0: none
	for {
		if err := c.awaitFrame(); err != nil {
			return err
		}
		fin, op, payload, err := c.readFrame(msg, msgOp != 0)
		if err != nil {
			return err
		}
		c.touch()
		switch op {
		case opText, opBinary, opContinuation:
			msg = payload
			if op != opContinuation {
				msgOp = op
			}
			if fin {
				c.deliverWS(msg)
				msg, msgOp = msg[:0], 0
			}
		case opPing:
			if err := c.enqueue(outItem{op: opPong, data: append([]byte(nil), payload...)}); err != nil {
				return err
			}
		case opClose:
			c.wsCode.Store(closeNormal)
			return fmt.Errorf("%w: %w (websocket close)", ErrRead, io.EOF)
		}
	}
}

// awaitFrame waits for the first byte of a frame until the connection is
// idle.
func (c *conn) awaitFrame() error {
	for {
		c.armRead()
		_, err := c.br.Peek(1)
		if err == nil {
			// The rest of the frame must follow within the idle period.
			c.touch()
			c.armRead()
			return nil
		}
		if err := c.readFailed(err); err != nil {
			return err
		}
	}
}

// deliverWS hands up a message: a CRLFCRLF one is a keep-alive ping
// (RFC 5626 §4.4.1), and a CRLF one on a connection this side dialled the
// answer to ours.
func (c *conn) deliverWS(msg []byte) {
	switch {
	case bytes.Equal(msg, ping):
		c.t.deliver(Packet{From: c.peer, Local: c.local, Ping: true})
	case c.outbound && bytes.Equal(msg, pong):
		c.t.deliver(Packet{From: c.peer, Local: c.local, Pong: true})
	default:
		c.t.deliver(Packet{Data: msg, From: c.peer, Local: c.local})
	}
}

// pong is the CRLF answer to a keep-alive ping (RFC 5626 §4.4.1).
var pong = []byte("\r\n")

// readFrame reads one frame: masked from a client, unmasked from a server
// (RFC 6455 §5.1). A data frame's payload is appended to msg (the message
// being joined) and the result returned; a control frame's payload is
// returned alone.
func (c *conn) readFrame(msg []byte, joining bool) (fin bool, op byte, payload []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
		return false, 0, nil, c.frameReadErr(err)
	}
	fin, op = hdr[0]&0x80 != 0, hdr[0]&0x0f
	if hdr[0]&0x70 != 0 {
		return false, 0, nil, c.protocolErr("reserved bits set")
	}
	masked := hdr[1]&0x80 != 0
	switch {
	case !masked && !c.outbound:
		return false, 0, nil, c.protocolErr("unmasked client frame")
	case masked && c.outbound:
		return false, 0, nil, c.protocolErr("masked server frame")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return false, 0, nil, c.frameReadErr(err)
		}
		n = uint64(binary.BigEndian.Uint16(hdr[:2]))
	case 127:
		if _, err := io.ReadFull(c.br, hdr[:8]); err != nil {
			return false, 0, nil, c.frameReadErr(err)
		}
		n = binary.BigEndian.Uint64(hdr[:8])
	}
	if err := c.checkFrame(fin, op, n, len(msg), joining); err != nil {
		return false, 0, nil, err
	}
	var mask [4]byte
	if masked {
		if _, err := io.ReadFull(c.br, mask[:]); err != nil {
			return false, 0, nil, c.frameReadErr(err)
		}
	}
	start := 0
	if op < opClose {
		start = len(msg)
		payload = append(msg, make([]byte, n)...)
	} else {
		payload = make([]byte, n)
	}
	if _, err := io.ReadFull(c.br, payload[start:]); err != nil {
		return false, 0, nil, c.frameReadErr(err)
	}
	if masked {
		maskBytes(payload[start:], mask)
	}
	return fin, op, payload, nil
}

// maskBytes applies (or removes) a masking key (RFC 6455 §5.3).
func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// checkFrame applies RFC 6455 §5's rules and MaxWSFrame to a frame header.
func (c *conn) checkFrame(fin bool, op byte, n uint64, have int, joining bool) error {
	switch op {
	case opText, opBinary:
		if joining {
			return c.protocolErr("new message inside a fragmented one")
		}
	case opContinuation:
		if !joining {
			return c.protocolErr("continuation without a message")
		}
	case opClose, opPing, opPong:
		if !fin || n > 125 {
			return c.protocolErr("bad control frame")
		}
		return nil
	default:
		return c.protocolErr(fmt.Sprintf("unknown opcode %#x", op))
	}
	if n > uint64(c.t.cfg.MaxWSFrame-have) {
		c.t.stats.drops.Add(1)
		c.wsCode.Store(closeTooBig)
		return fmt.Errorf("%w: websocket message over %d bytes", ErrTooLarge, c.t.cfg.MaxWSFrame)
	}
	return nil
}

func (c *conn) protocolErr(what string) error {
	c.t.stats.framing.Add(1)
	c.wsCode.Store(closeProtocol)
	return fmt.Errorf("%w: %w: %s", ErrFraming, errWSProtocol, what)
}

// frameReadErr reports a read that failed inside a frame: a timeout there
// means the peer stalled mid-frame.
func (c *conn) frameReadErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.wsCode.Store(closeGoAway)
		return fmt.Errorf("%w: %w (stalled inside a websocket frame)", ErrIdle, err)
	}
	return fmt.Errorf("%w: %w", ErrRead, err)
}

// writeFrame writes one frame: a control frame op, or a message as text
// when it is valid UTF-8 and binary otherwise. A server's frames go
// unmasked; a client masks each with a fresh random key (RFC 6455 §5.3),
// in place: data is the caller's to spoil.
func (c *conn) writeFrame(op byte, data []byte) error {
	if op == 0 {
		op = opBinary
		if utf8.Valid(data) {
			op = opText
		}
	}
	var hdr [14]byte
	hdr[0] = 0x80 | op
	h := 2
	switch n := len(data); {
	case n < 126:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		h = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		h = 10
	}
	if c.outbound {
		var key [4]byte
		rand.Read(key[:])
		hdr[1] |= 0x80
		h += copy(hdr[h:], key[:])
		maskBytes(data, key)
	}
	bufs := net.Buffers{hdr[:h], data}
	_, err := bufs.WriteTo(c.nc)
	return err
}

// goodbye sends the WebSocket close frame the reader asked for, once.
func (c *conn) goodbye() {
	code := c.wsCode.Load()
	if !c.ws || code == 0 || c.wsBye.Swap(true) {
		return
	}
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], uint16(code))
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.writeFrame(opClose, p[:])
}
