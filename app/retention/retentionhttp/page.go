package retentionhttp

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/compliance/pan"
)

// notices are the confirmations the page shows after a form, by key, so no text is reflected
// from the query string.
var notices = map[string]string{
	"retention_changed":   "The retention was changed. Data older than the new period is deleted at the next run of the retention job (hourly).",
	"retention_unchanged": "The retention was already set to that; nothing changed.",
	"minimum_changed":     "The minimum was changed.",
	"minimum_unchanged":   "The minimum was already set to that; nothing changed.",
	"site_changed":        "The site's period was changed.",
	"site_unchanged":      "The site already had that period; nothing changed.",
	"hold_placed":         "The legal hold was placed: nothing it covers is deleted until it is lifted.",
	"hold_released":       "The legal hold was lifted. Retention applies again at the next run.",
}

// periodView is one kind's row of the periods table, with its forms as submitted.
type periodView struct {
	retention.Period
	// InputID is the days field's id ("days" for visitor data, as before the other kinds).
	InputID  string
	Input    string
	Error    string
	MinInput string
	MinError string
}

type siteView struct{ ID, Name string }

type overrideView struct {
	SiteID, SiteName, Kind, KindLabel string
	Days                              int
}

type holdView struct {
	retention.Hold
	KindLabel string
	By        account.Person
	Known     bool
}

// formState is a form of the page as submitted, re-rendered with its error.
type formState struct {
	Error, Field string
	Kind, Target string
	SiteID, Days string
}

// retentionPage is what retention.html renders.
type retentionPage struct {
	CSRF      string
	Notice    string
	Periods   []periodView
	Sites     []siteView
	Overrides []overrideView
	Holds     []holdView
	Run       *retention.Run
	// CanMinimum shows the minimum forms (transcript.delete).
	CanMinimum bool
	// Kinds lists the kinds for the site form.
	Kinds   []retention.KindInfo
	Site    formState
	Hold    formState
	Release map[string]string
	MaxDays int
	MinDays int
	// errors by kind for the period forms (days) and the minimum forms.
	periodErr, periodIn, minErr, minIn map[retention.Kind]string
}

func inputID(k retention.Kind) string {
	if k == retention.Visitors {
		return "days"
	}
	return "days-" + string(k)
}

var holdKindLabels = map[retention.HoldKind]string{
	retention.HoldConversation: "Conversation", retention.HoldVisitor: "Visitor", retention.HoldOrganisation: "Whole organisation",
}

