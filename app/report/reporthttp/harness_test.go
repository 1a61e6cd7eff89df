package reporthttp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/report/reporttest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// harness is Parley over a test database with tenant Acme (departments Cards and Loans, two
// sites, generated conversations in both departments and in none) and tenant Other (one
// department, conversations of its own), and a signed-in user of Acme for each default role:
// the supervisor twice, tenant-wide and in Cards only.
type harness struct {
	t            testing.TB
	a            *accounttest.App
	acme, other  tenant.Tenant
	cards, loans string
	otherDept    string
	convs        []reporttest.Conversation
	clients      map[string]*accounttest.Client
	agentNames   map[string]string
}

// The harness's users, by key of harness.clients.
const (
	owner         = "owner"
	admin         = "admin"
	supervisor    = "supervisor"
	supervisorD1  = "supervisor in Cards"
	agentRole     = "agent"
	auditor       = "auditor"
	dataStartDate = "2025-12-20"
	dataEndDate   = "2026-01-08"
)

func newHarness(t testing.TB, db *migrations.DB, n int) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	ctx := context.Background()
	h := &harness{t: t, a: a, clients: map[string]*accounttest.Client{}, agentNames: map[string]string{}}
	u := func(email, role string) string {
		var user account.User
		h.acme, user = a.CreateUser("Acme Bank", email, testPassword, role, false)
		h.agentNames[user.ID] = user.DisplayName
		if user.DisplayName == "" {
			h.agentNames[user.ID] = user.Email
		}
		return user.ID
	}
	ownerID := u("owner@acme.test", rbac.RoleOwner)
	u("admin@acme.test", rbac.RoleAdmin)
	u("supervisor@acme.test", rbac.RoleSupervisor)
	supD1 := u("supervisor-cards@acme.test", rbac.RoleSupervisor)
	u("agent@acme.test", rbac.RoleAgent)
	u("auditor@acme.test", rbac.RoleAuditor)
	var otherOwner account.User
	h.other, otherOwner = a.CreateUser("Other Bank", "owner@other.test", testPassword, rbac.RoleOwner, false)
	d1, err := a.Tenants.CreateDepartment(ctx, h.acme.ID, "Cards")
	if err != nil {
		t.Fatal(err)
	}
	d2, err := a.Tenants.CreateDepartment(ctx, h.acme.ID, "Loans")
	if err != nil {
		t.Fatal(err)
	}
	od, err := a.Tenants.CreateDepartment(ctx, h.other.ID, "Other sales")
	if err != nil {
		t.Fatal(err)
	}
	h.cards, h.loans, h.otherDept = d1.ID, d2.ID, od.ID
	// The second supervisor holds the role in Cards only.
	a.AssignInDepartment(h.acme.ID, ownerID, supD1, rbac.RoleSupervisor, h.cards)
	var sites []string
	for _, name := range []string{"Main site", "=HYPERLINK(\"http://evil.example\",\"x\")"} {
		s, err := a.Tenants.CreateSite(ctx, h.acme.ID, name, []string{"https://www.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		sites = append(sites, s.ID)
	}
	var agents []string
	for id, name := range h.agentNames {
		if name == "agent@acme.test" || name == "supervisor@acme.test" {
			agents = append(agents, id)
		}
	}
	start, _ := time.Parse("2006-01-02", dataStartDate)
	h.convs = reporttest.Generate(reporttest.Params{Seed: 7, N: n, Start: start, Days: 20, Sites: sites,
		Departments: []string{h.cards, h.loans, ""}, Agents: agents})
	if err := reporttest.Insert(ctx, db.Gorm, h.acme.ID, h.convs); err != nil {
		t.Fatal(err)
	}
	os, err := a.Tenants.CreateSite(ctx, h.other.ID, "Other site", []string{"https://other.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reporttest.Insert(ctx, db.Gorm, h.other.ID, reporttest.Generate(reporttest.Params{Seed: 8, N: 50, Start: start, Days: 20,
		Sites: []string{os.ID}, Departments: []string{h.otherDept}, Agents: []string{otherOwner.ID}})); err != nil {
		t.Fatal(err)
	}
	for key, email := range map[string]string{owner: "owner@acme.test", admin: "admin@acme.test", supervisor: "supervisor@acme.test",
		supervisorD1: "supervisor-cards@acme.test", agentRole: "agent@acme.test", auditor: "auditor@acme.test"} {
		h.clients[key] = a.Client(fmt.Sprintf("198.51.100.%d:1000", len(h.clients)+7)).SignIn(h.acme.Slug, email, testPassword)
	}
	return h
}

// count is how many generated conversations of Acme fall on the dates, in departments keep.
func (h *harness) count(from, to string, keep func(dept string) bool) (chats, missed int) {
	for _, c := range h.convs {
		d := c.QueuedAt.UTC().Format("2006-01-02")
		if d < from || d > to || !keep(c.DepartmentID) {
			continue
		}
		chats++
		if c.Status == "missed" {
			missed++
		}
	}
	return chats, missed
}
