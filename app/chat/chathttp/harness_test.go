package chathttp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/app/visitor/visitorhttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// grants is the test's authorization policy: user → permission → departments ("" = tenant-wide).
type grants struct {
	mu sync.Mutex
	m  map[string]map[string][]string
}

func (g *grants) grant(user, perm string, depts ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]map[string][]string{}
	}
	if g.m[user] == nil {
		g.m[user] = map[string][]string{}
	}
	if len(depts) == 0 {
		depts = []string{""}
	}
	g.m[user][perm] = append(g.m[user][perm], depts...)
}

// Allowed implements chat.Authorizer with the RBAC rule that a tenant-wide grant covers every
// department.
func (g *grants) Allowed(_ context.Context, p *api.Principal, perm, dept string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range g.m[p.UserID][perm] {
		if d == "" || d == dept {
			return true, nil
		}
	}
	return false, nil
}

// names implements chat.Names.
type names map[string]string

func (n names) DisplayName(_ context.Context, _, id string) (string, error) { return n[id], nil }

// env is one tenant with a site and two departments on one database, shared by the nodes of a
// test.
type env struct {
	t       testing.TB
	db      *migrations.DB
	url     string
	clock   *apptest.Clock
	tenants *tenant.Store
	tenant  tenant.Tenant
	site    tenant.Site
	cards   tenant.Department
	loans   tenant.Department
	grants  *grants
	names   names
	keys    vault.KeyProvider
	dataDir string
	audit   *recorder
	// redaction holds the tenant's masking mode and redaction rules; every node reads them
	// through its own cached policies, which a change invalidates.
	redaction *redaction.Store
	policies  []*redaction.Policies
	// signedOut holds the users whose console session has ended (chat.SessionChecker).
	signedOut sync.Map
	// nats, when set, is the NATS fan-out (URL and subject prefix) nodes relay through instead
	// of LISTEN/NOTIFY.
	nats *hub.NATSConfig
}

// recorder is the test's audit log: it writes the events appended inside the caller's
// transaction to a table of its own (so an event exists exactly when its change committed),
// checks them as the audit log would (catalogue action, actor kind, tenant), and can be told to
// fail so the fail-closed behaviour is visible.
type recorder struct {
	db   *gorm.DB
	mu   sync.Mutex
	fail bool
}

func newRecorder(t testing.TB, db *migrations.DB) *recorder {
	t.Helper()
	// The server's role cannot create tables: the test's own table is made beneath it, and opened to it.
	owner := migratetest.Beneath(t, db).Gorm
	if err := owner.Exec("CREATE TABLE test_audit (action TEXT NOT NULL, tenant TEXT NOT NULL, actor TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if db.Dialect == migrations.Postgres {
		if err := owner.Exec("GRANT SELECT, INSERT ON test_audit TO " + migratetest.AppRole).Error; err != nil {
			t.Fatal(err)
		}
	}
	return &recorder{db: db.Gorm}
}

func (r *recorder) Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error {
	if tx == nil {
		return errors.New("audit: no transaction")
	}
	if !ev.Action.Valid() || ev.Tenant == "" || ev.Actor.ID == "" {
		return fmt.Errorf("audit: invalid event %+v", ev)
	}
	// The audit log's own checks: detail keys that name secrets, oversized or malformed fields.
	if _, err := audit.Normalize(ev, audit.MaskFunc(func(s string) string { return s }), "test"); err != nil {
		return err
	}
	switch ev.Actor.Kind {
	case audit.ActorUser, audit.ActorVisitor, audit.ActorSystem:
	default:
		return fmt.Errorf("audit: invalid actor kind %q", ev.Actor.Kind)
	}
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail {
		return errors.New("audit: append failed")
	}
	details, _ := json.Marshal(ev.Details)
	// Written as the audit log writes its outbox, on the transaction's connection below GORM
	// (the storage card guard is GORM's; the audit log masks its own fields).
	q := "INSERT INTO test_audit (action, tenant, actor, target, details) VALUES (?, ?, ?, ?, ?)"
	if tx.Dialector.Name() == "postgres" {
		q = "INSERT INTO test_audit (action, tenant, actor, target, details) VALUES ($1, $2, $3, $4, $5)"
	}
	_, err := tx.Statement.ConnPool.ExecContext(ctx, q,
		string(ev.Action), ev.Tenant, string(ev.Actor.Kind)+":"+ev.Actor.ID, ev.Target.Kind+":"+ev.Target.ID, string(details))
	return err
}

// count returns how many committed events of action were recorded.
func (r *recorder) count(action audit.Action) int {
	var n int64
	r.db.Raw("SELECT COUNT(*) FROM test_audit WHERE action = ?", string(action)).Scan(&n)
	return int(n)
}

