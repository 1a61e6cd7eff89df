package chathttp

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// readUpload reads a raw upload body up to max bytes; more is ErrFileTooLarge.
func readUpload(c echo.Context, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, max+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, chat.ErrFileTooLarge
		}
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, chat.ErrFileTooLarge
	}
	return b, nil
}

// upload stores the request's body as a file of conv sent by a: refused before the body is read
// when the site does not allow files, and beyond the site's size limit.
func (m *Module) upload(c echo.Context, conv chat.Conversation, a chat.Actor) error {
	set, err := m.chat.SiteSettings(c.Request().Context(), conv.SiteID)
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
	ev, err := m.chat.Upload(c.Request().Context(), conv, a, c.RealIP(), c.QueryParam("name"), data)
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusCreated, ev)
}

func (m *Module) visitorUpload(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	return m.upload(c, conv, chat.Actor{Kind: chat.SenderVisitor, ID: v.ID, SiteID: conv.SiteID})
}

// sendFile answers a download as an attachment the browser will not render or sniff.
func sendFile(c echo.Context, d chat.Download) error {
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
	d, err := m.chat.DownloadFile(c.Request().Context(), conv, chat.Actor{Kind: chat.SenderVisitor, ID: v.ID}, nil, id, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return sendFile(c, d)
}

// agentConversation resolves :conversation in the agent's tenant.
func (m *Module) agentConversation(c echo.Context) (*api.Principal, chat.Conversation, error) {
	p, err := principal(c)
	if err != nil {
		return nil, chat.Conversation{}, err
	}
	conv, err := m.chat.Lookup(c.Request().Context(), p.TenantID, c.Param("conversation"))
	if err != nil {
		return p, conv, httpError(c, err)
	}
	return p, conv, nil
}

func (m *Module) agentUpload(c echo.Context) error {
	p, conv, err := m.agentConversation(c)
	if err != nil {
		return err
	}
	return m.upload(c, conv, chat.Actor{Kind: chat.SenderAgent, ID: p.UserID, Name: m.chat.AgentName(c.Request().Context(), p)})
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
	d, err := m.chat.DownloadFile(c.Request().Context(), conv, chat.Actor{Kind: chat.SenderAgent, ID: p.UserID}, p, id, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return sendFile(c, d)
}
