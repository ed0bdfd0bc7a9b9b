package header

import (
	"errors"
	"testing"
)

// TestEveryHeaderTyped checks that every known header but Identity has a
// typed parser registered for ValidateValue, that the registry and the
// round-trip table agree, and that each type names its own header.
func TestEveryHeaderTyped(t *testing.T) {
	for id := ID(1); id < numIDs; id++ {
		if id == IDIdentity {
			if Parses(id) {
				t.Errorf("%s has a parser", id)
			}
			continue
		}
		if !Parses(id) {
			t.Errorf("%s has no typed parser", id)
		}
		if roundTrips[id] == nil {
			t.Errorf("%s has no round-trip check", id)
		}
	}
}

func TestValidateValue(t *testing.T) {
	for _, tc := range []struct {
		id   ID
		v    string
		want error
	}{
		{IDContentType, "application/sdp", nil},
		{IDContentType, "application", ErrSyntax},
		{IDAccept, "application/sdp, application/pkcs7-mime, multipart/mixed", nil},
		{IDAccept, "application/sdp,", ErrEmpty},
		{IDWarning, `307 isi.edu "a, b", 399 h "c"`, nil},
		{IDWarning, `1812 overture "In Progress"`, ErrSyntax},
		{IDDate, "Sat, 13 Nov 2010 23:29:00 GMT", nil},
		{IDAuthorization, `Digest username="a", realm="b"`, nil},
		{IDReason, `SIP;cause=200;text="a, b", Q.850;cause=16`, nil},
		{IDCallInfo, "<http://a/b>;purpose=icon, <http://a/c>;purpose=info", nil},
		{IDRetryAfter, "120 (in a meeting, back soon)", nil},
		{IDSubject, "a\r\nb", ErrSyntax}, // CheckText: no CR or LF
		{IDIdentity, "anything goes", nil},
		{Unknown, "x", nil},
	} {
		err := ValidateValue(tc.id, tc.id.Name(), tc.v)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("ValidateValue(%s, %q) = %v, want %v", tc.id, tc.v, err, tc.want)
		}
	}
	vals, err := ParseAny(IDReason, "Reason", `SIP;cause=200, Q.850;cause=16`)
	if err != nil || len(vals) != 2 {
		t.Fatalf("ParseAny = %v, %v", vals, err)
	}
	if r, ok := vals[1].(Reason); !ok || r.Protocol != "Q.850" {
		t.Errorf("ParseAny[1] = %#v", vals[1])
	}
	if vals, err := ParseAny(IDIdentity, "Identity", "x"); vals != nil || err != nil {
		t.Errorf("ParseAny(Identity) = %v, %v", vals, err)
	}
}

// RFC 3261 §7.3.1: several fields of a header only for a comma list, and
// for the four authentication headers it excepts, which take one value
// per field.
func TestRepeatable(t *testing.T) {
	for _, tc := range []struct {
		id         ID
		list, many bool
	}{
		{IDWWWAuthenticate, false, true},
		{IDProxyAuthenticate, false, true},
		{IDAuthorization, false, true},
		{IDProxyAuthorization, false, true},
		{IDAuthenticationInfo, false, false},
		{IDVia, true, true},
		{IDSupported, true, true},
		{IDExpires, false, false},
		{IDCSeq, false, false},
		{Unknown, false, false},
	} {
		if tc.id.IsList() != tc.list || tc.id.Repeatable() != tc.many {
			t.Errorf("%s: IsList %v Repeatable %v, want %v %v", tc.id, tc.id.IsList(), tc.id.Repeatable(), tc.list, tc.many)
		}
	}
}
