package parser

import (
	"bytes"
	"unsafe"

	"github.com/sansip/sansip/internal/abnf"
)

// Kind says what a Frame holds.
type Kind uint8

const (
	// None: no complete frame is buffered yet; write more bytes.
	None Kind = iota
	// Message: Data is one complete SIP message, framed by its
	// Content-Length; parse it in Stream mode.
	Message
	// Ping: a double-CRLF keep-alive ping (RFC 5626 §4.4.1) arrived; the
	// receiver answers with a single CRLF (a pong).
	Ping
	// Pong: a single-CRLF keep-alive pong arrived, in answer to our ping.
	Pong
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Message:
		return "message"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	}
	return "none"
}

// Frame is one unit the Framer found in a stream.
type Frame struct {
	Kind Kind
	// Data is the message's bytes for a Message frame. It refers to the
	// Framer's buffer and stays valid only until the next Write.
	Data []byte
}

// Framer splits a TCP, TLS or WebSocket-carried byte stream into SIP
// messages by their Content-Length (RFC 3261 §18.3), and reports CRLF
// keep-alives (RFC 5626 §4.4.1). Bytes may arrive in chunks of any size,
// one byte at a time included; the frames found do not depend on how the
// stream was cut.
//
// On a connection that this side accepted (the default), a double CRLF
// between messages is a Ping and a lone CRLF is ignored (RFC 3261 §7.5). On
// a connection this side opened (Outbound), each CRLF between messages is a
// Pong, the server's answer to our ping.
//
// A framing error (an invalid, negative, missing or repeated Content-Length,
// an oversize message, bytes that cannot start a message; its Offset counts
// from the start of the frame being read)
// is returned by Next and sticks: the connection cannot be
// resynchronised and the driver closes it.
//
// The zero value is ready to use, with DefaultLimits and inbound keep-alive
// rules.
type Framer struct {
	// Limits bound the messages; zero fields take their defaults.
	Limits Limits
	// Outbound is set on connections this side opened.
	Outbound bool

	buf     []byte
	off     int // start of unconsumed bytes
	scanned int // bytes of buf[off:] already searched for the end of headers
	total   int // size of the message at buf[off:] once its headers are read
	err     error
}

// Write appends p to the stream. It never fails until a framing error has
// been found; after that it returns that error. The driver calls Next after
// each Write until it returns None.
func (f *Framer) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.off > 0 && (f.off == len(f.buf) || f.off > cap(f.buf)/2) {
		n := copy(f.buf, f.buf[f.off:])
		f.buf = f.buf[:n]
		f.off = 0
	}
	f.buf = append(f.buf, p...)
	return len(p), nil
}

// Buffered returns how many bytes are waiting to be framed.
func (f *Framer) Buffered() int { return len(f.buf) - f.off }

// Err returns the framing error, if one was found.
func (f *Framer) Err() error { return f.err }

// Next returns the next frame, or a Frame of Kind None when more bytes are
// needed.
func (f *Framer) Next() (Frame, error) {
	if f.err != nil {
		return Frame{}, f.err
	}
	l := f.Limits.resolve()
	for {
		data := f.buf[f.off:]
		if len(data) == 0 {
			return Frame{}, nil
		}
		if data[0] == '\r' || data[0] == '\n' {
			k, n, err := f.keepAlive(data)
			if err != nil {
				return Frame{}, f.fail(err)
			}
			if n == 0 {
				return Frame{}, nil
			}
			f.off += n
			f.scanned = 0
			if k == None {
				continue
			}
			return Frame{Kind: k}, nil
		}
		if f.total == 0 {
			from := f.scanned - 3
			if from < 0 {
				from = 0
			}
			e := bytes.Index(data[from:], crlfcrlf)
			if e < 0 {
				f.scanned = len(data)
				if len(data) > l.MaxMessageSize {
					return Frame{}, f.fail(&LimitError{Limit: "MaxMessageSize", Max: l.MaxMessageSize, Got: len(data)})
				}
				return Frame{}, nil
			}
			hend := from + e + 4
			cl, err := streamContentLength(data[:hend])
			if err != nil {
				return Frame{}, f.fail(err)
			}
			if cl > l.MaxBodySize {
				return Frame{}, f.fail(&LimitError{Limit: "MaxBodySize", Max: l.MaxBodySize, Got: cl})
			}
			if hend+cl > l.MaxMessageSize {
				return Frame{}, f.fail(&LimitError{Limit: "MaxMessageSize", Max: l.MaxMessageSize, Got: hend + cl})
			}
			f.total = hend + cl
		}
		if len(data) < f.total {
			return Frame{}, nil
		}
		total := f.total
		f.off += total
		f.scanned, f.total = 0, 0
		return Frame{Kind: Message, Data: data[:total:total]}, nil
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// keepAlive classifies CRLFs at a message boundary. It returns how many
// bytes they take (0: wait for more) and what they are (None: ignored).
func (f *Framer) keepAlive(data []byte) (Kind, int, error) {
	if data[0] != '\r' {
		return None, 0, &Error{Err: ErrStartLine, Offset: 0}
	}
	if len(data) < 2 {
		return None, 0, nil
	}
	if data[1] != '\n' {
		return None, 0, &Error{Err: ErrStartLine, Offset: 1}
	}
	if f.Outbound {
		return Pong, 2, nil
	}
	switch {
	case len(data) < 3:
		return None, 0, nil
	case data[2] != '\r':
		return None, 2, nil // a stray CRLF before a start line
	case len(data) < 4:
		return None, 0, nil
	case data[3] == '\n':
		return Ping, 4, nil
	}
	return None, 0, &Error{Err: ErrStartLine, Offset: 3}
}

func (f *Framer) fail(err error) error {
	f.err = err
	return err
}

// streamContentLength finds the one Content-Length field of a header
// section (start line to the empty line) and returns its value.
func streamContentLength(hdr []byte) (int, error) {
	s := unsafe.String(unsafe.SliceData(hdr), len(hdr))
	n := -1
	// Skip the start line.
	i := bytes.IndexByte(hdr, '\n') + 1
	for i < len(s) {
		e := i
		for {
			k := bytes.IndexByte(hdr[e:], '\n')
			if k < 0 {
				e = len(s)
				break
			}
			e += k + 1
			if e >= len(s) || (s[e] != ' ' && s[e] != '\t') {
				break
			}
		}
		line := s[i:e]
		i = e
		colon := -1
		for k := 0; k < len(line); k++ {
			if line[k] == ':' {
				colon = k
				break
			}
		}
		if colon < 0 {
			continue
		}
		name := abnf.TrimLWS(line[:colon])
		if !abnf.EqualFold(name, "content-length") && !abnf.EqualFold(name, "l") {
			continue
		}
		v, ok := abnf.ParseUint(abnf.TrimLWS(line[colon+1:]), 1<<31-1)
		if !ok {
			return 0, &Error{Err: ErrContentLength, Header: "Content-Length", Offset: i - len(line) + abnf.SkipLWS(line, colon+1)}
		}
		if n >= 0 {
			return 0, &Error{Err: ErrContentLength, Header: "Content-Length", Offset: i - len(line), Cause: ErrMultipleValues}
		}
		n = int(v)
	}
	if n < 0 {
		return 0, &Error{Err: ErrContentLength, Header: "Content-Length", Offset: 0, Cause: ErrMissingHeader}
	}
	return n, nil
}
