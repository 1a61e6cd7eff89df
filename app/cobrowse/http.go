package cobrowse

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/web"
)

// Permissions the module's routes declare or check.
const (
	PermView    = "cobrowse.view"
	PermControl = "cobrowse.control"
	permSite    = "site.manage"
)

// Module serves co-browsing: the agent's API, socket and viewer page, the visitor's socket,
// the site settings, and the node-to-node attachment.
type Module struct {
	Service *Service
	Pages   *web.Pages
	// Allowed checks a further permission of the signed-in user (cobrowse.control).
	Allowed func(c echo.Context, permission, departmentID string) bool
	// PublicOrigin is Parley's own origin, the only one whose pages may open the sockets.
	PublicOrigin string
	CSRF         func(c echo.Context) string
}

var _ server.Module = (*Module)(nil)

const (
	agentBase   = "/api/v1/chat/conversations/:conversation/cobrowse"
	visitorBase = "/api/v1/widget/sites/:site"
	settingsAPI = "/api/v1/chat/sites/:site/cobrowse"
	// ViewerPath is the document the workspace replays a shared page in.
	ViewerPath = "/chat/cobrowse/:conversation/viewer"
)

// The module's API errors.
var (
	errNotYours    = api.New(http.StatusForbidden, "forbidden", "Only the agent handling this chat can do that.")
	errEnded       = api.New(http.StatusConflict, "conversation_ended", "This conversation has ended.")
	errDisabled    = api.New(http.StatusConflict, "cobrowse_disabled", "Co-browsing is off for this site; an administrator can turn it on in the site's settings.")
	errActive      = api.New(http.StatusConflict, "cobrowse_active", "A co-browsing session is already running in this chat.")
	errClosed      = api.New(http.StatusConflict, "cobrowse_closed", "This co-browsing session is not running.")
	errUnavailable = api.New(http.StatusServiceUnavailable, "cobrowse_unavailable", "The server holding the session cannot be reached; try again shortly.")
	errVisitor     = api.New(http.StatusUnauthorized, "visitor_unauthenticated", "Your chat session is not valid; reload the page.")
	errOrigin      = api.New(http.StatusForbidden, "origin_not_allowed", "This page may not open the socket.")
)

// httpError maps a service error to the API error handlers return.
func httpError(err error) error {
	var ie *InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return api.ErrInvalidRequest.WithField(ie.Field).WithMessage(ie.Message)
	case errors.Is(err, ErrNotFound), errors.Is(err, chat.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, ErrForbidden):
		return errNotYours
	case errors.Is(err, ErrEnded):
		return errEnded
	case errors.Is(err, ErrDisabled):
		return errDisabled
	case errors.Is(err, ErrActive):
		return errActive
	case errors.Is(err, ErrClosed):
		return errClosed
	case errors.Is(err, ErrUnavailable):
		return errUnavailable.Wrap(err)
	case errors.Is(err, visitor.ErrUnauthenticated):
		return errVisitor
	}
	return err
}

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	agent := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: PermView, Scope: server.ScopeDepartment,
			API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h, Department: m.department}
	}
	site := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: permSite, Scope: server.ScopeTenant,
			API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h}
	}
	pub := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Public, API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h}
	}
	return []server.Route{
		agent(http.MethodPost, agentBase, "Ask the visitor of the agent's chat to share their page (co-browsing; announced in the chat, audited cobrowse.request).", m.request),
		agent(http.MethodGet, agentBase, "The chat's latest co-browsing session: its state and times, never the page.", m.latest),
		agent(http.MethodPost, agentBase+"/:session/end", "End a co-browsing session (audited cobrowse.end).", m.end),
		agent(http.MethodGet, agentBase+"/:session/ws", "The agent's co-browsing WebSocket: the visitor's page, sanitised, and the agent's commands (docs/chat-protocol.md §8).", m.agentSocket),
		agent(http.MethodGet, ViewerPath, "The empty document a shared page is replayed in (sandboxed, no script, loads only from the site's origins).", m.viewer),
		pub(http.MethodGet, visitorBase+"/cobrowse/ws", "Visitor: share the page in a requested co-browsing session (WebSocket; the hello is the consent).", m.visitorSocket),
		pub(http.MethodPost, visitorBase+"/chats/:conversation/cobrowse/:session/decline", "Visitor: decline a co-browsing request.", m.decline),
		site(http.MethodGet, settingsAPI, "A site's co-browsing settings.", m.getSettings),
		site(http.MethodPut, settingsAPI, "Change a site's co-browsing settings (audited cobrowse.settings.change).", m.putSettings),
		site(http.MethodGet, "/sites/:site/cobrowse", "A site's co-browsing settings page.", m.settingsPage),
		site(http.MethodPost, "/sites/:site/cobrowse", "Change a site's co-browsing settings (form).", m.settingsForm),
		// Authenticated by an HMAC signature under the tenant's node-to-node secret, checked first.
		pub(http.MethodGet, peerPath, "Node to node: attach an agent served by another node to a session this node holds (WebSocket, sealed frames).", m.Service.servePeer),
	}
}

