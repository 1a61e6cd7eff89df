package transcripthttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// noCard fails when text holds a card number in any form pan detects, or the test card's digits.
func noCard(t *testing.T, what, text string) {
	t.Helper()
	digits := regexp.MustCompile(`\D`).ReplaceAllString(text, "")
	if pan.Contains(text) || strings.Contains(digits, testCardDigits) {
		t.Errorf("%s holds a card number", what)
	}
}

// TestTranscriptView: the page shows every event (the whisper marked agent-only, the file by
// name and link), the visitor masked without visitor.view_pii and unmasked with it, pre-chat and
// survey answers; the card number typed in the chat is masked; the opening is audited.
func TestTranscriptView(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		rec := h.supervisor.Do(http.MethodGet, "/transcripts/"+h.c1, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("view: %d %s", rec.Code, rec.Body)
		}
		body := rec.Body.String()
		for _, want := range []string{"Hello, I was charged twice", "Let me check that for you", "Offer the goodwill credit",
			"Whisper: agents only", "statement.pdf", "/transcripts/" + h.c1 + "/files/", "Ada Lovelace", "ada@example.test",
			"Policy number", "PX-1234", "Rated <strong>5 of 5</strong>", "Very helpful", "1111", "The visitor started the chat.", "Export as PDF"} {
			if !strings.Contains(body, want) {
				t.Errorf("view lacks %q", want)
			}
		}
		noCard(t, "view page", body)
		// The agent (no visitor.view_pii) sees the visitor masked and no export.
		rec = h.agent.Do(http.MethodGet, "/transcripts/"+h.c1, "")
		body = rec.Body.String()
		if rec.Code != http.StatusOK || strings.Contains(body, "Ada Lovelace") || strings.Contains(body, "ada@example.test") || !strings.Contains(body, "A*** L***") {
			t.Errorf("agent's view does not mask the visitor: %d", rec.Code)
		}
		if strings.Contains(body, "Export as") {
			t.Errorf("agent without transcript.export sees the export buttons")
		}
		views := h.events(audit.ActionTranscriptView)
		if len(views) != 2 || views[0].Actor.ID != h.users["supervisor"].ID || views[0].Target.ID != h.c1 || views[0].Details["visitor_pii"] != "true" || views[1].Details["visitor_pii"] != "false" ||
			views[0].Details["department"] != h.billing.ID {
			t.Errorf("transcript.view records = %+v", views)
		}
		// The JSON API says the same.
		rec = h.supervisor.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/open", `{}`)
		var tr struct {
			Events []struct {
				Kind      string `json:"kind"`
				AgentOnly bool   `json:"agent_only"`
				Text      string `json:"text"`
			} `json:"events"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || rec.Code != 200 {
			t.Fatalf("open API: %d %v", rec.Code, err)
		}
		whispers := 0
		for _, e := range tr.Events {
			if e.Kind == "whisper" && e.AgentOnly {
				whispers++
			}
		}
		if whispers != 1 || len(tr.Events) != 7 {
			t.Errorf("events = %+v, want 7 with one whisper", tr.Events)
		}
	})
}

// TestTranscriptReasonRequired: with the policy on, the view asks a reason first (no content), the
// reason is checked (size, card numbers) and kept in the audit record; exports without one are
// refused; the policy is changed only by security.manage and the change is audited.
func TestTranscriptReasonRequired(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		if rec := h.supervisor.PostForm("/transcript-settings", url.Values{"require_reason": {"on"}}); rec.Code != http.StatusForbidden {
			t.Errorf("supervisor changes the policy: %d", rec.Code)
		}
		rec := h.admin.PostForm("/transcript-settings", url.Values{"require_reason": {"on"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/transcript-settings?notice=changed" {
			t.Fatalf("policy form: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if ev := h.events(audit.ActionTranscriptSettings); len(ev) != 1 || ev[0].Details["require_reason"] != "true" {
			t.Errorf("transcript.settings.change records = %+v", ev)
		}
		rec = h.supervisor.Do(http.MethodGet, "/transcripts/"+h.c1, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `action="/transcripts/`+h.c1+`/open"`) || strings.Contains(rec.Body.String(), "charged twice") {
			t.Fatalf("reason form: %d", rec.Code)
		}
		cases := []struct {
			name, reason string
			status       int
			contains     string
		}{
			{name: "empty", reason: "  ", status: 422, contains: "requires a reason"},
			{name: "card number", reason: "refund for " + testCard, status: 422, contains: "A card number is not allowed"},
			{name: "too long", reason: strings.Repeat("x", 501), status: 422, contains: "at most 500 characters"},
			{name: "given", reason: "Ticket 4521: billing complaint", status: 200, contains: "charged twice"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := h.supervisor.PostForm("/transcripts/"+h.c1+"/open", url.Values{"reason": {tc.reason}})
				if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("status %d, want %d with %q", rec.Code, tc.status, tc.contains)
				}
				noCard(t, "reason page", rec.Body.String())
			})
		}
		views := h.events(audit.ActionTranscriptView)
		if len(views) != 1 || views[0].Details["reason"] != "Ticket 4521: billing complaint" {
			t.Errorf("transcript.view records = %+v", views)
		}
		if rec := h.supervisor.Do(http.MethodGet, "/transcripts/"+h.c1+"/export?format=json", ""); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "requires a reason") {
			t.Errorf("export without a reason: %d %s", rec.Code, rec.Body)
		}
		rec = h.supervisor.PostForm("/transcripts/"+h.c1+"/export", url.Values{"format": {"json"}, "reason": {"Subject access request"}})
		if rec.Code != http.StatusOK {
			t.Errorf("export with a reason: %d", rec.Code)
		}
		if ex := h.events(audit.ActionTranscriptExport); len(ex) != 1 || ex[0].Details["reason"] != "Subject access request" || ex[0].Details["format"] != "json" {
			t.Errorf("transcript.export records = %+v", ex)
		}
		if rec := h.supervisor.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/open", `{}`); rec.Code != http.StatusBadRequest {
			t.Errorf("API open without reason: %d", rec.Code)
		}
	})
}

// TestTranscriptExports: JSON, HTML and PDF copies name their exporter and time, mask card numbers
// (the PDF read back with pdftotext), and the HTML copy is self-contained.
func TestTranscriptExports(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("PARLEY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("pdftotext (poppler-utils) is required")
		}
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		// A note with a card number typed into it: masked before it is sealed.
		if rec := h.supervisor.PostForm("/transcripts/"+h.c1+"/notes", url.Values{"body": {"Customer read out " + testCard + " by mistake"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("note: %d", rec.Code)
		}
		when := h.a.Clock.Now().UTC().Format("2 Jan 2006")
		for _, format := range []string{"json", "html", "pdf"} {
			t.Run(format, func(t *testing.T) {
				rec := h.supervisor.PostForm("/transcripts/"+h.c1+"/export", url.Values{"format": {format}})
				if rec.Code != http.StatusOK {
					t.Fatalf("export: %d %s", rec.Code, rec.Body)
				}
				if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, h.c1+"."+format) {
					t.Errorf("Content-Disposition %q", cd)
				}
				raw := rec.Body.Bytes()
				text := string(raw)
				if format == "pdf" {
					if !bytes.HasPrefix(raw, []byte("%PDF-")) {
						t.Fatalf("not a PDF")
					}
					path := filepath.Join(t.TempDir(), "copy.pdf")
					if err := os.WriteFile(path, raw, 0o600); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command(pdftotext, "-layout", path, "-").Output() // #nosec G204 -- fixed tool, test file path
					if err != nil {
						t.Fatal(err)
					}
					text = string(out)
				}
				day := when
				if format == "json" {
					day = h.a.Clock.Now().UTC().Format("2006-01-02")
				}
				for _, want := range []string{"supervisor@acme.test", day, "Hello, I was charged twice", "Offer the goodwill credit", "1111", "by mistake", "statement.pdf"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s copy lacks %q", format, want)
					}
				}
				noCard(t, format+" copy", text)
				noCard(t, format+" bytes", string(raw))
				if format == "html" {
					low := strings.ToLower(text)
					for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "http://", "https://", "style="} {
						if strings.Contains(low, bad) {
							t.Errorf("HTML copy is not self-contained: holds %q", bad)
						}
					}
				}
			})
		}
		if ex := h.events(audit.ActionTranscriptExport); len(ex) != 3 {
			t.Errorf("transcript.export records = %d, want 3", len(ex))
		}
		if rec := h.supervisor.PostForm("/transcripts/"+h.c1+"/export", url.Values{"format": {"docx"}}); rec.Code != http.StatusBadRequest {
			t.Errorf("unknown format: %d", rec.Code)
		}
	})
}

// TestTranscriptNotesAndTags: notes are sealed (the column holds no plaintext) with card numbers
// masked; tags are validated, refuse card numbers, are limited in number; each change is audited.
func TestTranscriptNotesAndTags(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		note := "Called back about the double charge; card " + testCard
		rec := h.agent.PostForm("/transcripts/"+h.c1+"/notes", url.Values{"body": {note}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/transcripts/"+h.c1+"?notice=note_added" {
			t.Fatalf("note: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		rec = h.agent.Do(http.MethodGet, rec.Header().Get("Location"), "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "The note was added.") || !strings.Contains(rec.Body.String(), "Called back about the double charge") {
			t.Fatalf("transcript after the note: %d", rec.Code)
		}
		noCard(t, "page after the note", rec.Body.String())
		var stored []string
		if err := migratetest.Beneath(t, h.a.DB).Gorm.Raw("SELECT body FROM transcript_notes").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || strings.Contains(stored[0], "double charge") || strings.Contains(stored[0], "1111") {
			t.Errorf("stored note = %q, want ciphertext", stored)
		}
		for _, tc := range []struct {
			name, path string
			form       url.Values
			status     int
			contains   string
		}{
			{name: "empty note", path: "/notes", form: url.Values{"body": {" "}}, status: 422, contains: "Write the note."},
			{name: "long note", path: "/notes", form: url.Values{"body": {strings.Repeat("n", 2001)}}, status: 422, contains: "at most 2000"},
			{name: "tag", path: "/tags", form: url.Values{"tag": {"Billing Dispute"}}, status: 200, contains: "billing dispute"},
			{name: "tag again", path: "/tags", form: url.Values{"tag": {"billing  dispute"}}, status: 200, contains: "already had that tag"},
			{name: "card number tag", path: "/tags", form: url.Values{"tag": {testCard}}, status: 422, contains: "A card number is not allowed"},
			{name: "bad tag", path: "/tags", form: url.Values{"tag": {"<b>x</b>"}}, status: 422, contains: "letters, digits"},
			{name: "long tag", path: "/tags", form: url.Values{"tag": {strings.Repeat("t", 33)}}, status: 422, contains: "1 to 32"},
			{name: "remove tag", path: "/tags/remove", form: url.Values{"tag": {"billing dispute"}}, status: 200, contains: "The tag was removed."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rec := h.agent.PostForm("/transcripts/"+h.c1+tc.path, tc.form)
				if rec.Code == http.StatusSeeOther {
					rec = h.agent.Do(http.MethodGet, rec.Header().Get("Location"), "")
				}
				if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("status %d, want %d with %q", rec.Code, tc.status, tc.contains)
				}
				noCard(t, "page", rec.Body.String())
			})
		}
		// Notes and tags on a conversation outside the agent's scope are 404.
		if rec := h.agent.PostForm("/transcripts/"+h.c2+"/notes", url.Values{"body": {"x"}}); rec.Code != http.StatusNotFound {
			t.Errorf("note outside scope: %d", rec.Code)
		}
		if rec := h.agent.Do(http.MethodPost, "/api/v1/transcripts/"+h.c2+"/tags", `{"tag":"x"}`); rec.Code != http.StatusNotFound {
			t.Errorf("tag outside scope: %d", rec.Code)
		}
		// The API: a card number in a tag is card_number_not_allowed; at most 12 tags.
		if rec := h.agent.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/tags", `{"tag":"`+testCardDigits+`"}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), "card_number_not_allowed") {
			t.Errorf("API card tag: %d %s", rec.Code, rec.Body)
		}
		for i := 0; i < 12; i++ {
			if rec := h.agent.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/tags", `{"tag":"t`+string(rune('a'+i))+`"}`); rec.Code != 200 {
				t.Fatalf("tag %d: %d %s", i, rec.Code, rec.Body)
			}
		}
		if rec := h.agent.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/tags", `{"tag":"one too many"}`); rec.Code != http.StatusConflict {
			t.Errorf("13th tag: %d", rec.Code)
		}
		if rec := h.agent.Do(http.MethodDelete, "/api/v1/transcripts/"+h.c1+"/tags/ta", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), `"ta"`) {
			t.Errorf("remove tag: %d %s", rec.Code, rec.Body)
		}
		h.agent.Do(http.MethodPost, "/api/v1/transcripts/"+h.c1+"/tags", `{"tag":"two words"}`)
		if rec := h.agent.Do(http.MethodDelete, "/api/v1/transcripts/"+h.c1+"/tags/two%20words", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "two words") {
			t.Errorf("remove a tag with a space: %d %s", rec.Code, rec.Body)
		}
		if n := len(h.events(audit.ActionTranscriptNote)); n != 1 {
			t.Errorf("transcript.note records = %d, want 1", n)
		}
		if n := len(h.events(audit.ActionTranscriptTag)); n != 17 {
			t.Errorf("transcript.tag records = %d, want 17 (2 form changes, 13 adds, 2 removals)", n)
		}
		for _, e := range h.events(audit.ActionTranscriptNote) {
			for _, v := range e.Details {
				if strings.Contains(v, "double charge") {
					t.Errorf("the note's text reached the audit log")
				}
			}
		}
	})
}

