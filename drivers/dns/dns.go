// Package dns is the driver side of RFC 3263: it performs the DNS lookups
// a Resolve effect asks for (NAPTR, SRV, A and AAAA) and hands back the
// targets, in the order package locate decides. Every choice (which
// lookups, which SRV names, the RFC 2782 order) is locate's, so it is the
// same in the pure core, in tests and here; this package only talks to the
// DNS server.
//
// Queries go over UDP to one server (Config.Server, by default the first
// nameserver of /etc/resolv.conf), with a retry over TCP when an answer is
// truncated. NAPTR, which the standard resolver cannot ask for, is built
// and parsed with golang.org/x/net/dns/dnsmessage.
package dns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/locate"
	"github.com/sansip/sansip/uri"
)

// Errors, matchable with errors.Is.
var (
	ErrNotFound = errors.New("dns: no target found")
	ErrServer   = errors.New("dns: server failure")
)

// typeNAPTR is the NAPTR resource record type (RFC 3403).
const typeNAPTR dnsmessage.Type = 35

// Config configures a Resolver.
type Config struct {
	// Server is the DNS server, "host:port"; empty means the first
	// nameserver of /etc/resolv.conf.
	Server string
	// Timeout bounds each query; zero means 2 s.
	Timeout time.Duration
	// Supported lists this node's transports; nil means UDP, TCP and TLS.
	Supported []effects.Transport
	// Rand returns a number in [0, n) for the RFC 2782 weighted choice;
	// nil uses math/rand/v2 (this is a driver: randomness is allowed here).
	Rand func(n uint32) uint32
}

// Resolver performs RFC 3263 lookups. It is safe for concurrent use.
type Resolver struct {
	cfg Config
}

// New returns a Resolver.
func New(cfg Config) (*Resolver, error) {
	if cfg.Server == "" {
		s, err := systemServer("/etc/resolv.conf")
		if err != nil {
			return nil, err
		}
		cfg.Server = s
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Rand == nil {
		cfg.Rand = func(n uint32) uint32 { return rand.Uint32N(n) }
	}
	return &Resolver{cfg: cfg}, nil
}

// Resolve answers a Resolve effect for name (a host name or address),
// service ("sip" or "sips"), and, when the core fixed them, the transport
// and port: the targets to try, in order.
func (r *Resolver) Resolve(ctx context.Context, name, service string, transport effects.Transport, port uint16) ([]effects.Target, error) {
	scheme := "sip"
	if strings.EqualFold(service, "sips") {
		scheme = "sips"
	}
	host := name
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	s := scheme + ":" + host
	if port != 0 {
		s += fmt.Sprintf(":%d", port)
	}
	if transport != 0 {
		s += ";transport=" + strings.ToLower(transport.String())
	}
	u, err := uri.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("dns: %s: %w", name, err)
	}
	return r.ResolveURI(ctx, u)
}

// ResolveURI locates the server for u (RFC 3263 §4).
func (r *Resolver) ResolveURI(ctx context.Context, u uri.URI) ([]effects.Target, error) {
	plan, err := locate.PlanFor(u, r.cfg.Supported)
	if err != nil {
		return nil, err
	}
	switch plan.First() {
	case locate.None:
		return plan.Direct, nil
	case locate.Addr:
		return r.addrs(ctx, plan.Host, plan.Port, plan.Transport, 0, 0)
	case locate.SRV:
		return r.srv(ctx, []locate.SRVQuery{{Name: locate.SRVName(plan.Host, plan.Transport), Transport: plan.Transport}}, plan)
	}
	naptr, err := r.naptr(ctx, plan.Host)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return r.srv(ctx, locate.SRVQueries(plan, naptr, r.cfg.Supported), plan)
}