// department resolves the department of the route's :conversation.
func (m *Module) department(c echo.Context, tenantID string) (string, error) {
	conv, err := m.Service.conversation(c.Request().Context(), tenantID, c.Param("conversation"))
	if errors.Is(err, ErrNotFound) {
		return "", api.ErrNotFound
	}
	return conv.Department(), err
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func originOf(c echo.Context) Origin {
	return Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

func (m *Module) request(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	info, err := m.Service.Request(c.Request().Context(), p, c.Param("conversation"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, info)
}

func (m *Module) latest(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	info, err := m.Service.Latest(c.Request().Context(), p, c.Param("conversation"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, info)
}

func (m *Module) end(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if err := m.Service.EndByAgent(c.Request().Context(), p, c.Param("conversation"), c.Param("session"), originOf(c)); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (m *Module) decline(c echo.Context) error {
	err := m.Service.Decline(c.Request().Context(), c.Param("site"), bearer(c), c.Param("conversation"), c.Param("session"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ownOrigin reports whether the request's Origin is Parley's own.
func (m *Module) ownOrigin(c echo.Context) bool {
	o := strings.ToLower(c.Request().Header.Get(echo.HeaderOrigin))
	return o != "" && (o == strings.ToLower(m.PublicOrigin) || o == strings.ToLower(c.Scheme()+"://"+c.Request().Host))
}

var originRE = regexp.MustCompile(`^https?://[a-z0-9.-]+(:[0-9]{1,5})?$`)

// viewer serves the document the workspace replays a shared page in: empty, framed only by
// Parley, and under a policy that runs no script and loads images, styles and fonts only from
// the site's origins.
func (m *Module) viewer(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	conv, err := m.Service.conversation(ctx, p.TenantID, c.Param("conversation"))
	if err != nil {
		return httpError(err)
	}
	site, err := m.Service.sites.Site(ctx, p.TenantID, conv.SiteID)
	if err != nil {
		return httpError(err)
	}
	src := []string{}
	for _, o := range site.Origins() {
		if originRE.MatchString(o) {
			src = append(src, o)
		}
	}
	list := strings.Join(src, " ")
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'none'; img-src "+list+" data:; style-src "+list+
		" 'unsafe-inline'; font-src "+list+" data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, []byte("<!doctype html><html><head><meta charset=\"utf-8\"><title>Shared page</title></head><body></body></html>"))
}

// upgrade turns the request into a WebSocket (the origin was checked by the caller).
func upgrade(c echo.Context, limit int64) (*websocket.Conn, error) {
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := websocket.Accept(c.Response(), c.Request(), &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the Origin (or the node signature) was checked before
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(limit)
	return conn, nil
}

// Close codes of the co-browsing sockets.
const (
	closeEnded        = websocket.StatusCode(4000)
	closeUnauthorized = websocket.StatusCode(4401)
	closeForbidden    = websocket.StatusCode(4403)
	closeNotFound     = websocket.StatusCode(4404)
	closeNotRunning   = websocket.StatusCode(4409)
	closeHello        = websocket.StatusCode(4408)
)

const writeTimeout = 10 * time.Second

func write(ctx context.Context, conn *websocket.Conn, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// visitorHello is the first frame of the visitor's socket.
type visitorHello struct {
	T              string `json:"t"`
	Token          string `json:"token"`
	ConversationID string `json:"conversation_id"`
	SessionID      string `json:"session_id"`
}

func (m *Module) visitorSocket(c echo.Context) error {
	if !m.ownOrigin(c) {
		return errOrigin
	}
	if _, err := m.Service.chatSite(c.Request().Context(), c.Param("site")); err != nil {
		return httpError(err)
	}
	conn, err := upgrade(c, MaxVisitorFrame)
	if err != nil {
		return nil
	}
	siteKey, o := c.Param("site"), originOf(c)
	go m.runVisitor(context.WithoutCancel(c.Request().Context()), conn, siteKey, o)
	return nil
}

func (m *Module) runVisitor(ctx context.Context, conn *websocket.Conn, siteKey string, o Origin) {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	typ, data, err := conn.Read(hctx)
	cancel()
	if err != nil || typ != websocket.MessageText {
		_ = conn.Close(closeHello, "hello required")
		return
	}
	var h visitorHello
	if err := strictJSON(data, &h); err != nil || h.T != "hello" {
		_ = conn.Close(closeHello, "hello required")
		return
	}
	l, err := m.Service.StartVisitor(ctx, siteKey, h.Token, h.ConversationID, h.SessionID, o)
	if err != nil {
		code, reason := closeOf(err)
		_ = conn.Close(code, reason)
		return
	}
	started := marshal(map[string]any{"t": "started", "session_id": l.id, "input_allowlist": l.allowlist})
	if err := write(ctx, conn, started); err != nil {
		l.End(ctx, ReasonVisitorLeft)
		_ = conn.CloseNow()
		return
	}
	go func() {
		for {
			select {
			case b := <-l.toVisitor:
				if write(ctx, conn, b) != nil {
					l.End(ctx, ReasonVisitorLeft)
					return
				}
			case <-l.done:
				_ = write(ctx, conn, marshal(map[string]string{"t": "end", "reason": l.Reason()}))
				_ = conn.Close(websocket.StatusNormalClosure, l.Reason())
				return
			}
		}
	}()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			l.End(ctx, ReasonVisitorLeft)
			_ = conn.CloseNow()
			return
		}
		if typ != websocket.MessageText {
			l.End(ctx, ReasonLimit)
			return
		}
		l.FromVisitor(ctx, data)
	}
}

func closeOf(err error) (websocket.StatusCode, string) {
	switch {
	case errors.Is(err, visitor.ErrUnauthenticated):
		return closeUnauthorized, "unauthenticated"
	case errors.Is(err, ErrNotFound), errors.Is(err, chat.ErrNotFound):
		return closeNotFound, "not_found"
	case errors.Is(err, ErrForbidden):
		return closeForbidden, "forbidden"
	case errors.Is(err, ErrClosed), errors.Is(err, ErrEnded), errors.Is(err, ErrDisabled):
		return closeNotRunning, "not_running"
	}
	return websocket.StatusInternalError, "internal_error"
}

func (m *Module) agentSocket(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if !m.ownOrigin(c) {
		return errOrigin
	}
	ctx := c.Request().Context()
	convID, id := c.Param("conversation"), c.Param("session")
	conv, err := m.Service.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return httpError(err)
	}
	r, err := m.Service.row(ctx, p.TenantID, convID, id)
	if err != nil {
		return httpError(err)
	}
	if r.AgentID != p.UserID {
		return errNotYours
	}
	if r.Status != statusActive {
		return errClosed
	}
	control := m.Allowed != nil && m.Allowed(c, PermControl, conv.Department())
	if r.HolderNode == m.Service.instance {
		g, err := m.Service.AttachAgent(p.TenantID, convID, id, p.UserID, control)
		if err != nil {
			return httpError(err)
		}
		conn, err := upgrade(c, MaxAgentFrame)
		if err != nil {
			g.Detach()
			return nil
		}
		go pumpLocal(context.WithoutCancel(ctx), conn, g)
		return nil
	}
	link, err := m.Service.dial(ctx, r, p.UserID, control)
	if err != nil {
		return httpError(err)
	}
	conn, err := upgrade(c, MaxAgentFrame)
	if err != nil {
		link.close()
		return nil
	}
	go pumpRemote(context.WithoutCancel(ctx), conn, link)
	return nil
}

// pumpLocal runs an agent's socket on a leg of a session this node holds.
func pumpLocal(ctx context.Context, conn *websocket.Conn, g *Leg) {
	go func() {
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				g.Detach()
				return
			}
			if typ == websocket.MessageText {
				g.Send(ctx, data)
			}
		}
	}()
	for {
		select {
		case b := <-g.out:
			if write(ctx, conn, b) != nil {
				g.Detach()
				_ = conn.CloseNow()
				return
			}
		case <-g.gone:
			_ = conn.Close(closeEnded, "replaced")
			return
		case <-g.s.done:
		drain:
			for {
				select {
				case b := <-g.out:
					_ = write(ctx, conn, b)
				default:
					break drain
				}
			}
			_ = conn.Close(websocket.StatusNormalClosure, "ended")
			return
		}
	}
}

func (m *Module) getSettings(c echo.Context) error {
	_, set, err := m.siteSettings(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (m *Module) putSettings(c echo.Context) error {
	p, site, err := m.ownSite(c)
	if err != nil {
		return err
	}
	var in Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if in.InputAllowlist == nil {
		in.InputAllowlist = []string{}
	}
	if err := m.Service.SetSiteSettings(c.Request().Context(), p.UserID, site, in, originOf(c)); err != nil {
		return httpError(err)
	}
	return m.getSettings(c)
}

// ownSite is the signed-in user and the site of the path, in their organisation.
func (m *Module) ownSite(c echo.Context) (*api.Principal, tenant.Site, error) {
	p, err := principal(c)
	if err != nil {
		return nil, tenant.Site{}, err
	}
	site, err := m.site(c, p)
	return p, site, err
}

// siteSettings is ownSite with the site's co-browsing settings.
func (m *Module) siteSettings(c echo.Context) (tenant.Site, Settings, error) {
	p, site, err := m.ownSite(c)
	if err != nil {
		return site, Settings{}, err
	}
	set, err := m.Service.SiteSettings(c.Request().Context(), p.TenantID, site.ID)
	return site, set, err
}

func (m *Module) site(c echo.Context, p *api.Principal) (tenant.Site, error) {
	site, err := m.Service.sites.Site(c.Request().Context(), p.TenantID, c.Param("site"))
	if err != nil {
		if errors.Is(err, tenant.ErrNotFound) {
			return site, api.ErrNotFound
		}
		return site, err
	}
	return site, nil
}

// settingsPageData is the settings page's data.
type settingsPageData struct {
	CSRF      string
	Site      tenant.Site
	Settings  Settings
	Allowlist string
	Notice    string
	Error     string
	Field     string
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) settingsPage(c echo.Context) error {
	site, set, err := m.siteSettings(c)
	if err != nil {
		return err
	}
	d := settingsPageData{CSRF: m.csrf(c), Site: site, Settings: set, Allowlist: strings.Join(set.InputAllowlist, "\n")}
	if c.QueryParam("notice") == "saved" {
		d.Notice = "The co-browsing settings were saved."
	}
	return m.Pages.Render(c, http.StatusOK, "cobrowse_settings.html", d)
}

func (m *Module) settingsForm(c echo.Context) error {
	p, site, err := m.ownSite(c)
	if err != nil {
		return err
	}
	in := Settings{Enabled: c.FormValue("enabled") == "on", InputAllowlist: strings.Fields(c.FormValue("input_allowlist"))}
	if in.InputAllowlist == nil {
		in.InputAllowlist = []string{}
	}
	// An idle time that is not a number is refused before anything is saved.
	if in.IdleSeconds, err = strconv.Atoi(strings.TrimSpace(c.FormValue("idle_seconds"))); err != nil {
		err = &InvalidError{"idle_seconds", "A whole number of seconds."}
	} else {
		err = m.Service.SetSiteSettings(c.Request().Context(), p.UserID, site, in, originOf(c))
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		d := settingsPageData{CSRF: m.csrf(c), Site: site, Settings: in, Allowlist: c.FormValue("input_allowlist"), Error: ie.Message, Field: ie.Field}
		return m.Pages.Render(c, http.StatusUnprocessableEntity, "cobrowse_settings.html", d)
	}
	if err != nil {
		return httpError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/sites/"+site.ID+"/cobrowse?notice=saved")
}

// Checks lists the permissions co-browsing checks outside the route table: cobrowse.control,
// when the agent's socket attaches (app/permissions_test.go keeps the catalogue true with it).
func Checks() []string { return []string{PermControl} }
