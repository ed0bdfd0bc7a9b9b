// Package register measures a sansip server's registrar on each location
// store, in one run so that the ratios hold whatever the machine:
// REGISTERs with digest per second through one node (memory, the bbolt
// file store, Redis), and look-ups per second of each store.
//
//	cd bench && go test ./register -run '^$' -bench . -benchtime 20000x
//
// The Redis cases use $SANSIP_REDIS_ADDR, else start a redis-server on
// loopback (package redistest).
package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/store/redisstore"
	"github.com/sansip/sansip/store/redistest"
	"github.com/sansip/sansip/uri"
)

const (
	users   = 2000 // addresses of record, each with its own client state
	workers = 32   // clients with a REGISTER outstanding at once
	domain  = "bench.test"
)

// stores are the location stores compared, each made fresh for a case.
var stores = []struct {
	name string
	open func(b *testing.B) service.Store
}{
	{"memory", func(b *testing.B) service.Store { return service.NewMemoryStore() }},
	{"bbolt", func(b *testing.B) service.Store {
		s, err := boltstore.Open(b.TempDir()+"/bindings.db", boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"redis", func(b *testing.B) service.Store { return openRedis(b, 0) }},
	{"redis-nocache", func(b *testing.B) service.Store { return openRedis(b, -1) }},
}

// openRedis opens a Redis store with keys of its own; cacheTTL as
// redisstore.Options.CacheTTL (0: the default, negative: no cache).
func openRedis(b *testing.B, cacheTTL time.Duration) service.Store {
	s, err := redisstore.New(redisstore.Options{Addr: redistest.Shared(b), Prefix: fmt.Sprintf("bench-%d:", time.Now().UnixNano()), CacheTTL: cacheTTL})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// serve runs a registrar for domain on a loopback UDP port with the users
// u0…u1999 (password "pw") over store until the benchmark ends.
func serve(b *testing.B, store service.Store) string {
	b.Helper()
	pw := map[string]string{}
	for i := range users {
		pw["u"+strconv.Itoa(i)] = "pw"
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{
			UDP: []string{"127.0.0.1:0"}, Domains: []string{domain}, Users: pw, Store: store,
			Logger: slog.New(slog.DiscardHandler), Drain: 100 * time.Millisecond,
			Ready: func(a map[effects.Transport][]netip.AddrPort) { ready <- a[effects.UDP][0].String() },
		})
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		b.Fatal(err)
	}
	return ""
}

// client is one user's registering client: its Call-ID and CSeq, and the
// last challenge, answered pre-emptively with the next nonce count (RFC
// 7616 §3.4) as a refreshing client does.
type client struct {
	user  string
	cseq  int
	ch    *header.Challenge
	nc    uint32
	conn  net.Conn
	local string
}

var errStatus = errors.New("unexpected response")

// register registers the client's contact once: one REGISTER when its
// cached challenge is still good, two when the server challenges again.
func (c *client) register(buf []byte) error {
	for range 3 {
		c.cseq++
		req := "REGISTER sip:" + domain + " SIP/2.0\r\nVia: SIP/2.0/UDP " + c.local + ";branch=z9hG4bK" + c.user + "x" + strconv.Itoa(c.cseq) + ";rport\r\n" +
			"Max-Forwards: 70\r\nTo: <sip:" + c.user + "@" + domain + ">\r\nFrom: <sip:" + c.user + "@" + domain + ">;tag=" + c.user + "\r\n" +
			"Call-ID: reg-" + c.user + "\r\nCSeq: " + strconv.Itoa(c.cseq) + " REGISTER\r\nContact: <sip:" + c.user + "@" + c.local + ">\r\nExpires: 3600\r\n"
		if c.ch != nil {
			c.nc++
			cred, err := digest.Authorize(*c.ch, digest.Credentials{Username: c.user, Password: "pw"}, "REGISTER", "sip:"+domain, nil, "c"+c.user, c.nc)
			if err != nil {
				return err
			}
			req += "Authorization: " + string(header.Authorization{Credentials: cred}.AppendTo(nil)) + "\r\n"
		}
		req += "Content-Length: 0\r\n\r\n"
		if _, err := c.conn.Write([]byte(req)); err != nil {
			return err
		}
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.conn.Read(buf)
		if err != nil {
			return err
		}
		resp, err := message.Parse(buf[:n], nil)
		if err != nil {
			return err
		}
		switch resp.StatusCode() {
		case 200:
			return nil
		case 401:
			ch, ok, err := message.First[header.WWWAuthenticate](resp)
			if !ok || err != nil {
				return fmt.Errorf("401 without a challenge: %v", err)
			}
			c.ch, c.nc = &ch.Challenge, 0
		default:
			return fmt.Errorf("%w: %s", errStatus, resp.StartLine())
		}
	}
	return fmt.Errorf("%w: challenged three times", errStatus)
}

// BenchmarkRegister: REGISTERs with digest per second through one node on
// each store, from 32 clients at once over UDP on loopback (the clients
// share the machine). Each operation is one successful registration
// refresh of one of 2000 users.
func BenchmarkRegister(b *testing.B) {
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			addr := serve(b, st.open(b))
			clients := make([]*client, users)
			for i := range clients {
				conn, err := net.Dial("udp", addr)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { conn.Close() })
				clients[i] = &client{user: "u" + strconv.Itoa(i), conn: conn, local: conn.LocalAddr().String()}
			}
			// Every user registered once (challenged) before timing.
			run(b, clients, len(clients))
			b.ResetTimer()
			began := time.Now()
			run(b, clients, b.N)
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "registers/s")
		})
	}
}

// run makes n registrations: each worker registers its own clients in
// turn (one request at a time per client), until n are done.
func run(b *testing.B, clients []*client, n int) {
	var next, failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*client
			for j := w; j < len(clients); j += workers {
				mine = append(mine, clients[j])
			}
			buf := make([]byte, 65536)
			for k := 0; next.Add(1) <= int64(n); k++ {
				if err := mine[k%len(mine)].register(buf); err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d registrations failed, the first: %v", f, n, first.Load())
	}
}

// BenchmarkLookup: look-ups per second of each store (as the proxy makes
// one for each call to a registered user), from 32 goroutines at once,
// over 2000 addresses of record with one binding each.
func BenchmarkLookup(b *testing.B) {
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			s := st.open(b)
			now := effects.Time(time.Now().UnixNano())
			aors := make([]uri.URI, users)
			for i := range aors {
				aors[i], _ = uri.Parse("sip:u" + strconv.Itoa(i) + "@" + domain)
				c, _ := header.ParseValue[header.Contact]("<sip:u" + strconv.Itoa(i) + "@127.0.0.1:5999>")
				u := location.Update{CallID: "c" + strconv.Itoa(i), CSeq: 1, Contacts: []location.Binding{{
					AOR: aors[i], Contact: c, Q: 1000, Expires: now.Add(time.Hour), Updated: now, CallID: "c" + strconv.Itoa(i), CSeq: 1}}}
				if _, err := s.Apply(context.Background(), now, aors[i], u); err != nil {
					b.Fatal(err)
				}
			}
			var n atomic.Int64
			b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			began := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					bs, err := s.Lookup(context.Background(), now, aors[int(i)%users])
					if err != nil || len(bs) != 1 {
						b.Errorf("lookup: %v %d", err, len(bs))
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "lookups/s")
		})
	}
}
