//go:build linux && (amd64 || arm64)

package transport

import (
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// rawUDP reports whether this platform has rawIO.
const rawUDP = true

// mmsghdr is struct mmsghdr of <sys/socket.h> on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// rawIO is a datagramIO that issues recvmmsg, sendmmsg and sendto as raw
// system calls (syscall.RawSyscall6) on the socket's descriptor, which the
// runtime keeps non-blocking: a call that would block returns EAGAIN at
// once, and the goroutine then waits for readiness in the runtime's poller
// (syscall.RawConn). A raw call does not tell the scheduler it entered the
// kernel, so it neither wakes the scheduler's monitor thread (sysmon) nor
// lets it hand the goroutine's processor to another thread; that is sound
// only because these calls never block.
type rawIO struct {
	rc syscall.RawConn
	v4 bool // an IPv4 socket: sockaddr_in; otherwise sockaddr_in6

	// The reader's headers and call; only the reader goroutine uses them.
	rh   []mmsghdr
	riov []syscall.Iovec
	rsa  []syscall.RawSockaddrInet6 // room for either family
	rop  *rawOp

	wmu  sync.Mutex // guards the writers' headers and call
	wh   []mmsghdr
	wiov []syscall.Iovec
	wsa  []syscall.RawSockaddrInet6
	wop  *rawOp
}

// rawOp is one system call on the socket, with its arguments after the
// descriptor and its outcome, made ready once so that issuing it through
// the RawConn allocates nothing (a closure per call would). Its pointer
// arguments point into the rawIO's headers, which live on the heap (Go's
// heap does not move) as long as the rawIO.
type rawOp struct {
	trap, a1, a2, a3, a4, a5 uintptr
	res                      uintptr
	errno                    syscall.Errno
	run                      func(fd uintptr) bool // do, bound once
}

func newRawOp() *rawOp {
	op := new(rawOp)
	op.run = op.do
	return op
}

// do makes the call, again after EINTR; it reports false on EAGAIN, so
// that the RawConn waits for the socket and calls again.
func (op *rawOp) do(fd uintptr) bool {
	for {
		v, _, e := syscall.RawSyscall6(op.trap, fd, op.a1, op.a2, op.a3, op.a4, op.a5)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		op.res, op.errno = v, e
		return true
	}
}

// issue makes the call through wait (the RawConn's Read or Write) and
// returns its result, or the error of the wait (the socket closed) or of
// the call.
func (op *rawOp) issue(wait func(func(fd uintptr) bool) error) (int, error) {
	op.res, op.errno = 0, 0
	if err := wait(op.run); err != nil {
		return 0, err
	}
	if op.errno != 0 {
		return 0, op.errno
	}
	return int(op.res), nil
}

func newRawIO(uc *net.UDPConn, v4 bool) datagramIO {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawIO{rc: rc, v4: v4, rop: newRawOp(), wop: newRawOp()}
}

func (r *rawIO) readBatch(bufs [][]byte, got []datagram) (int, error) {
	if len(r.rh) != len(bufs) {
		r.rh = make([]mmsghdr, len(bufs))
		r.riov = make([]syscall.Iovec, len(bufs))
		r.rsa = make([]syscall.RawSockaddrInet6, len(bufs))
	}
	for i, b := range bufs {
		r.riov[i].Base = unsafe.SliceData(b)
		r.riov[i].SetLen(len(b))
		h := &r.rh[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.rsa[i]))
		h.Namelen = syscall.SizeofSockaddrInet6
		h.Iov = &r.riov[i]
		h.Iovlen = 1
	}
	op := r.rop
	op.trap, op.a1, op.a2 = sysRECVMMSG, uintptr(unsafe.Pointer(&r.rh[0])), uintptr(len(bufs))
	n, err := op.issue(r.rc.Read)
	if err != nil {
		return 0, err
	}
	for i := range n {
		got[i] = datagram{n: int(r.rh[i].n)}
		got[i].from, got[i].ok = fromSockaddr(&r.rsa[i], r.rh[i].hdr.Namelen)
	}
	return n, nil
}

func (r *rawIO) writeBatch(out []Outgoing) (int, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if len(r.wh) < len(out) {
		r.wh = make([]mmsghdr, len(out))
		r.wiov = make([]syscall.Iovec, len(out))
		r.wsa = make([]syscall.RawSockaddrInet6, len(out))
	}
	for i := range out {
		h := &r.wh[i].hdr
		h.Namelen = r.sockaddr(&r.wsa[i], out[i].To.Addr)
		h.Name = (*byte)(unsafe.Pointer(&r.wsa[i]))
		r.wiov[i].Base = unsafe.SliceData(out[i].Data)
		r.wiov[i].SetLen(len(out[i].Data))
		h.Iov = &r.wiov[i]
		h.Iovlen = 1
	}
	op := r.wop
	op.trap, op.a1, op.a2, op.a3, op.a4, op.a5 = sysSENDMMSG, uintptr(unsafe.Pointer(&r.wh[0])), uintptr(len(out)), 0, 0, 0
	n, err := op.issue(r.rc.Write)
	for i := range out {
		r.wiov[i].Base = nil // hold no caller's buffer
	}
	return n, err
}

func (r *rawIO) writeTo(to netip.AddrPort, data []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if len(r.wsa) == 0 {
		r.wsa = make([]syscall.RawSockaddrInet6, 1)
	}
	salen := r.sockaddr(&r.wsa[0], to)
	op := r.wop
	op.trap, op.a1, op.a2, op.a3 = syscall.SYS_SENDTO, uintptr(unsafe.Pointer(unsafe.SliceData(data))), uintptr(len(data)), 0
	op.a4, op.a5 = uintptr(unsafe.Pointer(&r.wsa[0])), uintptr(salen)
	_, err := op.issue(r.rc.Write)
	runtime.KeepAlive(data) // the call held only its address
	if errno, ok := err.(syscall.Errno); ok {
		return &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(to), Err: errno}
	}
	return err
}

// sockaddr encodes a as the socket's family wants it (an IPv4 address
// mapped into IPv6 for an IPv6 socket) and returns its length.
func (r *rawIO) sockaddr(sa *syscall.RawSockaddrInet6, a netip.AddrPort) uint32 {
	*sa = syscall.RawSockaddrInet6{}
	port := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
	port[0], port[1] = byte(a.Port()>>8), byte(a.Port())
	ip := a.Addr()
	if r.v4 {
		if ip = ip.Unmap(); !ip.Is4() {
			return 0 // no address: the kernel refuses the datagram
		}
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = syscall.AF_INET
		sa4.Addr = ip.As4()
		return syscall.SizeofSockaddrInet4
	}
	sa.Family = syscall.AF_INET6
	sa.Addr = ip.As16()
	sa.Scope_id = zoneIndex(ip.Zone())
	return syscall.SizeofSockaddrInet6
}

// fromSockaddr decodes a source address recvmmsg filled in.
func fromSockaddr(sa *syscall.RawSockaddrInet6, n uint32) (netip.AddrPort, bool) {
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p := uint16(port[0])<<8 | uint16(port[1])
	switch {
	case sa.Family == syscall.AF_INET && n >= syscall.SizeofSockaddrInet4:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), p), true
	case sa.Family == syscall.AF_INET6 && n >= syscall.SizeofSockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && ip.Is6() {
			ip = ip.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(ip, p), true
	}
	return netip.AddrPort{}, false
}

// zoneIndex returns the interface index an IPv6 zone names (a number or
// an interface name), 0 if none.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
