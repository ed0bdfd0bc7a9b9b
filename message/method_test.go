package message

import (
	"testing"
	"unsafe"
)

// InternMethod gives a method that refers to no message: a standard one is
// the package's constant, another a copy; StandardMethod agrees on the list.
func TestInternMethod(t *testing.T) {
	src := "INVITE sip:bob@example.com SIP/2.0\r\nCSeq: 1 FOO\r\n"
	for _, c := range []struct {
		method   string
		standard bool
	}{{src[:6], true}, {src[len(src)-5 : len(src)-2], false}} {
		got := InternMethod(c.method)
		if got != c.method {
			t.Fatalf("InternMethod(%q) = %q", c.method, got)
		}
		if unsafe.StringData(got) == unsafe.StringData(c.method) {
			t.Errorf("InternMethod(%q) still refers to the message", c.method)
		}
		if StandardMethod(c.method) != c.standard {
			t.Errorf("StandardMethod(%q) = %v", c.method, !c.standard)
		}
	}
}
