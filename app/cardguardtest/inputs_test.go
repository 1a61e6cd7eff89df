package cardguardtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const (
	password   = "Tr1cky-Lantern-Harbour"
	siteOrigin = "https://shop.example"
)

// testPANs are the public test card numbers, as plain digits: nothing stored may hold one of them.
var testPANs = []string{"4111111111111111", "5500000000000004", "340000000000009", "6011000000000004", "3530111333300000"}

// fullWidth writes a number in full-width digits (U+FF10…), as an East Asian keyboard types it.
func fullWidth(digits string) string {
	var b strings.Builder
	for _, r := range digits {
		b.WriteRune(r - '0' + '０')
	}
	return b.String()
}

// cardForms are the ways a person types a card number into a field.
var cardForms = []string{
	"4111111111111111",
	"4111 1111 1111 1111",
	"5500-0000-0000-0004",
	"3400.0000.0000.009",
	"card6011000000000004x",
	"ada.3530111333300000@acme.example",
	"https://pay.example/checkout?pan=4111111111111111&ok=1",
	fullWidth("5500000000000004"),
}

// world is the application under test, served over real HTTP.
type world struct {
	t     *testing.T
	dbURL string
	db    *migrations.DB
	app   *app.App
	srv   *httptest.Server
	logs  *apptest.LogBuffer
	clock *apptest.Clock
}

func newWorld(t *testing.T, d migrations.Dialect) *world {
	t.Helper()
	ctx := context.Background()
	dbURL := migratetest.URL(t, d)
	db, err := migrations.Open(ctx, dbURL, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := migrations.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &apptest.LogBuffer{}
	// The logger `parley serve` uses: JSON lines through the PAN masker, here at debug level.
	masker, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(pan.NewHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), masker))
	clock := apptest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	a, err := app.New(ctx, apptest.Config(t, map[string]string{"PARLEY_DATABASE_URL": dbURL}), db, app.Options{Now: clock.Now, Log: log})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	apptest.CheckOpenAPI(t, a.Server.Echo)
	srv := httptest.NewServer(a.Server.Echo)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
	})
	return &world{t: t, dbURL: dbURL, db: db, app: a, srv: srv, logs: logs, clock: clock}
}

// browser is one HTTP client with its own cookies and, once signed in, its CSRF token.
type browser struct {
	w    *world
	c    *http.Client
	csrf string
	ua   string
}

func (w *world) browser(userAgent string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{w: w, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, ua: userAgent}
}

// do sends a request; body is JSON unless it is url.Values (a form). It returns the status and
// the body.
func (b *browser) do(method, path string, body any, hdr ...string) (int, []byte) {
	b.w.t.Helper()
	var r io.Reader
	ctype := ""
	switch v := body.(type) {
	case nil:
	case url.Values:
		r, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(v)
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, b.w.srv.URL+path, r)
	if err != nil {
		b.w.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	if b.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// errCode returns the error code and field of a JSON error body.
func errCode(body []byte) (code, field string) {
	var e struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code, e.Error.Field
}

// refused expects a 400 card_number_not_allowed naming field.
func (b *browser) refused(what, method, path string, body any, field string) {
	b.w.t.Helper()
	code, out := b.do(method, path, body)
	if c, f := errCode(out); code != http.StatusBadRequest || c != "card_number_not_allowed" || f != field {
		b.w.t.Errorf("%s: %d %s, want 400 card_number_not_allowed on %s", what, code, out, field)
	}
}

// accepted expects a 2xx answer (a value masked, not refused).
func (b *browser) accepted(what, method, path string, body any) []byte {
	b.w.t.Helper()
	code, out := b.do(method, path, body)
	if code < 200 || code > 299 {
		b.w.t.Errorf("%s: %d %s, want it accepted (masked)", what, code, out)
	}
	return out
}

// signIn signs in over the JSON API.
func (b *browser) signIn(slug, email string) {
	b.w.t.Helper()
	code, out := b.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"tenant": slug, "email": email, "password": password})
	if code != http.StatusOK {
		b.w.t.Fatalf("sign in %s: %d %s", email, code, out)
	}
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(out, &s)
	b.csrf = s.CSRF
}

// socket is a chat WebSocket.
type socket struct {
	t    *testing.T
	conn *websocket.Conn
	ch   chan map[string]any
}

