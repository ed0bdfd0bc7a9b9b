package header

import (
	"slices"
	"testing"
	"time"
)

var retryAfterCases = []valueCase[RetryAfter]{
	{rfc: "RFC 3261 §20.33 duration", in: "18000;duration=3600", want: RetryAfter{Delta: 18000, Params: ";duration=3600"}},
	{rfc: "RFC 3261 §20.33 comment", in: "120 (I'm in a meeting)", want: RetryAfter{Delta: 120, Comment: "I'm in a meeting"}, out: "120 (I'm in a meeting)"},
	{rfc: "RFC 3261 §25.1 nested comment, quoted-pair, fold and params", in: "300(a (nested \\) one)\r\n b) ; duration = 60",
		want: RetryAfter{Delta: 300, Comment: "a (nested \\) one) b", Params: ";duration=60"}, out: "300 (a (nested \\) one) b);duration=60"},
	{rfc: "RFC 3261 §25.1 comment with ',' and '\"'", in: `5 (x, "y")`, want: RetryAfter{Delta: 5, Comment: `x, "y"`}},
	{rfc: "RFC 4475 scalarlg", in: " 949302838503028349304023988", err: ErrRange},
	{rfc: "RFC 3261 §25.1 unbalanced comment", in: "120 (a (b)", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 comment then junk", in: "120 (a) b", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 bare CR in comment", in: "120 (a\rb)", err: ErrSyntax},
	{rfc: "RFC 3261 §20.33 no delta", in: "(a)", err: ErrSyntax},
	{rfc: "RFC 3261 §20.33 empty", in: "", err: ErrEmpty},
}

func TestRetryAfter(t *testing.T) {
	runCases(t, retryAfterCases)
	r := ParseValueMust[RetryAfter](t, "18000;duration=3600")
	if d, ok := r.Duration(); d != 3600 || !ok || r.After() != 5*time.Hour {
		t.Errorf("Duration = %d, %v; After = %v", d, ok, r.After())
	}
	if _, ok := ParseValueMust[RetryAfter](t, "1").Duration(); ok {
		t.Error("Duration present")
	}
}

var timestampCases = []valueCase[Timestamp]{
	{rfc: "RFC 3261 §20.38", in: "54", want: Timestamp{Value: "54"}, out: "54"},
	{rfc: "RFC 3261 §20.38 fraction and delay", in: " 54.025 \r\n 0.5 ", want: Timestamp{Value: "54.025", Delay: "0.5"}, out: "54.025 0.5"},
	{rfc: "RFC 3261 §25.1 empty fraction", in: "54. .7", want: Timestamp{Value: "54.", Delay: ".7"}},
	{rfc: "RFC 3261 §20.38 delay needs LWS", in: "54.0.5", err: ErrSyntax},
	{rfc: "RFC 3261 §20.38 not a number", in: "x", err: ErrSyntax},
	{rfc: "RFC 3261 §20.38 junk delay", in: "54 x", err: ErrSyntax},
	{rfc: "RFC 3261 §20.38 two delays", in: "54 1 2", err: ErrSyntax},
	{rfc: "RFC 3261 §20.38 empty", in: "", err: ErrEmpty},
}

func TestTimestamp(t *testing.T) {
	runCases(t, timestampCases)
	ts := ParseValueMust[Timestamp](t, "54.25 1.5")
	if ts.Float() != 54.25 || ts.DelayFloat() != 1.5 {
		t.Errorf("Float %v DelayFloat %v", ts.Float(), ts.DelayFloat())
	}
	if ParseValueMust[Timestamp](t, "54. .").DelayFloat() != 0 {
		t.Error("DelayFloat of '.'")
	}
}

