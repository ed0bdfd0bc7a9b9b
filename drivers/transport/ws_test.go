package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// wsClient is a minimal RFC 6455 client for the tests.
type wsClient struct {
	nc net.Conn
	br *bufio.Reader
}

// dialWS opens a connection and asks for an upgrade of path with the
// subprotocols protos ("" for no header); it returns the client and the
// response.
func dialWS(t testing.TB, addr netip.AddrPort, tlsCfg *tls.Config, path, protos string) (*wsClient, *http.Response) {
	t.Helper()
	nc := dialRaw(t, addr)
	if tlsCfg != nil {
		nc = tls.Client(nc, tlsCfg)
	}
	var key [16]byte
	rand.Read(key[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	if protos != "" {
		req += "Sec-WebSocket-Protocol: " + protos + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(base64.StdEncoding.EncodeToString(key[:])); got != want {
			t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
		}
	}
	return &wsClient{nc: nc, br: br}, resp
}

// frame writes one masked frame.
func (c *wsClient) frame(t testing.TB, fin bool, op byte, payload []byte) {
	t.Helper()
	var b []byte
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	b = append(b, mask[:]...)
	for i, x := range payload {
		b = append(b, x^mask[i&3])
	}
	if _, err := c.nc.Write(b); err != nil {
		t.Fatal(err)
	}
}

// read reads one server frame.
func (c *wsClient) read(t testing.TB) (op byte, payload []byte) {
	t.Helper()
	var h [8]byte
	if _, err := io.ReadFull(c.br, h[:2]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		t.Fatalf("frame header % x: want FIN and no mask", h[:2])
	}
	op = h[0] & 0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		io.ReadFull(c.br, h[:2])
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		io.ReadFull(c.br, h[:8])
		n = binary.BigEndian.Uint64(h[:8])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return op, payload
}

func wsRoundTrip(t *testing.T, tr effects.Transport) {
	pk := newPKI(t)
	b, bs := start(t, Config{TLS: &pk.server})
	var bAddr netip.AddrPort
	var clientTLS *tls.Config
	if tr == effects.WSS {
		bAddr = must[netip.AddrPort](t)(b.ListenWSS("127.0.0.1:0", "/sip"))
		clientTLS = &tls.Config{RootCAs: pk.roots, ServerName: "sip.test"}
	} else {
		bAddr = must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/sip"))
	}
	c, resp := dialWS(t, bAddr, clientTLS, "/sip", "chat, sip")
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "sip" {
		t.Fatalf("upgrade: %s %v", resp.Status, resp.Header)
	}
	c.frame(t, true, opText, sipMsg(1))
	p := bs.next(t)
	if !bytes.Equal(p.Data, sipMsg(1)) || p.From.Transport != tr || p.From.Conn == 0 || p.Local != bAddr {
		t.Fatalf("got %q from %v on %v", p.Data, p.From, p.Local)
	}
	if err := b.Send(p.From, sipMsg(2)); err != nil {
		t.Fatal(err)
	}
	if op, got := c.read(t); op != opText || !bytes.Equal(got, sipMsg(2)) {
		t.Fatalf("client got op %d %q", op, got)
	}
	// A message in three fragments, with a ping between two of them.
	m := sipMsg(3)
	c.frame(t, false, opBinary, m[:10])
	c.frame(t, true, opPing, []byte("hi"))
	c.frame(t, false, opContinuation, m[10:20])
	c.frame(t, true, opContinuation, m[20:])
	if op, got := c.read(t); op != opPong || string(got) != "hi" {
		t.Fatalf("want pong hi, got op %d %q", op, got)
	}
	if p := bs.next(t); !bytes.Equal(p.Data, m) || p.From != (effects.Peer{Addr: p.From.Addr, Transport: tr, Conn: p.From.Conn}) {
		t.Fatalf("fragmented message: %q from %v", p.Data, p.From)
	}
	// Without a connection id, the address finds the connection.
	b.Send(effects.Peer{Addr: p.From.Addr, Transport: tr}, sipMsg(4))
	if _, got := c.read(t); !bytes.Equal(got, sipMsg(4)) {
		t.Fatalf("client got %q", got)
	}
	// The client closes: the server answers and reports it.
	c.frame(t, true, opClose, []byte{0x03, 0xe8})
	if op, got := c.read(t); op != opClose || binary.BigEndian.Uint16(got) != closeNormal {
		t.Fatalf("want close 1000, got op %d % x", op, got)
	}
	if e := bs.closed(t); e.id != p.From.Conn || !errors.Is(e.err, io.EOF) {
		t.Fatalf("closed %v: %v", e.id, e.err)
	}
	if s := b.Stats().Of(tr); s.MsgsIn != 2 || s.MsgsOut != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestWS(t *testing.T) { wsRoundTrip(t, effects.WS) }

func TestWSS(t *testing.T) { wsRoundTrip(t, effects.WSS) }

// TestWSRefused: an upgrade that does not offer "sip" is refused with 400,
// and so are other requests that are not upgrades.
func TestWSRefused(t *testing.T) {
	b, _ := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/sip"))
	for _, protos := range []string{"", "chat", "sipx"} {
		if _, resp := dialWS(t, bAddr, nil, "/sip", protos); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("protocols %q: %s", protos, resp.Status)
		}
	}
	if _, resp := dialWS(t, bAddr, nil, "/other", "sip"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %s", resp.Status)
	}
	resp, err := http.Get("http://" + bAddr.String() + "/sip")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET: %s", resp.Status)
	}
	if n := b.Stats().ConnsAccepted; n != 0 {
		t.Errorf("%d connections accepted", n)
	}
}

// TestWSOversize: a message over MaxWSFrame, in one frame or in fragments,
// closes the connection with 1009.
func TestWSOversize(t *testing.T) {
	b, bs := start(t, Config{MaxWSFrame: 1000})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	big := bytes.Repeat([]byte("x"), 600)
	for _, fragmented := range []bool{false, true} {
		c, _ := dialWS(t, bAddr, nil, "/", "sip")
		if fragmented {
			c.frame(t, false, opText, big)
			c.frame(t, true, opContinuation, big)
		} else {
			c.frame(t, true, opText, append(big, big...))
		}
		if op, got := c.read(t); op != opClose || binary.BigEndian.Uint16(got) != closeTooBig {
			t.Fatalf("want close 1009, got op %d % x", op, got)
		}
		if e := bs.closed(t); !errors.Is(e.err, ErrTooLarge) {
			t.Fatalf("closed with %v", e.err)
		}
	}
	bs.none(t, 20*time.Millisecond)
	if d := b.Stats().Drops; d != 2 {
		t.Errorf("drops %d", d)
	}
	// Sending more than MaxWSFrame is refused as well.
	c, _ := dialWS(t, bAddr, nil, "/", "sip")
	c.frame(t, true, opText, sipMsg(1))
	p := bs.next(t)
	if err := b.Send(p.From, append(big, big...)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("send oversize: %v", err)
	}
}

// TestWSProtocolError: an unmasked frame breaks RFC 6455 and closes with
// 1002.
func TestWSProtocolError(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	c, _ := dialWS(t, bAddr, nil, "/", "sip")
	c.nc.Write([]byte{0x81, 0x02, 'h', 'i'})
	if op, got := c.read(t); op != opClose || binary.BigEndian.Uint16(got) != closeProtocol {
		t.Fatalf("want close 1002, got op %d % x", op, got)
	}
	if e := bs.closed(t); !errors.Is(e.err, ErrFraming) || !errors.Is(e.err, errWSProtocol) {
		t.Fatalf("closed with %v", e.err)
	}
}

// TestWSMaxConns: past MaxConns an upgrade is answered 503.
func TestWSMaxConns(t *testing.T) {
	b, bs := start(t, Config{MaxConns: 1})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	if _, resp := dialWS(t, bAddr, nil, "/", "sip"); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first: %s", resp.Status)
	}
	if _, resp := dialWS(t, bAddr, nil, "/", "sip"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second: %s", resp.Status)
	}
	bs.none(t, 10*time.Millisecond)
	if s := b.Stats(); s.ConnsRefused != 1 || s.ConnsOpen != 1 {
		t.Errorf("stats %+v", s)
	}
}

