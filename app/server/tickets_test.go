package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/server"
)

// fakeClock is a settable clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestTicketKeysRotate(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	k, err := server.NewTicketKeys(&tls.Config{}, server.TicketKeyPeriod, clock.Now, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	first := k.Keys()
	if len(first) != 1 {
		t.Fatalf("keys at start = %d, want 1", len(first))
	}
	steps := []struct {
		name    string
		advance time.Duration
		rotated bool
		n       int
	}{
		{name: "within the period", advance: server.TicketKeyPeriod - time.Second, n: 1},
		{name: "period over: new current, previous kept", advance: time.Second, rotated: true, n: 2},
		{name: "another period: oldest dropped", advance: server.TicketKeyPeriod, rotated: true, n: 2},
		{name: "two idle periods: both dropped", advance: 2 * server.TicketKeyPeriod, rotated: true, n: 1},
	}
	prev := first
	for _, st := range steps {
		clock.now = clock.now.Add(st.advance)
		if err := k.Rotate(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := k.Keys()
		if len(got) != st.n {
			t.Fatalf("%s: %d keys, want %d", st.name, len(got), st.n)
		}
		switch {
		case !st.rotated && got[0] != prev[0]:
			t.Errorf("%s: current key changed", st.name)
		case st.rotated && got[0] == prev[0]:
			t.Errorf("%s: current key kept, want a new one", st.name)
		case st.rotated && st.n == 2 && got[1] != prev[0]:
			t.Errorf("%s: previous key is not the former current one", st.name)
		}
		prev = got
	}
}

// TestTicketOlderThanWindowNotResumed serves TLS with rotating ticket keys: a ticket one period
// old still resumes, one two periods old does not.
func TestTicketOlderThanWindowNotResumed(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			certFile, keyFile := writeCert(t, t.TempDir(), "tickets")
			rel, err := config.NewCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			cfg := rel.TLSConfig()
			clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
			if _, err := server.NewTicketKeys(cfg, server.TicketKeyPeriod, clock.Now, rand.NewChaCha8([32]byte{2})); err != nil {
				t.Fatal(err)
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = ln.Close() }()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					// One byte after the handshake carries the TLS 1.3 ticket to the client.
					_, _ = c.Write([]byte{1})
					_ = c.Close()
				}
			}()
			// connect reports whether a client with cache resumed.
			connect := func(cache tls.ClientSessionCache) bool {
				t.Helper()
				c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, // #nosec G402 -- self-signed test certificate.
					MinVersion: version, MaxVersion: version, ClientSessionCache: cache})
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = c.Close() }()
				_, _ = io.ReadFull(c, make([]byte, 1))
				return c.ConnectionState().DidResume
			}
			a, b := tls.NewLRUClientSessionCache(1), tls.NewLRUClientSessionCache(1)
			connect(a)
			connect(b)
			if !connect(a) {
				t.Fatal("a fresh ticket did not resume")
			}
			clock.now = clock.now.Add(server.TicketKeyPeriod)
			if !connect(a) {
				t.Error("a ticket one period old did not resume (the previous key should still decrypt it)")
			}
			clock.now = clock.now.Add(server.TicketKeyPeriod)
			connect(a) // rotates; a's ticket (from the last period) is still readable
			if connect(b) {
				t.Error("a ticket two periods old resumed")
			}
		})
	}
}

// TestServeRotatesTicketKeys goes through Server.Serve, as `parley serve` does: a session ticket
// two periods old does not resume on the live listener (the rotating keys are those of the
// config the listener serves with, not of a copy).
func TestServeRotatesTicketKeys(t *testing.T) {
	certFile, keyFile := writeCert(t, t.TempDir(), "tickets")
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	s, err := server.New(server.Deps{Config: testConfig(t, map[string]string{"PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile}),
		Log: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	url := "https://" + ln.Addr().String() + "/healthz"
	// get reports whether a request on a new connection with cache resumed its TLS session.
	get := func(cache tls.ClientSessionCache) bool {
		t.Helper()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{ // #nosec G402 -- self-signed test certificate.
			InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, ClientSessionCache: cache}}}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.TLS != nil && resp.TLS.DidResume
	}
	old := tls.NewLRUClientSessionCache(1)
	get(old)
	if !get(old) {
		t.Fatal("a fresh ticket did not resume")
	}
	clock.now = clock.now.Add(server.TicketKeyPeriod)
	get(tls.NewLRUClientSessionCache(1)) // a handshake in each period rotates
	clock.now = clock.now.Add(server.TicketKeyPeriod)
	get(tls.NewLRUClientSessionCache(1))
	if get(old) {
		t.Error("a ticket two periods old resumed on the served listener")
	}
}
