package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/sansip/sansip/header"
)

const options = "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"From: <sip:alice@example.com>;tag=1\r\n" +
	"Call-ID: c1\r\n" +
	"CSeq: 1 OPTIONS\r\n" +
	"Max-Forwards: 70\r\n" +
	"Content-Length: 4\r\n" +
	"\r\n" +
	"body"

func TestScanIndex(t *testing.T) {
	x, err := Scan(options, Datagram, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Request || x.Method != "OPTIONS" || x.RequestURI != "sip:bob@example.com" || x.Version != "SIP/2.0" {
		t.Errorf("start line %+v", x)
	}
	if len(x.Fields) != 7 {
		t.Fatalf("%d fields", len(x.Fields))
	}
	f := x.Fields[0]
	if f.Name() != "Via" || f.ID != header.IDVia || f.Value() != "SIP/2.0/UDP host.example.com;branch=z9hG4bK1" {
		t.Errorf("field 0: %q %v %q", f.Name(), f.ID, f.Value())
	}
	if x.Body != "body" || x.ContentLength != 4 || x.End != len(options) {
		t.Errorf("body %q cl %d end %d", x.Body, x.ContentLength, x.End)
	}
}

// RFC 3261 §7.3.1: white space before the colon, folds in the value.
func TestScanFieldForms(t *testing.T) {
	msg := "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
		"v  :  SIP/2.0/UDP h\r\n" +
		"Subject:\r\n" +
		"X-Folded: a\r\n  b\r\n\tc\r\n" +
		"\r\n"
	x, err := Scan(msg, Datagram, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, raw, value string }{
		{"v", "SIP/2.0/UDP h", "SIP/2.0/UDP h"},
		{"Subject", "", ""},
		{"X-Folded", "a\r\n  b\r\n\tc", "a b c"},
	}
	for i, tc := range tests {
		f := x.Fields[i]
		if f.Name() != tc.name || f.RawValue() != tc.raw || f.Value() != tc.value {
			t.Errorf("field %d: %q %q %q, want %q %q %q", i, f.Name(), f.RawValue(), f.Value(), tc.name, tc.raw, tc.value)
		}
	}
	if x.Fields[0].ID != header.IDVia || !x.Fields[2].Folded() {
		t.Errorf("compact form or fold not recognised")
	}
}

// RFC 3261 §7.3.1: a line fold is one SP, so a value whose last folded
// line holds only white space ends like one with trailing white space:
// neither is part of the value. (Found by fuzz.FuzzProxyBytes: the raw
// value kept the fold's CRLF, so a Via written that way parsed when it
// was not the top Via, and failed once a proxy removed the one above it.)
func TestScanTrailingFold(t *testing.T) {
	msg := "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP h;received=192.0.2.1\r\n \r\n" +
		"Subject: a\r\n b \r\n\t\r\n  \r\n" +
		"X: \r\n \r\n" +
		"\r\n"
	x, err := Scan(msg, Datagram, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"SIP/2.0/UDP h;received=192.0.2.1", "a\r\n b", ""} {
		if got := x.Fields[i].RawValue(); got != want {
			t.Errorf("%s: raw value %q, want %q", x.Fields[i].Name(), got, want)
		}
	}
	if got := x.Fields[1].Value(); got != "a b" {
		t.Errorf("Subject = %q, want %q", got, "a b")
	}
}

func TestScanErrors(t *testing.T) {
	base := "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
	tests := []struct {
		name string
		msg  string
		mode Mode
		want error
	}{
		{"bare LF ends a line (RFC 3261 §7)", "OPTIONS sip:b@h SIP/2.0\nVia: x\r\n\r\n", Datagram, ErrStartLine},
		{"bare LF inside a field", base + "X: a\nY: b\r\n\r\n", Datagram, ErrHeaderLine},
		{"bare CR inside a value", base + "X: a\rY: b\r\n\r\n", Datagram, ErrHeaderLine},
		{"no colon (RFC 4475 test.dat)", base + "Foobar roobar\r\n\r\n", Datagram, ErrHeaderLine},
		{"space in a header name", base + "Bad Name: x\r\n\r\n", Datagram, ErrHeaderLine},
		{"negative Content-Length (RFC 4475 ncl)", base + "Content-Length: -999\r\n\r\n", Datagram, ErrContentLength},
		{"two Content-Lengths (RFC 4475 mcl01)", base + "Content-Length: 1\r\nl: 1\r\n\r\nx", Datagram, ErrContentLength},
		{"Content-Length beyond the datagram (RFC 4475 clerr)", base + "Content-Length: 10\r\n\r\nabc", Datagram, ErrTruncated},
		{"stream without Content-Length (RFC 3261 §18.3)", base + "\r\n", Stream, ErrContentLength},
		{"stream without the empty line", base, Stream, ErrNoEnd},
		{"only CRLFs", "\r\n\r\n", Datagram, ErrKeepAlive},
		{"unknown version (RFC 4475 badvers)", "OPTIONS sip:b@h SIP/7.0\r\n\r\n", Datagram, ErrVersion},
		{"not a version", "OPTIONS sip:b@h HTTP/1.1\r\n\r\n", Datagram, ErrStartLine},
		{"double space (RFC 4475 lwsstart)", "OPTIONS  sip:b@h SIP/2.0\r\n\r\n", Datagram, ErrStartLine},
		{"trailing space (RFC 4475 trws)", "OPTIONS sip:b@h SIP/2.0 \r\n\r\n", Datagram, ErrStartLine},
		{"status code > 699 (RFC 4475 bigcode)", "SIP/2.0 4294967301 Big\r\n\r\n", Datagram, ErrStatusCode},
		{"status code < 100", "SIP/2.0 099 Low\r\n\r\n", Datagram, ErrStatusCode},
		{"control character in the reason", "SIP/2.0 200 O\x01K\r\n\r\n", Datagram, ErrStartLine},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scan(tc.msg, tc.mode, nil, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not *Error", err)
			}
			if pe.Offset < 0 || pe.Offset > len(tc.msg) {
				t.Errorf("offset %d outside the message", pe.Offset)
			}
		})
	}
}

