package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	inviteFile = "../../testdata/bench/invite.sip"
	rfc4475    = "../../testdata/rfc4475/"
	rfc5118    = "../../testdata/rfc5118/"
)

// sansip runs the command in-process.
func sansip(t *testing.T, stdin string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(args, strings.NewReader(stdin), &out, &errb)
	return status, out.String(), errb.String()
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeAll decodes a stream of JSON objects.
func decodeAll(t *testing.T, s string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("output is not a stream of JSON objects: %v\n%s", err, s)
		}
		objs = append(objs, o)
	}
}

func TestUsage(t *testing.T) {
	status, out, errs := sansip(t, "")
	if status != exitUsage || out != "" || !strings.Contains(errs, "parse") {
		t.Errorf("no arguments: status %d, stdout %q, stderr %q; want 2 and the usage on stderr", status, out, errs)
	}
	status, out, _ = sansip(t, "", "help")
	if status != exitOK || !strings.Contains(out, "Commands:") || !strings.Contains(out, "parse") {
		t.Errorf("help: status %d, stdout %q", status, out)
	}
	status, out, _ = sansip(t, "", "help", "parse")
	if status != exitOK || !strings.Contains(out, "usage: sansip parse") || !strings.Contains(out, "-stream") {
		t.Errorf("help parse: status %d, stdout %q", status, out)
	}
	status, out, _ = sansip(t, "", "parse", "-h")
	if status != exitOK || !strings.Contains(out, "-json") {
		t.Errorf("parse -h: status %d, stdout %q", status, out)
	}
	status, _, errs = sansip(t, "", "frobnicate")
	if status != exitUsage || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: status %d, stderr %q", status, errs)
	}
	status, _, errs = sansip(t, "", "parse", "--bogus")
	if status != exitUsage || !strings.Contains(errs, "usage: sansip parse") {
		t.Errorf("bad flag: status %d, stderr %q", status, errs)
	}
	status, _, errs = sansip(t, "", "parse", "--outbound", inviteFile)
	if status != exitUsage || !strings.Contains(errs, "--stream") {
		t.Errorf("--outbound without --stream: status %d, stderr %q", status, errs)
	}
}

func TestParseMissingFile(t *testing.T) {
	status, _, errs := sansip(t, "", "parse", filepath.Join(t.TempDir(), "nothing.sip"))
	if status != exitUsage || !strings.Contains(errs, "nothing.sip") {
		t.Errorf("status %d, stderr %q; want 2 and the file named", status, errs)
	}
	// An I/O error outranks an invalid message.
	status, _, _ = sansip(t, "", "parse", rfc4475+"badvers.dat", filepath.Join(t.TempDir(), "nothing.sip"))
	if status != exitUsage {
		t.Errorf("invalid message then missing file: status %d, want 2", status)
	}
}

func TestParseInvite(t *testing.T) {
	status, out, errs := sansip(t, "", "parse", inviteFile)
	if status != exitOK {
		t.Fatalf("status %d, want 0\n%s%s", status, out, errs)
	}
	for _, want := range []string{
		"INVITE request",
		"INVITE sip:bob@biloxi.example.com SIP/2.0",
		"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport",
		"transport=UDP host=pc33.atlanta.example.com port=5060 ;branch=z9hG4bK776asdhds ;rport",
		`display="Alice" uri=<sip:alice@atlanta.example.com> ;tag=1928301774`,
		"seq=314159 method=INVITE",
		"INVITE | ACK | CANCEL",
		"body: 224 bytes of application/sdp",
		`first: "v=0"`,
		"  valid",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if errs != "" {
		t.Errorf("stderr: %q", errs)
	}
}

func TestParseStdin(t *testing.T) {
	for _, args := range [][]string{{"parse"}, {"parse", "-"}} {
		status, out, _ := sansip(t, readFile(t, inviteFile), args...)
		if status != exitOK || !strings.Contains(out, "<stdin>: INVITE request") || !strings.Contains(out, "z9hG4bK776asdhds") {
			t.Errorf("%q: status %d\n%s", args, status, out)
		}
	}
}

func TestParseFlagsAfterFiles(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", inviteFile, "--json")
	if status != exitOK || len(decodeAll(t, out)) != 1 {
		t.Errorf("status %d\n%s", status, out)
	}
}

func TestParseBadVersion(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", rfc4475+"badvers.dat")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	for _, want := range []string{"unsupported SIP version", "offset 33", "response: 505 Version Not Supported"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestParseBigCodeIsDropped(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", rfc4475+"bigcode.dat")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	for _, want := range []string{"malformed status code", "response: none (drop)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestParseTrailingOctets(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", rfc4475+"dblreq.dat")
	if status != exitOK {
		t.Errorf("status %d, want 0\n%s", status, out)
	}
	for _, want := range []string{"REGISTER request", "ignored 450 trailing octets", "  valid"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "sip:joe@example.com") {
		t.Errorf("the trailing INVITE was shown as part of the message\n%s", out)
	}
}

