package txn

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// step is one input to a transaction and what must come out.
//
// do is one of: "start" (the TU starts the client transaction), "recv N"
// (a response with status N arrives), "recv REQ" (the request arrives;
// again for a retransmission), "recv ACK" (the ACK for our non-2xx),
// "recv ACK2xx" (an ACK for a 2xx), "respond N" (the TU answers N), "fire X"
// (Timer X fires), "fail" (the transport fails).
//
// want lists the effects, rendered by describe; an entry prefixed "udp:" or
// "tcp:" is expected only on that transport. state is the state after the
// step, or "gone".
type step struct {
	do    string
	want  []string
	state string
}

type fsmCase struct {
	name    string
	rfc     string
	method  string // INVITE or OPTIONS
	server  bool
	udpOnly bool // the arrow exists only on unreliable transports
	steps   []step
}

var (
	startInvite  = step{"start", []string{"send INVITE", "udp:set A 500ms", "set B 32s"}, "Calling"}
	startOptions = step{"start", []string{"send OPTIONS", "udp:set E 500ms", "set F 32s"}, "Trying"}
	recvInvite   = step{"recv REQ", []string{"set Trying 200ms", "request INVITE"}, "Proceeding"}
	recvOptions  = step{"recv REQ", []string{"request OPTIONS"}, "Trying"}
)

