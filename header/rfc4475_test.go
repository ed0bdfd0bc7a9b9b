package header

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// datField is one header field of an RFC 4475 torture message.
type datField struct {
	file  string // base name of the .dat file
	name  string // field name as written
	value string // raw value, line folds kept
}

// readDatFields returns the header fields of every RFC 4475 message in
// ../testdata/rfc4475: the lines up to the first empty one, with
// continuation lines joined to their field (folds kept as CRLF SP/HTAB).
func readDatFields(tb testing.TB) []datField {
	tb.Helper()
	paths, err := filepath.Glob("../testdata/rfc4475/*.dat")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no RFC 4475 messages: %v", err)
	}
	var out []datField
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		file := strings.TrimSuffix(filepath.Base(p), ".dat")
		lines := strings.Split(string(data), "\r\n")
		var cur *datField
		for _, l := range lines[1:] { // skip the start line
			if l == "" {
				break
			}
			if l[0] == ' ' || l[0] == '\t' {
				if cur != nil {
					cur.value += "\r\n" + l
				}
				continue
			}
			colon := strings.IndexByte(l, ':')
			if colon < 0 {
				cur = nil
				continue
			}
			out = append(out, datField{file: file, name: strings.TrimRight(l[:colon], " \t"), value: l[colon+1:]})
			cur = &out[len(out)-1]
		}
	}
	return out
}

// valuesOf returns the values (list elements for a list header) of every
// RFC 4475 field for the header id.
func valuesOf(fields []datField, id ID) []string {
	var out []string
	for _, f := range fields {
		if Lookup(f.name) != id {
			continue
		}
		if !id.IsList() {
			out = append(out, f.value)
			continue
		}
		for e := range Elements(f.value) {
			out = append(out, e)
		}
	}
	return out
}

// rfc4475Invalid lists the header fields of the RFC 4475 messages whose
// values sansip must reject, by file and canonical header name. RFC 4475
// §3.1.2 describes why each is invalid; test.dat is not described by the
// RFC and has addresses without a scheme.
var rfc4475Invalid = map[string][]string{
	"badaspec": {"To"},                              // §3.1.2.7: LWS inside <>
	"baddate":  {"Date"},                            // §3.1.2.17: EST, not GMT
	"baddn":    {"From", "To"},                      // §3.1.2.16: unquoted ',' in a display name
	"badinv01": {"Via", "Contact"},                  // §3.1.2.14: empty parameters
	"ncl":      {"Content-Length"},                  // §3.1.2.3: negative length
	"quotbal":  {"To"},                              // §3.1.2.8: unterminated quoted-string
	"regbadct": {"Contact"},                         // §3.1.2.6: '?' in an addr-spec
	"scalar02": {"CSeq", "Max-Forwards", "Expires"}, // §3.1.2.4: overlarge numbers
	"scalarlg": {"CSeq", "Retry-After", "Warning"},  // §3.1.2.5: overlarge numbers, 4-digit warn-code
	"test":     {"To", "From"},
}

