// Package evidencehttp serves the console's Evidence page (Compliance → Evidence) and its JSON
// API: the organisation's evidence reports with their summaries, the form that asks for a PCI
// DSS or HIPAA report for a period (evidence.generate), and the download of each report's signed
// bundle (evidence.view), which `parley evidence verify` checks offline. A report is generated
// in the background (evidence.Runner): the request queues it and waits a few seconds, so a small
// period is ready at once while a large one shows its progress on the page until its bundle can
// be downloaded; no request stays open for minutes.
package evidencehttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/web"
)

// Permissions of the routes.
const (
	PermView     = "evidence.view"
	PermGenerate = "evidence.generate"
)

// historyLimit is how many reports the page lists.
const historyLimit = 100

// Organisations names the user's organisation (tenant.Store).
type Organisations interface {
	ByID(ctx context.Context, id string) (tenant.Tenant, error)
}

// Recorder records an event in the audit log (auditlog.Log).
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Module serves the Evidence page.
type Module struct {
	// Generator returns the report generator over the live configuration and data.
	Generator     func() *evidence.Generator
	Store         *evidence.Store
	Organisations Organisations
	Audit         Recorder
	Pages         *web.Pages
	CSRF          func(c echo.Context) string
	// Allowed reports whether the request's user holds a permission tenant-wide; the guard's
	// decision, used to show the generate form only to those it would let through.
	Allowed func(c echo.Context, permission, departmentID string) bool
	Now     func() time.Time
	Rand    io.Reader
	Node    string
	// Runner generates the queued reports; Kick starts it at once on this node.
	Runner *evidence.Runner
	// InlineWait is how long a request that queued a report waits for it before answering with
	// its progress instead (default 4 s).
	InlineWait time.Duration
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	r := func(method, path, perm, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm, Scope: server.ScopeTenant,
			Summary: summary, Handler: h}
	}
	api := func(method, path, perm, summary string, h echo.HandlerFunc) server.Route {
		rt := r(method, path, perm, summary, h)
		rt.API = true
		return rt
	}
	return []server.Route{
		r(http.MethodGet, "/evidence", PermView, "Evidence page: the organisation's PCI DSS and HIPAA evidence reports, and the form to generate one.", m.page),
		r(http.MethodPost, "/evidence", PermGenerate, "Generate an evidence report for a framework and period (form; audited).", m.generate),
		r(http.MethodGet, "/evidence/:report/download", PermView, "Download an evidence report's signed bundle (audited).", m.download),
		api(http.MethodGet, "/api/v1/evidence/reports", PermView, "The organisation's evidence reports, newest first, with each one's generation status and progress.", m.listAPI),
		api(http.MethodPost, "/api/v1/evidence/reports", PermGenerate, "Ask for an evidence report for a framework and period: it is generated in the background (202 with its status; audited when done).", m.generateAPI),
		api(http.MethodGet, "/api/v1/evidence/reports/:report", PermView, "One evidence report's generation status and progress, with its download link once done.", m.reportAPI),
	}
}

var notices = map[string]string{
	"generated": "The report was generated and signed. Download its bundle below; it is kept for six years.",
	"queued":    "The report is being generated in the background; its progress shows below, and its bundle can be downloaded when it is done. You may leave this page.",
}

type reportView struct {
	evidence.Stored
	FrameworkName string
	Failing       bool
}

type page struct {
	CSRF        string
	Notice      string
	CanGenerate bool
	Reports     []reportView
	// Pending is true while a report of the list is queued or running: the page then polls.
	Pending bool
	Form    form
	Error   string
}

type form struct {
	Framework, From, To string
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func (m *Module) render(c echo.Context, status int, d page) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	list, err := m.Store.List(ctx, p.TenantID, historyLimit)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	for _, r := range list {
		d.Reports = append(d.Reports, reportView{Stored: r, FrameworkName: r.Framework.Name(), Failing: r.Fail > 0})
		d.Pending = d.Pending || r.Pending()
	}
	d.CanGenerate = m.Allowed != nil && m.Allowed(c, PermGenerate, "")
	if m.CSRF != nil {
		d.CSRF = m.CSRF(c)
	}
	if d.Form.Framework == "" {
		now := m.Now().UTC()
		d.Form = form{Framework: string(evidence.PCI), From: now.AddDate(-1, 0, 0).Format(time.DateOnly), To: now.Format(time.DateOnly)}
	}
	return m.Pages.Render(c, status, "evidence.html", d)
}

func (m *Module) page(c echo.Context) error {
	return m.render(c, http.StatusOK, page{Notice: notices[c.QueryParam("notice")]})
}

// readForm checks the generate form: a framework and a period of whole UTC days, at most ten
// years long and not ending in the future beyond today.
func (m *Module) readForm(c echo.Context) (form, evidence.Framework, time.Time, time.Time, string) {
	f := form{Framework: strings.TrimSpace(c.FormValue("framework")), From: strings.TrimSpace(c.FormValue("from")), To: strings.TrimSpace(c.FormValue("to"))}
	shown := f
	for _, v := range []*string{&shown.Framework, &shown.From, &shown.To} {
		if len(*v) > 10 || pan.Contains(*v) {
			*v = ""
		}
	}
	fw, from, to, problem, _ := m.checkPeriod(f.Framework, f.From, f.To)
	return shown, fw, from, to, problem
}

