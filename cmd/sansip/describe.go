package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strconv"
	"strings"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

// This file turns the typed values that header.ParseAny returns into text
// (one line per value) and into JSON. Both work by reflection over the
// exported fields, so that header types added later show up without
// changes here: a uri.URI is shown as its text (or its parts, in JSON), a
// parameter list (header.Params, uri.Params) as its parameters in order.

var uriType = reflect.TypeFor[uri.URI]()

// paramList is implemented by header.Params and uri.Params.
type paramList interface {
	All() iter.Seq2[string, string]
}

var paramListType = reflect.TypeFor[paramList]()

func isParams(t reflect.Type) bool {
	return t.Kind() == reflect.String && t.Implements(paramListType)
}

// appender is implemented by every typed header value.
type appender interface{ AppendTo([]byte) []byte }

// --- text ---

// describeValues returns the lines that show the typed values of one
// header field: one line per structured value, one line for a list of
// scalars ("INVITE | ACK | BYE").
func describeValues(id header.ID, vals []any) []string {
	if len(vals) == 0 {
		return nil
	}
	scalar := true
	for _, v := range vals {
		if reflect.ValueOf(v).Kind() == reflect.Struct {
			scalar = false
		}
	}
	if scalar {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = describe(v)
		}
		return []string{strings.Join(parts, " | ")}
	}
	lines := make([]string, len(vals))
	for i, v := range vals {
		lines[i] = describe(v)
	}
	return lines
}

// describe returns one typed value as "key=value" pairs, its parameters as
// ";name=value".
func describe(v any) string {
	if c, ok := v.(header.Contact); ok && c.Star {
		return "* (every binding)"
	}
	return describeValue(reflect.ValueOf(v))
}

func describeValue(rv reflect.Value) string {
	if !rv.IsValid() {
		return "nil"
	}
	if rv.Type() == uriType && rv.CanInterface() {
		return "<" + rv.Interface().(uri.URI).String() + ">"
	}
	switch rv.Kind() {
	case reflect.Struct:
		parts := describeFields(rv, nil)
		if len(parts) == 0 {
			return opaqueText(rv)
		}
		return strings.Join(parts, " ")
	case reflect.String:
		if isParams(rv.Type()) {
			return describeParams(rv)
		}
		return quoteIfNeeded(rv.String())
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = describeValue(rv.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return "nil"
		}
		return describeValue(rv.Elem())
	}
	return opaqueText(rv)
}

// describeFields appends the "key=value" texts of a struct's fields to
// parts. The fields of an embedded struct are the struct's own
// (header.ContentType embeds header.MediaType); another struct field is
// shown in braces.
func describeFields(rv reflect.Value, parts []string) []string {
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := rv.Field(i)
		if omitField(f, fv) {
			continue
		}
		switch {
		case f.Anonymous && fv.Kind() == reflect.Struct && fv.Type() != uriType:
			parts = describeFields(fv, parts)
		case isParams(f.Type):
			parts = append(parts, describeParams(fv))
		case fv.Kind() == reflect.Bool:
			parts = append(parts, lowerKey(f.Name))
		case f.Name == "Display" && fv.Kind() == reflect.String:
			parts = append(parts, "display="+strconv.Quote(fv.String()))
		case fv.Kind() == reflect.Struct && fv.Type() != uriType:
			if inner := describeFields(fv, nil); len(inner) > 0 {
				parts = append(parts, lowerKey(f.Name)+"={"+strings.Join(inner, " ")+"}")
			} else {
				parts = append(parts, lowerKey(f.Name)+"="+quoteIfNeeded(opaqueText(fv)))
			}
		default:
			parts = append(parts, lowerKey(f.Name)+"="+describeValue(fv))
		}
	}
	return parts
}

// omitField reports whether a struct field is left out: unexported, or
// zero where zero means absent (an empty string or list, false, port 0).
// Other numbers are shown even when 0 (CSeq 0 INVITE).
func omitField(f reflect.StructField, fv reflect.Value) bool {
	if !f.IsExported() {
		return true
	}
	switch fv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return fv.IsZero() && f.Name == "Port"
	}
	return fv.IsZero()
}

// opaqueText shows a value without exported fields by its String, Error or
// AppendTo method, or with %v.
func opaqueText(rv reflect.Value) string {
	if !rv.CanInterface() {
		return "?"
	}
	switch v := rv.Interface().(type) {
	case fmt.Stringer:
		return v.String()
	case appender:
		return string(v.AppendTo(nil))
	}
	return fmt.Sprintf("%v", rv.Interface())
}

// describeParams shows a parameter list as it is written, one parameter
// after another separated by spaces: ";tag=1928 ;rport". A list whose
// parameters are separated by commas (header.AuthParams) is shown as
// `realm="a", nonce="b"`.
func describeParams(rv reflect.Value) string {
	ps, ok := rv.Interface().(paramList)
	if !ok {
		return rv.String()
	}
	comma := strings.HasPrefix(rv.String(), ",")
	var parts []string
	for n, v := range ps.All() {
		switch {
		case comma:
			parts = append(parts, n+"="+v)
		case v == "":
			parts = append(parts, ";"+n)
		default:
			parts = append(parts, ";"+n+"="+v)
		}
	}
	if comma {
		return strings.Join(parts, ", ")
	}
	return strings.Join(parts, " ")
}

