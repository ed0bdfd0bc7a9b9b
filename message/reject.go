package message

import (
	"errors"
	"strings"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/parser"
)

// ErrorResponse builds the response a server sends, statelessly, to a
// request that failed to parse with err: 505 for an unsupported version,
// 513 for a message over a size limit, 501 for an unknown method whose CSeq
// disagrees with it (RFC 4475 mismatch02), 400 otherwise, with a reason
// phrase that names what was wrong.
//
// It returns ok=false when the message must be dropped instead: it is a
// response (RFC 4475 bigcode, scalarlg), an ACK, a keep-alive, or a request
// without a top Via whose sent-by parses or a CSeq that names a method, which
// the answer needs to reach the client and match its transaction. Missing or
// malformed From, To and Call-ID fields are echoed as they came, or left
// out (RFC 4475 insuf: "ideally respond 400"); a field line that holds a
// bare CR, LF or NUL is never echoed; and when scanning stopped early (a
// broken line, a limit), all five fields must have been read.
// gen makes the To tag.
func ErrorResponse(req *Message, err error, gen ident.Generator) (resp *Message, ok bool) {
	if req == nil || err == nil || !req.x.Request || req.x.Method == "ACK" || errors.Is(err, parser.ErrKeepAlive) {
		return nil, false
	}
	// The response goes to the top Via's sent-by: its sent-protocol and
	// host must parse, even if its parameters do not (RFC 4475 badinv01).
	vi := req.firstIndex(header.IDVia, "", -1)
	if vi < 0 || !safeLine(req.x.Fields[vi].Line) {
		return nil, false
	}
	top, _, _, _ := header.CutList(req.x.Fields[vi].RawValue())
	if !usableVia(top) {
		return nil, false
	}
	// The CSeq must name a method: the client matches the response by its
	// branch and CSeq method (RFC 3261 §17.1.3). An out-of-range number is
	// echoed as it came (RFC 4475 scalar02). A missing From, To or Call-ID
	// does not stop the answer (RFC 4475 insuf: "ideally respond 400").
	ci := req.firstIndex(header.IDCSeq, "", -1)
	if ci < 0 || !safeLine(req.x.Fields[ci].Line) {
		return nil, false
	}
	method, okm := cseqMethod(req.x.Fields[ci].RawValue())
	if !okm || method == "ACK" {
		return nil, false
	}
	code, reason := parser.StatusFor(err), parser.ReasonFor(err)
	if errors.Is(err, parser.ErrMethodMismatch) && !StandardMethod(req.x.Method) {
		code, reason = 501, "Not Implemented"
	}
	// Add a To tag only where To is well-formed and has none; a broken To
	// is echoed as it came.
	tag := ""
	ti := req.firstIndex(header.IDTo, "", -1)
	if ti >= 0 {
		if to, terr := header.ParseValue[header.To](req.x.Fields[ti].RawValue()); terr == nil && to.Tag() == "" && gen != nil {
			tag = gen.Tag()
		}
	}
	b, seen := req.appendResponse(make([]byte, 0, req.responseSize(reason, tag)), code, reason, tag, 0)
	if req.x.Partial && seen != 31 {
		// Scanning stopped early: a field missing from the index may be in
		// the request after the point where it stopped, so an answer
		// without it would misreport the request.
		return nil, false
	}
	m, _ := parseBuilt(b)
	if m == nil {
		return nil, false
	}
	return m, true
}

// cseqMethod returns the method of a CSeq value whose number may be out of
// range.
func cseqMethod(v string) (string, bool) {
	c, err := header.ParseValue[header.CSeq](v)
	if err == nil {
		return c.Method, true
	}
	if !errors.Is(err, header.ErrRange) {
		return "", false
	}
	f := strings.Fields(v)
	if len(f) != 2 {
		return "", false
	}
	return f[1], true
}

// usableVia reports whether a Via value's sent-protocol and sent-by parse,
// ignoring its parameters.
func usableVia(v string) bool {
	if _, err := header.ParseValue[header.Via](v); err == nil {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] == ';' {
			_, err := header.ParseValue[header.Via](v[:i])
			return err == nil
		}
	}
	return false
}

// standardMethods are the methods RFC 3261 and its extensions define.
var standardMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE",
	"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}

// StandardMethod reports whether method is one of the methods RFC 3261 and
// its extensions define: INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS,
// PRACK, SUBSCRIBE, NOTIFY, PUBLISH, INFO, REFER, MESSAGE, UPDATE.
func StandardMethod(method string) bool {
	for _, m := range standardMethods {
		if method == m {
			return true
		}
	}
	return false
}

// InternMethod returns method as a string of its own: a constant for a
// standard method, else a copy. A method read from a message refers to the
// message's bytes; what outlives the message keeps the interned one.
func InternMethod(method string) string {
	for _, m := range standardMethods {
		if method == m {
			return m
		}
	}
	return strings.Clone(method)
}
