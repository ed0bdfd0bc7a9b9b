package header

import "testing"

var sessionExpiresCases = []valueCase[SessionExpires]{
	{rfc: "RFC 4028 §4", in: "4000;refresher=uac", want: SessionExpires{Delta: 4000, Params: ";refresher=uac"}},
	{rfc: "RFC 4028 §4 LWS", in: " 1800 ;\r\n refresher = UAS ", want: SessionExpires{Delta: 1800, Params: ";refresher=UAS"}, out: "1800;refresher=UAS"},
	{rfc: "RFC 4028 §4 no refresher", in: "90", want: SessionExpires{Delta: 90}},
	{rfc: "RFC 4028 §4 junk", in: "1800 refresher=uac", err: ErrSyntax},
	{rfc: "RFC 4028 §4 range", in: "4294967296", err: ErrRange},
	{rfc: "RFC 4028 §4 empty", in: "", err: ErrEmpty},
}

func TestSessionExpires(t *testing.T) {
	runCases(t, sessionExpiresCases)
	for in, want := range map[string]string{"1;refresher=uac": "uac", "1;refresher=UAS": "uas", "1": "", "1;refresher=x": ""} {
		if got := ParseValueMust[SessionExpires](t, in).Refresher(); got != want {
			t.Errorf("%q: Refresher = %q, want %q", in, got, want)
		}
	}
}

var minSECases = []valueCase[MinSE]{
	{rfc: "RFC 4028 §5", in: "3600", want: MinSE{Delta: 3600}},
	{rfc: "RFC 4028 §5 generic-param", in: "90;x=1", want: MinSE{Delta: 90, Params: ";x=1"}},
	{rfc: "RFC 4028 §5 junk", in: "-90", err: ErrSyntax},
}

func TestMinSE(t *testing.T) { runCases(t, minSECases) }

var rackCases = []valueCase[RAck]{
	{rfc: "RFC 3262 §7.2", in: "776656 1 INVITE", want: RAck{RSeq: 776656, CSeq: 1, Method: "INVITE"}, out: "776656 1 INVITE"},
	{rfc: "RFC 3262 §7.2 LWS and folds", in: " 0776656 \r\n 01\t INVITE ", want: RAck{RSeq: 776656, CSeq: 1, Method: "INVITE"}, out: "776656 1 INVITE"},
	{rfc: "RFC 3262 §7.2 no method", in: "776656 1", err: ErrSyntax},
	{rfc: "RFC 3262 §7.2 no LWS", in: "776656 1INVITE", err: ErrSyntax},
	{rfc: "RFC 3262 §7.2 range", in: "4294967296 1 INVITE", err: ErrRange},
	{rfc: "RFC 3262 §7.2 trailing", in: "1 1 INVITE x", err: ErrSyntax},
	{rfc: "RFC 3262 §7.2 empty", in: "", err: ErrEmpty},
}

func TestRAck(t *testing.T) { runCases(t, rackCases) }

var reasonCases = []valueCase[Reason]{
	{rfc: "RFC 3326 §2", in: `SIP ;cause=200 ;text="Call completed elsewhere"`,
		want: Reason{Protocol: "SIP", Params: `;cause=200;text="Call completed elsewhere"`}, out: `SIP;cause=200;text="Call completed elsewhere"`},
	{rfc: "RFC 3326 §2 Q.850", in: "Q.850 ;cause=16 ;text=\"Terminated\"", want: Reason{Protocol: "Q.850", Params: `;cause=16;text="Terminated"`}},
	{rfc: "RFC 3326 §2 reason-extension", in: "preemption;cause=1;text=\"UA preemption\"", want: Reason{Protocol: "preemption", Params: `;cause=1;text="UA preemption"`}},
	{rfc: "RFC 3326 §2 junk", in: "SIP cause=200", err: ErrSyntax},
	{rfc: "RFC 3326 §2 empty", in: "", err: ErrEmpty},
}

func TestReason(t *testing.T) {
	runCases(t, reasonCases)
	r := ParseValueMust[Reason](t, `sip;cause=200;text="Call \"completed\" elsewhere"`)
	if c, ok := r.Cause(); c != 200 || !ok || !r.Is("SIP") || r.Text() != `Call "completed" elsewhere` {
		t.Errorf("accessors: %+v", r)
	}
	if _, ok := ParseValueMust[Reason](t, "SIP;cause=x").Cause(); ok {
		t.Error("cause=x accepted")
	}
}
