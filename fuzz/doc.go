// Package fuzz holds sansip's cross-layer fuzz targets: arbitrary bytes and
// driver inputs fed to whole cores (parser, transactions, dialogs and the
// UA or proxy above them), with invariants checked on everything the cores
// return. The package's own code is the input format the targets share;
// the targets are its tests.
//
// # Targets
//
// FuzzUABytes (ua_test.go) runs a ua.UA configured as a real endpoint:
// Alice, AOR sip:alice@example.com, contact sip:alice@192.0.2.10:5060,
// session timers on, a presence notifier, digest credentials for any
// realm. Its application answers what arrives as the input says: an
// incoming call is answered, rung (reliably or not) or rejected, or
// answered and hung up at once; a re-INVITE or UPDATE accepted or
// declined; a SUBSCRIBE or REFER accepted, left pending or refused;
// a MESSAGE or INFO answered. App records make it place calls, re-INVITE,
// UPDATE, hold, transfer (REFER), subscribe, notify, register (with
// outbound), and send MESSAGE and OPTIONS, so that responses and in-dialog
// requests from the peers have dialogs to land in.
//
// FuzzProxyBytes (proxy_test.go) runs the same kind of input through the
// stateful proxycore.Proxy with a registrar (registrar.Memory) whose
// location store routes the requests for its domain, as sansip serve
// composes them, and then through the proxycore.Stateless proxy with a
// router.
//
// FuzzSimInterleavings (sim_test.go) lets the fuzzer choose every
// interleaving of a simulated network (package sim): Alice, a registrar
// proxy (record-routing or not, behind a stateless proxy or not) and two
// or three phones registered to one address, so that calls fork. Its input
// is a program of two-byte steps: run the next events or a chosen one
// early, deliver, drop, duplicate or delay a datagram, break a connection,
// cut a node off or heal, move the clock, fire a timer, or give a user a
// command. After the program the network heals, every user ends what it
// has, and nothing may be left in any node (sim.CheckQuiet). It uses its
// own input format, not Records.
//
// # Inputs
//
// An input is a sequence of records (Records) separated by the byte 0xff,
// at most MaxRecords of them. The first byte of a record says what it is
// (Kind, in its low three bits) and how (Arg, the other five):
//
//   - UDP, TCP: the rest of the record is a message that arrives from one
//     of four peers (Peers: two ports of one IPv4 host, another IPv4
//     host, an IPv6 host), over UDP or over the peer's TCP connection;
//     Arg also sets the application's policy for the events it causes.
//   - Advance: the virtual clock moves (Step), firing the timers due.
//   - Fire: the earliest timers the core asked for fire.
//   - Close: a peer's TCP connection closes.
//   - App: an application command.
//   - Answer: the oldest DNS look-up is answered, or the last send fails.
//   - KeepAlive: a CRLFCRLF ping arrives, or a STUN Binding response.
//
// A message may hold macros (Learned.Expand) that stand for what the core
// sent before: its tag in the last dialog, the branch, Call-ID, CSeq,
// From tag and Vias of its last request (or of its last INVITE), the RSeq
// of its last reliable provisional response, and the length of the body.
// A peer's ACK, BYE, PRACK, NOTIFY or response thereby matches the dialogs
// and transactions the core created, whatever identifiers it drew, and
// mutations of the input keep matching them. Script writes inputs; the
// seed corpus of each target is written with it: call flows on both
// sides with PRACK, UPDATE, re-INVITE, CANCEL, glare, forking and session
// timers, subscriptions on both sides, REFER, registration with digest
// and outbound, requests outside dialogs, TCP with closed connections,
// and every RFC 4475 and RFC 5118 torture message in testdata/. Tests
// (TestUASeeds, TestProxySeeds) check that the seeds reach the events and
// messages they were written for, and that every seed replays byte for
// byte.
//
// # Invariants
//
// For every input: nothing panics; every message a core sends parses with
// package message (except an error response of 400 or more, which echoes a
// malformed request's fields as they came, as in FuzzUA of package ua) and
// has a destination; SetTimer never names a pending timer, CancelTimer
// always does; a bounded number of events follows each input. Once the
// input is over, the application ends everything it holds (hangs up,
// rejects, unsubscribes, answers, unregisters), every DNS look-up is
// answered and every timer fires in time order until none is left; then
// the core must hold nothing: no call, dialog, transaction, subscription,
// registration, request, proxy context, pending REGISTER, binding,
// message waiting for DNS or timer.
//
// Cores and harness are deterministic: identifiers come from ident.Seeded,
// time from the virtual clock, and timers due together fire by id.
//
// # Running
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzUABytes$' -fuzztime 60s
//	go test ./fuzz -run '^$' -fuzz '^FuzzProxyBytes$' -fuzztime 60s
//
// A failing input is written to testdata/fuzz/<Target>/ and replays with
// go test ./fuzz -run '<Target>/<file>'; SANSIP_FUZZ_TRACE=1 and -v log
// every input, effect and event, and Describe renders an input a record a
// line.
package fuzz
