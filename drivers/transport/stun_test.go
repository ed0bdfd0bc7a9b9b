package transport

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/stun"
)

// TestUDPSTUN: on a SIP UDP port, STUN (first byte 0 to 3, RFC 7983) is
// not SIP. A Binding request is answered at once from the same socket with
// the source in XOR-MAPPED-ADDRESS (RFC 5626 §8, RFC 5389 §15.2), or 420
// when it carries unknown comprehension-required attributes (§7.3.1), and
// counted as a keep-alive; a Binding response reaches the Handler as a
// Pong with its bytes (§4.4.2); other STUN is dropped. Real sockets on
// loopback, both I/O paths, both families.
func TestUDPSTUN(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			udpPaths(t, func(t *testing.T, portable bool) { testUDPSTUN(t, host, portable) })
		})
	}
}

func testUDPSTUN(t *testing.T, host string, portable bool) {
	srv, ss := start(t, Config{UDPPortableIO: portable})
	srvAddr, err := srv.ListenUDP(net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("no UDP on %s: %v", host, err)
	}
	// A plain socket stands for a client behind no NAT: the server sees
	// its own address.
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	client := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	exchange := func(req []byte) (stun.Message, bool) {
		t.Helper()
		if _, err := pc.WriteToUDPAddrPort(req, srvAddr); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 1500)
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return stun.Message{}, false
		}
		if from != srvAddr {
			t.Errorf("answer from %v, not the socket %v", from, srvAddr)
		}
		m, err := stun.Parse(buf[:n])
		if err != nil {
			t.Fatalf("answer %x: %v", buf[:n], err)
		}
		return m, true
	}

	id := stun.TransactionID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	m, ok := exchange(stun.AppendBindingRequest(nil, id))
	if !ok {
		t.Fatal("no answer to a Binding request")
	}
	if a, err := m.XORMappedAddress(); m.Type != stun.BindingSuccess || m.TxID != id || !m.Fingerprint || err != nil || a != client {
		t.Errorf("answer %v %x fingerprint %v, mapped %v %v; want %v", m.Type, m.TxID, m.Fingerprint, a, err, client)
	}

	unknown := stun.NewBindingRequest(id)
	unknown.Add(0x0024, []byte{0, 0, 0, 1}) // PRIORITY, which a SIP edge proxy does not know
	b, _ := unknown.AppendTo(nil)
	m, ok = exchange(b)
	if code, _, _ := m.ErrorCode(); !ok || m.Type != stun.BindingError || code != 420 {
		t.Errorf("unknown attribute: answer %v %d", m.Type, code)
	}

	// An indication, a malformed message and a stray success response
	// from a plain socket: no answer. The response reaches the Handler
	// as a Pong.
	ind := stun.Message{Type: stun.BindingIndication, TxID: id}
	b, _ = ind.AppendTo(nil)
	if _, ok := exchange(b); ok {
		t.Error("an indication was answered")
	}
	if _, ok := exchange([]byte{0, 1, 0, 4, 0x21, 0x12}); ok {
		t.Error("a malformed message was answered")
	}
	resp := stun.AppendBindingSuccess(nil, id, netip.MustParseAddrPort("203.0.113.1:4000"))
	if _, ok := exchange(resp); ok {
		t.Error("a response was answered")
	}
	p := ss.next(t)
	if !p.Pong || p.Ping || !bytes.Equal(p.Data, resp) || p.From != (effects.Peer{Addr: client, Transport: effects.UDP}) || p.Local != srvAddr {
		t.Errorf("packet %+v", p)
	}
	ss.none(t, 50*time.Millisecond)
	st := srv.Stats()
	if c := st.Of(effects.UDP); c.KeepAlives != 3 || c.MsgsIn != 0 || c.MsgsOut != 2 {
		t.Errorf("counters %+v", c)
	}
	if st.Drops != 2 {
		t.Errorf("drops %d", st.Drops)
	}

	// Two Transports: a UA's keep-alive (a raw Send) and its answer, which
	// comes back to the sender's Handler as a Pong.
	cl, cs := start(t, Config{UDPPortableIO: portable})
	clAddr := must[netip.AddrPort](t)(cl.ListenUDP(net.JoinHostPort(host, "0")))
	id[0] = 99
	if err := cl.Send(effects.Peer{Addr: srvAddr, Transport: effects.UDP}, stun.AppendBindingRequest(nil, id)); err != nil {
		t.Fatal(err)
	}
	p = cs.next(t)
	got, err := stun.Parse(p.Data)
	if err != nil || !p.Pong || got.TxID != id || p.From.Addr != srvAddr {
		t.Fatalf("packet %+v: %v", p, err)
	}
	if a, err := got.XORMappedAddress(); err != nil || a != clAddr {
		t.Errorf("mapped %v %v, want %v", a, err, clAddr)
	}
	if c := cl.Stats().Of(effects.UDP); c.KeepAlives != 1 || c.MsgsIn != 0 {
		t.Errorf("client counters %+v", c)
	}
}
