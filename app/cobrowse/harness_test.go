package cobrowse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/cobrowse"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

const (
	siteOrigin = "https://shop.example"
	password   = "Quiet-harbour-2026-lamp"
	testPAN    = "4111 1111 1111 1111"
)

// world is one tenant with a site, a department, users and visitors over one database, served
// by one or more nodes.
type world struct {
	t        testing.TB
	db       *migrations.DB
	dbURL    string
	clock    *apptest.Clock
	logs     *apptest.LogBuffer
	keys     vault.KeyProvider
	opts     cobrowse.Options
	tenant   tenant.Tenant
	site     tenant.Site
	dept     tenant.Department
	owner    account.User // handles chats; holds cobrowse.view and cobrowse.control
	agent    account.User // cobrowse.view only
	visitorA visitor.Identity
	visitorB visitor.Identity
}

// node is one Parley process, listening (for the sockets and node-to-node calls).
type node struct {
	*app.App
	w   *world
	srv *httptest.Server
}

func openDB(t testing.TB, url string) *migrations.DB {
	t.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := migrations.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func (w *world) newNode(db *migrations.DB) *node {
	w.t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	opts := app.Options{Now: w.clock.Now, Keys: w.keys, Cobrowse: w.opts,
		Log: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	opts.CardForms.NodeURL = "http://" + srv.Listener.Addr().String()
	a, err := app.New(context.Background(), apptest.Config(w.t, map[string]string{"PARLEY_DATABASE_URL": w.dbURL}), db, opts)
	if err != nil {
		w.t.Fatalf("app.New: %v", err)
	}
	n := &node{App: a, w: w, srv: srv}
	srv.Config.Handler = a.Server.Echo
	srv.Start()
	w.t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		a.Cobrowse.Close()
		a.CardForms.Close()
		a.Envelope.Close()
	})
	return n
}

func newWorld(t testing.TB, url string, opts cobrowse.Options) (*world, *node) {
	t.Helper()
	db := openDB(t, url)
	w := &world{t: t, db: db, dbURL: url, clock: apptest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)), logs: &apptest.LogBuffer{}, opts: opts}
	keys, err := vault.OpenLocal(vault.LocalConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w.keys = keys
	n := w.newNode(db)
	ctx := context.Background()
	err = db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if w.tenant, err = n.Tenants.WithTx(tx).CreateTenant(ctx, "Acme Bank"); err != nil {
			return err
		}
		if err := n.Envelope.CreateTenantKey(ctx, w.tenant.ID); err != nil {
			return err
		}
		mk := func(email, role string) (account.User, error) {
			return n.Accounts.CreateUser(ctx, tx, account.NewUser{TenantID: w.tenant.ID, TenantName: w.tenant.Name, Email: email, Password: password, Role: role})
		}
		if w.owner, err = mk("owner@acme.example", "owner"); err != nil {
			return err
		}
		w.agent, err = mk("agent@acme.example", "agent")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Enforcer.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if w.site, err = n.Tenants.CreateSite(ctx, w.tenant.ID, "Shop", []string{siteOrigin}); err != nil {
		t.Fatal(err)
	}
	if w.dept, err = n.Tenants.CreateDepartment(ctx, w.tenant.ID, "Help"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*visitor.Identity{&w.visitorA, &w.visitorB} {
		if *v, err = n.Visitors.Record(ctx, visitor.View{TenantID: w.tenant.ID, SiteID: w.site.ID, CookieMode: "persistent",
			URL: siteOrigin + "/checkout", Title: "Checkout", IP: "198.51.100.7"}); err != nil {
			t.Fatal(err)
		}
	}
	return w, n
}

// eachDB runs f on a fresh world on SQLite and on PostgreSQL (when configured).
func eachDB(t *testing.T, opts cobrowse.Options, f func(t *testing.T, w *world, n *node)) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			w, n := newWorld(t, migratetest.URL(t, d), opts)
			f(t, w, n)
		})
	}
}

