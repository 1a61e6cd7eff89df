package chathttp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/migrations"
)

// Permissions of the console's chat pages.
const (
	permAccept   = "chat.accept"
	permMonitor  = "chat.monitor"
	permTransfer = "chat.transfer"
	permRouting  = "routing.manage"
)

// Widget and console route prefixes.
const (
	widgetBase = "/api/v1/widget/sites/:site"
	chatBase   = "/api/v1/chat"
)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	pub := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Public, API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h}
	}
	auth := func(method, path, perm string, scope server.Scope, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm, Scope: scope, API: true, Summary: summary, Handler: h}
	}
	return []server.Route{
		pub(http.MethodGet, widgetBase+"/config", "Widget configuration of a site (texts, appearance, cookie mode, online state, pre-chat form).", m.config),
		pub(http.MethodPost, widgetBase+"/pageviews", "Report a page view; identifies (or creates) the visitor and returns their token.", m.pageView),
		pub(http.MethodGet, widgetBase+"/chats/current", "The visitor's open conversation on the site.", m.currentChat),
		pub(http.MethodPost, widgetBase+"/chats", "Start a conversation with the pre-chat survey.", m.startChat),
		pub(http.MethodGet, widgetBase+"/ws", "Visitor WebSocket (docs/chat-protocol.md).", m.visitorSocket),
		pub(http.MethodGet, widgetBase+"/chats/:conversation/events", "Long poll: events after a seq.", m.pollEvents),
		pub(http.MethodPost, widgetBase+"/chats/:conversation/messages", "Long poll: send a message (idempotent by key).", m.postMessage),
		pub(http.MethodPost, widgetBase+"/chats/:conversation/typing", "Long poll: typing signal.", m.postTyping),
		pub(http.MethodPost, widgetBase+"/chats/:conversation/read", "Long poll: read receipt.", m.postRead),
		pub(http.MethodPost, widgetBase+"/chats/:conversation/end", "End the conversation.", m.endChat),
		pub(http.MethodPost, widgetBase+"/chats/:conversation/survey", "Post-chat survey.", m.survey),
		upload(pub(http.MethodPost, widgetBase+"/chats/:conversation/files", "Send a file (when the site allows files).", m.visitorUpload)),
		pub(http.MethodGet, widgetBase+"/chats/:conversation/files/:file", "Download a file of the conversation.", m.visitorDownload),
		pub(http.MethodPost, widgetBase+"/offline", "Leave an offline message.", m.offline),
		pub(http.MethodGet, widgetBase+"/invitation", "The visitor's open invitation to chat, or null (the widget polls it).", m.pendingInvitation),
		pub(http.MethodPost, widgetBase+"/invitations/:invitation/accept", "Accept an invitation: the conversation starts with the inviting agent.", m.answerInvitation(true)),
		pub(http.MethodPost, widgetBase+"/invitations/:invitation/decline", "Decline an invitation.", m.answerInvitation(false)),
		pub(http.MethodGet, "/widget.js", "The widget loader script.", m.loader),
		pub(http.MethodGet, "/widget/v1/frame", "The chat iframe page (framed only by the site's origins).", m.frame),
		pub(http.MethodGet, "/widget/v1/:file", "Widget assets (versioned path for Subresource Integrity).", m.asset),

		// The agent socket serves every department the user may accept or supervise chats in, so
		// the route needs only a session; the handler refuses (403, before the upgrade) a user
		// without chat.accept, chat.monitor, chat.join or chat.whisper in any department.
		{Method: http.MethodGet, Path: chatBase + "/agent/ws", Access: server.Authenticated, API: true,
			Summary: "Agent WebSocket: queue, offers, conversations and supervision (needs chat.accept, chat.monitor, chat.join or chat.whisper in a department; docs/chat-protocol.md).", Handler: m.agentSocket},
		// The console's chat pages serve every department where the user holds their permission:
		// the guard checks it where the user holds it, or in the ?department= they name (heldIn).
		{Method: http.MethodGet, Path: "/workspace", Access: server.Authenticated, Permission: permAccept, Scope: server.ScopeDepartment,
			Department: m.heldIn(permAccept), Summary: "The agent workspace: queue, offers and conversations over the agent socket.", Handler: m.workspace},
		{Method: http.MethodGet, Path: "/live", Access: server.Authenticated, Permission: permMonitor, Scope: server.ScopeDepartment,
			Department: m.heldIn(permMonitor), Summary: "The live chats (waiting and in progress) of the departments the user supervises, or of ?department=.", Handler: m.live},
		{Method: http.MethodGet, Path: chatBase + "/live", Access: server.Authenticated, Permission: permMonitor, Scope: server.ScopeDepartment, API: true,
			Department: m.heldIn(permMonitor), Summary: "The open chats of the departments the user supervises, with agent and wait (the workspace's supervisor view).", Handler: m.liveJSON},
		inConversation(auth(http.MethodGet, chatBase+"/conversations/:conversation/visitor", permAccept, server.ScopeDepartment, "The visitor panel of a conversation: name, pre-chat answers, page trail, browser, survey, earlier chats (e-mail masked without visitor.view_pii).", m.conversationVisitor), m),
		upload(inConversation(auth(http.MethodPost, chatBase+"/conversations/:conversation/files", "chat.accept", server.ScopeDepartment, "Send a file into a conversation the agent handles.", m.agentUpload), m)),
		inConversation(auth(http.MethodGet, chatBase+"/conversations/:conversation/files/:file", "chat.accept", server.ScopeDepartment, "Download a file of a conversation (audited).", m.agentDownload), m),
		auth(http.MethodGet, "/api/v1/team/threads", permAgentChat, server.ScopeTenant, "The user's agent-to-agent threads, most recent first.", m.teamThreads),
		auth(http.MethodGet, "/api/v1/team/threads/:thread/messages", permAgentChat, server.ScopeTenant, "Messages of a thread the user is in, after a seq (audited).", m.teamMessages),
		auth(http.MethodGet, "/api/v1/team/colleagues", permAgentChat, server.ScopeTenant, "The organisation's console users one may chat with, and whether they are online.", m.teamColleagues),
		auth(http.MethodGet, chatBase+"/bans", "ban.manage", server.ScopeTenant, "The visitor ban list.", m.listBans),
		auth(http.MethodPost, chatBase+"/bans", "ban.manage", server.ScopeTenant, "Ban an IP, network or visitor.", m.addBan),
		auth(http.MethodDelete, chatBase+"/bans/:ban", "ban.manage", server.ScopeTenant, "Lift a ban.", m.removeBan),
		page(auth(http.MethodGet, "/bans", "ban.manage", server.ScopeTenant, "Ban list page: active and expired bans, add and lift.", m.bansPage)),
		page(auth(http.MethodPost, "/bans", "ban.manage", server.ScopeTenant, "Ban an IP, network or visitor (form).", m.addBanForm)),
		page(auth(http.MethodPost, "/bans/:ban/delete", "ban.manage", server.ScopeTenant, "Lift a ban (form).", m.liftBanForm)),
		auth(http.MethodGet, chatBase+"/sites/:site/settings", "site.manage", server.ScopeTenant, "A site's widget and chat settings.", m.getSettings),
		auth(http.MethodPut, chatBase+"/sites/:site/settings", "site.manage", server.ScopeTenant, "Change a site's widget and chat settings.", m.putSettings),
		{Method: http.MethodGet, Path: chatBase + "/agents", Access: server.Authenticated, Permission: permTransfer, Scope: server.ScopeDepartment,
			Department: m.heldIn(permTransfer), API: true,
			Summary: "Who a chat can be transferred to: the online agents and the departments where the user holds chat.transfer.", Handler: m.roster},
		auth(http.MethodGet, chatBase+"/routing", permRouting, server.ScopeTenant, "Routing: the settings, each department's and each agent's routing.", m.getRouting),
		auth(http.MethodPut, chatBase+"/routing/settings", permRouting, server.ScopeTenant, "Change the routing settings (idle minutes, default capacity).", m.putRoutingSettings),
		auth(http.MethodPut, chatBase+"/routing/departments/:department", permRouting, server.ScopeTenant, "Change a department's routing (mode, capacity, offer timeout, priority, skills).", m.putDepartmentRouting),
		auth(http.MethodPut, chatBase+"/routing/agents/:user", permRouting, server.ScopeTenant, "Change an agent's capacity and skills.", m.putAgentRouting),
		page(auth(http.MethodGet, "/routing", permRouting, server.ScopeTenant, "Routing page: settings, departments' and agents' routing.", m.routingPage)),
		page(auth(http.MethodPost, "/routing/settings", permRouting, server.ScopeTenant, "Change the routing settings (form).", m.routingSettingsForm)),
		page(auth(http.MethodPost, "/routing/departments/:department", permRouting, server.ScopeTenant, "Change a department's routing (form).", m.departmentRoutingForm)),
		page(auth(http.MethodPost, "/routing/agents/:user", permRouting, server.ScopeTenant, "Change an agent's capacity and skills (form).", m.agentRoutingForm)),
		auth(http.MethodGet, chatBase+"/offline-messages", "offline.view.all", server.ScopeTenant, "Offline messages of every department.", m.listOffline),
		auth(http.MethodGet, chatBase+"/departments/:department/offline-messages", "offline.view.department", server.ScopeDepartment, "Offline messages of one department.", m.listOffline),
		// The offline-message inbox serves every department where the user reads offline
		// messages (or the ?department= it names); the engine narrows each message further.
		{Method: http.MethodGet, Path: "/offline", Access: server.Authenticated, Permission: permOfflineView, Scope: server.ScopeDepartment,
			Department: m.heldIn(permOfflineView), Summary: "Offline-message inbox: newest first, new or handled (?status=), no content opened.", Handler: m.offlinePage},
		{Method: http.MethodGet, Path: "/offline/:message", Access: server.Authenticated, Permission: permOfflineView, Scope: server.ScopeDepartment,
			Department: m.heldIn(permOfflineView), Summary: "One offline message opened (audited as a view of the visitor's personal data).", Handler: m.offlineMessagePage},
		{Method: http.MethodPost, Path: "/offline/:message/handled", Access: server.Authenticated, Permission: permOfflineReply, Scope: server.ScopeDepartment,
			Department: m.heldIn(permOfflineReply), Summary: "Mark an offline message handled, with a note of the answer given (form).", Handler: m.handleOfflineForm},
	}
}

