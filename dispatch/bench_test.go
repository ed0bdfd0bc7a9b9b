package dispatch_test

import (
	"net/netip"
	"testing"

	"github.com/sansip/sansip/dispatch"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

var (
	alice = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP}
	bob   = effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP}
)

const (
	offer  = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	answer = "v=0\r\no=bob 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)

func invite() string {
	return "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv1\r\n" +
		"Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: bench1@192.0.2.1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + itoa(len(offer)) + "\r\n\r\n" + offer
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func inDialog(method, branch string, seq int) string {
	return method + " sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n" +
		"Max-Forwards: 70\r\nRoute: <sip:192.0.2.10:5060;lr>\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\nCall-ID: bench1@192.0.2.1\r\nCSeq: " + itoa(seq) + " " + method + "\r\nContent-Length: 0\r\n\r\n"
}

// driver runs a core on a virtual clock; a RouteRequest is answered at
// once with route, as an application's callback that decides at once.
type driver struct {
	handle func(effects.Input, []effects.Effect) []effects.Effect
	core   *dispatch.Core
	route  dispatch.Decision
	now    effects.Time
	timers map[effects.TimerID]effects.Time
	sent   []byte
	out    []effects.Effect
	more   [][]effects.Effect // by depth of the routing decisions
	depth  int
	buf    []byte
}

func (d *driver) feed(in effects.Input) {
	in.Now = d.now
	d.out = d.handle(in, d.out[:0])
	d.apply(d.out)
}

func (d *driver) apply(effs []effects.Effect) {
	for _, e := range effs {
		switch e.Kind {
		case effects.Send:
			if e.Msg != nil {
				d.buf = e.Msg.AppendTo(d.buf[:0])
				d.sent = append(d.sent[:0], d.buf...)
			}
		case effects.SetTimer:
			d.timers[e.Timer] = d.now.Add(e.After)
		case effects.CancelTimer:
			delete(d.timers, e.Timer)
		case effects.Deliver:
			if e.Event.Kind == effects.RouteRequest {
				if d.depth == len(d.more) {
					d.more = append(d.more, nil)
				}
				more, err := d.core.Route(d.now, e.Event.ID, d.route, d.more[d.depth][:0])
				if err != nil {
					panic(err)
				}
				d.more[d.depth] = more
				d.depth++
				d.apply(more)
				d.depth--
			}
		}
	}
}

// drain fires every timer, in order.
func (d *driver) drain() {
	for len(d.timers) > 0 {
		var id effects.TimerID
		var at effects.Time
		first := true
		for t, when := range d.timers {
			if first || when < at || when == at && t < id {
				id, at, first = t, when, false
			}
		}
		delete(d.timers, id)
		d.now = max(d.now, at)
		d.feed(effects.Input{Kind: effects.TimerFired, Timer: id})
	}
}

type flow struct{ invite, ack, bye, r100, r180, r200, byeOK []byte }

// prepare runs a call once to build bob's responses.
func prepare(b *testing.B, d *driver) flow {
	f := flow{invite: []byte(invite()), ack: []byte(inDialog("ACK", "z9hG4bKack1", 1)), bye: []byte(inDialog("BYE", "z9hG4bKbye1", 2))}
	d.feed(effects.Input{Kind: effects.Received, Data: f.invite, From: alice})
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
			_ = r.SetBody("application/sdp", []byte(answer))
		}
		return r.Bytes()
	}
	f.r100, f.r180, f.r200 = resp(fwd, 100), resp(fwd, 180), resp(fwd, 200)
	for _, m := range [][]byte{f.r100, f.r180, f.r200} {
		d.feed(effects.Input{Kind: effects.Received, Data: m, From: bob})
	}
	d.feed(effects.Input{Kind: effects.Received, Data: f.ack, From: alice})
	d.feed(effects.Input{Kind: effects.Received, Data: f.bye, From: alice})
	bye, err := message.Parse(d.sent, nil)
	if err != nil || bye.Method() != "BYE" {
		b.Fatalf("BYE not forwarded: %v %s", err, d.sent)
	}
	f.byeOK = resp(bye, 200)
	d.feed(effects.Input{Kind: effects.Received, Data: f.byeOK, From: bob})
	d.drain()
	return f
}

func (f *flow) run(d *driver) int {
	n := 0
	for _, m := range []struct {
		data []byte
		from effects.Peer
	}{{f.invite, alice}, {f.r100, bob}, {f.r180, bob}, {f.r200, bob}, {f.ack, alice}, {f.bye, alice}, {f.byeOK, bob}} {
		d.feed(effects.Input{Kind: effects.Received, Data: m.data, From: m.from})
		n += len(m.data)
	}
	d.drain()
	return n
}

func mustURI(s string) uri.URI {
	u, err := uri.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func newCore(b *testing.B, ask bool) *dispatch.Core {
	c, err := dispatch.New(dispatch.Config{
		Proxy: proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", RecordRoute: true},
		UA:    ua.Config{Gen: ident.Seeded(2), Host: "192.0.2.10", Contact: mustURI("sip:192.0.2.10")},
		Ask:   ask,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCall runs a call (INVITE, 100, 180, 200, ACK, BYE, 200, then
// every timer) through a record-routing proxy three ways, for the cost of
// the dispatcher and of the application's routing decision: the proxy
// core alone (proxycore.Proxy, as `sansip serve` ran before dispatch), the
// dispatcher with no routing question (the default route), and the
// dispatcher asking the application, which decides at once (proxy to the
// Request-URI with Record-Route), as a routing callback does.
func BenchmarkCall(b *testing.B) {
	b.Run("proxycore", func(b *testing.B) {
		p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", RecordRoute: true})
		if err != nil {
			b.Fatal(err)
		}
		bench(b, &driver{handle: p.Handle, timers: map[effects.TimerID]effects.Time{}})
	})
	b.Run("dispatch", func(b *testing.B) {
		c := newCore(b, false)
		bench(b, &driver{handle: c.Handle, core: c, timers: map[effects.TimerID]effects.Time{}})
	})
	b.Run("route", func(b *testing.B) {
		c := newCore(b, true)
		d := &driver{handle: c.Handle, core: c, timers: map[effects.TimerID]effects.Time{},
			route: dispatch.Decision{Action: dispatch.Proxy}}
		bench(b, d)
		if c.Waiting() != 0 || !c.Idle() {
			b.Fatal("state left")
		}
	})
}

func bench(b *testing.B, d *driver) {
	f := prepare(b, d)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.SetBytes(int64(f.run(d)))
	}
}

func seeded(n uint64) ident.Generator { return ident.Seeded(n) }
