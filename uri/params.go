package uri

import (
	"iter"

	"github.com/sansip/sansip/internal/abnf"
)

// Params is a list of uri-parameters as written, each introduced by ';':
// ";transport=tcp;lr". Names compare case-insensitively. Values are kept
// escaped; Decoded returns a value with its escapes decoded once.
type Params string

// Get returns the value of the parameter name as written, and whether the
// parameter is present. A flag parameter (";lr") has the value "".
func (p Params) Get(name string) (string, bool) {
	v, _, ok := abnf.FindParam(string(p), name, ';')
	return v, ok
}

// Has reports whether the parameter name is present.
func (p Params) Has(name string) bool {
	_, _, ok := abnf.FindParam(string(p), name, ';')
	return ok
}

// Decoded returns the value of the parameter name with escapes decoded
// once (RFC 4475 esc01: "v%61lue%25%34%31" is "value%41", never "valueA").
func (p Params) Decoded(name string) (string, bool, error) {
	v, ok := p.Get(name)
	if !ok {
		return "", false, nil
	}
	d, err := Unescape(v)
	return d, true, err
}

// Len returns the number of parameters.
func (p Params) Len() int { return abnf.CountParams(string(p), ';') }

// All yields each parameter's name and value as written.
func (p Params) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := 0; i < len(p); {
			n, v, _, next := abnf.NextParam(string(p), i, ';')
			if !yield(n, v) {
				return
			}
			i = next
		}
	}
}