func (m *Module) render(c echo.Context, status int, d retentionPage) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	periods, err := m.Service.Periods(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	sites, err := m.Sites.Sites(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	names := map[string]string{}
	for _, s := range sites {
		d.Sites = append(d.Sites, siteView{ID: s.ID, Name: s.Name})
		names[s.ID] = s.Name
	}
	for _, pr := range periods {
		v := periodView{Period: pr, InputID: inputID(pr.Kind), Input: strconv.Itoa(pr.Days), MinInput: strconv.Itoa(pr.Min)}
		if e, ok := d.periodErr[pr.Kind]; ok {
			v.Error, v.Input = e, d.periodIn[pr.Kind]
		}
		if e, ok := d.minErr[pr.Kind]; ok {
			v.MinError, v.MinInput = e, d.minIn[pr.Kind]
		}
		d.Periods = append(d.Periods, v)
		for site, days := range pr.Sites {
			d.Overrides = append(d.Overrides, overrideView{SiteID: site, SiteName: names[site], Kind: string(pr.Kind), KindLabel: pr.Label, Days: days})
		}
	}
	sort.Slice(d.Overrides, func(i, j int) bool {
		a, b := d.Overrides[i], d.Overrides[j]
		return a.SiteName < b.SiteName || a.SiteName == b.SiteName && a.Kind < b.Kind
	})
	holds, err := m.Service.Holds(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	ids := make([]string, 0, len(holds))
	for _, h := range holds {
		ids = append(ids, h.PlacedBy)
	}
	people := map[string]account.Person{}
	if len(ids) > 0 && m.People != nil {
		if people, err = m.People.People(ctx, p.TenantID, ids); err != nil {
			return api.ErrUnavailable.Wrap(err)
		}
	}
	for _, h := range holds {
		by, known := people[h.PlacedBy]
		d.Holds = append(d.Holds, holdView{Hold: h, KindLabel: holdKindLabels[h.Kind], By: by, Known: known})
	}
	if d.Run, err = m.Service.LastRun(ctx, p.TenantID); err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	d.Kinds = retention.Kinds()
	d.CanMinimum = m.allowed(c, PermDelete, "")
	d.MinDays, d.MaxDays = retention.MinDays, retention.MaxDays
	if m.CSRF != nil {
		d.CSRF = m.CSRF(c)
	}
	return m.Pages.Render(c, status, "retention.html", d)
}

func (m *Module) page(c echo.Context) error {
	return m.render(c, http.StatusOK, retentionPage{Notice: notices[c.QueryParam("notice")]})
}

// safeNumber is the input shown again with a field error: a short plain number only, so no
// text, and never a card number, is reflected.
func safeNumber(raw string) string {
	if _, err := strconv.Atoi(raw); err != nil || len(raw) > 6 || pan.Contains(raw) {
		return ""
	}
	return raw
}

// formError is the api.Error of a page form's field error, or nil for a server failure. A card
// number refused is audited, as the renderer does for the API.
func (m *Module) formError(c echo.Context, err error) *api.Error {
	var ae *api.Error
	if !errors.As(apiError(err), &ae) || ae.Status >= 500 {
		return nil
	}
	if ae.Code == api.ErrCardNumber.Code && m.CardRefused != nil {
		m.CardRefused(c, ae)
	}
	return ae
}

func formKind(c echo.Context) (retention.Kind, bool) {
	k := retention.Kind(strings.TrimSpace(c.FormValue("kind")))
	if k == "" {
		k = retention.Visitors
	}
	_, ok := retention.Info(k)
	return k, ok
}

func redirect(c echo.Context, notice string) error {
	return c.Redirect(http.StatusSeeOther, "/retention?notice="+url.QueryEscape(notice))
}

// periodForm sets a kind's period. Submitting the period in force changes and records nothing,
// so a repeated submit is harmless.
func (m *Module) periodForm(c echo.Context) error {
	return m.daysForm(c, false)
}

// minimumForm sets a kind's floor.
func (m *Module) minimumForm(c echo.Context) error {
	return m.daysForm(c, true)
}

func (m *Module) daysForm(c echo.Context, minimum bool) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	k, ok := formKind(c)
	if !ok {
		return errKind
	}
	raw := strings.TrimSpace(c.FormValue("days"))
	fail := func(msg string) error {
		d := retentionPage{periodErr: map[retention.Kind]string{}, periodIn: map[retention.Kind]string{}, minErr: map[retention.Kind]string{}, minIn: map[retention.Kind]string{}}
		if minimum {
			d.minErr[k], d.minIn[k] = msg, safeNumber(raw)
		} else {
			d.periodErr[k], d.periodIn[k] = msg, safeNumber(raw)
		}
		return m.render(c, http.StatusUnprocessableEntity, d)
	}
	days, convErr := strconv.Atoi(raw)
	if convErr != nil {
		return fail(errNotNumber.Message)
	}
	var changed bool
	if minimum {
		changed, err = m.Service.SetMinimum(c.Request().Context(), actor(c, p), k, days)
	} else {
		changed, err = m.Service.SetPeriod(c.Request().Context(), actor(c, p), k, days)
	}
	if err != nil {
		if ae := m.formError(c, err); ae != nil {
			return fail(ae.Message)
		}
		return apiError(err)
	}
	notice := map[[2]bool]string{{false, true}: "retention_changed", {false, false}: "retention_unchanged",
		{true, true}: "minimum_changed", {true, false}: "minimum_unchanged"}[[2]bool{minimum, changed}]
	return redirect(c, notice)
}

// siteForm gives a site its own period of a kind; an empty days field removes it.
func (m *Module) siteForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	st := formState{SiteID: strings.TrimSpace(c.FormValue("site_id")), Kind: strings.TrimSpace(c.FormValue("kind")), Days: strings.TrimSpace(c.FormValue("days"))}
	fail := func(ae *api.Error) error {
		st.Error, st.Field, st.Days = ae.Message, ae.Field, safeNumber(st.Days)
		if len(st.SiteID) > 64 {
			st.SiteID = ""
		}
		if _, ok := retention.Info(retention.Kind(st.Kind)); !ok {
			st.Kind = ""
		}
		return m.render(c, http.StatusUnprocessableEntity, retentionPage{Site: st})
	}
	k := retention.Kind(st.Kind)
	if _, ok := retention.Info(k); !ok {
		return fail(errKind)
	}
	days := 0
	if st.Days != "" {
		if days, err = strconv.Atoi(st.Days); err != nil {
			return fail(errNotNumber)
		}
		if days == 0 {
			return fail(errDays)
		}
	}
	changed, err := m.Service.SetSitePeriod(c.Request().Context(), actor(c, p), st.SiteID, k, days)
	if errors.Is(err, retention.ErrNotFound) {
		return fail(errNoSite)
	}
	if err != nil {
		if ae := m.formError(c, err); ae != nil {
			return fail(ae)
		}
		return apiError(err)
	}
	return redirect(c, map[bool]string{true: "site_changed", false: "site_unchanged"}[changed])
}

// holdForm places a legal hold from the page (a visitor by id, a conversation by id, or the
// whole organisation).
func (m *Module) holdForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	st := formState{Kind: strings.TrimSpace(c.FormValue("kind")), Target: strings.TrimSpace(c.FormValue("target_id"))}
	reason := c.FormValue("reason")
	_, err = m.Service.PlaceHold(c.Request().Context(), actor(c, p), retention.HoldKind(st.Kind), st.Target, reason)
	if err != nil {
		ae := m.formError(c, err)
		if errors.Is(err, retention.ErrNotFound) {
			ae = errNoTarget
		}
		if ae == nil {
			return apiError(err)
		}
		st.Error, st.Field = ae.Message, ae.Field
		if len(st.Target) > 64 || pan.Contains(st.Target) {
			st.Target = ""
		}
		if _, ok := holdKindLabels[retention.HoldKind(st.Kind)]; !ok {
			st.Kind = ""
		}
		return m.render(c, http.StatusUnprocessableEntity, retentionPage{Hold: st})
	}
	return redirect(c, "hold_placed")
}

// releaseForm lifts a hold from the page.
func (m *Module) releaseForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("hold")
	if _, err := m.Service.ReleaseHold(c.Request().Context(), actor(c, p), id, c.FormValue("reason")); err != nil {
		ae := m.formError(c, err)
		if ae == nil || errors.Is(err, retention.ErrNotFound) {
			return apiError(err)
		}
		return m.render(c, http.StatusUnprocessableEntity, retentionPage{Release: map[string]string{id: ae.Message}})
	}
	return redirect(c, "hold_released")
}
