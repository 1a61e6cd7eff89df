package faults_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/parleyhq/parley/migrations"
)

// Environment variables the scenarios read.
const (
	envFaults  = "PARLEY_TEST_FAULTS"
	envRequire = "PARLEY_TEST_REQUIRE_SERVICES"
	envPGBin   = "PARLEY_TEST_PG_BIN"
	envVault   = "PARLEY_TEST_VAULT_BIN"
)

// scenario skips the test unless fault scenarios were asked for.
func scenario(t *testing.T) {
	t.Helper()
	if os.Getenv(envFaults) != "1" {
		t.Skipf("fault scenarios run with %s=1 (make faults)", envFaults)
	}
}

// missing skips the test, or fails it when services are required.
func missing(t *testing.T, format string, a ...any) {
	t.Helper()
	if os.Getenv(envRequire) == "1" {
		t.Fatalf(format, a...)
	}
	t.Skipf(format, a...)
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// pgCluster is a private PostgreSQL server in a temporary folder, on a port of its own: the
// test may stop and restart it without touching the shared server other tests use.
type pgCluster struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	// OwnerURL migrates (parley_owner owns the tables); AppURL serves (parley_app is bound by
	// row-level security), as in a production install.
	OwnerURL, AppURL string
}

// pgBin finds PostgreSQL's server programs (initdb, pg_ctl).
func pgBin() string {
	if b := os.Getenv(envPGBin); b != "" {
		return b
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

// newPG initialises and starts a private cluster with Parley's schema.
func newPG(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		missing(t, "PostgreSQL server programs not found (set %s)", envPGBin)
	}
	dir, err := os.MkdirTemp("", "parley-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, bin: bin, dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil { // #nosec G204 -- fixed program, test folder
			t.Fatalf("chown %s: %v %s", dir, err, out)
		}
	}
	t.Cleanup(func() {
		_ = c.ctl("stop", "-m", "immediate", "-w")
		_ = os.RemoveAll(dir)
	})
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Start()
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE ROLE parley_owner LOGIN NOSUPERUSER NOBYPASSRLS",
		"CREATE ROLE parley_app LOGIN NOSUPERUSER NOBYPASSRLS",
		"CREATE DATABASE parley OWNER parley_owner",
	} {
		c.exec(ctx, admin, q)
	}
	c.OwnerURL = fmt.Sprintf("postgres://parley_owner@127.0.0.1:%d/parley?sslmode=disable", c.port)
	c.AppURL = fmt.Sprintf("postgres://parley_app@127.0.0.1:%d/parley?sslmode=disable", c.port)
	for _, q := range []string{
		"GRANT USAGE ON SCHEMA public TO parley_app",
		"ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO parley_app",
		"ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO parley_app",
	} {
		c.exec(ctx, c.OwnerURL, q)
	}
	db, err := migrations.Open(ctx, c.OwnerURL, migrations.Options{MaxOpenConns: 2, Unbound: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate the private cluster: %v", err)
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// Addr is the server's host:port.
func (c *pgCluster) Addr() string { return "127.0.0.1:" + strconv.Itoa(c.port) }

// URLVia returns AppURL with its host replaced by addr (a proxy in front of the server).
func (c *pgCluster) URLVia(addr string) string { return strings.Replace(c.AppURL, c.Addr(), addr, 1) }

func (c *pgCluster) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...) // #nosec G204 -- PostgreSQL's own programs with test arguments
	} else {
		cmd = exec.Command(path, args...) // #nosec G204 -- PostgreSQL's own programs with test arguments
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) ctl(args ...string) error {
	_, err := c.run("pg_ctl", append([]string{"-D", c.data()}, args...)...)
	return err
}

// Start starts the server and waits until it accepts connections.
func (c *pgCluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", c.port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log")) // #nosec G304 -- the test's own log file
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server at once (fast shutdown: open connections are terminated).
func (c *pgCluster) Stop() {
	c.t.Helper()
	if err := c.ctl("stop", "-m", "fast", "-w", "-t", "30"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v", err)
	}
}