// fsmCases walk every arrow of RFC 3261 Figures 5 to 8 and the RFC 6026
// changes to Figures 5 and 7.
var fsmCases = []fsmCase{
	// Figure 5 (RFC 6026 §7.2): INVITE client transaction.
	{name: "Calling: INVITE from TU", rfc: "3261 §17.1.1.2", method: "INVITE", steps: []step{startInvite}},
	{name: "Calling: Timer A fires, reset A doubled, INVITE sent", rfc: "3261 §17.1.1.2", method: "INVITE", udpOnly: true, steps: []step{
		startInvite,
		{"fire A", []string{"send INVITE", "set A 1s"}, "Calling"},
		{"fire A", []string{"send INVITE", "set A 2s"}, "Calling"},
		{"fire A", []string{"send INVITE", "set A 4s"}, "Calling"},
		{"fire A", []string{"send INVITE", "set A 8s"}, "Calling"},
	}},
	{name: "Calling: Timer B fires, inform TU", rfc: "3261 §17.1.1.2", method: "INVITE", steps: []step{
		startInvite,
		{"fire B", []string{"udp:cancel A", "timeout", "terminated"}, "gone"},
	}},
	{name: "Calling: transport error, inform TU", rfc: "3261 §17.1.1.2, §17.1.4", method: "INVITE", steps: []step{
		startInvite,
		{"fail", []string{"transport-error", "udp:cancel A", "cancel B", "terminated"}, "gone"},
	}},
	{name: "Calling: 1xx to TU, Proceeding", rfc: "3261 §17.1.1.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 180", []string{"udp:cancel A", "cancel B", "response 180"}, "Proceeding"},
	}},
	{name: "Calling: 2xx to TU, Accepted", rfc: "6026 §7.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 200", []string{"udp:cancel A", "cancel B", "response 200", "set M 32s"}, "Accepted"},
	}},
	{name: "Calling: 300-699, ACK sent, response to TU, Completed", rfc: "3261 §17.1.1.2, §17.1.1.3", method: "INVITE", steps: []step{
		startInvite,
		{"recv 486", []string{"udp:cancel A", "cancel B", "send ACK", "response 486", "udp:set D 32s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Proceeding: 1xx to TU", rfc: "3261 §17.1.1.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 100", []string{"udp:cancel A", "cancel B", "response 100"}, "Proceeding"},
		{"recv 180", []string{"response 180"}, "Proceeding"},
		{"recv 183", []string{"response 183"}, "Proceeding"},
	}},
	{name: "Proceeding: 2xx to TU, Accepted", rfc: "6026 §7.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 180", []string{"udp:cancel A", "cancel B", "response 180"}, "Proceeding"},
		{"recv 200", []string{"response 200", "set M 32s"}, "Accepted"},
	}},
	{name: "Proceeding: 300-699, ACK sent, Completed", rfc: "3261 §17.1.1.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 180", []string{"udp:cancel A", "cancel B", "response 180"}, "Proceeding"},
		{"recv 603", []string{"send ACK", "response 603", "udp:set D 32s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Completed: 300-699 retransmitted, ACK sent again, not to TU", rfc: "3261 §17.1.1.2", method: "INVITE", udpOnly: true, steps: []step{
		startInvite,
		{"recv 486", []string{"cancel A", "cancel B", "send ACK", "response 486", "set D 32s"}, "Completed"},
		{"recv 486", []string{"send ACK"}, "Completed"},
		{"recv 486", []string{"send ACK"}, "Completed"},
	}},
	{name: "Completed: Timer D fires, Terminated", rfc: "3261 §17.1.1.2", method: "INVITE", udpOnly: true, steps: []step{
		startInvite,
		{"recv 404", []string{"cancel A", "cancel B", "send ACK", "response 404", "set D 32s"}, "Completed"},
		{"fire D", []string{"terminated"}, "gone"},
	}},
	{name: "Completed: transport error ends it, the TU already has its outcome", rfc: "3261 §17.1.4", method: "INVITE", udpOnly: true, steps: []step{
		startInvite,
		{"recv 404", []string{"cancel A", "cancel B", "send ACK", "response 404", "set D 32s"}, "Completed"},
		{"fail", []string{"cancel D", "terminated"}, "gone"},
	}},
	{name: "Accepted: 2xx to TU (retransmission or fork)", rfc: "6026 §7.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 200", []string{"udp:cancel A", "cancel B", "response 200", "set M 32s"}, "Accepted"},
		{"recv 200", []string{"response 200"}, "Accepted"},
		{"recv 200", []string{"response 200"}, "Accepted"},
		{"recv 486", nil, "Accepted"},
	}},
	{name: "Accepted: Timer M fires, Terminated", rfc: "6026 §7.2", method: "INVITE", steps: []step{
		startInvite,
		{"recv 200", []string{"udp:cancel A", "cancel B", "response 200", "set M 32s"}, "Accepted"},
		{"fire M", []string{"terminated"}, "gone"},
	}},

	// Figure 6: non-INVITE client transaction.
	{name: "Trying: request from TU", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{startOptions}},
	{name: "Trying: Timer E fires, E doubled up to T2", rfc: "3261 §17.1.2.2", method: "OPTIONS", udpOnly: true, steps: []step{
		startOptions,
		{"fire E", []string{"send OPTIONS", "set E 1s"}, "Trying"},
		{"fire E", []string{"send OPTIONS", "set E 2s"}, "Trying"},
		{"fire E", []string{"send OPTIONS", "set E 4s"}, "Trying"},
		{"fire E", []string{"send OPTIONS", "set E 4s"}, "Trying"},
	}},
	{name: "Trying: Timer F fires, inform TU", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"fire F", []string{"udp:cancel E", "timeout", "terminated"}, "gone"},
	}},
	{name: "Trying: transport error, inform TU", rfc: "3261 §17.1.2.2, §17.1.4", method: "OPTIONS", steps: []step{
		startOptions,
		{"fail", []string{"transport-error", "udp:cancel E", "cancel F", "terminated"}, "gone"},
	}},
	{name: "Trying: 1xx to TU, Proceeding", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
	}},
	{name: "Trying: 200-699 to TU, Completed", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 200", []string{"udp:cancel E", "cancel F", "response 200", "udp:set K 5s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Proceeding: Timer E fires, E reset to T2", rfc: "3261 §17.1.2.2", method: "OPTIONS", udpOnly: true, steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
		{"fire E", []string{"send OPTIONS", "set E 4s"}, "Proceeding"},
		{"fire E", []string{"send OPTIONS", "set E 4s"}, "Proceeding"},
	}},
	{name: "Proceeding: 1xx to TU", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
		{"recv 180", []string{"response 180"}, "Proceeding"},
	}},
	{name: "Proceeding: 200-699 to TU, Completed", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
		{"recv 404", []string{"udp:cancel E", "cancel F", "response 404", "udp:set K 5s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Proceeding: Timer F fires, inform TU", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
		{"fire F", []string{"udp:cancel E", "timeout", "terminated"}, "gone"},
	}},
	{name: "Proceeding: transport error, inform TU", rfc: "3261 §17.1.2.2", method: "OPTIONS", steps: []step{
		startOptions,
		{"recv 100", []string{"response 100"}, "Proceeding"},
		{"fail", []string{"transport-error", "udp:cancel E", "cancel F", "terminated"}, "gone"},
	}},
	{name: "Completed: responses absorbed, Timer K fires, Terminated", rfc: "3261 §17.1.2.2", method: "OPTIONS", udpOnly: true, steps: []step{
		startOptions,
		{"recv 200", []string{"cancel E", "cancel F", "response 200", "set K 5s"}, "Completed"},
		{"recv 200", nil, "Completed"},
		{"fire K", []string{"terminated"}, "gone"},
	}},

	// Figure 7 (RFC 6026 §7.1): INVITE server transaction.
	{name: "INVITE passed to TU, Proceeding", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{recvInvite}},
	{name: "Proceeding: 100 sent if the TU does not answer in 200 ms", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"fire Trying", []string{"send 100"}, "Proceeding"},
		{"recv REQ", []string{"send 100"}, "Proceeding"},
	}},
	{name: "Proceeding: INVITE retransmitted, last provisional sent", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"recv REQ", nil, "Proceeding"},
		{"respond 180", []string{"cancel Trying", "send 180"}, "Proceeding"},
		{"recv REQ", []string{"send 180"}, "Proceeding"},
	}},
	{name: "Proceeding: 101-199 from TU sent", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 180", []string{"cancel Trying", "send 180"}, "Proceeding"},
		{"respond 183", []string{"send 183"}, "Proceeding"},
	}},
	{name: "Proceeding: transport error, inform TU", rfc: "3261 §17.2.1, §17.2.4", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 180", []string{"cancel Trying", "send 180"}, "Proceeding"},
		{"fail", []string{"transport-error", "terminated"}, "gone"},
	}},
	{name: "Proceeding: 2xx from TU sent, Accepted", rfc: "6026 §7.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 200", []string{"cancel Trying", "send 200", "set L 32s"}, "Accepted"},
	}},
	{name: "Proceeding: 300-699 from TU sent, Completed", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "udp:set G 500ms", "set H 32s"}, "Completed"},
	}},
	{name: "Completed: INVITE retransmitted, response sent", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "udp:set G 500ms", "set H 32s"}, "Completed"},
		{"recv REQ", []string{"send 486"}, "Completed"},
	}},
	{name: "Completed: Timer G fires, response sent, G doubled up to T2", rfc: "3261 §17.2.1", method: "INVITE", server: true, udpOnly: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "set G 500ms", "set H 32s"}, "Completed"},
		{"fire G", []string{"send 486", "set G 1s"}, "Completed"},
		{"fire G", []string{"send 486", "set G 2s"}, "Completed"},
		{"fire G", []string{"send 486", "set G 4s"}, "Completed"},
		{"fire G", []string{"send 486", "set G 4s"}, "Completed"},
	}},
	{name: "Completed: Timer H fires, inform TU", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "udp:set G 500ms", "set H 32s"}, "Completed"},
		{"fire H", []string{"timeout", "udp:cancel G", "terminated"}, "gone"},
	}},
	{name: "Completed: transport error, inform TU", rfc: "3261 §17.2.1, §17.2.4", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "udp:set G 500ms", "set H 32s"}, "Completed"},
		{"fail", []string{"transport-error", "udp:cancel G", "cancel H", "terminated"}, "gone"},
	}},
	{name: "Completed: ACK, Confirmed", rfc: "3261 §17.2.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "udp:set G 500ms", "set H 32s"}, "Completed"},
		{"recv ACK", []string{"udp:cancel G", "cancel H", "udp:set I 5s", "tcp:terminated"}, "udp:Confirmed"},
	}},
	{name: "Confirmed: ACK absorbed, Timer I fires, Terminated", rfc: "3261 §17.2.1", method: "INVITE", server: true, udpOnly: true, steps: []step{
		recvInvite,
		{"respond 486", []string{"cancel Trying", "send 486", "set G 500ms", "set H 32s"}, "Completed"},
		{"recv ACK", []string{"cancel G", "cancel H", "set I 5s"}, "Confirmed"},
		{"recv ACK", nil, "Confirmed"},
		{"recv REQ", nil, "Confirmed"},
		{"fire I", []string{"terminated"}, "gone"},
	}},
	{name: "Accepted: INVITE retransmission absorbed", rfc: "6026 §7.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 200", []string{"cancel Trying", "send 200", "set L 32s"}, "Accepted"},
		{"recv REQ", nil, "Accepted"},
	}},
	{name: "Accepted: ACK passed to TU", rfc: "6026 §7.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 200", []string{"cancel Trying", "send 200", "set L 32s"}, "Accepted"},
		{"recv ACK2xx", []string{"ack ACK"}, "Accepted"},
	}},
	{name: "Accepted: 2xx from TU sent", rfc: "6026 §7.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 200", []string{"cancel Trying", "send 200", "set L 32s"}, "Accepted"},
		{"respond 200", []string{"send 200"}, "Accepted"},
	}},
	{name: "Accepted: Timer L fires, Terminated", rfc: "6026 §7.1", method: "INVITE", server: true, steps: []step{
		recvInvite,
		{"respond 200", []string{"cancel Trying", "send 200", "set L 32s"}, "Accepted"},
		{"fire L", []string{"terminated"}, "gone"},
	}},

	// Figure 8: non-INVITE server transaction.
	{name: "request passed to TU, Trying", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{recvOptions}},
	{name: "Trying: request retransmission discarded", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"recv REQ", nil, "Trying"},
	}},
	{name: "Trying: 1xx from TU sent, Proceeding", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 100", []string{"send 100"}, "Proceeding"},
	}},
	{name: "Trying: 200-699 from TU sent, Completed", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 200", []string{"send 200", "udp:set J 32s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Proceeding: 1xx from TU sent", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 100", []string{"send 100"}, "Proceeding"},
		{"respond 180", []string{"send 180"}, "Proceeding"},
	}},
	{name: "Proceeding: request retransmitted, last provisional sent", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 100", []string{"send 100"}, "Proceeding"},
		{"recv REQ", []string{"send 100"}, "Proceeding"},
	}},
	{name: "Proceeding: 200-699 from TU sent, Completed", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 100", []string{"send 100"}, "Proceeding"},
		{"respond 404", []string{"send 404", "udp:set J 32s", "tcp:terminated"}, "udp:Completed"},
	}},
	{name: "Proceeding: transport error, inform TU", rfc: "3261 §17.2.2, §17.2.4", method: "OPTIONS", server: true, steps: []step{
		recvOptions,
		{"respond 100", []string{"send 100"}, "Proceeding"},
		{"fail", []string{"transport-error", "terminated"}, "gone"},
	}},
	{name: "Completed: request retransmitted, final response sent", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, udpOnly: true, steps: []step{
		recvOptions,
		{"respond 200", []string{"send 200", "set J 32s"}, "Completed"},
		{"recv REQ", []string{"send 200"}, "Completed"},
	}},
	{name: "Completed: Timer J fires, Terminated", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, udpOnly: true, steps: []step{
		recvOptions,
		{"respond 200", []string{"send 200", "set J 32s"}, "Completed"},
		{"fire J", []string{"terminated"}, "gone"},
	}},
	{name: "Completed: transport error, inform TU", rfc: "3261 §17.2.2", method: "OPTIONS", server: true, udpOnly: true, steps: []step{
		recvOptions,
		{"respond 200", []string{"send 200", "set J 32s"}, "Completed"},
		{"fail", []string{"transport-error", "cancel J", "terminated"}, "gone"},
	}},
}

