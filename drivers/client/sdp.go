package client

import (
	"fmt"

	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/sdp"
)

// audio is what the client offers and accepts: G.711 µ-law and A-law and
// DTMF events. The client sends and receives no media; the description
// only makes its calls valid offer/answer exchanges.
func (c *Client) capabilities() sdp.Capabilities {
	id := uint64(c.rt.Now())&0xffffffff + 1
	port := int(c.local.Port()) + 2
	if port > 65534 {
		port = 49170
	}
	return sdp.Capabilities{
		Username: "sansip", SessionID: id, SessionVersion: id,
		Address: c.local.Addr().String(),
		Media: []sdp.MediaCapability{{
			Type: "audio",
			Port: port &^ 1,
			Codecs: []sdp.Codec{
				{Payload: 0, Name: "PCMU", ClockRate: 8000},
				{Payload: 8, Name: "PCMA", ClockRate: 8000},
				{Payload: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"},
			},
		}},
	}
}

// Offer returns an SDP offer (RFC 3264) of one audio stream on the local
// address.
func (c *Client) Offer() ([]byte, error) {
	s, err := sdp.Offer(c.capabilities())
	if err != nil {
		return nil, fmt.Errorf("client: offer: %w", err)
	}
	return s.Marshal(), nil
}

// Answer returns the SDP answer to the offer in an INVITE, or an offer when
// the INVITE has no body; an error wrapping sdp.ErrNoMedia when nothing
// offered is acceptable (488).
func (c *Client) Answer(invite *message.Message) ([]byte, error) {
	var offer []byte
	if invite != nil && invite.ContentLength() > 0 {
		offer = []byte(invite.Body())
	}
	b, err := sdp.AnswerTo(offer, c.capabilities())
	if err != nil {
		return nil, fmt.Errorf("client: answer: %w", err)
	}
	return b, nil
}