// TestTranscriptFiles: a reader downloads the conversation's files from the transcript (audited,
// as an attachment in a sandbox) though they never took part in it; outside the scope it is 404.
func TestTranscriptFiles(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		page := h.admin.Do(http.MethodGet, "/transcripts/"+h.c1, "").Body.String()
		link := regexp.MustCompile(`href="(/transcripts/[^"]+/files/[^"]+)"`).FindStringSubmatch(page)
		if link == nil {
			t.Fatal("no file link on the transcript")
		}
		rec := h.admin.Do(http.MethodGet, link[1], "")
		if rec.Code != http.StatusOK || rec.Body.String() != "%PDF-1.4 statement" {
			t.Fatalf("download: %d %q", rec.Code, rec.Body)
		}
		if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "statement.pdf") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("CSP %q", csp)
		}
		if rec := h.agent2.Do(http.MethodGet, link[1], ""); rec.Code != http.StatusNotFound {
			t.Errorf("download outside the scope: %d", rec.Code)
		}
		if rec := h.admin.Do(http.MethodGet, "/transcripts/"+h.c1+"/files/00000000-0000-7000-8000-000000000000", ""); rec.Code != http.StatusNotFound {
			t.Errorf("unknown file: %d", rec.Code)
		}
		if ev := h.events(audit.ActionFileDownload); len(ev) != 1 || ev[0].Actor.ID != h.users["admin"].ID {
			t.Errorf("file.download records = %+v", ev)
		}
	})
}

// TestTranscriptNoteWithReason: when the transcript was opened with a reason, a note's form
// carries it and the transcript is shown again under it (audited with it).
func TestTranscriptNoteWithReason(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	if rec := h.owner.PostForm("/transcript-settings", url.Values{"require_reason": {"on"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("policy: %d", rec.Code)
	}
	rec := h.supervisor.PostForm("/transcripts/"+h.c1+"/notes", url.Values{"body": {"Checked"}, "reason": {"Ticket 7"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "The note was added.") || !strings.Contains(rec.Body.String(), `name="reason" value="Ticket 7"`) {
		t.Fatalf("note with a reason: %d", rec.Code)
	}
	if views := h.events(audit.ActionTranscriptView); len(views) != 1 || views[0].Details["reason"] != "Ticket 7" {
		t.Errorf("transcript.view records = %+v", views)
	}
}
