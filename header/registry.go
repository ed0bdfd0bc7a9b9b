package header

// parsers maps each known header to a function that parses one of its
// values, for validating text that an application puts into a message.
var parsers [numIDs]func(string) error

func register[T any, P Value[T]](id ID) {
	parsers[id] = func(s string) error {
		var v T
		return P(&v).Parse(s)
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

// CheckText reports whether v can be a header value at all: it holds no CR,
// LF or NUL and no control character other than HTAB, so that it cannot end
// its line or smuggle in another header field.
func CheckText(h, v string) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return errAt(h, i, ErrSyntax)
		}
	}
	return nil
}

// ValidateValue checks the text of a whole header field value for the
// header id: CheckText, then, for a header sansip knows, its grammar (every
// element of a list). Unknown headers need only pass CheckText.
func ValidateValue(id ID, name, v string) error {
	if err := CheckText(name, v); err != nil {
		return err
	}
	if id >= numIDs || parsers[id] == nil {
		return nil
	}
	parse := parsers[id]
	if !id.IsList() {
		return parse(v)
	}
	for e, ok := range Elements(v) {
		if !ok {
			return errAt(name, 0, ErrSyntax)
		}
		if e == "" {
			return errAt(name, 0, ErrEmpty)
		}
		if err := parse(e); err != nil {
			return err
		}
	}
	return nil
}

// Parses reports whether sansip has a typed parser for the header id.
func Parses(id ID) bool { return id < numIDs && parsers[id] != nil }
