package ident_test

import (
	"fmt"
	"strings"

	"github.com/sansip/sansip/ident"
)

func ExampleSeeded() {
	a, b := ident.Seeded(42), ident.Seeded(42)
	fmt.Println(a.Branch() == b.Branch(), strings.HasPrefix(a.Branch(), "z9hG4bK"), len(a.Tag()))
	// Output:
	// true true 10
}
