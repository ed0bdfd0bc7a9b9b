package registrar_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/proxycore/registrar"
	"github.com/sansip/sansip/uri"
)

var gruuKey = []byte("a GRUU key of the domain, 16+ bytes")

const bobInstance = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"

// instanceContact is Bob's Contact with his instance id (RFC 5627 §4.1).
const instanceContact = `<sip:bob@192.0.2.4>;+sip.instance="<` + bobInstance + `>"`

// contactGRUUs returns the pub-gruu and temp-gruu of the 200's Contact
// (unquoted), and whether each is there.
func contactGRUUs(t *testing.T, resp *message.Message) (pub, tmp string, hasPub, hasTmp bool) {
	t.Helper()
	cs, err := message.All[header.Contact](resp)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Contacts %v, %v: want one", resp.Values("Contact"), err)
	}
	pub, hasPub = cs[0].Params.Unquoted("pub-gruu")
	tmp, hasTmp = cs[0].Params.Unquoted("temp-gruu")
	return pub, tmp, hasPub, hasTmp
}

// TestGRUUAssignment checks when the 200 to a REGISTER carries GRUUs (RFC
// 5627 §5.2): only with Supported: gruu from the UA, a Contact with
// +sip.instance, and a registrar that assigns them (GRUUKey, "gruu"
// supported).
func TestGRUUAssignment(t *testing.T) {
	tests := []struct {
		name      string
		cfg       registrar.Config
		set       map[string]string
		want      bool   // pub-gruu and temp-gruu present
		supported string // the 200's Supported
	}{
		{"§5.2: Supported: gruu and +sip.instance", registrar.Config{GRUUKey: gruuKey},
			map[string]string{"Contact": instanceContact, "Supported": "gruu"}, true, "gruu"},
		{"§5.2: among other option tags", registrar.Config{GRUUKey: gruuKey},
			map[string]string{"Contact": instanceContact, "Supported": "path, gruu"}, true, "gruu"},
		{"no Supported: gruu from the UA", registrar.Config{GRUUKey: gruuKey},
			map[string]string{"Contact": instanceContact}, false, ""},
		{"no +sip.instance in the Contact", registrar.Config{GRUUKey: gruuKey},
			map[string]string{"Supported": "gruu"}, false, "gruu"},
		{"registrar without GRUUKey", registrar.Config{},
			map[string]string{"Contact": instanceContact, "Supported": "gruu"}, false, ""},
		{"gruu not in the registrar's Supported", registrar.Config{GRUUKey: gruuKey, Supported: []string{"path"}},
			map[string]string{"Contact": instanceContact, "Supported": "gruu"}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := memory(t, tc.cfg)
			resp := answer(t, m, 0, register(t, tc.set))
			if resp.StatusCode() != 200 {
				t.Fatalf("%d %s", resp.StatusCode(), resp.Reason())
			}
			pub, tmp, hasPub, hasTmp := contactGRUUs(t, resp)
			if hasPub != tc.want || hasTmp != tc.want {
				t.Fatalf("pub-gruu %q (%v), temp-gruu %q (%v); want present: %v", pub, hasPub, tmp, hasTmp, tc.want)
			}
			if got := strings.Join(resp.Values("Supported"), ","); got != tc.supported {
				t.Errorf("Supported %q, want %q", got, tc.supported)
			}
			if !tc.want {
				return
			}
			if want := "sip:bob@biloxi.example.com;gr=" + bobInstance; pub != want {
				t.Errorf("pub-gruu %s, want %s (§5.4: the AOR with gr=instance)", pub, want)
			}
			// Quoted in the Contact (§7's grammar: pub-gruu = "pub-gruu" EQUAL quoted-string).
			if !strings.Contains(resp.Values("Contact")[0], `pub-gruu="sip:`) || !strings.Contains(resp.Values("Contact")[0], `temp-gruu="sip:`) {
				t.Errorf("GRUUs not quoted: %s", resp.Values("Contact")[0])
			}
		})
	}
}

