package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/store/boltstore"
	"github.com/sansip/sansip/uri"
)

// op is one step of a generated sequence: a REGISTER, then maybe an
// Expire, maybe a restart.
type op struct {
	AOR       int // 0 to 2
	Mask      int // which of the contacts (bit i: contacts[i])
	Seed      int // expires and q of each contact, 3 bits each
	RemoveAll bool
	CallID    int
	CSeq      int
	Advance   int // seconds before the REGISTER
	Expire    bool
	Reopen    bool
}

// contacts are the Contacts drawn from: some equal by RFC 3261 §19.1.4
// (host case), some told apart by a transport parameter, some outbound
// registrations (RFC 5626) equal by instance and reg-id alone.
var contacts = []string{
	"<sip:u1@h.example.com>",
	"<sip:u1@H.EXAMPLE.COM>",
	"<sip:u2@h.example.com;transport=tcp>",
	"<sip:u2@h.example.com>",
	`<sip:x@10.0.0.1>;+sip.instance="<urn:uuid:a>";reg-id=1`,
	`<sip:y@10.0.0.2>;+sip.instance="<urn:uuid:a>";reg-id=1`,
	`<sip:y@10.0.0.2>;+sip.instance="<urn:uuid:a>";reg-id=2`,
}

var expiries = []int{0, 1, 5, 10, 30, 60, 120, 300}

const (
	propMaxBindings = 4
	propMaxAORs     = 2
)

func propAOR(i int) uri.URI {
	u, _ := uri.Parse(fmt.Sprintf("sip:user%d@biloxi.example.com", i))
	return u
}

// errClass names the sentinel an Apply error wraps.
func errClass(err error) string {
	for _, e := range []error{location.ErrOutOfOrder, location.ErrTooManyBindings, location.ErrFull} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

func encode(bs []location.Binding) string {
	if len(bs) == 0 {
		return "[]"
	}
	data, err := location.Marshal(bs)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// runModel runs the sequence against a Store and against location.Store
// (the in-memory semantics it must match) and returns what differs, or
// "".
func runModel(path string, ops []op) string {
	ctx := context.Background()
	o := boltstore.Options{NoSync: true, MaxBindings: propMaxBindings, MaxAORs: propMaxAORs}
	s, err := boltstore.Open(path, o)
	if err != nil {
		return err.Error()
	}
	defer func() { s.Close() }()
	m := &location.Store{MaxBindings: propMaxBindings, MaxAORs: propMaxAORs}
	now := effects.Time(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	for n, o := range ops {
		now = now.Add(time.Duration(o.Advance) * time.Second)
		aor := propAOR(o.AOR)
		canon, _ := location.Canonical(aor)
		u := location.Update{CallID: fmt.Sprint("call", o.CallID), CSeq: uint32(o.CSeq), RemoveAll: o.RemoveAll}
		for i, text := range contacts {
			if o.Mask&(1<<i) == 0 || o.RemoveAll {
				continue
			}
			hc, _ := header.ParseValue[header.Contact](text)
			bits := o.Seed >> (3 * i)
			b := location.Binding{AOR: canon, Contact: hc, Q: (bits >> 1 & 3) * 300, Updated: now, Instance: hc.Instance(),
				Expires: now.Add(time.Duration(expiries[bits&7]) * time.Second)}
			b.RegID, _ = hc.RegID()
			u.Contacts = append(u.Contacts, b)
		}
		got, gotErr := s.Apply(ctx, now, aor, u)
		want, wantErr := m.Apply(now, aor, u)
		if errClass(gotErr) != errClass(wantErr) {
			return fmt.Sprintf("op %d %+v: Apply error %v, location.Store %v", n, o, gotErr, wantErr)
		}
		if encode(got) != encode(want) {
			return fmt.Sprintf("op %d %+v: Apply returned\n%s\nlocation.Store\n%s", n, o, encode(got), encode(want))
		}
		if o.Expire {
			s.Expire(now)
			m.Expire(now)
		}
		if o.Reopen {
			if err := s.Close(); err != nil {
				return err.Error()
			}
			if s, err = boltstore.Open(path, boltstore.Options{NoSync: true, MaxBindings: propMaxBindings, MaxAORs: propMaxAORs}); err != nil {
				return err.Error()
			}
		}
		for a := range 3 {
			got, err := s.Lookup(ctx, now, propAOR(a))
			if err != nil {
				return fmt.Sprintf("op %d: Lookup %d: %v", n, a, err)
			}
			if want := m.Lookup(now, propAOR(a)); encode(got) != encode(want) {
				return fmt.Sprintf("op %d %+v, AOR %d: Lookup\n%s\nlocation.Store\n%s", n, o, a, encode(got), encode(want))
			}
		}
		if aors, bindings := s.Counts(); aors != m.Len() || bindings != m.Count() {
			return fmt.Sprintf("op %d %+v: Counts %d, %d; location.Store %d, %d", n, o, aors, bindings, m.Len(), m.Count())
		}
	}
	return ""
}

// TestPropModel: after any sequence of REGISTERs (RFC 3261 §10.3: random
// contacts, equal by §19.1.4 or by RFC 5626 instance and reg-id, random
// expiries, q, Call-IDs, CSeqs, times), Expire calls and restarts, the
// Store accepts and refuses exactly what location.Store does, and returns,
// looks up and counts the same bindings.
func TestPropModel(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 150
	if testing.Short() {
		p.MinSuccessfulTests = 30
	}
	p.SetSeed(20260301)
	dir := t.TempDir()
	run := 0
	props := gopter.NewProperties(p)
	props.Property("boltstore matches location.Store", prop.ForAll(func(ops []op) string {
		run++
		return runModel(fmt.Sprintf("%s/%d.db", dir, run), ops)
	}, gen.SliceOfN(40, gen.Struct(reflect.TypeOf(op{}), map[string]gopter.Gen{
		"AOR": gen.IntRange(0, 2), "Mask": gen.IntRange(0, 127), "Seed": gen.IntRange(0, 1<<21-1),
		"RemoveAll": gen.Weighted([]gen.WeightedGen{{Weight: 1, Gen: gen.Const(true)}, {Weight: 9, Gen: gen.Const(false)}}),
		"CallID":    gen.IntRange(0, 1), "CSeq": gen.IntRange(1, 8), "Advance": gen.IntRange(0, 40), "Expire": gen.Bool(),
		"Reopen": gen.Weighted([]gen.WeightedGen{{Weight: 1, Gen: gen.Const(true)}, {Weight: 9, Gen: gen.Const(false)}}),
	}))))
	props.TestingRun(t)
}
