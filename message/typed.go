package message

import (
	"fmt"
	"slices"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/parser"
)

// All returns every value of the header whose typed value is T, in order:
// the elements of a list-valued header across all its lines. Values are
// parsed on first use and cached until the header is edited; the returned
// slice is shared with the cache and must not be modified.
//
//	contacts, err := message.All[header.Contact](m)
func All[T any, P header.Value[T]](m *Message) ([]T, error) {
	var zero T
	name := P(&zero).HeaderName()
	id := header.Lookup(name)
	key := cacheKey(id, name)
	if v, ok := m.cache[key]; ok {
		if vals, ok := v.([]T); ok {
			return vals, nil
		}
	}
	vals, found, err := parseValues[T, P](m, id, name, nil, -1)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, nil // nothing to parse, nothing worth caching
	}
	vals = slices.Clip(vals)
	if m.cache == nil {
		m.cache = make(map[string]any, 4)
	}
	m.cache[key] = vals
	return vals, nil
}

// parseValues appends to dst the values of the header fields named
// name (id), in order, at most limit of them (negative: all), and reports
// whether the message has such a field.
func parseValues[T any, P header.Value[T]](m *Message, id header.ID, name string, dst []T, limit int) ([]T, bool, error) {
	found := false
	for i := range m.x.Fields {
		f := &m.x.Fields[i]
		if !matches(f, id, name) {
			continue
		}
		found = true
		if !id.IsList() {
			var v T
			if err := P(&v).Parse(f.RawValue()); err != nil {
				return nil, true, m.fieldError(i, parser.ErrHeaderValue, err)
			}
			if dst = append(dst, v); len(dst) == limit {
				return dst, true, nil
			}
			continue
		}
		if id.AllowsEmpty() && f.RawValue() == "" {
			continue
		}
		for e, ok := range header.Elements(f.RawValue()) {
			if !ok || e == "" {
				return nil, true, m.fieldError(i, parser.ErrHeaderValue, header.ErrSyntax)
			}
			var v T
			if err := P(&v).Parse(e); err != nil {
				return nil, true, m.fieldError(i, parser.ErrHeaderValue, err)
			}
			if dst = append(dst, v); len(dst) == limit {
				return dst, true, nil
			}
		}
	}
	return dst, found, nil
}

// First returns the first value of the header whose typed value is T, and
// whether the message has one. It parses only as far as that value: a
// malformed later value is All's to report.
//
//	exp, ok, err := message.First[header.Expires](m)
func First[T any, P header.Value[T]](m *Message) (T, bool, error) {
	var zero T
	name := P(&zero).HeaderName()
	id := header.Lookup(name)
	if v, ok := m.cache[cacheKey(id, name)]; ok {
		if vals, ok := v.([]T); ok {
			if len(vals) == 0 {
				return zero, false, nil
			}
			return vals[0], true, nil
		}
	}
	if m.firstIndex(id, name, -1) < 0 {
		return zero, false, nil // absent: nothing to parse (nor to allocate)
	}
	// Parse only as far as the first value: a proxy reading the top Route
	// of a long route set need not parse the rest.
	var one [1]T
	vals, _, err := parseValues[T, P](m, id, name, one[:0], 1)
	if err != nil || len(vals) == 0 {
		return zero, false, err
	}
	return vals[0], true, nil
}

// render returns the text of one typed value after checking that it is
// well-formed: it must parse back to a value that renders the same text, so
// that no field of it can break the grammar or inject a line.
func render[T any, P header.Value[T]](v T) (string, error) {
	var buf [128]byte
	text := string(P(&v).AppendTo(buf[:0]))
	name := P(&v).HeaderName()
	if err := header.CheckLine(name, text); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var back T
	if err := P(&back).Parse(text); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if string(P(&back).AppendTo(buf[:0])) != text { // compared without a copy
		return "", fmt.Errorf("%w: %s value %q does not survive a round trip", ErrInvalid, name, text)
	}
	return text, nil
}