// conversation opens an active conversation of a visitor handled by agent.
func (w *world) conversation(v visitor.Identity, agent account.User) string {
	w.t.Helper()
	now := w.clock.Now().UTC()
	dept := w.dept.ID
	c := chat.Conversation{ID: uuid.Must(uuid.NewV7()).String(), TenantID: w.tenant.ID, SiteID: w.site.ID, DepartmentID: &dept,
		VisitorID: v.Visitor.ID, Status: chat.StatusActive, AgentID: &agent.ID, QueuedAt: now, AcceptedAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := migratetest.Beneath(w.t, w.db).Gorm.Create(&c).Error; err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

// client is a signed-in console user of a node.
type client struct {
	n      *node
	cookie string
	csrf   string
}

func (n *node) login(u account.User) *client {
	n.w.t.Helper()
	rec := n.do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body: fmt.Sprintf(`{"tenant":%q,"email":%q,"password":%q}`, n.w.tenant.Slug, u.Email, password)})
	if rec.Code != http.StatusOK {
		n.w.t.Fatalf("sign in %s: %d %s", u.Email, rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	c := &client{n: n, csrf: body.CSRF}
	for _, ck := range rec.Result().Cookies() {
		if strings.HasSuffix(ck.Name, "parley_session") {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	return c
}

func (n *node) do(r apptest.Request) *httptest.ResponseRecorder {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	} else if r.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.RemoteAddr = "192.0.2.10:4000"
	rec := httptest.NewRecorder()
	n.Server.Echo.ServeHTTP(rec, req)
	return rec
}

func (c *client) do(method, path, body string) *httptest.ResponseRecorder {
	h := http.Header{"Cookie": {c.cookie}}
	if method != http.MethodGet {
		h.Set("X-CSRF-Token", c.csrf)
	}
	return c.n.do(apptest.Request{Method: method, Path: path, Body: body, Header: h})
}

func agentPath(conv string, rest ...string) string {
	return "/api/v1/chat/conversations/" + conv + "/cobrowse" + strings.Join(rest, "")
}

// enable turns co-browsing on for the site, with idle seconds and an allowlist.
func (c *client) enable(idle int, allow ...string) {
	t := c.n.w.t
	t.Helper()
	b, _ := json.Marshal(cobrowse.Settings{Enabled: true, IdleSeconds: idle, InputAllowlist: append([]string{}, allow...)})
	if rec := c.do(http.MethodPut, "/api/v1/chat/sites/"+c.n.w.site.ID+"/cobrowse", string(b)); rec.Code != http.StatusOK {
		t.Fatalf("enable co-browsing: %d %s", rec.Code, rec.Body)
	}
}

// request asks the visitor of conv to share and returns the session id.
func (c *client) request(conv string) string {
	t := c.n.w.t
	t.Helper()
	rec := c.do(http.MethodPost, agentPath(conv), "")
	if rec.Code != http.StatusCreated {
		t.Fatalf("request co-browsing: %d %s", rec.Code, rec.Body)
	}
	return accounttest.Decode[cobrowse.Info](t, rec).ID
}

// sock is a test WebSocket with a reading timeout.
type sock struct {
	t    testing.TB
	conn *websocket.Conn
}

func (s *sock) send(v any) {
	s.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// next reads the next frame, failing after 10 seconds.
func (s *sock) next() map[string]any {
	s.t.Helper()
	raw := s.nextRaw()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		s.t.Fatalf("frame %s: %v", raw, err)
	}
	return m
}

func (s *sock) nextRaw() []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return b
}

// closed waits for the socket to close and returns its close code.
func (s *sock) closed() websocket.StatusCode {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := s.conn.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func (n *node) dial(path string, h http.Header) (*websocket.Conn, *http.Response, error) {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Origin", n.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h})
}

// visitorSocket shares the visitor's page in session id and returns the socket after "started".
func (n *node) visitorSocket(v visitor.Identity, conv, id string) *sock {
	t := n.w.t
	t.Helper()
	conn, _, err := n.dial("/api/v1/widget/sites/"+n.w.site.SiteKey+"/cobrowse/ws", nil)
	if err != nil {
		t.Fatalf("visitor socket: %v", err)
	}
	conn.SetReadLimit(cobrowse.MaxVisitorFrame)
	t.Cleanup(func() { _ = conn.CloseNow() })
	s := &sock{t: t, conn: conn}
	s.send(map[string]string{"t": "hello", "token": v.Token, "conversation_id": conv, "session_id": id})
	if f := s.next(); f["t"] != "started" {
		t.Fatalf("visitor socket: first frame %v, want started", f)
	}
	return s
}

// agentSocket opens the agent's viewer socket on c's node.
func (c *client) agentSocket(conv, id string) (*sock, *http.Response, error) {
	conn, resp, err := c.n.dial(agentPath(conv, "/", id, "/ws"), http.Header{"Cookie": {c.cookie}})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(cobrowse.MaxVisitorFrame)
	c.n.w.t.Cleanup(func() { _ = conn.CloseNow() })
	return &sock{t: c.n.w.t, conn: conn}, resp, nil
}

// events returns the tenant's audit entries of an action.
func (n *node) events(action audit.Action) []audit.Entry {
	t := n.w.t
	t.Helper()
	ctx := context.Background()
	if _, err := n.Audit.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := n.Audit.Entries(ctx, n.w.tenant.ID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// row returns a session's status and end reason in the database.
func (w *world) row(id string) (string, string) {
	var r struct{ Status, EndReason string }
	if err := migratetest.Beneath(w.t, w.db).Gorm.Raw("SELECT status, end_reason FROM cobrowse_sessions WHERE id = ?", id).Scan(&r).Error; err != nil {
		w.t.Fatal(err)
	}
	return r.Status, r.EndReason
}

// chatEvents returns the system events of a conversation.
func (w *world) chatEvents(conv string) []string {
	var ev []string
	migratetest.Beneath(w.t, w.db).Gorm.Raw("SELECT event FROM conversation_events WHERE conversation_id = ? AND kind = 'system' ORDER BY seq", conv).Scan(&ev)
	return ev
}

func errorCode(rec *httptest.ResponseRecorder) string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code
}
