package transport

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
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