// describeURI shows the parts of a URI.
func describeURI(u uri.URI) string {
	var parts []string
	for _, m := range uriMembers(u)[1:] { // not the text
		switch v := m.val.(type) {
		case object:
			for _, p := range v {
				if p.val == "" {
					parts = append(parts, ";"+p.key)
				} else {
					parts = append(parts, fmt.Sprintf(";%s=%s", p.key, p.val))
				}
			}
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", m.key, quoteIfNeeded(fmt.Sprint(v))))
		}
	}
	return strings.Join(parts, " ")
}

// quoteIfNeeded quotes s when it is empty or holds characters that would
// make "key=value" lines ambiguous.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == '\\' || c == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}

// lowerKey turns a Go field name into a JSON-style key: "URI" -> "uri",
// "Display" -> "display", "RPort" -> "rPort".
func lowerKey(name string) string {
	n := 0
	for n < len(name) && name[n] >= 'A' && name[n] <= 'Z' {
		n++
	}
	switch {
	case n == 0:
		return name
	case n > 1 && n < len(name):
		n-- // the last capital starts the next word
	}
	return strings.ToLower(name[:n]) + name[n:]
}

// --- JSON ---

// object is a JSON object that keeps its members in order.
type object []member

type member struct {
	key string
	val any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := marshal(m.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so that "<sip:a@b>" stays
// readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// jsonTyped returns one typed value as JSON: a structured value becomes an
// object whose first member, "text", is the value as sansip renders it.
func jsonTyped(v any) any {
	rv := reflect.ValueOf(v)
	j := jsonValue(rv)
	if o, ok := j.(object); ok && rv.Type() != uriType {
		if a, ok := v.(appender); ok {
			return append(object{{"text", string(a.AppendTo(nil))}}, o...)
		}
	}
	return j
}

func jsonValue(rv reflect.Value) any {
	if !rv.IsValid() {
		return nil
	}
	if rv.Type() == uriType && rv.CanInterface() {
		return object(uriMembers(rv.Interface().(uri.URI)))
	}
	if rv.CanInterface() {
		// A type that knows its JSON form (time.Time in header.Date).
		switch v := rv.Interface().(type) {
		case json.Marshaler, encoding.TextMarshaler:
			return v
		}
	}
	switch rv.Kind() {
	case reflect.Struct:
		o := jsonFields(rv, object{})
		if len(o) == 0 {
			return opaqueText(rv)
		}
		return o
	case reflect.String:
		if isParams(rv.Type()) {
			return jsonParams(rv.Interface().(paramList))
		}
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Slice, reflect.Array:
		a := make([]any, rv.Len())
		for i := range a {
			a[i] = jsonValue(rv.Index(i))
		}
		return a
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return jsonValue(rv.Elem())
	}
	return opaqueText(rv)
}

// jsonFields appends a struct's fields to o; the fields of an embedded
// struct are the struct's own, as encoding/json has it.
func jsonFields(rv reflect.Value, o object) object {
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := rv.Field(i)
		if omitField(f, fv) {
			continue
		}
		if f.Anonymous && fv.Kind() == reflect.Struct && fv.Type() != uriType {
			o = jsonFields(fv, o)
			continue
		}
		o = append(o, member{lowerKey(f.Name), jsonValue(fv)})
	}
	return o
}

// jsonParams returns a parameter list as an object, in order; a flag
// parameter has the value "".
func jsonParams(ps paramList) object {
	o := object{}
	for n, v := range ps.All() {
		o = append(o, member{n, v})
	}
	return o
}

// uriMembers returns the parts of a URI that it has, text first.
func uriMembers(u uri.URI) object {
	o := object{{"text", u.String()}, {"scheme", u.SchemeName()}}
	add := func(k, v string) {
		if v != "" {
			o = append(o, member{k, v})
		}
	}
	if u.Scheme == uri.Absolute {
		return o
	}
	add("user", u.User)
	add("password", u.Password)
	add("host", u.Host)
	if u.Port != 0 {
		o = append(o, member{"port", u.Port})
	}
	if u.Params != "" {
		o = append(o, member{"params", jsonParams(u.Params)})
	}
	add("headers", u.Headers)
	return o
}

// jsonMessage is the JSON output for one message.
type jsonMessage struct {
	File           string        `json:"file"`
	Offset         *int          `json:"offset,omitempty"` // in the stream, with --stream
	Kind           string        `json:"kind"`             // "request", "response" or "none"
	StartLine      string        `json:"startLine,omitempty"`
	Method         string        `json:"method,omitempty"` // a response's is its CSeq's
	RequestURI     string        `json:"requestURI,omitempty"`
	URI            object        `json:"uri,omitempty"` // the Request-URI's parts
	StatusCode     *int          `json:"statusCode,omitempty"`
	Reason         *string       `json:"reason,omitempty"`
	Headers        []jsonHeader  `json:"headers"`
	Body           *jsonBody     `json:"body,omitempty"`
	TrailingOctets int           `json:"trailingOctets,omitempty"`
	Valid          bool          `json:"valid"`
	Error          *jsonError    `json:"error,omitempty"`
	Response       *jsonResponse `json:"response,omitempty"`
}

type jsonHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Typed []any  `json:"typed,omitempty"`
	Error string `json:"error,omitempty"` // the typed value does not parse
}

