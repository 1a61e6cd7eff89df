package accounttest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// ConsoleAddr is the address console clients of a Console connect from.
const ConsoleAddr = "198.51.100.7:1000"

// Console is the application with the tenant Acme Bank, whose owner (owner@acme.test) and
// agent (agent@acme.test) are signed in to the console, and a second tenant, Other Bank, with
// its own owner (owner@other.test). Page and console API tests of several packages start from
// it and add what they need.
type Console struct {
	*App
	// Tenant is Acme Bank; Other is Other Bank.
	Tenant, Other tenant.Tenant
	// OwnerID is the user id of Acme's owner.
	OwnerID string
	// Owner and Agent are Acme's owner and agent, signed in.
	Owner, Agent *Client
	// Password is every user's password.
	Password string
}

// NewConsole assembles the application over db (New with no settings) and creates and signs in
// the users of a Console, all with password.
func NewConsole(t testing.TB, db *migrations.DB, password string) *Console {
	t.Helper()
	a := New(t, db, nil)
	c := &Console{App: a, Password: password}
	var owner account.User
	c.Tenant, owner = a.CreateUser("Acme Bank", "owner@acme.test", password, "owner", false)
	c.OwnerID = owner.ID
	a.CreateUser("Acme Bank", "agent@acme.test", password, "agent", false)
	c.Other, _ = a.CreateUser("Other Bank", "owner@other.test", password, "owner", false)
	c.Owner = c.SignIn(c.Tenant.Slug, "owner@acme.test")
	c.Agent = c.SignIn(c.Tenant.Slug, "agent@acme.test")
	return c
}

// SignIn returns a new client from ConsoleAddr signed in as email of the tenant slug, with the
// Console's password.
func (c *Console) SignIn(slug, email string) *Client {
	c.t.Helper()
	return c.Client(ConsoleAddr).SignIn(slug, email, c.Password)
}

// ErrorOf returns the code and field of a JSON error response ({"error":{"code","field"}});
// both are empty when the body is not one.
func ErrorOf(t testing.TB, rec *httptest.ResponseRecorder) (code, field string) {
	t.Helper()
	var b struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code, b.Error.Field
}

// Decode unmarshals a JSON response body into a T, failing the test when it does not parse.
func Decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

// AssignInDepartment moves userID's one tenant-wide role assignment into dept: the user is
// given role in dept and loses the tenant-wide assignment, as byID (an owner of the tenant)
// would do in the console. The authorization policy is refreshed afterwards.
func (a *App) AssignInDepartment(tenantID, byID, userID, role, dept string) {
	a.t.Helper()
	ctx := context.Background()
	by := authz.Actor{TenantID: tenantID, UserID: byID, ClientIP: "192.0.2.10", RequestID: "test-setup"}
	as, err := a.Authz.UserAssignments(ctx, tenantID, userID)
	if err != nil || len(as) != 1 {
		a.t.Fatalf("assignments of %s: %v %v", userID, as, err)
	}
	if _, err := a.Authz.Assign(ctx, by, userID, role, dept); err != nil {
		a.t.Fatal(err)
	}
	if err := a.Authz.Unassign(ctx, by, userID, as[0].ID); err != nil {
		a.t.Fatal(err)
	}
	a.RefreshPolicy()
}
