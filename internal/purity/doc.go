// Package purity holds the test that keeps sansip's protocol core free of
// side effects (DESIGN.md §1): no core package, nor any package of this
// module that one imports, may do I/O, read the clock, sleep, use a random
// source, start a goroutine or use a channel. It applies the rules of
// ../shared/tools/purity and also follows the core's imports inside the
// module, so that a helper package cannot smuggle a side effect in.
package purity
