package message

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/parser"
)

func fuzzSeeds(f *testing.F) {
	f.Helper()
	for _, pat := range []string{"../testdata/rfc4475/*.dat", "../testdata/rfc5118/*", "../testdata/bench/*.sip"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if strings.HasSuffix(file, ".md") || strings.HasSuffix(file, "SHA256SUMS") {
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if !bytes.Contains(b, []byte("\r")) {
				b = crlf(b)
			}
			f.Add(b)
		}
	}
}

// fuzzView is what every layer reads of a message; two parses of the same
// bytes must agree on it.
type fuzzView struct {
	req              bool
	start            string
	branch, from, to string
	callID           string
	cseq             header.CSeq
	mf               int
	body             string
	nfields          int
}

func fuzzViewOf(m *Message) fuzzView {
	mf, _ := m.MaxForwards()
	return fuzzView{m.IsRequest(), m.StartLine(), m.Branch(), m.FromTag(), m.ToTag(), m.CallID(), m.CSeq(), mf, m.Body(), m.NumHeaders()}
}

// FuzzParse: the datagram parser never panics; a message it accepts
// renders to bytes that parse to the same message, and rendering is a
// fixpoint; the error path always yields a response that parses, or a drop;
// edits on an accepted message never panic and keep it parseable.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, nil)
		if err != nil {
			if m != nil {
				if resp, ok := ErrorResponse(m, err, ident.Seeded(1)); ok {
					if resp.StatusCode() < 400 {
						t.Fatalf("error response %d", resp.StatusCode())
					}
					_ = resp.Bytes()
				}
			}
			return
		}
		out := m.Bytes()
		m2, err := Parse(out, nil)
		if err != nil {
			t.Fatalf("render of an accepted message does not parse: %v\n%q", err, out)
		}
		if fuzzViewOf(m) != fuzzViewOf(m2) {
			t.Fatalf("views differ:\n%+v\n%+v", fuzzViewOf(m), fuzzViewOf(m2))
		}
		if !bytes.Equal(out, m2.Bytes()) {
			t.Fatalf("render is not a fixpoint")
		}
		_ = m.Validate()
		for _, name := range []string{"Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Accept"} {
			_ = m.Values(name)
		}
		_, _ = All[header.Contact](m)
		_, _ = All[header.Via](m)

		// Proxy-style edits keep the message parseable.
		c := m.Clone()
		if m.IsRequest() {
			_, _ = c.DecrementMaxForwards()
			if err := c.PrependVia(header.Via{Transport: "UDP", Host: "proxy.example.com", Params: ";branch=z9hG4bKfuzz"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.RemoveTopVia(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Parse(c.Bytes(), &parser.Limits{MaxMessageSize: 1 << 20, MaxVias: 1000, MaxHeaders: 1000}); err != nil {
			t.Fatalf("edited message does not parse: %v", err)
		}
	})
}
