package audit

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time of the calling thread, to the nanosecond (getrusage would
// only see it advance at scheduler ticks); callers lock their goroutine to the thread.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	// #nosec G103 -- clock_gettime writes into ts, which outlives the call.
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
