package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is a fresh PostgreSQL database for one scenario, made beneath an administrator's
// connection: owned by parley_owner (who migrates), used by parley_app (who serves, under
// row-level security), dropped by Drop.
type Database struct {
	admin string
	Name  string
	// OwnerURL migrates; AppURL serves.
	OwnerURL, AppURL string
}

// Roles of a production deployment (README, "Production deployment").
const (
	ownerRole = "parley_owner"
	appRole   = "parley_app"
)

// NewDatabase creates a database named parley_load_<random> on the server adminURL points at
// (a superuser, e.g. postgres://postgres@127.0.0.1:5432/postgres), and the two roles when
// missing.
func NewDatabase(ctx context.Context, adminURL string) (*Database, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	d := &Database{admin: adminURL, Name: "parley_load_" + hex.EncodeToString(b[:])}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("loadtest: connect to PostgreSQL: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, r := range []string{ownerRole, appRole} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", r).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			if _, err := conn.Exec(ctx, "CREATE ROLE "+r+" LOGIN NOSUPERUSER NOBYPASSRLS"); err != nil {
				return nil, err
			}
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+d.Name+" OWNER "+ownerRole); err != nil {
		return nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	at := func(user string) string {
		v := *u
		v.User = url.User(user)
		v.Path = "/" + d.Name
		return v.String()
	}
	d.OwnerURL, d.AppURL = at(ownerRole), at(appRole)
	oc, err := pgx.Connect(ctx, d.OwnerURL)
	if err != nil {
		_ = d.Drop(ctx)
		return nil, err
	}
	defer func() { _ = oc.Close(ctx) }()
	for _, q := range []string{
		"GRANT USAGE ON SCHEMA public TO " + appRole,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + ownerRole + " IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + appRole,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + ownerRole + " IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO " + appRole,
	} {
		if _, err := oc.Exec(ctx, q); err != nil {
			_ = d.Drop(ctx)
			return nil, fmt.Errorf("loadtest: %s: %w", q, err)
		}
	}
	return d, nil
}

// Drop removes the database, ending its connections.
func (d *Database) Drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)")
	return err
}

// ServerConfig is one `parley serve` node the tool starts.
type ServerConfig struct {
	// Bin is the parley binary (bin/parley).
	Bin string
	// DataDir is the node's data directory (SQLite, the dev key provider's keys); several nodes
	// of one installation share it for the dev keys.
	DataDir string
	// DatabaseURL is what the node serves from; empty is SQLite in DataDir. MigrateURL, when
	// set, migrates first (PostgreSQL: the owner role); empty migrates with serve --migrate.
	DatabaseURL, MigrateURL string
	// Addr is the node's listen address; empty takes a free loopback port.
	Addr string
	// PublicURL is the installation's URL (the load balancer's); empty is the node's own.
	PublicURL string
	// MetricsToken enables GET /metrics.
	MetricsToken string
	// NodeID names the node.
	NodeID string
	// Env is added to the node's environment (VAULT_ADDR, VAULT_TOKEN, a fan-out bus…).
	Env []string
	// Log receives the node's output; nil discards it.
	Log io.Writer
}

// Server is a running `parley serve`.
type Server struct {
	URL string
	PID int
	cfg ServerConfig
	env []string
	cmd *exec.Cmd
	// exited closes when the process ended.
	exited chan struct{}
	err    error
	once   sync.Once
}

// environ is the node's environment: the caller's without any PARLEY_ setting (VAULT_ ones pass
// only through Env), then the node's.
func (c ServerConfig) environ(addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") && !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	public := c.PublicURL
	if public == "" {
		public = "http://" + addr
	}
	env = append(env, "PARLEY_ADDR="+addr, "PARLEY_DATA_DIR="+c.DataDir, "PARLEY_PUBLIC_URL="+public,
		"PARLEY_LOG_LEVEL=warn", "PARLEY_TRUSTED_PROXIES=127.0.0.1/32,::1/128")
	if c.DatabaseURL != "" {
		env = append(env, "PARLEY_DATABASE_URL="+c.DatabaseURL)
	}
	if c.MetricsToken != "" {
		env = append(env, "PARLEY_METRICS_TOKEN="+c.MetricsToken)
	}
	if c.NodeID != "" {
		env = append(env, "PARLEY_NODE_ID="+c.NodeID)
	}
	return append(env, c.Env...)
}

