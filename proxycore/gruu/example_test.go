package gruu_test

import (
	"fmt"

	"github.com/sansip/sansip/proxycore/gruu"
	"github.com/sansip/sansip/uri"
)

// A registrar gives an instance its pub-gruu and temp-gruu; a proxy of the
// domain, with the same key, reads either back to the AOR and instance.
func Example() {
	k, _ := gruu.New([]byte("a secret of the domain, 16+ bytes"))
	aor, _ := uri.Parse("sip:alice@example.com")
	instance := "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"

	pub, _ := gruu.Public(aor, instance)
	tmp, _ := k.Temporary(aor, instance, "a84b4c76e66710@pc33.example.com")
	fmt.Println(pub)
	fmt.Println(tmp.User == "", tmp.Host)

	g, err := k.Parse(tmp)
	fmt.Println(g.AOR, g.Instance, g.Temporary, err)
	// Output:
	// sip:alice@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6
	// true example.com
	// sip:alice@example.com urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6 true <nil>
}