// onePerLine reports the list-valued headers that are written one value per
// line by convention (addresses, which are long); other lists are joined
// with commas on one line.
func onePerLine(id header.ID) bool {
	switch id {
	case header.IDVia, header.IDContact, header.IDRoute, header.IDRecordRoute, header.IDPath,
		header.IDServiceRoute, header.IDPAssertedIdentity, header.IDPPreferredIdentity:
		return true
	}
	return false
}

// lines renders values into the field values to write: a list joined on
// one line (one per line for addresses), the values of a repeatable
// non-list header (WWW-Authenticate...) one per line.
func lines[T any, P header.Value[T]](id header.ID, values []T) ([]string, error) {
	texts := make([]string, 0, len(values))
	for _, v := range values {
		t, err := render[T, P](v)
		if err != nil {
			return nil, err
		}
		texts = append(texts, t)
	}
	if !id.Repeatable() && len(texts) > 1 {
		return nil, fmt.Errorf("%w: %s takes one value", ErrInvalid, id.Name())
	}
	if id.IsList() && !onePerLine(id) && len(texts) > 1 {
		joined := texts[0]
		for _, t := range texts[1:] {
			joined += ", " + t
		}
		return []string{joined}, nil
	}
	return texts, nil
}

// Set replaces every value of the header whose typed value is T with
// values, where its first field was (or at the end). With no values it
// removes the header.
//
//	err := message.Set(m, header.Expires(3600))
func Set[T any, P header.Value[T]](m *Message, values ...T) error {
	var zero T
	name := P(&zero).HeaderName()
	id := header.Lookup(name)
	if id == header.IDContentLength {
		return fmt.Errorf("%w: Content-Length follows the body; use SetBody", ErrInvalid)
	}
	if len(values) == 1 {
		// The common case, without the slice of lines.
		t, err := render[T, P](values[0])
		if err != nil {
			return err
		}
		m.replaceFields(id, name, t)
		return nil
	}
	texts, err := lines[T, P](id, values)
	if err != nil {
		return err
	}
	m.replaceFields(id, name, texts...)
	return nil
}

// Add appends values to the header whose typed value is T, after its last
// field (or at the end). A header that takes one value (Expires, CSeq...)
// refuses a second; the authentication headers take one value per field,
// each value on its own line (header.ID.Repeatable):
//
//	err := message.Add(resp, header.WWWAuthenticate{Challenge: sha256}, header.WWWAuthenticate{Challenge: md5})
func Add[T any, P header.Value[T]](m *Message, values ...T) error {
	var zero T
	name := P(&zero).HeaderName()
	id := header.Lookup(name)
	if id == header.IDContentLength {
		return fmt.Errorf("%w: Content-Length follows the body; use SetBody", ErrInvalid)
	}
	if !id.Repeatable() && (len(values) > 1 || m.firstIndex(id, name, -1) >= 0) {
		return fmt.Errorf("%w: %s takes one value", ErrInvalid, name)
	}
	texts, err := lines[T, P](id, values)
	if err != nil {
		return err
	}
	at := m.afterLast(id, name)
	for i, t := range texts {
		m.insertField(at+i, parser.NewField(fieldName(id, name), t))
	}
	m.touched(id, name)
	return nil
}

// Prepend inserts values before the first value of the header whose typed
// value is T (or at the top of the header fields).
func Prepend[T any, P header.Value[T]](m *Message, values ...T) error {
	var zero T
	name := P(&zero).HeaderName()
	id := header.Lookup(name)
	if !id.Repeatable() {
		return fmt.Errorf("%w: %s takes one value", ErrInvalid, name)
	}
	texts, err := lines[T, P](id, values)
	if err != nil {
		return err
	}
	at := m.firstIndex(id, name, 0)
	for i, t := range texts {
		m.insertField(at+i, parser.NewField(fieldName(id, name), t))
	}
	m.touched(id, name)
	return nil
}
