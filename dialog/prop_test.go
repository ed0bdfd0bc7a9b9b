package dialog

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/uri"
)

type op struct {
	Kind    int // 0: we send a request, 1: a request arrives, 2: a 2xx to our target refresh arrives
	Method  int
	Seq     int // arriving CSeq relative to the remote sequence number
	Contact int // 0: none, else the n-th address
}

var methods = []string{"INVITE", "UPDATE", "INFO", "BYE", "ACK", "CANCEL", "SUBSCRIBE", "NOTIFY", "OPTIONS", "PRACK"}

func contactURI(n int) uri.URI { return u(fmt.Sprintf("sip:peer@192.0.2.%d", n)) }

// arrival builds a request from the peer inside d.
func arrival(d *Dialog, method string, seq uint32, contact int) *message.Message {
	c := ""
	if contact > 0 {
		c = "Contact: <" + contactURI(contact).String() + ">\r\n"
	}
	s := method + " sip:us@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK" + strconv.Itoa(int(seq)) + "\r\n" +
		"From: <sip:peer@example.com>;tag=" + d.ID.RemoteTag + "\r\nTo: <sip:us@example.com>;tag=" + d.ID.LocalTag + "\r\n" +
		"Call-ID: " + d.ID.CallID + "\r\nCSeq: " + strconv.Itoa(int(seq)) + " " + method + "\r\n" + c + "Content-Length: 0\r\n\r\n"
	m, err := message.ParseString(s, nil)
	if err != nil {
		panic(err)
	}
	return m
}

// TestPropDialogRules: for any sequence of requests sent and received and
// target refresh responses, the local CSeq strictly increases with every
// request sent (ACK and CANCEL aside), a confirmed dialog's route set never
// changes, and its remote target changes only when a target refresh is
// accepted: a 2xx to ours, or our 2xx to the peer's (§12.2, RFC 6141 §4).
func TestPropDialogRules(t *testing.T) {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 1000
	seed := int64(20261123)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d", seed)
	props := gopter.NewProperties(p)
	props.Property("dialog rules", prop.ForAll(func(ops []op) string {
		d, err := NewUAS(parse(t, invite), "314159", u("sip:us@192.0.2.1"), false)
		if err != nil {
			return err.Error()
		}
		d.State = Confirmed
		routes := slices.Clone(d.RouteSet)
		target := d.RemoteTarget
		lastLocal := d.LocalSeq
		for i, o := range ops {
			method := methods[o.Method%len(methods)]
			switch o.Kind % 3 {
			case 0:
				m, _, err := d.Request(method, RequestOptions{Via: header.Via{Transport: "UDP", Host: "192.0.2.1", Params: header.Params(";branch=z9hG4bK" + strconv.Itoa(i))}})
				if err != nil {
					return "request: " + err.Error()
				}
				if m.CSeq().Seq <= lastLocal {
					return fmt.Sprintf("CSeq %d after %d", m.CSeq().Seq, lastLocal)
				}
				lastLocal = m.CSeq().Seq
				if m.RequestURI().String() != d.RemoteTarget.String() {
					return "Request-URI is not the remote target"
				}
			case 1:
				seq := int64(d.RemoteSeq) + int64(o.Seq%5) - 1
				if seq < 1 {
					seq = 1
				}
				before := d.RemoteSeq
				req := arrival(d, method, uint32(seq), o.Contact%4)
				err := d.Receive(req)
				counted := method != "ACK" && method != "CANCEL"
				if counted && uint32(seq) < before && err == nil {
					return fmt.Sprintf("out-of-order CSeq %d after %d accepted", seq, before)
				}
				if d.RemoteTarget != target {
					return "the remote target changed before the request was accepted"
				}
				if err == nil && TargetRefresh(method) && o.Seq%2 == 0 {
					// Accepted with a 2xx (RFC 6141 §4); an odd Seq refuses it.
					d.RefreshTarget(req)
					if o.Contact%4 > 0 {
						target = contactURI(o.Contact % 4)
					}
				}
			case 2:
				if o.Contact%4 > 0 {
					ok := arrival(d, "INVITE", 1, o.Contact%4)
					d.RefreshTarget(ok)
					target = contactURI(o.Contact % 4)
				}
			}
			if !slices.Equal(routes, d.RouteSet) {
				return "the route set changed"
			}
			if d.RemoteTarget != target {
				return fmt.Sprintf("remote target %v, want %v", d.RemoteTarget, target)
			}
		}
		return ""
	}, gen.SliceOfN(40, gen.Struct(reflect.TypeOf(op{}), map[string]gopter.Gen{
		"Kind": gen.IntRange(0, 2), "Method": gen.IntRange(0, 20), "Seq": gen.IntRange(0, 10), "Contact": gen.IntRange(0, 7),
	}))))
	props.TestingRun(t)
}
