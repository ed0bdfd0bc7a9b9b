package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func msgWithBody(body string) string {
	return "MESSAGE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP h;branch=z9hG4bK1\r\n" +
		"l: " + fmt.Sprint(len(body)) + "\r\n" +
		"\r\n" + body
}

// frames feeds s to f in chunks of the given sizes (cycled) and collects
// every frame, rendering them as "msg:<bytes>", "ping", "pong".
func frames(f *Framer, s string, chunks []int) ([]string, error) {
	var out []string
	k := 0
	for len(s) > 0 {
		n := chunks[k%len(chunks)]
		k++
		if n > len(s) {
			n = len(s)
		}
		if _, err := f.Write([]byte(s[:n])); err != nil {
			return out, err
		}
		s = s[n:]
		for {
			fr, err := f.Next()
			if err != nil {
				return out, err
			}
			if fr.Kind == None {
				break
			}
			if fr.Kind == Message {
				out = append(out, "msg:"+string(fr.Data))
			} else {
				out = append(out, fr.Kind.String())
			}
		}
	}
	return out, nil
}

func TestFramerSplits(t *testing.T) {
	a, b := msgWithBody("hello"), msgWithBody("body with\r\n\r\nan empty line inside")
	c := msgWithBody("")
	stream := a + "\r\n\r\n" + b + "\r\n" + c
	want := []string{"msg:" + a, "ping", "msg:" + b, "msg:" + c}
	for _, chunks := range [][]int{{len(stream)}, {1}, {2}, {3}, {7}, {1, 5, 2, 11}, {64}} {
		var f Framer
		got, err := frames(&f, stream, chunks)
		if err != nil {
			t.Fatalf("chunks %v: %v", chunks, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("chunks %v: got %q, want %q", chunks, got, want)
		}
		if f.Buffered() != 0 {
			t.Errorf("chunks %v: %d bytes left", chunks, f.Buffered())
		}
	}
}

// RFC 5626 §4.4.1: the client pings with CRLFCRLF, the server answers CRLF.
func TestFramerKeepAlive(t *testing.T) {
	tests := []struct {
		name     string
		outbound bool
		stream   string
		want     string
	}{
		{"ping", false, "\r\n\r\n", "ping"},
		{"two pings", false, "\r\n\r\n\r\n\r\n", "ping|ping"},
		{"stray CRLF before a message (RFC 3261 §7.5)", false, "\r\n" + msgWithBody("x"), "msg"},
		{"pong on an outbound connection", true, "\r\n", "pong"},
		{"pongs then a message", true, "\r\n\r\n" + msgWithBody("x"), "pong|pong|msg"},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 100} {
			f := Framer{Outbound: tc.outbound}
			got, err := frames(&f, tc.stream, []int{chunk})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for i := range got {
				if strings.HasPrefix(got[i], "msg:") {
					got[i] = "msg"
				}
			}
			if strings.Join(got, "|") != tc.want {
				t.Errorf("%s (chunk %d): %q, want %q", tc.name, chunk, got, tc.want)
			}
		}
	}
	// A lone CRLF on an inbound connection waits for what follows.
	var f Framer
	f.Write([]byte("\r\n"))
	if fr, err := f.Next(); err != nil || fr.Kind != None {
		t.Errorf("lone CRLF: %v %v", fr.Kind, err)
	}
}

func TestFramerErrors(t *testing.T) {
	head := "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n"
	tests := []struct {
		name   string
		stream string
		lim    Limits
		want   error
	}{
		{"no Content-Length", head + "\r\n", Limits{}, ErrContentLength},
		{"negative (RFC 4475 ncl)", head + "Content-Length: -999\r\n\r\n", Limits{}, ErrContentLength},
		{"not a number", head + "Content-Length: ten\r\n\r\n", Limits{}, ErrContentLength},
		{"two values (RFC 4475 mcl01)", head + "Content-Length: 13\r\nContent-Length: 5\r\n\r\n", Limits{}, ErrContentLength},
		{"body over the limit", head + "Content-Length: 100\r\n\r\n", Limits{MaxBodySize: 50}, ErrLimit},
		{"message over the limit", head + "Content-Length: 40\r\n\r\n", Limits{MaxMessageSize: 80}, ErrLimit},
		{"header section never ends", head + strings.Repeat("X-Long: yyyyyyyyyyyy\r\n", 20), Limits{MaxMessageSize: 200}, ErrLimit},
		{"garbage at a boundary", "\r\x00", Limits{}, ErrStartLine},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Framer{Limits: tc.lim}
			_, err := frames(&f, tc.stream, []int{3})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			// The error sticks: the connection cannot be resynchronised.
			if _, werr := f.Write([]byte("x")); werr != err {
				t.Errorf("Write after error: %v", werr)
			}
			if _, nerr := f.Next(); nerr != err || f.Err() != err {
				t.Errorf("Next after error: %v", nerr)
			}
		})
	}
}

// A Content-Length larger than what arrived never allocates for the
// announced size: the framer only holds the bytes that came.
func TestFramerNoTrustInLength(t *testing.T) {
	var f Framer
	f.Limits.MaxBodySize = 1 << 30
	f.Limits.MaxMessageSize = 1 << 30
	stream := "INVITE sip:b@h SIP/2.0\r\nContent-Length: 1000000000\r\n\r\nabc"
	got, err := frames(&f, stream, []int{len(stream)})
	if err != nil || len(got) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	if cap(f.buf) > 4*len(stream) {
		t.Errorf("buffer grew to %d for %d bytes", cap(f.buf), len(stream))
	}
}

func BenchmarkFramer(b *testing.B) {
	s := []byte(msgWithBody("hello world"))
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	var f Framer
	for b.Loop() {
		f.Write(s)
		if fr, err := f.Next(); err != nil || fr.Kind != Message {
			b.Fatal(fr.Kind, err)
		}
	}
}
