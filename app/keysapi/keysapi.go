// Package keysapi serves a tenant's encryption key to the console and the evidence report: the
// key status (the key provider in use and whether it is fit for production, the transit key's
// versions, the minimum decryption version, the last rotation, its age and the date the rotation
// policy next asks for one, and how many wrapped data keys sit at each version), read-only under
// keys.view (administrators and auditors), and rotation under keys.manage, as JSON routes and as
// the console's /keys page with a confirmed form. Rewrap and raising the minimum decryption version stay operator actions from the
// server's shell (`parley keys rewrap|set-min-version`): the second can make stored data
// unreadable, so no web form offers it.
package keysapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
	"github.com/parleyhq/parley/web"
)

// Permissions of the module's routes: keys.view reads the key status, keys.manage rotates.
const (
	PermView   = "keys.view"
	PermManage = "keys.manage"
)

// Tools is what the module needs of the key tools (vault.Keys).
type Tools interface {
	Status(ctx context.Context, tenantID string) (vault.TenantKeyReport, error)
	Rotate(ctx context.Context, tenantID string) (vault.KeyStatus, error)
}

var _ Tools = (*vault.Keys)(nil)

// Recorder writes an audit event in a transaction of its own (the audit log satisfies it); an
// error means the action is reported as failed.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Module serves the key status and rotation routes and the /keys page.
type Module struct {
	Keys  Tools
	Audit Recorder
	Pages *web.Pages
	// CSRF returns the request's CSRF token for the page's forms.
	CSRF func(c echo.Context) string
	// Now is the clock the page measures the key's age with.
	Now func() time.Time
	// Node names this node in audit records.
	Node string
	// Allowed reports whether the request's user holds a permission tenant-wide: the page offers
	// the rotation form only to those holding keys.manage; nil offers it to nobody.
	Allowed func(c echo.Context, permission, departmentID string) bool

	// rotating serialises this node's rotations, so a double submit rotates once.
	rotating sync.Mutex
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	route := func(method, path, perm, summary string, isAPI bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		route(http.MethodGet, "/api/v1/keys/status", PermView, "The organisation's encryption key: provider, versions, minimum decryption version, last rotation, its age and the rotation due date, data keys per version.", true, m.status),
		route(http.MethodPost, "/api/v1/keys/rotate", PermManage, "Rotate the organisation's encryption key: new data keys are wrapped under a new version (audited).", true, m.rotateAPI),
		route(http.MethodGet, "/keys", PermView, "Encryption key page: status, and rotation for those holding keys.manage.", false, m.page),
		route(http.MethodPost, "/keys/rotate", PermManage, "Rotate the organisation's encryption key (form, with confirmation).", false, m.rotateForm),
	}
}

// The module's errors.
var (
	errKeysUnavailable = api.New(http.StatusServiceUnavailable, "key_provider_unavailable", "The key provider does not answer right now; try again shortly.")
	errVersionChanged  = api.New(http.StatusConflict, "key_version_changed", "The key was rotated since you loaded its status; review the new version before rotating again.").WithField("expected_latest_version")
	errAuditFailed     = api.New(http.StatusServiceUnavailable, "audit_unavailable", "The key was rotated but the audit log did not record it; try again shortly and tell your security team.")
)

func (m *Module) status(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	rep, err := m.Keys.Status(c.Request().Context(), p.TenantID)
	if err != nil {
		return errKeysUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, reportBody(rep, m.now()))
}

// StatusBody is the key status as the API answers it: the key report, plus the rotation policy's
// reading of it.
type StatusBody struct {
	vault.TenantKeyReport
	Rotation Rotation `json:"rotation"`
}

// Rotation is the key's place in its rotation policy: rotated at least once per cryptoperiod
// (evidence.MaxKeyAge, twelve months; PCI DSS 3.6.4, 3.7.4).
type Rotation struct {
	// Since is the last rotation, or the key's creation when it was never rotated (zero when
	// the provider reports neither).
	Since time.Time `json:"since"`
	// AgeDays is the whole days since then.
	AgeDays int `json:"age_days"`
	// PeriodDays is the cryptoperiod, in days.
	PeriodDays int `json:"period_days"`
	// Due is when the policy asks for the next rotation; Overdue is true once it has passed.
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
}