// wsDialRoundTrip: a transport dials another's WebSocket listener on
// Send; messages, pings and pongs go both ways on the one connection (RFC
// 7118 §4.1, RFC 5626 §4.4.1), and a reply finds it by its id or address.
func wsDialRoundTrip(t *testing.T, tr effects.Transport) {
	pk := newPKI(t)
	b, bs := start(t, Config{TLS: &pk.server})
	var bAddr netip.AddrPort
	if tr == effects.WSS {
		bAddr = must[netip.AddrPort](t)(b.ListenWSS("127.0.0.1:0", "/sip"))
	} else {
		bAddr = must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/sip"))
	}
	a, as := start(t, Config{WSPath: "/sip", ClientTLS: &tls.Config{RootCAs: pk.roots}})
	to := effects.Peer{Addr: bAddr, Transport: tr}
	if err := a.Send(to, sipMsg(1)); err != nil {
		t.Fatal(err)
	}
	p := bs.next(t)
	if !bytes.Equal(p.Data, sipMsg(1)) || p.From.Transport != tr || p.From.Conn == 0 || p.Local != bAddr {
		t.Fatalf("b got %q from %v on %v", p.Data, p.From, p.Local)
	}
	if err := b.Send(p.From, sipMsg(2)); err != nil {
		t.Fatal(err)
	}
	r := as.next(t)
	if !bytes.Equal(r.Data, sipMsg(2)) || r.From.Addr != bAddr || r.From.Transport != tr || r.From.Conn == 0 {
		t.Fatalf("a got %q from %v", r.Data, r.From)
	}
	// The reply's connection id and the bare address both reach b on it.
	a.Send(r.From, sipMsg(3))
	a.Send(to, sipMsg(4))
	for _, want := range [][]byte{sipMsg(3), sipMsg(4)} {
		if q := bs.next(t); !bytes.Equal(q.Data, want) || q.From.Conn != p.From.Conn {
			t.Fatalf("b got %q from %v", q.Data, q.From)
		}
	}
	// A keep-alive ping from the client, and the server's pong.
	a.Send(to, []byte("\r\n\r\n"))
	if q := bs.next(t); !q.Ping || q.From.Conn != p.From.Conn {
		t.Fatalf("want a ping, got %+v", q)
	}
	b.Send(p.From, []byte("\r\n"))
	if q := as.next(t); !q.Pong || q.From.Conn != r.From.Conn {
		t.Fatalf("want a pong, got %+v", q)
	}
	if s := a.Stats(); s.ConnsDialled != 1 || s.ConnsOpen != 1 || s.Of(tr).MsgsIn != 1 || s.Of(tr).KeepAlives != 1 {
		t.Errorf("a stats %+v", s)
	}
	if s := b.Stats(); s.ConnsAccepted != 1 {
		t.Errorf("b accepted %d connections", s.ConnsAccepted)
	}
	// b closes: a's side reports it and the next send dials again.
	b.Close(p.From.Conn)
	if e := as.closed(t); e.id != r.From.Conn || !errors.Is(e.err, ErrRead) {
		t.Fatalf("a closed %v: %v", e.id, e.err)
	}
	a.Send(to, sipMsg(5))
	if p := bs.next(t); !bytes.Equal(p.Data, sipMsg(5)) {
		t.Fatalf("b got %q", p.Data)
	}
	if n := a.Stats().ConnsDialled; n != 2 {
		t.Errorf("%d connections dialled, want 2", n)
	}
}

