package proxycore_test

import (
	"net/netip"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

var (
	benchAlice = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	benchBob   = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
)

const benchInvite = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv1\r\n" +
	"Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
	"Call-ID: bench1@192.0.2.1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Type: application/sdp\r\n" +
	"Content-Length: 132\r\n\r\n" + sdpOffer

func inDialog(method, branch string, seq int) string {
	return method + " sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\nRoute: <sip:192.0.2.10:5060;lr>\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\nCall-ID: bench1@192.0.2.1\r\nCSeq: " + string(rune('0'+seq)) + " " + method + "\r\nContent-Length: 0\r\n\r\n"
}

// benchFlow is one call's messages: what alice and bob send, the latter
// built from what the proxy forwarded on a first run.
type benchFlow struct {
	invite, ack, bye        []byte
	r100, r180, r200, byeOK []byte
}

// prepare runs a call once through the core to build bob's responses.
func prepare(b *testing.B, d *driver) benchFlow {
	f := benchFlow{invite: []byte(benchInvite), ack: []byte(inDialog("ACK", "z9hG4bKack1", 1)), bye: []byte(inDialog("BYE", "z9hG4bKbye1", 2))}
	d.feed(effects.Input{Kind: effects.Received, Data: f.invite, From: benchAlice})
	fwd, err := message.Parse(d.sent, nil)
	if err != nil || fwd.Method() != "INVITE" {
		b.Fatalf("INVITE not forwarded: %v %s", err, d.sent)
	}
	resp := func(req *message.Message, code int) []byte {
		r, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: "b1"})
		if err != nil {
			b.Fatal(err)
		}
		if code > 100 && req.Method() == "INVITE" {
			_ = r.Add("Contact", "<sip:bob@192.0.2.2>")
			for _, rr := range req.Values("Record-Route") {
				_ = r.Add("Record-Route", rr)
			}
		}
		if code == 200 && req.Method() == "INVITE" {
			_ = r.SetBody("application/sdp", []byte(sdpAnswer))
		}
		return r.Bytes()
	}
	f.r100, f.r180, f.r200 = resp(fwd, 100), resp(fwd, 180), resp(fwd, 200)
	for _, m := range [][]byte{f.r100, f.r180, f.r200} {
		d.feed(effects.Input{Kind: effects.Received, Data: m, From: benchBob})
	}
	d.feed(effects.Input{Kind: effects.Received, Data: f.ack, From: benchAlice})
	d.feed(effects.Input{Kind: effects.Received, Data: f.bye, From: benchAlice})
	bye, err := message.Parse(d.sent, nil)
	if err != nil || bye.Method() != "BYE" {
		b.Fatalf("BYE not forwarded: %v %s", err, d.sent)
	}
	f.byeOK = resp(bye, 200)
	d.feed(effects.Input{Kind: effects.Received, Data: f.byeOK, From: benchBob})
	d.drain()
	return f
}

// run sends one call's messages through the core.
func (f *benchFlow) run(d *driver) int {
	n := 0
	for _, m := range []struct {
		data []byte
		from effects.Peer
	}{{f.invite, benchAlice}, {f.r100, benchBob}, {f.r180, benchBob}, {f.r200, benchBob}, {f.ack, benchAlice}, {f.bye, benchAlice}, {f.byeOK, benchBob}} {
		d.feed(effects.Input{Kind: effects.Received, Data: m.data, From: m.from})
		n += len(m.data)
	}
	d.drain()
	return n
}

// BenchmarkProxyCall runs a call (INVITE, 100, 180, 200, ACK, BYE, 200)
// through a record-routing stateful proxy: parsing, transactions, the
// response context, rendering every message it sends, and the timers
// fired at the end so that nothing is left.
func BenchmarkProxyCall(b *testing.B) {
	p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", RecordRoute: true})
	if err != nil {
		b.Fatal(err)
	}
	d := newDriver(p.Handle)
	f := prepare(b, d)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.SetBytes(int64(f.run(d)))
	}
	if p.Contexts() != 0 || p.Transactions().Len() != 0 {
		b.Fatalf("left %d contexts", p.Contexts())
	}
}

// BenchmarkStatelessCall runs the same call through a stateless proxy.
func BenchmarkStatelessCall(b *testing.B) {
	s, err := proxycore.NewStateless(proxycore.Config{Host: "192.0.2.10", RecordRoute: true})
	if err != nil {
		b.Fatal(err)
	}
	d := newDriver(s.Handle)
	f := prepare(b, d)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.SetBytes(int64(f.run(d)))
	}
}
