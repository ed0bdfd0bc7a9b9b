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
}

var infos = [numIDs]info{
	IDAccept:             {"Accept", 0, true},
	IDAcceptContact:      {"Accept-Contact", 'a', true},
	IDAcceptEncoding:     {"Accept-Encoding", 0, true},
	IDAcceptLanguage:     {"Accept-Language", 0, true},
	IDAlertInfo:          {"Alert-Info", 0, true},
	IDAllow:              {"Allow", 0, true},
	IDAllowEvents:        {"Allow-Events", 'u', true},
	IDAuthenticationInfo: {"Authentication-Info", 0, false},
	IDAuthorization:      {"Authorization", 0, false},
	IDCallID:             {"Call-ID", 'i', false},
	IDCallInfo:           {"Call-Info", 0, true},
	IDContact:            {"Contact", 'm', true},
	IDContentDisposition: {"Content-Disposition", 0, false},
	IDContentEncoding:    {"Content-Encoding", 'e', true},
	IDContentLanguage:    {"Content-Language", 0, true},
	IDContentLength:      {"Content-Length", 'l', false},
	IDContentType:        {"Content-Type", 'c', false},
	IDCSeq:               {"CSeq", 0, false},
	IDDate:               {"Date", 0, false},
	IDErrorInfo:          {"Error-Info", 0, true},
	IDEvent:              {"Event", 'o', false},
	IDExpires:            {"Expires", 0, false},
	IDFlowTimer:          {"Flow-Timer", 0, false},
	IDFrom:               {"From", 'f', false},
	IDIdentity:           {"Identity", 'y', false},
	IDIdentityInfo:       {"Identity-Info", 'n', false},
	IDInReplyTo:          {"In-Reply-To", 0, true},
	IDMaxBreadth:         {"Max-Breadth", 0, false},
	IDMaxForwards:        {"Max-Forwards", 0, false},
	IDMIMEVersion:        {"MIME-Version", 0, false},
	IDMinExpires:         {"Min-Expires", 0, false},
	IDMinSE:              {"Min-SE", 0, false},
	IDOrganization:       {"Organization", 0, false},
	IDPAssertedIdentity:  {"P-Asserted-Identity", 0, true},
	IDPPreferredIdentity: {"P-Preferred-Identity", 0, true},
	IDPath:               {"Path", 0, true},
	IDPriority:           {"Priority", 0, false},
	IDPrivacy:            {"Privacy", 0, false},
	IDProxyAuthenticate:  {"Proxy-Authenticate", 0, false},
	IDProxyAuthorization: {"Proxy-Authorization", 0, false},
	IDProxyRequire:       {"Proxy-Require", 0, true},
	IDRAck:               {"RAck", 0, false},
	IDReason:             {"Reason", 0, true},
	IDRecordRoute:        {"Record-Route", 0, true},
	IDReferTo:            {"Refer-To", 'r', false},
	IDReferredBy:         {"Referred-By", 'b', false},
	IDRejectContact:      {"Reject-Contact", 'j', true},
	IDReplaces:           {"Replaces", 0, false},
	IDReplyTo:            {"Reply-To", 0, false},
	IDRequestDisposition: {"Request-Disposition", 'd', true},
	IDRequire:            {"Require", 0, true},
	IDRetryAfter:         {"Retry-After", 0, false},
	IDRoute:              {"Route", 0, true},
	IDRSeq:               {"RSeq", 0, false},
	IDServer:             {"Server", 0, false},
	IDServiceRoute:       {"Service-Route", 0, true},
	IDSessionExpires:     {"Session-Expires", 'x', false},
	IDSIPETag:            {"SIP-ETag", 0, false},
	IDSIPIfMatch:         {"SIP-If-Match", 0, false},
	IDSubject:            {"Subject", 's', false},
	IDSubscriptionState:  {"Subscription-State", 0, false},
	IDSupported:          {"Supported", 'k', true},
	IDTargetDialog:       {"Target-Dialog", 0, false},
	IDTimestamp:          {"Timestamp", 0, false},
	IDTo:                 {"To", 't', false},
	IDUnsupported:        {"Unsupported", 0, true},
	IDUserAgent:          {"User-Agent", 0, false},
	IDVia:                {"Via", 'v', true},
	IDWarning:            {"Warning", 0, true},
	IDWWWAuthenticate:    {"WWW-Authenticate", 0, false},
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