var dateCases = []valueCase[Date]{
	{rfc: "RFC 3261 §20.17", in: "Sat, 13 Nov 2010 23:29:00 GMT",
		want: Date{time.Date(2010, 11, 13, 23, 29, 0, 0, time.UTC)}, out: "Sat, 13 Nov 2010 23:29:00 GMT"},
	{rfc: "RFC 4475 mpart01", in: " Sat, 15 Oct 2005 04:44:56 GMT", want: Date{time.Date(2005, 10, 15, 4, 44, 56, 0, time.UTC)}},
	{rfc: "RFC 3261 §25.1 case-insensitive names", in: "sat, 29 FEB 2000 00:00:00 gmt",
		want: Date{time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)}, out: "Tue, 29 Feb 2000 00:00:00 GMT"},
	{rfc: "RFC 4475 baddate EST", in: " Fri, 01 Jan 2010 16:00:00 EST", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 one-digit day", in: "Sat, 1 Jan 2000 00:00:00 GMT", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 two spaces", in: "Sat,  01 Jan 2000 00:00:00 GMT", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 bad weekday", in: "Sut, 01 Jan 2000 00:00:00 GMT", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 June", in: "Sat, 01 Jun 2000 00:00:00 GMT", want: Date{time.Date(2000, 6, 1, 0, 0, 0, 0, time.UTC)}},
	{rfc: "RFC 3261 §25.1 unknown month", in: "Sat, 01 Jux 2000 00:00:00 GMT", err: ErrSyntax},
	{rfc: "RFC 3261 §25.1 day out of range", in: "Sat, 30 Feb 2000 00:00:00 GMT", err: ErrRange},
	{rfc: "RFC 3261 §25.1 hour out of range", in: "Sat, 01 Jan 2000 24:00:00 GMT", err: ErrRange},
	{rfc: "RFC 3261 §25.1 rfc850 form", in: "Saturday, 01-Jan-00 00:00:00 GMT", err: ErrSyntax},
	{rfc: "RFC 3261 §20.17 empty", in: "", err: ErrEmpty},
}

func TestDate(t *testing.T) {
	runCases(t, dateCases)
	d := NewDate(time.Date(2010, 11, 13, 18, 29, 0, 5e8, time.FixedZone("EST", -5*3600)))
	if got := String(&d); got != "Sat, 13 Nov 2010 23:29:00 GMT" {
		t.Errorf("NewDate renders %q", got)
	}
	if d != (Date{time.Date(2010, 11, 13, 23, 29, 0, 0, time.UTC)}) {
		t.Error("NewDate is not comparable with ==")
	}
}

var warningCases = []valueCase[Warning]{
	{rfc: "RFC 3261 §20.43", in: `307 isi.edu "Session parameter 'foo' not understood"`,
		want: Warning{Code: 307, Agent: "isi.edu", Text: "Session parameter 'foo' not understood"}, out: `307 isi.edu "Session parameter 'foo' not understood"`},
	{rfc: "RFC 3261 §20.43 quoted-pair", in: `301 isi.edu "Incompatible \"E.164\""`, want: Warning{Code: 301, Agent: "isi.edu", Text: `Incompatible "E.164"`}},
	{rfc: "RFC 3261 §20.43 hostport agent", in: `399 192.0.2.1:5060 ""`, want: Warning{Code: 399, Agent: "192.0.2.1:5060"}},
	{rfc: "RFC 5118 IPv6 agent", in: `399 [2001:db8::1]:5060 "x"`, want: Warning{Code: 399, Agent: "[2001:db8::1]:5060", Text: "x"}},
	{rfc: "RFC 3261 §20.43 pseudonym", in: `370 proxy_7 "Insufficient bandwidth"`, want: Warning{Code: 370, Agent: "proxy_7", Text: "Insufficient bandwidth"}},
	{rfc: "RFC 3261 §20.43 code is 3 digits", in: `099 h "x"`, want: Warning{Code: 99, Agent: "h", Text: "x"}, out: `099 h "x"`},
	{rfc: "RFC 4475 scalarlg 4-digit code", in: ` 1812 overture "In Progress"`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 two spaces", in: `307  isi.edu "x"`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 text must be quoted", in: `307 isi.edu x`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 no text", in: `307 isi.edu`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 bad agent", in: `307 a:b "x"`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 trailing", in: `307 isi.edu "x" y`, err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 short", in: "30", err: ErrSyntax},
	{rfc: "RFC 3261 §20.43 empty", in: "", err: ErrEmpty},
}

func TestWarning(t *testing.T) { runCases(t, warningCases) }

var callInfoCases = []valueCase[CallInfo]{
	{rfc: "RFC 3261 §20.9", in: "<http://wwww.example.com/alice/photo.jpg> ;purpose=icon",
		want: CallInfo{URI: mustURI("http://wwww.example.com/alice/photo.jpg"), Params: ";purpose=icon"}, out: "<http://wwww.example.com/alice/photo.jpg>;purpose=icon"},
	{rfc: "RFC 3261 §20.9 info", in: " <http://www.example.com/alice/> ;purpose=info",
		want: CallInfo{URI: mustURI("http://www.example.com/alice/"), Params: ";purpose=info"}},
	{rfc: "RFC 3261 §20.9 angle brackets required", in: "http://www.example.com/alice/", err: ErrSyntax},
	{rfc: "RFC 3261 §20.9 unterminated", in: "<http://www.example.com/alice/", err: ErrSyntax},
	{rfc: "RFC 3261 §20.9 bad URI", in: "<not a uri>", err: errAny},
	{rfc: "RFC 3261 §20.9 empty", in: "", err: ErrEmpty},
}

