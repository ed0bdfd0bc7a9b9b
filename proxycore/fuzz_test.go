package proxycore_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/proxycore"
)

var fuzzPeers = []effects.Peer{
	{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: effects.UDP},
	{Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Transport: effects.UDP},
	{Addr: netip.MustParseAddrPort("192.0.2.3:5060"), Transport: effects.TCP, Conn: 3},
}

// fuzzSeeds are messages to start the corpus from.
func fuzzSeeds(f *testing.F) {
	f.Add([]byte("\x00" + request("INVITE", "sip:bob@192.0.2.2")))
	f.Add([]byte("\x00" + request("INVITE", "sip:bob@biloxi.example.com") + "\x01\x02\x01\x01"))
	f.Add([]byte("\x00" + request("OPTIONS", "sip:192.0.2.10", "Max-Forwards: 0")))
	f.Add([]byte("\x00" + request("CANCEL", "sip:bob@192.0.2.2") + "\x03"))
	f.Add([]byte("\x00" + request("ACK", "sip:bob@192.0.2.2", "Route: <sip:192.0.2.10;lr>")))
	f.Add([]byte("\x01SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx\r\nVia: SIP/2.0/UDP 192.0.2.1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
}

// chunks splits fuzz data at 0xff bytes; each chunk's first byte chooses
// the input: 0-2 a message from that peer, 3 a timer, 4 a DNS answer, 5 a
// send failure.
func chunks(data []byte, fn func(op byte, rest []byte)) {
	for len(data) > 0 {
		i := 0
		for i < len(data) && data[i] != 0xff {
			i++
		}
		if i > 0 {
			fn(data[0]%6, data[1:i])
		}
		if i == len(data) {
			return
		}
		data = data[i+1:]
	}
}

// FuzzProxy feeds a stateful proxy random inputs (messages, timers, DNS
// answers, send failures) and checks it never panics, keeps its tables
// bounded, and holds nothing once every timer fired and every look-up was
// answered.
func FuzzProxy(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := proxycore.New(proxycore.Config{Gen: ident.Seeded(1), Host: "192.0.2.10", RecordRoute: true, MaxContexts: 4,
			Router: func(m *messageT) proxycore.Decision {
				if len(m.CallID())%2 == 0 {
					return proxycore.Decision{Targets: []proxycore.Target{{URI: mustURI("sip:a@192.0.2.2")}, {URI: mustURI("sip:b@biloxi.example.com"), Q: 500}}, Recurse: true, BranchTimeout: time.Second}
				}
				return proxycore.RequestURI()
			}})
		if err != nil {
			t.Fatal(err)
		}
		d := newDriver(p.Handle)
		chunks(data, func(op byte, rest []byte) {
			switch op {
			case 0, 1, 2:
				d.feed(effects.Input{Kind: effects.Received, Data: rest, From: fuzzPeers[op]})
			case 3:
				d.fireNext()
			case 4:
				d.answerDNS(len(rest) > 0)
			case 5:
				d.feed(effects.Input{Kind: effects.SendFailed, Tag: d.lastTag})
			}
			if p.Contexts() > 4 {
				t.Fatalf("%d contexts", p.Contexts())
			}
		})
		d.drain()
		if p.Contexts() != 0 || p.Timers() != 0 || p.Transactions().Len() != 0 || len(d.timers) != 0 {
			t.Fatalf("left %d contexts, %d timers, %d transactions, %d timers set", p.Contexts(), p.Timers(), p.Transactions().Len(), len(d.timers))
		}
	})
}

// FuzzStateless feeds a stateless proxy random inputs: no panic, bounded
// pending look-ups.
func FuzzStateless(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := proxycore.NewStateless(proxycore.Config{Host: "192.0.2.10", RecordRoute: true, MaxPending: 2})
		if err != nil {
			t.Fatal(err)
		}
		d := newDriver(s.Handle)
		chunks(data, func(op byte, rest []byte) {
			switch op {
			case 0, 1, 2:
				d.feed(effects.Input{Kind: effects.Received, Data: rest, From: fuzzPeers[op]})
			case 4:
				d.answerDNS(len(rest) > 0)
			}
			if s.Pending() > 2 {
				t.Fatalf("%d pending", s.Pending())
			}
		})
		d.drain()
		if s.Pending() != 0 {
			t.Fatalf("%d pending", s.Pending())
		}
	})
}

// driver runs one core: it keeps its timers and look-ups and renders every
// message it sends.
type driver struct {
	handle  func(effects.Input, []effects.Effect) []effects.Effect
	now     effects.Time
	timers  map[effects.TimerID]effects.Time
	dns     []uint64
	lastTag uint64
	sent    []byte // the last message sent, rendered
	out     []effects.Effect
	buf     []byte
}

func newDriver(h func(effects.Input, []effects.Effect) []effects.Effect) *driver {
	return &driver{handle: h, timers: map[effects.TimerID]effects.Time{}}
}

func (d *driver) feed(in effects.Input) {
	in.Now = d.now
	d.out = d.handle(in, d.out[:0])
	for _, e := range d.out {
		switch e.Kind {
		case effects.Send:
			if e.Msg != nil {
				d.buf = e.Msg.AppendTo(d.buf[:0])
				d.sent = append(d.sent[:0], d.buf...)
			}
			d.lastTag = e.Tag
		case effects.SetTimer:
			d.timers[e.Timer] = d.now.Add(e.After)
		case effects.CancelTimer:
			delete(d.timers, e.Timer)
		case effects.Resolve:
			d.dns = append(d.dns, e.Tag)
		}
	}
}

// fireNext fires the earliest timer.
func (d *driver) fireNext() bool {
	var id effects.TimerID
	var at effects.Time
	found := false
	for t, when := range d.timers {
		if !found || when < at || when == at && t < id {
			id, at, found = t, when, true
		}
	}
	if !found {
		return false
	}
	delete(d.timers, id)
	d.now = max(d.now, at)
	d.feed(effects.Input{Kind: effects.TimerFired, Timer: id})
	return true
}

// answerDNS answers the oldest look-up, with an address or with nothing.
func (d *driver) answerDNS(ok bool) bool {
	if len(d.dns) == 0 {
		return false
	}
	tag := d.dns[0]
	d.dns = d.dns[1:]
	in := effects.Input{Kind: effects.Resolved, Tag: tag}
	if ok {
		in.Answer = []effects.Target{{Addr: netip.MustParseAddrPort("192.0.2.7:5060"), Transport: effects.UDP}}
	}
	d.feed(in)
	return true
}

// drain answers every look-up and fires every timer.
func (d *driver) drain() {
	for i := 0; i < 100000; i++ {
		if !d.answerDNS(false) && !d.fireNext() {
			return
		}
	}
}
