package transcripthttp

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/compliance/pan"
)

// dateLayout is the format of the list's date filters (HTML date inputs).
const dateLayout = "2006-01-02"

// filterForm is the list's filter as submitted, shown back in the form. No value holding a card
// number is shown back.
type filterForm struct {
	From, To, Site, Department, Agent, Status, Rating, Tag, Visitor, Q string
}

// parseFilter reads the list's filter from the query string.
func parseFilter(c echo.Context) (transcript.Filter, filterForm, error) {
	q := c.QueryParams()
	ff := filterForm{From: q.Get("from"), To: q.Get("to"), Site: q.Get("site"), Department: q.Get("department"),
		Agent: q.Get("agent"), Status: q.Get("status"), Rating: q.Get("rating"), Tag: q.Get("tag"), Visitor: q.Get("visitor"), Q: q.Get("q")}
	f := transcript.Filter{SiteID: ff.Site, DepartmentID: ff.Department, AgentID: ff.Agent, Status: ff.Status,
		Tag: ff.Tag, VisitorID: strings.TrimSpace(ff.Visitor), Query: ff.Q}
	var err error
	for _, d := range []struct {
		field, value string
		into         *time.Time
	}{{"from", ff.From, &f.From}, {"to", ff.To, &f.To}} {
		if d.value == "" {
			continue
		}
		if *d.into, err = time.ParseInLocation(dateLayout, d.value, time.UTC); err != nil {
			return f, ff, api.ErrInvalidRequest.WithField(d.field).WithMessage("Enter the date as YYYY-MM-DD.")
		}
	}
	if ff.Rating != "" {
		if f.Rating, err = strconv.Atoi(ff.Rating); err != nil || f.Rating < 1 || f.Rating > 5 {
			return f, ff, api.ErrInvalidRequest.WithField("rating").WithMessage("The rating is 1 to 5.")
		}
	}
	if p := q.Get("page"); p != "" {
		if f.Page, err = strconv.Atoi(p); err != nil || f.Page < 0 || f.Page > 10000 {
			return f, ff, api.ErrInvalidRequest.WithField("page").WithMessage("The page is out of range.")
		}
	}
	return f, ff, httpError(transcript.CheckFilter(&f))
}

// scrub drops filter values that hold a card number, so the page never shows one back.
func (ff filterForm) scrub() filterForm {
	for _, v := range []*string{&ff.From, &ff.To, &ff.Site, &ff.Department, &ff.Agent, &ff.Status, &ff.Rating, &ff.Tag, &ff.Visitor, &ff.Q} {
		if pan.Contains(*v) {
			*v = ""
		}
	}
	return ff
}

// query writes the filter back as a query string, with page.
func (ff filterForm) query(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": ff.From, "to": ff.To, "site": ff.Site, "department": ff.Department, "agent": ff.Agent,
		"status": ff.Status, "rating": ff.Rating, "tag": ff.Tag, "visitor": ff.Visitor, "q": ff.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 0 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/transcripts"
	}
	return "/transcripts?" + v.Encode()
}

// listRow is a conversation as the list page shows it.
type listRow struct {
	transcript.Summary
	Started, StartedISO, Ended string
	Rated                      string
}

// listPage is what transcripts.html renders.
type listPage struct {
	Filter      filterForm
	Errors      map[string]string
	Error       string
	Rows        []listRow
	Search      *transcript.Search
	Searched    bool
	PrevURL     string
	NextURL     string
	Sites       []tenant.Site
	Departments []tenant.Department
	Agents      []transcript.Person
	Tags        []string
	Statuses    []string
	Scope       string
	CanSettings bool
}

