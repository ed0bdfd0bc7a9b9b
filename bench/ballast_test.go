package bench

import (
	"os"
	"runtime"
	"strconv"
	"testing"
)

// ballast stands for the live state of a running server (transactions,
// dialogs, registrations). With a tiny heap, Go collects every 4 MB
// allocated and a benchmark measures mostly collector start-up; a server
// holding state collects far less often. SANSIP_BENCH_LIVE_MB sets its size
// (default 0: none). It applies to both libraries alike.
var ballast []byte

func TestMain(m *testing.M) {
	if mb, _ := strconv.Atoi(os.Getenv("SANSIP_BENCH_LIVE_MB")); mb > 0 {
		ballast = make([]byte, mb<<20)
		for i := 0; i < len(ballast); i += 4096 {
			ballast[i] = 1
		}
	}
	code := m.Run()
	runtime.KeepAlive(ballast)
	os.Exit(code)
}