func (w *world) dial(path, origin string, hdr http.Header) *socket {
	w.t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Origin", origin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, strings.Replace(w.srv.URL, "http://", "ws://", 1)+path, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		w.t.Fatalf("dial %s: %d %v", path, status, err)
	}
	conn.SetReadLimit(1 << 20)
	s := &socket{t: w.t, conn: conn, ch: make(chan map[string]any, 1024)}
	go func() {
		defer close(s.ch)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			if json.Unmarshal(b, &f) == nil {
				s.ch <- f
			}
		}
	}()
	w.t.Cleanup(func() { _ = conn.CloseNow() })
	return s
}

func (s *socket) send(v any) {
	s.t.Helper()
	b, _ := json.Marshal(v)
	if err := s.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

// until reads frames until match accepts one.
func (s *socket) until(desc string, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-s.ch:
			if !ok {
				s.t.Fatalf("socket closed waiting for %s", desc)
			}
			if match(f) {
				return f
			}
			if f["type"] == "error" {
				s.t.Logf("waiting for %s: error frame %v", desc, f)
			}
		case <-timeout:
			s.t.Fatalf("no %s within 10s", desc)
		}
	}
}

func ofType(typ string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == typ }
}

// TestNoCardNumberAtRest types card numbers in every format into every input Parley stores in
// clear — setup, sign-in (JSON and form), invitations, roles, grants, access review notes,
// redaction rules, site settings, bans, the User-Agent, and the chat: page views, pre-chat,
// messages and keys of visitors and agents over both sockets and long poll, a card number split
// over two messages, offline messages, language tags — then reads every stored byte and every
// log line, and runs the PAN discovery scan: no test card number may be found anywhere.
func TestNoCardNumberAtRest(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			w.typeCardNumbers()
			w.checkNothingStored()
		})
	}
}