func (r *recorder) setFail(f bool) {
	r.mu.Lock()
	r.fail = f
	r.mu.Unlock()
}

const siteOrigin = "https://shop.example"

func newEnv(t testing.TB, db *migrations.DB, url string) *env {
	t.Helper()
	ctx := context.Background()
	clock := apptest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, db: db, url: url, clock: clock, tenants: tenant.NewStore(db.Gorm, clock.Now), grants: &grants{},
		names: names{}, dataDir: t.TempDir()}
	var err error
	if e.tenant, err = e.tenants.CreateTenant(ctx, "Acme Bank"); err != nil {
		t.Fatal(err)
	}
	if e.site, err = e.tenants.CreateSite(ctx, e.tenant.ID, "Shop", []string{siteOrigin}); err != nil {
		t.Fatal(err)
	}
	if e.cards, err = e.tenants.CreateDepartment(ctx, e.tenant.ID, "Cards"); err != nil {
		t.Fatal(err)
	}
	if e.loans, err = e.tenants.CreateDepartment(ctx, e.tenant.ID, "Loans"); err != nil {
		t.Fatal(err)
	}
	local, err := vault.OpenLocal(vault.LocalConfig{DataDir: e.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := local.CreateTenantKey(ctx, e.tenant.ID); err != nil {
		t.Fatal(err)
	}
	e.keys = local
	e.audit = newRecorder(t, db)
	e.redaction = &redaction.Store{DB: db.Gorm, Audit: e.audit, Now: clock.Now, Node: "test", Changed: func(tenantID string) {
		for _, p := range e.policies {
			p.Invalidate(tenantID)
		}
	}}
	return e
}

// agent creates a console user with a name and permissions.
func (e *env) agent(name string, perms map[string][]string) string {
	id := fmt.Sprintf("u-%s-%d", strings.ToLower(name), time.Now().UnixNano())
	e.names[id] = name
	for p, depts := range perms {
		e.grants.grant(id, p, depts...)
	}
	return id
}

// fullAgent may do everything with chats in every department.
func (e *env) fullAgent(name string) string {
	return e.agent(name, map[string][]string{"chat.accept": nil, "chat.refuse": nil, "chat.transfer": nil, "chat.end": nil})
}

// node is one Parley node serving the chat over HTTP.
type node struct {
	svc *chat.Service
	srv *httptest.Server
	db  *migrations.DB
}

// node starts a chat node over db (its own pool; on Postgres with the LISTEN/NOTIFY relay).
func (e *env) node(db *migrations.DB, limits chat.Limits) *node {
	t := e.t
	t.Helper()
	h := hub.New()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if db.Dialect == migrations.Postgres {
		sqlDB, err := db.SQL()
		if err != nil {
			t.Fatal(err)
		}
		var relay hub.Relay
		if e.nats != nil {
			if relay, err = hub.NewNATS(h, *e.nats, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			relay = hub.NewPostgres(h, sqlDB, nil)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = relay.Run(ctx) }()
		select {
		case <-relay.Listening():
		case <-time.After(10 * time.Second):
			t.Fatal("relay did not listen")
		}
	}
	env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: e.keys, Store: vault.NewStore(db, e.clock.Now), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	policies := &redaction.Policies{Store: e.redaction, Now: e.clock.Now}
	e.policies = append(e.policies, policies)
	tenants := tenant.NewStore(db.Gorm, e.clock.Now)
	visitors := visitor.NewStore(db.Gorm, e.clock.Now, rand.Reader, visitor.MasksFunc(func(ctx context.Context, tenantID string) (visitor.Masker, error) {
		return policies.For(ctx, tenantID)
	}))
	svc, err := chat.New(chat.Config{
		DB: db, Tenants: tenants, Visitors: visitors, Hub: h,
		Sealer: env, Audit: e.audit, Authz: e.grants, Names: e.names, Policies: policies, Split: pan.SplitOptions{Now: e.clock.Now},
		Sessions: chat.SessionFunc(func(_ context.Context, p *api.Principal) (bool, error) {
			_, gone := e.signedOut.Load(p.UserID)
			return !gone, nil
		}),
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Now: e.clock.Now, Rand: rand.Reader, Node: "test", PublicOrigin: "http://parley.test", Limits: limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	mod := chathttp.New(chathttp.Config{Service: svc, Tenants: tenants, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	guard := func(r server.Route) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				user := c.Request().Header.Get("X-Test-User")
				if user == "" {
					return api.ErrUnauthenticated
				}
				p := &api.Principal{TenantID: e.tenant.ID, UserID: user}
				api.SetPrincipal(c, p)
				// As the RBAC guard does: tenant scope asks tenant-wide, department scope asks in
				// the department the route resolves.
				dept := ""
				switch r.Scope {
				case server.ScopeNone:
					return next(c)
				case server.ScopeDepartment:
					if r.Department != nil {
						d, err := r.Department(c, p.TenantID)
						if err != nil {
							return err
						}
						dept = d
					} else {
						dept = c.Param("department")
					}
				}
				if ok, _ := e.grants.Allowed(c.Request().Context(), p, r.Permission, dept); !ok {
					return api.ErrForbidden
				}
				return next(c)
			}
		}
	}
	srv, err := server.New(server.Deps{Config: apptest.Config(t, nil), Log: slog.New(slog.DiscardHandler), Now: e.clock.Now,
		Modules: []server.Module{mod, &visitorhttp.Module{Store: visitors, DB: db.Gorm, Authz: e.grants, Audit: e.audit, Node: "test"}}, Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	apptest.CheckOpenAPI(t, srv.Echo)
	ts := httptest.NewServer(srv.Echo)
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := mod.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := svc.Shutdown(sctx); err != nil {
			t.Errorf("engine shutdown: %v", err)
		}
		ts.Close()
		cancel()
		wg.Wait()
		env.Close()
	})
	return &node{svc: svc, srv: ts, db: db}
}

// eachDB runs fn on SQLite and (when configured) Postgres with a fresh schema.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := migratetest.URL(t, d)
			db := openURL(t, url, true)
			fn(t, newEnv(t, db, url))
		})
	}
}

