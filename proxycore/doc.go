// Package proxycore is the SIP proxy of RFC 3261 §16 as pure state
// machines: Proxy, a stateful proxy that forks, and Stateless, a stateless
// one (§16.11).
//
// Like every core of sansip (DESIGN.md §1), a proxy takes inputs
// (effects.Input: messages received, timers fired, sends that failed, DNS
// answers) and returns effects: messages to send, timers to set, names to
// resolve, events to deliver. It reads no clock and does no I/O.
//
// The stateful Proxy owns a transaction layer (package txn). For each new
// request it runs the checks of §16.3 (416 for an unknown URI scheme, 483
// when Max-Forwards is exhausted, but 200 for an OPTIONS to the proxy
// itself, 482 for a loop, 420 for an unknown Proxy-Require, 407 when
// Config.Auth asks for credentials), preprocesses the route (§16.4: strict
// routers, our own Route, maddr), and determines the targets (§16.5). The
// targets are the application's decision: Config.Router answers at once;
// with Config.Ask the proxy delivers ProxyRequest and waits for Decide (a
// location service answered later); by default the Request-URI is the only
// target. In-dialog requests and requests that still carry a Route go to
// their Request-URI. A Decision can also answer the request (a redirect
// server replies 302 with Contacts).
//
// Targets are tried in groups of equal q-value (ByQ), all at once
// (Parallel) or one at a time (Serial), optionally with a time limit per
// branch, within the request's Max-Breadth (RFC 5393); 3xx Contacts become
// targets when the Decision says Recurse. Each forwarded request gets a new
// Request-URI, Max-Forwards decremented, Record-Route when configured (twice
// when the transport changes), a Via whose branch hashes the request so
// that loops are recognised, and goes to its top Route or its Request-URI:
// a name is resolved through a Resolve effect (RFC 3263), and a branch
// whose server fails (transport error, 503, timeout) moves on to the next
// address. Timer C bounds INVITE branches (§16.8).
//
// Responses (§16.7): provisionals but 100 and every 2xx go upstream at
// once; a 2xx to an INVITE cancels the other branches; a 6xx cancels them
// too; otherwise the best final response goes upstream when every branch is
// done: the lowest class, 500 instead of 503, 408 when nothing answered, and
// for 401 and 407 the challenges of every branch together. A CANCEL is
// answered 200 and cancels every pending branch (§16.10); the ACK of a 2xx
// is forwarded statelessly.
//
// Response contexts are bounded (Config.MaxContexts, 503 past it) and every
// context and timer is released when its transactions end (ProxyDone).
package proxycore
