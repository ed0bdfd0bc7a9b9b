package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/service"
	"github.com/sansip/sansip/store/redisstore"
	"github.com/sansip/sansip/store/redistest"
)

// A Store is a service.Store that the service calls on its workers: it
// blocks on Redis, so it is not service.Immediate.
var _ service.Store = (*redisstore.Store)(nil)

func TestNotImmediate(t *testing.T) {
	if _, ok := any(&redisstore.Store{}).(service.Immediate); ok {
		t.Error("a Store is service.Immediate")
	}
}

// TestTwoNodes: a binding registered through one node is found through
// another, at most CacheTTL late; a node sees its own updates at once.
func TestTwoNodes(t *testing.T) {
	addr := redistest.Shared(t)
	aor := mustURI(t, "sip:bob@biloxi.example.com")
	ctx := t.Context()

	t.Run("cached", func(t *testing.T) {
		const ttl = 500 * time.Millisecond
		p := prefix(t)
		a := newStore(t, addr, redisstore.Options{Prefix: p, CacheTTL: ttl})
		b := newStore(t, addr, redisstore.Options{Prefix: p, CacheTTL: ttl})
		if bs, err := b.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 0 {
			t.Fatalf("b before: %v, %v", targets(bs), err)
		}
		read := time.Now() // b read Redis before this
		now := wallNow()
		u := location.Update{CallID: "c1", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:bob@192.0.2.4>", now.Add(time.Hour))}}
		if bs, err := a.Apply(ctx, now, aor, u); err != nil || len(bs) != 1 {
			t.Fatalf("apply: %v, %v", targets(bs), err)
		}
		if bs, err := a.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 1 {
			t.Fatalf("a after its apply: %v, %v", targets(bs), err)
		}
		bs, err := b.Lookup(ctx, wallNow(), aor)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(read) < ttl-100*time.Millisecond && len(bs) != 0 {
			t.Errorf("b answered %v within CacheTTL of its read: the cache was not used", targets(bs))
		}
		time.Sleep(time.Until(read.Add(ttl)))
		if bs, err := b.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 1 || bs[0].Target().String() != "sip:bob@192.0.2.4" {
			t.Fatalf("b after CacheTTL: %v, %v", targets(bs), err)
		}
	})

	t.Run("uncached", func(t *testing.T) {
		p := prefix(t)
		a := newStore(t, addr, redisstore.Options{Prefix: p, CacheTTL: -1})
		b := newStore(t, addr, redisstore.Options{Prefix: p, CacheTTL: -1})
		now := wallNow()
		c := contact(t, "<sip:bob@192.0.2.4>", now.Add(time.Hour))
		if _, err := b.Lookup(ctx, now, aor); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Apply(ctx, now, aor, location.Update{CallID: "c1", CSeq: 1, Contacts: []location.Binding{c}}); err != nil {
			t.Fatal(err)
		}
		if bs, err := b.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 1 {
			t.Fatalf("b: %v, %v", targets(bs), err)
		}
		// A refresh through b, a removal through a: each seen at once.
		c.Expires = wallNow().Add(2 * time.Hour)
		if _, err := b.Apply(ctx, wallNow(), aor, location.Update{CallID: "c1", CSeq: 2, Contacts: []location.Binding{c}}); err != nil {
			t.Fatal(err)
		}
		if bs, err := a.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 1 || bs[0].Expires != c.Expires || bs[0].CSeq != 2 {
			t.Fatalf("a after b's refresh: %+v, %v", bs, err)
		}
		c.Expires = 0
		if bs, err := a.Apply(ctx, wallNow(), aor, location.Update{CallID: "c1", CSeq: 3, Contacts: []location.Binding{c}}); err != nil || len(bs) != 0 {
			t.Fatalf("remove: %v, %v", targets(bs), err)
		}
		if bs, err := b.Lookup(ctx, wallNow(), aor); err != nil || len(bs) != 0 {
			t.Fatalf("b after removal: %v, %v", targets(bs), err)
		}
	})
}

// TestRoundTrip: every field of a binding (RFC 3261 §10.3, RFC 3327 Path,
// RFC 5626 instance, reg-id and flow) is what another node reads.
func TestRoundTrip(t *testing.T) {
	addr := redistest.Shared(t)
	p := prefix(t)
	a := newStore(t, addr, redisstore.Options{Prefix: p})
	b := newStore(t, addr, redisstore.Options{Prefix: p, CacheTTL: -1})
	aor := mustURI(t, "sip:alice@atlanta.example.com")
	now := wallNow()
	c := contact(t, `"Alice" <sip:alice@192.0.2.4:5070;transport=tcp;ob>;q=0.5;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=2`, now.Add(time.Hour))
	path, err := header.ParseValue[header.Path]("<sip:tok3n@edge.atlanta.example.com;lr;ob>")
	if err != nil {
		t.Fatal(err)
	}
	c.Updated = now
	c.Path = []header.Path{path}
	c.Instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
	c.RegID = 2
	c.Flow = effects.Peer{Addr: netip.MustParseAddrPort("[2001:db8::1]:40000"), Transport: effects.TLS, Conn: 99}
	c.FlowToken = "ft"
	u := location.Update{CallID: "843817637684230@998sdasdh09", CSeq: 1826, Contacts: []location.Binding{c}}
	applied, err := a.Apply(t.Context(), now, aor, u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Lookup(t.Context(), now, aor)
	if err != nil {
		t.Fatal(err)
	}
	for name, bs := range map[string][]location.Binding{"Apply": applied, "Lookup": got} {
		if len(bs) != 1 {
			t.Fatalf("%s: %d bindings", name, len(bs))
		}
		g := bs[0]
		for _, f := range []struct {
			field     string
			got, want any
		}{
			{"AOR", g.AOR.String(), "sip:alice@atlanta.example.com"},
			{"Contact", string(g.Contact.AppendTo(nil)), string(c.Contact.AppendTo(nil))},
			{"Q", g.Q, 500},
			{"Expires", g.Expires, c.Expires},
			{"Updated", g.Updated, c.Updated},
			{"CallID", g.CallID, u.CallID},
			{"CSeq", g.CSeq, u.CSeq},
			{"Path", len(g.Path) == 1 && string(g.Path[0].AppendTo(nil)) == string(path.AppendTo(nil)), true},
			{"Instance", g.Instance, c.Instance},
			{"RegID", g.RegID, c.RegID},
			{"Flow", g.Flow, c.Flow},
			{"FlowToken", g.FlowToken, c.FlowToken},
			{"Outbound", g.Outbound(), true},
		} {
			if f.got != f.want {
				t.Errorf("%s: %s = %v, want %v", name, f.field, f.got, f.want)
			}
		}
	}
}

// TestExpiry: a binding is not looked up once expired (RFC 3261 §10.3
// step 7), and Redis deletes the key of an address of record when its
// last binding expires; one that expired earlier is dropped at the next
// update.
func TestExpiry(t *testing.T) {
	addr := redistest.Shared(t)
	s := newStore(t, addr, redisstore.Options{CacheTTL: 100 * time.Millisecond})
	raw := rawClient(t, addr)
	ctx := t.Context()
	one, two := mustURI(t, "sip:one@example.com"), mustURI(t, "sip:two@example.com")
	oneKey, _ := s.Key(one)
	twoKey, _ := s.Key(two)
	now := wallNow()
	short := now.Add(1500 * time.Millisecond)
	if _, err := s.Apply(ctx, now, one, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{
		contact(t, "<sip:one@192.0.2.1>", short)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, now, two, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{
		contact(t, "<sip:two@192.0.2.1>", short), contact(t, "<sip:two@192.0.2.2>", now.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if pttl, err := raw.PTTL(ctx, oneKey).Result(); err != nil || pttl <= 0 || pttl > 1500*time.Millisecond {
		t.Errorf("PTTL %s = %v, %v; want the binding's 1.5 s", oneKey, pttl, err)
	}
	if pttl, err := raw.PTTL(ctx, twoKey).Result(); err != nil || pttl < 59*time.Minute || pttl > time.Hour {
		t.Errorf("PTTL %s = %v, %v; want the latest binding's 1 h", twoKey, pttl, err)
	}

	waitFor(t, 3*time.Second, "binding of one expired", func() bool {
		bs, err := s.Lookup(ctx, wallNow(), one)
		return err == nil && len(bs) == 0
	})
	if time.Now().Before(time.Unix(0, int64(short))) {
		t.Fatal("binding gone before it expired")
	}
	waitFor(t, 3*time.Second, "key of one deleted by Redis", func() bool {
		n, err := raw.Exists(ctx, oneKey).Result()
		return err == nil && n == 0
	})
	bs, err := s.Lookup(ctx, wallNow(), two)
	if err != nil || !slices.Equal(targets(bs), []string{"sip:two@192.0.2.2"}) {
		t.Fatalf("two: %v, %v", targets(bs), err)
	}
	data, err := raw.Get(ctx, twoKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := location.Unmarshal(data); err != nil || len(stored) != 2 {
		t.Fatalf("stored before the next update: %d, %v; want the expired one still there", len(stored), err)
	}
	if _, err := s.Apply(ctx, wallNow(), two, location.Update{CallID: "c", CSeq: 2, Contacts: []location.Binding{
		contact(t, "<sip:two@192.0.2.3>", wallNow().Add(time.Minute))}}); err != nil {
		t.Fatal(err)
	}
	data, err = raw.Get(ctx, twoKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := location.Unmarshal(data)
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(targets(stored))), []string{"sip:two@192.0.2.2", "sip:two@192.0.2.3"}) {
		t.Fatalf("stored after the update: %v, %v", targets(stored), err)
	}
}

// TestMergeRules: Apply follows RFC 3261 §10.3 step 7 as location.Merge
// does, and an address of record left without bindings is deleted.
func TestMergeRules(t *testing.T) {
	addr := redistest.Shared(t)
	s := newStore(t, addr, redisstore.Options{MaxBindings: 2})
	raw := rawClient(t, addr)
	ctx := t.Context()
	for i, tc := range []struct {
		name    string
		rule    string
		update  func(now effects.Time) location.Update
		wantErr error
		want    []string // targets after the update
	}{{
		name: "same Call-ID, same CSeq", rule: "§10.3 step 7: CSeq not higher: aborted",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c1", CSeq: 10, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}}
		},
		wantErr: location.ErrOutOfOrder, want: []string{"sip:u@192.0.2.1"},
	}, {
		name: "same Call-ID, lower CSeq", rule: "§10.3 step 7: out of order",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c1", CSeq: 9, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", 0)}}
		},
		wantErr: location.ErrOutOfOrder, want: []string{"sip:u@192.0.2.1"},
	}, {
		name: "Contact * with lower CSeq", rule: "§10.3 step 6 and 7: the removal is ordered too",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c1", CSeq: 9, RemoveAll: true}
		},
		wantErr: location.ErrOutOfOrder, want: []string{"sip:u@192.0.2.1"},
	}, {
		name: "same Call-ID, higher CSeq", rule: "§10.3 step 7: refresh",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c1", CSeq: 11, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}}
		},
		want: []string{"sip:u@192.0.2.1"},
	}, {
		name: "other Call-ID, lower CSeq", rule: "§10.3 step 7: a new Call-ID wins (client restarted)",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c2", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.2>;q=0.5", now.Add(time.Hour))}}
		},
		want: []string{"sip:u@192.0.2.1", "sip:u@192.0.2.2"},
	}, {
		name: "too many bindings", rule: "§10.3 step 7: the registrar's bound",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c2", CSeq: 2, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.3>", now.Add(time.Hour))}}
		},
		wantErr: location.ErrTooManyBindings, want: []string{"sip:u@192.0.2.1", "sip:u@192.0.2.2"},
	}, {
		name: "expires=0 removes", rule: "§10.3 step 7: expiration 0 removes the binding",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c2", CSeq: 3, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.2>", now)}}
		},
		want: []string{"sip:u@192.0.2.1"},
	}, {
		name: "Contact * removes all", rule: "§10.3 step 6: Contact: * with Expires: 0",
		update: func(now effects.Time) location.Update {
			return location.Update{CallID: "c1", CSeq: 12, RemoveAll: true}
		},
		want: nil,
	}, {
		name: "query only", rule: "§10.2.3: a REGISTER without Contact changes nothing",
		update: func(now effects.Time) location.Update { return location.Update{CallID: "c1", CSeq: 13} },
		want:   nil,
	}} {
		aor := mustURI(t, "sip:u@example.com")
		key, _ := s.Key(aor)
		if i == 0 {
			now := wallNow()
			if _, err := s.Apply(ctx, now, aor, location.Update{CallID: "c1", CSeq: 10, Contacts: []location.Binding{
				contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}}); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			now := wallNow()
			bs, err := s.Apply(ctx, now, aor, tc.update(now))
			if !errors.Is(err, tc.wantErr) || err == nil && tc.wantErr != nil {
				t.Fatalf("%s: err = %v, want %v", tc.rule, err, tc.wantErr)
			}
			if errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("a refusal wraps ErrUnavailable: %v", err)
			}
			if err == nil && !slices.Equal(targets(bs), tc.want) {
				t.Errorf("%s: Apply returned %v, want %v", tc.rule, targets(bs), tc.want)
			}
			if bs, err := s.Lookup(ctx, wallNow(), aor); err != nil || !slices.Equal(targets(bs), tc.want) {
				t.Errorf("%s: Lookup = %v, %v; want %v", tc.rule, targets(bs), err, tc.want)
			}
			n, err := raw.Exists(ctx, key).Result()
			if err != nil || (n == 1) != (len(tc.want) > 0) {
				t.Errorf("EXISTS %s = %d, %v with %d bindings", key, n, err, len(tc.want))
			}
		})
	}
}

