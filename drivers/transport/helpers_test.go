package transport

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
)

// wait bounds every wait of the tests.
const wait = 5 * time.Second

type closeEvent struct {
	id   effects.ConnID
	peer effects.Peer
	err  error
}

// sink collects what a Transport hands up.
type sink struct {
	packets chan Packet
	closes  chan closeEvent
}

func newSink() *sink {
	return &sink{packets: make(chan Packet, 4096), closes: make(chan closeEvent, 64)}
}

func (s *sink) handle(p Packet) {
	p.Data = bytes.Clone(p.Data)
	select {
	case s.packets <- p:
	default:
	}
}

func (s *sink) onClose(id effects.ConnID, peer effects.Peer, err error) {
	select {
	case s.closes <- closeEvent{id, peer, err}:
	default:
	}
}

func (s *sink) next(t testing.TB) Packet {
	t.Helper()
	select {
	case p := <-s.packets:
		return p
	case <-time.After(wait):
		t.Fatal("no packet")
	}
	return Packet{}
}

func (s *sink) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case p := <-s.packets:
		t.Fatalf("unexpected packet %+v", p)
	case <-time.After(d):
	}
}

func (s *sink) closed(t testing.TB) closeEvent {
	t.Helper()
	select {
	case e := <-s.closes:
		return e
	case <-time.After(wait):
		t.Fatal("no connection closed")
	}
	return closeEvent{}
}

// start returns a Transport whose packets and closes go to a sink; it is
// shut down when the test ends.
func start(t testing.TB, cfg Config) (*Transport, *sink) {
	t.Helper()
	s := newSink()
	cfg.Handler = s.handle
	cfg.OnClose = s.onClose
	tr := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return tr, s
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// sipMsg returns a small OPTIONS request numbered n.
func sipMsg(n int) []byte {
	return fmt.Appendf(nil, "OPTIONS sip:bob@example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK%d\r\nMax-Forwards: 70\r\n"+
		"To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=%d\r\n"+
		"Call-ID: %d@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", n, n, n)
}

// dialRaw opens a plain client connection to addr, closed when the test
// ends.
func dialRaw(t testing.TB, addr netip.AddrPort) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr.String(), wait)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(wait))
	t.Cleanup(func() { nc.Close() })
	return nc
}

// readN reads exactly n bytes from nc.
func readN(t testing.TB, nc net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := ioReadFull(nc, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func ioReadFull(nc net.Conn, b []byte) (int, error) {
	got := 0
	for got < len(b) {
		n, err := nc.Read(b[got:])
		got += n
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// pki is a CA and a server certificate for 127.0.0.1 and ::1 it signed.
type pki struct {
	server tls.Config
	roots  *x509.CertPool
}

func newPKI(t testing.TB) pki {
	t.Helper()
	caKey := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sansip test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER := must[[]byte](t)(x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey))
	caCert := must[*x509.Certificate](t)(x509.ParseCertificate(caDER))
	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "sip.test"},
		DNSNames:     []string{"sip.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der := must[[]byte](t)(x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey))
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	return pki{
		server: tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		roots:  roots,
	}
}
