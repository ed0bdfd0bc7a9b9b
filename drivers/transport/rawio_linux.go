//go:build linux && (amd64 || arm64)

package transport

import (
	"net"
	"net/netip"
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
	uc *net.UDPConn
	rc syscall.RawConn
	v4 bool // an IPv4 socket: sockaddr_in; otherwise sockaddr_in6

	// The reader's headers; only the reader goroutine uses them.
	rh   []mmsghdr
	riov []syscall.Iovec
	rsa  []syscall.RawSockaddrInet6 // room for either family

	wmu  sync.Mutex // guards the writers' headers
	wh   []mmsghdr
	wiov []syscall.Iovec
	wsa  []syscall.RawSockaddrInet6
}

func newRawIO(uc *net.UDPConn, v4 bool) datagramIO {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawIO{uc: uc, rc: rc, v4: v4}
}

func (r *rawIO) close() error { return r.uc.Close() }

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
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			v, _, e := syscall.RawSyscall6(sysRECVMMSG, fd, uintptr(unsafe.Pointer(&r.rh[0])), uintptr(len(bufs)), 0, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(v), e
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
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
	var n int
	var errno syscall.Errno
	err := r.rc.Write(func(fd uintptr) bool {
		for {
			v, _, e := syscall.RawSyscall6(sysSENDMMSG, fd, uintptr(unsafe.Pointer(&r.wh[0])), uintptr(len(out)), 0, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // the send buffer is full: wait for room
			}
			n, errno = int(v), e
			return true
		}
	})
	for i := range out {
		r.wiov[i].Base = nil // hold no caller's buffer
	}
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

func (r *rawIO) writeTo(to netip.AddrPort, data []byte) error {
	var sa syscall.RawSockaddrInet6
	salen := r.sockaddr(&sa, to)
	var errno syscall.Errno
	err := r.rc.Write(func(fd uintptr) bool {
		for {
			_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(data))), uintptr(len(data)), 0, uintptr(unsafe.Pointer(&sa)), uintptr(salen))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			errno = e
			return true
		}
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(to), Err: errno}
	}
	return nil
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
