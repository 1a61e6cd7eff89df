package retentionhttp

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/retention"
)

// The transcript page's buttons (the page itself is the transcript module's): delete, place a
// hold, lift the hold. Errors are rendered by the one error renderer; success redirects.

func (m *Module) deleteTranscriptForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("conversation")
	if _, err := m.visible(c, p, id); err != nil {
		return err
	}
	if err := m.Service.DeleteConversation(c.Request().Context(), actor(c, p), id); err != nil {
		return apiError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/transcripts?notice=transcript_deleted")
}

func (m *Module) holdTranscriptForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("conversation")
	if _, err := m.Service.PlaceHold(c.Request().Context(), actor(c, p), retention.HoldConversation, id, c.FormValue("reason")); err != nil {
		return apiError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/transcripts/"+url.PathEscape(id)+"?notice=hold_placed")
}

func (m *Module) releaseTranscriptForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("conversation")
	ctx := c.Request().Context()
	if _, err := m.Service.Conversation(ctx, p.TenantID, id); err != nil {
		return apiError(err)
	}
	h, err := m.Service.HoldOn(ctx, p.TenantID, retention.HoldConversation, id)
	if errors.Is(err, retention.ErrNotFound) {
		return errNotHeld
	}
	if err != nil {
		return apiError(err)
	}
	if _, err := m.Service.ReleaseHold(ctx, actor(c, p), h.ID, c.FormValue("reason")); err != nil {
		return apiError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/transcripts/"+url.PathEscape(id)+"?notice=hold_released")
}
