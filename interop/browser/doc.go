// Package browser holds no code of its own: its tests run JsSIP (npm
// jssip) in headless Chromium against sansip over secure WebSocket, and
// with SIPp on the other side of a call, all on loopback.
//
// It is a module of its own (github.com/sansip/sansip/interop/browser) so
// that the browser-driving dependency, chromedp, stays out of the core
// module's go.mod.
//
// Each test starts the sansip server in-process (package service) with
// UDP, TCP and WSS listeners on 127.0.0.1, serves a page with JsSIP and a
// small harness (testdata/harness.js) from an HTTP server on 127.0.0.1,
// and drives one Chromium tab per user, each in a browser context of its
// own, by evaluating JavaScript. JsSIP is not committed: npm fetches
// jssip@3 at run time into a cache directory (see fetchJsSIP). The
// browser and the SIPp processes are killed, and waited for, when a test
// ends. Without chromium, npm or sipp the tests are skipped; with
// SANSIP_INTEROP=require in the environment they fail instead (CI sets
// it). The -short flag skips them all.
//
// Debian packages: chromium, nodejs and npm, sip-tester (sipp).
package browser
