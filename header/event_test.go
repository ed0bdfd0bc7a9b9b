package header

import "testing"

var eventCases = []valueCase[Event]{
	{rfc: "RFC 6665 §8.2.1", in: "presence", want: Event{Type: "presence"}},
	{rfc: "RFC 6665 §8.2.1 id", in: "dialog ; id = 12\r\n ;call-id=\"a@b\"", want: Event{Type: "dialog", Params: `;id=12;call-id="a@b"`}, out: `dialog;id=12;call-id="a@b"`},
	{rfc: "RFC 3857 template", in: "presence.winfo", want: Event{Type: "presence.winfo"}},
	{rfc: "RFC 3515 refer with id", in: "refer;id=93809824", want: Event{Type: "refer", Params: ";id=93809824"}},
	{rfc: "RFC 6665 §8.4 empty template", in: "presence.", err: ErrSyntax},
	{rfc: "RFC 6665 §8.4 empty package", in: ".winfo", err: ErrSyntax},
	{rfc: "RFC 6665 §8.4 double dot", in: "a..b", err: ErrSyntax},
	{rfc: "RFC 6665 §8.2.1 one event", in: "presence, dialog", err: ErrSyntax},
	{rfc: "RFC 6665 §8.2.1 empty", in: "", err: ErrEmpty},
}

func TestEvent(t *testing.T) {
	runCases(t, eventCases)
	e := ParseValueMust[Event](t, "presence.winfo.list;id=7")
	if e.Package() != "presence" || e.Templates() != "winfo.list" || e.ID() != "7" {
		t.Errorf("Package %q Templates %q ID %q", e.Package(), e.Templates(), e.ID())
	}
	if p := ParseValueMust[Event](t, "dialog"); p.Package() != "dialog" || p.Templates() != "" || p.ID() != "" {
		t.Error("no template")
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"dialog", "dialog", true},
		{"dialog;id=1", "dialog;id=1;x=2", true},
		{"dialog;id=1", "dialog;id=2", false},
		{"dialog;id=1", "dialog", false},
		{"dialog", "presence", false},
	} {
		a, b := ParseValueMust[Event](t, tc.a), ParseValueMust[Event](t, tc.b)
		if a.Matches(b) != tc.want {
			t.Errorf("%q matches %q = %v", tc.a, tc.b, !tc.want)
		}
	}
}

var subscriptionStateCases = []valueCase[SubscriptionState]{
	{rfc: "RFC 6665 §8.2.3 active", in: "active;expires=60", want: SubscriptionState{State: "active", Params: ";expires=60"}},
	{rfc: "RFC 6665 §8.2.3 terminated", in: "terminated ; reason = timeout", want: SubscriptionState{State: "terminated", Params: ";reason=timeout"}, out: "terminated;reason=timeout"},
	{rfc: "RFC 6665 §8.2.3 retry-after", in: "terminated;reason=probation;retry-after=3600",
		want: SubscriptionState{State: "terminated", Params: ";reason=probation;retry-after=3600"}},
	{rfc: "RFC 6665 §8.4 extension-substate", in: "waiting", want: SubscriptionState{State: "waiting"}},
	{rfc: "RFC 6665 §8.2.3 junk", in: "active expires=60", err: ErrSyntax},
	{rfc: "RFC 6665 §8.2.3 empty", in: "", err: ErrEmpty},
}

func TestSubscriptionState(t *testing.T) {
	runCases(t, subscriptionStateCases)
	s := ParseValueMust[SubscriptionState](t, "Terminated;reason=probation;retry-after=3600;expires=0")
	if !s.Is(SubStateTerminated) || s.Is(SubStateActive) || s.Reason() != "probation" {
		t.Errorf("state %q reason %q", s.State, s.Reason())
	}
	if r, ok := s.RetryAfter(); r != 3600 || !ok {
		t.Errorf("RetryAfter = %d, %v", r, ok)
	}
	if e, ok := s.Expires(); e != 0 || !ok {
		t.Errorf("Expires = %d, %v", e, ok)
	}
	p := ParseValueMust[SubscriptionState](t, "pending;expires=x")
	if _, ok := p.Expires(); ok || !p.Is(SubStatePending) {
		t.Error("bad expires accepted")
	}
	if _, ok := p.RetryAfter(); ok {
		t.Error("RetryAfter present")
	}
}

var replacesCases = []valueCase[Replaces]{
	{rfc: "RFC 3891 §6.1", in: "425928@bobster.example.org;to-tag=7743;from-tag=6472",
		want: Replaces{CallID: "425928@bobster.example.org", Params: ";to-tag=7743;from-tag=6472"}},
	{rfc: "RFC 3891 §6.1 early-only", in: " 98732@sip.example.com\r\n ;from-tag=r33th4x0r\r\n ;to-tag=ff87ff ; early-only",
		want: Replaces{CallID: "98732@sip.example.com", Params: ";from-tag=r33th4x0r;to-tag=ff87ff;early-only"},
		out:  "98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only"},
	{rfc: "RFC 3891 §6.1 bad Call-ID", in: "a@b@c;to-tag=1", err: ErrSyntax},
	{rfc: "RFC 3891 §6.1 junk after Call-ID", in: "a@b x;to-tag=1", err: ErrSyntax},
	{rfc: "RFC 3891 §6.1 empty", in: ";to-tag=1", err: ErrEmpty},
}

func TestReplaces(t *testing.T) {
	runCases(t, replacesCases)
	r := ParseValueMust[Replaces](t, replacesCases[1].in)
	if r.ToTag() != "ff87ff" || r.FromTag() != "r33th4x0r" || !r.EarlyOnly() {
		t.Errorf("accessors: %+v", r)
	}
	if ParseValueMust[Replaces](t, replacesCases[0].in).EarlyOnly() {
		t.Error("EarlyOnly")
	}
}

var targetDialogCases = []valueCase[TargetDialog]{
	{rfc: "RFC 4538", in: "fa77as7dad8-sd98ajzz@host.example.com;local-tag=kkaz-;remote-tag=6544",
		want: TargetDialog{CallID: "fa77as7dad8-sd98ajzz@host.example.com", Params: ";local-tag=kkaz-;remote-tag=6544"}},
	{rfc: "RFC 4538 junk", in: "a b", err: ErrSyntax},
}

func TestTargetDialog(t *testing.T) {
	runCases(t, targetDialogCases)
	d := ParseValueMust[TargetDialog](t, targetDialogCases[0].in)
	if d.LocalTag() != "kkaz-" || d.RemoteTag() != "6544" {
		t.Errorf("accessors: %+v", d)
	}
}
