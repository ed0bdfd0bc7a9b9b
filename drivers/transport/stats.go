package transport

import (
	"sync/atomic"

	"github.com/sansip/sansip/effects"
)

// Counters are the traffic figures of one transport.
type Counters struct {
	MsgsIn, BytesIn   uint64 // messages received (keep-alives excluded)
	MsgsOut, BytesOut uint64 // messages and keep-alives sent
	KeepAlives        uint64 // pings and pongs received
}

// Stats is a snapshot of a Transport's counters.
type Stats struct {
	// PerTransport holds the counters of each transport, indexed by
	// effects.Transport (UDP, TCP, TLS, WS, WSS; the others stay zero).
	PerTransport [effects.WSS + 1]Counters
	// ConnsOpen is the number of open connections (dialling included).
	ConnsOpen int64
	// ConnsAccepted and ConnsDialled count the connections ever accepted
	// and opened by this side.
	ConnsAccepted, ConnsDialled uint64
	// ConnsRefused counts connections refused or not dialled because
	// MaxConns were open.
	ConnsRefused uint64
	// FramingErrors counts connections closed for a framing error (stream
	// or WebSocket).
	FramingErrors uint64
	// Drops counts what arrived and was not delivered: oversize datagrams,
	// oversize WebSocket messages.
	Drops uint64
	// QueueOverflows counts connections closed because their write queue
	// overflowed.
	QueueOverflows uint64
	// SendErrors counts Send calls that failed.
	SendErrors uint64
}

// Of returns the counters of transport tr.
func (s Stats) Of(tr effects.Transport) Counters {
	if int(tr) < len(s.PerTransport) {
		return s.PerTransport[tr]
	}
	return Counters{}
}

type trafficCounters struct {
	msgsIn, bytesIn, msgsOut, bytesOut, keepAlives atomic.Uint64
}

type counters struct {
	per                                 [effects.WSS + 1]trafficCounters
	connsOpen                           atomic.Int64
	accepted, dialled, refused, framing atomic.Uint64
	drops, overflows, sendErrors        atomic.Uint64
}

func (c *counters) of(tr effects.Transport) *trafficCounters {
	if int(tr) < len(c.per) {
		return &c.per[tr]
	}
	return &c.per[0]
}

func (c *counters) sent(tr effects.Transport, n int) {
	p := c.of(tr)
	p.msgsOut.Add(1)
	p.bytesOut.Add(uint64(n))
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	c := &t.stats
	var s Stats
	for i := range c.per {
		p := &c.per[i]
		s.PerTransport[i] = Counters{
			MsgsIn: p.msgsIn.Load(), BytesIn: p.bytesIn.Load(),
			MsgsOut: p.msgsOut.Load(), BytesOut: p.bytesOut.Load(),
			KeepAlives: p.keepAlives.Load(),
		}
	}
	s.ConnsOpen = c.connsOpen.Load()
	s.ConnsAccepted = c.accepted.Load()
	s.ConnsDialled = c.dialled.Load()
	s.ConnsRefused = c.refused.Load()
	s.FramingErrors = c.framing.Load()
	s.Drops = c.drops.Load()
	s.QueueOverflows = c.overflows.Load()
	s.SendErrors = c.sendErrors.Load()
	return s
}