// TestInvalidAOR: a URI that is not an address of record has no bindings
// and cannot be registered.
func TestInvalidAOR(t *testing.T) {
	s := newStore(t, "127.0.0.1:1", redisstore.Options{})
	tel := mustURI(t, "tel:+15551234567")
	if bs, err := s.Lookup(t.Context(), wallNow(), tel); bs != nil || err != nil {
		t.Errorf("Lookup = %v, %v", bs, err)
	}
	_, err := s.Apply(t.Context(), wallNow(), tel, location.Update{CallID: "c", CSeq: 1, RemoveAll: true})
	if !errors.Is(err, location.ErrAOR) {
		t.Errorf("Apply: %v, want ErrAOR", err)
	}
	if _, err := s.Key(tel); !errors.Is(err, location.ErrAOR) {
		t.Errorf("Key: %v, want ErrAOR", err)
	}
}

// TestUnreadable: a key whose value is not bindings fails look-ups and
// updates with location.ErrEncoding (the registrar answers 500) and is
// not overwritten.
func TestUnreadable(t *testing.T) {
	addr := redistest.Shared(t)
	s := newStore(t, addr, redisstore.Options{CacheTTL: -1})
	raw := rawClient(t, addr)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		put  func(key string) error
	}{
		{"not JSON", func(key string) error { return raw.Set(ctx, key, "{", time.Minute).Err() }},
		{"not a binding", func(key string) error { return raw.Set(ctx, key, `[{"v":9}]`, time.Minute).Err() }},
		{"a list", func(key string) error { return raw.RPush(ctx, key, "x").Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aor := mustURI(t, fmt.Sprintf("sip:%s@example.com", tc.name[:1]))
			key, _ := s.Key(aor)
			if err := tc.put(key); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Lookup(ctx, wallNow(), aor); !errors.Is(err, location.ErrEncoding) {
				t.Errorf("Lookup: %v, want ErrEncoding", err)
			}
			now := wallNow()
			_, err := s.Apply(ctx, now, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:x@192.0.2.1>", now.Add(time.Hour))}})
			if !errors.Is(err, location.ErrEncoding) || errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("Apply: %v, want ErrEncoding", err)
			}
		})
	}
}

