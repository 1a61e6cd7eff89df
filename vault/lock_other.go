//go:build !unix

package vault

// lockFile is a no-op where advisory file locks are unavailable: the process-wide mutex still
// orders changes made by one process.
func lockFile(string) (func(), error) { return func() {}, nil }
