package ua

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
)

// regReply is how the server answers one REGISTER (retransmissions get
// the same answer): 0 as the registrar would (digest challenge included),
// 1 200 granting Arg seconds to the Contacts, 2 423 with Min-Expires Arg,
// 3 an error (403, 480, 500, 503 or 600; Retry-After when Arg is odd),
// 4 no answer at all.
type regReply struct {
	Kind int
	Arg  int
}

// regScenario is one registration against a server behaving at random.
type regScenario struct {
	Auth, WrongPassword bool
	Outbound            bool
	ExpiresHeader       bool
	Asked               int // seconds
	Replies             []regReply
	Flow                []int // seconds at which the outbound flow fails
	Stop                int   // seconds after which the application unregisters
	All                 bool  // with UnregisterAll
	Fetch               int   // seconds at which the application fetches the bindings (0: never)
}

// TestPropRegister runs registrations against random server behaviour
// (random grants, 423, challenges with right or wrong passwords, errors
// with or without Retry-After, silence, outbound flow failures) and checks:
//   - the registration's REGISTERs share one Call-ID and their CSeq
//     strictly increases, auth retries included (RFC 3261 §10.2.4);
//   - whenever it is registered, a refresh is planned after now and
//     before the granted expiry;
//   - it ends with exactly one Unregistered, and after Unregister and
//     quiescence no registration, timer or transaction is left.
func TestPropRegister(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 200
	if testing.Short() {
		p.MinSuccessfulTests = 40
	}
	if s := os.Getenv("SANSIP_PROP_ITERS"); s != "" {
		p.MinSuccessfulTests, _ = strconv.Atoi(s)
	}
	seed := int64(20261124)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d (replay: SANSIP_PROP_SEED=%d go test -run TestPropRegister ./ua/)", seed, seed)
	props := gopter.NewProperties(p)
	props.Property("registrations", prop.ForAll(func(sc regScenario) *gopter.PropResult {
		return check(func() string { return runRegScenario(catcher{}, sc) })
	}, gen.Struct(reflect.TypeOf(regScenario{}), map[string]gopter.Gen{
		"Auth": gen.Bool(), "WrongPassword": gen.Bool(), "Outbound": gen.Bool(), "ExpiresHeader": gen.Bool(),
		"Asked": gen.IntRange(1, 7200),
		"Replies": gen.SliceOfN(8, gen.Struct(reflect.TypeOf(regReply{}), map[string]gopter.Gen{
			"Kind": gen.IntRange(0, 4), "Arg": gen.IntRange(0, 7200),
		})),
		"Flow":  gen.SliceOfN(2, gen.IntRange(0, 7200)),
		"Stop":  gen.IntRange(0, 7200),
		"All":   gen.Bool(),
		"Fetch": gen.IntRange(0, 7200),
	})))
	props.TestingRun(t)
}

// runRegScenario runs one scenario and returns what went wrong, or "".
func runRegScenario(t tester, sc regScenario) string {
	tr := effects.UDP
	if sc.Outbound {
		tr = effects.TCP
	}
	pw := "zanzibar"
	if sc.WrongPassword {
		pw = "wrong"
	}
	s := newRegSetup(t, pw)
	if tr != effects.UDP {
		s.bob.addr.Transport, s.reg.nd.addr.Transport = tr, tr
	}
	if !sc.Auth {
		s.reg.srv = nil
	}
	s.reg.minExpires, s.reg.outbound = 20, sc.Outbound // the 423 path; and runs stay short
	s.reg.script = scriptReplies(sc.Replies)
	n, bob := s.n, s.bob
	var problem string
	unregistered := 0
	bob.on = func(nd *node, ev effects.Event) {
		if ev.Kind == effects.Unregistered {
			unregistered++
		}
		if msg := checkPlanned(nd.ua, ev.ID, n.now); msg != "" && problem == "" {
			problem = fmt.Sprintf("at %v after %v: %s", time.Duration(n.now), ev.Kind, msg)
		}
	}
	o := s.options()
	o.Expires, o.ExpiresHeader, o.Retry = time.Duration(max(sc.Asked, 1))*time.Second, sc.ExpiresHeader, true
	if sc.Outbound {
		o.Outbound = &OutboundOptions{Instance: instance, RegID: 1}
	}
	id := s.register(o)
	for _, f := range sc.Flow {
		n.after(time.Duration(f)*time.Second, func() { n.feed(bob, effects.Input{Kind: effects.ConnClosed, Conn: 1}) })
	}
	if sc.Fetch > 0 {
		n.after(time.Duration(sc.Fetch)*time.Second, func() {
			out, _ := bob.ua.Bindings(n.now, id, nil)
			n.apply(bob, out)
		})
	}
	n.run(time.Duration(sc.Stop) * time.Second)
	if _, ok := bob.ua.Registration(id); ok {
		unregister := bob.ua.Unregister
		if sc.All {
			unregister = bob.ua.UnregisterAll
		}
		out, err := unregister(n.now, id, nil)
		if err != nil {
			return "Unregister: " + err.Error()
		}
		n.apply(bob, out)
	}
	n.quiesce()
	if problem != "" {
		return problem
	}
	if unregistered != 1 {
		return fmt.Sprintf("%d Unregistered events", unregistered)
	}
	_, ms := registers(n)
	ms = dedupe(ms)
	for i := 1; i < len(ms); i++ {
		if ms[i].CallID() != ms[0].CallID() || ms[i].CSeq().Seq <= ms[i-1].CSeq().Seq {
			return fmt.Sprintf("REGISTER %d: %s CSeq %d after %s %d", i, ms[i].CallID(), ms[i].CSeq().Seq, ms[0].CallID(), ms[i-1].CSeq().Seq)
		}
	}
	return ""
}