func TestWSDial(t *testing.T) { wsDialRoundTrip(t, effects.WS) }

func TestWSSDial(t *testing.T) { wsDialRoundTrip(t, effects.WSS) }

// TestWSSDialUntrusted: a WSS server's certificate is verified as a TLS
// one is.
func TestWSSDialUntrusted(t *testing.T) {
	pk, other := newPKI(t), newPKI(t)
	b, _ := start(t, Config{TLS: &pk.server})
	bAddr := must[netip.AddrPort](t)(b.ListenWSS("127.0.0.1:0", "/"))
	a, as := start(t, Config{ClientTLS: &tls.Config{RootCAs: other.roots}})
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.WSS}, sipMsg(1))
	var unknown x509.UnknownAuthorityError
	if e := as.closed(t); !errors.Is(e.err, ErrHandshake) || !errors.As(e.err, &unknown) {
		t.Fatalf("closed with %v", e.err)
	}
}

// TestWSDialCall: Dial opens a WebSocket connection and waits for the
// upgrade; Send then uses it, and LocalAddr tells its local address.
func TestWSDialCall(t *testing.T) {
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	a, _ := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	to := effects.Peer{Addr: bAddr, Transport: effects.WS}
	id, err := a.Dial(ctx, to)
	if err != nil || id == 0 {
		t.Fatalf("Dial: %v, %v", id, err)
	}
	to.Conn = id
	a.Send(to, sipMsg(1))
	p := bs.next(t)
	if !bytes.Equal(p.Data, sipMsg(1)) {
		t.Fatalf("b got %q", p.Data)
	}
	if l, ok := a.LocalAddr(id); !ok || l != p.From.Addr {
		t.Errorf("LocalAddr %v %v, want %v", l, ok, p.From.Addr)
	}
	if _, ok := a.LocalAddr(id + 1); ok {
		t.Error("LocalAddr of no connection")
	}
	if n := a.Stats().ConnsDialled; n != 1 {
		t.Errorf("%d connections dialled", n)
	}
}

