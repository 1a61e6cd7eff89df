package cobrowse_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/cobrowse"
	"github.com/parleyhq/parley/compliance/nodeauth"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestCobrowseTwoNodes: the visitor shares on node A, the agent watches and controls from node
// B through the signed, sealed node-to-node link; nothing of the page goes through the
// database. A forged attachment gets nothing.
func TestCobrowseTwoNodes(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := migratetest.URL(t, d)
			w, a := newWorld(t, url, cobrowse.Options{})
			b := w.newNode(openDB(t, url))
			ownerB := b.login(w.owner)
			ownerB.enable(120)
			conv := w.conversation(w.visitorA, w.owner)
			id := ownerB.request(conv)
			vis := a.visitorSocket(w.visitorA, conv, id)
			if a.Cobrowse.Holding() != 1 || b.Cobrowse.Holding() != 0 {
				t.Fatalf("held: A %d, B %d; want A only", a.Cobrowse.Holding(), b.Cobrowse.Holding())
			}
			ag, resp, err := ownerB.agentSocket(conv, id)
			if err != nil {
				t.Fatalf("agent socket on B: %v %v\n%s", resp, err, w.logs)
			}
			if f := ag.next(); f["t"] != "state" {
				t.Fatalf("agent's first frame %v", f)
			}
			if f := vis.next(); f["t"] != "resync" {
				t.Fatalf("visitor frame %v", f)
			}
			vis.send(page)
			if snap := ag.nextRaw(); leaked(snap) != nil || !bytes.Contains(snap, []byte("Checkout")) {
				t.Errorf("snapshot on B: %s", snap)
			}
			ag.send(`{"t":"control_request"}`)
			if f := vis.next(); f["t"] != "control_request" {
				t.Fatalf("visitor got %v", f)
			}
			_ = ag.next()
			vis.send(`{"t":"control_consent"}`)
			_ = vis.next()
			if f := ag.next(); f["mode"] != "control" {
				t.Fatalf("agent got %v", f)
			}
			ag.send(`{"t":"click","id":15}`)
			if f := vis.next(); f["t"] != "click" {
				t.Fatalf("visitor got %v", f)
			}

			// A forged attachment: right shape, another secret.
			stranger := nodeauth.Signature(bytes.Repeat([]byte{1}, 32), "parley/cobrowse/attach/v1", []byte("{}"))
			body, _ := json.Marshal(map[string]any{"tenant": w.tenant.ID, "conversation": conv, "session": id, "agent": w.owner.ID,
				"control": true, "node": "x", "time": w.clock.Now().Unix(), "nonce": "0123456789abcdef0123456789abcdef"})
			h := http.Header{"X-Parley-Cobrowse-Attach": {base64.RawURLEncoding.EncodeToString(body)}, "X-Parley-Peer-Signature": {stranger}}
			conn, resp, err := a.dial("/internal/v1/cobrowse", h)
			if err == nil {
				_ = conn.CloseNow()
				t.Fatal("a forged node-to-node attachment was accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("forged attachment: %v, want 401", resp)
			}

			ag.send(`{"t":"end"}`)
			for {
				if f := vis.next(); f["t"] == "end" {
					if f["reason"] != cobrowse.ReasonAgentEnded {
						t.Errorf("reason %v", f["reason"])
					}
					break
				}
			}
			if code := ag.closed(); code != websocket.StatusNormalClosure {
				t.Errorf("agent socket closed with %d", code)
			}
			if l := leaked([]byte(w.logs.String())); len(l) > 0 {
				t.Errorf("the logs hold %v", l)
			}
			_ = time.Second
		})
	}
}
