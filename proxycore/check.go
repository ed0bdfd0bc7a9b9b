package proxycore

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

// self is what the stateful and stateless proxies share: who the proxy is,
// and the request checks and edits of RFC 3261 §16.3, §16.4 and §16.6.
type self struct {
	host      string
	port      uint16
	ports     []uint16 // the other ports it listens on
	aliases   []string
	domains   []string
	supported []string
	rr        bool
}

func newSelf(c Config) self {
	return self{host: c.Host, port: c.Port, ports: c.Ports, aliases: c.Aliases, domains: c.Domains, supported: c.Supported, rr: c.RecordRoute}
}

// isHost reports whether h names this proxy.
func (s *self) isHost(h string) bool {
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, strings.Trim(s.host, "[]")) {
		return true
	}
	for _, a := range s.aliases {
		if strings.EqualFold(h, strings.Trim(a, "[]")) {
			return true
		}
	}
	return false
}

// ours reports whether u names this proxy (its host or an alias, on its
// port).
func (s *self) ours(u uri.URI) bool {
	if !u.IsSIP() || !s.isHost(u.Host) {
		return false
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if u.Scheme == uri.SIPS || strings.EqualFold(u.Transport(), "tls") {
			port = 5061
		}
	}
	return port == s.port || slices.Contains(s.ports, port)
}

// ourVia reports whether v is a Via this proxy added.
func (s *self) ourVia(v header.Via) bool {
	port := v.Port
	if port == 0 {
		port = 5060
	}
	return port == s.port && s.isHost(v.Host)
}

// responsible reports whether the Request-URI's domain is one the proxy
// routes for (RFC 3261 §16.5).
func (s *self) responsible(u uri.URI) bool {
	return len(s.domains) == 0 || s.domain(u.Host) || s.ours(u)
}

// domain reports whether host is one of the domains the proxy serves.
func (s *self) domain(host string) bool {
	for _, d := range s.domains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return false
}

// verdict is the outcome of validation: 0 to proceed, or the status to
// answer with and the option tags to list in Unsupported.
type verdict struct {
	code        int
	unsupported []string
}

// validate runs the checks of RFC 3261 §16.3 that need no state: the
// Request-URI scheme (416), Max-Forwards (483, or 200 for an OPTIONS to the
// proxy itself), loop detection (482) and Proxy-Require (420). Syntax is
// the parser's (400); authentication is the stateful proxy's.
func (s *self) validate(m *message.Message) verdict {
	ru := m.RequestURI()
	if ru.Scheme != uri.SIP && ru.Scheme != uri.SIPS && ru.Scheme != uri.Tel {
		return verdict{code: 416}
	}
	if m.Method() == "OPTIONS" && ru.User == "" && s.ours(ru) && !m.Has("Route") {
		// Addressed to the proxy itself (RFC 3261 §11, §16.3 step 3):
		// it answers, whatever Max-Forwards says, rather than forwarding
		// the request to itself.
		return verdict{code: 200}
	}
	if mf, ok := m.MaxForwards(); ok && mf == 0 {
		return verdict{code: 483}
	}
	if s.looped(m) {
		return verdict{code: 482}
	}
	if tags := s.unsupported(m); len(tags) > 0 {
		return verdict{code: 420, unsupported: tags}
	}
	return verdict{}
}

// looped reports whether one of the request's Vias is ours and carries the
// loop hash this request would get (RFC 3261 §16.3 step 4): the request
// came back unchanged, rather than spiralling with a new Request-URI.
func (s *self) looped(m *message.Message) bool {
	// Our own Vias carry our host as we write it (self.via): without it
	// in any Via field the request cannot have come back, and the Vias
	// need no parsing.
	seen := false
	for name, value := range m.Headers() {
		if (name == "Via" || name == "v" || strings.EqualFold(name, "via")) && strings.Contains(value, s.host) {
			seen = true
			break
		}
	}
	if !seen {
		return false
	}
	vias, err := message.All[header.Via](m)
	if err != nil {
		return false
	}
	want := ""
	var num [16]byte
	for _, v := range vias {
		if !s.ourVia(v) {
			continue
		}
		if want == "" {
			want = string(strconv.AppendUint(num[:0], loopHash(m), 36))
		}
		b := strings.TrimPrefix(v.Branch(), header.MagicCookie)
		if i := strings.IndexByte(b, '.'); i > 0 && b[:i] == want {
			return true
		}
	}
	return false
}

