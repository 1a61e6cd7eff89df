package cardform_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestCardFormAccess: only the agent handling the chat asks; only the requester sees the card;
// the full card needs card.view_full; refusals show nothing and audit no view.
func TestCardFormAccess(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner, owner2, agent := n.login(w.owner), n.login(w.owner2), n.login(w.agent)
		conv := w.conversation(w.visitorA, w.owner)
		if rec := agent.do(http.MethodPost, agentPath(conv), ""); rec.Code != http.StatusForbidden {
			t.Errorf("request in another agent's chat: %d, want 403", rec.Code)
		}
		req := owner.request(conv)
		token, _ := n.open(w.visitorA, conv, req)
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		for _, c := range []struct {
			name string
			who  *client
			path string
			want int
		}{
			{"agent without card.view_full", agent, agentPath(conv, "/", req, "/full"), http.StatusForbidden},
			{"agent, masked view of another's request", agent, agentPath(conv, "/", req), http.StatusForbidden},
			{"owner who did not ask, masked", owner2, agentPath(conv, "/", req), http.StatusForbidden},
			{"owner who did not ask, full", owner2, agentPath(conv, "/", req, "/full"), http.StatusForbidden},
			{"owner who did not ask, done", owner2, agentPath(conv, "/", req, "/done"), http.StatusForbidden},
			{"unknown request", owner, agentPath(conv, "/01a1ff22-0cf2-7660-b2b7-e610b5a38b14"), http.StatusNotFound},
			{"unknown conversation", owner, agentPath("01a1ff22-0cf2-7660-b2b7-e610b5a38b14", "/", req), http.StatusNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				method := http.MethodGet
				if strings.HasSuffix(c.path, "/done") {
					method = http.MethodPost
				}
				rec := c.who.do(method, c.path, "")
				if rec.Code != c.want {
					t.Errorf("status %d %s, want %d", rec.Code, rec.Body, c.want)
				}
				// The random request id is left out: its hex can spell "1111".
				if body := requestIDField.ReplaceAllString(rec.Body.String(), ""); strings.Contains(body, "1111") {
					t.Errorf("a refusal shows card data: %s", body)
				}
			})
		}
		if n := len(n.events(audit.ActionCardView)) + len(n.events(audit.ActionCardViewFull)); n != 0 {
			t.Errorf("%d card views audited, want none (every view was refused)", n)
		}
		if n.CardForms.Holding() != 1 {
			t.Error("a refused done wiped the card")
		}
	})
}

// requestIDField matches the request id of an error body.
var requestIDField = regexp.MustCompile(`"request_id":"[^"]*"`)

// TestCardFormConversationEnd: the end of the chat wipes the card and closes its requests.
func TestCardFormConversationEnd(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		conv := w.conversation(w.visitorA, w.owner)
		held, waiting := owner.request(conv), owner.request(conv)
		token, _ := n.open(w.visitorA, conv, held)
		if rec := n.submit(conv, held, token, validCard); rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		waitingToken, _ := n.open(w.visitorA, conv, waiting)
		err := n.Chat.End(context.Background(), w.tenant.ID, conv, chat.Actor{Kind: chat.SenderVisitor, ID: w.visitorA.Visitor.ID}, nil, chat.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		if n.CardForms.Holding() != 0 {
			t.Error("the card outlived its conversation")
		}
		if w.status(held) != cardform.StatusEnded || w.status(waiting) != cardform.StatusEnded {
			t.Errorf("statuses %s, %s; want ended", w.status(held), w.status(waiting))
		}
		purges := n.events(audit.ActionCardPurge)
		if len(purges) != 1 || purges[0].Details["reason"] != "conversation_ended" || purges[0].Details["request_id"] != held {
			t.Errorf("purge events = %+v", purges)
		}
		if rec := n.submit(conv, waiting, waitingToken, validCard); rec.Code != http.StatusConflict {
			t.Errorf("submission after the end: %d, want 409", rec.Code)
		}
		if rec := owner.do(http.MethodPost, agentPath(conv), ""); rec.Code != http.StatusConflict || errorCode(rec) != "conversation_ended" {
			t.Errorf("request after the end: %d %s", rec.Code, rec.Body)
		}
		if rec := owner.do(http.MethodGet, agentPath(conv, "/", held, "/full"), ""); rec.Code != http.StatusGone {
			t.Errorf("full view after the end: %d, want 410", rec.Code)
		}
	})
}