func (m *Module) listPage(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d := listPage{Statuses: transcript.Statuses, CanSettings: m.allowed(c, permSettings, "")}
	if d.Sites, d.Departments, d.Tags, err = m.Service.Filters(ctx, p.TenantID); err != nil {
		return err
	}
	if d.Agents, err = m.Service.Agents(ctx, p); err != nil {
		return err
	}
	sc, err := m.Service.Scope(ctx, p)
	if err != nil {
		return err
	}
	d.Scope = scopeText(sc, d.Departments)
	if !sc.All && !sc.AllDepartments && !sc.OwnAll {
		// Offer only the departments the reader may list (another one would be refused).
		mine := map[string]bool{}
		for _, id := range append(append([]string{}, sc.Departments...), sc.OwnDepartments...) {
			mine[id] = true
		}
		var keep []tenant.Department
		for _, dp := range d.Departments {
			if mine[dp.ID] {
				keep = append(keep, dp)
			}
		}
		d.Departments = keep
	}
	f, ff, ferr := parseFilter(c)
	d.Filter = ff.scrub()
	status := http.StatusOK
	if ferr != nil {
		return m.listFailed(c, d, ferr)
	}
	list, err := m.Service.List(ctx, p, f, originOf(c))
	if err != nil {
		return m.listFailed(c, d, httpError(err))
	}
	for _, s := range list.Items {
		r := listRow{Summary: s, Started: s.StartedAt.Format("2 Jan 2006 15:04"), StartedISO: s.StartedAt.Format(time.RFC3339)}
		if s.EndedAt != nil {
			r.Ended = s.EndedAt.Format("15:04")
		}
		if s.Rating != nil {
			r.Rated = strconv.Itoa(*s.Rating) + " of 5"
		}
		d.Rows = append(d.Rows, r)
	}
	d.Search, d.Searched = list.Search, f.Query != ""
	if f.Page > 0 && !d.Searched {
		d.PrevURL = d.Filter.query(f.Page - 1)
	}
	if list.More && !d.Searched {
		d.NextURL = d.Filter.query(f.Page + 1)
	}
	return m.Pages.Render(c, status, "transcripts.html", d)
}

// listFailed shows the list's form with the error on its field; server errors pass on.
func (m *Module) listFailed(c echo.Context, d listPage, err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return err
	}
	if ae.Field != "" {
		d.Errors = map[string]string{ae.Field: ae.Message}
		if f := ae.Field; f == "q" || f == "tag" || f == "visitor" {
			// Refused text is not shown back.
			switch f {
			case "q":
				d.Filter.Q = ""
			case "tag":
				d.Filter.Tag = ""
			case "visitor":
				d.Filter.Visitor = ""
			}
		}
	} else {
		d.Error = ae.Message
	}
	return m.Pages.Render(c, http.StatusUnprocessableEntity, "transcripts.html", d)
}

// scopeText says in words what the user may read.
func scopeText(sc transcript.Scope, depts []tenant.Department) string {
	if sc.All {
		return "every conversation of the organisation"
	}
	names := map[string]string{}
	for _, d := range depts {
		names[d.ID] = d.Name
	}
	var parts []string
	if sc.AllDepartments {
		parts = append(parts, "every conversation of every department")
	}
	if len(sc.Departments) > 0 {
		var ns []string
		for _, id := range sc.Departments {
			ns = append(ns, names[id])
		}
		parts = append(parts, "every conversation of "+strings.Join(ns, ", "))
	}
	switch {
	case sc.OwnAll:
		parts = append(parts, "the conversations you took part in")
	case len(sc.OwnDepartments) > 0:
		var ns []string
		for _, id := range sc.OwnDepartments {
			ns = append(ns, names[id])
		}
		parts = append(parts, "the conversations you took part in, in "+strings.Join(ns, ", "))
	}
	if len(parts) == 0 {
		return "no conversations"
	}
	return strings.Join(parts, "; and ")
}

// viewPage is what transcript.html renders.
type viewPage struct {
	CSRF    string
	T       transcript.Transcript
	Events  []viewEvent
	Notes   []viewNote
	Started string
	Ended   string
	// Reason is the reason the transcript was opened with, carried by the page's forms.
	Reason     string
	Notice     string
	Errors     map[string]string
	NoteInput  string
	TagInput   string
	Vocabulary []string
	CanExport  bool
	Formats    []string
	CanDelete  bool
	CanHold    bool
}

