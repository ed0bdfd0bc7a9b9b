//go:build !(linux && (amd64 || arm64))

package transport

import "net"

// rawUDP reports whether this platform has rawIO: it has not.
const rawUDP = false

// newRawIO returns nil: golang.org/x/net's batch I/O serves here.
func newRawIO(*net.UDPConn, bool) datagramIO { return nil }
