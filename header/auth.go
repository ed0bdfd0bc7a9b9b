package header

import (
	"iter"

	"github.com/sansip/sansip/internal/abnf"
)

// AuthParams is a list of auth-params (RFC 3261 §25.1, RFC 7235 §2.1),
// each introduced by ',', with no white space:
// `,realm="atlanta.com",nonce="84a4cc6f",algorithm=MD5`. Values are kept as
// written: a token, or a quoted-string with its quotes (use Unquoted for its
// content). Names compare case-insensitively.
//
// Parsers normalise lists written with white space or line folds around
// ',' and '='; AppendTo methods render them with ", " between parameters.
type AuthParams string

// Get returns the value of the parameter name as written (quotes
// included), and whether it is present.
func (p AuthParams) Get(name string) (string, bool) {
	v, _, ok := abnf.FindParam(string(p), name, ',')
	return v, ok
}

// Has reports whether the parameter name is present.
func (p AuthParams) Has(name string) bool {
	_, _, ok := abnf.FindParam(string(p), name, ',')
	return ok
}

// Unquoted returns the value of the parameter name with the quotes and
// quoted-pairs of a quoted-string resolved, and whether it is present.
func (p AuthParams) Unquoted(name string) (string, bool) {
	v, ok := p.Get(name)
	if ok && len(v) >= 2 && v[0] == '"' {
		return abnf.Unquote(v), true
	}
	return v, ok
}

// With returns p with the parameter name set to value, replacing an
// existing one. value is written as given: a token, or a quoted-string
// made with Quote (realm, nonce, username, uri, response, cnonce, opaque,
// qop in a challenge and nextnonce are quoted-strings in RFC 3261 §25.1;
// algorithm, nc, stale and qop in credentials are tokens).
func (p AuthParams) With(name, value string) AuthParams {
	return AuthParams(abnf.SetParam(string(p), name, value, true, ','))
}

// Without returns p without the parameter name.
func (p AuthParams) Without(name string) AuthParams {
	return AuthParams(abnf.RemoveParam(string(p), name, ','))
}

// Len returns the number of parameters.
func (p AuthParams) Len() int { return abnf.CountParams(string(p), ',') }

// All yields each parameter's name and value as written.
func (p AuthParams) All() iter.Seq2[string, string] { return abnf.AllParams(string(p), ',') }

// Validate checks that p is a well-formed auth-param list in normalised
// form.
func (p AuthParams) Validate() error {
	if p == "" {
		return nil
	}
	if p[0] != ',' {
		return errAt("auth-params", 0, ErrSyntax)
	}
	q, n, err := parseAuthParams("auth-params", string(p), 1)
	if err != nil {
		return err
	}
	if n != len(p) || q != p {
		return errAt("auth-params", n, ErrSyntax)
	}
	return nil
}

// AppendTo appends the parameters as "name=value, name=value", the form
// they take after the scheme.
func (p AuthParams) AppendTo(b []byte) []byte {
	for i := 0; i < len(p); {
		_, _, _, next := abnf.NextParam(string(p), i, ',')
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, p[i+1:next]...)
		i = next
	}
	return b
}

// parseAuthParams reads auth-param *( COMMA auth-param ) from s at i, with
// auth-param = token EQUAL ( token / quoted-string ) and LWS allowed around
// ',' and '='. It stops at the end of s or before anything that cannot
// continue the list, and returns the normalised list (each parameter
// preceded by ',') and that offset.
func parseAuthParams(h, s string, i int) (AuthParams, int, error) {
	var b []byte
	end := i
	for first := true; ; first = false {
		j := abnf.SkipLWS(s, end)
		if !first {
			if j >= len(s) || s[j] != ',' {
				break
			}
			j = abnf.SkipLWS(s, j+1)
		}
		n := abnf.Span(s, j, abnf.Token)
		if n == j {
			return "", j, errAt(h, j, ErrSyntax)
		}
		k := abnf.SkipLWS(s, n)
		if k >= len(s) || s[k] != '=' {
			return "", k, errAt(h, k, ErrSyntax)
		}
		v := abnf.SkipLWS(s, k+1)
		var e int
		if v < len(s) && s[v] == '"' {
			var ok bool
			e, _, ok = abnf.QuotedEnd(s, v)
			if !ok {
				return "", v, errAt(h, v, ErrSyntax)
			}
		} else {
			e = abnf.Span(s, v, abnf.Token)
			if e == v {
				return "", v, errAt(h, v, ErrSyntax)
			}
		}
		if b == nil {
			b = make([]byte, 0, len(s)-i+1)
		}
		b = append(b, ',')
		b = append(b, s[j:n]...)
		b = append(b, '=')
		if hasFold(s[v:e]) {
			b = append(b, unfold(s[v:e])...) // a folded quoted-string
		} else {
			b = append(b, s[v:e]...)
		}
		end = e
	}
	return AuthParams(b), end, nil
}

