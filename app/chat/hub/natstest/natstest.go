// Package natstest connects tests to the real NATS server named by PARLEY_TEST_NATS_URL (CI and
// the development machine run one at nats://127.0.0.1:4222). Without it the test is skipped, or
// failed when PARLEY_TEST_REQUIRE_SERVICES=1; a configured server that does not answer fails the
// test. Each test gets its own subject prefix, so tests sharing the server never see each other's
// signals, as two installations sharing one NATS do not.
package natstest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Environment variables the helper reads.
const (
	EnvURL             = "PARLEY_TEST_NATS_URL"
	EnvRequireServices = "PARLEY_TEST_REQUIRE_SERVICES"
)

// URL returns the NATS server's URL after checking that it accepts connections.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		if os.Getenv(EnvRequireServices) == "1" {
			t.Fatalf("%s is not set but %s=1: NATS is required", EnvURL, EnvRequireServices)
		}
		t.Skipf("NATS not configured (%s unset; e.g. nats://127.0.0.1:4222)", EnvURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("%s: %q is not a nats:// URL", EnvURL, raw)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "4222")
	}
	c, err := net.DialTimeout("tcp", host, 3*time.Second)
	if err != nil {
		t.Fatalf("NATS at %s does not answer: %v", host, err)
	}
	_ = c.Close()
	return raw
}

// Prefix returns a subject prefix of the test's own.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "parleytest." + hex.EncodeToString(b[:])
}
