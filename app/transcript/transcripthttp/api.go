package transcripthttp

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/transcript"
)

func (m *Module) listAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f, _, err := parseFilter(c)
	if err != nil {
		return err
	}
	list, err := m.Service.List(c.Request().Context(), p, f, originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, list)
}

type openRequest struct {
	Reason string `json:"reason"`
}

func (m *Module) openAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in openRequest
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	t, err := m.Service.Open(c.Request().Context(), p, c.Param("conversation"), in.Reason, originOf(c))
	if err != nil {
		return httpError(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, t)
}

type noteRequest struct {
	Body string `json:"body"`
}

func (m *Module) noteAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	n, err := m.Service.AddNote(c.Request().Context(), p, c.Param("conversation"), in.Body, originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, n)
}

type tagRequest struct {
	Tag string `json:"tag"`
}

type tagsResponse struct {
	Tags    []string `json:"tags"`
	Changed bool     `json:"changed"`
}

func (m *Module) tagAPI(c echo.Context) error {
	var in tagRequest
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	return m.tagChange(c, in.Tag, true)
}

func (m *Module) untagAPI(c echo.Context) error {
	// A tag with a space arrives escaped ("billing%20dispute"); a tag never holds '%', so
	// unescaping an already unescaped value changes nothing.
	tag, err := url.PathUnescape(c.Param("tag"))
	if err != nil {
		return api.ErrInvalidRequest.WithField("tag")
	}
	return m.tagChange(c, tag, false)
}

func (m *Module) tagChange(c echo.Context, tag string, add bool) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx, id := c.Request().Context(), c.Param("conversation")
	var changed bool
	if add {
		changed, err = m.Service.AddTag(ctx, p, id, tag, originOf(c))
	} else {
		changed, err = m.Service.RemoveTag(ctx, p, id, tag, originOf(c))
	}
	if err != nil {
		return httpError(err)
	}
	tags, err := m.Service.Tags(ctx, p.TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagsResponse{Tags: tags, Changed: changed})
}

func (m *Module) getSettingsAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	set, err := m.Service.Settings(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (m *Module) putSettingsAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in transcript.Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if _, err := m.Service.SetSettings(c.Request().Context(), p, in, originOf(c)); err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, in)
}
