package chathttp_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// separators are removed before the database is searched for card digits, so "4111 1111 …" and
// "4111-1111-…" are found too.
var separators = regexp.MustCompile(`[\s\-.]`)

// dumpDatabase returns every value of every table as text.
func dumpDatabase(t *testing.T, db *migrations.DB) []string {
	t.Helper()
	var tables []string
	switch db.Dialect {
	case migrations.SQLite:
		migratetest.Beneath(t, db).Gorm.Raw("SELECT name FROM sqlite_master WHERE type = 'table'").Scan(&tables)
	default:
		migratetest.Beneath(t, db).Gorm.Raw("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables)
	}
	if len(tables) < 10 {
		t.Fatalf("found only %d tables", len(tables))
	}
	var out []string
	for _, tb := range tables {
		rows, err := migratetest.Beneath(t, db).Gorm.Raw("SELECT * FROM " + tb).Rows()
		if err != nil {
			t.Fatalf("read %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					out = append(out, string(x))
				case nil:
				default:
					out = append(out, fmt.Sprint(x))
				}
			}
		}
		_ = rows.Close()
	}
	return out
}

// TestPANMaskedInStorageAndDelivery sends card numbers in both directions, split across
// messages, in pre-chat answers, an offline message and a file name: every receiver sees them
// masked, and a search of every database row for the digits finds nothing.
func TestPANMaskedInStorageAndDelivery(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "my card is 4111 1111 1111 1111 exp 12/27"})
		got := ch.agent.events(1)[0]
		if pan.Contains(got.Text) || !strings.Contains(got.Text, "1111") || strings.Contains(got.Text, "12/27") {
			t.Fatalf("agent received %q, want the card number and expiry masked", got.Text)
		}
		if own := ch.visitor.events(1)[0]; own.Text != got.Text {
			t.Fatalf("visitor's own copy %q differs from the delivered %q", own.Text, got.Text)
		}
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "Is it 5555-5555-5555-4444?"})
		if v := ch.visitor.events(1)[0]; pan.Contains(v.Text) || !strings.Contains(v.Text, "4444") {
			t.Fatalf("visitor received %q, want the agent's card number masked", v.Text)
		}
		ch.agent.events(1)

		// Split across two messages: the second is masked on arrival, the first amended.
		ch.visitor.send(map[string]any{"type": "message", "key": "v-2", "text": "3782 822463"})
		first := ch.agent.events(1)[0]
		ch.visitor.send(map[string]any{"type": "message", "key": "v-3", "text": "10005"})
		evs := ch.agent.events(2)
		if evs[0].Text == "10005" {
			t.Fatalf("second half delivered in clear: %q", evs[0].Text)
		}
		if evs[1].Kind != "amend" || evs[1].TargetSeq != first.Seq || strings.Contains(evs[1].Text, "822463") {
			t.Fatalf("amend = %+v, want seq %d re-masked", evs[1], first.Seq)
		}

		// Pre-chat answers and the name, an offline message.
		other := n.newVisitor(t, e)
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), other.VisitorToken, map[string]any{"department_id": e.cards.ID,
			"name": "Card 4111111111111111"}, nil); code != http.StatusCreated {
			t.Fatalf("start = %d", code)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/offline"), other.VisitorToken, map[string]any{"name": "Ada",
			"email": "ada@example.com", "message": "please charge 4111-1111-1111-1111"}, nil); code != http.StatusCreated {
			t.Fatalf("offline = %d", code)
		}

		for _, v := range dumpDatabase(t, e.db) {
			flat := separators.ReplaceAllString(v, "")
			for _, digits := range []string{"4111111111111111", "5555555555554444", "378282246310005", "82246310005"} {
				if strings.Contains(flat, digits) {
					t.Fatalf("database holds card digits %s in %q", digits, v)
				}
			}
			for _, clear := range []string{"my card is", "please charge", "Is it"} {
				if strings.Contains(v, clear) {
					t.Fatalf("database holds message text in clear: %q", v)
				}
			}
		}
		// The stored bodies open to the masked text.
		var bodies []string
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ? AND kind = 'message'", ch.conv).Order("seq").Pluck("body", &bodies)
		env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: e.keys, Store: vault.NewStore(e.db, e.clock.Now)})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		var seqs []int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ? AND kind = 'message'", ch.conv).Order("seq").Pluck("seq", &seqs)
		for i, b := range bodies {
			text, err := env.OpenString(context.Background(), vault.Binding{Tenant: e.tenant.ID, Scope: ch.conv, Field: vault.FieldMessageBody, Seq: seqs[i]}, b)
			if err != nil {
				t.Fatal(err)
			}
			if pan.Contains(text) || strings.Contains(text, "822463") {
				t.Fatalf("stored message %d opens to %q, want masked", seqs[i], text)
			}
		}
	})
}

// flaky is the real local key provider with an off switch: while down it answers as an
// unreachable Vault would.
type flaky struct {
	vault.KeyProvider
	down atomic.Bool
}

func (f *flaky) GenerateDataKey(ctx context.Context, tenantID string) (vault.DataKey, error) {
	if f.down.Load() {
		return vault.DataKey{}, fmt.Errorf("transit: %w", vault.ErrUnavailable)
	}
	return f.KeyProvider.GenerateDataKey(ctx, tenantID)
}

