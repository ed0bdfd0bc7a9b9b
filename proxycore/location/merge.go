package location

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/sansip/sansip/effects"
)

// Errors of Merge and Store, matchable with errors.Is.
var (
	// ErrOutOfOrder: a binding exists with the REGISTER's Call-ID and a
	// CSeq as high or higher, so the REGISTER is late or replayed (RFC 3261
	// §10.3 step 7: "the update MUST be aborted and the request fails").
	ErrOutOfOrder = errors.New("location: REGISTER out of order")
	// ErrTooManyBindings: the AOR would have more bindings than allowed.
	ErrTooManyBindings = errors.New("location: too many bindings for the address of record")
	// ErrFull: the store holds as many addresses of record as allowed.
	ErrFull = errors.New("location: store full")
)

// Update is what one REGISTER asks of an address of record's bindings
// (RFC 3261 §10.3 steps 6 and 7).
type Update struct {
	// CallID and CSeq are the REGISTER's; they order the updates of each
	// binding.
	CallID string
	CSeq   uint32
	// RemoveAll is Contact: * with Expires: 0: remove every binding.
	RemoveAll bool
	// Contacts are the bindings to add or refresh, with their absolute
	// expiry, or to remove: those whose Expires is not after the time the
	// update is applied (expires=0). Their CallID and CSeq are set from
	// the Update's.
	Contacts []Binding
}

// Changes reports whether the update changes anything: a REGISTER without
// Contact only asks for the bindings (RFC 3261 §10.2.3).
func (u *Update) Changes() bool { return u.RemoveAll || len(u.Contacts) > 0 }

// Merge returns the bindings of an address of record after the update u,
// given its current bindings, at now (RFC 3261 §10.3 step 7, RFC 5626 §6):
//
//   - expired bindings are dropped;
//   - a contact designates an existing binding when their Contact URIs are
//     equal (§19.1.4), or, for outbound registrations, when instance and
//     reg-id are the same (one binding per flow);
//   - if that binding was set by a REGISTER with the same Call-ID and a CSeq
//     not lower than u's, the whole update fails with ErrOutOfOrder; a
//     different Call-ID always wins (the client restarted);
//   - a contact with Expires not after now removes the binding, any other
//     replaces or adds it; a refresh on the same flow keeps the binding's
//     FlowToken;
//   - RemoveAll removes every binding, under the same ordering rule;
//   - more than maxBindings bindings (when maxBindings > 0) fail the update
//     with ErrTooManyBindings.
//
// The result is sorted by q, highest first, the most recently updated first
// among equals. Merge does not modify current; on error nothing changes.
func Merge(now effects.Time, current []Binding, u Update, maxBindings int) ([]Binding, error) {
	work := make([]Binding, 0, len(current)+len(u.Contacts))
	for i := range current {
		if !current[i].Expired(now) {
			work = append(work, current[i])
		}
	}
	if u.RemoveAll {
		for i := range work {
			if err := checkOrder(&work[i], u); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	touched := make([]bool, len(work), cap(work))
	for _, c := range u.Contacts {
		c.CallID, c.CSeq = u.CallID, u.CSeq
		i := slices.IndexFunc(work, func(b Binding) bool { return b.same(&c) })
		if i >= 0 && !touched[i] {
			if err := checkOrder(&work[i], u); err != nil {
				return nil, err
			}
		}
		switch {
		case c.Expires <= now && i >= 0:
			work = slices.Delete(work, i, i+1)
			touched = slices.Delete(touched, i, i+1)
		case c.Expires <= now:
		case i >= 0:
			if work[i].Flow == c.Flow && work[i].FlowToken != "" {
				c.FlowToken = work[i].FlowToken
			}
			work[i], touched[i] = c, true
		default:
			work, touched = append(work, c), append(touched, true)
		}
	}
	if maxBindings > 0 && len(work) > maxBindings {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyBindings, len(work), maxBindings)
	}
	Sort(work)
	return work, nil
}

// checkOrder applies §10.3 step 7's ordering rule to the stored binding b.
func checkOrder(b *Binding, u Update) error {
	if b.CallID == u.CallID && u.CSeq <= b.CSeq {
		return fmt.Errorf("%w: %s was set by CSeq %d of Call-ID %s, the request has CSeq %d",
			ErrOutOfOrder, b.Contact.URI.String(), b.CSeq, b.CallID, u.CSeq)
	}
	return nil
}

// Sort sorts bindings as a target set: by q, highest first (RFC 3261
// §16.6), the most recently updated first among equals; stable otherwise.
func Sort(bs []Binding) {
	slices.SortStableFunc(bs, func(a, b Binding) int {
		if c := cmp.Compare(b.Q, a.Q); c != 0 {
			return c
		}
		return cmp.Compare(b.Updated, a.Updated)
	})
}
