package header

import (
	"os"
	"path/filepath"
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
