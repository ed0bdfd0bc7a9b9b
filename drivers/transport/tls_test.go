package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"testing"

	"github.com/sansip/sansip/effects"
)

// TestTLS: a client that trusts the test CA talks to a server holding a
// certificate for 127.0.0.1 it signed, both ways on one connection.
func TestTLS(t *testing.T) {
	pk := newPKI(t)
	b, bs := start(t, Config{TLS: &pk.server})
	bAddr := must[netip.AddrPort](t)(b.ListenTLS("127.0.0.1:0"))
	a, as := start(t, Config{ClientTLS: &tls.Config{RootCAs: pk.roots}})

	to := effects.Peer{Addr: bAddr, Transport: effects.TLS}
	if err := a.Send(to, sipMsg(1)); err != nil {
		t.Fatal(err)
	}
	p := bs.next(t)
	if !bytes.Equal(p.Data, sipMsg(1)) || p.From.Transport != effects.TLS || p.From.Conn == 0 {
		t.Fatalf("b got %q from %v", p.Data, p.From)
	}
	b.Send(p.From, sipMsg(2))
	if r := as.next(t); !bytes.Equal(r.Data, sipMsg(2)) || r.From.Addr != bAddr || r.From.Transport != effects.TLS {
		t.Fatalf("a got %q from %v", r.Data, r.From)
	}
	// A ping on TLS, and the dialled connection's pong.
	a.Send(to, []byte("\r\n\r\n"))
	if p := bs.next(t); !p.Ping {
		t.Fatalf("want a ping, got %+v", p)
	}
	b.Send(p.From, []byte("\r\n"))
	if r := as.next(t); !r.Pong {
		t.Fatalf("want a pong, got %+v", r)
	}
	if s := a.Stats(); s.ConnsDialled != 1 || s.Of(effects.TLS).MsgsIn != 1 || s.Of(effects.TLS).KeepAlives != 1 {
		t.Errorf("a stats %+v", s)
	}
}

// TestTLSUntrusted: certificates are verified by default; a server whose CA
// the client does not trust is refused, and the failure says why.
func TestTLSUntrusted(t *testing.T) {
	pk, other := newPKI(t), newPKI(t)
	b, bs := start(t, Config{TLS: &pk.server})
	bAddr := must[netip.AddrPort](t)(b.ListenTLS("127.0.0.1:0"))
	to := effects.Peer{Addr: bAddr, Transport: effects.TLS}

	for _, cfg := range []*tls.Config{nil, {RootCAs: other.roots}} {
		a, as := start(t, Config{ClientTLS: cfg})
		if err := a.Send(to, sipMsg(1)); err != nil {
			t.Fatal(err)
		}
		e := as.closed(t)
		var unknown x509.UnknownAuthorityError
		if !errors.Is(e.err, ErrHandshake) || !errors.As(e.err, &unknown) {
			t.Fatalf("client closed with %v", e.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		_, err := a.Dial(ctx, to)
		cancel()
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("Dial: %v", err)
		}
		as.closed(t)
		bs.closed(t) // the server saw both handshakes fail
		bs.closed(t)
	}

	// The name checked is the one ServerName gives.
	a, as := start(t, Config{ClientTLS: &tls.Config{RootCAs: pk.roots},
		ServerName: func(effects.Peer) string { return "other.test" }})
	a.Send(to, sipMsg(1))
	var host x509.HostnameError
	if e := as.closed(t); !errors.As(e.err, &host) {
		t.Fatalf("wrong name: %v", e.err)
	}
}
