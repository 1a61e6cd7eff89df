package cannedhttp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

const testPassword = "Quiet-harbour-2026-lamp"

// harness is Parley assembled by app.New over a test database: tenant Acme with departments
// Sales and Claims, its owner (tenant-wide), an agent and a supervisor of Sales, an agent of
// Claims, and a second tenant with its owner. Everyone is signed in.
type harness struct {
	t             *testing.T
	db            *migrations.DB
	a             *accounttest.App
	tenant, other tenant.Tenant
	sales, claims tenant.Department
	users         map[string]account.User
	c             map[string]*accounttest.Client
	convs         int
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, db: db, a: a, users: map[string]account.User{}, c: map[string]*accounttest.Client{}}
	ctx := context.Background()
	var owner account.User
	h.tenant, owner = a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
	h.users["owner"] = owner
	var err error
	if h.sales, err = a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Sales"); err != nil {
		t.Fatal(err)
	}
	if h.claims, err = a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Claims"); err != nil {
		t.Fatal(err)
	}
	h.member("agent", "agent", h.sales.ID)
	h.member("supervisor", "supervisor", h.sales.ID)
	h.member("claims", "agent", h.claims.ID)
	h.member("admin", "admin", "")
	h.member("auditor", "auditor", "")
	h.other, h.users["other"] = a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
	for name, u := range h.users {
		slug := h.tenant.Slug
		if name == "other" {
			slug = h.other.Slug
		}
		h.c[name] = a.Client("198.51.100.7:1000").SignIn(slug, u.Email, testPassword)
	}
	return h
}

// member creates a user of Acme holding role in dept ("" for tenant-wide).
func (h *harness) member(name, role, dept string) {
	h.t.Helper()
	_, u := h.a.CreateUser("Acme Bank", name+"@acme.test", testPassword, role, false)
	if dept != "" {
		h.a.AssignInDepartment(h.tenant.ID, h.users["owner"].ID, u.ID, role, dept)
	}
	h.users[name] = u
}

// conversation makes a conversation of dept in Acme whose visitor gave name, assigned to agent
// (no one when ""), and returns its id.
func (h *harness) conversation(dept, name, agent string) string {
	h.t.Helper()
	ctx := context.Background()
	site, err := h.a.Tenants.CreateSite(ctx, h.tenant.ID, fmt.Sprintf("Site %d", h.convs+1), []string{"https://www.example.com"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.convs++
	id := fmt.Sprintf("00000000-0000-7000-8000-%012d", h.convs)
	ct := ""
	if name != "" {
		if ct, err = h.a.Envelope.SealString(migrations.WithTenant(ctx, h.tenant.ID), vault.Binding{Tenant: h.tenant.ID, Scope: id, Field: vault.FieldVisitorName}, name); err != nil {
			h.t.Fatal(err)
		}
	}
	status := "queued"
	var agentID any
	if agent != "" {
		status, agentID = "active", h.users[agent].ID
	}
	now := h.a.Clock.Now().UTC()
	if err := migratetest.Beneath(h.t, h.db).Gorm.Exec(`INSERT INTO conversations (id, tenant_id, site_id, department_id, visitor_id, status, agent_id, visitor_name, queued_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'visitor-1', ?, ?, ?, ?, ?, ?)`, id, h.tenant.ID, site.ID, dept, status, agentID, ct, now, now, now).Error; err != nil {
		h.t.Fatal(err)
	}
	return id
}
