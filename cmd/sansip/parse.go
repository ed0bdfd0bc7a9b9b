package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/parser"
	"github.com/sansip/sansip/uri"
)

var parseCommand = &command{
	name:     "parse",
	synopsis: "[--json] [--stream [--outbound]] [FILE|-]...",
	summary:  "show how sansip parses SIP messages: typed header values, errors, the server's answer",
	help: `
Parse reads each FILE (standard input for "-" or when there is none) and shows
the SIP message in it: the start line, each header field as written with its
typed value(s), the body, and whether the message is valid. For an invalid
message it shows what is wrong, in which header field and at which byte
offset, and the response a server would send (or that it would drop it).

By default each input is one UDP datagram (RFC 3261 §18.3): octets after the
body that Content-Length delimits are ignored, and reported. With --stream
each input is a TCP/TLS byte stream: it is fed to a parser.Framer in small
chunks, and each message and CRLF keep-alive is shown as it is framed; a
framing error ends that stream.

An input with no CR at all but with LF line ends (a hand-written file, the
RFC 5118 archive) has its LFs turned into CRLF first, and a note on standard
error says so. In a datagram whose Content-Length counts the body with its
bare LFs, only the header section is converted.

Exit status: 0 if every message parsed and validated, 1 if one did not (or a
stream had a framing error or ended inside a message), 2 for usage or I/O
errors.`,
}

func init() { parseCommand.run = runParse }

// parseOptions are the flags of the parse command.
type parseOptions struct {
	json     bool
	stream   bool
	outbound bool
}