// FreeAddr returns an unused loopback address.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// StartServer migrates (when asked) and starts a node, and waits until GET /readyz answers 200.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Bin == "" || cfg.DataDir == "" {
		return nil, errors.New("loadtest: the parley binary and a data directory are required")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	s := &Server{URL: "http://" + addr, cfg: cfg, env: cfg.environ(addr), exited: make(chan struct{})}
	args := []string{"serve", "--migrate"}
	if cfg.MigrateURL != "" {
		env := append(append([]string{}, s.env...), "PARLEY_DATABASE_URL="+cfg.MigrateURL)
		if out, err := s.run(ctx, env, "", "migrate", "up"); err != nil {
			return nil, fmt.Errorf("loadtest: parley migrate up: %w: %s", err, out)
		}
		args = []string{"serve"}
	}
	s.cmd = exec.Command(cfg.Bin, args...) // #nosec G204 -- the operator's own parley binary
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, cfg.Log, cfg.Log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.PID = s.cmd.Process.Pid
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("loadtest: parley serve exited: %v", s.err)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if res, err := http.Get(s.URL + "/readyz"); err == nil { // #nosec G107 -- the node's own loopback URL
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.Stop()
	return nil, errors.New("loadtest: parley serve was not ready within 90 s")
}

// Stop ends the node (SIGTERM, then SIGKILL after 15 s) and waits for it.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// Kill ends the node at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.once.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// Command runs `parley args…` with the node's configuration and stdin and returns its output.
func (s *Server) Command(ctx context.Context, stdin string, args ...string) (string, error) {
	env := s.env
	if s.cfg.MigrateURL != "" {
		// The commands that write (user, site) work as the serving role, like the nodes.
		env = append(append([]string{}, s.env...), "PARLEY_DATABASE_URL="+s.cfg.DatabaseURL)
	}
	return s.run(ctx, env, stdin, args...)
}

func (s *Server) run(ctx context.Context, env []string, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.cfg.Bin, args...) // #nosec G204 -- the operator's own parley binary
	cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Installation is what Provision made: agents, accounts for the sign-in storm, a site.
type Installation struct {
	Tenant     string
	Agents     []Account
	Storm      []Account
	SiteKey    string
	SiteOrigin string
}

var (
	slugRe    = regexp.MustCompile(`sign-in id ([^\s)]+)`)
	createdRe = regexp.MustCompile(`created user \S+ \(([^)\s]+)\)`)
	siteKeyRe = regexp.MustCompile(`\bsite_[a-z2-7]{10,64}\b`)
)

// Provision creates, with the node's own commands (as an operator does), an organisation with
// agents agents and storm more users who take chats, and a site whose origin is origin.
func Provision(ctx context.Context, s *Server, agents, storm int, origin string) (*Installation, error) {
	in := &Installation{SiteOrigin: origin}
	tenant := "Load Test Bank"
	create := func(email, role string) (Account, error) {
		var b [18]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Account{}, err
		}
		pw := base64.RawURLEncoding.EncodeToString(b[:]) + "aA1!"
		t := tenant
		if in.Tenant != "" {
			t = in.Tenant
		}
		out, err := s.Command(ctx, pw+"\n", "user", "create", "--tenant", t, "--email", email, "--role", role, "--name", email, "--password-stdin")
		if err != nil {
			return Account{}, fmt.Errorf("loadtest: parley user create %s: %w: %s", email, err, out)
		}
		if in.Tenant == "" {
			if m := slugRe.FindStringSubmatch(out); m != nil {
				in.Tenant = m[1]
			} else if m := createdRe.FindStringSubmatch(out); m != nil {
				in.Tenant = m[1]
			} else {
				return Account{}, fmt.Errorf("loadtest: parley user create: no sign-in id in %q", out)
			}
		}
		return Account{Tenant: in.Tenant, Email: email, Password: pw}, nil
	}
	if _, err := create("owner@load.example", "owner"); err != nil {
		return nil, err
	}
	for i := range agents {
		a, err := create(fmt.Sprintf("agent%d@load.example", i+1), "agent")
		if err != nil {
			return nil, err
		}
		in.Agents = append(in.Agents, a)
	}
	for i := range storm {
		a, err := create(fmt.Sprintf("storm%d@load.example", i+1), "agent")
		if err != nil {
			return nil, err
		}
		in.Storm = append(in.Storm, a)
	}
	out, err := s.Command(ctx, "", "site", "create", "--tenant", in.Tenant, "--name", "Load Site", "--origin", origin)
	if err != nil {
		return nil, fmt.Errorf("loadtest: parley site create: %w: %s", err, out)
	}
	in.SiteKey = siteKeyRe.FindString(out)
	if in.SiteKey == "" {
		return nil, fmt.Errorf("loadtest: parley site create: no site key in %q", out)
	}
	return in, nil
}