// typeCardNumbers drives every input with card numbers.
func (w *world) typeCardNumbers() {
	t := w.t
	ctx := context.Background()
	anon := w.browser("")

	// Setup (HTML form): the organisation name and the owner's e-mail address.
	token, _, _, err := w.app.Setup.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	setupForm := func(org, email string) url.Values {
		return url.Values{"token": {token}, "tenant": {org}, "email": {email}, "password": {password}, "confirm": {password}}
	}
	for _, c := range cardForms {
		if code, body := anon.do(http.MethodPost, "/setup", setupForm("Acme "+c, "owner@acme.example")); code != http.StatusBadRequest {
			t.Errorf("setup with organisation %q: %d, want 400: %.200s", c, code, body)
		}
		if code, _ := anon.do(http.MethodPost, "/setup", setupForm("Acme Bank", "x+"+strings.ReplaceAll(c, " ", "")+"@acme.example")); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Errorf("setup with e-mail holding %q: %d, want 400 or 422", c, code)
		}
	}
	if code, body := anon.do(http.MethodPost, "/setup", setupForm("Acme Bank", "owner@acme.example")); code != http.StatusOK {
		t.Fatalf("setup: %d %s", code, body)
	}
	tn, err := w.app.Tenants.BySlug(ctx, "acme-bank")
	if err != nil {
		t.Fatal(err)
	}

	// The owner signs in with a card number in the User-Agent header.
	owner := w.browser("Mozilla/5.0 (X11; Linux x86_64) Card/4111-1111-1111-1111 Firefox/128.0")
	owner.signIn(tn.Slug, "owner@acme.example")

	// Sign-in with card numbers as organisation and as e-mail, over the API and the form (after
	// the owner's own sign-in: these failures soon ask this address for a CAPTCHA).
	for _, c := range cardForms {
		anon.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"tenant": c, "email": "owner@acme.example", "password": password})
		anon.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"tenant": tn.Slug, "email": c, "password": password})
		code, page := anon.do(http.MethodGet, "/login", nil)
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
		if code != http.StatusOK || m == nil {
			t.Fatalf("login page: %d", code)
		}
		anon.do(http.MethodPost, "/login", url.Values{"csrf_token": {string(m[1])}, "tenant": {c}, "email": {"owner@acme.example"}, "password": {password}})
		anon.do(http.MethodPost, "/login", url.Values{"csrf_token": {string(m[1])}, "tenant": {tn.Slug}, "email": {c}, "password": {"wrong " + c}})
	}

	// Invitations.
	for _, c := range cardForms {
		owner.refused("invitation name "+c, http.MethodPost, "/api/v1/users/invitations", map[string]string{"email": "nia@acme.example", "name": "Nia " + c, "role": "agent"}, "name")
		code, out := owner.do(http.MethodPost, "/api/v1/users/invitations", map[string]string{"email": "n+" + strings.ReplaceAll(c, " ", "") + "@acme.example", "role": "agent"})
		if ec, _ := errCode(out); code != http.StatusBadRequest || (ec != "card_number_not_allowed" && ec != "invalid_request") {
			t.Errorf("invitation e-mail holding %q: %d %s, want 400", c, code, out)
		}
	}
	var invited struct {
		User struct{ ID string } `json:"user"`
	}
	_, out := owner.do(http.MethodPost, "/api/v1/users/invitations", map[string]string{"email": "nia@acme.example", "name": "Nia Ortega", "role": "agent"})
	_ = json.Unmarshal(out, &invited)

	// Roles: names refused on create, change, delete and grant; descriptions masked.
	for i, c := range cardForms {
		owner.refused("role name "+c, http.MethodPost, "/api/v1/roles", map[string]any{"name": "r" + c, "permissions": []string{"chat.accept"}}, "name")
		owner.accepted("role description "+c, http.MethodPost, "/api/v1/roles", map[string]any{"name": fmt.Sprintf("desk-%d", i), "description": "Front desk " + c, "permissions": []string{"chat.accept"}})
		owner.accepted("role description change "+c, http.MethodPut, "/api/v1/roles/"+fmt.Sprintf("desk-%d", i), map[string]any{"description": "Desk " + c, "permissions": []string{"chat.accept"}})
	}
	owner.refused("role change by name", http.MethodPut, "/api/v1/roles/r4111111111111111", map[string]any{"permissions": []string{"chat.accept"}}, "name")
	owner.refused("role delete by name", http.MethodDelete, "/api/v1/roles/r4111111111111111", nil, "name")
	owner.refused("grant", http.MethodPost, "/api/v1/users/"+invited.User.ID+"/roles", map[string]any{"role": "r5500000000000004"}, "role")

	// Access review notes (masked).
	var rep struct{ Digest string }
	_, out = owner.do(http.MethodGet, "/api/v1/access-review", nil)
	_ = json.Unmarshal(out, &rep)
	owner.accepted("access review notes", http.MethodPost, "/api/v1/access-review/sign-offs", map[string]string{"report_digest": rep.Digest, "notes": strings.Join(cardForms, "\n")})

	// Redaction rules.
	for i, c := range cardForms {
		owner.refused("rule name "+c, http.MethodPost, "/api/v1/redaction/rules", map[string]any{"name": "rule " + c, "pattern": "x+"}, "name")
		owner.refused("rule pattern "+c, http.MethodPost, "/api/v1/redaction/rules", map[string]any{"name": fmt.Sprintf("p%d", i), "pattern": regexp.QuoteMeta(c)}, "pattern")
		owner.refused("rule replacement "+c, http.MethodPost, "/api/v1/redaction/rules", map[string]any{"name": fmt.Sprintf("r%d", i), "pattern": "x+", "replacement": c}, "replacement")
	}
	owner.refused("rule pattern spelling a card number", http.MethodPost, "/api/v1/redaction/rules", map[string]any{"name": "spelt", "pattern": `4111[ -]?1111[ -]?1111[ -]?1111`}, "pattern")

	// A site and a department, as `parley site create` makes them.
	site, err := w.app.Tenants.CreateSite(ctx, tn.ID, "Shop", []string{siteOrigin})
	if err != nil {
		t.Fatal(err)
	}
	dept, err := w.app.Tenants.CreateDepartment(ctx, tn.ID, "Cards")
	if err != nil {
		t.Fatal(err)
	}

	// Site settings: identifiers refused, texts masked.
	settingsPath := "/api/v1/chat/sites/" + site.ID + "/settings"
	var set map[string]any
	_, out = owner.do(http.MethodGet, settingsPath, nil)
	if err := json.Unmarshal(out, &set); err != nil {
		t.Fatalf("settings: %s", out)
	}
	with := func(edit func(s map[string]any)) map[string]any {
		var s map[string]any
		_ = json.Unmarshal(out, &s)
		edit(s)
		return s
	}
	owner.refused("sensitive param", http.MethodPut, settingsPath, with(func(s map[string]any) { s["sensitive_params"] = []string{"p4111111111111111"} }), "sensitive_params")
	owner.refused("default language", http.MethodPut, settingsPath, with(func(s map[string]any) { s["default_language"] = "x-41111111-11111111" }), "default_language")
	owner.refused("texts language", http.MethodPut, settingsPath, with(func(s map[string]any) {
		s["texts"] = map[string]any{"en-x-4111-1111-1111-1111": map[string]string{"title": "x"}}
	}), "texts")
	owner.refused("question id", http.MethodPut, settingsPath, with(func(s map[string]any) {
		s["prechat"] = map[string]any{"enabled": true, "questions": []map[string]any{{"id": "q4111111111111111", "label": "x"}}}
	}), "prechat.questions")
	owner.accepted("site texts", http.MethodPut, settingsPath, with(func(s map[string]any) {
		s["texts"] = map[string]any{"en": map[string]string{"title": "Chat " + cardForms[1], "consent_text": "Never " + cardForms[2]}}
		s["appearance"] = map[string]any{"color": "#1d4ed8", "position": "right", "launcher_label": "Help " + cardForms[3]}
		s["prechat"] = map[string]any{"enabled": true, "ask_name": true, "ask_email": true, "consent_text": "Consent " + cardForms[7],
			"questions": []map[string]any{{"id": "account", "label": "Account (not " + cardForms[4] + ")"}}}
	}))

	// Bans: values refused, reasons masked.
	for _, c := range cardForms {
		for _, kind := range []string{"ip", "cidr", "visitor"} {
			code, out := owner.do(http.MethodPost, "/api/v1/chat/bans", map[string]string{"kind": kind, "value": c})
			if ec, f := errCode(out); code != http.StatusBadRequest || f != "value" || (ec != "card_number_not_allowed" && ec != "invalid_request") {
				t.Errorf("ban %s %q: %d %s, want 400 on value", kind, c, code, out)
			}
		}
	}
	owner.accepted("ban reason", http.MethodPost, "/api/v1/chat/bans", map[string]string{"kind": "ip", "value": "203.0.113.7", "reason": "Pasted " + cardForms[0]})

	// The chat. An agent online (the owner's socket), a visitor with card numbers in the page
	// view, the pre-chat form and the language.
	u, _ := url.Parse(w.srv.URL)
	agentHdr := http.Header{"User-Agent": {owner.ua}}
	for _, ck := range owner.c.Jar.Cookies(u) {
		agentHdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	agent := w.dial("/api/v1/chat/agent/ws", "http://"+u.Host, agentHdr)
	agent.send(map[string]any{"type": "hello", "conversations": map[string]int64{}})
	agent.until("agent welcome", ofType("welcome"))

	widget := "/api/v1/widget/sites/" + site.SiteKey
	visitor := w.browser("Mozilla/5.0 (iPhone) 6011 0000 0000 0004")
	var id struct {
		Token string `json:"visitor_token"`
	}
	_, out = visitor.do(http.MethodPost, widget+"/pageviews", map[string]any{"url": siteOrigin + "/pay?card=" + cardForms[0], "title": "Pay " + cardForms[1],
		"referrer": cardForms[6], "language": "zqabc-4111111111111111"})
	_ = json.Unmarshal(out, &id)
	bearer := "Bearer " + id.Token
	for _, lang := range []string{"x-41111111-11111111", "en-x-5500-0000-0000-0004"} {
		visitor.do(http.MethodPost, widget+"/pageviews", map[string]any{"url": siteOrigin + "/", "language": lang}, "Authorization", bearer)
	}
	var conv struct {
		ID string `json:"conversation_id"`
	}
	code, out := visitor.do(http.MethodPost, widget+"/chats", map[string]any{"department_id": dept.ID, "name": "Ada " + cardForms[2],
		"email": "ada+" + testPANs[0] + "@acme.example", "answers": map[string]string{"account": cardForms[3]}, "consent": true,
		"language": "en-x-4111-1111-1111-1111"}, "Authorization", bearer)
	if err := json.Unmarshal(out, &conv); err != nil || code != http.StatusCreated {
		t.Fatalf("start chat: %d %s", code, out)
	}
	agent.until("offer", ofType("offer"))
	agent.send(map[string]any{"type": "accept", "conversation_id": conv.ID})
	agent.until("assigned", ofType("assigned"))

	vs := w.dial(widget+"/ws", siteOrigin, http.Header{"User-Agent": {visitor.ua}})
	vs.send(map[string]any{"type": "hello", "token": id.Token, "conversation_id": conv.ID, "last_seq": 0})
	vs.until("visitor welcome", ofType("welcome"))

	// Messages in every form, from both sides; keys that hold card numbers; one number split
	// over two messages.
	for i, c := range cardForms {
		w.clock.Advance(10 * time.Second) // within the message rate limits
		vs.send(map[string]any{"type": "message", "key": fmt.Sprintf("v-%d", i), "text": "my card is " + c})
		vs.until("visitor ack", ofType("ack"))
		agent.send(map[string]any{"type": "message", "conversation_id": conv.ID, "key": fmt.Sprintf("a-%d", i), "text": "you wrote " + c})
		agent.until("agent ack", ofType("ack"))
		vs.send(map[string]any{"type": "message", "key": c, "text": "hello"})
		if f := vs.until("visitor key error", ofType("error")); f["code"] != "card_number_not_allowed" || f["field"] != "key" {
			t.Errorf("visitor key %q: %v, want card_number_not_allowed on key", c, f)
		}
		agent.send(map[string]any{"type": "message", "conversation_id": conv.ID, "key": c, "text": "hello"})
		if f := agent.until("agent key error", ofType("error")); f["code"] != "card_number_not_allowed" || f["field"] != "key" {
			t.Errorf("agent key %q: %v, want card_number_not_allowed on key", c, f)
		}
		visitor.do(http.MethodPost, widget+"/chats/"+conv.ID+"/messages", map[string]string{"key": c, "text": "hello"}, "Authorization", bearer)
		visitor.do(http.MethodPost, widget+"/chats/"+conv.ID+"/messages", map[string]string{"key": fmt.Sprintf("lp-%d", i), "text": "again " + c}, "Authorization", bearer)
	}
	w.clock.Advance(10 * time.Second)
	vs.send(map[string]any{"type": "message", "key": "split-1", "text": "4111 1111"})
	vs.until("split ack 1", ofType("ack"))
	vs.send(map[string]any{"type": "message", "key": "split-2", "text": "1111 1111"})
	vs.until("split ack 2", ofType("ack"))
	agent.send(map[string]any{"type": "whisper", "conversation_id": conv.ID, "key": "w-1", "text": "note " + cardForms[5]})

	// Transcripts: a note holding a card number is masked before it is sealed; a tag (stored in
	// clear), the reason for opening a transcript and a search term holding one are refused.
	for _, c := range cardForms {
		owner.accepted("transcript note "+c, http.MethodPost, "/api/v1/transcripts/"+conv.ID+"/notes", map[string]string{"body": "note " + c})
		owner.refused("transcript tag "+c, http.MethodPost, "/api/v1/transcripts/"+conv.ID+"/tags", map[string]string{"tag": c}, "tag")
		owner.refused("transcript reason "+c, http.MethodPost, "/api/v1/transcripts/"+conv.ID+"/open", map[string]string{"reason": "ticket " + c}, "reason")
		owner.refused("transcript search "+c, http.MethodGet, "/api/v1/transcripts?q="+url.QueryEscape(c), nil, "q")
	}

	// An offline message from another visitor.
	other := w.browser("")
	var oid struct {
		Token string `json:"visitor_token"`
	}
	_, out = other.do(http.MethodPost, widget+"/pageviews", map[string]any{"url": siteOrigin + "/"})
	_ = json.Unmarshal(out, &oid)
	other.do(http.MethodPost, widget+"/offline", map[string]any{"name": "Bo " + cardForms[1], "email": "bo@acme.example", "message": "Call me, card " + cardForms[0],
		"consent": true, "language": "x-41111111-11111111"}, "Authorization", "Bearer "+oid.Token)

	// The offline inbox: the owner marks it handled with a note that holds card numbers (masked,
	// then sealed).
	var inbox struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	_, out = owner.do(http.MethodGet, "/api/v1/chat/offline-inbox?status=new", nil)
	if err := json.Unmarshal(out, &inbox); err != nil || len(inbox.Messages) == 0 {
		t.Fatalf("offline inbox: %s", out)
	}
	owner.accepted("offline reply note", http.MethodPost, "/api/v1/chat/offline-inbox/"+inbox.Messages[0].ID+"/handled",
		map[string]string{"note": "Phoned back about " + cardForms[2] + " and " + cardForms[6]})

	// Canned messages: a card number is refused in every field, over the API and the page's form.
	for _, c := range cardForms {
		for _, field := range []string{"shortcut", "title", "body"} {
			in := map[string]string{"scope": "shared", "shortcut": "ok", "title": "Ok", "body": "Ok"}
			in[field] = "x " + c
			if field == "shortcut" {
				in[field] = strings.NewReplacer(" ", "", "-", "").Replace(c)
			}
			code, body := owner.do(http.MethodPost, "/api/v1/canned", in)
			if ec, f := errCode(body); code != http.StatusBadRequest || f != field || (ec != "card_number_not_allowed" && ec != "invalid_request") {
				t.Errorf("canned %s %q: %d %s, want 400 on %s", field, c, code, body, field)
			}
		}
	}

	// Let asynchronous work (split-number amends, audit sealing) settle.
	time.Sleep(300 * time.Millisecond)
	if _, err := w.app.Audit.Seal(ctx); err != nil {
		t.Fatalf("seal: %v", err)
	}
}

