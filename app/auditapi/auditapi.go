// Package auditapi serves the audit log to auditors: search (by time range, actor, action,
// target, outcome and keyword), single events, chain verification, signed export bundles, the
// published checkpoint keys and the log's health. Every read is itself recorded in the audit log
// before it is answered; if that record cannot be written the read is refused (fail closed).
package auditapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/web"
)

// Status reports the background verifier's finding and the standing alerts, for the status
// endpoint and the console banner.
type Status func() (monitor auditlog.MonitorStatus, alerts []audit.Alert)

// Module serves the audit routes.
type Module struct {
	Log    *auditlog.Log
	Status Status
	Pages  *web.Pages
	Node   string
	// People names the users the audit page shows (actors and user targets); nil shows ids only.
	People People
	// Now is the clock of export file names; nil is time.Now.
	Now func() time.Time
	// CSRF returns the request's CSRF token for the page's verify form.
	CSRF func(c echo.Context) string
	// Allowed reports whether the request's user holds a permission tenant-wide, to offer the
	// page's verify button and export link only to those who may use them; nil offers neither.
	Allowed func(c echo.Context, permission, departmentID string) bool
	// Drift is the organisation's compliance drift (mode.Monitor.For), shown beside the
	// integrity section; nil shows none.
	Drift func(ctx context.Context, tenantID string) (mode.Drift, error)
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	tenant := func(method, path, perm, summary string, h echo.HandlerFunc, isAPI bool) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		tenant(http.MethodGet, "/api/v1/audit/events", "audit.view", "Search the organisation's audit events (newest first, keyset pages).", m.search, true),
		tenant(http.MethodGet, "/api/v1/audit/events/:seq", "audit.view", "One audit event with its chain hashes.", m.event, true),
		tenant(http.MethodPost, "/api/v1/audit/verify", "audit.verify", "Recompute the organisation's hash chain and check every signed checkpoint.", m.verify, true),
		tenant(http.MethodGet, "/api/v1/audit/export", "audit.export", "Download a signed export bundle (tar), verifiable offline with `parley audit verify --bundle`.", m.export, true),
		tenant(http.MethodGet, "/api/v1/audit/keys", "audit.view", "The public keys audit checkpoints are signed with.", m.keys, true),
		tenant(http.MethodGet, "/api/v1/audit/status", "audit.view", "The background verifier's latest finding and standing alerts.", m.status, true),
		tenant(http.MethodGet, "/audit", "audit.view", "Audit log search page.", m.page, false),
		tenant(http.MethodPost, "/audit/verify", "audit.verify", "Audit log page: recompute the chain and check its signed checkpoints now.", m.verifyPage, false),
	}
}

func (m *Module) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

var (
	errBadQuery = api.New(http.StatusBadRequest, "invalid_request", "The search is not valid.")
	errNoEvent  = api.New(http.StatusNotFound, "not_found", "No such audit event.")
	// errUnrecorded is answered when the read itself could not be recorded (fail closed).
	errUnrecorded = api.New(http.StatusServiceUnavailable, "audit_unavailable", "The audit log cannot record this access right now; try again shortly.")
)

// record writes the auditor's access to the log before anything is answered.
func (m *Module) record(c echo.Context, action audit.Action, target audit.Target, outcome audit.Outcome, reason string, details map[string]string) error {
	p := api.PrincipalOf(c)
	ev := audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		Action: action, Target: target, Outcome: outcome, Reason: reason, RequestID: api.RequestID(c), Details: details,
	}
	if err := m.Log.Record(c.Request().Context(), ev); err != nil {
		return errUnrecorded.Wrap(err)
	}
	return nil
}

// EventBody is one event as the API shows it.
type EventBody struct {
	Seq       int64             `json:"seq"`
	Time      time.Time         `json:"time"`
	Actor     audit.Actor       `json:"actor"`
	Origin    audit.Origin      `json:"origin"`
	Action    audit.Action      `json:"action"`
	Target    audit.Target      `json:"target"`
	Outcome   audit.Outcome     `json:"outcome"`
	Reason    string            `json:"reason,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash"`
}

func body(e audit.Entry) EventBody {
	return EventBody{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Origin: e.Origin, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Reason: e.Reason, RequestID: e.RequestID, Details: e.Details,
		PrevHash: e.PrevHash.String(), Hash: e.Hash.String()}
}