func TestParseValidateFailure(t *testing.T) {
	// RFC 4475 regbadct: parses, but its Contact fails Validate.
	status, out, _ := sansip(t, "", "parse", rfc4475+"regbadct.dat")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	for _, want := range []string{"invalid (Validate)", "Contact", "response: 400 Bad Request"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestParseLFFile(t *testing.T) {
	status, out, errs := sansip(t, "", "parse", rfc5118+"ipv6-good")
	if status != exitOK {
		t.Errorf("status %d, want 0\n%s%s", status, out, errs)
	}
	if !strings.Contains(errs, "LF") || !strings.Contains(errs, "CRLF") {
		t.Errorf("stderr does not report the LF conversion: %q", errs)
	}
	for _, want := range []string{"REGISTER sip:[2001:db8::10] SIP/2.0", "host=[2001:db8::9:1]", "  valid"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	// The same from stdin, and a hand-written message with LF line ends.
	hand := strings.ReplaceAll(readFile(t, inviteFile), "\r\n", "\n")
	status, out, errs = sansip(t, hand, "parse")
	if status != exitOK || !strings.Contains(errs, "CRLF") {
		t.Errorf("hand-written LF message: status %d\n%s%s", status, out, errs)
	}
}

func TestParseLFBodyCountedByContentLength(t *testing.T) {
	// RFC 5118 §4.9: Content-Length 236 counts the SDP body with its bare LFs.
	status, out, errs := sansip(t, "", "parse", rfc5118+"ipv4-mapped-ipv6")
	if status != exitOK {
		t.Errorf("status %d, want 0\n%s%s", status, out, errs)
	}
	if !strings.Contains(out, "body: 236 bytes") || strings.Contains(out, "trailing") {
		t.Errorf("the body is not the 236 octets Content-Length gives\n%s", out)
	}
	if !strings.Contains(errs, "kept the body") {
		t.Errorf("stderr does not say the body kept its LFs: %q", errs)
	}
}

func TestParseKeepAliveAndEmpty(t *testing.T) {
	status, out, _ := sansip(t, "\r\n\r\n", "parse")
	if status != exitOK || !strings.Contains(out, "keep-alive") {
		t.Errorf("CRLFs: status %d\n%s", status, out)
	}
	status, out, _ = sansip(t, "", "parse")
	if status != exitInvalid || !strings.Contains(out, "empty") {
		t.Errorf("empty input: status %d\n%s", status, out)
	}
}

func TestParseJSON(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", "--json", inviteFile, rfc4475+"badvers.dat", rfc4475+"bigcode.dat")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	objs := decodeAll(t, out)
	if len(objs) != 3 {
		t.Fatalf("%d objects, want 3\n%s", len(objs), out)
	}

	inv := objs[0]
	for k, want := range map[string]any{
		"file":       inviteFile,
		"kind":       "request",
		"method":     "INVITE",
		"requestURI": "sip:bob@biloxi.example.com",
		"valid":      true,
	} {
		if inv[k] != want {
			t.Errorf("invite: %s = %#v, want %#v", k, inv[k], want)
		}
	}
	if _, ok := inv["error"]; ok {
		t.Errorf("invite: has an error: %v", inv["error"])
	}
	headers, _ := inv["headers"].([]any)
	if len(headers) != 16 {
		t.Fatalf("invite: %d headers, want 16", len(headers))
	}
	via, _ := headers[0].(map[string]any)
	if via["name"] != "Via" || !strings.Contains(via["value"].(string), "z9hG4bK776asdhds") {
		t.Errorf("first header: %v", via)
	}
	typed, _ := via["typed"].([]any)
	if len(typed) != 1 {
		t.Fatalf("Via typed: %v", via["typed"])
	}
	tv, _ := typed[0].(map[string]any)
	params, _ := tv["params"].(map[string]any)
	if tv["transport"] != "UDP" || tv["host"] != "pc33.atlanta.example.com" || tv["port"] != 5060.0 || params["branch"] != "z9hG4bK776asdhds" {
		t.Errorf("Via typed value: %v", tv)
	}
	for _, h := range headers {
		h := h.(map[string]any)
		if h["name"] == "From" {
			from := h["typed"].([]any)[0].(map[string]any)
			u, _ := from["uri"].(map[string]any)
			if from["display"] != "Alice" || u["text"] != "sip:alice@atlanta.example.com" || from["params"].(map[string]any)["tag"] != "1928301774" {
				t.Errorf("From typed value: %v", from)
			}
		}
	}
	body, _ := inv["body"].(map[string]any)
	if body["length"] != 224.0 || body["contentType"] != "application/sdp" || !strings.HasPrefix(body["text"].(string), "v=0\r\n") {
		t.Errorf("invite body: %v", body)
	}

	bad := objs[1]
	if bad["valid"] != false || bad["kind"] != "request" {
		t.Errorf("badvers: valid %v kind %v", bad["valid"], bad["kind"])
	}
	e, _ := bad["error"].(map[string]any)
	if e["what"] != "unsupported SIP version" || e["offset"] != 33.0 || e["stage"] != "parse" {
		t.Errorf("badvers error: %v", e)
	}
	resp, _ := bad["response"].(map[string]any)
	if resp["code"] != 505.0 || resp["reason"] != "Version Not Supported" || !strings.HasPrefix(resp["text"].(string), "SIP/2.0 505 ") {
		t.Errorf("badvers response: %v", resp)
	}

	big := objs[2]
	if big["kind"] != "response" || big["valid"] != false {
		t.Errorf("bigcode: kind %v valid %v", big["kind"], big["valid"])
	}
	if resp, _ := big["response"].(map[string]any); resp["drop"] != true {
		t.Errorf("bigcode response: %v, want a drop", resp)
	}
}

func TestParseJSONTrailing(t *testing.T) {
	_, out, _ := sansip(t, "", "parse", "--json", rfc4475+"dblreq.dat")
	objs := decodeAll(t, out)
	if len(objs) != 1 || objs[0]["trailingOctets"] != 450.0 || objs[0]["valid"] != true {
		t.Errorf("dblreq: %v", objs)
	}
}

// threeMessages is three messages with a double-CRLF ping after each of
// the first two.
func threeMessages(t *testing.T) string {
	dbl := readFile(t, rfc4475+"dblreq.dat")
	register := dbl[:strings.Index(dbl, "\r\n\r\n")+4] // Content-Length: 0
	return readFile(t, inviteFile) + "\r\n\r\n" + register + "\r\n\r\n" + readFile(t, rfc4475+"bcast.dat")
}

func TestParseStream(t *testing.T) {
	stream := threeMessages(t)
	status, out, errs := sansip(t, stream, "parse", "--stream")
	if status != exitOK {
		t.Fatalf("status %d, want 0\n%s%s", status, out, errs)
	}
	for _, want := range []string{
		"<stdin> @0: INVITE request",
		"<stdin> @1090: ping",
		"<stdin> @1094: REGISTER request",
		"@1394: ping",
		"@1398: 200 response",
		"end of stream: 3 message(s), 2 keep-alive(s), nothing left over",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if n := strings.Count(out, "  valid\n"); n != 3 {
		t.Errorf("%d valid messages, want 3", n)
	}

	status, out, _ = sansip(t, stream, "parse", "--stream", "--json")
	if status != exitOK {
		t.Fatalf("--json: status %d", status)
	}
	var kinds []string
	for _, o := range decodeAll(t, out) {
		kinds = append(kinds, o["kind"].(string))
		if o["kind"] == "end" && (o["messages"] != 3.0 || o["keepAlives"] != 2.0 || o["leftover"] != 0.0) {
			t.Errorf("end: %v", o)
		}
	}
	if got, want := strings.Join(kinds, " "), "request ping request ping response end"; got != want {
		t.Errorf("kinds %q, want %q", got, want)
	}

	// On a connection we opened, each CRLF is a pong.
	status, out, _ = sansip(t, stream, "parse", "--stream", "--outbound")
	if status != exitOK || strings.Count(out, ": pong") != 4 {
		t.Errorf("--outbound: status %d\n%s", status, out)
	}
}

func TestParseStreamNegativeContentLength(t *testing.T) {
	status, out, _ := sansip(t, "", "parse", "--stream", rfc4475+"ncl.dat")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	if !strings.Contains(out, "framing error") || !strings.Contains(out, "invalid Content-Length") {
		t.Errorf("output does not report the framing error\n%s", out)
	}
	// After a good message, the error ends the stream.
	stream := readFile(t, inviteFile) + readFile(t, rfc4475+"ncl.dat") + readFile(t, inviteFile)
	status, out, _ = sansip(t, stream, "parse", "--stream", "--json")
	if status != exitInvalid {
		t.Errorf("status %d, want 1", status)
	}
	objs := decodeAll(t, out)
	if len(objs) != 2 || objs[0]["kind"] != "request" || objs[1]["kind"] != "framing-error" || objs[1]["offset"] != 1090.0 {
		t.Errorf("objects: %v", objs)
	}
}

func TestParseStreamLeftover(t *testing.T) {
	inv := readFile(t, inviteFile)
	status, out, _ := sansip(t, inv+inv[:100], "parse", "--stream")
	if status != exitInvalid || !strings.Contains(out, "100 byte(s) left over") {
		t.Errorf("status %d\n%s", status, out)
	}
	// A lone CRLF at the end is not a message cut short.
	status, out, _ = sansip(t, inv+"\r\n", "parse", "--stream")
	if status != exitOK || !strings.Contains(out, "2 byte(s) of CRLF left over") {
		t.Errorf("status %d\n%s", status, out)
	}
}

func TestParseStreamInvalidMessage(t *testing.T) {
	// A message that frames but does not parse does not end the stream.
	stream := readFile(t, rfc4475+"badvers.dat") + readFile(t, inviteFile)
	status, out, _ := sansip(t, stream, "parse", "--stream")
	if status != exitInvalid || !strings.Contains(out, "505") || !strings.Contains(out, "INVITE request") {
		t.Errorf("status %d\n%s", status, out)
	}
}

// TestParseTorture runs every RFC 4475 and RFC 5118 message through both
// outputs and both framings: no input may break the command, and the JSON
// must always decode.
func TestParseTorture(t *testing.T) {
	var files []string
	for _, dir := range []string{rfc4475, rfc5118} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if n := e.Name(); n != "README.md" && n != "SHA256SUMS" {
				files = append(files, dir+n)
			}
		}
	}
	for _, f := range files {
		for _, mode := range [][]string{{}, {"--stream"}} {
			args := append([]string{"parse"}, mode...)
			status, out, _ := sansip(t, "", append(args, f)...)
			if status != exitOK && status != exitInvalid {
				t.Errorf("%s %v: status %d", f, mode, status)
			}
			if out == "" {
				t.Errorf("%s %v: no output", f, mode)
			}
			jstatus, jout, _ := sansip(t, "", append(append(args, "--json"), f)...)
			if jstatus != status {
				t.Errorf("%s %v: status %d with --json, %d without", f, mode, jstatus, status)
			}
			if len(decodeAll(t, jout)) == 0 {
				t.Errorf("%s %v: no JSON object", f, mode)
			}
		}
	}
}

func TestParseRFC4475Outcomes(t *testing.T) {
	for file, want := range map[string]int{
		"dblreq.dat":     exitOK,
		"esc01.dat":      exitOK,
		"transports.dat": exitOK,
		"mpart01.dat":    exitOK,
		"unreason.dat":   exitOK,
		"noreason.dat":   exitOK,
		"inv2543.dat":    exitOK,
		"badinv01.dat":   exitInvalid,
		"clerr.dat":      exitInvalid,
		"ncl.dat":        exitInvalid,
		"mcl01.dat":      exitInvalid,
		"mismatch02.dat": exitInvalid,
		"scalar02.dat":   exitInvalid,
		"insuf.dat":      exitInvalid,
	} {
		if status, out, _ := sansip(t, "", "parse", rfc4475+file); status != want {
			t.Errorf("%s: status %d, want %d\n%s", file, status, want, out)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"tab\there":      "tab\there",
		"nul\x00bel\x07": `nul\x00bel\x07`,
		"дом":            "дом",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLowerKey(t *testing.T) {
	for in, want := range map[string]string{"URI": "uri", "Display": "display", "RPort": "rPort", "Seq": "seq", "callID": "callID"} {
		if got := lowerKey(in); got != want {
			t.Errorf("lowerKey(%q) = %q, want %q", in, got, want)
		}
	}
}