func TestCallInfo(t *testing.T) {
	runCases(t, callInfoCases)
	if p := ParseValueMust[CallInfo](t, callInfoCases[0].in).Purpose(); p != "icon" {
		t.Errorf("Purpose = %q", p)
	}
}

var alertInfoCases = []valueCase[AlertInfo]{
	{rfc: "RFC 3261 §20.4", in: "<http://www.example.com/sounds/moo.wav>", want: AlertInfo{URI: mustURI("http://www.example.com/sounds/moo.wav")}},
	{rfc: "RFC 7462 urn", in: "<urn:alert:service:call-waiting>;x=1", want: AlertInfo{URI: mustURI("urn:alert:service:call-waiting"), Params: ";x=1"}},
	{rfc: "RFC 3261 §20.4 junk", in: "<http://x> y", err: ErrSyntax},
}

func TestAlertInfo(t *testing.T) { runCases(t, alertInfoCases) }

var errorInfoCases = []valueCase[ErrorInfo]{
	{rfc: "RFC 3261 §20.18", in: "<sip:not-in-service-recording@atlanta.com>", want: ErrorInfo{URI: mustURI("sip:not-in-service-recording@atlanta.com")}},
	{rfc: "RFC 3261 §20.18 junk", in: "sip:not-in-service-recording@atlanta.com", err: ErrSyntax},
}

func TestErrorInfo(t *testing.T) { runCases(t, errorInfoCases) }

var identityInfoCases = []valueCase[IdentityInfo]{
	{rfc: "RFC 4474 §9", in: "<https://atlanta.example.com/atlanta.cer>;alg=rsa-sha1",
		want: IdentityInfo{URI: mustURI("https://atlanta.example.com/atlanta.cer"), Params: ";alg=rsa-sha1"}},
	{rfc: "RFC 4474 §9 junk", in: "<https://atlanta.example.com/atlanta.cer>;", err: ErrSyntax},
}

func TestIdentityInfo(t *testing.T) {
	runCases(t, identityInfoCases)
	if a := ParseValueMust[IdentityInfo](t, identityInfoCases[0].in).Alg(); a != "rsa-sha1" {
		t.Errorf("Alg = %q", a)
	}
}

var priorityCases = []valueCase[Priority]{
	{rfc: "RFC 3261 §20.26", in: "emergency", want: "emergency"},
	{rfc: "RFC 3261 §20.26 other-priority", in: " non-urgent ", want: "non-urgent", out: "non-urgent"},
	{rfc: "RFC 3261 §20.26 junk", in: "very urgent", err: ErrSyntax},
	{rfc: "RFC 3261 §20.26 empty", in: "", err: ErrEmpty},
}

func TestPriority(t *testing.T) { runCases(t, priorityCases) }

var organizationCases = []valueCase[Organization]{
	{rfc: "RFC 3261 §20.25", in: "Boxes by Bob", want: "Boxes by Bob"},
	{rfc: "RFC 3261 §20.25 empty", in: "", want: ""},
	{rfc: "RFC 3261 §20.25 junk", in: "a\x01", err: ErrSyntax},
}

func TestOrganization(t *testing.T) { runCases(t, organizationCases) }

var mimeVersionCases = []valueCase[MIMEVersion]{
	{rfc: "RFC 3261 §20.24", in: "1.0", want: MIMEVersion{Major: 1}, out: "1.0"},
	{rfc: "RFC 3261 §20.24 leading zeros", in: " 01.02 ", want: MIMEVersion{Major: 1, Minor: 2}, out: "1.2"},
	{rfc: "RFC 3261 §20.24 no minor", in: "1", err: ErrSyntax},
	{rfc: "RFC 3261 §20.24 no LWS around '.'", in: "1 .0", err: ErrSyntax},
	{rfc: "RFC 3261 §20.24 empty minor", in: "1.", err: ErrEmpty},
	{rfc: "RFC 3261 §20.24 empty", in: "", err: ErrEmpty},
}

func TestMIMEVersion(t *testing.T) { runCases(t, mimeVersionCases) }

