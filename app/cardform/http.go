package cardform

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/web"
)

// Permissions the module's routes declare.
const (
	PermRequest  = "chat.request_card"
	PermViewFull = "card.view_full"
)

// Module serves the secure card form: the agent's API, the visitor's form page and API, and the
// node-to-node endpoint.
type Module struct {
	Service *Service
	Pages   *web.Pages
}

var _ server.Module = (*Module)(nil)

// Route prefixes.
const (
	agentBase   = "/api/v1/chat/conversations/:conversation/card-forms"
	visitorBase = "/api/v1/widget/sites/:site/chats/:conversation/card-forms/:request"
)

// The module's API errors.
var (
	errNotYours = api.New(http.StatusForbidden, "forbidden", "Only the agent handling this chat, who asked for the card, can do that.")
	errEnded    = api.New(http.StatusConflict, "conversation_ended", "This conversation has ended.")
	errExpired  = api.New(http.StatusGone, "card_form_expired", "This form has expired; ask the agent for a new one.")
	errUsed     = api.New(http.StatusConflict, "card_form_used", "This form was already submitted.")
	errPurged   = api.New(http.StatusGone, "card_data_purged", "The card data is no longer held: it was marked done, its time ran out or the chat ended.")
	errTooMany  = api.New(http.StatusConflict, "too_many_card_forms", "This chat already has forms waiting for the visitor.")
	errHolder   = api.New(http.StatusServiceUnavailable, "card_data_unavailable", "The server holding the card data cannot be reached; try again shortly.")
	errInvalid  = api.New(http.StatusBadRequest, "invalid_card", "The card details are not valid.")
	errTokenize = api.New(http.StatusBadGateway, "tokenization_failed", "The card could not be passed to the payment service; try again.")
	errFull     = api.New(http.StatusServiceUnavailable, "unavailable", "The form cannot be taken right now; try again shortly.")
	errVisitor  = api.New(http.StatusUnauthorized, "visitor_unauthenticated", "Your chat session is not valid; reload the page.")
)

// httpError maps a service error to the API error handlers return. Causes never hold card data.
func httpError(err error) error {
	var fe *secureform.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return errInvalid.WithField(fe.Field).WithMessage(fe.Message)
	case errors.Is(err, ErrNotFound), errors.Is(err, chat.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, ErrForbidden):
		return errNotYours
	case errors.Is(err, ErrEnded):
		return errEnded
	case errors.Is(err, ErrExpired):
		return errExpired
	case errors.Is(err, ErrUsed), errors.Is(err, secureform.ErrExists):
		return errUsed
	case errors.Is(err, ErrPurged):
		return errPurged
	case errors.Is(err, ErrTooMany):
		return errTooMany
	case errors.Is(err, ErrUnavailable):
		return errHolder.Wrap(err)
	case errors.Is(err, secureform.ErrTokenizer):
		return errTokenize.Wrap(err)
	case errors.Is(err, secureform.ErrFull):
		return errFull.Wrap(err)
	case errors.Is(err, visitor.ErrUnauthenticated):
		return errVisitor
	}
	return err
}

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	agent := func(method, path, perm, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm, Scope: server.ScopeDepartment,
			API: true, Summary: summary, Handler: h, Department: m.department}
	}
	pub := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Public, API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h}
	}
	return []server.Route{
		agent(http.MethodPost, agentBase, PermRequest, "Ask the visitor of the agent's chat for card data through the secure form (announced in the chat).", m.request),
		agent(http.MethodGet, agentBase, PermRequest, "The chat's card form requests and their states, without card data.", m.list),
		agent(http.MethodGet, agentBase+"/:request", PermRequest, "A card form request with the card masked while it is held (requesting agent only; audited card.view).", m.view),
		agent(http.MethodGet, agentBase+"/:request/full", PermViewFull, "The full card number, expiry and code (requesting agent only; audited card.view_full).", m.full),
		agent(http.MethodPost, agentBase+"/:request/done", PermRequest, "Mark the card data done: it is wiped from memory everywhere (audited card.purge).", m.done),
		pub(http.MethodPost, visitorBase+"/open", "Visitor: open a requested card form; answers the form page URL with a single-use token in its fragment.", m.open),
		pub(http.MethodPost, visitorBase, "Visitor: submit the secure card form (Authorization: Bearer form token); the data is held in memory only.", m.submit),
		pub(http.MethodGet, FormPath, "The secure card form page (framed only by Parley and the site's origins).", m.formPage),
		// Authenticated by an HMAC signature under the tenant's node-to-node secret, checked first.
		pub(http.MethodPost, peerPath, "Node to node: a signed request for card data this node holds; the answer is sealed.", m.Service.servePeer),
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

func originOf(c echo.Context) Origin {
	return Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func (m *Module) request(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	r, err := m.Service.Request(c.Request().Context(), p, c.Param("conversation"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, r)
}

func (m *Module) list(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	rs, err := m.Service.List(c.Request().Context(), p, c.Param("conversation"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string][]Request{"requests": rs})
}

func (m *Module) view(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	r, err := m.Service.View(c.Request().Context(), p, c.Param("conversation"), c.Param("request"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, r)
}

// full writes {"request": Request, "card": {"brand","number","expiry","cvc","name"}}; the card
// goes from a zeroed buffer straight to the response.
func (m *Module) full(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	r, rev, err := m.Service.Reveal(c.Request().Context(), p, c.Param("conversation"), c.Param("request"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	defer rev.Wipe()
	head, err := jsonMarshal(r)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, `{"request":`+string(head)+`,"card":`); err != nil {
		return nil
	}
	if err := rev.WriteJSON(w); err != nil {
		return nil
	}
	_, _ = io.WriteString(w, "}\n")
	return nil
}

func (m *Module) done(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	r, err := m.Service.Done(c.Request().Context(), p, c.Param("conversation"), c.Param("request"), originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, r)
}

// bearer returns the token of the Authorization header.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (m *Module) open(c echo.Context) error {
	o, err := m.Service.Open(c.Request().Context(), c.Param("site"), bearer(c), c.Param("conversation"), c.Param("request"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, o)
}

func (m *Module) submit(c echo.Context) error {
	var arr [secureform.MaxBodyBytes + 1]byte
	n, err := io.ReadFull(c.Request().Body, arr[:])
	defer clear(arr[:])
	switch {
	case n > secureform.MaxBodyBytes:
		return api.ErrBodyTooLarge
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return api.ErrInvalidRequest
	}
	rec, err := m.Service.Submit(c.Request().Context(), c.Param("site"), c.Param("conversation"), c.Param("request"),
		bearer(c), arr[:n], originOf(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, rec)
}

// formPage serves the form. It is framed only by Parley's own pages and the site's origins, runs
// only Parley's own script, and cannot submit a form anywhere (the script posts the card with
// fetch; without it nothing is sent).
func (m *Module) formPage(c echo.Context) error {
	site, err := m.Service.sites.SiteByKey(c.Request().Context(), c.QueryParam("site"))
	if errors.Is(err, tenant.ErrNotFound) {
		return api.ErrNotFound
	}
	if err != nil {
		return err
	}
	ancestors := "'self'"
	for _, o := range site.Origins() {
		ancestors += " " + o
	}
	h := c.Response().Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "+
		"form-action 'none'; base-uri 'none'; object-src 'none'; frame-ancestors "+ancestors)
	h.Set("Referrer-Policy", "no-referrer")
	return m.Pages.Render(c, http.StatusOK, "card-form.html", nil)
}