// unsupported returns the Proxy-Require option tags the proxy does not
// understand (RFC 3261 §16.3 step 5).
func (s *self) unsupported(m *message.Message) []string {
	if !m.Has("Proxy-Require") {
		return nil
	}
	var out []string
	for _, tag := range m.Values("Proxy-Require") {
		tag = strings.TrimSpace(tag)
		if !contains(s.supported, tag) {
			out = append(out, tag)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// loopHash hashes what identifies a request end to end (RFC 3261 §16.6 step
// 8): the From tag, Call-ID, Request-URI as received and CSeq number. A
// looped request hashes the same; a spiral, whose Request-URI changed, does
// not. The To tag, Proxy-Require and Proxy-Authorization that §16.6 also
// lists are left out so that the ACK of a non-2xx and a CANCEL, which may
// differ from their INVITE in those, hash like it: a stateless proxy must
// send them on the INVITE's branch (§16.11).
func loopHash(m *message.Message) uint64 {
	h := newFNV()
	for _, s := range [...]string{m.FromTag(), m.CallID(), requestURIText(m)} {
		h.add(s)
		h.addByte(0)
	}
	var num [20]byte
	h.addBytes(strconv.AppendUint(num[:0], uint64(m.CSeq().Seq), 10))
	return uint64(h)
}

// requestURIText is the Request-URI as the request line writes it.
func requestURIText(m *message.Message) string {
	sl := m.StartLine()
	i, j := strings.IndexByte(sl, ' '), strings.LastIndexByte(sl, ' ')
	if i < 0 || j <= i {
		return m.RequestURI().String()
	}
	return sl[i+1 : j]
}

// branchFor returns the branch of the Via the proxy adds to a request
// forwarded for the n-th time (RFC 3261 §16.6 step 8): the magic cookie,
// the loop hash, and a hash of the incoming top Via's branch and sent-by
// with n, which tells transactions and branches apart and is the same for a
// retransmission (RFC 3261 §16.11). loop is the request's loopHash, taken
// before the request was edited.
func branchFor(loop uint64, in header.Via, n int) string {
	h := newFNV()
	h.add(in.Branch())
	h.addByte(0)
	h.add(in.Host)
	if in.Port != 0 {
		var port [8]byte
		h.addByte(':')
		h.addBytes(strconv.AppendUint(port[:0], uint64(in.Port), 10))
	}
	var num [20]byte
	h.addBytes(strconv.AppendInt(num[:0], int64(n), 10))
	var b [64]byte
	out := append(b[:0], header.MagicCookie...)
	out = strconv.AppendUint(out, loop, 36)
	out = append(out, '.')
	out = strconv.AppendUint(out, uint64(h), 36)
	return string(out)
}

// fnv64 is FNV-1a, 64 bits, over strings without converting them.
type fnv64 uint64

func newFNV() fnv64 { return 14695981039346656037 }

func (h *fnv64) add(s string) {
	for i := 0; i < len(s); i++ {
		h.addByte(s[i])
	}
}

func (h *fnv64) addBytes(b []byte) {
	for _, c := range b {
		h.addByte(c)
	}
}

func (h *fnv64) addByte(c byte) {
	*h ^= fnv64(c)
	*h *= 1099511628211
}

// errRoute reports a Route header field that cannot be read.
var errRoute = errors.New("proxycore: malformed Route")

// preprocess applies RFC 3261 §16.4 to a request: the Request-URI a strict
// router wrote from our Record-Route is replaced by the last Route; our own
// top Route is removed; a maddr naming us is stripped.
func (s *self) preprocess(m *message.Message) error {
	_, _, err := s.preprocessed(m, false)
	return err
}

// preprocessed is preprocess that leaves m's Request-URI alone when copy
// is set: a change to it is made to a clone, which it returns (m itself
// otherwise). Removing our own top Route is done in place either way: it
// changes nothing a response or a transaction reads from the request. A
// stateful proxy keeps the request as received this way and pays for a
// copy only when a strict router or a maddr needs one. user is the user
// part of a Route of ours it removed, where a flow token is (RFC 5626
// §5.3), "" when none had one.
func (s *self) preprocessed(m *message.Message, copy bool) (w *message.Message, user string, err error) {
	w = m
	edit := func() *message.Message {
		if copy && w == m {
			w = m.Clone()
		}
		return w
	}
	ru := m.RequestURI()
	if !m.Has("Route") {
		return w, "", s.stripMaddr(m, edit)
	}
	if !s.ours(ru) {
		// The common case: only the top Routes matter.
		if user, err = s.removeOurRoutes(w); err != nil {
			return w, "", err
		}
		return w, user, s.stripMaddr(w, edit)
	}
	routes, err := message.All[header.Route](m)
	if err != nil {
		return w, "", fmt.Errorf("%w: %w", errRoute, err)
	}
	if len(routes) > 0 && s.ours(ru) && ru.Params.Has("lr") {
		last := routes[len(routes)-1]
		rest := append([]header.Route(nil), routes[:len(routes)-1]...)
		if err := edit().SetRequestURI(last.URI); err != nil {
			return w, "", fmt.Errorf("proxycore: strict route: %w", err)
		}
		if err := message.Set(w, rest...); err != nil {
			return w, "", fmt.Errorf("proxycore: strict route: %w", err)
		}
		routes = rest
	}
	if len(routes) > 0 && s.ours(routes[0].URI) {
		if user, err = s.removeOurRoutes(w); err != nil {
			return w, "", err
		}
	}
	return w, user, s.stripMaddr(w, edit)
}

// removeOurRoutes removes, in place, the top Route of m when it names this
// proxy (§16.4), and the next one too when it names this proxy again: a
// proxy that record-routed twice, changing transports (RFC 5658's double
// Record-Route, recordRoute), finds both of its values on top of the
// requests in the dialog, and must not route the request to itself with
// the second. It returns the user part of a removed Route that had one
// (a flow token).
func (s *self) removeOurRoutes(m *message.Message) (user string, err error) {
	for range 2 {
		top, ok, err := message.First[header.Route](m)
		if err != nil {
			return user, fmt.Errorf("%w: %w", errRoute, err)
		}
		if !ok || !s.ours(top.URI) {
			return user, nil
		}
		if top.URI.User != "" {
			user = top.URI.User
		}
		if _, err := m.RemoveTopRoute(); err != nil {
			return user, fmt.Errorf("proxycore: removing our Route: %w", err)
		}
	}
	return user, nil
}

// stripMaddr removes a maddr naming this proxy from the Request-URI
// (§16.4), with the transport and port that went with it; edit gives the
// message to change.
func (s *self) stripMaddr(m *message.Message, edit func() *message.Message) error {
	ru := m.RequestURI()
	if maddr, ok := ru.Params.Get("maddr"); ok && s.isHost(maddr) {
		ru = ru.WithoutParam("maddr").WithoutParam("transport")
		ru.Port = 0
		if err := edit().SetRequestURI(ru); err != nil {
			return fmt.Errorf("proxycore: maddr: %w", err)
		}
	}
	return nil
}

// nextHop returns the URI whose host the forwarded request goes to (RFC
// 3261 §16.6 step 7): the top Route, else the Request-URI.
func nextHop(m *message.Message) uri.URI {
	if r, ok, err := message.First[header.Route](m); err == nil && ok {
		return r.URI
	}
	return m.RequestURI()
}

// hop is where a URI says to send: an address, or a name to resolve (RFC
// 3263).
type hop struct {
	peer      effects.Peer // valid Addr when known
	name      string       // the host to resolve otherwise
	service   string
	transport effects.Transport
	port      uint16 // the name's explicit port, 0 for none
}

// lookup is the To of the Resolve effect for h's name: the transport and
// explicit port the look-up must keep (RFC 3263 §4.2, §5: a name with a
// port is looked up for its addresses, each contacted at that port).
func (h hop) lookup() effects.Peer {
	return effects.Peer{Addr: netip.AddrPortFrom(netip.Addr{}, h.port), Transport: h.transport}
}

// hopFor reads the next hop off u: its maddr or host, port and transport
// (RFC 3263 §4.1, §4.2).
func hopFor(u uri.URI) hop {
	host := u.Host
	if m, ok := u.Params.Get("maddr"); ok && m != "" {
		host = m
	}
	tr := effects.ParseTransport(u.Transport())
	service := "sip"
	if u.Scheme == uri.SIPS {
		service = "sips"
		if tr == 0 {
			tr = effects.TLS
		}
	}
	h := hop{name: strings.Trim(host, "[]"), service: service, transport: tr, port: u.Port}
	a, err := netip.ParseAddr(h.name)
	if err != nil {
		return h
	}
	if tr == 0 {
		tr = effects.UDP
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if tr.Secure() {
			port = 5061
		}
	}
	h.peer = effects.Peer{Addr: netip.AddrPortFrom(a, port), Transport: tr}
	return h
}

// viaDest says where a response goes by its top Via (RFC 3261 §18.2.2, RFC
// 3581 §4): the maddr, else the received address (at the rport when there
// is one) else the sent-by, at the sent-by port (5060 or 5061 by default).
// ok is false when the Via names a host that needs a DNS look-up.
func viaDest(v header.Via) (effects.Peer, bool) {
	tr := effects.ParseTransport(v.Transport)
	if tr == 0 {
		tr = effects.UDP
	}
	port := v.Port
	if port == 0 {
		port = 5060
		if tr.Secure() {
			port = 5061
		}
	}
	host := v.Host
	if m := v.MAddr(); m != "" {
		host = m
	} else if r := v.Received(); r != "" {
		host = r
		if p, ok := v.RPort(); ok && p != 0 {
			port = p
		}
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return effects.Peer{}, false
	}
	return effects.Peer{Addr: netip.AddrPortFrom(a.Unmap(), port), Transport: tr}, true
}

// ourVia builds the Via the proxy adds for a request sent over tr.
func (s *self) via(tr effects.Transport, branch string) header.Via {
	if tr == 0 {
		tr = effects.UDP
	}
	return header.Via{Transport: tr.String(), Host: s.host, Port: s.port, Params: header.Params(";branch=" + branch)}
}

// recordRoute adds the proxy's Record-Route to a request arriving over in
// and leaving over out: twice when the transports differ (RFC 3261 §16.6
// step 4, RFC 5658), each naming the transport of its side.
func (s *self) recordRoute(m *message.Message, in, out effects.Transport, user string) error {
	if in == out || in == 0 || out == 0 {
		return m.PrependRecordRoute(header.RecordRoute{URI: withUser(s.rrURI(0), user)})
	}
	if err := m.PrependRecordRoute(header.RecordRoute{URI: withUser(s.rrURI(in), user)}); err != nil {
		return err
	}
	return m.PrependRecordRoute(header.RecordRoute{URI: withUser(s.rrURI(out), user)})
}

// withUser returns u with user as its user part (a flow token), or u.
func withUser(u uri.URI, user string) uri.URI {
	u.User = user
	return u
}

// rrURI is the proxy's Record-Route URI, naming tr when not zero.
func (s *self) rrURI(tr effects.Transport) uri.URI {
	u := uri.URI{Scheme: uri.SIP, Host: s.host, Port: s.port, Params: ";lr"}
	if tr != 0 && tr != effects.UDP {
		u.Params = uri.Params(";transport=" + strings.ToLower(tr.String()) + ";lr")
	}
	return u
}

// stamp records where a request came from in its top Via (RFC 3261
// §18.2.1, RFC 3581 §4), as the transaction layer does for the stateful
// proxy.
func stamp(m *message.Message, from effects.Peer) {
	v := m.TopVia()
	src := from.Addr.Addr().Unmap()
	if !src.IsValid() {
		return
	}
	_, rport := v.RPort()
	sentBy, err := netip.ParseAddr(strings.Trim(v.Host, "[]"))
	if !rport && err == nil && sentBy.Unmap() == src {
		return
	}
	p := v.Params.With("received", src.String())
	if rport {
		p = p.With("rport", strconv.Itoa(int(from.Addr.Port())))
	}
	v.Params = p
	_ = m.ReplaceTopVia(v)
}

// hashTag is an ident.Generator for stateless responses: its To tag hashes
// the request, so that a retransmission is answered with the same tag (RFC
// 3261 §16.11, §8.2.6.2).
type hashTag string

func tagFor(m *message.Message) hashTag {
	h := newFNV()
	h.add(m.CallID())
	h.add(m.FromTag())
	h.add(m.Branch())
	return hashTag("p" + strconv.FormatUint(uint64(h), 36))
}

func (h hashTag) Tag() string    { return string(h) }
func (h hashTag) Branch() string { return header.MagicCookie + string(h) }
func (h hashTag) CallID() string { return string(h) }

// reject builds the response to a request that failed validation.
func reject(req *message.Message, v verdict, tag string) (*message.Message, error) {
	resp, err := message.NewResponse(req, v.code, "", message.ResponseOptions{ToTag: tag})
	if err != nil {
		return nil, fmt.Errorf("proxycore: %d response: %w", v.code, err)
	}
	for _, t := range v.unsupported {
		if err := message.Add(resp, header.Unsupported(t)); err != nil {
			// Not an option tag (an empty Proxy-Require, say): the
			// request is malformed (RFC 3261 §20.29). It is answered
			// all the same, so that its transaction ends.
			return message.NewResponse(req, 400, "Bad Request (malformed Proxy-Require)", message.ResponseOptions{ToTag: tag})
		}
	}
	if v.code == 200 {
		_ = resp.Add("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
	}
	return resp, nil
}