// TestOutOfMemory: an update that Redis refuses for its maxmemory fails
// with location.ErrFull (503 with Retry-After); look-ups go on.
func TestOutOfMemory(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv.Addr(), redisstore.Options{CacheTTL: -1})
	raw := rawClient(t, srv.Addr())
	ctx := t.Context()
	aor := mustURI(t, "sip:u@example.com")
	now := wallNow()
	if _, err := s.Apply(ctx, now, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if err := raw.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Apply(ctx, now, aor, location.Update{CallID: "c", CSeq: 2, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.2>", now.Add(time.Hour))}})
	if !errors.Is(err, location.ErrFull) {
		t.Fatalf("Apply: %v, want ErrFull", err)
	}
	if bs, err := s.Lookup(ctx, now, aor); err != nil || len(bs) != 1 {
		t.Errorf("Lookup: %v, %v", targets(bs), err)
	}
}

// TestConcurrentApply: updates of one address of record from two nodes
// and 16 goroutines are all kept (WATCH/MULTI/EXEC retries): no update is
// lost.
func TestConcurrentApply(t *testing.T) {
	const goroutines, each = 16, 4
	addr := redistest.Shared(t)
	p := prefix(t)
	o := redisstore.Options{Prefix: p, Timeout: 10 * time.Second, MaxBindings: goroutines * each}
	nodes := []*redisstore.Store{newStore(t, addr, o), newStore(t, addr, o)}
	aor := mustURI(t, "sip:popular@example.com")
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			s := nodes[g%2]
			for i := range each {
				now := wallNow()
				c := contact(t, fmt.Sprintf("<sip:popular@192.0.2.%d:%d>", g, 5060+i), now.Add(time.Hour))
				_, err := s.Apply(t.Context(), now, aor, location.Update{CallID: fmt.Sprint("c", g), CSeq: uint32(i + 1), Contacts: []location.Binding{c}})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A node's cache may miss the other node's last updates for
	// CacheTTL; Redis has them all.
	o.CacheTTL = -1
	bs, err := newStore(t, addr, o).Lookup(t.Context(), wallNow(), aor)
	if err != nil || len(bs) != goroutines*each {
		t.Errorf("%d bindings, %v; want %d", len(bs), err, goroutines*each)
	}
}

// TestFaults: with Redis killed, operations fail with ErrUnavailable
// within the Timeout; after a restart the same Store serves again, and
// every binding acknowledged before the crash is there. Nothing leaks.
func TestFaults(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := redistest.Start(t)
	checkGoroutines(t, func() {
		s, err := redisstore.New(redisstore.Options{Addr: srv.Addr(), Prefix: prefix(t), Timeout: timeout, CacheTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		aorOf := func(i int) string { return fmt.Sprintf("sip:user%d@example.com", i) }
		apply := func(i int) error {
			now := wallNow()
			_, err := s.Apply(ctx, now, mustURI(t, aorOf(i)), location.Update{CallID: "c", CSeq: uint32(i + 1),
				Contacts: []location.Binding{contact(t, fmt.Sprintf("<sip:user%d@192.0.2.1>", i), now.Add(time.Hour))}})
			return err
		}

		// Updates run while Redis is killed: those acknowledged must
		// survive.
		var acked []int
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if apply(i) == nil {
					acked = append(acked, i)
				}
			}
		}()
		time.Sleep(200 * time.Millisecond)
		srv.Kill()
		time.Sleep(100 * time.Millisecond)
		close(stop)
		<-done
		if len(acked) == 0 {
			t.Fatal("no update acknowledged before the kill")
		}

		for name, op := range map[string]func() error{
			"Apply": func() error { return apply(-1) },
			"Lookup": func() error {
				_, err := s.Lookup(ctx, wallNow(), mustURI(t, aorOf(0)))
				return err
			},
			"Ping": func() error { return s.Ping(ctx) },
		} {
			start := time.Now()
			err := op()
			if !errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("%s with Redis down: %v, want ErrUnavailable", name, err)
			}
			if d := time.Since(start); d > 3*timeout {
				t.Errorf("%s with Redis down took %v, Timeout is %v", name, d, timeout)
			}
		}

		srv.Restart()
		waitFor(t, 5*time.Second, "Ping after restart", func() bool { return s.Ping(ctx) == nil })
		for _, i := range acked {
			bs, err := s.Lookup(ctx, wallNow(), mustURI(t, aorOf(i)))
			if err != nil || len(bs) != 1 {
				t.Errorf("%s, acknowledged before the kill: %v, %v", aorOf(i), targets(bs), err)
			}
		}
		if err := apply(len(acked) + 1000); err != nil {
			t.Errorf("Apply after restart: %v", err)
		}
		t.Logf("%d updates acknowledged before the kill", len(acked))
	})
}

// TestUnresponsive: a Redis that accepts connections but answers nothing
// (stopped with SIGSTOP) fails operations with ErrUnavailable within the
// Timeout; they succeed again once it answers.
func TestUnresponsive(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := redistest.Start(t)
	s := newStore(t, srv.Addr(), redisstore.Options{Timeout: timeout, CacheTTL: -1})
	ctx := t.Context()
	aor := mustURI(t, "sip:u@example.com")
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	for name, op := range map[string]func() error{
		"Apply": func() error {
			now := wallNow()
			_, err := s.Apply(ctx, now, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}})
			return err
		},
		"Lookup": func() error {
			_, err := s.Lookup(ctx, wallNow(), aor)
			return err
		},
	} {
		start := time.Now()
		err := op()
		if !errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("%s with Redis stopped: %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d > 3*timeout {
			t.Errorf("%s with Redis stopped took %v, Timeout is %v", name, d, timeout)
		}
	}
	// The caller's own deadline counts too.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	start := time.Now()
	_, err := s.Lookup(short, wallNow(), aor)
	cancel()
	if !errors.Is(err, redisstore.ErrUnavailable) || time.Since(start) > timeout {
		t.Errorf("Lookup with a 50 ms context: %v after %v", err, time.Since(start))
	}
	srv.Resume()
	waitFor(t, 5*time.Second, "Ping after resume", func() bool { return s.Ping(ctx) == nil })
	if _, err := s.Lookup(ctx, wallNow(), aor); err != nil {
		t.Errorf("Lookup after resume: %v", err)
	}
}