// SearchBody is a page of search results.
type SearchBody struct {
	Events []EventBody `json:"events"`
	// Next is the cursor for the next (older) page: pass it as ?before=; 0 when there is none.
	Next int64 `json:"next"`
}

// parseQuery reads the search parameters; every problem names its parameter.
func parseQuery(c echo.Context, tenantID string) (auditlog.Query, error) {
	q := auditlog.Query{Tenant: tenantID}
	var err error
	times := map[string]*time.Time{"from": &q.From, "to": &q.To}
	for name, dst := range times {
		if v := c.QueryParam(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				return q, errBadQuery.WithField(name).WithMessage("Parameter " + name + " must be an RFC 3339 time such as 2026-01-31T00:00:00Z.")
			}
		}
	}
	for name, dst := range map[string]*int64{"before": &q.Before} {
		if v := c.QueryParam(name); v != "" {
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil || *dst < 0 {
				return q, errBadQuery.WithField(name).WithMessage("Parameter " + name + " must be a sequence number.")
			}
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditlog.MaxSearchLimit {
			return q, errBadQuery.WithField("limit").WithMessage("Parameter limit must be between 1 and " + strconv.Itoa(auditlog.MaxSearchLimit) + ".")
		}
		q.Limit = n
	}
	for _, a := range c.QueryParams()["action"] {
		if !audit.Action(a).Valid() {
			return q, errBadQuery.WithField("action").WithMessage("Unknown action " + strconv.Quote(a) + ".")
		}
		q.Actions = append(q.Actions, audit.Action(a))
	}
	switch o := c.QueryParam("outcome"); o {
	case "", string(audit.Success), string(audit.Failure):
		q.Outcome = audit.Outcome(o)
	default:
		return q, errBadQuery.WithField("outcome").WithMessage("Parameter outcome must be success or failure.")
	}
	q.ActorID, q.TargetKind, q.TargetID = c.QueryParam("actor"), c.QueryParam("target_kind"), c.QueryParam("target_id")
	q.Keyword = c.QueryParam("q")
	for name, v := range map[string]string{"actor": q.ActorID, "target_kind": q.TargetKind, "target_id": q.TargetID, "q": q.Keyword} {
		if len(v) > 200 {
			return q, errBadQuery.WithField(name).WithMessage("Parameter " + name + " is too long.")
		}
	}
	return q, nil
}

func (m *Module) runSearch(c echo.Context) (SearchBody, auditlog.Query, error) {
	p := api.PrincipalOf(c)
	q, err := parseQuery(c, p.TenantID)
	if err != nil {
		return SearchBody{}, q, err
	}
	details := map[string]string{}
	for k, v := range c.QueryParams() {
		if len(v) > 0 && k != "before" {
			details["filter_"+k] = strings.Join(v, ",")
		}
	}
	if err := m.record(c, audit.ActionAuditSearch, audit.Target{Kind: "audit_log", ID: p.TenantID}, audit.Success, "", details); err != nil {
		return SearchBody{}, q, err
	}
	page, err := m.Log.Search(c.Request().Context(), q)
	if errors.Is(err, auditlog.ErrBadQuery) {
		return SearchBody{}, q, errBadQuery.Wrap(err)
	}
	if err != nil {
		return SearchBody{}, q, err
	}
	out := SearchBody{Events: make([]EventBody, 0, len(page.Entries)), Next: page.Next}
	for _, e := range page.Entries {
		out.Events = append(out.Events, body(e))
	}
	return out, q, nil
}