func (c *pgCluster) exec(ctx context.Context, url, q string) {
	c.t.Helper()
	db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 1, Unbound: true})
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Gorm.WithContext(ctx).Exec(q).Error; err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
}

// vaultServer is a private Vault server with file storage in a temporary folder: unlike a dev
// server it keeps its keys across a restart. It is initialised with one unseal key; after a
// restart it starts sealed, as a production Vault does, and Start unseals it as its operator
// (or an auto-unseal) would. Parley itself is given nothing: it must find Vault back on its own.
type vaultServer struct {
	t        *testing.T
	bin      string
	dir      string
	Addr     string
	Token    string
	unseal   string
	cmd      *exec.Cmd
	exited   chan struct{}
	client   *api.Client
	logLines syncBuffer
}

// vaultBin finds the Vault binary: PARLEY_TEST_VAULT_BIN, `vault` on PATH, or the one
// `make vault-dev` builds into ~/.cache/parley.
func vaultBin() string {
	if b := os.Getenv(envVault); b != "" {
		return b
	}
	if p, err := exec.LookPath("vault"); err == nil {
		return p
	}
	cache := os.Getenv("PARLEY_CACHE_DIR")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "parley")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "vault-*", "vault"))
	if len(matches) == 0 {
		return ""
	}
	return matches[len(matches)-1]
}

// newVault starts, initialises and unseals a private Vault with the transit engine.
func newVault(t *testing.T) *vaultServer {
	t.Helper()
	bin := vaultBin()
	if bin == "" {
		missing(t, "Vault binary not found (run `make vault-dev` once, or set %s)", envVault)
	}
	dir := t.TempDir()
	port := freePort(t)
	v := &vaultServer{t: t, bin: bin, dir: dir, Addr: fmt.Sprintf("http://127.0.0.1:%d", port)}
	conf := fmt.Sprintf(`storage "file" { path = %q }
listener "tcp" {
  address = "127.0.0.1:%d"
  tls_disable = true
}
disable_mlock = true
api_addr = %q
`, filepath.Join(dir, "storage"), port, v.Addr)
	if err := os.WriteFile(filepath.Join(dir, "vault.hcl"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.kill)
	cfg := api.DefaultConfig()
	cfg.Address = v.Addr
	cfg.Timeout = 10 * time.Second
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	v.client = c
	v.spawn()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	init, err := c.Sys().InitWithContext(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("vault operator init: %v", err)
	}
	v.unseal, v.Token = init.Keys[0], init.RootToken
	v.unsealNow(ctx)
	c.SetToken(v.Token)
	if err := c.Sys().MountWithContext(ctx, "transit", &api.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("enable transit: %v", err)
	}
	return v
}

func (v *vaultServer) spawn() {
	v.t.Helper()
	cmd := exec.Command(v.bin, "server", "-config", filepath.Join(v.dir, "vault.hcl")) // #nosec G204 -- the Vault binary with the test's config
	cmd.Stdout, cmd.Stderr = &v.logLines, &v.logLines
	if err := cmd.Start(); err != nil {
		v.t.Fatalf("start vault: %v", err)
	}
	v.cmd, v.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(v.exited)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(v.Addr + "/v1/sys/health") // #nosec G107 -- the test's own server
		if err == nil {
			_ = resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.t.Fatalf("vault did not listen:\n%s", v.logLines.String())
}

func (v *vaultServer) unsealNow(ctx context.Context) {
	v.t.Helper()
	st, err := v.client.Sys().UnsealWithContext(ctx, v.unseal)
	if err != nil || st.Sealed {
		v.t.Fatalf("unseal: %v (sealed %v)", err, st != nil && st.Sealed)
	}
	// Transit answers once the core is active.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		h, err := v.client.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed && !h.Standby {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.t.Fatal("vault did not become active after unseal")
}

// Stop kills the server (its storage stays).
func (v *vaultServer) Stop() {
	v.t.Helper()
	v.kill()
}

func (v *vaultServer) kill() {
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Kill()
	<-v.exited
	v.cmd = nil
}

// Start starts the server again on the same storage and unseals it.
func (v *vaultServer) Start() {
	v.t.Helper()
	v.spawn()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v.unsealNow(ctx)
}
