package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/faults"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

const (
	password   = "Quiet-harbour-2026-lamp"
	siteOrigin = "https://shop.example"
	publicURL  = "http://parley.test"
)

// syncBuffer is a log sink several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cluster is one installation under test: its database URL, its settings, the nodes serving it
// and the tenant the load runs in.
type cluster struct {
	t     *testing.T
	dbURL string
	env   map[string]string
	logs  *syncBuffer
	nodes []*node
	// keys is the key provider the nodes share when Vault is not configured (the local dev
	// provider), as an installation's nodes share Vault.
	keys vault.KeyProvider

	tenant tenant.Tenant
	site   tenant.Site
	dept   tenant.Department
	agents []account.User
}

// node is one Parley node: the whole application (app.New, as `parley serve` builds it) with its
// chat background work, behind a proxy that is the node's network face: killing the node cuts
// every client connection at once, as a crashed process would.
type node struct {
	c      *cluster
	name   string
	app    *app.App
	srv    *httptest.Server
	front  *faults.Proxy
	db     *migrations.DB
	cancel context.CancelFunc
	done   chan struct{}
	dead   bool
}

// URL is the node's address as clients see it.
func (n *node) URL() string { return "http://" + n.front.Addr() }

func newCluster(t *testing.T, dbURL string, env map[string]string) *cluster {
	c := &cluster{t: t, dbURL: dbURL, env: env, logs: &syncBuffer{}}
	if env["VAULT_ADDR"] == "" {
		keys, err := vault.OpenLocal(vault.LocalConfig{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		c.keys = keys
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nodes' log:\n%s", c.logs.String())
		}
	})
	return c
}

// start adds a node.
func (c *cluster) start() *node {
	t := c.t
	t.Helper()
	env := map[string]string{"PARLEY_DATABASE_URL": c.dbURL, "PARLEY_PUBLIC_URL": publicURL}
	for k, v := range c.env {
		env[k] = v
	}
	name := fmt.Sprintf("node-%d", len(c.nodes)+1)
	env["PARLEY_NODE_ID"] = name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := migrations.Open(ctx, c.dbURL, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", name)
	a, err := app.New(ctx, apptest.Config(t, env), db, app.Options{Log: log, Keys: c.keys})
	if err != nil {
		_ = db.Close()
		t.Fatalf("app.New: %v", err)
	}
	rctx, stop := context.WithCancel(context.Background())
	n := &node{c: c, name: name, app: a, db: db, cancel: stop, done: make(chan struct{})}
	go func() { defer close(n.done); _ = a.RunChat(rctx) }()
	if a.ChatRelay != nil {
		select {
		case <-a.ChatRelay.Listening():
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the fan-out relay did not listen", name)
		}
	}
	n.srv = httptest.NewServer(a.Server.Echo)
	if n.front, err = faults.NewProxy(n.srv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.kill)
	c.nodes = append(c.nodes, n)
	return n
}

// kill makes the node vanish: every connection to it drops, it accepts no new one, its
// background work stops. Nothing is shut down gracefully.
func (n *node) kill() {
	if n.dead {
		return
	}
	n.dead = true
	n.front.Cut()
	n.cancel()
	<-n.done
	_ = n.front.Close()
	n.srv.CloseClientConnections()
	n.srv.Close()
	n.app.Envelope.Close()
	if n.app.CardForms != nil {
		n.app.CardForms.Close()
	}
	_ = n.db.Close()
}

// live returns the nodes not killed.
func (c *cluster) live() []*node {
	var out []*node
	for _, n := range c.nodes {
		if !n.dead {
			out = append(out, n)
		}
	}
	return out
}

// setup creates the tenant, its transit key, a site, a department and agents, through the first
// node.
func (c *cluster) setup(agents int) {
	t := c.t
	t.Helper()
	n := c.nodes[0]
	a := n.app
	ctx := context.Background()
	err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if c.tenant, err = a.Tenants.WithTx(tx).CreateTenant(ctx, "Acme Bank"); err != nil {
			return err
		}
		if err := a.Envelope.CreateTenantKey(ctx, c.tenant.ID); err != nil {
			return err
		}
		for i := range agents {
			u, err := a.Accounts.CreateUser(ctx, tx, account.NewUser{TenantID: c.tenant.ID, TenantName: c.tenant.Name,
				Email: fmt.Sprintf("agent%d@acme.example", i+1), Password: password, Role: "agent"})
			if err != nil {
				return err
			}
			c.agents = append(c.agents, u)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	for _, n := range c.nodes {
		if _, err := n.app.Enforcer.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tctx := migrations.WithTenant(ctx, c.tenant.ID)
	if c.site, err = a.Tenants.CreateSite(tctx, c.tenant.ID, "Shop", []string{siteOrigin}); err != nil {
		t.Fatal(err)
	}
	if c.dept, err = a.Tenants.CreateDepartment(tctx, c.tenant.ID, "Cards"); err != nil {
		t.Fatal(err)
	}
}

// httpDo sends a JSON request to a node and decodes the answer into out.
func httpDo(method, url string, hdr http.Header, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if out != nil && len(b) > 0 {
		_ = json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// login signs an agent in on a node and returns the session cookie.
func (c *cluster) login(n *node, u account.User) string {
	c.t.Helper()
	rec, err := http.Post(n.URL()+"/api/v1/auth/login", "application/json", strings.NewReader(
		fmt.Sprintf(`{"tenant":%q,"email":%q,"password":%q}`, c.tenant.Slug, u.Email, password)))
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = rec.Body.Close() }()
	if rec.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(rec.Body)
		c.t.Fatalf("sign in %s: %d %s", u.Email, rec.StatusCode, b)
	}
	for _, ck := range rec.Cookies() {
		if strings.HasSuffix(ck.Name, "parley_session") {
			return ck.Name + "=" + ck.Value
		}
	}
	c.t.Fatal("no session cookie")
	return ""
}

// widget is a widget API URL of the site on a node.
func (c *cluster) widget(n *node, rest string) string {
	return n.URL() + "/api/v1/widget/sites/" + c.site.SiteKey + rest
}

// pageView records a page view on a node and returns the visitor's token.
func (c *cluster) pageView(n *node) string {
	c.t.Helper()
	var ident struct {
		Token string `json:"visitor_token"`
	}
	hdr := http.Header{"Origin": {publicURL}} // the widget's frame is on Parley's origin
	code, err := httpDo(http.MethodPost, c.widget(n, "/pageviews"), hdr, map[string]any{"url": siteOrigin + "/", "title": "Home"}, &ident)
	if err != nil || code != http.StatusOK {
		c.t.Fatalf("page view: %d %v", code, err)
	}
	return ident.Token
}

// tryChat starts a chat for a visitor on a node, returning the answer's status and error code.
func (c *cluster) tryChat(n *node, token string) (int, string) {
	c.t.Helper()
	hdr := http.Header{"Origin": {publicURL}, "Authorization": {"Bearer " + token}}
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	code, err := httpDo(http.MethodPost, c.widget(n, "/chats"), hdr, map[string]any{"department_id": c.dept.ID, "name": "Late"}, &body)
	if err != nil {
		return 0, err.Error()
	}
	return code, body.Error.Code
}
