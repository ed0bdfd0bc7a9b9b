package header

import "github.com/sansip/sansip/internal/abnf"

// parsers maps each known header to a function that parses one of its
// values, for validating text that an application puts into a message and
// for tools that show typed values (ParseAny).
var parsers [numIDs]func(string) (any, error)

func register[T any, P Value[T]](id ID) {
	parsers[id] = func(s string) (any, error) {
		var v T
		err := P(&v).Parse(s)
		return v, err
	}
}

func init() {
	register[Via](IDVia)
	register[From](IDFrom)
	register[To](IDTo)
	register[CallID](IDCallID)
	register[CSeq](IDCSeq)
	register[MaxForwards](IDMaxForwards)
	register[ContentLength](IDContentLength)
	register[Expires](IDExpires)
	register[MinExpires](IDMinExpires)
	register[RSeq](IDRSeq)
	register[MaxBreadth](IDMaxBreadth)
	register[FlowTimer](IDFlowTimer)
	register[Contact](IDContact)
	register[Route](IDRoute)
	register[RecordRoute](IDRecordRoute)
	register[Path](IDPath)
	register[ServiceRoute](IDServiceRoute)
	register[PAssertedIdentity](IDPAssertedIdentity)
	register[PPreferredIdentity](IDPPreferredIdentity)
	register[ReferTo](IDReferTo)
	register[ReferredBy](IDReferredBy)
	register[ReplyTo](IDReplyTo)
	register[Allow](IDAllow)
	register[Supported](IDSupported)
	register[Require](IDRequire)
	register[ProxyRequire](IDProxyRequire)
	register[Unsupported](IDUnsupported)
	register[AllowEvents](IDAllowEvents)
	register[ContentEncoding](IDContentEncoding)
	register[UserAgent](IDUserAgent)
	register[Server](IDServer)
	register[Subject](IDSubject)
	registerMore()
}

// CheckLine reports whether v can sit in a header field line without
// ending it or smuggling in another: it holds no CR, LF or NUL.
func CheckLine(h, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return errAt(h, i, ErrSyntax)
		}
	}
	return nil
}

// CheckText reports whether v is TEXT-UTF8 with white space (RFC 3261
// §25.1), the most a value without a known grammar may hold: no control
// character other than HTAB.
func CheckText(h, v string) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return errAt(h, i, ErrSyntax)
		}
	}
	return nil
}

// ValidateValue checks the text of a whole header field value that an
// application puts into a message under the header id: CheckLine, then,
// for a header sansip knows, its grammar (every element of a list), and for
// any other header CheckText.
func ValidateValue(id ID, name, v string) error {
	if err := CheckLine(name, v); err != nil {
		return err
	}
	if id >= numIDs || parsers[id] == nil {
		return CheckText(name, v)
	}
	_, err := ParseAny(id, name, v)
	return err
}

// ParseAny parses the text of a whole header field value for the header id
// into its typed values: one for a single-valued header, one per element for
// a list. It returns nil values and no error for a header without a typed
// parser. Tools that display messages use it; programs use message.All.
func ParseAny(id ID, name, v string) ([]any, error) {
	if id >= numIDs || parsers[id] == nil {
		return nil, nil
	}
	parse := parsers[id]
	if !id.IsList() {
		x, err := parse(v)
		if err != nil {
			return nil, err
		}
		return []any{x}, nil
	}
	if id.AllowsEmpty() && abnf.TrimLWS(v) == "" {
		return nil, nil
	}
	var out []any
	for e, ok := range Elements(v) {
		if !ok {
			return nil, errAt(name, 0, ErrSyntax)
		}
		if e == "" {
			return nil, errAt(name, 0, ErrEmpty)
		}
		x, err := parse(e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Parses reports whether sansip has a typed parser for the header id.
func Parses(id ID) bool { return id < numIDs && parsers[id] != nil }
