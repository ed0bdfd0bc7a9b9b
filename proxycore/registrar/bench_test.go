package registrar_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sansip/sansip/digest"
	"github.com/sansip/sansip/effects"
	"github.com/sansip/sansip/header"
	"github.com/sansip/sansip/message"
	"github.com/sansip/sansip/proxycore/registrar"
)

// BenchmarkRegister: a refresh REGISTER with digest credentials (MD5,
// qop=auth, a new nonce count each time) verified and stored by Memory,
// up to the 200 with its Contact and Authentication-Info; the requests
// are parsed beforehand.
func BenchmarkRegister(b *testing.B) {
	m := memory(b, registrar.Config{Auth: authServer()})
	first := answer(b, m, 0, register(b, nil))
	ch, _, _ := message.First[header.WWWAuthenticate](first)
	reqs := make([]*message.Message, b.N)
	for i := range reqs {
		c, err := digest.Authorize(ch.Challenge, digest.Credentials{Username: "bob", Password: "zanzibar"}, "REGISTER", "sip:biloxi.example.com", nil, "0a4f113b", uint32(i+1))
		if err != nil {
			b.Fatal(err)
		}
		text := strings.Replace(baseRegister, "CSeq: 1826", fmt.Sprintf("CSeq: %d", 2000+i), 1)
		text = strings.Replace(text, "Content-Length: 0\r\n", "Authorization: "+string(c.AppendTo(nil))+"\r\nContent-Length: 0\r\n", 1)
		reqs[i], err = message.ParseString(text, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	var out []effects.Effect
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		out, err = m.Handle(1, uint64(i+1), reqs[i], bobPeer, out[:0])
		if err != nil || len(out) != 1 || out[0].Event.Code != 200 {
			b.Fatalf("%v %+v", err, out)
		}
	}
}