// digitsOf returns the decimal digits of s as ASCII, whatever their script.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune(r - '０' + '0')
		}
	}
	return b.String()
}

// testCardIn returns the test card numbers pan finds in s, also where a '+' before them would
// make pan read a phone number (an e-mail sub-address, a URL's encoded space).
func testCardIn(s string) []string {
	var out []string
	for _, text := range []string{s, strings.ReplaceAll(s, "+", " ")} {
		for _, m := range pan.Find(text) {
			d := digitsOf(text[m.Start:m.End])
			for _, p := range testPANs {
				if d == p {
					out = append(out, text[m.Start:m.End])
				}
			}
		}
	}
	return out
}

// unique returns ss without repeats, in first-seen order.
func unique(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// rawCardIn returns the test card numbers found in s as plain or full-width digit strings.
func rawCardIn(s string) []string {
	var out []string
	for _, p := range testPANs {
		for _, form := range []string{p, fullWidth(p)} {
			if strings.Contains(s, form) {
				out = append(out, form)
			}
		}
	}
	return out
}

// checkNothingStored reads everything the test left behind.
func (w *world) checkNothingStored() {
	t := w.t
	ctx := context.Background()
	values := dumpDatabase(t, w.db)
	if len(values) < 50 {
		t.Fatalf("the dump read %d values: the test stored less than it should have", len(values))
	}
	for _, v := range values {
		if found := unique(append(testCardIn(v.value), rawCardIn(v.value)...)); len(found) > 0 {
			t.Errorf("%s holds a card number in clear: %q in %.200q", v.column, found, v.value)
		}
	}
	if w.db.Dialect == migrations.SQLite {
		files := databaseFiles(t, w.dbURL)
		for name, data := range files {
			s := string(data)
			if found := unique(append(testCardIn(s), rawCardIn(s)...)); len(found) > 0 {
				t.Errorf("SQLite file %s holds a card number in clear: %q", name, found)
			}
		}
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "{") {
		t.Log("no log lines were written")
	}
	if found := unique(append(testCardIn(logs), rawCardIn(logs)...)); len(found) > 0 {
		t.Errorf("the logs hold a card number in clear: %q", found)
	}

	// The PAN discovery scan, as `parley scan` runs it: sealed fields decrypted.
	masker, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4, ContextRunes: -1})
	if err != nil {
		t.Fatal(err)
	}
	locs, err := (&scan.Scanner{Masker: masker}).ScanDatabase(ctx, w.db, scan.ParleySealed(), w.app.Envelope)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	read := int64(0)
	for _, l := range locs {
		read += l.Items
		if l.Matches > 0 || l.Error != "" || l.Unreadable > 0 {
			t.Errorf("scan: %s: %d card numbers in %d rows (samples %+v) %s", l.Name, l.Matches, l.Hits, l.Samples, l.Error)
		}
	}
	if read == 0 {
		t.Error("the scan read nothing")
	}
}