// srv queries the SRV names in order and resolves their targets; with no
// SRV record at all, the host's A/AAAA records with the default port of
// the first transport (§4.2).
func (r *Resolver) srv(ctx context.Context, queries []locate.SRVQuery, plan locate.Plan) ([]effects.Target, error) {
	var out []effects.Target
	for _, q := range queries {
		recs, err := r.srvRecords(ctx, q.Name)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		for _, rec := range locate.OrderSRV(recs, r.cfg.Rand) {
			ts, err := r.addrs(ctx, rec.Target, rec.Port, q.Transport, rec.Priority, rec.Weight)
			if err == nil {
				out = append(out, ts...)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	t := plan.Transport
	if t == 0 {
		t = effects.UDP
		if plan.Secure {
			t = effects.TLS
		}
	}
	return r.addrs(ctx, plan.Host, locate.DefaultPort(t), t, 0, 0)
}

// addrs looks up A and AAAA for host.
func (r *Resolver) addrs(ctx context.Context, host string, port uint16, t effects.Transport, prio, weight uint16) ([]effects.Target, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []effects.Target{{Addr: netip.AddrPortFrom(a, port), Transport: t, Priority: prio, Weight: weight}}, nil
	}
	var out []effects.Target
	for _, typ := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		msg, err := r.query(ctx, host, typ)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		for _, ans := range msg.Answers {
			switch b := ans.Body.(type) {
			case *dnsmessage.AResource:
				out = append(out, effects.Target{Addr: netip.AddrPortFrom(netip.AddrFrom4(b.A), port), Transport: t, Priority: prio, Weight: weight})
			case *dnsmessage.AAAAResource:
				out = append(out, effects.Target{Addr: netip.AddrPortFrom(netip.AddrFrom16(b.AAAA), port), Transport: t, Priority: prio, Weight: weight})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, host)
	}
	return out, nil
}

func (r *Resolver) srvRecords(ctx context.Context, name string) ([]locate.SRVRecord, error) {
	msg, err := r.query(ctx, name, dnsmessage.TypeSRV)
	if err != nil {
		return nil, err
	}
	var out []locate.SRVRecord
	for _, ans := range msg.Answers {
		if b, ok := ans.Body.(*dnsmessage.SRVResource); ok {
			out = append(out, locate.SRVRecord{Target: strings.TrimSuffix(b.Target.String(), "."), Port: b.Port, Priority: b.Priority, Weight: b.Weight})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: SRV %s", ErrNotFound, name)
	}
	return out, nil
}

func (r *Resolver) naptr(ctx context.Context, host string) ([]locate.NAPTRRecord, error) {
	msg, err := r.query(ctx, host, typeNAPTR)
	if err != nil {
		return nil, err
	}
	var out []locate.NAPTRRecord
	for _, ans := range msg.Answers {
		if b, ok := ans.Body.(*dnsmessage.UnknownResource); ok && ans.Header.Type == typeNAPTR {
			if rec, err := ParseNAPTR(b.Data); err == nil {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

// ParseNAPTR parses the RDATA of a NAPTR record (RFC 3403 §4.1): order,
// preference, flags, services, regexp (read and ignored: SIP uses the
// replacement) and an uncompressed replacement name.
func ParseNAPTR(data []byte) (locate.NAPTRRecord, error) {
	var rec locate.NAPTRRecord
	if len(data) < 4 {
		return rec, fmt.Errorf("dns: NAPTR: %d bytes", len(data))
	}
	rec.Order, rec.Preference = binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
	rest := data[4:]
	var fields [3]string
	for i := range fields {
		if len(rest) == 0 || int(rest[0]) >= len(rest) {
			return rec, errors.New("dns: NAPTR: short character-string")
		}
		n := int(rest[0])
		fields[i], rest = string(rest[1:1+n]), rest[1+n:]
	}
	rec.Flags, rec.Service = fields[0], fields[1]
	var labels []string
	for {
		if len(rest) == 0 {
			return rec, errors.New("dns: NAPTR: short replacement")
		}
		n := int(rest[0])
		if n == 0 {
			break
		}
		if n > 63 || n >= len(rest) {
			return rec, errors.New("dns: NAPTR: bad label")
		}
		labels, rest = append(labels, string(rest[1:1+n])), rest[1+n:]
	}
	rec.Replacement = strings.Join(labels, ".")
	return rec, nil
}

// query asks the server one question over UDP, and again over TCP when the
// answer is truncated.
func (r *Resolver) query(ctx context.Context, name string, typ dnsmessage.Type) (*dnsmessage.Message, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, fmt.Errorf("dns: %s: %w", name, err)
	}
	id := uint16(rand.Uint32())
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: typ, Class: dnsmessage.ClassINET}},
	}
	packed, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("dns: %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	resp, err := r.exchange(ctx, "udp", packed, id)
	if err == nil && resp.Header.Truncated {
		resp, err = r.exchange(ctx, "tcp", packed, id)
	}
	if err != nil {
		return nil, fmt.Errorf("dns: %s %v: %w", name, typ, err)
	}
	switch resp.Header.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, fmt.Errorf("%w: %s %v", ErrNotFound, name, typ)
	default:
		return nil, fmt.Errorf("%w: %s %v: %v", ErrServer, name, typ, resp.Header.RCode)
	}
	if len(resp.Answers) == 0 {
		return nil, fmt.Errorf("%w: %s %v", ErrNotFound, name, typ)
	}
	return resp, nil
}

func (r *Resolver) exchange(ctx context.Context, network string, packed []byte, id uint16) (*dnsmessage.Message, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, r.cfg.Server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	buf := make([]byte, 65535)
	if network == "tcp" {
		msg := binary.BigEndian.AppendUint16(nil, uint16(len(packed)))
		if _, err := conn.Write(append(msg, packed...)); err != nil {
			return nil, err
		}
		if _, err := readFull(conn, buf[:2]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(buf))
		if _, err := readFull(conn, buf[:n]); err != nil {
			return nil, err
		}
		return parse(buf[:n], id)
	}
	if _, err := conn.Write(packed); err != nil {
		return nil, err
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		m, err := parse(buf[:n], id)
		if err == nil {
			return m, nil
		}
		// Not our answer (a stale or forged one): keep waiting.
	}
}

func parse(b []byte, id uint16) (*dnsmessage.Message, error) {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil {
		return nil, err
	}
	if m.Header.ID != id || !m.Header.Response {
		return nil, errors.New("dns: unexpected answer")
	}
	return &m, nil
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// systemServer reads the first nameserver of a resolv.conf file.
func systemServer(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("dns: no server configured: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				return netip.AddrPortFrom(a, 53).String(), nil
			}
		}
	}
	return "", fmt.Errorf("dns: no nameserver in %s", path)
}