type viewEvent struct {
	transcript.Event
	Time, ISO string
	FileURL   string
}

type viewNote struct {
	transcript.Note
	Time string
}

// reasonPage is what transcript_reason.html renders.
type reasonPage struct {
	CSRF   string
	ID     string
	Input  string
	Errors map[string]string
}

// viewNotices are the confirmations after a form, by key.
var viewNotices = map[string]string{
	"note_added":    "The note was added.",
	"tag_added":     "The tag was added.",
	"tag_present":   "The conversation already had that tag.",
	"tag_removed":   "The tag was removed.",
	"tag_not_there": "The conversation did not have that tag.",
}

func (m *Module) viewPage(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	set, err := m.Service.Settings(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	if set.RequireReason {
		return m.Pages.Render(c, http.StatusOK, "transcript_reason.html", reasonPage{CSRF: m.csrf(c), ID: c.Param("conversation")})
	}
	return m.renderView(c, "", viewPage{Notice: viewNotices[c.QueryParam("notice")]})
}

func (m *Module) openForm(c echo.Context) error {
	return m.renderView(c, c.FormValue("reason"), viewPage{})
}

// renderView opens the transcript with reason (audited) and renders it with d's notice and
// errors; a missing or refused reason shows the reason form again.
func (m *Module) renderView(c echo.Context, reason string, d viewPage) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("conversation")
	t, err := m.Service.Open(c.Request().Context(), p, id, reason, originOf(c))
	if err != nil {
		herr := httpError(err)
		var ae *api.Error
		if errors.As(herr, &ae) && ae.Field == "reason" {
			rp := reasonPage{CSRF: m.csrf(c), ID: id, Errors: map[string]string{"reason": ae.Message}}
			if !pan.Contains(reason) && len(reason) <= transcript.MaxReasonLen {
				rp.Input = reason
			}
			return m.Pages.Render(c, http.StatusUnprocessableEntity, "transcript_reason.html", rp)
		}
		return herr
	}
	d.CSRF, d.T, d.Reason = m.csrf(c), t, strings.Join(strings.Fields(reason), " ")
	d.Started = t.StartedAt.Format("2 Jan 2006 15:04 UTC")
	if t.EndedAt != nil {
		d.Ended = t.EndedAt.Format("2 Jan 2006 15:04 UTC")
	}
	for _, e := range t.Events {
		ve := viewEvent{Event: e, Time: e.At.Format("15:04:05"), ISO: e.At.Format(time.RFC3339)}
		if e.File != nil {
			ve.FileURL = fmt.Sprintf("/transcripts/%s/files/%s", url.PathEscape(t.ID), url.PathEscape(e.File.ID))
		}
		d.Events = append(d.Events, ve)
	}
	for _, n := range t.Notes {
		d.Notes = append(d.Notes, viewNote{Note: n, Time: n.At.Format("2 Jan 2006 15:04 UTC")})
	}
	_, _, d.Vocabulary, err = m.Service.Filters(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	d.CanExport = m.allowed(c, transcript.PermExport, t.DepartmentID)
	d.Formats = transcript.Formats
	d.CanDelete = m.allowed(c, permDelete, t.DepartmentID)
	d.CanHold = m.allowed(c, permRetention, "")
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return m.Pages.Render(c, status, "transcript.html", d)
}

func (m *Module) noteForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	_, err = m.Service.AddNote(c.Request().Context(), p, c.Param("conversation"), body, originOf(c))
	return m.afterForm(c, err, "body", "note_added", func(d *viewPage) {
		if !pan.Contains(body) && len(body) <= 4*transcript.MaxNoteLen {
			d.NoteInput = body
		}
	})
}

func (m *Module) tagForm(c echo.Context) error {
	return m.changeTag(c, true)
}