func (m *Module) search(c echo.Context) error {
	out, _, err := m.runSearch(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) event(c echo.Context) error {
	p := api.PrincipalOf(c)
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil || seq < 1 {
		return errNoEvent
	}
	if err := m.record(c, audit.ActionAuditView, audit.Target{Kind: "audit_event", ID: strconv.FormatInt(seq, 10)}, audit.Success, "", nil); err != nil {
		return err
	}
	e, err := m.Log.Get(c.Request().Context(), p.TenantID, seq)
	if errors.Is(err, auditlog.ErrNotFound) {
		return errNoEvent
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body(e))
}

// VerifyRequest optionally starts verification at a signed checkpoint before from_seq.
type VerifyRequest struct {
	FromSeq int64 `json:"from_seq"`
}

func (m *Module) verify(c echo.Context) error {
	p := api.PrincipalOf(c)
	var req VerifyRequest
	if c.Request().ContentLength != 0 {
		if err := api.Bind(c, &req); err != nil {
			return err
		}
	}
	if req.FromSeq < 0 {
		return errBadQuery.WithField("from_seq").WithMessage("from_seq must not be negative.")
	}
	rep, err := m.runVerify(c, p.TenantID, req.FromSeq)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// runVerify seals what is pending, recomputes the tenant's chain from fromSeq and records the
// verification (success, or failure with the kind of damage) before answering.
func (m *Module) runVerify(c echo.Context, tenantID string, fromSeq int64) (auditlog.Report, error) {
	ctx := c.Request().Context()
	if _, err := m.Log.Seal(ctx); err != nil {
		return auditlog.Report{}, err
	}
	rep, err := m.Log.Verify(ctx, tenantID, fromSeq)
	if err != nil {
		return auditlog.Report{}, err
	}
	outcome, reason := audit.Success, ""
	if !rep.OK() {
		outcome, reason = audit.Failure, string(rep.Damage.Kind)
	}
	if err := m.record(c, audit.ActionAuditVerify, audit.Target{Kind: "audit_log", ID: tenantID}, outcome, reason,
		map[string]string{"events": strconv.FormatInt(rep.Events, 10)}); err != nil {
		return auditlog.Report{}, err
	}
	return rep, nil
}

func (m *Module) export(c echo.Context) error {
	p := api.PrincipalOf(c)
	var from, to time.Time
	var err error
	if v := c.QueryParam("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return errBadQuery.WithField("from").WithMessage("Parameter from must be an RFC 3339 time.")
		}
	}
	if v := c.QueryParam("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return errBadQuery.WithField("to").WithMessage("Parameter to must be an RFC 3339 time.")
		}
	}
	// The export is recorded before the first byte leaves, so an export is never unrecorded.
	if err := m.record(c, audit.ActionAuditExport, audit.Target{Kind: "audit_log", ID: p.TenantID}, audit.Success, "",
		map[string]string{"from": c.QueryParam("from"), "to": c.QueryParam("to")}); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := m.Log.Seal(ctx); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/x-tar")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="parley-audit-`+m.now().UTC().Format("20060102T150405Z")+`.tar"`)
	c.Response().WriteHeader(http.StatusOK)
	_, err = m.Log.Export(ctx, c.Response(), p.TenantID, from, to)
	return err
}

// KeyBody is one published checkpoint key.
type KeyBody struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	PEM         string `json:"pem"`
}

func (m *Module) keys(c echo.Context) error {
	out := []KeyBody{}
	for _, k := range m.Log.TrustedKeys() {
		out = append(out, KeyBody{ID: k.ID, Fingerprint: k.Fingerprint(), PEM: string(audit.MarshalPublicKeyPEM(k.Key))})
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": out})
}

// StatusBody is the audit log's health for the console banner.
type StatusBody struct {
	Monitor auditlog.MonitorStatus `json:"monitor"`
	Alerts  []AlertBody            `json:"alerts"`
}

// AlertBody is one standing alert.
type AlertBody struct {
	Kind    audit.AlertKind `json:"kind"`
	Tenant  string          `json:"tenant,omitempty"`
	Seq     int64           `json:"seq,omitempty"`
	Message string          `json:"message"`
	At      time.Time       `json:"at"`
}

func (m *Module) statusBody(tenantID string) StatusBody {
	mon, alerts := m.Status()
	out := StatusBody{Monitor: mon, Alerts: []AlertBody{}}
	for _, a := range alerts {
		if a.Tenant == "" || a.Tenant == tenantID || a.Tenant == audit.SystemTenant {
			out.Alerts = append(out.Alerts, AlertBody{Kind: a.Kind, Tenant: a.Tenant, Seq: a.Seq, Message: a.Message, At: a.At})
		}
	}
	// Another tenant's damage is not this tenant's business.
	var mine []auditlog.Report
	for _, r := range mon.Damaged {
		if r.Tenant == tenantID {
			mine = append(mine, r)
		}
	}
	out.Monitor.Damaged = mine
	return out
}

func (m *Module) status(c echo.Context) error {
	return c.JSON(http.StatusOK, m.statusBody(api.PrincipalOf(c).TenantID))
}
