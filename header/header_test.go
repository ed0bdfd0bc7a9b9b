package header

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errAny in a test row means that Parse must fail, with any error (a URI
// error, say, rather than one of this package's sentinels).
var errAny = errors.New("any error")

// valueCase is one row of a table-driven test of a typed header value.
type valueCase[T any] struct {
	rfc  string // the RFC section (or RFC 4475 test) the row checks
	in   string // the value text given to Parse
	want T      // the parsed value, for a valid row
	out  string // the canonical rendering of want; "" to skip that check
	err  error  // for an invalid row: the sentinel Parse must return, or errAny
}

// runCases checks every row: a valid row parses to want, renders to out
// and survives render→parse→render unchanged; an invalid row fails with an
// *Error that names the header and an offset inside the input.
func runCases[T comparable, P Value[T]](t *testing.T, cases []valueCase[T]) {
	t.Helper()
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d_%s", i, c.rfc), func(t *testing.T) {
			var v T
			err := P(&v).Parse(c.in)
			if c.err != nil {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error %v", c.in, v, c.err)
				}
				if c.err != errAny && !errors.Is(err, c.err) {
					t.Fatalf("Parse(%q) error = %v, want %v", c.in, err, c.err)
				}
				var he *Error
				if !errors.As(err, &he) {
					t.Fatalf("Parse(%q) error %T is not *Error", c.in, err)
				}
				if he.Header != P(&v).HeaderName() {
					t.Errorf("error names header %q, want %q", he.Header, P(&v).HeaderName())
				}
				if he.Offset < 0 || he.Offset > len(c.in) {
					t.Errorf("error offset %d outside the input (len %d)", he.Offset, len(c.in))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			if diff := cmp.Diff(c.want, v); diff != "" {
				t.Fatalf("Parse(%q) mismatch (-want +got):\n%s", c.in, diff)
			}
			if c.out != "" {
				if got := String[T, P](&v); got != c.out {
					t.Errorf("AppendTo = %q, want %q", got, c.out)
				}
			}
			checkRoundTrip[T, P](t, v)
		})
	}
}

// checkRoundTrip checks that v renders to text that parses back to v and
// renders identically again.
func checkRoundTrip[T comparable, P Value[T]](t testing.TB, v T) {
	t.Helper()
	text := string(P(&v).AppendTo(nil))
	if strings.ContainsAny(text, "\r\n") {
		t.Fatalf("rendering %q holds CR or LF", text)
	}
	var w T
	if err := P(&w).Parse(text); err != nil {
		t.Fatalf("Parse(render %q): %v", text, err)
	}
	if w != v {
		t.Fatalf("parse(render(v)) != v for %q (-v +parsed):\n%s", text, cmp.Diff(v, w))
	}
	if again := string(P(&w).AppendTo(nil)); again != text {
		t.Fatalf("render is not a fixpoint: %q then %q", text, again)
	}
}

// inputs returns the input text of every row, for fuzz seeds.
func inputs[T any](cases []valueCase[T]) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.in
	}
	return out
}