func TestStateMachines(t *testing.T) {
	for _, tc := range fsmCases {
		for _, tr := range []effects.Transport{effects.UDP, effects.TCP} {
			if tc.udpOnly && tr != effects.UDP {
				continue
			}
			t.Run(fmt.Sprintf("%s/RFC %s/%v", tc.name, tc.rfc, tr), func(t *testing.T) {
				runFSM(t, tc, tr)
			})
		}
	}
}

func runFSM(t *testing.T, tc fsmCase, tr effects.Transport) {
	h := newHarness(t, Config{})
	gen := ident.Seeded(1)
	req := request(tc.method, tr, gen)
	client, server := onTransport(bob, tr), onTransport(alice, tr)
	var id ID
	var final, srvReq *message.Message
	for i, s := range tc.steps {
		var got []effects.Effect
		verb, arg, _ := strings.Cut(s.do, " ")
		switch verb {
		case "start":
			id, got = h.newClient(req, client)
		case "recv":
			switch {
			case tc.server && arg == "REQ":
				got = h.receive(req, server)
			case tc.server && arg == "ACK":
				ack, err := message.AckFor(req, final)
				if err != nil {
					t.Fatal(err)
				}
				got = h.receive(ack, server)
			case tc.server && arg == "ACK2xx":
				// The UAC's ACK for a 2xx is a new request with its own
				// branch (RFC 3261 §13.2.2.4).
				ack, err := message.AckFor(req, final)
				if err != nil {
					t.Fatal(err)
				}
				v := ack.TopVia()
				v.Params = v.Params.With("branch", gen.Branch())
				ack.ReplaceTopVia(v)
				got = h.receive(ack, server)
			default:
				code, _ := strconv.Atoi(arg)
				got = h.receive(response(req, code), client)
			}
		case "respond":
			code, _ := strconv.Atoi(arg)
			// The transaction lets its request go at its final response
			// (Request then returns nil): answer from the one seen first.
			if r := h.l.Request(id); r != nil {
				srvReq = r
			}
			resp := response(srvReq, code)
			if code >= 200 {
				final = resp
			}
			got = h.respond(id, resp)
		case "fire":
			w := map[string]Timer{"A": TimerA, "B": TimerB, "D": TimerD, "E": TimerE, "F": TimerF, "G": TimerG,
				"H": TimerH, "I": TimerI, "J": TimerJ, "K": TimerK, "L": TimerL, "M": TimerM, "Trying": Trying100}[arg]
			got = h.fireTimer(id, w)
		case "fail":
			got = h.sendFailed(id)
		default:
			t.Fatalf("bad step %q", s.do)
		}
		if tc.server && id == 0 {
			for _, e := range got {
				if e.Kind == effects.Deliver && (e.Event.Kind == effects.TxnRequest || e.Event.Kind == effects.TxnCancel) {
					id = e.Event.ID
				}
			}
		}
		want := forTransport(s.want, tr)
		if diff := cmp.Diff(want, describeAll(got)); diff != "" {
			t.Fatalf("step %d %q (-want +got):\n%s", i, s.do, diff)
		}
		wantState := s.state
		if strings.HasPrefix(wantState, "udp:") {
			wantState = "gone" // on a reliable transport the wait timer is zero
			if tr == effects.UDP {
				wantState = s.state[4:]
			}
		}
		_, st, live := h.l.State(id)
		gotState := "gone"
		if live {
			gotState = st.String()
		}
		if gotState != wantState {
			t.Fatalf("step %d %q: state %s, want %s", i, s.do, gotState, wantState)
		}
	}
	// Every Send about the transaction goes to its peer and carries its id.
	for _, e := range h.log {
		if e.Kind == effects.Send && e.Tag != id {
			t.Errorf("send tagged %x, want %x", e.Tag, id)
		}
	}
	// Once every timer has fired, the transaction is gone unless it waits
	// for something no timer bounds: a server transaction for the TU's
	// final response, or an INVITE client transaction in Proceeding for
	// the final response (the TU's Timer C or CANCEL governs that).
	h.drain()
	if _, st, live := h.l.State(id); live {
		waitsForTU := tc.server && (st == Proceeding || st == Trying)
		waitsForFinal := !tc.server && tc.method == "INVITE" && st == Proceeding
		if !waitsForTU && !waitsForFinal {
			t.Errorf("transaction still %s after every timer fired", st)
		}
	}
}

func forTransport(want []string, tr effects.Transport) []string {
	out := []string{}
	for _, w := range want {
		switch {
		case strings.HasPrefix(w, "udp:"):
			if tr == effects.UDP {
				out = append(out, w[4:])
			}
		case strings.HasPrefix(w, "tcp:"):
			if tr != effects.UDP {
				out = append(out, w[4:])
			}
		default:
			out = append(out, w)
		}
	}
	return out
}