// TestRFC4475Fields parses every header field of every RFC 4475 message
// that sansip has a typed parser for: the ones RFC 4475 calls invalid must
// fail, all others must parse, and every value parsed must survive
// render→parse→render.
func TestRFC4475Fields(t *testing.T) {
	n := 0
	for _, f := range readDatFields(t) {
		id := Lookup(f.name)
		if !Parses(id) {
			continue
		}
		n++
		wantErr := slices.Contains(rfc4475Invalid[f.file], id.Name())
		_, err := ParseAny(id, f.name, f.value)
		if wantErr != (err != nil) {
			t.Errorf("%s.dat %s: %q: error %v, want error: %v", f.file, f.name, f.value, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		for _, v := range valuesForRoundTrip(f.value, id) {
			roundTrips[id](t, v)
		}
	}
	if n < 400 {
		t.Errorf("only %d fields checked", n)
	}
}

func valuesForRoundTrip(v string, id ID) []string {
	if !id.IsList() {
		return []string{v}
	}
	var out []string
	for e := range Elements(v) {
		out = append(out, e)
	}
	return out
}

// roundTrips maps each header with a typed parser to a check that a value
// of it parses and survives render→parse→render.
var roundTrips = map[ID]func(testing.TB, string){}

func rt[T comparable, P Value[T]](id ID) {
	roundTrips[id] = func(t testing.TB, s string) {
		t.Helper()
		var v T
		if err := P(&v).Parse(s); err != nil {
			t.Errorf("%s: Parse(%q): %v", id, s, err)
			return
		}
		checkRoundTrip[T, P](t, v)
	}
}

func init() {
	rt[Via](IDVia)
	rt[From](IDFrom)
	rt[To](IDTo)
	rt[CallID](IDCallID)
	rt[CSeq](IDCSeq)
	rt[MaxForwards](IDMaxForwards)
	rt[ContentLength](IDContentLength)
	rt[Expires](IDExpires)
	rt[MinExpires](IDMinExpires)
	rt[RSeq](IDRSeq)
	rt[MaxBreadth](IDMaxBreadth)
	rt[FlowTimer](IDFlowTimer)
	rt[Contact](IDContact)
	rt[Route](IDRoute)
	rt[RecordRoute](IDRecordRoute)
	rt[Path](IDPath)
	rt[ServiceRoute](IDServiceRoute)
	rt[PAssertedIdentity](IDPAssertedIdentity)
	rt[PPreferredIdentity](IDPPreferredIdentity)
	rt[ReferTo](IDReferTo)
	rt[ReferredBy](IDReferredBy)
	rt[ReplyTo](IDReplyTo)
	rt[Allow](IDAllow)
	rt[Supported](IDSupported)
	rt[Require](IDRequire)
	rt[ProxyRequire](IDProxyRequire)
	rt[Unsupported](IDUnsupported)
	rt[AllowEvents](IDAllowEvents)
	rt[ContentEncoding](IDContentEncoding)
	rt[UserAgent](IDUserAgent)
	rt[Server](IDServer)
	rt[Subject](IDSubject)
	rt[Accept](IDAccept)
	rt[AcceptEncoding](IDAcceptEncoding)
	rt[AcceptLanguage](IDAcceptLanguage)
	rt[ContentDisposition](IDContentDisposition)
	rt[ContentLanguage](IDContentLanguage)
	rt[ContentType](IDContentType)
	rt[Authorization](IDAuthorization)
	rt[ProxyAuthorization](IDProxyAuthorization)
	rt[WWWAuthenticate](IDWWWAuthenticate)
	rt[ProxyAuthenticate](IDProxyAuthenticate)
	rt[AuthenticationInfo](IDAuthenticationInfo)
	rt[Event](IDEvent)
	rt[SubscriptionState](IDSubscriptionState)
	rt[Replaces](IDReplaces)
	rt[TargetDialog](IDTargetDialog)
	rt[SessionExpires](IDSessionExpires)
	rt[MinSE](IDMinSE)
	rt[RAck](IDRAck)
	rt[Reason](IDReason)
	rt[RetryAfter](IDRetryAfter)
	rt[Timestamp](IDTimestamp)
	rt[Date](IDDate)
	rt[Warning](IDWarning)
	rt[CallInfo](IDCallInfo)
	rt[AlertInfo](IDAlertInfo)
	rt[ErrorInfo](IDErrorInfo)
	rt[IdentityInfo](IDIdentityInfo)
	rt[Priority](IDPriority)
	rt[Organization](IDOrganization)
	rt[MIMEVersion](IDMIMEVersion)
	rt[InReplyTo](IDInReplyTo)
	rt[Privacy](IDPrivacy)
	rt[SIPETag](IDSIPETag)
	rt[SIPIfMatch](IDSIPIfMatch)
	rt[AcceptContact](IDAcceptContact)
	rt[RejectContact](IDRejectContact)
	rt[RequestDisposition](IDRequestDisposition)
}