// page marks a console page route (not part of the JSON API).
func page(r server.Route) server.Route {
	r.API = false
	return r
}

// upload lets a file upload route take bodies up to the largest file size a site may allow; the
// handler then applies the site's own limit (file_too_large).
func upload(r server.Route) server.Route {
	r.MaxBodyBytes = chat.MaxFileBytes
	return r
}

// inConversation checks a route's permission in the department of the :conversation it names.
func inConversation(r server.Route, m *Module) server.Route {
	r.Department = func(c echo.Context, tenantID string) (string, error) {
		conv, err := m.chat.Lookup(c.Request().Context(), tenantID, c.Param("conversation"))
		if errors.Is(err, chat.ErrNotFound) {
			return "", api.ErrNotFound
		}
		return conv.Department(), err
	}
	return r
}

// site resolves the :site key of a widget route (or ?site= of the frame): an unknown, malformed
// or disabled key is 404.
func (m *Module) site(c echo.Context) (tenant.Site, error) {
	key := c.Param("site")
	if key == "" {
		key = c.QueryParam("site")
	}
	site, err := m.chat.SiteByKey(c.Request().Context(), key)
	if errors.Is(err, chat.ErrNotFound) {
		return tenant.Site{}, api.ErrNotFound
	}
	if err != nil {
		return tenant.Site{}, err
	}
	// From here on the request works in the site's tenant, and the database shows it nothing else.
	r := c.Request()
	c.SetRequest(r.WithContext(migrations.WithTenant(r.Context(), site.TenantID)))
	return site, nil
}