// TestRedisDownAtStart: New does not need Redis; the Store serves once
// Redis answers.
func TestRedisDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	s := newStore(t, srv.Addr(), redisstore.Options{Timeout: 300 * time.Millisecond})
	ctx := t.Context()
	if err := s.Ping(ctx); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Ping with Redis down: %v", err)
	}
	if _, err := s.Lookup(ctx, wallNow(), mustURI(t, "sip:u@example.com")); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Lookup with Redis down: %v", err)
	}
	srv.Restart()
	waitFor(t, 5*time.Second, "Ping after start", func() bool { return s.Ping(ctx) == nil })
	if _, err := s.Lookup(ctx, wallNow(), mustURI(t, "sip:u@example.com")); err != nil {
		t.Fatal(err)
	}
}

// TestClosed: a closed Store fails with ErrUnavailable.
func TestClosed(t *testing.T) {
	s, err := redisstore.New(redisstore.Options{Addr: redistest.Shared(t), Prefix: prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(t.Context(), wallNow(), mustURI(t, "sip:u@example.com")); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Lookup after Close: %v", err)
	}
}

func TestNewOptions(t *testing.T) {
	for _, o := range []redisstore.Options{
		{Addr: "no port"},
		{Timeout: -time.Second},
		{DB: -1},
	} {
		if s, err := redisstore.New(o); err == nil {
			s.Close()
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

// TestPassword: Options.Password authenticates; without it Redis refuses
// to serve, which is ErrUnavailable (503) too.
func TestPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.Args("--requirepass", "secret"))
	if err := newStore(t, srv.Addr(), redisstore.Options{}).Ping(t.Context()); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Ping without password: %v, want ErrUnavailable", err)
	}
	s := newStore(t, srv.Addr(), redisstore.Options{Password: "secret", DB: 3})
	now := wallNow()
	aor := mustURI(t, "sip:u@example.com")
	if _, err := s.Apply(t.Context(), now, aor, location.Update{CallID: "c", CSeq: 1, Contacts: []location.Binding{contact(t, "<sip:u@192.0.2.1>", now.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "secret", DB: 3, DisableIdentity: true})
	defer raw.Close()
	key, _ := s.Key(aor)
	if n, err := raw.Exists(t.Context(), key).Result(); err != nil || n != 1 {
		t.Errorf("EXISTS %s in DB 3: %d, %v", key, n, err)
	}
}
