// Package sim is a deterministic network simulator for sansip: it runs
// whole SIP networks of real protocol cores (ua.UA, proxycore.Proxy,
// proxycore.Stateless, a b2bua.B2BUA with its legs, or any Core) in one
// process, on a virtual clock, exactly as a driver (drivers/loop) would run
// them: the same inputs, the same effects, no test doubles inside the cores.
//
// A Sim holds nodes, each at one or more addresses, and an event queue
// ordered by (time, sequence). Handling an event feeds a node's core an
// effects.Input and carries out the effects it returns:
//
//   - Send renders the message and puts it on the link to the node at the
//     destination address: a datagram (UDP) that the link may lose,
//     duplicate, delay and reorder (jitter), or data on a stream connection
//     (TCP, TLS, WS, WSS) that arrives in order, once, unless the connection
//     breaks. A send to an address where no node listens is dropped (and, on
//     a stream, fails with a SendFailed input, as a refused connection does).
//   - SetTimer and CancelTimer schedule and unschedule a TimerFired input;
//     setting a timer that is pending, or cancelling one that is not, is a
//     misuse the Sim reports as an error (ErrTimer).
//   - Resolve is answered from the Sim's DNS table (SetDNS) after a small
//     delay, as a Resolved input.
//   - Close breaks the connection; both ends get a ConnClosed input.
//   - Deliver records the event on the node and runs its hooks (On), which
//     play the application: they give the core commands (Do), whose effects
//     are carried out the same way.
//
// Every random choice (loss, duplication, jitter, and the identifier
// generators of the nodes) comes from one PRNG seeded from the Sim's seed,
// and nothing depends on the wall clock, goroutines or map iteration order:
// the same seed gives the same run, message for message. Every send,
// arrival, drop, timer, DNS answer and event is recorded in the trace
// (Trace, Records), and Digest hashes the whole of it, so that a test can
// check that a run replays exactly and print the trace of a failing seed.
//
// After a run, RunUntilQuiet processes events until none is left, and
// CheckQuiet reports any node that still holds state: a pending timer, or
// what its core says it holds (calls, dialogs, transactions, response
// contexts... see Leftover).
//
// A scenario builds a Sim, adds nodes and links, starts something through
// a node's commands, runs, and checks the outcome the RFCs require
// whatever the network did:
//
//	s := sim.New(seed)
//	alice := sim.Must(s.AddUA("alice", "192.0.2.1:5060", ua.Config{}))
//	bob := sim.Must(s.AddUA("bob", "192.0.2.2:5060", ua.Config{}))
//	s.SetDefaultLink(sim.Link{Delay: 20 * time.Millisecond, Loss: 0.2})
//	bob.Answering(sim.Callee{Ring: 180, After: time.Second, Answer: sdp})
//	id, err := alice.Call("sip:bob@192.0.2.2", ua.CallOptions{Body: offer})
//	err = s.RunUntilQuiet(10 * time.Minute)
//	err = s.CheckQuiet()
//
// # Nodes
//
// AddUA, AddProxy, AddRegistrarProxy, AddStateless and AddB2BUA make a
// core from its configuration (the fields a test leaves zero filled in:
// the identifier generator from the seed, the host and port from the
// address, a Contact) and put it on the network; their nodes (UANode,
// ProxyNode, StatelessNode, B2BUANode) embed *Node and expose the core.
// Any other core goes on with Add: anything with Handle(effects.Input,
// []effects.Effect) []effects.Effect, that may also say what it holds
// (Leftover) and, when it listens on several addresses, where each send
// leaves from (Sourcer).
//
// The application's part is played by hooks (Node.On) and actions at
// times (Sim.At, Sim.After); both give the cores commands with Node.Do
// (or the helpers: UANode.Call, Answer, Hangup..., ProxyNode.Decide,
// B2BUANode.Connect), and behaviours such as UANode.Answering and
// HangupAfter package the common ones.
//
// # Scenarios
//
// A scenario is a function of the seed that builds a Sim, runs it and
// returns what went wrong; the tests of this package run each over many
// seeds (-seeds N, 1000 by default; -seed N replays one and, with -v,
// prints its trace) and print the seed, the replay command and the trace
// of the first that fails. Draw every choice of the scenario from
// Sim.Rand, check the outcome the RFCs require whatever the network did,
// then RunUntilQuiet and CheckQuiet. Records and Observe give the
// messages of the run to check (in-dialog requests following the route
// set, the CANCELs of a forking proxy...); Filter loses chosen messages;
// Partition and BreakConn cut the network.
//
// # Choosing the order of events
//
// A test that explores orders of events (a fuzz target, a model checker:
// FuzzSimInterleavings in package fuzz) lists the events queued (Queue)
// and chooses: Step handles the first, RunEvent a chosen one ahead of its
// turn; Drop, Duplicate and Delay change the fate of a datagram in flight;
// Break breaks a chosen connection and Heal ends every partition. The
// choices keep to what a network and a driver can do (datagrams lost,
// duplicated, delayed and reordered at will; a stream's data in order; a
// node's timers never early nor out of order), and the trace records
// them, so that a run stays a function of the seed and the choices.
package sim