func (m *Module) untagForm(c echo.Context) error {
	return m.changeTag(c, false)
}

func (m *Module) changeTag(c echo.Context, add bool) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	tag := c.FormValue("tag")
	var changed bool
	if add {
		changed, err = m.Service.AddTag(c.Request().Context(), p, c.Param("conversation"), tag, originOf(c))
	} else {
		changed, err = m.Service.RemoveTag(c.Request().Context(), p, c.Param("conversation"), tag, originOf(c))
	}
	notice := map[[2]bool]string{{true, true}: "tag_added", {true, false}: "tag_present", {false, true}: "tag_removed", {false, false}: "tag_not_there"}[[2]bool{add, changed}]
	return m.afterForm(c, err, "tag", notice, func(d *viewPage) {
		if !pan.Contains(tag) && len(tag) <= 4*transcript.MaxTagLen {
			d.TagInput = tag
		}
	})
}

// afterForm renders the transcript again after a note or tag form: with the notice, or with the
// input error on field (keep shows the input back when it is safe to).
func (m *Module) afterForm(c echo.Context, err error, field, notice string, keep func(*viewPage)) error {
	reason := c.FormValue("reason")
	if err == nil {
		if reason == "" {
			// No reason in play: back to the transcript's own address (post, redirect, get).
			return c.Redirect(http.StatusSeeOther, "/transcripts/"+url.PathEscape(c.Param("conversation"))+"?notice="+notice)
		}
		// The reason the transcript was opened with is needed to show it again.
		return m.renderView(c, reason, viewPage{Notice: viewNotices[notice]})
	}
	herr := httpError(err)
	var ae *api.Error
	if !errors.As(herr, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return herr
	}
	d := viewPage{Errors: map[string]string{field: ae.Message}}
	keep(&d)
	return m.renderView(c, reason, d)
}

// exportGet serves GET /transcripts/:conversation/export?format= (no reason: refused with
// reason_required when the tenant requires one).
func (m *Module) exportGet(c echo.Context) error {
	return m.export(c, c.QueryParam("format"), "")
}

// exportForm serves the view page's export buttons, which carry the reason.
func (m *Module) exportForm(c echo.Context) error {
	return m.export(c, c.FormValue("format"), c.FormValue("reason"))
}

func (m *Module) export(c echo.Context, format, reason string) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f, err := m.Service.Export(c.Request().Context(), p, c.Param("conversation"), format, reason, originOf(c))
	if err != nil {
		return httpError(err)
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, f.ContentType, f.Data)
}

// settingsPage is what transcript_settings.html renders.
type settingsPage struct {
	CSRF     string
	Notice   string
	Settings transcript.Settings
}

var settingsNotices = map[string]string{
	"changed":   "The transcript policy was changed.",
	"unchanged": "The transcript policy was already so; nothing changed.",
}

func (m *Module) settingsPage(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	set, err := m.Service.Settings(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "transcript_settings.html",
		settingsPage{CSRF: m.csrf(c), Notice: settingsNotices[c.QueryParam("notice")], Settings: set})
}

func (m *Module) settingsForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in transcript.Settings
	switch c.FormValue("require_reason") {
	case "", "off":
	case "on", "true":
		in.RequireReason = true
	default:
		return api.ErrInvalidRequest.WithField("require_reason")
	}
	changed, err := m.Service.SetSettings(c.Request().Context(), p, in, originOf(c))
	if err != nil {
		return httpError(err)
	}
	notice := "unchanged"
	if changed {
		notice = "changed"
	}
	return c.Redirect(http.StatusSeeOther, "/transcript-settings?notice="+notice)
}

// fileDownload sends a file of the conversation as an attachment, in a sandbox.
func (m *Module) fileDownload(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	name, typ, data, err := m.Service.File(c.Request().Context(), p, c.Param("conversation"), c.Param("file"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if h.Get("Content-Disposition") == "" {
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	}
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, typ, data)
}
