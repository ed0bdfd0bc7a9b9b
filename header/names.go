package header

import "github.com/sansip/sansip/internal/abnf"

// ID identifies a header field that sansip knows by name. Unknown is every
// other header field, kept as raw text.
type ID uint8

// Known header fields. The order is not significant.
const (
	Unknown ID = iota
	IDAccept
	IDAcceptContact
	IDAcceptEncoding
	IDAcceptLanguage
	IDAlertInfo
	IDAllow
	IDAllowEvents
	IDAuthenticationInfo
	IDAuthorization
	IDCallID
	IDCallInfo
	IDContact
	IDContentDisposition
	IDContentEncoding
	IDContentLanguage
	IDContentLength
	IDContentType
	IDCSeq
	IDDate
	IDErrorInfo
	IDEvent
	IDExpires
	IDFlowTimer
	IDFrom
	IDIdentity
	IDIdentityInfo
	IDInReplyTo
	IDMaxBreadth
	IDMaxForwards
	IDMIMEVersion
	IDMinExpires
	IDMinSE
	IDOrganization
	IDPAssertedIdentity
	IDPPreferredIdentity
	IDPath
	IDPriority
	IDPrivacy
	IDProxyAuthenticate
	IDProxyAuthorization
	IDProxyRequire
	IDRAck
	IDReason
	IDRecordRoute
	IDReferTo
	IDReferredBy
	IDRejectContact
	IDReplaces
	IDReplyTo
	IDRequestDisposition
	IDRequire
	IDRetryAfter
	IDRoute
	IDRSeq
	IDServer
	IDServiceRoute
	IDSessionExpires
	IDSIPETag
	IDSIPIfMatch
	IDSubject
	IDSubscriptionState
	IDSupported
	IDTargetDialog
	IDTimestamp
	IDTo
	IDUnsupported
	IDUserAgent
	IDVia
	IDWarning
	IDWWWAuthenticate
	numIDs
)

type info struct {
	name    string // canonical spelling
	compact byte   // compact form, 0 if none
	list    bool   // values are a comma-separated list (RFC 3261 §7.3.1)
	empty   bool   // the list may be empty ("Allow:", RFC 3261 §25.1)
}

var infos = [numIDs]info{
	IDAccept:             {"Accept", 0, true, true},
	IDAcceptContact:      {"Accept-Contact", 'a', true, false},
	IDAcceptEncoding:     {"Accept-Encoding", 0, true, true},
	IDAcceptLanguage:     {"Accept-Language", 0, true, true},
	IDAlertInfo:          {"Alert-Info", 0, true, false},
	IDAllow:              {"Allow", 0, true, true},
	IDAllowEvents:        {"Allow-Events", 'u', true, false},
	IDAuthenticationInfo: {"Authentication-Info", 0, false, false},
	IDAuthorization:      {"Authorization", 0, false, false},
	IDCallID:             {"Call-ID", 'i', false, false},
	IDCallInfo:           {"Call-Info", 0, true, false},
	IDContact:            {"Contact", 'm', true, false},
	IDContentDisposition: {"Content-Disposition", 0, false, false},
	IDContentEncoding:    {"Content-Encoding", 'e', true, false},
	IDContentLanguage:    {"Content-Language", 0, true, false},
	IDContentLength:      {"Content-Length", 'l', false, false},
	IDContentType:        {"Content-Type", 'c', false, false},
	IDCSeq:               {"CSeq", 0, false, false},
	IDDate:               {"Date", 0, false, false},
	IDErrorInfo:          {"Error-Info", 0, true, false},
	IDEvent:              {"Event", 'o', false, false},
	IDExpires:            {"Expires", 0, false, false},
	IDFlowTimer:          {"Flow-Timer", 0, false, false},
	IDFrom:               {"From", 'f', false, false},
	IDIdentity:           {"Identity", 'y', false, false},
	IDIdentityInfo:       {"Identity-Info", 'n', false, false},
	IDInReplyTo:          {"In-Reply-To", 0, true, false},
	IDMaxBreadth:         {"Max-Breadth", 0, false, false},
	IDMaxForwards:        {"Max-Forwards", 0, false, false},
	IDMIMEVersion:        {"MIME-Version", 0, false, false},
	IDMinExpires:         {"Min-Expires", 0, false, false},
	IDMinSE:              {"Min-SE", 0, false, false},
	IDOrganization:       {"Organization", 0, false, false},
	IDPAssertedIdentity:  {"P-Asserted-Identity", 0, true, false},
	IDPPreferredIdentity: {"P-Preferred-Identity", 0, true, false},
	IDPath:               {"Path", 0, true, false},
	IDPriority:           {"Priority", 0, false, false},
	IDPrivacy:            {"Privacy", 0, false, false},
	IDProxyAuthenticate:  {"Proxy-Authenticate", 0, false, false},
	IDProxyAuthorization: {"Proxy-Authorization", 0, false, false},
	IDProxyRequire:       {"Proxy-Require", 0, true, false},
	IDRAck:               {"RAck", 0, false, false},
	IDReason:             {"Reason", 0, true, false},
	IDRecordRoute:        {"Record-Route", 0, true, false},
	IDReferTo:            {"Refer-To", 'r', false, false},
	IDReferredBy:         {"Referred-By", 'b', false, false},
	IDRejectContact:      {"Reject-Contact", 'j', true, false},
	IDReplaces:           {"Replaces", 0, false, false},
	IDReplyTo:            {"Reply-To", 0, false, false},
	IDRequestDisposition: {"Request-Disposition", 'd', true, false},
	IDRequire:            {"Require", 0, true, false},
	IDRetryAfter:         {"Retry-After", 0, false, false},
	IDRoute:              {"Route", 0, true, false},
	IDRSeq:               {"RSeq", 0, false, false},
	IDServer:             {"Server", 0, false, false},
	IDServiceRoute:       {"Service-Route", 0, true, false},
	IDSessionExpires:     {"Session-Expires", 'x', false, false},
	IDSIPETag:            {"SIP-ETag", 0, false, false},
	IDSIPIfMatch:         {"SIP-If-Match", 0, false, false},
	IDSubject:            {"Subject", 's', false, false},
	IDSubscriptionState:  {"Subscription-State", 0, false, false},
	IDSupported:          {"Supported", 'k', true, true},
	IDTargetDialog:       {"Target-Dialog", 0, false, false},
	IDTimestamp:          {"Timestamp", 0, false, false},
	IDTo:                 {"To", 't', false, false},
	IDUnsupported:        {"Unsupported", 0, true, false},
	IDUserAgent:          {"User-Agent", 0, false, false},
	IDVia:                {"Via", 'v', true, false},
	IDWarning:            {"Warning", 0, true, false},
	IDWWWAuthenticate:    {"WWW-Authenticate", 0, false, false},
}

