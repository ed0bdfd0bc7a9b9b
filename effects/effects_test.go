package effects

import "testing"

// Buffers hands back what it was given, empty and cleared, in stack order,
// and keeps no buffer grown too large.
func TestBuffers(t *testing.T) {
	var b Buffers
	x := b.Get()
	x = append(x, Effect{Kind: Send, Data: []byte("a")})
	y := b.Get()
	b.Put(y)
	b.Put(x)
	got := b.Get()
	if len(got) != 0 || cap(got) != cap(x) || got[:1][0].Data != nil {
		t.Errorf("Get after Put: len %d cap %d, first %+v", len(got), cap(got), got[:1][0])
	}
	b.Put(make([]Effect, 0, 1024))
	if big := b.Get(); cap(big) == 1024 {
		t.Error("a buffer grown past the bound was kept")
	}
}
