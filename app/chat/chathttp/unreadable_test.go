package chathttp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestMovedCiphertextIsRefusedAndAudited: a message body copied onto another row (someone with
// database access moving ciphertext around) does not open under that row's binding; the replay
// refuses it, nothing of it is delivered as the other message, and the attempt is audited.
func TestMovedCiphertextIsRefusedAndAudited(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "first"})
		first := ch.visitor.events(1)[0].Seq
		ch.visitor.send(map[string]any{"type": "message", "key": "v-2", "text": "second"})
		ch.visitor.events(1)
		ch.agent.events(2)
		_ = ch.visitor.conn.CloseNow()
		if err := migratetest.Beneath(t, e.db).Gorm.Exec(`UPDATE conversation_events SET body = (SELECT body FROM conversation_events c2
			WHERE c2.conversation_id = ? AND c2.seq = ?) WHERE conversation_id = ? AND seq = ?`,
			ch.conv, first+1, ch.conv, first).Error; err != nil {
			t.Fatal(err)
		}
		again, code := dial(t, n.widgetURL(e, "/ws"), http.Header{"Origin": {siteOrigin}})
		if again == nil {
			t.Fatalf("visitor socket refused: %d", code)
		}
		again.send(map[string]any{"type": "hello", "token": ch.id.VisitorToken, "conversation_id": ch.conv, "last_seq": first - 1})
		deadline := time.Now().Add(10 * time.Second)
		for e.audit.count(audit.ActionDecryptFailure) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := e.audit.count(audit.ActionDecryptFailure); got == 0 {
			t.Fatal("a moved ciphertext was not audited")
		}
		// The socket is closed as an internal error; no event carrying the moved text is delivered.
		if status, reason := again.closed(); status != websocket.StatusInternalError || strings.Contains(reason, "second") {
			t.Errorf("socket closed with %d %q, want 1011 and no content", status, reason)
		}
	})
}
