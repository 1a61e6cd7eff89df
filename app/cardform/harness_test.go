package cardform_test

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

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// Public test card data: the form's tests look for these everywhere afterwards.
const (
	testPAN    = "4111111111111111"
	testSpaced = "4111 1111 1111 1111"
	testCVC    = "739"
	testName   = "Ada Cardholder"
	siteOrigin = "https://shop.example"
	password   = "Quiet-harbour-2026-lamp"
)

// world is one tenant with a site, a department, users and a visitor, over one database, served
// by one or more nodes.
type world struct {
	t     *testing.T
	db    *migrations.DB
	dbURL string
	clock *apptest.Clock
	logs  *apptest.LogBuffer
	// keys is the key provider every node shares (as the nodes of an installation share Vault).
	keys     vault.KeyProvider
	tenant   tenant.Tenant
	site     tenant.Site
	dept     tenant.Department
	owner    account.User // handles the chat; holds chat.request_card and card.view_full
	owner2   account.User // holds everything but does not handle the chat
	agent    account.User // chat.request_card without card.view_full
	visitorA visitor.Identity
	visitorB visitor.Identity
}

// node is one Parley process of the world.
type node struct {
	*app.App
	w   *world
	srv *httptest.Server
}

// newNode assembles Parley over db; with serve it listens (for node-to-node calls) and advertises
// its URL.
func (w *world) newNode(db *migrations.DB, serve bool) *node {
	w.t.Helper()
	opts := app.Options{Now: w.clock.Now, Keys: w.keys, Log: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	var srv *httptest.Server
	if serve {
		srv = httptest.NewUnstartedServer(nil)
		opts.CardForms.NodeURL = "http://" + srv.Listener.Addr().String()
	}
	a, err := app.New(context.Background(), apptest.Config(w.t, map[string]string{"PARLEY_DATABASE_URL": w.dbURL}), db, opts)
	if err != nil {
		w.t.Fatalf("app.New: %v", err)
	}
	apptest.CheckOpenAPI(w.t, a.Server.Echo)
	n := &node{App: a, w: w}
	w.t.Cleanup(func() {
		if srv != nil {
			srv.Close()
		}
		a.CardForms.Close()
		a.Envelope.Close()
	})
	if serve {
		srv.Config.Handler = a.Server.Echo
		srv.Start()
		n.srv = srv
	}
	return n
}

func newWorld(t *testing.T, db *migrations.DB, dbURL string) (*world, *node) {
	t.Helper()
	w := &world{t: t, db: db, dbURL: dbURL, clock: apptest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)), logs: &apptest.LogBuffer{}}
	keys, err := vault.OpenLocal(vault.LocalConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w.keys = keys
	n := w.newNode(db, false)
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
		if w.owner2, err = mk("owner2@acme.example", "owner"); err != nil {
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
	if w.dept, err = n.Tenants.CreateDepartment(ctx, w.tenant.ID, "Cards"); err != nil {
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

// conversation opens an active conversation of a visitor handled by agent (as the chat does after
// the agent accepted it).
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

// client is a signed-in console user.
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
	if r.Body != "" && r.ContentType == "" {
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

// agentPath is the agent's API path of a conversation's card forms.
func agentPath(conv string, rest ...string) string {
	return "/api/v1/chat/conversations/" + conv + "/card-forms" + strings.Join(rest, "")
}

// visitorPath is the visitor's API path of a request.
func (w *world) visitorPath(conv, req string) string {
	return "/api/v1/widget/sites/" + w.site.SiteKey + "/chats/" + conv + "/card-forms/" + req
}

// request asks for a card in conv as c and returns the request id.
func (c *client) request(conv string) string {
	t := c.n.w.t
	t.Helper()
	rec := c.do(http.MethodPost, agentPath(conv), "")
	if rec.Code != http.StatusCreated {
		t.Fatalf("request card form: %d %s", rec.Code, rec.Body)
	}
	return accounttest.Decode[cardform.Request](t, rec).ID
}

// open opens a request as the visitor and returns the form token.
func (n *node) open(v visitor.Identity, conv, req string) (string, *httptest.ResponseRecorder) {
	rec := n.do(apptest.Request{Method: http.MethodPost, Path: n.w.visitorPath(conv, req) + "/open",
		Header: http.Header{"Authorization": {"Bearer " + v.Token}}})
	if rec.Code != http.StatusOK {
		return "", rec
	}
	o := accounttest.Decode[cardform.Opened](n.w.t, rec)
	_, token, _ := strings.Cut(o.FormURL, "#")
	return token, rec
}

// submit posts the form with a token.
func (n *node) submit(conv, req, token, body string) *httptest.ResponseRecorder {
	return n.do(apptest.Request{Method: http.MethodPost, Path: n.w.visitorPath(conv, req), Body: body,
		Header: http.Header{"Authorization": {"Bearer " + token}}})
}

func cardBody(number, expiry, cvc, name string) string {
	return fmt.Sprintf(`{"number":%q,"expiry":%q,"cvc":%q,"name":%q}`, number, expiry, cvc, name)
}

var validCard = cardBody(testSpaced, "12/28", testCVC, testName)

// events returns the tenant's audit entries of an action, after chaining what is pending.
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

// status returns a request's status in the database.
func (w *world) status(req string) string {
	var s string
	if err := migratetest.Beneath(w.t, w.db).Gorm.Raw("SELECT status FROM card_form_requests WHERE id = ?", req).Scan(&s).Error; err != nil {
		w.t.Fatal(err)
	}
	return s
}

func errorCode(rec *httptest.ResponseRecorder) string {
	var b struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code + map[bool]string{true: "", false: ":" + b.Error.Field}[b.Error.Field == ""]
}
