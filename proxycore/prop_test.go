package proxycore_test

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore"
)

// step is one thing a scripted target does after it got the INVITE: wait,
// then answer with code (0: nothing).
type step struct {
	Delay time.Duration
	Code  int
}

var reflectStep = reflect.TypeOf(step{})

// scriptedTarget answers INVITEs by its script, and a CANCEL with 200 and
// 487 when it has sent no final response yet. It never retransmits.
type scriptedTarget struct {
	nd     *node
	script []step
	final  int // the final response sent, if any
	inv    *message.Message
}

func (s *scriptedTarget) handle(in effects.Input) []effects.Effect {
	if in.Kind != effects.Received {
		return nil
	}
	m, err := message.Parse(in.Data, nil)
	if err != nil || !m.IsRequest() {
		return nil
	}
	reply := func(req *message.Message, code int) []effects.Effect {
		r, err := message.NewResponse(req, code, "", message.ResponseOptions{ToTag: "t" + s.nd.name})
		if err != nil {
			return nil
		}
		return []effects.Effect{{Kind: effects.Send, Msg: r, To: in.From}}
	}
	switch m.Method() {
	case "INVITE":
		if s.inv != nil {
			return nil
		}
		s.inv = m
		at := time.Duration(0)
		for _, st := range s.script {
			at += st.Delay
			code := st.Code
			s.nd.net.after(at, func() {
				if code == 0 || s.final != 0 && (code >= 300 || s.final >= 300) {
					return // a UAS sends one final response (2xx again)
				}
				if code >= 200 {
					s.final = code
				}
				s.nd.net.apply(s.nd, reply(s.inv, code))
			})
		}
	case "CANCEL":
		out := reply(m, 200)
		if s.final == 0 && s.inv != nil {
			s.final = 487
			out = append(out, reply(s.inv, 487)...)
		}
		return out
	}
	return nil
}

var codes = []int{0, 180, 183, 200, 200, 486, 603, 503, 404, 302, 408}

func genScript() gopter.Gen {
	return gen.SliceOfN(4, gen.Struct(reflectStep, map[string]gopter.Gen{
		"Delay": gen.Int64Range(0, int64(40*time.Second)).Map(func(d int64) time.Duration { return time.Duration(d) }),
		"Code":  gen.IntRange(0, len(codes)-1).Map(func(i int) int { return codes[i] }),
	}))
}

// TestPropertyForking forks an INVITE to three scripted targets that send
// random provisionals, finals and 2xx after random delays over a lossy
// network, and checks RFC 3261 §16.7: at most one final non-2xx goes
// upstream, and none after a 2xx (a 2xx may follow, from a branch given up
// unheard: it is forwarded, RFC 6026 §7.3); every 2xx received goes
// upstream; each
// response forwarded has the Vias of the one received minus the top one;
// and nothing is left once everything ended.
func TestPropertyForking(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 150
	params.Rng.Seed(7)
	props := gopter.NewProperties(params)
	props.Property("forking invariants", prop.ForAll(
		func(scripts [][]step, fork int, loss uint8) string {
			return runForking(scripts, proxycore.ForkMode(fork), loss)
		},
		gen.SliceOfN(3, genScript()), gen.IntRange(0, 2), gen.UInt8Range(0, 20),
	))
	props.TestingRun(t)
}

// recorder is a tester that keeps the first failure.
type recorder struct{ msg string }

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.Errorf(f, a...)
	panic(r)
}
func (r *recorder) Errorf(f string, a ...any) {
	if r.msg == "" {
		r.msg = fmt.Sprintf(f, a...)
	}
}

func runForking(scripts [][]step, fork proxycore.ForkMode, loss uint8) (res string) {
	rec := &recorder{}
	defer func() {
		if r := recover(); r != nil && r != rec {
			panic(r)
		}
		if res == "" && rec.msg != "" {
			res = rec.msg
		}
	}()
	n := newNetwork(rec)
	var targets []proxycore.Target
	for i, sc := range scripts {
		addr := fmt.Sprintf("192.0.2.%d:5060", 30+i)
		nd := n.place(fmt.Sprintf("t%d", i), addr)
		st := &scriptedTarget{nd: nd, script: sc}
		nd.custom = st.handle
		targets = append(targets, proxycore.Target{URI: mustURI("sip:t@" + addr), Q: 1000 - 100*(i%2)})
	}
	p := n.addProxy("p", "192.0.2.10:5060", proxycore.Config{Router: func(*messageT) proxycore.Decision {
		return proxycore.Decision{Targets: targets, Fork: fork, BranchTimeout: 20 * time.Second}
	}})
	n.drop = func(w wireEntry) bool {
		if w.from == "p" && w.to == "caller" || loss == 0 {
			return false
		}
		h := fnv.New32a()
		fmt.Fprint(h, len(n.wire), w.from, w.to)
		return h.Sum32()%100 < uint32(loss)
	}
	caller := n.place("caller", "192.0.2.1:5060")
	caller.custom = func(effects.Input) []effects.Effect { return nil }
	n.inject(p, alicePeer, request("INVITE", "sip:bob@example.com"))
	n.quiesce()
	if rec.msg != "" {
		return rec.msg
	}
	callerVia := "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc1"
	var finals []string
	got2xx, sent2xx := 0, 0
	for _, w := range n.wire {
		code := w.msg.StatusCode()
		if w.from == "p" && w.to == "caller" {
			if v := w.msg.Values("Via"); !slices.Equal(v, []string{callerVia}) {
				return fmt.Sprintf("response %d upstream with Vias %v", code, v)
			}
			switch {
			case code >= 300:
				if sent2xx > 0 && len(finals) == 0 {
					return "a non-2xx final upstream after a 2xx"
				}
				finals = append(finals, w.msg.String())
			case code >= 200:
				sent2xx++
			}
		}
		if w.to == "p" && !w.dropped && code >= 200 && code < 300 && w.from != "caller" && w.msg.Method() == "INVITE" {
			got2xx++
		}
	}
	for _, f := range finals[min(1, len(finals)):] {
		if f != finals[0] {
			return fmt.Sprintf("two different finals upstream:\n%s\n%s", finals[0], f)
		}
	}
	if got2xx != sent2xx {
		return fmt.Sprintf("%d 2xx received, %d forwarded\n%s", got2xx, sent2xx, strings.Join(n.log(), "\n"))
	}
	if len(finals) == 0 && sent2xx == 0 {
		return "no final response upstream"
	}
	return ""
}