// byCompact maps a lower-case compact form to its header.
var byCompact [128]ID

// byName is an open-addressed hash table of the long names, probed
// linearly; a name is confirmed by comparing it case-insensitively.
var byName [256]ID

func nameHash(name string) uint {
	n := len(name)
	h := uint(n)*131 + uint(name[0]|0x20)*31 + uint(name[n-1]|0x20)*7 + uint(name[n/2]|0x20)
	return h & 255
}

func init() {
	for id := ID(1); id < numIDs; id++ {
		in := infos[id]
		h := nameHash(in.name)
		for byName[h] != Unknown {
			h = (h + 1) & 255
		}
		byName[h] = id
		if in.compact != 0 {
			byCompact[in.compact] = id
		}
	}
}

// Name returns the canonical spelling of the header's name ("Call-ID"), or
// "" for Unknown.
func (id ID) Name() string {
	if id >= numIDs {
		return ""
	}
	return infos[id].name
}

// String returns the canonical name.
func (id ID) String() string {
	if id == Unknown {
		return "unknown header"
	}
	return id.Name()
}

// Compact returns the compact form of the header's name (RFC 3261 §7.3.3),
// or "" if it has none.
func (id ID) Compact() string {
	if id >= numIDs || infos[id].compact == 0 {
		return ""
	}
	return string(infos[id].compact)
}

// IsList reports whether the header's values form a comma-separated list,
// so that several values in one line and one value on each of several lines
// mean the same (RFC 3261 §7.3.1).
func (id ID) IsList() bool { return id < numIDs && infos[id].list }

// Repeatable reports whether a message may carry several fields of the
// header: a list (IsList), or one of the four authentication headers that
// RFC 3261 §7.3.1 excepts from its rule, WWW-Authenticate, Authorization,
// Proxy-Authenticate and Proxy-Authorization, which take one value per
// field and are never combined into one line (a 401 with one challenge per
// algorithm, RFC 8760 §2.3; credentials for several realms, §22.3; RFC
// 7235 §4.1).
func (id ID) Repeatable() bool {
	switch id {
	case IDWWWAuthenticate, IDAuthorization, IDProxyAuthenticate, IDProxyAuthorization:
		return true
	}
	return id.IsList()
}

// AllowsEmpty reports whether the header's list may be empty, so that a
// field with no value holds no values rather than a malformed one: Accept,
// Accept-Encoding, Accept-Language, Allow and Supported (RFC 3261 §25.1).
func (id ID) AllowsEmpty() bool { return id < numIDs && infos[id].empty }

// Lookup returns the ID of a header name written in any case, in its long
// or compact form. It returns Unknown for names sansip does not know.
func Lookup(name string) ID {
	switch len(name) {
	case 0:
		return Unknown
	case 1:
		if c := name[0] | 0x20; c < 128 {
			return byCompact[c]
		}
		return Unknown
	}
	for h := nameHash(name); ; h = (h + 1) & 255 {
		id := byName[h]
		if id == Unknown {
			return Unknown
		}
		if abnf.EqualFold(infos[id].name, name) {
			return id
		}
	}
}

// ValidName reports whether name is a valid header field name: a token
// (RFC 3261 §25.1).
func ValidName(name string) bool { return abnf.IsToken(name) }

// CanonicalName returns the canonical spelling of a known header name
// (long or compact, any case), or name itself if it is not known.
func CanonicalName(name string) string {
	if id := Lookup(name); id != Unknown {
		return id.Name()
	}
	return name
}
