package location_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/uri"
)

// op is one REGISTER in a generated sequence.
type op struct {
	AOR       int // 0 to 2
	Mask      int // which of the contacts (bit i: contacts[i])
	Seed      int // expires and q of each contact, 3 bits each
	RemoveAll bool
	CallID    int
	CSeq      int
	Advance   int // seconds before the REGISTER
	Expire    bool
}

// contacts are the Contacts the generator draws from, with the key by
// which the model tells bindings apart: RFC 3261 §19.1.4 (host case does
// not matter, a transport parameter in one URI only does) and RFC 5626 §6
// (instance and reg-id, whatever the URI).
var contacts = []struct{ text, key string }{
	{"<sip:u1@h.example.com>", "u1"},
	{"<sip:u1@H.EXAMPLE.COM>", "u1"},
	{"<sip:u2@h.example.com;transport=tcp>", "u2tcp"},
	{"<sip:u2@h.example.com>", "u2"},
	{`<sip:x@10.0.0.1>;+sip.instance="<urn:uuid:a>";reg-id=1`, "a1"},
	{`<sip:y@10.0.0.2>;+sip.instance="<urn:uuid:a>";reg-id=1`, "a1"},
	{`<sip:y@10.0.0.2>;+sip.instance="<urn:uuid:a>";reg-id=2`, "a2"},
}

var expiries = []int{0, 1, 5, 10, 30, 60, 120, 300}

const (
	maxBindings = 4
	maxAORs     = 2
)

type modelBinding struct {
	callID  string
	cseq    uint32
	expires effects.Time
	q       int
}

// model is the simple model: per AOR, per key, the binding.
type model map[int]map[string]modelBinding

func (m model) live(now effects.Time, aor int) map[string]modelBinding {
	out := map[string]modelBinding{}
	for k, b := range m[aor] {
		if b.expires > now {
			out[k] = b
		}
	}
	return out
}

// apply is RFC 3261 §10.3 step 7 written the plain way; false means the
// update is refused.
func (m model) apply(now effects.Time, aor int, o op, cs []modelContact) bool {
	cur := m.live(now, aor)
	callID, cseq := fmt.Sprint("call", o.CallID), uint32(o.CSeq)
	stale := func(b modelBinding) bool { return b.callID == callID && cseq <= b.cseq }
	if o.RemoveAll {
		for _, b := range cur {
			if stale(b) {
				return false
			}
		}
		m[aor] = nil
		return true
	}
	touched := map[string]bool{}
	for _, c := range cs {
		if b, ok := cur[c.key]; ok && !touched[c.key] && stale(b) {
			return false
		}
		if c.expires <= now {
			delete(cur, c.key)
			continue
		}
		cur[c.key] = modelBinding{callID: callID, cseq: cseq, expires: c.expires, q: c.q}
		touched[c.key] = true
	}
	if len(cur) > maxBindings {
		return false
	}
	others := 0
	for a := range m {
		if a != aor && len(m.live(now, a)) > 0 {
			others++
		}
	}
	if len(m.live(now, aor)) == 0 && len(cur) > 0 && others >= maxAORs {
		return false
	}
	m[aor] = cur
	return true
}

type modelContact struct {
	key     string
	expires effects.Time
	q       int
}

func aorURI(i int) uri.URI {
	u, _ := uri.Parse(fmt.Sprintf("sip:user%d@biloxi.example.com", i))
	return u
}

// runOps runs the sequence against a Store and the model and returns what
// differs, or "".
func runOps(ops []op) string {
	s := &location.Store{MaxBindings: maxBindings, MaxAORs: maxAORs}
	m := model{}
	now := effects.Time(0)
	for n, o := range ops {
		now = now.Add(time.Duration(o.Advance) * time.Second)
		u := location.Update{CallID: fmt.Sprint("call", o.CallID), CSeq: uint32(o.CSeq), RemoveAll: o.RemoveAll}
		var mc []modelContact
		for i, c := range contacts {
			if o.Mask&(1<<i) == 0 || o.RemoveAll {
				continue
			}
			hc, _ := header.ParseValue[header.Contact](c.text)
			bits := o.Seed >> (3 * i)
			exp := now.Add(time.Duration(expiries[bits&7]) * time.Second)
			q := (bits >> 1 & 3) * 300
			b := location.Binding{Contact: hc, Q: q, Expires: exp, Updated: now, Instance: hc.Instance()}
			b.RegID, _ = hc.RegID()
			u.Contacts = append(u.Contacts, b)
			mc = append(mc, modelContact{key: c.key, expires: exp, q: q})
		}
		_, err := s.Apply(now, aorURI(o.AOR), u)
		if ok := m.apply(now, o.AOR, o, mc); ok != (err == nil) {
			return fmt.Sprintf("op %d %+v: store error %v, model accepts %v", n, o, err, ok)
		}
		if o.Expire {
			s.Expire(now)
		}
		for a := range 3 {
			if d := compare(now, s.Lookup(now, aorURI(a)), m.live(now, a)); d != "" {
				return fmt.Sprintf("op %d %+v, AOR %d: %s", n, o, a, d)
			}
		}
	}
	return ""
}

// compare checks a Lookup against the model: the same bindings, none
// expired, sorted by q.
func compare(now effects.Time, got []location.Binding, want map[string]modelBinding) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d bindings, model %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, b := range got {
		k := key(b)
		w, ok := want[k]
		switch {
		case !ok || seen[k]:
			return "unexpected binding " + k
		case b.Expired(now):
			return "expired binding " + k
		case b.Expires != w.expires || b.CallID != w.callID || b.CSeq != w.cseq || b.Q != w.q:
			return fmt.Sprintf("binding %s: %+v, model %+v", k, b, w)
		case i > 0 && got[i-1].Q < b.Q:
			return "not sorted by q"
		}
		seen[k] = true
	}
	return ""
}

func key(b location.Binding) string {
	if b.Outbound() {
		return fmt.Sprintf("%s%d", strings.TrimPrefix(b.Instance, "urn:uuid:"), b.RegID)
	}
	k := b.Contact.URI.User
	if b.Contact.URI.Transport() != "" {
		k += b.Contact.URI.Transport()
	}
	return k
}

// TestPropModel: after any sequence of REGISTERs (random contacts, some
// equal by §19.1.4 or by instance and reg-id, random expiries, q, Call-IDs,
// CSeqs, times, Expire calls), Apply accepts exactly what the model
// accepts and Lookup returns exactly the bindings the model predicts,
// never an expired one, sorted by q.
func TestPropModel(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 300
	if testing.Short() {
		p.MinSuccessfulTests = 50
	}
	p.SetSeed(20260101)
	props := gopter.NewProperties(p)
	props.Property("store matches model", prop.ForAll(func(ops []op) string {
		return runOps(ops)
	}, gen.SliceOfN(40, gen.Struct(reflect.TypeOf(op{}), map[string]gopter.Gen{
		"AOR": gen.IntRange(0, 2), "Mask": gen.IntRange(0, 127), "Seed": gen.IntRange(0, 1<<21-1),
		"RemoveAll": gen.Weighted([]gen.WeightedGen{{Weight: 1, Gen: gen.Const(true)}, {Weight: 9, Gen: gen.Const(false)}}),
		"CallID":    gen.IntRange(0, 1), "CSeq": gen.IntRange(1, 8), "Advance": gen.IntRange(0, 40), "Expire": gen.Bool(),
	}))))
	props.TestingRun(t)
}