// TestFailClosed: without the key provider no conversation starts and nothing is stored; without
// the audit log no conversation starts either.
func TestFailClosed(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := &flaky{KeyProvider: e.keys}
		e.keys = f
		n := e.node(e.db, chat.Limits{})
		n.agentSocket(t, e.fullAgent("Frank"), nil)
		id := n.newVisitor(t, e)
		f.down.Store(true)
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID, "name": "Ada"}, &eb); code != http.StatusServiceUnavailable || eb.Error.Code != "unavailable" {
			t.Fatalf("start without key provider = %d %s, want 503 unavailable", code, eb.Error.Code)
		}
		var convs int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversations").Count(&convs)
		if convs != 0 {
			t.Fatalf("%d conversations stored without a key provider, want 0", convs)
		}
		f.down.Store(false)
		e.audit.setFail(true)
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID, "name": "Ada"}, &eb); code < 500 {
			t.Fatalf("start without audit log = %d, want a server error", code)
		}
		migratetest.Beneath(t, e.db).Gorm.Table("conversations").Count(&convs)
		if convs != 0 {
			t.Fatalf("%d conversations stored without an audit record, want 0", convs)
		}
		e.audit.setFail(false)
		n.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
		if e.audit.count(audit.ActionConversationStart) != 1 {
			t.Fatal("the successful start was not audited")
		}
	})
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts raw bytes as a file.
func upload(t *testing.T, url, token string, data []byte, hdr ...string) (int, errBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var eb errBody
	_ = jsonDecode(resp, &eb)
	return resp.StatusCode, eb
}

// TestFileTransfer: off by default; when on, only allowed types by content, within the size
// limit, stored encrypted, delivered as a file event, downloadable by the conversation's
// participants only, every download audited.
func TestFileTransfer(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		upURL := n.widgetURL(e, "/chats/"+ch.conv+"/files?name=receipt.png")
		if code, eb := upload(t, upURL, ch.id.VisitorToken, pngBytes(t)); code != http.StatusForbidden || eb.Error.Code != "file_transfer_disabled" {
			t.Fatalf("upload with files off = %d %s, want 403 file_transfer_disabled", code, eb.Error.Code)
		}
		admin := e.agent("Admin", map[string][]string{"site.manage": nil})
		set := chat.DefaultSettings()
		set.FileTransfer, set.FileMaxBytes = true, 4096
		if code := do(t, http.MethodPut, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", set, nil, "X-Test-User", admin); code != http.StatusOK {
			t.Fatalf("enable files = %d", code)
		}
		if e.audit.count(audit.ActionSiteUpdate) != 1 {
			t.Error("settings change not audited")
		}
		if code, eb := upload(t, upURL, ch.id.VisitorToken, []byte("MZ\x90\x00 not a picture")); code != http.StatusUnsupportedMediaType || eb.Error.Code != "file_type_not_allowed" {
			t.Fatalf("executable upload = %d %s, want 415", code, eb.Error.Code)
		}
		if code, eb := upload(t, upURL, ch.id.VisitorToken, bytes.Repeat([]byte("a"), 5000)); code != http.StatusRequestEntityTooLarge || eb.Error.Code != "file_too_large" {
			t.Fatalf("oversized upload = %d %s, want 413", code, eb.Error.Code)
		}
		img := pngBytes(t)
		if code, eb := upload(t, upURL, ch.id.VisitorToken, img); code != http.StatusCreated {
			t.Fatalf("upload = %d %s, want 201", code, eb.Error.Code)
		}
		ev := ch.agent.events(1)[0]
		if ev.Kind != "file" || ev.File == nil || ev.File.Name != "receipt.png" || ev.File.Type != "image/png" {
			t.Fatalf("agent got %+v, want the file event", ev)
		}
		var stored [][]byte
		migratetest.Beneath(t, e.db).Gorm.Table("chat_files").Pluck("content", &stored)
		if len(stored) != 1 || bytes.Contains(stored[0], []byte("PNG")) {
			t.Fatal("file content is stored in clear")
		}
		req, _ := http.NewRequest(http.MethodGet, n.srv.URL+"/api/v1/chat/conversations/"+ch.conv+"/files/"+ev.File.ID, nil)
		req.Header.Set("X-Test-User", ch.agentID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("agent download = %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		if _, err := png.Decode(bytes.NewReader(body)); err != nil {
			t.Fatalf("downloaded file is not the image: %v", err)
		}
		if e.audit.count(audit.ActionFileDownload) != 1 {
			t.Error("download not audited")
		}
		stranger := n.newVisitor(t, e)
		if code := do(t, http.MethodGet, n.widgetURL(e, "/chats/"+ch.conv+"/files/"+ev.File.ID), stranger.VisitorToken, nil, nil); code != http.StatusNotFound {
			t.Fatalf("another visitor's download = %d, want 404", code)
		}
		outsider := e.fullAgent("Outsider")
		req.Header.Set("X-Test-User", outsider)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("download by an agent outside the conversation = %d, want 404", resp.StatusCode)
		}
	})
}
