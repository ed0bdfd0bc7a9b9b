package registrar_test

import (
	"testing"
	"time"

	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/ident"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/location"
	"github.com/sansip/sansip/proxycore/registrar"
)

// FuzzRegistrar hands random REGISTER messages to a registrar with digest
// authentication, under several handles, and answers its questions in an
// order the input chooses (some handles cancelled, time moving on): no
// panic, every handle answered or cancelled exactly once, and memory
// bounded by MaxPending and the store's bounds.
func FuzzRegistrar(f *testing.F) {
	f.Add([]byte(baseRegister), []byte{0, 4, 1, 1, 1, 8, 2, 3})
	f.Add([]byte(baseRegister[:len(baseRegister)-4]+"\r\nAuthorization: Digest username=\"bob\", realm=\"biloxi.example.com\", nonce=\"x\", uri=\"sip:biloxi.example.com\", response=\"00\"\r\n\r\n"), []byte{0, 1, 1, 1, 4, 1, 1, 1})
	f.Add([]byte("REGISTER sip:biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:bob@biloxi.example.com>\r\nFrom: <sip:bob@biloxi.example.com>;tag=1\r\nCall-ID: 1\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\nRequire: path\r\nPath: <sip:p;ob>\r\n\r\n"), []byte{0, 1, 1})
	f.Fuzz(func(t *testing.T, raw, order []byte) {
		req, err := message.Parse(raw, nil)
		if err != nil || !req.IsRequest() || req.Method() != "REGISTER" {
			return
		}
		auth := authServer()
		auth.MaxNonces = 16
		m, err := registrar.NewMemory(registrar.Config{Domains: []string{realm}, Auth: auth, Gen: ident.Seeded(1), MaxPending: 4, MinExpires: time.Second},
			&location.Store{MaxAORs: 4, MaxBindings: 4}, map[string]string{"bob": "zanzibar"})
		if err != nil {
			t.Fatal(err)
		}
		fuzzRun(t, m, req, order)
	})
}

func fuzzRun(t *testing.T, m *registrar.Memory, req *message.Message, order []byte) {
	r := m.Registrar
	var now effects.Time
	var held []effects.Event
	open := map[uint64]bool{}
	take := func(out []effects.Effect) {
		for _, e := range out {
			switch {
			case e.Kind != effects.Deliver:
			case e.Event.Kind == effects.RegistrarResponse:
				if !open[e.Event.ID] {
					t.Fatalf("response for handle %d not open", e.Event.ID)
				}
				delete(open, e.Event.ID)
			default:
				held = append(held, e.Event)
			}
		}
	}
	for i, b := range order {
		switch b % 4 {
		case 0:
			id := uint64(b/4%8) + 1
			out, err := r.Handle(now, id, req, bobPeer, nil)
			if err == nil {
				open[id] = true
			}
			take(out)
		case 1:
			if len(held) > 0 {
				ev := held[0]
				held = held[1:]
				take(answerLater(now, m, ev))
			}
		case 2:
			id := uint64(b/4%8) + 1
			r.Cancel(id)
			delete(open, id)
		case 3:
			now = now.Add(time.Duration(b) * time.Second * time.Duration(i+1))
		}
		if r.Len() > 4 || m.Store.Count() > 16 || r.Len() != len(open) {
			t.Fatalf("pending %d (open %d), bindings %d", r.Len(), len(open), m.Store.Count())
		}
	}
	for len(held) > 0 {
		ev := held[0]
		held = held[1:]
		take(answerLater(now, m, ev))
	}
	if r.Len() != 0 || len(open) != 0 {
		t.Fatalf("left pending: %d, open %v", r.Len(), open)
	}
}