// rawServer is a scripted WebSocket server for the client-side tests.
type rawServer struct {
	addr  netip.AddrPort
	peers chan *rawPeer
}

// rawPeer is one connection the raw server accepted, its upgrade request
// read.
type rawPeer struct {
	nc  net.Conn
	br  *bufio.Reader
	req *http.Request
}

// newRawServer accepts connections on loopback; answer writes the HTTP
// response to each upgrade request (upgraded answers it properly).
func newRawServer(t *testing.T, answer func(req *http.Request) string) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &rawServer{addr: addrPortOf(ln.Addr()), peers: make(chan *rawPeer, 16)}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { nc.Close() })
			nc.SetDeadline(time.Now().Add(wait))
			br := bufio.NewReader(nc)
			req, err := http.ReadRequest(br)
			if err != nil {
				nc.Close()
				continue
			}
			io.WriteString(nc, answer(req))
			s.peers <- &rawPeer{nc: nc, br: br, req: req}
		}
	}()
	return s
}

func (s *rawServer) next(t *testing.T) *rawPeer {
	t.Helper()
	select {
	case p := <-s.peers:
		return p
	case <-time.After(wait):
		t.Fatal("no connection to the raw server")
	}
	return nil
}

// upgraded is the proper answer to an upgrade request, with extra header
// lines.
func upgraded(req *http.Request, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
}

