// Package interop holds no code of its own: its tests run real SIP software
// (SIPp, sipsak, baresip, Kamailio, tshark) against sansip on loopback.
//
// Each test starts what it needs: the sansip server in-process
// (package service) on free ports of 127.0.0.1, the other programs as child
// processes with bounded request counts and time limits; children are
// killed when the test ends, whatever its outcome. A test whose program is
// not installed is skipped, with the Debian package to install named in the
// message; with SANSIP_INTEROP=require in the environment it fails instead
// (CI sets it). The -short flag skips them all.
//
// The example programs (examples/routing, b2bua, autoanswer) are built
// with the go command and run as child processes, with SIPp calling
// through them (examples_test.go).
//
// Debian packages: sip-tester (sipp), sipsak, baresip, kamailio, tshark.
package interop
