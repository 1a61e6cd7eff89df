package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

type result struct {
	code           int
	stdout, stderr string
}

// migrateWithOwner migrates env's database and creates the organisation Acme Bank (sign-in id
// acme-bank) with its owner o@acme.test, failing the test when either command fails.
func migrateWithOwner(t *testing.T, env map[string]string) {
	t.Helper()
	if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", "user", "create", "--tenant", "Acme Bank", "--email", "o@acme.test", "--role", "owner", "--password-stdin"); r.code != 0 {
		t.Fatalf("user create: %+v", r)
	}
}

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func TestUsageAndConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{name: "no command", args: nil, code: 2, stderr: "usage: parley"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "bad database scheme", env: map[string]string{"PARLEY_DATABASE_URL": "mysql://x"}, args: []string{"serve"}, code: 2, stderr: "PARLEY_DATABASE_URL"},
		{name: "bad trusted proxy", env: map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/99"}, args: []string{"serve"}, code: 2, stderr: "PARLEY_TRUSTED_PROXIES"},
		{name: "unreadable certificate", env: map[string]string{"PARLEY_TLS_CERT": "/nonexistent/cert.pem", "PARLEY_TLS_KEY": "/nonexistent/key.pem"}, args: []string{"serve"}, code: 2, stderr: "PARLEY_TLS_CERT"},
		{name: "help", args: []string{"serve", "--help"}, code: 0, stderr: "PARLEY_TRUSTED_PROXIES"},
		{name: "migrate without action", args: []string{"migrate"}, code: 2, stderr: "up|status"},
		{name: "user create without password-stdin", args: []string{"user", "create", "--tenant", "A", "--email", "a@b.test", "--role", "owner"}, code: 2, stderr: "--password-stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			r := runCmd(t, env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestMigrateAndUserCreate(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			// The owner of the schema migrates it; the other commands run as the server's role.
			owner, app := migratetest.EmptyURLs(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": owner}
			if r := runCmd(t, env, "", "migrate", "status"); r.code != 1 || !strings.Contains(r.stdout, "pending") {
				t.Fatalf("status before up: %+v", r)
			}
			// serve refuses an outdated schema without --migrate.
			if r := runCmd(t, env, "", "serve"); r.code != 1 || !strings.Contains(r.stderr, "migrate") {
				t.Fatalf("serve on empty schema: %+v", r)
			}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 || !strings.Contains(r.stdout, "applied") {
				t.Fatalf("migrate up: %+v", r)
			}
			if r := runCmd(t, env, "", "migrate", "status"); r.code != 0 || !strings.Contains(r.stdout, "schema is current") {
				t.Fatalf("status after up: %+v", r)
			}
			env["PARLEY_DATABASE_URL"] = app
			args := []string{"user", "create", "--tenant", "Acme Bank", "--email", "owner@acme.test", "--role", "owner", "--password-stdin"}
			if r := runCmd(t, env, "short\n", args...); r.code != 1 || !strings.Contains(r.stderr, "12 characters") {
				t.Fatalf("weak password: %+v", r)
			}
			r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", args...)
			if r.code != 0 || !strings.Contains(r.stdout, "acme-bank") || strings.Contains(r.stdout+r.stderr, "Lantern") {
				t.Fatalf("user create: %+v", r)
			}
			if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", args...); r.code != 1 || !strings.Contains(r.stderr, "already in use") {
				t.Fatalf("duplicate user: %+v", r)
			}
			args[7] = "janitor"
			args[5] = "second@acme.test"
			if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", args...); r.code != 1 || !strings.Contains(r.stderr, "unknown role") {
				t.Fatalf("unknown role: %+v", r)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestServeLifecycle starts `parley serve --migrate` on SQLite, checks the printed links and the
// health endpoint, and stops it with its context as SIGTERM would.
func TestServeLifecycle(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_ADDR": addr}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--migrate"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "setup:") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var link string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "setup:" {
			link = f[1]
		}
	}
	if !strings.HasPrefix(link, "http://"+addr+"/setup?token=") {
		t.Fatalf("no setup link in output: %q (stderr %q)", out.String(), errb.String())
	}
	for _, u := range []string{"http://" + addr + "/healthz", link} {
		resp, err := http.Get(u) // #nosec G107 -- local test server.
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", u, resp.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exit = %d, stderr %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := migrations.ParseURL("sqlite://" + filepath.Join(dir, "parley.db")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "token=") {
		t.Error("the setup token reached the log")
	}
}

// TestLogsMaskCardNumbers: a card number in a log message, an attribute or an error is masked.
func TestLogsMaskCardNumbers(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "info")
	log.Info("visitor typed 4111 1111 1111 1111 in chat", "detail", "card 5555-5555-5555-4444", "cause", errors.New("bad 378282246310005"))
	out := buf.String()
	for _, pan := range []string{"4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "411111", "555555"} {
		if strings.Contains(out, pan) {
			t.Errorf("log contains %q: %s", pan, out)
		}
	}
	if !strings.Contains(out, "1111") || !strings.Contains(out, "4444") {
		t.Errorf("masked log lost the last four digits: %s", out)
	}
}

func TestRedact(t *testing.T) {
	in := "order 12345 paid with 4111 1111 1111 1111 exp 12/29\r\nno card here\n\x00\xff binary \xfe\nlast line 5555555555554444"
	r := runCmd(t, nil, in, "redact")
	if r.code != 0 {
		t.Fatalf("redact exit %d: %s", r.code, r.stderr)
	}
	want := "order 12345 paid with 4111 11•• •••• 1111 exp ••/••\r\nno card here\n\x00\xff binary \xfe\nlast line 555555••••••4444"
	if r.stdout != want {
		t.Errorf("redact output\n got %q\nwant %q", r.stdout, want)
	}
	r = runCmd(t, nil, "4111111111111111\n", "redact", "--mode", "last4")
	if r.stdout != "••••••••••••1111\n" {
		t.Errorf("last4 output = %q", r.stdout)
	}
	if r := runCmd(t, nil, "", "redact", "--mode", "everything"); r.code != 2 {
		t.Errorf("bad mode exit = %d, want 2", r.code)
	}
	// A long, card-free input comes out byte for byte the same.
	big := strings.Repeat("lorem ipsum 2026-11-21 +44 20 7946 0958 ", 50000)
	if r := runCmd(t, nil, big, "redact"); r.stdout != big {
		t.Error("card-free input was changed")
	}
}