// openURL opens a database URL (migrating it when asked).
func openURL(t testing.TB, url string, migrate bool) *migrations.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if migrate {
		m, err := migrations.NewMigrator(db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// widgetURL is a widget API path of the test site.
func (n *node) widgetURL(e *env, rest string) string {
	return n.srv.URL + "/api/v1/widget/sites/" + e.site.SiteKey + rest
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func do(t testing.TB, method, url, token string, body any, out any, hdr ...string) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// errBody is the error answer.
type errBody struct {
	Error struct {
		Code    string            `json:"code"`
		Field   string            `json:"field"`
		Details map[string]string `json:"details"`
	} `json:"error"`
}

// newVisitor reports a page view and returns the visitor's token.
func (n *node) newVisitor(t testing.TB, e *env) chathttp.Identity {
	t.Helper()
	var id chathttp.Identity
	if code := do(t, http.MethodPost, n.widgetURL(e, "/pageviews"), "", map[string]any{"url": siteOrigin + "/cards", "title": "Cards"}, &id); code != http.StatusOK {
		t.Fatalf("page view: status %d", code)
	}
	return id
}

// start starts a chat for a visitor in a department.
func (n *node) start(t testing.TB, e *env, token, dept, name string) protocol.Conversation {
	t.Helper()
	var c protocol.Conversation
	var eb errBody
	code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), token, map[string]any{"department_id": dept, "name": name}, &c)
	if code != http.StatusCreated {
		do(t, http.MethodPost, n.widgetURL(e, "/chats"), token, map[string]any{"department_id": dept, "name": name}, &eb)
		t.Fatalf("start chat: status %d (%s)", code, eb.Error.Code)
	}
	return c
}

// frame is any server frame, decoded loosely for assertions.
type frame struct {
	Type           string                  `json:"type"`
	ConversationID string                  `json:"conversation_id"`
	Seq            int64                   `json:"seq"`
	Kind           string                  `json:"kind"`
	Text           string                  `json:"text"`
	Key            string                  `json:"key"`
	Event          string                  `json:"event"`
	Code           string                  `json:"code"`
	Field          string                  `json:"field"`
	Duplicate      bool                    `json:"duplicate"`
	TargetSeq      int64                   `json:"target_seq"`
	Typing         bool                    `json:"typing"`
	SenderKind     string                  `json:"sender_kind"`
	ReaderKind     string                  `json:"reader_kind"`
	Reason         string                  `json:"reason"`
	RetryAfterMS   int64                   `json:"retry_after_ms"`
	Sender         *protocol.Sender        `json:"sender"`
	File           *protocol.File          `json:"file"`
	Offer          *protocol.Offer         `json:"offer"`
	Conversation   *protocol.Conversation  `json:"conversation"`
	Conversations  []protocol.Conversation `json:"conversations"`
	Queue          []protocol.Offer        `json:"queue"`
	Data           map[string]string       `json:"data"`
	Status         string                  `json:"status"`
	Position       int64                   `json:"position"`
	EstimatedWait  int64                   `json:"estimated_wait_seconds"`
	// Team chat and invitations.
	ThreadID     string           `json:"thread_id"`
	Peer         *protocol.Sender `json:"peer"`
	InvitationID string           `json:"invitation_id"`
	VisitorID    string           `json:"visitor_id"`
}

// client is a real WebSocket client.
type client struct {
	t    testing.TB
	conn *websocket.Conn
	ch   chan frame
	errc chan error
	// backlog holds frames until skipped past; next and until read it first.
	backlog []frame
	// closed holds the close status once the server closed the socket.
	mu     sync.Mutex
	status websocket.StatusCode
	reason string
}

// dial opens a socket; a refused upgrade returns the HTTP status.
func dial(t testing.TB, url string, hdr http.Header) (*client, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(1 << 20)
	c := &client{t: t, conn: conn, ch: make(chan frame, 4096), errc: make(chan error, 1)}
	go c.readLoop()
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c, http.StatusSwitchingProtocols
}

func (c *client) readLoop() {
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				c.mu.Lock()
				c.status, c.reason = ce.Code, ce.Reason
				c.mu.Unlock()
			}
			c.errc <- err
			close(c.ch)
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.errc <- err
			close(c.ch)
			return
		}
		c.ch <- f
	}
}

