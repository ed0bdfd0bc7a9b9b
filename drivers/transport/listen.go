package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/sansip/sansip/effects"
)

// ListenTCP accepts TCP connections on addr ("127.0.0.1:5060",
// "[::1]:0", ":5060") and returns the bound address.
func (t *Transport) ListenTCP(addr string) (netip.AddrPort, error) {
	return t.listenStream(addr, effects.TCP)
}

// ListenTLS accepts TLS connections on addr with Config.TLS and returns
// the bound address. The handshake runs on the connection's goroutine,
// bounded by DialTimeout.
func (t *Transport) ListenTLS(addr string) (netip.AddrPort, error) {
	if t.cfg.TLS == nil {
		return netip.AddrPort{}, fmt.Errorf("transport: listen tls %s: no Config.TLS", addr)
	}
	return t.listenStream(addr, effects.TLS)
}

func (t *Transport) listenStream(addr string, tr effects.Transport) (netip.AddrPort, error) {
	ln, err := t.listen(addr, tr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	go t.acceptLoop(ln, tr)
	return addrPortOf(ln.Addr()), nil
}

// listen opens a TCP listener and adds it to the ones Shutdown closes,
// counting the goroutine that will serve it.
func (t *Transport) listen(addr string, tr effects.Transport) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %v %s: %w", tr, addr, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		ln.Close()
		return nil, fmt.Errorf("transport: listen %v %s: %w", tr, addr, ErrClosed)
	}
	t.listeners = append(t.listeners, ln)
	t.wg.Add(1)
	t.log.Info("listening", "transport", tr.String(), "addr", ln.Addr().String())
	return ln, nil
}

// acceptLoop accepts connections until the listener closes.
func (t *Transport) acceptLoop(ln net.Listener, tr effects.Transport) {
	defer t.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little.
			t.log.Warn("accept", "transport", tr.String(), "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		t.accept(nc, tr)
	}
}

// accept starts serving an accepted connection, or closes it when MaxConns
// are open.
func (t *Transport) accept(nc net.Conn, tr effects.Transport) {
	peer := effects.Peer{Addr: addrPortOf(nc.RemoteAddr()), Transport: tr}
	if tr == effects.TLS {
		nc = tls.Server(nc, t.cfg.TLS)
	}
	c, err := t.register(peer, nc, false, false)
	if err != nil {
		t.log.Warn("connection refused", "peer", peer, "err", err)
		nc.Close()
		return
	}
	go c.run()
}