func runParse(args []string, sio stdio) int {
	fs := parseCommand.flagSet(args, sio)
	var o parseOptions
	fs.BoolVar(&o.json, "json", false, "print one JSON object per message (and per keep-alive with --stream)")
	fs.BoolVar(&o.stream, "stream", false, "treat each input as a byte stream (TCP, TLS): frame messages by Content-Length")
	fs.BoolVar(&o.outbound, "outbound", false, "with --stream: the connection is one this side opened, so each CRLF is a pong")
	files, status, stop := parseFlags(fs, args)
	if stop {
		return status
	}
	if o.outbound && !o.stream {
		fmt.Fprintln(sio.err, "sansip parse: --outbound needs --stream")
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	p := &parseRun{opts: o, sio: sio}
	if o.json {
		p.enc = json.NewEncoder(sio.out)
		p.enc.SetIndent("", "  ")
		p.enc.SetEscapeHTML(false)
	}
	for _, f := range files {
		name, data, err := readInput(f, sio.in)
		if err != nil {
			fmt.Fprintf(sio.err, "sansip parse: %v\n", err)
			status = max(status, exitUsage)
			continue
		}
		data = p.fixLineEnds(name, data)
		if o.stream {
			status = max(status, p.stream(name, data))
		} else {
			status = max(status, p.datagram(name, data))
		}
	}
	return status
}

// readInput reads all of a file, or of stdin for "-".
func readInput(f string, stdin io.Reader) (name string, data []byte, err error) {
	if f == "-" {
		data, err = io.ReadAll(stdin)
		if err != nil {
			return "<stdin>", nil, fmt.Errorf("reading standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err = os.ReadFile(f)
	return f, data, err
}

// parseRun is one run of the parse command.
type parseRun struct {
	opts parseOptions
	sio  stdio
	enc  *json.Encoder // nil for human output
}

// fixLineEnds turns LF line ends into CRLF when data has LFs but no CR at
// all (a hand-written file, the RFC 5118 archive). The header section is
// always converted. A datagram's body is kept as it is when its
// Content-Length counts it with bare LFs (RFC 5118 ipv4-mapped-ipv6: such
// a Content-Length was computed before any conversion); otherwise it is
// converted too.
func (p *parseRun) fixLineEnds(name string, data []byte) []byte {
	n := bytes.Count(data, []byte{'\n'})
	if n == 0 || bytes.IndexByte(data, '\r') >= 0 {
		return data
	}
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte{'\n'}, []byte{'\r', '\n'}) }
	if e := bytes.Index(data, []byte("\n\n")); e > 0 && !p.opts.stream {
		head, body := data[:e+2], data[e+2:]
		if nb := bytes.Count(body, []byte{'\n'}); nb > 0 {
			fixed := append(crlf(head), body...)
			if m, _ := message.Parse(fixed, nil); m != nil && m.ContentLength() == len(body) {
				fmt.Fprintf(p.sio.err, "sansip parse: %s: no CR in the input: turned the %d bare LF line ends of the header section into CRLF; kept the body's %d LFs, which its Content-Length counts\n", name, n-nb, nb)
				return fixed
			}
		}
	}
	fmt.Fprintf(p.sio.err, "sansip parse: %s: no CR in the input: turned its %d bare LF line ends into CRLF\n", name, n)
	return crlf(data)
}

// result is what the parse command found about one message.
type result struct {
	file   string
	offset int    // the message's offset in the stream; -1 for a datagram
	src    []byte // the bytes parsed, for line numbers
	msg    *message.Message
	err    error // from parsing; nil if it parsed
	verr   error // from Validate, when it parsed
	// resp is the response a server would send to an invalid message; nil
	// when it would drop the message.
	resp     *message.Message
	trailing int // octets after the message that were ignored
}

// bad returns the error that makes the message invalid, or nil.
func (r *result) bad() error {
	if r.err != nil {
		return r.err
	}
	return r.verr
}

func (r *result) status() int {
	if r.bad() != nil {
		return exitInvalid
	}
	return exitOK
}

// check validates a parsed message and works out the server's answer.
func (r *result) check() {
	if r.msg != nil && r.err == nil {
		r.verr = r.msg.Validate()
	}
	if err := r.bad(); err != nil {
		if resp, ok := message.ErrorResponse(r.msg, err, ident.Seeded(1)); ok {
			r.resp = resp
		}
	}
}

// datagram parses data as one UDP datagram.
func (p *parseRun) datagram(name string, data []byte) int {
	if len(data) == 0 {
		p.event(name, -1, "empty", "empty input: no message")
		return exitInvalid
	}
	m, err := message.Parse(data, nil)
	if m == nil && errors.Is(err, parser.ErrKeepAlive) {
		p.event(name, -1, "keepalive", "CRLFs only: a keep-alive, no message")
		return exitOK
	}
	r := &result{file: name, offset: -1, src: data, msg: m, err: err}
	if err == nil {
		// The octets after the message, ignored (RFC 4475 dblreq).
		r.trailing = m.Trailing()
	}
	r.check()
	p.show(r)
	return r.status()
}

// chunkSizes are the sizes in which --stream writes an input to the
// framer, in turn, so that messages and keep-alives straddle writes.
var chunkSizes = [...]int{1, 2, 3, 4, 5, 6, 7}

// stream frames data as a byte stream.
func (p *parseRun) stream(name string, data []byte) int {
	f := parser.Framer{Outbound: p.opts.outbound}
	status := exitOK
	written, messages, keepAlives := 0, 0, 0
	for k := 0; written < len(data); k++ {
		n := min(chunkSizes[k%len(chunkSizes)], len(data)-written)
		f.Write(data[written : written+n])
		written += n
		for {
			fr, err := f.Next()
			at := written - f.Buffered() // the stream offset just past the frame
			if err != nil {
				p.framingError(name, at, err, data)
				return exitInvalid
			}
			switch fr.Kind {
			case parser.None:
			case parser.Ping, parser.Pong:
				keepAlives++
				size, what := 4, "ping (CRLF CRLF): the server answers with a pong"
				if fr.Kind == parser.Pong {
					size, what = 2, "pong (CRLF): the answer to our ping"
				}
				p.event(name, at-size, fr.Kind.String(), what)
				continue
			case parser.Message:
				messages++
				m, err := message.ParseStream(fr.Data, &f.Limits)
				r := &result{file: name, offset: at - len(fr.Data), src: bytes.Clone(fr.Data), msg: m, err: err}
				r.check()
				p.show(r)
				status = max(status, r.status())
				continue
			}
			break
		}
	}
	left := f.Buffered()
	if left > 0 && len(bytes.Trim(data[len(data)-left:], "\r\n")) > 0 {
		status = max(status, exitInvalid)
	}
	p.streamEnd(name, messages, keepAlives, data[len(data)-left:])
	return status
}

// --- human output ---

// show prints one message.
func (p *parseRun) show(r *result) {
	if p.enc != nil {
		p.encode(jsonResult(r))
		return
	}
	w := p.sio.out
	m := r.msg
	where := r.file
	if r.offset >= 0 {
		where = fmt.Sprintf("%s @%d", r.file, r.offset)
	}
	switch {
	case m == nil:
		fmt.Fprintf(w, "%s: not a SIP message (%d bytes)\n", where, len(r.src))
	case m.IsRequest():
		fmt.Fprintf(w, "%s: %s request, %d bytes\n", where, m.Method(), len(r.src)-r.trailing)
	case m.StatusCode() == 0:
		fmt.Fprintf(w, "%s: response (no valid status code), %d bytes\n", where, len(r.src)-r.trailing)
	default:
		fmt.Fprintf(w, "%s: %d response, %d bytes\n", where, m.StatusCode(), len(r.src)-r.trailing)
	}
	if m != nil {
		fmt.Fprintf(w, "  %s\n", printable(m.StartLine()))
		if m.IsRequest() && m.RequestURI() != (uri.URI{}) {
			fmt.Fprintf(w, "      = %s\n", describeURI(m.RequestURI()))
		}
		for name, value := range m.Headers() {
			fmt.Fprintf(w, "  %s: %s\n", name, printable(value))
			vals, err := header.ParseAny(header.Lookup(name), name, value)
			if err != nil {
				fmt.Fprintf(w, "      ! %v\n", err)
				continue
			}
			for _, line := range describeValues(header.Lookup(name), vals) {
				fmt.Fprintf(w, "      = %s\n", line)
			}
		}
		fmt.Fprintf(w, "  %s\n", bodySummary(m, r.err))
	}
	if r.trailing > 0 {
		fmt.Fprintf(w, "  ignored %d trailing octets after the message (RFC 3261 §18.3)\n", r.trailing)
	}
	defer fmt.Fprintln(w)
	err := r.bad()
	if err == nil {
		fmt.Fprintf(w, "  valid\n")
		return
	}
	stage := "error"
	if r.err == nil {
		stage = "invalid (Validate)"
	}
	fmt.Fprintf(w, "  %s: %s\n", stage, describeError(err, r.src))
	var pe *parser.Error
	if errors.As(err, &pe) && pe.Cause != nil {
		fmt.Fprintf(w, "      cause: %v\n", pe.Cause)
	}
	fmt.Fprintf(w, "  response: %s\n", responseSummary(r))
}

// event prints something that is not a message: a keep-alive, an empty
// input.
func (p *parseRun) event(file string, offset int, kind, what string) {
	if p.enc != nil {
		ev := jsonEvent{File: file, Kind: kind, Note: what}
		if offset >= 0 {
			ev.Offset = &offset
		}
		p.encode(ev)
		return
	}
	if offset >= 0 {
		fmt.Fprintf(p.sio.out, "%s @%d: %s\n", file, offset, what)
	} else {
		fmt.Fprintf(p.sio.out, "%s: %s\n", file, what)
	}
}

// framingError reports a framing error that ends a stream. at is the
// stream offset of the bytes not framed yet, which the error is about.
func (p *parseRun) framingError(file string, at int, err error, data []byte) {
	rest := data[at:]
	preview := string(rest[:min(len(rest), 24)])
	if p.enc != nil {
		je := jsonErr(err, "framing", nil)
		je.Line, je.Column = 0, 0
		p.encode(jsonEvent{File: file, Kind: "framing-error", Offset: &at, Error: je, Note: "unframed bytes start: " + preview})
		return
	}
	w := p.sio.out
	fmt.Fprintf(w, "%s @%d: framing error, the stream cannot go on\n", file, at)
	fmt.Fprintf(w, "  error: %v\n", err)
	fmt.Fprintf(w, "  unframed bytes from stream offset %d: %+q\n", at, preview)
	fmt.Fprintf(w, "  response: none: close the connection\n\n")
}

// streamEnd reports the end of a stream and the bytes left in the framer.
func (p *parseRun) streamEnd(file string, messages, keepAlives int, left []byte) {
	if p.enc != nil {
		n := len(left)
		p.encode(jsonEvent{File: file, Kind: "end", Messages: &messages, KeepAlives: &keepAlives, Leftover: &n})
		return
	}
	w := p.sio.out
	fmt.Fprintf(w, "%s: end of stream: %d message(s), %d keep-alive(s)", file, messages, keepAlives)
	switch {
	case len(left) == 0:
		fmt.Fprintf(w, ", nothing left over\n")
	case len(bytes.Trim(left, "\r\n")) == 0:
		fmt.Fprintf(w, ", %d byte(s) of CRLF left over\n", len(left))
	default:
		fmt.Fprintf(w, ", %d byte(s) left over: the stream ends inside a message\n", len(left))
	}
}

func (p *parseRun) encode(v any) {
	if err := p.enc.Encode(v); err != nil {
		fmt.Fprintf(p.sio.err, "sansip parse: %v\n", err)
	}
}

// bodySummary describes the body: length, type, first line.
func bodySummary(m *message.Message, err error) string {
	body := m.Body()
	var b strings.Builder
	ct, hasCT := m.Get("Content-Type")
	if len(body) == 0 {
		if !bodyRead(err) || m.ContentLength() > 0 {
			b.WriteString("body: not read (where the message ends is unknown)")
		} else {
			b.WriteString("body: none")
		}
		if hasCT {
			fmt.Fprintf(&b, "; Content-Type %s", ct)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "body: %d bytes", len(body))
	if hasCT {
		fmt.Fprintf(&b, " of %s", ct)
	}
	if m.ContentLength() < 0 {
		b.WriteString(" (no Content-Length: the rest of the datagram)")
	}
	if isBinary(body) {
		b.WriteString(", binary (NUL or non-UTF-8 octets)")
		return b.String()
	}
	lines := strings.Count(body, "\n")
	if !strings.HasSuffix(body, "\n") {
		lines++
	}
	first, _, _ := strings.Cut(body, "\n")
	fmt.Fprintf(&b, ", %d line(s), first: %q", lines, strings.TrimSuffix(first, "\r"))
	return b.String()
}

// bodyRead reports whether parsing got as far as the body despite err.
func bodyRead(err error) bool {
	return !errors.Is(err, parser.ErrLimit) && !errors.Is(err, parser.ErrContentLength) &&
		!errors.Is(err, parser.ErrTruncated) && !errors.Is(err, parser.ErrNoEnd)
}

func isBinary(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// describeError says what is wrong, where.
func describeError(err error, src []byte) string {
	var le *parser.LimitError
	if errors.As(err, &le) {
		return fmt.Sprintf("%v: %s is %d, got %d", parser.ErrLimit, le.Limit, le.Max, le.Got)
	}
	var pe *parser.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	s := pe.Err.Error()
	if pe.Header != "" {
		s += " in " + pe.Header
	}
	line, col := lineCol(src, pe.Offset)
	return s + fmt.Sprintf(" at offset %d (line %d, column %d)", pe.Offset, line, col)
}

// lineCol returns the 1-based line and column (in bytes) of offset off.
func lineCol(src []byte, off int) (line, col int) {
	off = max(0, min(off, len(src)))
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	return line, off - bytes.LastIndexByte(src[:off], '\n')
}

// responseSummary says what a server answers.
func responseSummary(r *result) string {
	if r.resp != nil {
		return fmt.Sprintf("%d %s", r.resp.StatusCode(), r.resp.Reason())
	}
	return "none (drop)" + dropReason(r)
}

// dropReason explains the evident cases of a message that is dropped.
func dropReason(r *result) string {
	switch {
	case r.msg == nil:
		return ": nothing to answer"
	case r.msg.IsResponse():
		return ": a response is never answered"
	case r.msg.Method() == "ACK":
		return ": an ACK is never answered"
	}
	return ": no usable Via or CSeq to answer"
}

// printable escapes control characters (a NUL in RFC 4475 intmeth) so that
// they do not garble a terminal; anything else is shown as it is.
func printable(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 0x20 || c == '\t') && c != 0x7f {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+8), s[:i]...)
		}
		b = fmt.Appendf(b, "\\x%02x", c)
	}
	if b == nil {
		return s
	}
	return string(b)
}