var inReplyToCases = []valueCase[InReplyTo]{
	{rfc: "RFC 3261 §20.21", in: "70710@saturn.bell-tel.com", want: "70710@saturn.bell-tel.com"},
	{rfc: "RFC 3261 §20.21 LWS", in: " 17320@saturn.bell-tel.com ", want: "17320@saturn.bell-tel.com"},
	{rfc: "RFC 3261 §20.21 junk", in: "a b", err: ErrSyntax},
	{rfc: "RFC 3261 §20.21 empty", in: "", err: ErrEmpty},
}

func TestInReplyTo(t *testing.T) { runCases(t, inReplyToCases) }

var privacyCases = []valueCase[Privacy]{
	{rfc: "RFC 3325 §9.3 id", in: "id", want: "id"},
	{rfc: "RFC 3323 §4.2", in: "header;user", want: "header;user"},
	{rfc: "RFC 3323 §4.2 LWS dropped", in: " header ; session;\r\n critical ", want: "header;session;critical", out: "header;session;critical"},
	{rfc: "RFC 3323 §4.2 empty value", in: "header;;user", err: ErrSyntax},
	{rfc: "RFC 3323 §4.2 trailing ';'", in: "header;", err: ErrEmpty},
	{rfc: "RFC 3323 §4.2 ','", in: "header,user", err: ErrSyntax},
	{rfc: "RFC 3323 §4.2 empty", in: "", err: ErrEmpty},
}

func TestPrivacy(t *testing.T) {
	runCases(t, privacyCases)
	p := ParseValueMust[Privacy](t, "header; ID")
	if !p.Has("id") || !p.Has("header") || p.Has("user") {
		t.Error("Has")
	}
	if got := slices.Collect(p.Values()); !slices.Equal(got, []string{"header", "ID"}) {
		t.Errorf("Values = %q", got)
	}
	if slices.Collect(Privacy("").Values()) != nil {
		t.Error("Values of empty")
	}
}

var sipETagCases = []valueCase[SIPETag]{
	{rfc: "RFC 3903 §11.3.1", in: "dx200xyz", want: "dx200xyz"},
	{rfc: "RFC 3903 §11.3.1 junk", in: "dx200 xyz", err: ErrSyntax},
}

func TestSIPETag(t *testing.T) { runCases(t, sipETagCases) }

var sipIfMatchCases = []valueCase[SIPIfMatch]{
	{rfc: "RFC 3903 §11.3.2", in: "kwj449x", want: "kwj449x"},
	{rfc: "RFC 3903 §11.3.2 junk", in: "", err: ErrEmpty},
}

func TestSIPIfMatch(t *testing.T) { runCases(t, sipIfMatchCases) }

var acceptContactCases = []valueCase[AcceptContact]{
	{rfc: "RFC 3841 §9.2", in: "*;audio;require", want: AcceptContact{Params: ";audio;require"}, out: "*;audio;require"},
	{rfc: "RFC 3841 §9.2 feature value", in: `* ; +sip.message="TRUE" ; explicit`, want: AcceptContact{Params: `;+sip.message="TRUE";explicit`}},
	{rfc: "RFC 3841 §9.2 methods", in: `*;methods="INVITE,BYE"`, want: AcceptContact{Params: `;methods="INVITE,BYE"`}},
	{rfc: "RFC 3841 §9.2 star required", in: "audio", err: ErrSyntax},
	{rfc: "RFC 3841 §9.2 empty", in: "", err: ErrEmpty},
}

func TestAcceptContact(t *testing.T) {
	runCases(t, acceptContactCases)
	a := ParseValueMust[AcceptContact](t, "*;audio;require")
	if !a.Require() || a.Explicit() {
		t.Error("Require/Explicit")
	}
}

var rejectContactCases = []valueCase[RejectContact]{
	{rfc: "RFC 3841 §9.2", in: `*;actor="msg-taker";video`, want: RejectContact{Params: `;actor="msg-taker";video`}},
	{rfc: "RFC 3841 §9.2 junk", in: "*;", err: ErrSyntax},
}

func TestRejectContact(t *testing.T) { runCases(t, rejectContactCases) }

var requestDispositionCases = []valueCase[RequestDisposition]{
	{rfc: "RFC 3841 §10", in: "proxy", want: "proxy"},
	{rfc: "RFC 3841 §10 no-fork", in: " no-fork", want: "no-fork"},
	{rfc: "RFC 3841 §10 junk", in: "proxy recurse", err: ErrSyntax},
}

func TestRequestDisposition(t *testing.T) { runCases(t, requestDispositionCases) }