// TestGRUUStable checks that the pub-gruu stays the same across refreshes
// and a new Call-ID, that the temp-gruu stays the same across refreshes
// with the same Call-ID and changes with a new one, and that it opens to
// the AOR and instance under the registrar's keys (RFC 5627 §5.1, with the
// simplification package gruu notes).
func TestGRUUStable(t *testing.T) {
	m := memory(t, registrar.Config{GRUUKey: gruuKey})
	set := func(cseq, callID string) map[string]string {
		return map[string]string{"Contact": instanceContact, "Supported": "gruu", "CSeq": cseq + " REGISTER", "Call-ID": callID}
	}
	first := answer(t, m, 0, register(t, set("1", "call-1")))
	pub1, tmp1, _, _ := contactGRUUs(t, first)
	refresh := answer(t, m, effects.Time(60e9), register(t, set("2", "call-1")))
	pub2, tmp2, _, _ := contactGRUUs(t, refresh)
	if pub1 != pub2 || tmp1 != tmp2 || pub1 == "" || tmp1 == "" {
		t.Fatalf("refresh changed the GRUUs: %s %s, then %s %s", pub1, tmp1, pub2, tmp2)
	}
	// A reboot: a new Call-ID replaces the instance's binding.
	reboot := answer(t, m, effects.Time(120e9), register(t, set("1", "call-2")))
	pub3, tmp3, _, _ := contactGRUUs(t, reboot)
	if pub3 != pub1 {
		t.Errorf("new Call-ID changed the pub-gruu: %s, then %s", pub1, pub3)
	}
	if tmp3 == tmp1 {
		t.Errorf("new Call-ID kept the temp-gruu %s", tmp1)
	}

	u, err := uri.Parse(tmp3)
	if err != nil {
		t.Fatal(err)
	}
	if u.User != "" || u.Host != realm {
		t.Errorf("temp-gruu %s: want the AOR's user-less form", u)
	}
	g, err := m.GRUUs().Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Temporary || g.AOR.String() != "sip:bob@biloxi.example.com" || g.Instance != bobInstance {
		t.Errorf("temp-gruu opened to %+v", g)
	}
	bs := m.Lookup(effects.Time(120e9), mustURI("sip:bob@biloxi.example.com"))
	if len(bs) != 1 || !g.Matches(&bs[0]) {
		t.Errorf("temp-gruu does not match the binding %+v", bs)
	}
	old, _ := uri.Parse(tmp1)
	if g, err := m.GRUUs().Parse(old); err != nil || g.Matches(&bs[0]) {
		t.Errorf("the temp-gruu of the old Call-ID: %+v, %v; want it to open but match no binding", g, err)
	}
	// A forged one does not open.
	forged := mustURI("sip:" + realm + ";gr=" + strings.Repeat("A", 80))
	if _, err := m.GRUUs().Parse(forged); !errors.Is(err, gruu.ErrInvalid) {
		t.Errorf("forged temp-gruu: %v, want ErrInvalid", err)
	}
}

// TestGRUUAsContact checks that a GRUU of the domain is not accepted as a
// Contact: requests to it would come back to the domain for ever.
func TestGRUUAsContact(t *testing.T) {
	m := memory(t, registrar.Config{GRUUKey: gruuKey})
	resp := answer(t, m, 0, register(t, map[string]string{"Contact": "<sip:bob@biloxi.example.com;gr=" + bobInstance + ">"}))
	if resp.StatusCode() != 403 {
		t.Fatalf("%d, want 403", resp.StatusCode())
	}
	// Another domain's GRUU is just a contact.
	resp = answer(t, m, 0, register(t, map[string]string{"Contact": "<sip:bob@elsewhere.example.org;gr=x>"}))
	if resp.StatusCode() != 200 {
		t.Fatalf("%d, want 200", resp.StatusCode())
	}
	if _, err := registrar.New(registrar.Config{GRUUKey: []byte("short"), Gen: ident.Seeded(1)}); !errors.Is(err, registrar.ErrConfig) || !errors.Is(err, gruu.ErrKey) {
		t.Errorf("short GRUUKey: %v, want ErrConfig and gruu.ErrKey", err)
	}
}
