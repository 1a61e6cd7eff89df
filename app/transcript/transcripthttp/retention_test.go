package transcripthttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// heldSet is a HoldChecker over a fixed set of conversations (the retention service answers the
// same question from its legal holds).
type heldSet map[string]bool

func (h heldSet) ConversationHeld(_ context.Context, _, id string) (bool, error) { return h[id], nil }

// TestTranscriptRetentionSection: the view offers the retention service's forms (with the CSRF
// token) to who holds retention.manage, says whether the conversation is held, and offers
// nothing to an agent.
func TestTranscriptRetentionSection(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	body := h.admin.Do(http.MethodGet, "/transcripts/"+h.c1, "").Body.String()
	if !strings.Contains(body, `action="/transcripts/`+h.c1+`/hold"`) || !strings.Contains(body, "not under legal hold") ||
		!strings.Contains(body, `name="csrf_token" value="`+h.admin.CSRF+`"`) {
		t.Errorf("admin's view lacks the hold form")
	}
	if strings.Contains(h.agent.Do(http.MethodGet, "/transcripts/"+h.c1, "").Body.String(), "Retention") {
		t.Errorf("agent's view offers retention actions")
	}
	h.a.Transcripts.Holds = heldSet{h.c1: true}
	body = h.admin.Do(http.MethodGet, "/transcripts/"+h.c1, "").Body.String()
	if !strings.Contains(body, `action="/transcripts/`+h.c1+`/hold/release"`) || !strings.Contains(body, "Legal hold:") ||
		strings.Contains(body, `/delete"`) {
		t.Errorf("held conversation's view: release form and banner expected, no delete")
	}
}
