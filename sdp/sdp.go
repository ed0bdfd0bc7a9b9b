// Package sdp parses and renders session descriptions (SDP, RFC 8866) and
// implements the offer/answer model (RFC 3264) on top of them.
//
// A Session holds every line type of RFC 8866 §5 in its fields; attributes
// (a=) are kept in order, known or not, so that rendering gives back what was
// parsed. Parse accepts the RFC's grammar (§9), lines ended by CRLF or by a
// bare LF (§5), and refuses what the grammar forbids with an *Error naming the
// line. Marshal and AppendTo write the lines in the RFC's order, ended by
// CRLF; for any parsed session s, Parse(s.Marshal()) equals s.
//
// On top of the text model sit helpers for what a user agent needs:
// attributes by name, the media direction (§6.7), codecs from rtpmap/fmtp and
// the static payload types of RFC 3551, the ICE and DTLS attributes WebRTC
// uses (RFC 8839, RFC 8122, RFC 4145, RFC 5888, RFC 8843, RFC 5761), the
// offer/answer procedures (Offer, Answer, Validate, Hold, Resume,
// NextVersion), and a summary of the negotiated streams (Streams) whose
// differences (Compare) tell a user agent that media started, changed or
// stopped.
//
// The package is pure: it reads no clock and no random source. Where an
// offer or answer needs a fresh o= session id, the caller passes it in
// Capabilities.
package sdp

import (
	"errors"
	"fmt"
)

// Session is a session description: the session-level lines of RFC 8866 §5
// and the media descriptions that follow them.
//
// The zero value renders as a syntactically complete description with empty
// fields filled in as documented on AppendTo; a parsed Session has every
// mandatory field set.
type Session struct {
	Version    int         // v= (§5.1); always 0 when parsed
	Origin     Origin      // o= (§5.2)
	Name       string      // s= (§5.3); Parse tolerates an empty one
	Info       string      // i= (§5.4); "" when absent
	URI        string      // u= (§5.5); "" when absent
	Emails     []string    // e= lines (§5.6), as written
	Phones     []string    // p= lines (§5.6), as written
	Connection *Connection // session-level c= (§5.7); nil when absent
	Bandwidths []Bandwidth // b= lines (§5.8)
	Times      []Time      // t= lines with their r= and z= lines (§5.9-§5.11)
	Key        string      // k= (§5.12, obsolete), as written; "" when absent
	Attributes Attributes  // session-level a= lines (§5.13), in order
	Media      []Media     // media descriptions (§5.14), in order
}

// Origin is the o= line (RFC 8866 §5.2): who created the session, and which
// version of its description this is.
type Origin struct {
	Username       string // "-" when the host has no notion of user ids
	SessionID      uint64 // sess-id
	SessionVersion uint64 // sess-version; RFC 3264 §8 increments it on every change
	NetType        string // "IN"
	AddrType       string // "IP4" or "IP6"
	Address        string // unicast address or FQDN of the originating host
}

// Connection is a c= line (RFC 8866 §5.7).
//
// For AddrType "IP4", TTL and Count hold the multicast "/ttl/count" suffix;
// for "IP6", Count holds the "/count" suffix (IP6 multicast has no TTL). For
// any other address type the whole connection address, slashes included, is
// in Address. Zero means absent; a TTL of 0 written as "/0" is parsed as
// absent.
type Connection struct {
	NetType  string // "IN"
	AddrType string // "IP4" or "IP6"
	Address  string // IP address or FQDN, without the multicast suffix
	TTL      int    // IP4 multicast TTL, 0 when absent
	Count    int    // number of multicast addresses, 0 when absent
}

// Bandwidth is a b= line (RFC 8866 §5.8): "b=AS:64" is {Type: "AS", Value: 64}.
type Bandwidth struct {
	Type  string // bwtype: CT, AS, TIAS (RFC 3890), RR, RS (RFC 3556), ...
	Value uint64 // kilobits per second for CT and AS
}

// Time is a time description (RFC 8866 §5.9-§5.11): a t= line, the r= lines
// that follow it and the z= line that modifies them.
type Time struct {
	Start   uint64   // NTP seconds; 0 for an unbounded or permanent session
	Stop    uint64   // NTP seconds; 0 for no end
	Repeats []string // r= values as written, "604800 3600 0 90000"
	Zones   string   // z= value as written; "" when absent
}

// Attribute is an a= line (RFC 8866 §5.13): a property attribute "a=name" or
// a value attribute "a=name:value".
type Attribute struct {
	Name     string
	Value    string
	HasValue bool // a value attribute, even when Value is empty ("a=name:")
}

// Media is a media description (RFC 8866 §5.14): its m= line and the lines
// after it up to the next m= line.
type Media struct {
	Type        string       // media: audio, video, text, application, message, image, ...
	Port        int          // transport port; 0 rejects or disables the stream (RFC 3264 §6, §8.2)
	PortCount   int          // the "/number of ports" suffix, 0 when absent
	Proto       string       // RTP/AVP, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP, udptl, ...
	Formats     []string     // fmt list: RTP payload types for RTP profiles
	Info        string       // i=, "" when absent
	Connections []Connection // media-level c= lines
	Bandwidths  []Bandwidth  // media-level b= lines
	Key         string       // k= (obsolete), "" when absent
	Attributes  Attributes   // media-level a= lines, in order
}

// Errors of Parse, matchable with errors.Is. A parse error is an *Error
// that wraps one of them.
var (
	ErrSyntax      = errors.New("malformed line")
	ErrUnknownType = errors.New("unknown line type")
	ErrOrder       = errors.New("line out of order")
	ErrMissing     = errors.New("mandatory line missing")
	ErrVersion     = errors.New("unsupported SDP version")
)

// Errors of Validate and Answer, matchable with errors.Is.
var (
	ErrMediaCount = errors.New("answer has a different number of media descriptions than the offer")
	ErrMediaType  = errors.New("answer media description does not match the offer's")
	ErrPort       = errors.New("answer accepts a stream the offer disabled")
	ErrCodec      = errors.New("answer has a format the offer lacks")
	ErrDirection  = errors.New("answer direction incompatible with the offer's")
	ErrInvalid    = errors.New("session description does not survive rendering")
)

// Error is a parse error: the line (counted from 1) and its type letter, and
// what is wrong (wrapping one of the sentinels).
type Error struct {
	Line int   // line number, from 1; the line after the last one for a missing line
	Type byte  // the line's type letter, 0 when the line has none
	Err  error // wraps ErrSyntax, ErrUnknownType, ErrOrder, ErrMissing or ErrVersion
}

// Error returns "sdp: line N (x=): what".
func (e *Error) Error() string {
	if e.Type == 0 {
		return fmt.Sprintf("sdp: line %d: %v", e.Line, e.Err)
	}
	if e.Type < 0x21 || e.Type > 0x7e {
		return fmt.Sprintf("sdp: line %d (%q): %v", e.Line, e.Type, e.Err)
	}
	return fmt.Sprintf("sdp: line %d (%c=): %v", e.Line, e.Type, e.Err)
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }
