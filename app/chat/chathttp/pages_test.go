package chathttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// pagesWorld is one application with two tenants for the console's chat pages: Acme with
// departments Cards and Loans, Bravo with one of its own, and users of each default role.
type pagesWorld struct {
	a            *accounttest.App
	acme, bravo  tenant.Tenant
	cards, loans tenant.Department
	bravoDept    tenant.Department
	site         tenant.Site
	users        map[string]string // e-mail → user id
}

const pagesPassword = "correct horse battery staple 42"

func newPagesWorld(t *testing.T, db *migrations.DB) *pagesWorld {
	t.Helper()
	ctx := context.Background()
	w := &pagesWorld{a: accounttest.New(t, db, nil), users: map[string]string{}}
	user := func(org, email, role string) {
		ten, u := w.a.CreateUser(org, email, pagesPassword, role, false)
		w.users[email] = u.ID
		if org == "Acme Bank" {
			w.acme = ten
		} else {
			w.bravo = ten
		}
	}
	user("Acme Bank", "owner@acme.test", "owner")
	var err error
	if w.cards, err = w.a.Tenants.CreateDepartment(ctx, w.acme.ID, "Cards"); err != nil {
		t.Fatal(err)
	}
	if w.loans, err = w.a.Tenants.CreateDepartment(ctx, w.acme.ID, "Loans"); err != nil {
		t.Fatal(err)
	}
	if w.site, err = w.a.Tenants.CreateSite(ctx, w.acme.ID, "Shop", []string{siteOrigin}); err != nil {
		t.Fatal(err)
	}
	user("Acme Bank", "agent@acme.test", "agent")
	user("Acme Bank", "auditor@acme.test", "auditor")
	user("Acme Bank", "supervisor@acme.test", "supervisor")
	// A supervisor of Cards only, and an agent of Loans only.
	user("Acme Bank", "cards-sup@acme.test", "auditor")
	user("Acme Bank", "loans-agent@acme.test", "auditor")
	owner := authz.Actor{TenantID: w.acme.ID, UserID: w.users["owner@acme.test"]}
	for email, grant := range map[string][2]string{"cards-sup@acme.test": {"supervisor", w.cards.ID}, "loans-agent@acme.test": {"agent", w.loans.ID}} {
		if _, err := w.a.Authz.Assign(ctx, owner, w.users[email], grant[0], grant[1]); err != nil {
			t.Fatal(err)
		}
	}
	user("Bravo Credit", "owner@bravo.test", "owner")
	if w.bravoDept, err = w.a.Tenants.CreateDepartment(ctx, w.bravo.ID, "Bravo desk"); err != nil {
		t.Fatal(err)
	}
	w.a.RefreshPolicy()
	return w
}

// client signs email in.
func (w *pagesWorld) client(t *testing.T, email string) *accounttest.Client {
	t.Helper()
	slug := w.acme.Slug
	if strings.HasSuffix(email, "@bravo.test") {
		slug = w.bravo.Slug
	}
	c := w.a.Client("203.0.113.20:4000")
	rec := c.Login(slug, email, pagesPassword, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("sign-in %s = %d %s", email, rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	c.CSRF = body.CSRF
	return c
}

// conversation writes an open conversation of the tenant directly (set-up only).
func (w *pagesWorld) conversation(t *testing.T, db *migrations.DB, tenantID, siteID, dept, status, agent string, queued time.Time) string {
	t.Helper()
	c := chat.Conversation{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, SiteID: siteID, VisitorID: uuid.NewString(),
		Status: status, QueuedAt: queued, CreatedAt: queued, UpdatedAt: queued}
	if dept != "" {
		c.DepartmentID = &dept
	}
	if agent != "" {
		accepted := queued.Add(2 * time.Minute)
		c.AgentID, c.AcceptedAt = &agent, &accepted
	}
	if err := migratetest.Beneath(t, db).Gorm.Create(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestWorkspacePage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newPagesWorld(t, db)
		module := []string{`data-chat-workspace`, `<script type="module" src="/static/console-chat.js"></script>`, `href="/static/console-chat.css"`}
		tests := []struct {
			email, path string
			status      int
			want        []string
		}{
			{email: "owner@acme.test", path: "/workspace", status: http.StatusOK, want: append(module, `data-team-panel`, `data-can="monitor whisper join transfer end refuse card ban`)},
			{email: "agent@acme.test", path: "/workspace", status: http.StatusOK, want: append(module, `data-can="transfer end refuse card canned invite team offline cobrowse"`)},
			// /live's links: the chat to supervise; anything but an id is dropped.
			{email: "owner@acme.test", path: "/workspace?monitor=0195-abc", status: http.StatusOK, want: []string{`data-monitor="0195-abc"`}},
			{email: "owner@acme.test", path: "/workspace?join=%22%3E%3Cscript%3E", status: http.StatusOK, want: module},
			// An agent of one department reaches it without naming the department, or naming theirs.
			{email: "loans-agent@acme.test", path: "/workspace", status: http.StatusOK, want: module},
			{email: "loans-agent@acme.test", path: "/workspace?department=" + w.loans.ID, status: http.StatusOK, want: module},
			{email: "loans-agent@acme.test", path: "/workspace?department=" + w.cards.ID, status: http.StatusForbidden},
			{email: "owner@acme.test", path: "/workspace?department=" + w.bravoDept.ID, status: http.StatusNotFound},
			{email: "owner@acme.test", path: "/workspace?department=nope", status: http.StatusNotFound},
			// Neither chat.accept nor a department where it is held: refused.
			{email: "auditor@acme.test", path: "/workspace", status: http.StatusForbidden},
			{email: "cards-sup@acme.test", path: "/workspace?department=" + w.loans.ID, status: http.StatusForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.email+" "+tt.path, func(t *testing.T) {
				rec := w.client(t, tt.email).Do(http.MethodGet, tt.path, "")
				body := rec.Body.String()
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, body)
				}
				if got := rec.Header().Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", got)
				}
				for _, s := range tt.want {
					if !strings.Contains(body, s) {
						t.Errorf("got no %q", s)
					}
				}
				if tt.status != http.StatusOK && strings.Contains(body, "data-chat-workspace") {
					t.Error("a refused request shows the workspace")
				}
			})
		}
		t.Run("signed out", func(t *testing.T) {
			rec := w.a.Client("203.0.113.21:4000").Do(http.MethodGet, "/workspace", "")
			if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusSeeOther {
				t.Errorf("status %d, want 401 or a redirect to sign in", rec.Code)
			}
		})
	})
}