// checkPeriod checks a framework and a period of whole UTC days (YYYY-MM-DD, the last day
// included), at most ten years long and not starting after today; problem is a message for the
// user and field the input it concerns.
func (m *Module) checkPeriod(framework, fromDay, toDay string) (fw evidence.Framework, from, to time.Time, problem, field string) {
	fw, err := evidence.ParseFramework(framework)
	if err != nil {
		return "", time.Time{}, time.Time{}, "Choose PCI DSS or HIPAA.", "framework"
	}
	from, err1 := time.Parse(time.DateOnly, fromDay)
	to, err2 := time.Parse(time.DateOnly, toDay)
	switch {
	case err1 != nil:
		return "", time.Time{}, time.Time{}, "Enter the period's first and last days as dates (YYYY-MM-DD).", "from"
	case err2 != nil:
		return "", time.Time{}, time.Time{}, "Enter the period's first and last days as dates (YYYY-MM-DD).", "to"
	}
	to = to.AddDate(0, 0, 1) // the last day is included
	switch {
	case !from.Before(to):
		return "", time.Time{}, time.Time{}, "The period's first day must not be after its last.", "to"
	case to.Sub(from) > 10*366*24*time.Hour:
		return "", time.Time{}, time.Time{}, "A report covers at most ten years.", "from"
	case from.After(m.Now()):
		return "", time.Time{}, time.Time{}, "The period must start today or earlier.", "from"
	}
	return fw, from, to, "", ""
}

func (m *Module) generate(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f, fw, from, to, problem := m.readForm(c)
	if problem != "" {
		return m.render(c, http.StatusUnprocessableEntity, page{Form: f, Error: problem})
	}
	r, err := m.queue(c, p, fw, from, to)
	if err != nil {
		return err
	}
	notice := "queued"
	switch r.Status {
	case evidence.JobDone:
		notice = "generated"
	case evidence.JobFailed:
		return m.render(c, http.StatusServiceUnavailable, page{Form: f, Error: "The report could not be generated; try again shortly. The failure is in the audit log."})
	}
	return c.Redirect(http.StatusSeeOther, "/evidence?notice="+url.QueryEscape(notice))
}

// queue keeps a report to generate, starts the runner and waits up to InlineWait for it; it
// returns the report as it then stands (done, failed, or still queued or running).
func (m *Module) queue(c echo.Context, p *api.Principal, fw evidence.Framework, from, to time.Time) (evidence.Stored, error) {
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	if m.Runner == nil {
		return evidence.Stored{}, api.ErrUnavailable.Wrap(errors.New("evidence: no report runner wired"))
	}
	id, err := newID(m.Rand)
	if err != nil {
		return evidence.Stored{}, api.ErrUnavailable.Wrap(err)
	}
	r := evidence.Stored{ID: id, TenantID: p.TenantID, Framework: fw, PeriodFrom: from, PeriodTo: to, CreatedAt: m.Now(), CreatedBy: p.UserID}
	if err := m.Store.Queue(ctx, r); err != nil {
		return evidence.Stored{}, api.ErrUnavailable.Wrap(err)
	}
	m.Runner.Kick(ctx)
	wait := m.InlineWait
	if wait <= 0 {
		wait = 4 * time.Second
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		got, err := m.Store.Status(ctx, p.TenantID, id)
		if err != nil {
			return evidence.Stored{}, api.ErrUnavailable.Wrap(err)
		}
		if !got.Pending() {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, nil
		case <-deadline.C:
			return got, nil
		case <-t.C:
		}
	}
}

func (m *Module) download(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	id := c.Param("report")
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return api.ErrNotFound
	}
	r, err := m.Store.Get(ctx, p.TenantID, id)
	if errors.Is(err, evidence.ErrNotFound) {
		return api.ErrNotFound
	}
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	if r.Status != evidence.JobDone {
		return errNotReady
	}
	// Fail closed: the bundle leaves only once its download is recorded.
	if err := m.record(c, p, audit.ActionEvidenceDownload, id, audit.Success, "", map[string]string{"framework": string(r.Framework), "sha256": r.SHA256}); err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	name := fmt.Sprintf("parley-evidence-%s-%s-%s.tar", r.Framework, r.PeriodFrom.Format("20060102"), r.PeriodTo.AddDate(0, 0, -1).Format("20060102"))
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/x-tar", r.Bundle)
}

// errNotReady answers the download of a report still being generated, or whose generation failed.
var errNotReady = api.New(http.StatusConflict, "report_not_ready", "The report has no bundle yet: it is still being generated, or its generation failed.")

func (m *Module) record(c echo.Context, p *api.Principal, action audit.Action, id string, outcome audit.Outcome, reason string, details map[string]string) error {
	if m.Audit == nil {
		return errors.New("evidence: no audit log wired")
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	return m.Audit.Record(ctx, audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		Action: action, Target: audit.Target{Kind: "evidence_report", ID: id}, Outcome: outcome, Reason: reason,
		RequestID: api.RequestID(c), Details: details,
	})
}

func newID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
