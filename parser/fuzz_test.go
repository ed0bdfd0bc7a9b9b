package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds every message of the project's testdata to f.
func seeds(f *testing.F, add func(data []byte)) {
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
			add(b)
		}
	}
}

// FuzzScan: any datagram scans without panic, within its bounds, and a
// successful index describes the input.
func FuzzScan(f *testing.F) {
	seeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		x, err := Scan(s, Datagram, nil, nil)
		if x.End > len(s) || x.Start > len(s) || len(x.Body) > len(s) {
			t.Fatalf("index outside the input: %+v", x)
		}
		if err != nil {
			if pe, ok := err.(*Error); ok && (pe.Offset < 0 || pe.Offset > len(s)) {
				t.Fatalf("offset %d outside the input", pe.Offset)
			}
			return
		}
		n := 0
		for i := range x.Fields {
			n += len(x.Fields[i].Line)
			if !strings.HasSuffix(x.Fields[i].Line, "\r\n") {
				t.Fatalf("field %q does not end in CRLF", x.Fields[i].Line)
			}
		}
		if n > len(s) {
			t.Fatalf("fields longer than the input")
		}
	})
}

// FuzzFramer: the frames found in a stream do not depend on how it was
// cut into chunks, and the framer never holds much more than what arrived.
func FuzzFramer(f *testing.F) {
	seeds(f, func(b []byte) { f.Add(b, []byte{1, 2, 3}) })
	f.Add([]byte("\r\n\r\n\r\nINVITE sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabc"), []byte{1})
	f.Fuzz(func(t *testing.T, data []byte, cuts []byte) {
		if len(cuts) == 0 {
			cuts = []byte{1}
		}
		chunks := make([]int, len(cuts))
		for i, c := range cuts {
			chunks[i] = int(c%16) + 1
		}
		var whole, split Framer
		want, werr := frames(&whole, string(data), []int{len(data) + 1})
		got, gerr := frames(&split, string(data), chunks)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("error differs by chunking: %v vs %v", werr, gerr)
		}
		if werr == nil && strings.Join(got, "\x00|") != strings.Join(want, "\x00|") {
			t.Fatalf("frames differ by chunking:\n%q\n%q", got, want)
		}
		if split.Buffered() > len(data) {
			t.Fatalf("buffered %d of %d", split.Buffered(), len(data))
		}
	})
}
