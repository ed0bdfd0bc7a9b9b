package browser

import (
	"os"
	"syscall"
	"testing"
)

// TestMain makes the test binary a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER): Chromium's helper processes that outlive its
// main process are adopted by the test binary, which reaps them
// (reapHelpers), instead of going to PID 1, which in a container may
// never reap them.
func TestMain(m *testing.M) {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	os.Exit(m.Run())
}