// readAny reads one frame, masked or not, and unmasks it.
func (p *rawPeer) readAny(t *testing.T) (op byte, payload []byte, masked bool) {
	t.Helper()
	var h [8]byte
	if _, err := io.ReadFull(p.br, h[:2]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	op, masked = h[0]&0x0f, h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		io.ReadFull(p.br, h[:2])
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		io.ReadFull(p.br, h[:8])
		n = binary.BigEndian.Uint64(h[:8])
	}
	var key [4]byte
	if masked {
		io.ReadFull(p.br, key[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	maskBytes(payload, key)
	return op, payload, masked
}

// write writes one final frame, masked with key when it is not nil.
func (p *rawPeer) write(t *testing.T, op byte, payload []byte, key []byte) {
	t.Helper()
	b := []byte{0x80 | op}
	var m byte
	if key != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	payload = bytes.Clone(payload)
	if key != nil {
		b = append(b, key...)
		maskBytes(payload, [4]byte(key))
	}
	if _, err := p.nc.Write(append(b, payload...)); err != nil {
		t.Fatal(err)
	}
}

// TestWSDialMasking: the dialled side's upgrade request is what RFC 6455
// §4.1 and RFC 7118 §4.1 ask for, every frame it sends is masked (§5.3),
// it reads the server's unmasked frames and answers its pings, and a
// masked frame from the server breaks the protocol (§5.1): close 1002.
func TestWSDialMasking(t *testing.T) {
	srv := newRawServer(t, func(req *http.Request) string { return upgraded(req, "Sec-WebSocket-Protocol: sip\r\n") })
	a, as := start(t, Config{WSPath: "/ws?x=1", ServerName: func(effects.Peer) string { return "sip.test" }})
	to := effects.Peer{Addr: srv.addr, Transport: effects.WS}
	a.Send(to, sipMsg(1))
	p := srv.next(t)
	h := p.req.Header
	if p.req.Method != "GET" || p.req.RequestURI != "/ws?x=1" || p.req.Host != fmt.Sprintf("sip.test:%d", srv.addr.Port()) ||
		h.Get("Sec-WebSocket-Protocol") != "sip" || h.Get("Sec-WebSocket-Version") != "13" ||
		!headerHas(h, "Upgrade", "websocket") || !headerHas(h, "Connection", "upgrade") {
		t.Fatalf("upgrade request %s %s Host %s %v", p.req.Method, p.req.RequestURI, p.req.Host, h)
	}
	if k, err := base64.StdEncoding.DecodeString(h.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
		t.Fatalf("Sec-WebSocket-Key %q", h.Get("Sec-WebSocket-Key"))
	}
	if op, got, masked := p.readAny(t); !masked || op != opText || !bytes.Equal(got, sipMsg(1)) {
		t.Fatalf("frame op %d masked %v: %q", op, masked, got)
	}
	// A binary message (not UTF-8) goes masked as well.
	bin := append(sipMsg(2), 0xff)
	a.Send(to, bin)
	if op, got, masked := p.readAny(t); !masked || op != opBinary || !bytes.Equal(got, bin) {
		t.Fatalf("frame op %d masked %v: %q", op, masked, got)
	}
	// The server's unmasked message and ping; the pong comes back masked.
	p.write(t, opText, sipMsg(3), nil)
	if r := as.next(t); !bytes.Equal(r.Data, sipMsg(3)) || r.From.Addr != srv.addr || r.From.Transport != effects.WS {
		t.Fatalf("a got %q from %v", r.Data, r.From)
	}
	p.write(t, opPing, []byte("hi"), nil)
	if op, got, masked := p.readAny(t); !masked || op != opPong || string(got) != "hi" {
		t.Fatalf("pong op %d masked %v: %q", op, masked, got)
	}
	// A masked frame from a server: close 1002, masked too.
	p.write(t, opText, sipMsg(4), []byte{1, 2, 3, 4})
	if op, got, masked := p.readAny(t); !masked || op != opClose || binary.BigEndian.Uint16(got) != closeProtocol {
		t.Fatalf("close op %d masked %v: % x", op, masked, got)
	}
	if e := as.closed(t); !errors.Is(e.err, ErrFraming) || !errors.Is(e.err, errWSProtocol) {
		t.Fatalf("closed with %v", e.err)
	}
	as.none(t, 20*time.Millisecond)
}

// TestWSDialOversize: a message from the server over MaxWSFrame closes the
// dialled connection with 1009, as the server side does.
func TestWSDialOversize(t *testing.T) {
	srv := newRawServer(t, func(req *http.Request) string { return upgraded(req, "Sec-WebSocket-Protocol: sip\r\n") })
	a, as := start(t, Config{MaxWSFrame: 1000})
	a.Send(effects.Peer{Addr: srv.addr, Transport: effects.WS}, sipMsg(1))
	p := srv.next(t)
	p.readAny(t)
	p.write(t, opText, bytes.Repeat([]byte("x"), 1001), nil)
	if op, got, masked := p.readAny(t); !masked || op != opClose || binary.BigEndian.Uint16(got) != closeTooBig {
		t.Fatalf("close op %d masked %v: % x", op, masked, got)
	}
	if e := as.closed(t); !errors.Is(e.err, ErrTooLarge) {
		t.Fatalf("closed with %v", e.err)
	}
	if s := a.Stats(); s.Drops != 1 || s.ConnsOpen != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestWSDialHandshakeFailures: an upgrade the server refuses or answers
// wrongly (RFC 6455 §4.1's client checks, RFC 7118 §4.1's subprotocol)
// fails the dial with an error naming the cause; the connection is
// dropped from the tables, and both Send (through OnClose) and Dial report
// it.
func TestWSDialHandshakeFailures(t *testing.T) {
	cases := []struct {
		name   string
		answer func(req *http.Request) string
		want   string
	}{
		{"404", func(*http.Request) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}, "HTTP 404 Not Found"},
		{"wrong accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + acceptKey("AAAAAAAAAAAAAAAAAAAAAA==") + "\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
		}, "wrong Sec-WebSocket-Accept"},
		{"no subprotocol", func(req *http.Request) string { return upgraded(req, "") }, `subprotocol "", not sip`},
		{"other subprotocol", func(req *http.Request) string {
			return upgraded(req, "Sec-WebSocket-Protocol: chat\r\n")
		}, `subprotocol "chat", not sip`},
		{"no upgrade", func(req *http.Request) string {
			return strings.Replace(upgraded(req, "Sec-WebSocket-Protocol: sip\r\n"), "Upgrade: websocket\r\n", "", 1)
		}, "Upgrade is \"\""},
		{"extension", func(req *http.Request) string {
			return upgraded(req, "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")
		}, "Sec-WebSocket-Extensions"},
		{"not HTTP", func(*http.Request) string { return "SIP/2.0 200 OK\r\n\r\n" }, "reading the response"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRawServer(t, c.answer)
			a, as := start(t, Config{})
			to := effects.Peer{Addr: srv.addr, Transport: effects.WS}
			if err := a.Send(to, sipMsg(1)); err != nil {
				t.Fatal(err)
			}
			e := as.closed(t)
			if !errors.Is(e.err, ErrWSHandshake) || !strings.Contains(e.err.Error(), c.want) {
				t.Fatalf("closed with %v, want %q", e.err, c.want)
			}
			if n := a.Conns(); n != 0 {
				t.Errorf("%d connections left", n)
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if _, err := a.Dial(ctx, to); !errors.Is(err, ErrWSHandshake) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Dial: %v", err)
			}
			as.closed(t)
			if n := a.Conns(); n != 0 {
				t.Errorf("%d connections left", n)
			}
		})
	}
	// A real listener on another path answers 404.
	b, _ := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/sip"))
	a, as := start(t, Config{})
	a.Send(effects.Peer{Addr: bAddr, Transport: effects.WS}, sipMsg(1))
	if e := as.closed(t); !errors.Is(e.err, ErrWSHandshake) || !strings.Contains(e.err.Error(), "404") {
		t.Fatalf("closed with %v", e.err)
	}
	if b.Stats().ConnsAccepted != 0 || a.Conns() != 0 {
		t.Errorf("a connection was registered")
	}
}

// TestWSDialTimeout: a server that never answers the upgrade fails the
// dial within DialTimeout.
func TestWSDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
		}
	}()
	a, as := start(t, Config{DialTimeout: 100 * time.Millisecond})
	a.Send(effects.Peer{Addr: addrPortOf(ln.Addr()), Transport: effects.WS}, sipMsg(1))
	var ne net.Error
	if e := as.closed(t); !errors.Is(e.err, ErrWSHandshake) || !errors.As(e.err, &ne) || !ne.Timeout() {
		t.Fatalf("closed with %v", e.err)
	}
}

// TestWSConcurrentSends: sends to one WebSocket peer from many goroutines
// at once make one connection, and every message arrives.
func TestWSConcurrentSends(t *testing.T) {
	const senders, each = 8, 25
	a, _ := start(t, Config{WriteQueue: senders * each})
	b, bs := start(t, Config{})
	bAddr := must[netip.AddrPort](t)(b.ListenWS("127.0.0.1:0", "/"))
	to := effects.Peer{Addr: bAddr, Transport: effects.WS}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := a.Send(to, sipMsg(g*each+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range senders * each {
		seen[string(bs.next(t).Data)] = true
	}
	if len(seen) != senders*each {
		t.Fatalf("%d distinct messages", len(seen))
	}
	if a.Stats().ConnsDialled != 1 || b.Stats().ConnsAccepted != 1 {
		t.Fatalf("%d connections dialled, %d accepted", a.Stats().ConnsDialled, b.Stats().ConnsAccepted)
	}
}