// storedValue is one non-null value of a column.
type storedValue struct {
	column, value string
}

// dumpDatabase reads every column of every table as text: what an attacker with the database (or
// a backup of it) reads.
func dumpDatabase(t *testing.T, db *migrations.DB) []storedValue {
	t.Helper()
	type col struct{ Table, Column string }
	var cols []col
	switch db.Dialect {
	case migrations.Postgres:
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
			WHERE table_schema = current_schema()`).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
	default:
		var tables []string
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'`).Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			var info []struct{ Name string }
			if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT name FROM pragma_table_info(?)`, tb).Scan(&info).Error; err != nil {
				t.Fatal(err)
			}
			for _, c := range info {
				cols = append(cols, col{tb, c.Name})
			}
		}
	}
	var out []storedValue
	for _, c := range cols {
		var vals []string
		q := `SELECT CAST("` + c.Column + `" AS TEXT) FROM "` + c.Table + `" WHERE "` + c.Column + `" IS NOT NULL`
		if db.Dialect == migrations.Postgres {
			q = `SELECT "` + c.Column + `"::text FROM "` + c.Table + `" WHERE "` + c.Column + `" IS NOT NULL`
		}
		if err := migratetest.Beneath(t, db).Gorm.Raw(q).Scan(&vals).Error; err != nil {
			t.Fatalf("dump %s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range vals {
			out = append(out, storedValue{c.Table + "." + c.Column, v})
		}
	}
	return out
}

// databaseFiles reads an SQLite database's files: the database, its WAL and shared memory.
func databaseFiles(t *testing.T, dbURL string) map[string][]byte {
	t.Helper()
	path := strings.TrimPrefix(dbURL, "sqlite://")
	matches, err := filepath.Glob(path + "*")
	if err != nil || len(matches) == 0 {
		t.Fatalf("database files of %s: %v", path, err)
	}
	out := map[string][]byte{}
	for _, m := range matches {
		data, err := os.ReadFile(m) // #nosec G304 -- the test's own temporary database
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(m)] = data
	}
	if _, ok := out[filepath.Base(path)+"-wal"]; !ok {
		t.Logf("no WAL file next to %s (checkpointed)", path)
	}
	return out
}

// TestChecksFindPlantedCardNumber proves the checks are not blind: a card number written past
// the application (straight through database/sql, around the storage guard) is found by the
// column dump, in the SQLite files and by the PAN scan.
func TestChecksFindPlantedCardNumber(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			// Planted as someone with database access would; the scan, as the server's role, may read it.
			sqlDB, err := migratetest.Beneath(t, w.db).SQL()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := sqlDB.ExecContext(ctx, `CREATE TABLE planted (v TEXT)`); err != nil {
				t.Fatal(err)
			}
			if d == migrations.Postgres {
				if _, err := sqlDB.ExecContext(ctx, `GRANT SELECT ON planted TO `+migratetest.AppRole); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sqlDB.ExecContext(ctx, `INSERT INTO planted (v) VALUES ('paid with 4111 1111 1111 1111')`); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, v := range dumpDatabase(t, w.db) {
				found = found || len(testCardIn(v.value)) > 0
			}
			if !found {
				t.Error("the column dump missed the planted card number")
			}
			if d == migrations.SQLite {
				all := ""
				for _, data := range databaseFiles(t, w.dbURL) {
					all += string(data)
				}
				if len(testCardIn(all)) == 0 {
					t.Error("the SQLite file check missed the planted card number")
				}
			}
			locs, err := (&scan.Scanner{}).ScanDatabase(ctx, w.db, scan.ParleySealed(), w.app.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			var matches int64
			for _, l := range locs {
				if l.Name == "planted.v" {
					matches = l.Matches
				}
			}
			if matches != 1 {
				t.Errorf("the scan found %d card numbers in planted.v, want 1", matches)
			}
		})
	}
}
