package location_test

import (
	"testing"
)

// FuzzStore decodes the input into a sequence of REGISTERs (as
// TestPropModel generates them) and checks the store against the model:
// no panic, bounded size, the model's bindings.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0, 127, 255, 255, 0, 1, 3, 0, 1, 0, 127, 255, 255, 0, 1, 2, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ops []op
		for len(data) >= 9 && len(ops) < 200 {
			d := data[:9]
			data = data[9:]
			ops = append(ops, op{
				AOR: int(d[0]) % 3, Mask: int(d[1]) % 128, Seed: int(d[2]) | int(d[3])<<8 | int(d[4]&31)<<16,
				RemoveAll: d[5]%10 == 0, CallID: int(d[6]) % 2, CSeq: 1 + int(d[7])%8,
				Advance: int(d[8]) % 41, Expire: d[8]&0x80 != 0,
			})
		}
		if msg := runOps(ops); msg != "" {
			t.Fatal(msg)
		}
	})
}
