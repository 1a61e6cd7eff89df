package cardform_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// eachDB runs fn on SQLite and (when configured) PostgreSQL, each with a fresh database.
func eachDB(t *testing.T, fn func(t *testing.T, w *world, n *node)) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := migratetest.URL(t, d)
			db := openDB(t, url)
			w, n := newWorld(t, db, url)
			fn(t, w, n)
		})
	}
}

func openDB(t *testing.T, url string) *migrations.DB {
	t.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 10})
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
	return db
}

// TestCardFormCycle takes a card through request → open → submit → masked view → full view →
// done, checks every step's answer and audit record, and then looks for the card in the
// database (files and WAL on SQLite, every column on both), the logs and the audit log.
func TestCardFormCycle(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		conv := w.conversation(w.visitorA, w.owner)

		req := owner.request(conv)
		var events []struct{ Event, Data string }
		migratetest.Beneath(t, w.db).Gorm.Raw("SELECT event, data FROM conversation_events WHERE conversation_id = ? ORDER BY seq", conv).Scan(&events)
		if len(events) != 1 || events[0].Event != chat.EventCardFormRequested || !strings.Contains(events[0].Data, req) {
			t.Fatalf("chat events after the request = %+v, want card_form_requested with the request id", events)
		}

		token, rec := n.open(w.visitorA, conv, req)
		if token == "" || !strings.HasPrefix(token, "cf_") {
			t.Fatalf("open: %d %s", rec.Code, rec.Body)
		}
		o := accounttest.Decode[cardform.Opened](t, rec)
		if !strings.HasPrefix(o.FormURL, cardform.FormPath+"?") || !strings.Contains(o.FormURL, "site="+w.site.SiteKey) {
			t.Errorf("form URL %q", o.FormURL)
		}
		// Another visitor cannot open it; a malformed or unknown request is not found.
		if _, rec := n.open(w.visitorB, conv, req); rec.Code != http.StatusNotFound {
			t.Errorf("open by another visitor: %d, want 404", rec.Code)
		}

		rec = n.submit(conv, req, token, cardBody("4111 1111 1111 1112", "12/28", testCVC, testName))
		if rec.Code != http.StatusBadRequest || errorCode(rec) != "invalid_card:number" {
			t.Errorf("Luhn-failing number: %d %s", rec.Code, rec.Body)
		}
		rec = n.submit(conv, req, token, validCard)
		if rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s\n%s", rec.Code, rec.Body, w.logs)
		}
		if got := accounttest.Decode[cardform.Receipt](t, rec); got.Brand != "visa" || got.Last4 != "1111" {
			t.Errorf("receipt = %+v", got)
		}
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusConflict || errorCode(rec) != "card_form_used" {
			t.Errorf("second submission: %d %s, want 409 card_form_used", rec.Code, rec.Body)
		}
		if n.CardForms.Holding() != 1 || w.status(req) != cardform.StatusSubmitted {
			t.Fatalf("after submission: %d held, status %s", n.CardForms.Holding(), w.status(req))
		}

		rec = owner.do(http.MethodGet, agentPath(conv, "/", req), "")
		if rec.Code != http.StatusOK {
			t.Fatalf("view: %d %s", rec.Code, rec.Body)
		}
		v := accounttest.Decode[cardform.Request](t, rec)
		if v.Card == nil || v.Card.Number != "411111••••••1111" || v.Card.CVC != "•••" || v.Card.Name != testName || v.Card.Expiry != "••/••" {
			t.Errorf("masked view = %+v", v.Card)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Error("the card view may be cached")
		}

		rec = owner.do(http.MethodGet, agentPath(conv, "/", req, "/full"), "")
		if rec.Code != http.StatusOK {
			t.Fatalf("full view: %d %s", rec.Code, rec.Body)
		}
		var full struct {
			Request cardform.Request  `json:"request"`
			Card    map[string]string `json:"card"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &full); err != nil {
			t.Fatalf("full view body: %v", err)
		}
		if full.Card["number"] != testPAN || full.Card["cvc"] != testCVC || full.Card["expiry"] != "12/28" || full.Card["name"] != testName || full.Request.ID != req {
			t.Errorf("full view = %+v", full)
		}

		rec = owner.do(http.MethodPost, agentPath(conv, "/", req, "/done"), "")
		if rec.Code != http.StatusOK || accounttest.Decode[cardform.Request](t, rec).Status != cardform.StatusDone {
			t.Fatalf("done: %d %s", rec.Code, rec.Body)
		}
		if n.CardForms.Holding() != 0 {
			t.Error("the card is still held after done")
		}
		// Neither side sees it again.
		if rec := owner.do(http.MethodGet, agentPath(conv, "/", req), ""); rec.Code != http.StatusOK || accounttest.Decode[cardform.Request](t, rec).Card != nil {
			t.Errorf("view after done: %d %s", rec.Code, rec.Body)
		}
		if rec := owner.do(http.MethodGet, agentPath(conv, "/", req, "/full"), ""); rec.Code != http.StatusGone || errorCode(rec) != "card_data_purged" {
			t.Errorf("full view after done: %d %s, want 410 card_data_purged", rec.Code, rec.Body)
		}
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusConflict {
			t.Errorf("submission after done: %d, want 409", rec.Code)
		}
		rec = owner.do(http.MethodGet, agentPath(conv), "")
		if rec.Code != http.StatusOK || len(accounttest.Decode[map[string][]cardform.Request](t, rec)["requests"]) != 1 {
			t.Errorf("list: %d %s", rec.Code, rec.Body)
		}

		// Every step is audited, without card data.
		for action, want := range map[audit.Action]int{audit.ActionCardFormRequest: 1, audit.ActionCardFormSubmit: 1,
			audit.ActionCardView: 1, audit.ActionCardViewFull: 1, audit.ActionCardPurge: 1} {
			evs := n.events(action)
			if len(evs) != want {
				t.Errorf("%d %s events, want %d", len(evs), action, want)
			}
			for _, e := range evs {
				if e.Details["request_id"] != req || e.Target.ID != conv {
					t.Errorf("%s event %+v does not name the request and conversation", action, e.Event)
				}
			}
		}
		if e := n.events(audit.ActionCardViewFull); len(e) == 1 && (e[0].Actor.ID != w.owner.ID || e[0].Actor.Kind != audit.ActorUser) {
			t.Errorf("card.view_full actor = %+v", e[0].Actor)
		}
		if e := n.events(audit.ActionCardFormSubmit); len(e) == 1 && (e[0].Actor.ID != w.visitorA.Visitor.ID || e[0].Details["brand"] != "visa") {
			t.Errorf("card.form.submit event = %+v", e[0].Event)
		}

		// The card is nowhere: not in the database, not in the logs, not in the audit log.
		all, err := n.Audit.Entries(context.Background(), w.tenant.ID, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		auditJSON, _ := json.Marshal(all)
		places := map[string]string{"database": dumpDatabase(t, w.db), "logs": w.logs.String(), "audit log": string(auditJSON)}
		if w.db.Dialect == migrations.SQLite {
			if err := migratetest.Beneath(t, w.db).Gorm.Exec("PRAGMA wal_checkpoint(PASSIVE)").Error; err != nil {
				t.Fatal(err)
			}
			places["database files"] = databaseFiles(t, w.dbURL)
		}
		for where, text := range places {
			if found := leaks(text); len(found) > 0 {
				t.Errorf("the card appears in the %s: %v", where, found)
			}
		}
		if !strings.Contains(w.logs.String(), "/card-forms/") {
			t.Error("the logs recorded no card form request at all; the search proves nothing")
		}
	})
}

func TestCardFormExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		conv := w.conversation(w.visitorA, w.owner)

		// A form opened in time but submitted after its TTL.
		req := owner.request(conv)
		token, rec := n.open(w.visitorA, conv, req)
		if token == "" {
			t.Fatalf("open: %d %s", rec.Code, rec.Body)
		}
		w.clock.Advance(15*time.Minute + time.Second)
		owner = n.login(w.owner) // the console session idled out meanwhile
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusGone || errorCode(rec) != "card_form_expired" {
			t.Errorf("late submission: %d %s, want 410 card_form_expired", rec.Code, rec.Body)
		}
		if _, rec := n.open(w.visitorA, conv, req); rec.Code != http.StatusGone || errorCode(rec) != "card_form_expired" {
			t.Errorf("late open: %d %s, want 410 card_form_expired", rec.Code, rec.Body)
		}
		if w.status(req) != cardform.StatusExpired {
			t.Errorf("status %s, want expired", w.status(req))
		}

		// A card held past its TTL is wiped by the sweep, its request closed and the purge audited.
		req = owner.request(conv)
		token, _ = n.open(w.visitorA, conv, req)
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		w.clock.Advance(14 * time.Minute)
		if err := n.CardForms.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n.CardForms.Holding() != 1 {
			t.Fatal("the card was wiped before its TTL")
		}
		owner = n.login(w.owner)
		w.clock.Advance(time.Minute)
		if err := n.CardForms.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n.CardForms.Holding() != 0 || w.status(req) != cardform.StatusExpired {
			t.Errorf("after the TTL: %d held, status %s", n.CardForms.Holding(), w.status(req))
		}
		purges := n.events(audit.ActionCardPurge)
		if len(purges) != 1 || purges[0].Details["reason"] != "ttl" || purges[0].Actor.Kind != audit.ActorSystem {
			t.Errorf("purge events = %+v", purges)
		}
		if rec := owner.do(http.MethodGet, agentPath(conv, "/", req, "/full"), ""); rec.Code != http.StatusGone {
			t.Errorf("full view after the TTL: %d, want 410", rec.Code)
		}

		// Past its TTL but before a sweep, a view also finds it gone.
		req = owner.request(conv)
		token, _ = n.open(w.visitorA, conv, req)
		if rec := n.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		w.clock.Advance(15 * time.Minute)
		owner = n.login(w.owner)
		rec = owner.do(http.MethodGet, agentPath(conv, "/", req), "")
		if rec.Code != http.StatusOK || accounttest.Decode[cardform.Request](t, rec).Card != nil || w.status(req) != cardform.StatusExpired {
			t.Errorf("view after the TTL: %d %s, status %s", rec.Code, rec.Body, w.status(req))
		}
	})
}

func TestCardFormOtherConversation(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		convA := w.conversation(w.visitorA, w.owner)
		convB := w.conversation(w.visitorB, w.owner)
		reqA, reqB := owner.request(convA), owner.request(convB)
		tokenA, _ := n.open(w.visitorA, convA, reqA)
		tokenB, _ := n.open(w.visitorB, convB, reqB)
		for _, c := range []struct {
			name, conv, req, token string
		}{
			{"token of another conversation", convA, reqA, tokenB},
			{"request of another conversation", convA, reqB, tokenA},
			{"conversation of another request", convB, reqA, tokenA},
			{"malformed token", convA, reqA, "cf_short"},
			{"no token", convA, reqA, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				if rec := n.submit(c.conv, c.req, c.token, validCard); rec.Code != http.StatusNotFound {
					t.Errorf("status %d %s, want 404", rec.Code, rec.Body)
				}
			})
		}
		if _, rec := n.open(w.visitorA, convA, reqB); rec.Code != http.StatusNotFound {
			t.Errorf("open another conversation's request: %d, want 404", rec.Code)
		}
		// Another site's key with the right token is not found either.
		other, err := n.Tenants.CreateSite(context.Background(), w.tenant.ID, "Other shop", []string{"https://other.example"})
		if err != nil {
			t.Fatal(err)
		}
		rec := n.do(apptest.Request{Method: http.MethodPost, Body: validCard, Header: http.Header{"Authorization": {"Bearer " + tokenA}},
			Path: "/api/v1/widget/sites/" + other.SiteKey + "/chats/" + convA + "/card-forms/" + reqA})
		if rec.Code != http.StatusNotFound {
			t.Errorf("another site's path: %d, want 404", rec.Code)
		}
		if n.CardForms.Holding() != 0 {
			t.Error("a refused submission left a card in memory")
		}
		// The right token still works.
		if rec := n.submit(convA, reqA, tokenA, validCard); rec.Code != http.StatusCreated {
			t.Errorf("own token: %d %s", rec.Code, rec.Body)
		}
	})
}
