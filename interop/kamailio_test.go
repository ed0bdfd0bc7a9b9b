package interop

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sansip/sansip/drivers/idgen"
	"github.com/sansip/sansip/drivers/loop"
	"github.com/sansip/sansip/drivers/transport"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ua"
	"github.com/sansip/sansip/uri"
)

// TestKamailioCalls places calls from a sansip UA through Kamailio (a
// stateful record-routing proxy, testdata/kamailio/proxy.cfg) to a SIPp
// UAS: every call is answered, and hung up with a BYE along the route set
// Kamailio recorded; the UAS counts each call that ended with its 200 to
// the BYE.
func TestKamailioCalls(t *testing.T) {
	kamailio := need(t, "kamailio")
	sipp := need(t, "sipp")
	const calls = 10
	dir := t.TempDir()
	kport, uasPort := freePort(t), freePort(t)
	cfg := kamailioConfig(t, dir, kport)
	k := start(t, dir, kamailio, "-f", cfg, "-DD", "-E", "-n", "1", "-m", "64", "-M", "8", "-P", filepath.Join(dir, "kamailio.pid"))
	waitBound(t, "udp", kport, k)
	stat := filepath.Join(dir, "uas.csv")
	uas := start(t, dir, sipp, "-sf", testdata(t, "sipp/uas_rr.xml"), "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort),
		"-m", strconv.Itoa(calls), "-nostdin", "-trace_stat", "-stf", stat, "-trace_err")
	waitBound(t, "udp", uasPort, uas)

	u := startUA(t)
	kam := effects.Peer{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(kport)), Transport: effects.UDP}
	target, err := uri.Parse("sip:service@127.0.0.1:" + strconv.Itoa(uasPort))
	if err != nil {
		t.Fatal(err)
	}
	for range calls {
		if err := u.call(target, kam); err != nil {
			t.Fatalf("Call: %v", err)
		}
	}
	answered, ended := 0, 0
	timeout := time.After(20 * time.Second)
	for ended < calls || answered < calls {
		select {
		case ev := <-u.events:
			switch ev.Kind {
			case effects.CallAnswered:
				answered++
			case effects.CallEnded:
				ended++
			case effects.CallFailed:
				t.Fatalf("call %d failed: %d %v\nKamailio:\n%s", ev.ID, ev.Code, ev.Err, k.output())
			}
		case <-timeout:
			t.Fatalf("after 20 s: %d of %d calls answered, %d ended\nKamailio:\n%s", answered, calls, ended, k.output())
		}
	}
	if answered != calls {
		t.Errorf("%d of %d calls answered", answered, calls)
	}
	// The UAS ends after its last call's BYE (and its 4 s time-wait).
	rc := uas.wait(t, 20*time.Second)
	ok, failed := sippStats(t, stat)
	t.Logf("%d calls through Kamailio: %d answered and hung up; the SIPp UAS counts %d successful, %d failed (exit %d)", calls, answered, ok, failed, rc)
	if rc != 0 || ok != calls {
		t.Errorf("SIPp UAS: exit %d, %d of %d calls successful, %d failed\n%s", rc, ok, calls, failed, uas.output())
	}
}

// kamailioConfig writes testdata/kamailio/proxy.cfg to dir, listening on
// port and loading modules from where this machine has them.
func kamailioConfig(t *testing.T, dir string, port int) string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, "kamailio/proxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "listen=udp:127.0.0.1:5070", "listen=udp:127.0.0.1:"+strconv.Itoa(port), 1)
	if mods, _ := filepath.Glob("/usr/lib/*/kamailio/modules/tm.so"); len(mods) > 0 {
		lines := strings.Split(cfg, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "mpath=") {
				lines[i] = fmt.Sprintf("mpath=%q", filepath.Dir(mods[0])+"/")
			}
		}
		cfg = strings.Join(lines, "\n")
	}
	path := filepath.Join(dir, "proxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testUA is a sansip UA on the reference drivers: a UDP socket of
// drivers/transport and one drivers/loop shard running a ua.UA. It hangs
// up every call as soon as it is answered, and passes every event to the
// test.
type testUA struct {
	rt     *loop.Runtime
	events chan effects.Event
}

// udpSender adapts a transport.Transport to loop.Transport.
type udpSender struct{ tr *transport.Transport }

func (s udpSender) Send(to effects.Peer, data []byte) error { return s.tr.Send(to, data) }
func (s udpSender) Close(id effects.ConnID) error {
	s.tr.Close(id)
	return nil
}

const testOffer = "v=0\r\no=sansip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// startUA starts a testUA on 127.0.0.1; it stops when the test ends.
func startUA(t *testing.T) *testUA {
	t.Helper()
	var rt atomic.Pointer[loop.Runtime]
	tr := transport.New(transport.Config{Handler: func(p transport.Packet) {
		if r := rt.Load(); r != nil && p.Data != nil {
			r.Receive(p.Data, p.From, p.Local)
		}
	}})
	addr, err := tr.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatalf("UA: %v", err)
	}
	aor, _ := uri.Parse("sip:alice@localhost")
	contact, _ := uri.Parse("sip:alice@" + addr.String())
	u := &testUA{events: make(chan effects.Event, 1024)}
	r, err := loop.New(loop.Config{
		Shards: 1, // every call on one core: no Call-ID to shard mapping needed
		NewCore: func(int) loop.Core {
			core, err := ua.New(ua.Config{AOR: aor, Contact: contact, Host: "127.0.0.1", Port: addr.Port(), Gen: idgen.Crypto()})
			if err != nil {
				panic(err)
			}
			return core
		},
		Transport: udpSender{tr},
		OnEvent: func(s *loop.Shard, ev effects.Event) {
			// The event first: the Hangup's own events (CallEnded)
			// are delivered from inside Exec.
			select {
			case u.events <- ev:
			default:
				t.Errorf("UA events: channel full, %v dropped", ev.Kind)
			}
			if ev.Kind == effects.CallAnswered {
				now := u.rt.Now()
				out, err := s.Core().(*ua.UA).Hangup(now, ev.ID, nil)
				if err != nil {
					t.Errorf("Hangup: %v", err)
				}
				s.Exec(now, out)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	u.rt = r
	rt.Store(r)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx, 100*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		sctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
		defer stop()
		tr.Shutdown(sctx)
	})
	return u
}

// call places a call to target through the outbound proxy dest.
func (u *testUA) call(target uri.URI, dest effects.Peer) error {
	errc := make(chan error, 1)
	if !u.rt.Shards()[0].Do(func(now effects.Time, out []effects.Effect) []effects.Effect {
		_, out, err := u.rt.Shards()[0].Core().(*ua.UA).Call(now, target, ua.CallOptions{Dest: dest, Body: []byte(testOffer)}, out)
		errc <- err
		return out
	}) {
		return loop.ErrOverload
	}
	return <-errc
}
