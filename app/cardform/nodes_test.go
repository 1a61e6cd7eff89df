package cardform_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestCardFormTwoNodes: the visitor's form lands on node A; the agent, served by node B, sees
// the card through the authenticated node-to-node call, and marking it done on B wipes it on A.
// A forged node request gets nothing.
func TestCardFormTwoNodes(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := migratetest.URL(t, d)
			w, setup := newWorld(t, openDB(t, url), url)
			a := w.newNode(openDB(t, url), true)
			b := w.newNode(openDB(t, url), true)
			_ = setup
			ownerB := b.login(w.owner)
			conv := w.conversation(w.visitorA, w.owner)
			req := ownerB.request(conv)
			token, rec := a.open(w.visitorA, conv, req)
			if token == "" {
				t.Fatalf("open on A: %d %s", rec.Code, rec.Body)
			}
			if rec := a.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
				t.Fatalf("submit on A: %d %s", rec.Code, rec.Body)
			}
			if a.CardForms.Holding() != 1 || b.CardForms.Holding() != 0 {
				t.Fatalf("held: A %d, B %d; want the card on A only", a.CardForms.Holding(), b.CardForms.Holding())
			}

			rec = ownerB.do(http.MethodGet, agentPath(conv, "/", req), "")
			if rec.Code != http.StatusOK {
				t.Fatalf("masked view on B: %d %s\n%s", rec.Code, rec.Body, w.logs)
			}
			if v := accounttest.Decode[cardform.Request](t, rec); v.Card == nil || v.Card.Number != "411111••••••1111" {
				t.Errorf("masked view on B = %+v", v.Card)
			}
			rec = ownerB.do(http.MethodGet, agentPath(conv, "/", req, "/full"), "")
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"number":"`+testPAN+`"`) || !strings.Contains(rec.Body.String(), `"cvc":"`+testCVC+`"`) {
				t.Fatalf("full view on B: %d %s", rec.Code, rec.Body)
			}
			if e := b.events(audit.ActionCardViewFull); len(e) != 1 {
				t.Errorf("%d card.view_full events, want 1", len(e))
			}

			// A forged request: right shape, wrong secret.
			stranger := &secureform.Peer{Keys: secureform.StaticPeerKeys{Secret: bytes.Repeat([]byte{1}, 32)}, Now: w.clock.Now}
			_, body, sig, err := stranger.Sign(t.Context(), secureform.PeerRequest{Op: secureform.OpReveal, Tenant: w.tenant.ID,
				Conversation: conv, Request: req, Agent: w.owner.ID})
			if err != nil {
				t.Fatal(err)
			}
			hr, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/internal/v1/card-forms", bytes.NewReader(body))
			hr.Header.Set(secureform.SignatureHeader, sig)
			hr.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || bytes.Contains(got, []byte("1111")) {
				t.Errorf("forged node request: %d %s, want 401 and nothing", resp.StatusCode, got)
			}
			var e map[string]string
			if json.Unmarshal(got, &e) != nil || e["error"] != "unauthenticated" {
				t.Errorf("forged node request answer %s", got)
			}
			// Like every JSON body: application/json only, no key given twice.
			for _, bad := range []struct {
				name, ctype string
				body        []byte
				status      int
			}{
				{"no content type", "", body, http.StatusUnsupportedMediaType},
				{"utf-16", "application/json; charset=utf-16", body, http.StatusUnsupportedMediaType},
				{"tenant twice", "application/json", bytes.Replace(body, []byte("{"), []byte(`{"tenant":"other",`), 1), http.StatusBadRequest},
			} {
				hr, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/internal/v1/card-forms", bytes.NewReader(bad.body))
				hr.Header.Set(secureform.SignatureHeader, sig)
				if bad.ctype != "" {
					hr.Header.Set("Content-Type", bad.ctype)
				}
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != bad.status {
					t.Errorf("node request, %s: status %d, want %d", bad.name, resp.StatusCode, bad.status)
				}
			}

			rec = ownerB.do(http.MethodPost, agentPath(conv, "/", req, "/done"), "")
			if rec.Code != http.StatusOK {
				t.Fatalf("done on B: %d %s", rec.Code, rec.Body)
			}
			if a.CardForms.Holding() != 0 {
				t.Error("done on B left the card on A")
			}
			if found := leaks(w.logs.String()); len(found) > 0 {
				t.Errorf("the card appears in the logs: %v", found)
			}
		})
	}
}

// TestCardFormHolderGone: when the holding node cannot be reached the agent is told so, and the
// request closed on another node makes the holder wipe the card at its next sweep.
func TestCardFormHolderGone(t *testing.T) {
	url := migratetest.URL(t, "sqlite")
	w, _ := newWorld(t, openDB(t, url), url)
	a := w.newNode(openDB(t, url), true)
	b := w.newNode(openDB(t, url), true)
	ownerB := b.login(w.owner)
	conv := w.conversation(w.visitorA, w.owner)
	req := ownerB.request(conv)
	token, _ := a.open(w.visitorA, conv, req)
	if rec := a.submit(conv, req, token, validCard); rec.Code != http.StatusCreated {
		t.Fatalf("submit on A: %d %s", rec.Code, rec.Body)
	}
	a.srv.Close()
	rec := ownerB.do(http.MethodGet, agentPath(conv, "/", req, "/full"), "")
	if rec.Code != http.StatusServiceUnavailable || errorCode(rec) != "card_data_unavailable" {
		t.Errorf("full view with A down: %d %s", rec.Code, rec.Body)
	}
	if e := b.events(audit.ActionCardViewFull); len(e) != 0 {
		t.Error("a view that showed nothing was audited as a view")
	}
	rec = ownerB.do(http.MethodPost, agentPath(conv, "/", req, "/done"), "")
	if rec.Code != http.StatusOK {
		t.Fatalf("done with A down: %d %s", rec.Code, rec.Body)
	}
	if a.CardForms.Holding() != 1 {
		t.Fatal("A should still hold the card it could not be told about")
	}
	if err := a.CardForms.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a.CardForms.Holding() != 0 {
		t.Error("A's sweep kept a card whose request was closed on B")
	}
}