type jsonBody struct {
	Length        int    `json:"length"`
	ContentLength *int   `json:"contentLength,omitempty"` // absent without a Content-Length
	ContentType   string `json:"contentType,omitempty"`
	Text          string `json:"text,omitempty"`   // when the body is text
	Binary        bool   `json:"binary,omitempty"` // it holds NUL or non-UTF-8 octets
}

type jsonError struct {
	Stage   string `json:"stage"` // "parse", "validate" or "framing"
	Message string `json:"message"`
	What    string `json:"what,omitempty"`
	Header  string `json:"header,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Cause   string `json:"cause,omitempty"`
	Limit   string `json:"limit,omitempty"`
	Max     int    `json:"max,omitempty"`
	Got     int    `json:"got,omitempty"`
}

type jsonResponse struct {
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	Text   string `json:"text,omitempty"` // the whole response
	Drop   bool   `json:"drop,omitempty"`
	Why    string `json:"why,omitempty"` // why it is dropped
}

// jsonEvent is the JSON output for what is not a message: a keep-alive, a
// framing error, the end of a stream.
type jsonEvent struct {
	File       string     `json:"file"`
	Offset     *int       `json:"offset,omitempty"`
	Kind       string     `json:"kind"` // "ping", "pong", "keepalive", "empty", "framing-error", "end"
	Note       string     `json:"note,omitempty"`
	Error      *jsonError `json:"error,omitempty"`
	Messages   *int       `json:"messages,omitempty"`
	KeepAlives *int       `json:"keepAlives,omitempty"`
	Leftover   *int       `json:"leftover,omitempty"` // bytes still in the framer
}

func jsonResult(r *result) jsonMessage {
	j := jsonMessage{File: r.file, Kind: "none", Headers: []jsonHeader{}, TrailingOctets: r.trailing}
	if r.offset >= 0 {
		j.Offset = &r.offset
	}
	if m := r.msg; m != nil {
		j.StartLine = m.StartLine()
		j.Method = m.Method()
		if m.IsRequest() {
			j.Kind = "request"
			j.RequestURI = requestURIText(m.StartLine())
			if u := m.RequestURI(); u != (uri.URI{}) {
				j.URI = uriMembers(u)
			}
		} else {
			j.Kind = "response"
			code, reason := m.StatusCode(), m.Reason()
			j.StatusCode, j.Reason = &code, &reason
		}
		for name, value := range m.Headers() {
			h := jsonHeader{Name: name, Value: value}
			vals, err := header.ParseAny(header.Lookup(name), name, value)
			if err != nil {
				h.Error = err.Error()
			}
			for _, v := range vals {
				h.Typed = append(h.Typed, jsonTyped(v))
			}
			j.Headers = append(j.Headers, h)
		}
		body := m.Body()
		b := &jsonBody{Length: len(body)}
		if cl := m.ContentLength(); cl >= 0 {
			b.ContentLength = &cl
		}
		b.ContentType, _ = m.Get("Content-Type")
		if isBinary(body) {
			b.Binary = true
		} else {
			b.Text = body
		}
		j.Body = b
	}
	err := r.bad()
	j.Valid = err == nil
	if err == nil {
		return j
	}
	stage := "parse"
	if r.err == nil {
		stage = "validate"
	}
	j.Error = jsonErr(err, stage, r.src)
	if r.resp != nil {
		j.Response = &jsonResponse{Code: r.resp.StatusCode(), Reason: r.resp.Reason(), Text: r.resp.String()}
	} else {
		j.Response = &jsonResponse{Drop: true, Why: strings.TrimPrefix(dropReason(r), ": ")}
	}
	return j
}

// requestURIText returns the Request-URI as written in a request line.
func requestURIText(line string) string {
	_, rest, _ := strings.Cut(line, " ")
	u, _, _ := strings.Cut(rest, " ")
	return u
}

// jsonErr describes a parse error; src is what was parsed, for the line
// and column of the offset.
func jsonErr(err error, stage string, src []byte) *jsonError {
	j := &jsonError{Stage: stage, Message: err.Error()}
	var le *parser.LimitError
	var pe *parser.Error
	switch {
	case errors.As(err, &le):
		j.What, j.Limit, j.Max, j.Got = parser.ErrLimit.Error(), le.Limit, le.Max, le.Got
	case errors.As(err, &pe):
		off := pe.Offset
		j.What, j.Header, j.Offset = pe.Err.Error(), pe.Header, &off
		j.Line, j.Column = lineCol(src, off)
		if pe.Cause != nil {
			j.Cause = pe.Cause.Error()
		}
	}
	return j
}