// visitorSocket connects a visitor and says hello.
func (n *node) visitorSocket(t testing.TB, e *env, token, conv string, lastSeq int64) *client {
	t.Helper()
	c, code := dial(t, n.widgetURL(e, "/ws"), http.Header{"Origin": {siteOrigin}})
	if c == nil {
		t.Fatalf("visitor socket refused: %d", code)
	}
	c.send(map[string]any{"type": "hello", "token": token, "conversation_id": conv, "last_seq": lastSeq})
	if w := c.next(); w.Type != "welcome" {
		t.Fatalf("first frame %+v, want welcome", w)
	}
	return c
}

// agentSocket connects an agent and says hello.
func (n *node) agentSocket(t testing.TB, user string, resume map[string]int64) (*client, frame) {
	t.Helper()
	u, _ := url.Parse(n.srv.URL)
	c, code := dial(t, n.srv.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {"http://" + u.Host}, "X-Test-User": {user}})
	if c == nil {
		t.Fatalf("agent socket refused: %d", code)
	}
	if resume == nil {
		resume = map[string]int64{}
	}
	c.send(map[string]any{"type": "hello", "conversations": resume})
	w := c.next()
	if w.Type != "welcome" {
		t.Fatalf("first frame %+v, want welcome", w)
	}
	return c, w
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame, failing after 10 s.
func (c *client) next() frame {
	c.t.Helper()
	if len(c.backlog) > 0 {
		f := c.backlog[0]
		c.backlog = c.backlog[1:]
		return f
	}
	select {
	case f, ok := <-c.ch:
		if !ok {
			code, reason := c.closeStatus()
			c.t.Fatalf("socket closed: %d %q", code, reason)
		}
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatal("no frame within 10s")
	}
	return frame{}
}

// until returns the first frame that matches; the frames before it stay in the backlog for later
// calls, so an event that arrives before an ack is not lost to a test waiting for the ack.
func (c *client) until(desc string, match func(frame) bool) frame {
	c.t.Helper()
	for i, f := range c.backlog {
		if match(f) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return f
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.ch:
			if !ok {
				code, reason := c.closeStatus()
				c.t.Fatalf("socket closed (%d %q) before %s", code, reason, desc)
			}
			if match(f) {
				return f
			}
			c.backlog = append(c.backlog, f)
		case <-deadline:
			c.t.Fatalf("no %s within 10s", desc)
		}
	}
}

// events collects the next n event frames, skipping other frames.
func (c *client) events(n int) []frame {
	c.t.Helper()
	out := make([]frame, 0, n)
	for len(out) < n {
		out = append(out, c.until(fmt.Sprintf("event %d of %d", len(out)+1, n), func(f frame) bool { return f.Type == "event" }))
	}
	return out
}

// closed waits for the server to close the socket and returns the close status.
func (c *client) closed() (websocket.StatusCode, string) {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.ch:
			if !ok {
				return c.closeStatus()
			}
		case <-deadline:
			c.t.Fatal("socket not closed within 10s")
		}
	}
}

func (c *client) closeStatus() (websocket.StatusCode, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.reason
}

// quiet asserts that no frame of the given types arrives for a while.
func (c *client) quiet(d time.Duration, types ...string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.ch:
			if !ok {
				return
			}
			for _, ty := range types {
				if f.Type == ty {
					c.t.Fatalf("unexpected %s frame %+v", ty, f)
				}
			}
		case <-deadline:
			return
		}
	}
}

// testWriter sends the node's log to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func jsonDecode(resp *http.Response, v any) error {
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) == 0 {
		return err
	}
	return json.Unmarshal(b, v)
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
