package chathttp

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/files"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
)

// SiteConfig is the widget's configuration (docs/chat-protocol.md §3.1).
type SiteConfig struct {
	Version         int               `json:"version"`
	Site            SiteRef           `json:"site"`
	Language        string            `json:"language"`
	Languages       []string          `json:"languages"`
	Texts           map[string]string `json:"texts"`
	Appearance      chat.Appearance   `json:"appearance"`
	CookieMode      string            `json:"cookie_mode"`
	Online          bool              `json:"online"`
	OfflineReason   string            `json:"offline_reason"`
	BusinessHours   *HoursState       `json:"business_hours,omitempty"`
	Departments     []DepartmentRef   `json:"departments"`
	Prechat         chat.Prechat      `json:"prechat"`
	Postchat        Toggle            `json:"postchat"`
	FileTransfer    FileTransfer      `json:"file_transfer"`
	TranscriptEmail bool              `json:"transcript_email"`
	Limits          WidgetLimits      `json:"limits"`
	Endpoints       Endpoints         `json:"endpoints"`
}

// SiteRef names a site to the widget.
type SiteRef struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// HoursState says whether the business hours are open now.
type HoursState struct {
	Timezone string `json:"timezone"`
	OpenNow  bool   `json:"open_now"`
}

// DepartmentRef is a department the visitor may choose.
type DepartmentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Toggle is an on/off feature.
type Toggle struct {
	Enabled bool `json:"enabled"`
}

// FileTransfer describes the file switch to the widget.
type FileTransfer struct {
	Enabled  bool     `json:"enabled"`
	MaxBytes int64    `json:"max_bytes"`
	Types    []string `json:"types"`
}

// WidgetLimits are the sizes the widget enforces before the server does.
type WidgetLimits struct {
	MessageMaxChars int `json:"message_max_chars"`
	FrameMaxBytes   int `json:"frame_max_bytes"`
	NameMaxChars    int `json:"name_max_chars"`
	AnswerMaxChars  int `json:"answer_max_chars"`
}

// Endpoints are the widget's URLs on this server.
type Endpoints struct {
	WS   string `json:"ws"`
	Base string `json:"base"`
}

// allowCORS lets the site's own pages read a GET answer (the loader fetches the configuration).
func allowCORS(c echo.Context, site tenant.Site) {
	h := c.Response().Header()
	h.Add("Vary", "Origin")
	o := strings.ToLower(c.Request().Header.Get(echo.HeaderOrigin))
	for _, allowed := range site.Origins() {
		if o == allowed {
			h.Set(echo.HeaderAccessControlAllowOrigin, o)
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			return
		}
	}
}

func (m *Module) config(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	set, err := m.chat.SiteSettings(ctx, site.ID)
	if err != nil {
		return err
	}
	texts, chosen := set.TextsFor(visitor.Languages(c.QueryParam("lang"), c.Request().Header.Get("Accept-Language"))...)
	langs := set.Languages()
	depts, err := m.chat.Departments(ctx, site.TenantID)
	if err != nil {
		return err
	}
	reason, err := m.chat.SiteOffline(ctx, site.TenantID, set)
	if err != nil {
		return err
	}
	cfg := SiteConfig{
		Version: 1, Site: SiteRef{Key: site.SiteKey, Name: site.Name}, Language: chosen, Languages: langs, Texts: texts,
		Appearance: set.Appearance, CookieMode: set.CookieMode, Online: reason == "", OfflineReason: reason,
		Departments: []DepartmentRef{}, Prechat: set.Prechat, Postchat: Toggle{Enabled: set.PostchatEnabled},
		FileTransfer:    FileTransfer{Enabled: set.FileTransfer, MaxBytes: set.FileMaxBytes, Types: files.Types()},
		TranscriptEmail: set.TranscriptEmail,
		Limits: WidgetLimits{MessageMaxChars: sanitize.Message.MaxRunes, FrameMaxBytes: protocol.MaxFrameBytes,
			NameMaxChars: sanitize.Name.MaxRunes, AnswerMaxChars: sanitize.Answer.MaxRunes},
		Endpoints: Endpoints{WS: "/api/v1/widget/sites/" + site.SiteKey + "/ws", Base: "/api/v1/widget/sites/" + site.SiteKey},
	}
	if set.BusinessHours != nil {
		cfg.BusinessHours = &HoursState{Timezone: set.BusinessHours.Timezone, OpenNow: set.BusinessHours.OpenAt(m.chat.Now())}
	}
	for _, d := range depts {
		cfg.Departments = append(cfg.Departments, DepartmentRef{ID: d.ID, Name: d.Name})
	}
	allowCORS(c, site)
	return c.JSON(http.StatusOK, cfg)
}

// pageViewBody is a page view report.
type pageViewBody struct {
	URL       string `json:"url"`
	Title     string `json:"title"`
	Referrer  string `json:"referrer"`
	Language  string `json:"language"`
	Screen    string `json:"screen"`
	Heartbeat bool   `json:"heartbeat"`
}

// Identity answers a page view.
type Identity struct {
	VisitorID    string `json:"visitor_id"`
	VisitorToken string `json:"visitor_token"`
	Returning    bool   `json:"returning"`
	NewToken     bool   `json:"new_token"`
}

func (m *Module) pageView(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	var in pageViewBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	id, err := m.chat.RecordView(c.Request().Context(), site, visitor.View{
		Token: bearer(c), URL: in.URL, Title: in.Title, Referrer: in.Referrer, Language: in.Language, // visitor.CleanLanguage drops a tag that does not parse: the last known one stays
		Agent: c.Request().UserAgent(), IP: c.RealIP(), Heartbeat: in.Heartbeat,
	})
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, Identity{VisitorID: id.Visitor.ID, VisitorToken: id.Token, Returning: id.Returning, NewToken: id.NewToken})
}

func (m *Module) currentChat(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	v, err := m.visitorOf(c, site)
	if err != nil {
		return err
	}
	conv, err := m.chat.CurrentConversation(c.Request().Context(), site, v.ID)
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, conv.Summary(conv.VisitorLastSeq))
}

func (m *Module) startChat(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	v, err := m.visitorOf(c, site)
	if err != nil {
		return err
	}
	var in chat.StartInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	conv, created, err := m.chat.Start(c.Request().Context(), site, v, c.RealIP(), in, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	status := http.StatusOK
	if created {
		// A new conversation holds its started event only, which the visitor sees.
		status, conv.VisitorLastSeq = http.StatusCreated, conv.LastSeq
	}
	return c.JSON(status, conv.Summary(conv.VisitorLastSeq))
}

func (m *Module) endChat(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	if err := m.chat.End(c.Request().Context(), conv.TenantID, conv.ID, chat.Actor{Kind: chat.SenderVisitor, ID: v.ID}, nil, originOf(c)); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) survey(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	var in chat.SurveyInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := m.chat.Survey(c.Request().Context(), conv.TenantID, conv.ID, v.ID, in); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) offline(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	visitorID := ""
	if bearer(c) != "" {
		v, err := m.visitorOf(c, site)
		if err != nil {
			return err
		}
		visitorID = v.ID
	}
	var in chat.OfflineInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	id, err := m.chat.LeaveOffline(c.Request().Context(), site, visitorID, c.RealIP(), in)
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusCreated, map[string]string{"id": id})
}