// RFC 3261 §18.3: on a datagram, octets after the body are ignored; without
// Content-Length the body is the rest.
func TestScanDatagramBody(t *testing.T) {
	head := "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
	x, err := Scan(head+"Content-Length: 2\r\n\r\nabJUNK", Datagram, nil, nil)
	if err != nil || x.Body != "ab" || x.End != len(head)+len("Content-Length: 2\r\n\r\nab") {
		t.Errorf("with CL: %v %q %d", err, x.Body, x.End)
	}
	x, err = Scan(head+"\r\nall of it", Datagram, nil, nil)
	if err != nil || x.Body != "all of it" || x.ContentLength != -1 {
		t.Errorf("without CL: %v %q", err, x.Body)
	}
	// RFC 3261 §7.5: CRLFs before the start line are ignored.
	x, err = Scan("\r\n\r\n"+head+"\r\n", Datagram, nil, nil)
	if err != nil || x.Start != 4 || x.Method != "OPTIONS" {
		t.Errorf("leading CRLF: %v %d", err, x.Start)
	}
	// A datagram whose last header line has no empty line after it.
	x, err = Scan(head, Datagram, nil, nil)
	if err != nil || len(x.Fields) != 1 {
		t.Errorf("no empty line: %v %d", err, len(x.Fields))
	}
}

func TestScanLimits(t *testing.T) {
	head := "OPTIONS sip:b@h SIP/2.0\r\n"
	tests := []struct {
		name  string
		msg   string
		lim   Limits
		limit string
	}{
		{"message", head + "\r\n" + strings.Repeat("x", 100), Limits{MaxMessageSize: 64}, "MaxMessageSize"},
		{"headers", head + strings.Repeat("X: y\r\n", 5) + "\r\n", Limits{MaxHeaders: 4}, "MaxHeaders"},
		{"line", head + "X: " + strings.Repeat("y", 50) + "\r\n\r\n", Limits{MaxHeaderLine: 40}, "MaxHeaderLine"},
		{"folded line", head + "X: a\r\n " + strings.Repeat("y", 50) + "\r\n\r\n", Limits{MaxHeaderLine: 40}, "MaxHeaderLine"},
		{"start line", "OPTIONS sip:" + strings.Repeat("b", 50) + "@h SIP/2.0\r\n\r\n", Limits{MaxHeaderLine: 40}, "MaxHeaderLine"},
		{"body", head + "Content-Length: 20\r\n\r\n" + strings.Repeat("b", 20), Limits{MaxBodySize: 10}, "MaxBodySize"},
		{"body without length", head + "\r\n" + strings.Repeat("b", 20), Limits{MaxBodySize: 10}, "MaxBodySize"},
		{"vias in lines", head + strings.Repeat("Via: SIP/2.0/UDP h\r\n", 4) + "\r\n", Limits{MaxVias: 3}, "MaxVias"},
		{"vias in one line", head + "Via: SIP/2.0/UDP h, SIP/2.0/UDP i, SIP/2.0/UDP j, SIP/2.0/UDP k\r\n\r\n", Limits{MaxVias: 3}, "MaxVias"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scan(tc.msg, Datagram, &tc.lim, nil)
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v, want a LimitError", err)
			}
			if le.Limit != tc.limit || le.Got <= le.Max {
				t.Errorf("limit %q got %d max %d, want %q", le.Limit, le.Got, le.Max, tc.limit)
			}
			if StatusFor(err) != 513 || !strings.Contains(ReasonFor(err), tc.limit) {
				t.Errorf("status %d reason %q", StatusFor(err), ReasonFor(err))
			}
		})
	}
	// Zero limits take the defaults.
	var l Limits
	if r := l.resolve(); r != DefaultLimits {
		t.Errorf("resolve of zero Limits = %+v", r)
	}
}

func TestStatusFor(t *testing.T) {
	if StatusFor(&Error{Err: ErrVersion}) != 505 || ReasonFor(&Error{Err: ErrVersion}) != "Version Not Supported" {
		t.Error("version")
	}
	if StatusFor(&Error{Err: ErrHeaderValue, Header: "To"}) != 400 {
		t.Error("header")
	}
	if r := ReasonFor(&Error{Err: ErrHeaderValue, Header: "To"}); !strings.Contains(r, "To") {
		t.Errorf("reason %q does not name the header", r)
	}
}

func BenchmarkScan(b *testing.B) {
	var fields [32]Field
	b.ReportAllocs()
	b.SetBytes(int64(len(options)))
	for b.Loop() {
		if _, err := Scan(options, Datagram, nil, fields[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
