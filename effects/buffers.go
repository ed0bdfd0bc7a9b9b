package effects

// Buffers is a stack of spare effect slices, for a layer that hands
// buffers to the layer below and gets effects back in them: handling one
// input may nest (an event handled may respond, which yields more
// effects), so buffers are taken and given back in stack order, and in
// the steady state producing effects allocates nothing. The zero Buffers
// is ready to use.
type Buffers struct {
	spare [][]Effect
}

// Get returns an empty buffer.
func (b *Buffers) Get() []Effect {
	if n := len(b.spare); n > 0 {
		s := b.spare[n-1]
		b.spare = b.spare[:n-1]
		return s
	}
	return make([]Effect, 0, 16)
}

// Put gives back a buffer from Get, cleared so that it holds on to no
// message. Buffers grown large are dropped, and at most eight are kept.
func (b *Buffers) Put(s []Effect) {
	if cap(s) == 0 || cap(s) > 256 || len(b.spare) >= 8 {
		return
	}
	clear(s)
	b.spare = append(b.spare, s[:0])
}
