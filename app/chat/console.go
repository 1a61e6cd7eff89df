package chat

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
)

// readUpload reads a raw upload body up to max bytes; more is ErrFileTooLarge.
func readUpload(c echo.Context, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, max+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ErrFileTooLarge
		}
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrFileTooLarge
	}
	return b, nil
}

func (m *Module) upload(c echo.Context, conv Conversation, a Actor) error {
	s := m.Service
	set, err := s.store.settings(c.Request().Context(), conv.SiteID)
	if err != nil {
		return err
	}
	if !set.FileTransfer {
		return errFilesDisabled
	}
	data, err := readUpload(c, set.FileMaxBytes)
	if err != nil {
		return httpError(c, err)
	}
	ev, err := s.Upload(c.Request().Context(), conv, a, c.RealIP(), c.QueryParam("name"), data)
	if err != nil {
		return httpError(c, err)
	}
	if a.Kind == SenderVisitor {
		ev = visitorView(ev)
	}
	return c.JSON(http.StatusCreated, ev)
}

func (m *Module) visitorUpload(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	return m.upload(c, conv, Actor{Kind: SenderVisitor, ID: v.ID})
}

// sendFile answers a download as an attachment the browser will not render or sniff.
func sendFile(c echo.Context, d Download) error {
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Name}))
	if h.Get("Content-Disposition") == "" {
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(d.Name))
	}
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, d.Type, d.Data)
}

func (m *Module) visitorDownload(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	id := c.Param("file")
	if !protocol.ValidID(id) {
		return api.ErrNotFound
	}
	d, err := m.Service.DownloadFile(c.Request().Context(), conv, Actor{Kind: SenderVisitor, ID: v.ID}, nil, id, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return sendFile(c, d)
}

// agentConversation resolves :conversation in the agent's tenant.
func (m *Module) agentConversation(c echo.Context) (*api.Principal, Conversation, error) {
	p, err := principal(c)
	if err != nil {
		return nil, Conversation{}, err
	}
	id := c.Param("conversation")
	if !protocol.ValidID(id) {
		return p, Conversation{}, api.ErrNotFound
	}
	conv, err := m.Service.store.conversation(c.Request().Context(), m.Service.db, p.TenantID, id)
	if err != nil {
		return p, conv, httpError(c, err)
	}
	return p, conv, nil
}

func (m *Module) agentName(ctx context.Context, p *api.Principal) string {
	if m.Service.names != nil {
		if n, err := m.Service.names.DisplayName(ctx, p.TenantID, p.UserID); err == nil && n != "" {
			return n
		}
	}
	return "Agent"
}

func (m *Module) agentUpload(c echo.Context) error {
	p, conv, err := m.agentConversation(c)
	if err != nil {
		return err
	}
	return m.upload(c, conv, Actor{Kind: SenderAgent, ID: p.UserID, Name: m.agentName(c.Request().Context(), p)})
}

func (m *Module) agentDownload(c echo.Context) error {
	p, conv, err := m.agentConversation(c)
	if err != nil {
		return err
	}
	id := c.Param("file")
	if !protocol.ValidID(id) {
		return api.ErrNotFound
	}
	d, err := m.Service.DownloadFile(c.Request().Context(), conv, Actor{Kind: SenderAgent, ID: p.UserID}, p, id, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return sendFile(c, d)
}

func (m *Module) listBans(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	bans, err := m.Service.Bans(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	if bans == nil {
		bans = []Ban{}
	}
	return c.JSON(http.StatusOK, map[string]any{"bans": bans})
}

func (m *Module) addBan(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in BanInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	b, err := m.Service.AddBan(c.Request().Context(), p, in, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusCreated, b)
}

func (m *Module) removeBan(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if !protocol.ValidID(c.Param("ban")) {
		return api.ErrNotFound
	}
	if err := m.Service.RemoveBan(c.Request().Context(), p, c.Param("ban"), originOf(c)); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// consoleSite resolves :site (a site id) in the user's tenant.
func (m *Module) consoleSite(c echo.Context, p *api.Principal) (tenant.Site, error) {
	sites, err := m.Service.tenants.Sites(c.Request().Context(), p.TenantID)
	if err != nil {
		return tenant.Site{}, err
	}
	for _, s := range sites {
		if s.ID == c.Param("site") {
			return s, nil
		}
	}
	return tenant.Site{}, api.ErrNotFound
}

func (m *Module) getSettings(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	site, err := m.consoleSite(c, p)
	if err != nil {
		return err
	}
	set, err := m.Service.SiteSettings(c.Request().Context(), site.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (m *Module) putSettings(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	site, err := m.consoleSite(c, p)
	if err != nil {
		return err
	}
	var in Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := m.Service.SetSiteSettings(c.Request().Context(), p, site, in, originOf(c)); err != nil {
		return httpError(c, err)
	}
	set, err := m.Service.SiteSettings(c.Request().Context(), site.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

// SetSiteSettings validates and stores a site's settings (audited as site.update, naming the
// settings that move data out of the gateway).
func (s *Service) SetSiteSettings(ctx context.Context, p *api.Principal, site tenant.Site, in Settings, o Origin) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if in.DefaultDepartmentID != "" {
		if _, err := s.tenants.Department(ctx, site.TenantID, in.DefaultDepartmentID); err != nil {
			return invalid("default_department_id", "No such department.")
		}
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.store.saveSettings(ctx, tx, site, in, s.now().UTC()); err != nil {
			return err
		}
		ev := s.auditEvent(site.TenantID, userActor(p.UserID), audit.ActionSiteUpdate, site.ID, o, map[string]string{
			"change": "chat_settings", "visitor_id_mode": in.CookieMode, "file_transfer": boolText(in.FileTransfer),
			"transcript_email": boolText(in.TranscriptEmail),
		})
		ev.Target = audit.Target{Kind: "site", ID: site.ID}
		return s.audit.Append(ctx, tx, ev)
	})
}

func boolText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (m *Module) listOffline(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	msgs, err := m.Service.OfflineMessages(c.Request().Context(), p, 500)
	if err != nil {
		return httpError(c, err)
	}
	if dept := c.Param("department"); dept != "" {
		kept := msgs[:0]
		for _, msg := range msgs {
			if msg.DepartmentID == dept {
				kept = append(kept, msg)
			}
		}
		msgs = kept
	}
	return c.JSON(http.StatusOK, map[string]any{"offline_messages": msgs})
}
