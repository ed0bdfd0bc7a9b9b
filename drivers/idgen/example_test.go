package idgen_test

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/drivers/idgen"
)

// Example makes a branch, a tag and a Call-ID from crypto/rand.
func Example() {
	gen := idgen.Crypto()
	fmt.Println(strings.HasPrefix(gen.Branch(), "z9hG4bK"), len(gen.Tag()), len(gen.CallID()))
	// Output: true 10 24
}