// isToken68Char reports the characters of a token68 before its trailing
// '=' padding (RFC 7235 §2.1).
func isToken68Char(c byte) bool {
	return abnf.Is(c, abnf.Alnum) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// token68End returns the end of a token68 that starts at s[i], or i if
// there is none.
func token68End(s string, i int) int {
	j := i
	for j < len(s) && isToken68Char(s[j]) {
		j++
	}
	if j == i {
		return i
	}
	for j < len(s) && s[j] == '=' {
		j++
	}
	return j
}

// AuthScheme is an authentication scheme: "Digest" (RFC 3261 §22.4, RFC
// 7616), "Basic", "Bearer" (RFC 8898) or any other token. It is kept as
// written and compares case-insensitively (Equal).
type AuthScheme string

// Authentication schemes.
const (
	SchemeDigest AuthScheme = "Digest"
	SchemeBasic  AuthScheme = "Basic"
	SchemeBearer AuthScheme = "Bearer"
)

// Equal reports whether two schemes are the same, compared
// case-insensitively (RFC 7235 §2.1).
func (s AuthScheme) Equal(o AuthScheme) bool { return abnf.EqualFold(string(s), string(o)) }

// parseAuth parses the shape common to credentials and challenges: a
// scheme followed by a token68 or by auth-params, or alone (RFC 7235 §2.1).
func parseAuth(h, s string) (scheme AuthScheme, token68 string, params AuthParams, err error) {
	i := abnf.SkipLWS(s, 0)
	t, j, err := parseTokenAt(h, s, i)
	if err != nil {
		return "", "", "", err
	}
	scheme = AuthScheme(t)
	digest := scheme.Equal(SchemeDigest)
	k := abnf.SkipLWS(s, j)
	if k == len(s) {
		// A bare scheme (RFC 7235 §2.1); Digest needs its parameters
		// (RFC 3261 §25.1).
		if digest {
			return "", "", "", errAt(h, k, ErrSyntax)
		}
		return scheme, "", "", nil
	}
	if k == j {
		return "", "", "", errAt(h, j, ErrSyntax) // LWS must follow the scheme
	}
	if !digest {
		// A token68 is all that follows; "name=value" continues past its
		// '=' and is an auth-param.
		if e := token68End(s, k); e > k && abnf.SkipLWS(s, e) == len(s) {
			return scheme, s[k:e], "", nil
		}
	}
	params, end, err := parseAuthParams(h, s, k)
	if err != nil {
		return "", "", "", err
	}
	if err := expectEnd(h, s, end); err != nil {
		return "", "", "", err
	}
	return scheme, "", params, nil
}

func appendAuth(b []byte, scheme AuthScheme, token68 string, params AuthParams) []byte {
	b = append(b, scheme...)
	switch {
	case token68 != "":
		b = append(b, ' ')
		b = append(b, token68...)
	case params != "":
		b = append(b, ' ')
		b = params.AppendTo(b)
	}
	return b
}

// Credentials are the authentication credentials of an Authorization or
// Proxy-Authorization header field (RFC 3261 §20.7, §22.4 and §25.1; RFC
// 7235 §2.1): a scheme followed by auth-params (Digest, and most others) or
// by a token68 (Basic, Bearer). A scheme may also stand alone.
//
// The accessors read the Digest fields (RFC 3261 §25.1, RFC 7616 §3.4,
// RFC 8760) with quoted-strings resolved.
type Credentials struct {
	Scheme  AuthScheme
	Token68 string // the token68 form; then Params is empty
	Params  AuthParams
}

// Parse parses credentials.
func (c *Credentials) Parse(s string) error { return c.parse("Authorization", s) }

func (c *Credentials) parse(h, s string) error {
	sc, t, p, err := parseAuth(h, s)
	*c = Credentials{Scheme: sc, Token68: t, Params: p}
	return err
}

// AppendTo appends "Scheme name=value, name=value" or "Scheme token68".
func (c Credentials) AppendTo(b []byte) []byte { return appendAuth(b, c.Scheme, c.Token68, c.Params) }

// String returns the credentials' text.
func (c Credentials) String() string { return string(c.AppendTo(nil)) }

// IsDigest reports whether the scheme is Digest.
func (c Credentials) IsDigest() bool { return c.Scheme.Equal(SchemeDigest) }

func (c Credentials) get(name string) string {
	v, _ := c.Params.Unquoted(name)
	return v
}

// Username returns the username parameter.
func (c Credentials) Username() string { return c.get("username") }

// Realm returns the realm parameter.
func (c Credentials) Realm() string { return c.get("realm") }

// Nonce returns the nonce parameter.
func (c Credentials) Nonce() string { return c.get("nonce") }

// URI returns the uri parameter (digest-uri-value), as text.
func (c Credentials) URI() string { return c.get("uri") }

// Response returns the response parameter (request-digest).
func (c Credentials) Response() string { return c.get("response") }

// Algorithm returns the algorithm parameter ("MD5", "MD5-sess", "SHA-256",
// "SHA-512-256", ... as written), or "" when absent, which means MD5.
func (c Credentials) Algorithm() string { return c.get("algorithm") }

// CNonce returns the cnonce parameter.
func (c Credentials) CNonce() string { return c.get("cnonce") }

// Opaque returns the opaque parameter.
func (c Credentials) Opaque() string { return c.get("opaque") }

// QOP returns the qop parameter (message-qop: "auth" or "auth-int").
func (c Credentials) QOP() string { return c.get("qop") }

// NC returns the nc parameter (nonce-count, 8LHEX) and whether it is
// present and valid.
func (c Credentials) NC() (uint32, bool) { return parseNC(c.get("nc")) }

// UserHash reports whether the userhash parameter is "true" (RFC 7616
// §3.4.4): then Username is a hash of the user name and realm.
func (c Credentials) UserHash() bool { return abnf.EqualFold(c.get("userhash"), "true") }

func parseNC(v string) (uint32, bool) {
	if len(v) != 8 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(v); i++ {
		d := abnf.Unhex(v[i])
		if d < 0 {
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

// Challenge is the authentication challenge of a WWW-Authenticate or
// Proxy-Authenticate header field (RFC 3261 §20.44, §22.4 and §25.1; RFC
// 7235 §2.1): a scheme followed by auth-params or a token68.
//
// The accessors read the Digest fields (RFC 3261 §25.1, RFC 7616 §3.3)
// with quoted-strings resolved.
type Challenge struct {
	Scheme  AuthScheme
	Token68 string // the token68 form; then Params is empty
	Params  AuthParams
}

// Parse parses a challenge.
func (c *Challenge) Parse(s string) error { return c.parse("WWW-Authenticate", s) }

func (c *Challenge) parse(h, s string) error {
	sc, t, p, err := parseAuth(h, s)
	*c = Challenge{Scheme: sc, Token68: t, Params: p}
	return err
}

// AppendTo appends "Scheme name=value, name=value" or "Scheme token68".
func (c Challenge) AppendTo(b []byte) []byte { return appendAuth(b, c.Scheme, c.Token68, c.Params) }

// String returns the challenge's text.
func (c Challenge) String() string { return string(c.AppendTo(nil)) }

// IsDigest reports whether the scheme is Digest.
func (c Challenge) IsDigest() bool { return c.Scheme.Equal(SchemeDigest) }

func (c Challenge) get(name string) string {
	v, _ := c.Params.Unquoted(name)
	return v
}

// Realm returns the realm parameter.
func (c Challenge) Realm() string { return c.get("realm") }

// Domain returns the domain parameter: URIs separated by spaces.
func (c Challenge) Domain() string { return c.get("domain") }

// Nonce returns the nonce parameter.
func (c Challenge) Nonce() string { return c.get("nonce") }

// Opaque returns the opaque parameter and whether it is present (an
// empty opaque must still be echoed).
func (c Challenge) Opaque() (string, bool) { return c.Params.Unquoted("opaque") }

// Stale reports whether the stale parameter is "true", compared
// case-insensitively: the nonce was stale, the credentials were right.
func (c Challenge) Stale() bool { return abnf.EqualFold(c.get("stale"), "true") }

// Algorithm returns the algorithm parameter as written, or "" when
// absent, which means MD5.
func (c Challenge) Algorithm() string { return c.get("algorithm") }

// QOP returns the qop-options parameter's content: qop-values separated by
// ',' ("auth,auth-int"), or "" if absent.
func (c Challenge) QOP() string { return c.get("qop") }

// HasQOP reports whether the qop-options list holds the qop-value v
// ("auth", "auth-int"), compared case-insensitively.
func (c Challenge) HasQOP(v string) bool {
	for o := range c.QOPOptions() {
		if abnf.EqualFold(o, v) {
			return true
		}
	}
	return false
}

// QOPOptions yields each qop-value of the qop-options list, trimmed of
// white space.
func (c Challenge) QOPOptions() iter.Seq[string] {
	q := c.QOP()
	return func(yield func(string) bool) {
		for q != "" {
			i := 0
			for i < len(q) && q[i] != ',' {
				i++
			}
			o := abnf.TrimLWS(q[:i])
			if o != "" && !yield(o) {
				return
			}
			if i == len(q) {
				return
			}
			q = q[i+1:]
		}
	}
}

// Charset returns the charset parameter (RFC 7616 §3.3: "UTF-8"), or "".
func (c Challenge) Charset() string { return c.get("charset") }

// UserHash reports whether the userhash parameter is "true" (RFC 7616
// §3.3): the server accepts a hashed user name.
func (c Challenge) UserHash() bool { return abnf.EqualFold(c.get("userhash"), "true") }

// Authorization is the Authorization header field (RFC 3261 §20.7): the
// credentials of a user agent for the UAS or registrar. A message may carry
// several, one per realm; the field is not a comma-separated list.
type Authorization struct {
	Credentials
}

// HeaderName returns "Authorization".
func (Authorization) HeaderName() string { return "Authorization" }

// Parse parses the credentials.
func (a *Authorization) Parse(s string) error { return a.parse("Authorization", s) }

// ProxyAuthorization is the Proxy-Authorization header field (RFC 3261
// §20.28): credentials for a proxy.
type ProxyAuthorization struct {
	Credentials
}

// HeaderName returns "Proxy-Authorization".
func (ProxyAuthorization) HeaderName() string { return "Proxy-Authorization" }

// Parse parses the credentials.
func (a *ProxyAuthorization) Parse(s string) error { return a.parse("Proxy-Authorization", s) }

// WWWAuthenticate is the WWW-Authenticate header field (RFC 3261 §20.44):
// a challenge from a UAS or registrar in a 401 response.
type WWWAuthenticate struct {
	Challenge
}

// HeaderName returns "WWW-Authenticate".
func (WWWAuthenticate) HeaderName() string { return "WWW-Authenticate" }

// Parse parses the challenge.
func (a *WWWAuthenticate) Parse(s string) error { return a.parse("WWW-Authenticate", s) }

// ProxyAuthenticate is the Proxy-Authenticate header field (RFC 3261
// §20.27): a challenge from a proxy in a 407 response.
type ProxyAuthenticate struct {
	Challenge
}

// HeaderName returns "Proxy-Authenticate".
func (ProxyAuthenticate) HeaderName() string { return "Proxy-Authenticate" }

// Parse parses the challenge.
func (a *ProxyAuthenticate) Parse(s string) error { return a.parse("Proxy-Authenticate", s) }

// AuthenticationInfo is the Authentication-Info header field (RFC 3261
// §20.6, RFC 7616 §3.5): ainfo *( COMMA ainfo ), auth-params such as
// nextnonce, qop, rspauth, cnonce and nc, with no scheme.
type AuthenticationInfo struct {
	Params AuthParams
}

// HeaderName returns "Authentication-Info".
func (AuthenticationInfo) HeaderName() string { return "Authentication-Info" }

// Parse parses the auth-params.
func (a *AuthenticationInfo) Parse(s string) error {
	const h = "Authentication-Info"
	*a = AuthenticationInfo{}
	i := abnf.SkipLWS(s, 0)
	if i == len(s) {
		return errAt(h, i, ErrEmpty)
	}
	p, end, err := parseAuthParams(h, s, i)
	if err != nil {
		return err
	}
	if err := expectEnd(h, s, end); err != nil {
		return err
	}
	a.Params = p
	return nil
}

// AppendTo appends "name=value, name=value".
func (a AuthenticationInfo) AppendTo(b []byte) []byte { return a.Params.AppendTo(b) }

func (a AuthenticationInfo) get(name string) string {
	v, _ := a.Params.Unquoted(name)
	return v
}

// NextNonce returns the nextnonce parameter: the nonce to use next.
func (a AuthenticationInfo) NextNonce() string { return a.get("nextnonce") }

// QOP returns the qop parameter.
func (a AuthenticationInfo) QOP() string { return a.get("qop") }

// RspAuth returns the rspauth parameter (response-digest), which
// authenticates the server.
func (a AuthenticationInfo) RspAuth() string { return a.get("rspauth") }

// CNonce returns the cnonce parameter.
func (a AuthenticationInfo) CNonce() string { return a.get("cnonce") }

// NC returns the nc parameter and whether it is present and valid.
func (a AuthenticationInfo) NC() (uint32, bool) { return parseNC(a.get("nc")) }
