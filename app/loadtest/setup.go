package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// target is what the load talks to: Parley, or the baseline.
type target interface {
	name() string
	// agentSocket signs agent i in and returns its socket's URL and the upgrade's headers.
	agentSocket(ctx context.Context, i int, acc Account) (string, http.Header, error)
	// startChat starts visitor i's chat and returns the conversation, its socket's URL, the
	// upgrade's headers and the hello frame.
	startChat(ctx context.Context, i int) (convID, url string, header http.Header, hello any, err error)
}

func wsURL(base, path string) string {
	u, err := url.Parse(base + path)
	if err != nil {
		return base + path
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	return u.String()
}

// connectAgents signs every agent in and opens its socket.
func (r *run) connectAgents(ctx context.Context) ([]*agent, error) {
	var out []*agent
	for i, acc := range r.cfg.Agents {
		u, h, err := r.target.agentSocket(ctx, i, acc)
		if err != nil {
			return out, fmt.Errorf("loadtest: agent %s: sign in: %w", acc.Email, err)
		}
		ws, err := dial(ctx, r.cfg.Client, u, h)
		if err != nil {
			return out, fmt.Errorf("loadtest: agent %s: socket: %w", acc.Email, err)
		}
		a := &agent{idx: i, ws: ws}
		out = append(out, a)
		if err := writeJSON(ctx, ws, map[string]any{"type": "hello", "conversations": map[string]int64{}}); err != nil {
			return out, err
		}
		f, err := readFrame(ctx, ws)
		if err != nil || f.Type != "welcome" {
			return out, fmt.Errorf("loadtest: agent %s: no welcome (%v, %q %q)", acc.Email, err, f.Type, f.Code)
		}
		go r.readAgent(ctx, a)
	}
	return out, nil
}

// setupVisitors starts every visitor's chat, opens its socket and has an agent accept it,
// SetupConcurrency at a time.
func (r *run) setupVisitors(ctx context.Context, agents []*agent) ([]*conv, error) {
	convs := make([]*conv, r.cfg.Visitors)
	sem := make(chan struct{}, r.cfg.SetupConcurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		first    error
		done     int
		failures int
	)
	for i := range convs {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := r.setupVisitor(ctx, i, agents[i%len(agents)])
			mu.Lock()
			defer mu.Unlock()
			convs[i] = c
			if err != nil {
				// A visitor the server failed is left out and counted; more than 1% ends the run.
				r.errs.add("setup_" + codeOf(err))
				failures++
				if c != nil {
					c.close()
				}
				convs[i] = nil
				if failures > max(r.cfg.Visitors/100, 0) && first == nil {
					first = fmt.Errorf("loadtest: visitor %d: %w (%d visitors failed)", i, err, failures)
				}
			}
			done++
			if done%max(r.cfg.Visitors/20, 1) == 0 {
				r.progressf("set up %d of %d visitors", done, r.cfg.Visitors)
			}
		}()
	}
	wg.Wait()
	out := convs[:0]
	for _, c := range convs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, first
}

// setupTries bounds the attempts at one visitor's setup step the server throttled.
const setupTries = 20

func (r *run) setupVisitor(ctx context.Context, i int, a *agent) (*conv, error) {
	var (
		id, u string
		h     http.Header
		hello any
		err   error
	)
	for try := 0; ; try++ {
		id, u, h, hello, err = r.target.startChat(ctx, i)
		var he *httpError
		if err == nil || try >= setupTries || !errors.As(err, &he) || he.status != http.StatusTooManyRequests && he.status != http.StatusServiceUnavailable {
			break
		}
		r.errs.add("setup_" + he.code)
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, err
	}
	c := &conv{idx: i, id: id, agent: a, slots: make(chan struct{}, r.cfg.InFlight), dead: make(chan struct{}),
		assigned: make(chan struct{}), msgs: make([]msg, r.cfg.Messages)}
	a.convs.Store(id, c)
	ws, err := dial(ctx, r.cfg.Client, u, h)
	if err != nil {
		return c, err
	}
	c.ws = ws
	if err := writeJSON(ctx, ws, hello); err != nil {
		return c, err
	}
	f, err := readFrame(ctx, ws)
	if err != nil || f.Type != "welcome" {
		return c, fmt.Errorf("no welcome (%v, %q %q)", err, f.Type, f.Code)
	}
	go r.readVisitor(ctx, c)
	if err := writeJSON(ctx, a.ws, map[string]string{"type": "accept", "conversation_id": id}); err != nil {
		return c, err
	}
	select {
	case <-c.assigned:
		return c, nil
	case <-time.After(60 * time.Second):
		return c, errors.New("the agent's accept was not answered within 60 s")
	case <-ctx.Done():
		return c, ctx.Err()
	}
}

// parleyTarget is a Parley server (one node, or several behind a load balancer).
type parleyTarget struct {
	cfg *Config

	once    sync.Once
	prechat map[string]any
	siteErr error
}

func (p *parleyTarget) name() string { return "parley" }