// TestCardFormSweepEnded: a conversation closed where the hook did not run (another node, a
// crash) is found by the sweep.
func TestCardFormSweepEnded(t *testing.T) {
	w, n := newWorld(t, migratetest.Open(t, migrations.SQLite), "")
	owner := n.login(w.owner)
	conv := w.conversation(w.visitorA, w.owner)
	req := owner.request(conv)
	token, _ := n.open(w.visitorA, conv, req)
	if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	if err := migratetest.Beneath(t, w.db).Gorm.Exec("UPDATE conversations SET status = 'ended' WHERE id = ?", conv).Error; err != nil {
		t.Fatal(err)
	}
	if err := n.CardForms.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.CardForms.Holding() != 0 || w.status(req) != cardform.StatusEnded {
		t.Errorf("after the sweep: %d held, status %s", n.CardForms.Holding(), w.status(req))
	}
}

// TestCardFormPage: the form is an isolated page — strict CSP, no inline script or style, the
// right autocomplete fields, framed only by Parley and the site.
func TestCardFormPage(t *testing.T) {
	w, n := newWorld(t, migratetest.Open(t, migrations.SQLite), "")
	rec := n.do(apptest.Request{Method: http.MethodGet, Path: cardform.FormPath + "?site=" + w.site.SiteKey + "&c=x&r=y"})
	if rec.Code != http.StatusOK {
		t.Fatalf("page: %d", rec.Code)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "form-action 'none'",
		"frame-ancestors 'self' " + siteOrigin} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || rec.Header().Get("X-Frame-Options") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", rec.Header())
	}
	body := rec.Body.String()
	for _, ac := range []string{"cc-name", "cc-number", "cc-exp", "cc-csc"} {
		if !strings.Contains(body, `autocomplete="`+ac+`"`) {
			t.Errorf("no field with autocomplete %s", ac)
		}
	}
	if regexp.MustCompile(`<script(?:\s+type="module")?>|<script[^>]*>[^<]|\sstyle=|\son[a-z]+=`).MatchString(body) {
		t.Error("the page has inline script, style or event handlers")
	}
	if !strings.Contains(body, `src="/static/card-form.js"`) || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page loads something other than Parley's own script")
	}
	for _, path := range []string{cardform.FormPath, cardform.FormPath + "?site=site_unknownunknownunknown"} {
		if rec := n.do(apptest.Request{Method: http.MethodGet, Path: path}); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
	for _, asset := range []string{"/static/card-form.js", "/static/card-form.css"} {
		if rec := n.do(apptest.Request{Method: http.MethodGet, Path: asset}); rec.Code != http.StatusOK {
			t.Errorf("%s: %d", asset, rec.Code)
		}
	}
}

// TestLeakSearchFinds proves the leak search of the cycle test can fail: the card planted in a
// column and in a log line is found.
func TestLeakSearchFinds(t *testing.T) {
	w, n := newWorld(t, migratetest.Open(t, migrations.SQLite), "")
	// Planted under the storage card guard (which refuses it through GORM), straight through
	// database/sql.
	sqlDB, err := w.db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec("UPDATE sites SET name = ? WHERE id = ?", "Shop "+testSpaced, w.site.ID); err != nil {
		t.Fatal(err)
	}
	if found := leaks(dumpDatabase(t, w.db)); len(found) == 0 {
		t.Error("a card number planted in the database was not found")
	}
	n.Log.Info("planted", "cvc", testCVC, "name", testName)
	if found := leaks(w.logs.String()); len(found) < 2 {
		t.Errorf("planted code and name found %v, want both", found)
	}
}
