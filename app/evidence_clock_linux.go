package app

import "golang.org/x/sys/unix"

// clockSynchronized reads the kernel's clock discipline: false when it reports the clock
// unsynchronised (STA_UNSYNC), nil when it cannot be read.
func clockSynchronized() *bool {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return nil
	}
	ok := state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
	return &ok
}
