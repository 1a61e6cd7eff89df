// Package transcripthttp serves transcripts in the console and the JSON API: the list with its
// filters and content search, the transcript view (behind a reason form when the tenant requires
// one), exports, notes and tags, and the tenant's transcript policy. Every route is declared with
// its permission; the transcript routes resolve their department from the conversation, and a
// conversation outside the user's scope answers 404 before any permission is checked.
package transcripthttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/web"
)

// Module serves the transcript routes.
type Module struct {
	Service *transcript.Service
	Pages   *web.Pages
	// CSRF returns the request's CSRF token for the pages' forms.
	CSRF func(c echo.Context) string
	// Allowed reports whether the request's user holds a permission tenant-wide ("") or in a
	// department (authz.Guard.Allowed): the view shows export and retention actions by it.
	Allowed func(c echo.Context, permission, departmentID string) bool
}

var _ server.Module = (*Module)(nil)

// Permissions the pages check for the actions they show; the retention routes are the
// retention service's.
const (
	permSettings  = "security.manage"
	permDelete    = "transcript.delete"
	permRetention = "retention.manage"
)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	// A reader of a department's or of every transcript reaches the pages a reader of their own
	// chats does; the service then narrows each list and view to the reader's scope.
	broader := []string{transcript.PermViewDepartment, transcript.PermViewAll}
	entry := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: transcript.PermViewOwn,
			Alternatives: broader, Scope: server.ScopeDepartment, Department: m.entry, Summary: summary, Handler: h}
	}
	scoped := func(method, path, perm, summary string, h echo.HandlerFunc) server.Route {
		r := server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeDepartment, Department: m.scoped, Summary: summary, Handler: h}
		if perm == transcript.PermViewOwn {
			r.Alternatives = broader
		}
		return r
	}
	tenantWide := func(method, path, perm, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, Summary: summary, Handler: h}
	}
	api := func(r server.Route) server.Route {
		r.API = true
		return r
	}
	own, export := transcript.PermViewOwn, transcript.PermExport
	return []server.Route{
		entry(http.MethodGet, "/transcripts", "Transcripts page: the conversations the user may read, filtered and searched.", m.listPage),
		scoped(http.MethodGet, "/transcripts/:conversation", own, "A transcript (first a reason form when the tenant requires one; opening is audited).", m.viewPage),
		scoped(http.MethodPost, "/transcripts/:conversation/open", own, "Open a transcript with the reason given (form; audited).", m.openForm),
		scoped(http.MethodGet, "/transcripts/:conversation/export", export, "Export a transcript as JSON, HTML or PDF (?format=; audited).", m.exportGet),
		scoped(http.MethodPost, "/transcripts/:conversation/export", export, "Export a transcript with the reason given (form; audited).", m.exportForm),
		scoped(http.MethodGet, "/transcripts/:conversation/files/:file", own, "Download a file of a conversation the user may read (audited).", m.fileDownload),
		scoped(http.MethodPost, "/transcripts/:conversation/notes", own, "Add a note to a conversation (form; sealed; audited).", m.noteForm),
		scoped(http.MethodPost, "/transcripts/:conversation/tags", own, "Tag a conversation (form; audited).", m.tagForm),
		scoped(http.MethodPost, "/transcripts/:conversation/tags/remove", own, "Remove a tag from a conversation (form; audited).", m.untagForm),
		tenantWide(http.MethodGet, "/transcript-settings", permSettings, "Transcript policy page: require a reason to open a transcript.", m.settingsPage),
		tenantWide(http.MethodPost, "/transcript-settings", permSettings, "Change the transcript policy (form; audited).", m.settingsForm),

		api(entry(http.MethodGet, "/api/v1/transcripts", "The conversations the user may read, filtered; ?q= searches their messages.", m.listAPI)),
		api(scoped(http.MethodPost, "/api/v1/transcripts/:conversation/open", own, "Open a transcript (reason when the tenant requires one; audited).", m.openAPI)),
		api(scoped(http.MethodPost, "/api/v1/transcripts/:conversation/notes", own, "Add a note to a conversation (sealed; audited).", m.noteAPI)),
		api(scoped(http.MethodPost, "/api/v1/transcripts/:conversation/tags", own, "Tag a conversation (audited).", m.tagAPI)),
		api(scoped(http.MethodDelete, "/api/v1/transcripts/:conversation/tags/:tag", own, "Remove a tag from a conversation (audited).", m.untagAPI)),
		api(tenantWide(http.MethodGet, "/api/v1/transcript-settings", permSettings, "The tenant's transcript policy.", m.getSettingsAPI)),
		api(tenantWide(http.MethodPut, "/api/v1/transcript-settings", permSettings, "Change the tenant's transcript policy (audited).", m.putSettingsAPI)),
	}
}

// entry resolves the list's department: the ?department= it filters on (404 when not the
// tenant's), else one where the user holds transcript.view.own.
func (m *Module) entry(c echo.Context, tenantID string) (string, error) {
	p, err := principal(c)
	if err != nil {
		return "", err
	}
	ctx := c.Request().Context()
	if id := c.QueryParam("department"); id != "" {
		if len(id) > 64 || !m.Service.IsDepartment(ctx, tenantID, id) {
			return "", api.ErrNotFound
		}
		return id, nil
	}
	return m.Service.EntryDepartment(ctx, p)
}

// scoped resolves the department of the :conversation (404 when it is not the tenant's); the
// handler then narrows to the user's scope, answering 404 outside it.
func (m *Module) scoped(c echo.Context, tenantID string) (string, error) {
	d, err := m.Service.DepartmentOf(c.Request().Context(), tenantID, c.Param("conversation"))
	if errors.Is(err, transcript.ErrNotFound) {
		return "", api.ErrNotFound
	}
	return d, err
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func originOf(c echo.Context) transcript.Origin {
	return transcript.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) allowed(c echo.Context, perm, dept string) bool {
	return m.Allowed != nil && m.Allowed(c, perm, dept)
}

// Errors of the transcript routes.
var (
	errReasonRequired = api.New(http.StatusBadRequest, "reason_required", "This organisation requires a reason to open a transcript.").WithField("reason")
	errTooMany        = api.New(http.StatusConflict, "limit_reached", "This conversation holds the most notes or tags allowed.")
)

// httpError maps the service's errors to API errors; others pass on (500 with the cause logged).
func httpError(err error) error {
	var ie *transcript.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		if ie.CardNumber {
			return api.ErrCardNumber.WithField(ie.Field).Wrap(err)
		}
		return api.ErrInvalidRequest.WithField(ie.Field).WithMessage(ie.Message).Wrap(err)
	case errors.Is(err, transcript.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, transcript.ErrReasonRequired):
		return errReasonRequired
	case errors.Is(err, transcript.ErrTooMany):
		return errTooMany
	case errors.Is(err, transcript.ErrUnavailable):
		return api.ErrUnavailable.Wrap(err)
	}
	return err
}