// rotationOf reads the rotation policy of a key report at now.
func rotationOf(rep vault.TenantKeyReport, now time.Time) Rotation {
	r := Rotation{Since: rep.Key.LastRotation, PeriodDays: int(evidence.MaxKeyAge / (24 * time.Hour))}
	if r.Since.IsZero() && len(rep.Key.Versions) > 0 {
		r.Since = rep.Key.Versions[0].CreatedAt
	}
	if r.Since.IsZero() {
		return r
	}
	r.Since = r.Since.UTC()
	r.AgeDays = int(now.Sub(r.Since) / (24 * time.Hour))
	r.Due = r.Since.Add(evidence.MaxKeyAge)
	r.Overdue = now.After(r.Due)
	return r
}

// reportBody is the key status as the API answers it: no versions and no wrapped data keys are
// an empty list and an empty object, never null.
func reportBody(rep vault.TenantKeyReport, now time.Time) StatusBody {
	rep.Key = keyBody(rep.Key)
	if rep.WrappedByVersion == nil {
		rep.WrappedByVersion = map[int]int{}
	}
	return StatusBody{TenantKeyReport: rep, Rotation: rotationOf(rep, now)}
}

// keyBody is a key's status as the API answers it: no versions is an empty list, never null.
func keyBody(k vault.KeyStatus) vault.KeyStatus {
	if k.Versions == nil {
		k.Versions = []vault.KeyVersion{}
	}
	return k
}

// rotateRequest is the body of POST /api/v1/keys/rotate. ExpectedLatestVersion, when set, makes
// the rotation happen only if the key is still at that version (a retried request then rotates
// once).
type rotateRequest struct {
	ExpectedLatestVersion *int `json:"expected_latest_version"`
}

// RotateResult is the answer of POST /api/v1/keys/rotate.
type RotateResult struct {
	PreviousVersion int             `json:"previous_version"`
	Key             vault.KeyStatus `json:"key"`
}

func (m *Module) rotateAPI(c echo.Context) error {
	var in rotateRequest
	if c.Request().ContentLength != 0 {
		if err := api.Bind(c, &in); err != nil {
			return err
		}
	}
	expected := 0
	if in.ExpectedLatestVersion != nil {
		if *in.ExpectedLatestVersion < 1 {
			return api.ErrInvalidRequest.WithField("expected_latest_version").WithMessage("The expected version is a key version (1 or more).")
		}
		expected = *in.ExpectedLatestVersion
	}
	res, err := m.rotate(c, expected)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// rotate rotates the caller's tenant key, if it is still at version expected (0: any), and
// records the rotation (or its failure) in the tenant's audit log, as `parley keys rotate` does.
func (m *Module) rotate(c echo.Context, expected int) (RotateResult, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return RotateResult{}, api.ErrUnauthenticated
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	m.rotating.Lock()
	defer m.rotating.Unlock()
	before, err := m.Keys.Status(ctx, p.TenantID)
	if err != nil {
		return RotateResult{}, errKeysUnavailable.Wrap(err)
	}
	if expected != 0 && before.Key.LatestVersion != expected {
		return RotateResult{}, errVersionChanged
	}
	st, opErr := m.Keys.Rotate(ctx, p.TenantID)
	ev := audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		Action: audit.ActionKeyRotate, Target: audit.Target{Kind: "tenant", ID: p.TenantID},
		Outcome: audit.Success, RequestID: api.RequestID(c),
		Details: map[string]string{"previous_version": strconv.Itoa(before.Key.LatestVersion)},
	}
	if opErr != nil {
		ev.Outcome, ev.Reason = audit.Failure, "error"
	} else {
		ev.Details["latest_version"] = strconv.Itoa(st.LatestVersion)
	}
	var auditErr error
	if m.Audit == nil {
		auditErr = errors.New("keysapi: no audit log wired")
	} else {
		auditErr = m.Audit.Record(ctx, ev)
	}
	if opErr != nil {
		return RotateResult{}, errKeysUnavailable.Wrap(errors.Join(opErr, auditErr))
	}
	if auditErr != nil {
		return RotateResult{}, errAuditFailed.Wrap(auditErr)
	}
	return RotateResult{PreviousVersion: before.Key.LatestVersion, Key: keyBody(st)}, nil
}