// signIn signs acc in from addr as the console's sign-in page does and returns the session
// cookie and the CSRF token.
func signIn(ctx context.Context, client *http.Client, base, addr string, acc Account) ([]*http.Cookie, string, error) {
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	res, err := request(ctx, client, http.MethodPost, base+"/api/v1/auth/login", addr, http.Header{"Origin": {base}},
		map[string]string{"tenant": acc.Tenant, "email": acc.Email, "password": acc.Password}, &out)
	if err != nil {
		return nil, "", err
	}
	return res.Cookies(), out.CSRF, nil
}

func (p *parleyTarget) agentSocket(ctx context.Context, i int, acc Account) (string, http.Header, error) {
	addr := p.cfg.address(60000 + i)
	cookies, _, err := signIn(ctx, p.cfg.Client, p.cfg.BaseURL, addr, acc)
	if err != nil {
		return "", nil, err
	}
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	h := http.Header{"Origin": {p.cfg.BaseURL}, "X-Forwarded-For": {addr}, "Cookie": {strings.Join(parts, "; ")}}
	return wsURL(p.cfg.BaseURL, "/api/v1/chat/agent/ws"), h, nil
}

// site reads the site's configuration once: what the pre-chat form requires.
func (p *parleyTarget) site(ctx context.Context) (map[string]any, error) {
	p.once.Do(func() {
		var cfg struct {
			Online      bool `json:"online"`
			Departments []struct {
				ID string `json:"id"`
			} `json:"departments"`
			Prechat struct {
				RequireName     bool `json:"require_name"`
				RequireEmail    bool `json:"require_email"`
				ConsentRequired bool `json:"consent_required"`
			} `json:"prechat"`
		}
		_, p.siteErr = request(ctx, p.cfg.Client, http.MethodGet, p.cfg.BaseURL+"/api/v1/widget/sites/"+p.cfg.SiteKey+"/config",
			p.cfg.address(59999), nil, nil, &cfg)
		pre := map[string]any{"name": "Load Visitor", "consent": true}
		if cfg.Prechat.RequireEmail {
			pre["email"] = "visitor@load.example"
		}
		if len(cfg.Departments) > 0 {
			pre["department_id"] = cfg.Departments[0].ID
		}
		p.prechat = pre
	})
	return p.prechat, p.siteErr
}

func (p *parleyTarget) startChat(ctx context.Context, i int) (string, string, http.Header, any, error) {
	pre, err := p.site(ctx)
	if err != nil {
		return "", "", nil, nil, err
	}
	base := p.cfg.BaseURL + "/api/v1/widget/sites/" + p.cfg.SiteKey
	addr := p.cfg.address(i)
	own := http.Header{"Origin": {p.cfg.BaseURL}}
	var ident struct {
		Token string `json:"visitor_token"`
	}
	if _, err := request(ctx, p.cfg.Client, http.MethodPost, base+"/pageviews", addr, own,
		map[string]string{"url": p.cfg.SiteOrigin + "/load", "title": "Load"}, &ident); err != nil {
		return "", "", nil, nil, err
	}
	auth := http.Header{"Origin": {p.cfg.BaseURL}, "Authorization": {"Bearer " + ident.Token}}
	var sum struct {
		ID string `json:"conversation_id"`
	}
	if _, err := request(ctx, p.cfg.Client, http.MethodPost, base+"/chats", addr, auth, pre, &sum); err != nil {
		return "", "", nil, nil, err
	}
	h := http.Header{"Origin": {p.cfg.SiteOrigin}, "X-Forwarded-For": {addr}}
	hello := map[string]any{"type": "hello", "token": ident.Token, "conversation_id": sum.ID, "last_seq": 0}
	return sum.ID, wsURL(base, "/ws"), h, hello, nil
}

// signInStorm signs agents in and out while the messages flow: SignIns times by
// SignInConcurrency workers, each from an address of its own per sign-in, measuring each
// sign-in. Worker w signs in StormAccounts[w % len] only: Parley runs one sign-in attempt per
// account at a time (a second one at once is refused as rate_limited), as a person would.
func (r *run) signInStorm(ctx context.Context) {
	accounts := r.cfg.StormAccounts
	if len(accounts) == 0 {
		accounts = r.cfg.Agents
	}
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range r.cfg.SignIns {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range r.cfg.SignInConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := accounts[w%len(accounts)]
			for i := range next {
				r.signInOut(ctx, acc, r.cfg.address(30000+i))
			}
		}()
	}
	wg.Wait()
}

// signInOut signs acc in from addr and out again, as the console does.
func (r *run) signInOut(ctx context.Context, acc Account, addr string) {
	t0 := time.Now()
	cookies, csrf, err := signIn(ctx, r.cfg.Client, r.cfg.BaseURL, addr, acc)
	if err != nil {
		r.errs.add("sign_in_" + codeOf(err))
		return
	}
	r.signIn.add(time.Since(r.start), time.Since(t0))
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	h := http.Header{"Origin": {r.cfg.BaseURL}, "Cookie": {strings.Join(parts, "; ")}, "X-CSRF-Token": {csrf}}
	if _, err := request(ctx, r.cfg.Client, http.MethodPost, r.cfg.BaseURL+"/api/v1/auth/logout", addr, h, nil, nil); err != nil {
		r.errs.add("sign_out_" + codeOf(err))
	}
}