// bearer returns the visitor token of the Authorization header.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// visitorOf authenticates the visitor of a widget request.
func (m *Module) visitorOf(c echo.Context, site tenant.Site) (visitor.Visitor, error) {
	v, err := m.chat.AuthenticateVisitor(c.Request().Context(), site, bearer(c))
	if errors.Is(err, visitor.ErrUnauthenticated) {
		return visitor.Visitor{}, errVisitorUnauthenticated
	}
	return v, err
}

// visitorConversation resolves :conversation for the visitor: another visitor's, another site's
// or a malformed id is 404.
func (m *Module) visitorConversation(c echo.Context) (tenant.Site, visitor.Visitor, chat.Conversation, error) {
	site, err := m.site(c)
	if err != nil {
		return site, visitor.Visitor{}, chat.Conversation{}, err
	}
	v, err := m.visitorOf(c, site)
	if err != nil {
		return site, v, chat.Conversation{}, err
	}
	conv, err := m.chat.Lookup(c.Request().Context(), site.TenantID, c.Param("conversation"))
	if err != nil {
		return site, v, conv, httpError(c, err)
	}
	if conv.VisitorID != v.ID || conv.SiteID != site.ID {
		return site, v, conv, api.ErrNotFound
	}
	return site, v, conv, nil
}

func originOf(c echo.Context) chat.Origin {
	return chat.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}