// checkPlanned checks that a registered registration has its refresh
// planned after now and before the granted expiry, or in progress.
func checkPlanned(u *UA, id uint64, now effects.Time) string {
	info, ok := u.Registration(id)
	if !ok || !info.Registered || info.Refreshing {
		return ""
	}
	if info.RefreshAt <= now || info.RefreshAt >= now.Add(info.Granted) {
		return fmt.Sprintf("registered for %v, refresh at %v", info.Granted, time.Duration(info.RefreshAt-now))
	}
	return ""
}

// scriptReplies makes a registrar script that answers the i-th distinct
// REGISTER with replies[i % len].
func scriptReplies(replies []regReply) func(req *message.Message) (int, func(*message.Message)) {
	seen := map[uint32]regReply{}
	next := 0
	return func(req *message.Message) (int, func(*message.Message)) {
		if len(replies) == 0 {
			return 0, nil
		}
		r, ok := seen[req.CSeq().Seq]
		if !ok {
			r = replies[next%len(replies)]
			next++
			seen[req.CSeq().Seq] = r
		}
		return replyFor(r, req)
	}
}

func replyFor(r regReply, req *message.Message) (int, func(*message.Message)) {
	switch r.Kind {
	case 1:
		return 200, func(m *message.Message) {
			cs, _ := message.All[header.Contact](req)
			var vals []header.Contact
			for _, c := range cs {
				if c.Star {
					return
				}
				if e, ok := c.Expires(); ok && e == 0 {
					continue
				}
				e := r.Arg
				if e > 0 && e < 20 {
					e = 20 // keeps runs short
				}
				c.Params = c.Params.With("expires", strconv.Itoa(e))
				vals = append(vals, c)
			}
			if len(vals) > 0 {
				message.Set(m, vals...)
			}
		}
	case 2:
		return 423, func(m *message.Message) { message.Set(m, header.MinExpires(uint32(r.Arg))) }
	case 3:
		code := []int{403, 480, 500, 503, 600}[r.Arg%5]
		return code, func(m *message.Message) {
			if r.Arg%2 == 1 {
				message.Set(m, header.RetryAfter{Delta: uint32(r.Arg % 100)})
			}
		}
	case 4:
		return -1, nil
	}
	return 0, nil
}

// FuzzRegister drives a registration with a fuzzer-written server: each
// pair of bytes is one answer (kind, argument); the first bytes choose the
// options, the flow failures and when the application unregisters. No
// panic, and the invariants of TestPropRegister hold.
func FuzzRegister(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 1, 0, 60, 10, 200, 1, 60, 2, 120, 3, 3, 4, 0, 1, 0})
	f.Add([]byte{3, 0, 1, 255, 255, 7, 1, 1, 1, 5, 4, 4, 3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 9 || len(data) > 64 {
			return
		}
		sc := regScenario{
			Auth: data[0]&1 != 0, WrongPassword: data[0]&2 != 0, Outbound: data[0]&4 != 0,
			ExpiresHeader: data[0]&8 != 0, All: data[0]&16 != 0,
			Asked: 1 + int(data[1])*30,
			Stop:  int(data[2]) * 30,
			Fetch: int(data[3]) * 30,
			Flow:  []int{int(data[4]) * 30},
		}
		for i := 5; i+1 < len(data); i += 2 {
			sc.Replies = append(sc.Replies, regReply{Kind: int(data[i]) % 5, Arg: int(data[i+1]) * 30})
		}
		if msg := runRegScenario(fuzzTester{t}, sc); msg != "" {
			t.Fatal(msg)
		}
	})
}

// fuzzTester fails the fuzz input on a network violation.
type fuzzTester struct{ t *testing.T }

func (f fuzzTester) Helper()                           {}
func (f fuzzTester) Fatalf(format string, args ...any) { f.t.Fatalf(format, args...) }
func (f fuzzTester) Fatal(args ...any)                 { f.t.Fatal(args...) }
func (f fuzzTester) Errorf(format string, args ...any) { f.t.Fatalf(format, args...) }
