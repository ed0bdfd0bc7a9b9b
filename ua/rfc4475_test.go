package ua

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
)

// TestRFC4475Answers feeds the RFC 4475 messages whose correct handling is
// an application-level answer to a UAS core, and checks the answer.
func TestRFC4475Answers(t *testing.T) {
	tests := []struct {
		file, section string
		code          int
		check         func(t *testing.T, resp *message.Message)
	}{
		{"unkscm.dat", "RFC 4475 §3.3.2; RFC 3261 §8.2.2.1: unknown Request-URI scheme", 416, nil},
		{"novelsc.dat", "RFC 4475 §3.3.3; RFC 3261 §8.2.2.1: atypical Request-URI scheme", 416, nil},
		{"bext01.dat", "RFC 4475 §3.3.5; RFC 3261 §8.2.2.3: Require lists unknown options (a UAS ignores Proxy-Require)", 420, func(t *testing.T, resp *message.Message) {
			got, err := message.All[header.Unsupported](resp)
			if err != nil || len(got) != 2 || got[0] != "nothingSupportsThis" || got[1] != "nothingSupportsThisEither" {
				t.Errorf("Unsupported = %q, want the two Require tags", got)
			}
		}},
		{"invut.dat", "RFC 4475 §3.3.6; RFC 3261 §8.2.3: unknown Content-Type", 415, func(t *testing.T, resp *message.Message) {
			if v, _ := resp.Get("Accept"); v != "application/sdp" {
				t.Errorf("Accept = %q, want application/sdp", v)
			}
		}},
		{"zeromf.dat", "RFC 4475 §3.3.11: an endpoint processes Max-Forwards 0 as if positive", 200, func(t *testing.T, resp *message.Message) {
			if !resp.Has("Allow") || !resp.Has("Supported") {
				t.Error("200 to OPTIONS lacks Allow or Supported (RFC 3261 §11.2)")
			}
		}},
		{"sdp01.dat", "RFC 4475 §3.3.15; RFC 3261 §21.4.7: Accept rules out SDP", 406, func(t *testing.T, resp *message.Message) {
			w, ok, err := message.First[header.Warning](resp)
			if err != nil || !ok || w.Code != 399 {
				t.Errorf("Warning = %+v %v %v, want code 399", w, ok, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "testdata", "rfc4475", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			u, err := New(Config{
				AOR:     mustURI("sip:user@example.com"),
				Contact: mustURI("sip:user@192.0.2.9"),
				Host:    "192.0.2.9", Port: 5060,
				Gen: ident.Seeded(7),
			})
			if err != nil {
				t.Fatal(err)
			}
			from := effects.Peer{Addr: netip.MustParseAddrPort("192.0.2.15:5060"), Transport: effects.UDP}
			var resp *message.Message
			for _, e := range u.Handle(effects.Input{Kind: effects.Received, Data: data, From: from}, nil) {
				switch {
				case e.Kind == effects.Send && !e.Msg.IsRequest() && e.Msg.StatusCode() >= 200:
					resp = e.Msg
				case e.Kind == effects.Deliver && e.Event.Kind == effects.CallIncoming:
					t.Errorf("%s: the application was offered the call", tc.section)
				}
			}
			if resp == nil {
				t.Fatalf("%s: no final response", tc.section)
			}
			if resp.StatusCode() != tc.code {
				t.Fatalf("%s: answered %d, want %d", tc.section, resp.StatusCode(), tc.code)
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
			if _, err := message.Parse(resp.Bytes(), nil); err != nil {
				t.Errorf("response does not parse: %v", err)
			}
		})
	}
}
