package dialog

import "slices"

// UsageKind is what created a usage of a dialog (RFC 5057 §4).
type UsageKind uint8

// The usages.
const (
	InviteUsage UsageKind = iota + 1
	SubscribeUsage
)

// Usage is one usage of a dialog: the INVITE session, or a subscription to
// an event package (with its id parameter) (RFC 5057).
type Usage struct {
	Kind  UsageKind
	Event string // the event package, for a subscription
	ID    string // the Event id parameter, for a subscription
}

// AddUsage adds a usage to the dialog (a dialog has at most one INVITE
// usage).
func (d *Dialog) AddUsage(u Usage) {
	if !d.HasUsage(u) {
		d.Usages = append(d.Usages, u)
	}
}

// HasUsage reports whether the dialog has the usage.
func (d *Dialog) HasUsage(u Usage) bool { return slices.Contains(d.Usages, u) }

// EndUsage removes a usage. When the last one ends the dialog is
// terminated, and EndUsage reports true.
func (d *Dialog) EndUsage(u Usage) bool {
	d.Usages = slices.DeleteFunc(d.Usages, func(x Usage) bool { return x == u })
	if len(d.Usages) == 0 {
		d.Terminate()
		return true
	}
	return false
}

// Effect is what a failure response to a request inside a dialog does to
// it (RFC 5057 §5.1).
type Effect uint8

// The effects, from least to most.
const (
	// TransactionOnly: the request failed; the usage and dialog go on.
	TransactionOnly Effect = iota + 1
	// EndsUsage: the usage the request belonged to ends; other usages of
	// the dialog go on.
	EndsUsage
	// EndsDialog: the dialog and every usage sharing it end.
	EndsDialog
)

// String names the effect.
func (e Effect) String() string {
	switch e {
	case TransactionOnly:
		return "transaction only"
	case EndsUsage:
		return "ends the usage"
	case EndsDialog:
		return "ends the dialog"
	}
	return "invalid"
}

// Impact classifies a final response to a request sent inside a dialog by
// what it ends (RFC 5057 §5.1). A response that says the peer no longer
// knows the dialog or its target (404, 410, 416, 481 "Call/Transaction Does
// Not Exist", 482, 483, 484, 485, 502, 604) ends the dialog; a timeout or
// refusal of the usage (403, 408 and its local equivalent, 489) ends the
// usage; everything else (400, 401, 405, 415, 420, 486, 488, 491, 500,
// 503, and so on) affects the transaction only. 2xx and provisional
// responses end nothing.
func Impact(code int) Effect {
	switch code {
	case 404, 410, 416, 481, 482, 483, 484, 485, 502, 604:
		return EndsDialog
	case 403, 408, 480, 489:
		return EndsUsage
	}
	return TransactionOnly
}