func TestLivePage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newPagesWorld(t, db)
		now := w.a.Clock.Now()
		agent := w.users["agent@acme.test"]
		queuedCards := w.conversation(t, db, w.acme.ID, w.site.ID, w.cards.ID, chat.StatusQueued, "", now.Add(-5*time.Minute))
		activeLoans := w.conversation(t, db, w.acme.ID, w.site.ID, w.loans.ID, chat.StatusActive, agent, now.Add(-(time.Hour + 12*time.Minute)))
		noDept := w.conversation(t, db, w.acme.ID, w.site.ID, "", chat.StatusQueued, "", now.Add(-30*time.Second))
		ended := w.conversation(t, db, w.acme.ID, w.site.ID, w.cards.ID, chat.StatusEnded, agent, now.Add(-time.Hour))
		bravoSite, err := w.a.Tenants.CreateSite(context.Background(), w.bravo.ID, "Bravo shop", []string{siteOrigin})
		if err != nil {
			t.Fatal(err)
		}
		otherTenant := w.conversation(t, db, w.bravo.ID, bravoSite.ID, "", chat.StatusQueued, "", now.Add(-time.Minute))

		tests := []struct {
			email, path string
			status      int
			listed      []string
			hidden      []string
			content     []string
		}{
			{email: "owner@acme.test", path: "/live", status: http.StatusOK, listed: []string{queuedCards, activeLoans, noDept}, hidden: []string{ended, otherTenant},
				content: []string{"Shop", "Cards", "Loans", "agent@acme.test", "in progress", "1 h 10 min", "waiting", "5 min", "30 s", "nobody yet", `<label for="department">`,
					`href="/workspace?monitor=` + activeLoans + `"`, `href="/workspace?join=` + activeLoans + `"`}},
			{email: "owner@acme.test", path: "/live?department=" + w.cards.ID, status: http.StatusOK, listed: []string{queuedCards}, hidden: []string{activeLoans, noDept, ended, otherTenant},
				content: []string{`value="` + w.cards.ID + `" selected`}},
			{email: "supervisor@acme.test", path: "/live", status: http.StatusOK, listed: []string{queuedCards, activeLoans, noDept}, hidden: []string{ended, otherTenant}},
			{email: "cards-sup@acme.test", path: "/live", status: http.StatusOK, listed: []string{queuedCards}, hidden: []string{activeLoans, noDept, ended, otherTenant}},
			{email: "cards-sup@acme.test", path: "/live?department=" + w.cards.ID, status: http.StatusOK, listed: []string{queuedCards}, hidden: []string{activeLoans, noDept}},
			{email: "cards-sup@acme.test", path: "/live?department=" + w.loans.ID, status: http.StatusForbidden, hidden: []string{queuedCards, activeLoans}},
			{email: "owner@acme.test", path: "/live?department=" + w.bravoDept.ID, status: http.StatusNotFound, hidden: []string{otherTenant}},
			{email: "owner@bravo.test", path: "/live", status: http.StatusOK, listed: []string{otherTenant}, hidden: []string{queuedCards, activeLoans, noDept, ended}},
			{email: "agent@acme.test", path: "/live", status: http.StatusForbidden, hidden: []string{queuedCards, activeLoans, noDept}},
			{email: "auditor@acme.test", path: "/live", status: http.StatusForbidden, hidden: []string{queuedCards, activeLoans, noDept}},
		}
		for _, tt := range tests {
			t.Run(tt.email+" "+tt.path, func(t *testing.T) {
				rec := w.client(t, tt.email).Do(http.MethodGet, tt.path, "")
				body := rec.Body.String()
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, body)
				}
				for _, id := range tt.listed {
					if !strings.Contains(body, "<code>"+id+"</code>") {
						t.Errorf("chat %s not listed", id)
					}
				}
				for _, id := range tt.hidden {
					if strings.Contains(body, id) {
						t.Errorf("chat %s listed, want it hidden", id)
					}
				}
				for _, s := range tt.content {
					if !strings.Contains(body, s) {
						t.Errorf("got no %q", s)
					}
				}
			})
		}
	})
}
