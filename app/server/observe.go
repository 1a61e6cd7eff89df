package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// RequestObserver is told of every request the server answered, for the node's monitoring: the
// method, the route's template (its declared path, such as /api/v1/chat/conversations/:id —
// never the request's own path), the status and how long the answer took. A WebSocket's status
// is 101 and its time the socket's whole life.
type RequestObserver interface {
	ObserveRequest(method, route string, status int, took time.Duration)
}

// RouteUnmatched is the route of a request no route matched (404, 405): its path is the
// client's and is never published.
const RouteUnmatched = "unmatched"

// MethodOther is the method of a request whose method no route declares.
const MethodOther = "OTHER"

// observer hands each request to a RequestObserver with bounded labels: only declared route
// templates and methods pass, everything else is RouteUnmatched or MethodOther.
type observer struct {
	to      RequestObserver
	routes  map[string]bool
	methods map[string]bool
}

func newObserver(to RequestObserver) *observer {
	return &observer{to: to, routes: map[string]bool{}, methods: map[string]bool{http.MethodHead: true}}
}

// add declares a route; call it for every route before the server serves.
func (o *observer) add(r Route) {
	o.routes[r.Path] = true
	o.methods[r.Method] = true
}

func (o *observer) observe(c echo.Context, status int, took time.Duration) {
	if o == nil || o.to == nil {
		return
	}
	route := c.Path()
	if !o.routes[route] {
		route = RouteUnmatched
	}
	method := c.Request().Method
	if !o.methods[method] {
		method = MethodOther
	}
	o.to.ObserveRequest(method, route, status, took)
}
