package loop

import (
	"bytes"
	"sync/atomic"
)

// Methods are the request methods counted by name; others count as
// "other".
var Methods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
	"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE", "other"}

// Traffic counts messages by request method and by response code.
type Traffic struct {
	Requests  [len(Methods)]atomic.Uint64
	Responses [700]atomic.Uint64 // by status code; index 0 counts codes out of range
}

// countStart counts one message from its start line.
func (t *Traffic) countStart(msg []byte) {
	if bytes.HasPrefix(msg, []byte("SIP/2.0 ")) && len(msg) >= 11 {
		c := int(msg[8]-'0')*100 + int(msg[9]-'0')*10 + int(msg[10]-'0')
		t.countCode(c)
		return
	}
	sp := bytes.IndexByte(msg, ' ')
	if sp < 0 {
		return
	}
	t.countMethod(string(msg[:sp]))
}

func (t *Traffic) countMethod(m string) {
	for i, name := range Methods[:len(Methods)-1] {
		if m == name {
			t.Requests[i].Add(1)
			return
		}
	}
	t.Requests[len(Methods)-1].Add(1)
}

func (t *Traffic) countCode(c int) {
	if c < 100 || c > 699 {
		c = 0
	}
	t.Responses[c].Add(1)
}
