package cobrowse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/cobrowse"
	"github.com/parleyhq/parley/app/cobrowse/dom"
	"github.com/parleyhq/parley/audit"
)

// page is a visitor's snapshot holding everything that must never reach the agent: a
// parley-nosync block, a data-parley-private block, a password, a card field with a value, a
// card number in text, a script and an event handler.
var page = `{"t":"snapshot","url":"https://shop.example/checkout","title":"Checkout","w":1200,"h":800,"root":
{"id":1,"k":"e","tag":"html","c":[{"id":2,"k":"e","tag":"body","a":{"onload":"window.__pwned=1"},"c":[
 {"id":3,"k":"e","tag":"h1","c":[{"id":4,"k":"t","v":"Checkout"}]},
 {"id":5,"k":"e","tag":"div","a":{"class":"parley-nosync"},"c":[{"id":6,"k":"t","v":"NOSYNC-SECRET"}]},
 {"id":7,"k":"e","tag":"div","a":{"data-parley-private":""},"c":[{"id":8,"k":"t","v":"PRIVATE-SECRET"}]},
 {"id":9,"k":"e","tag":"input","a":{"type":"password","value":"PASSWORD-SECRET"}},
 {"id":10,"k":"e","tag":"input","a":{"name":"cardnumber","autocomplete":"cc-number","value":"4111 1111 1111 1111"}},
 {"id":11,"k":"e","tag":"p","c":[{"id":12,"k":"t","v":"Paid with 4111 1111 1111 1111"}]},
 {"id":13,"k":"e","tag":"script","c":[{"id":14,"k":"t","v":"window.__pwned=1"}]},
 {"id":15,"k":"e","tag":"button","a":{"id":"buy"},"c":[{"id":16,"k":"t","v":"Buy"}]},
 {"id":17,"k":"e","tag":"input","a":{"name":"email","value":"ada@example.com"}}]}]}}`

var secrets = []string{"NOSYNC-SECRET", "PRIVATE-SECRET", "PASSWORD-SECRET", "4111 1111 1111 1111", "4111111111111111",
	"ada@example.com", "onload", "script"}

func leaked(b []byte) []string {
	var out []string
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			out = append(out, s)
		}
	}
	return out
}

// TestCobrowseSession runs a session on one node: request, the visitor's consent, the agent
// seeing the page change live with nothing private in it, a click refused in view mode and
// relayed after the visitor's second consent, the visitor stopping; each step audited.
func TestCobrowseSession(t *testing.T) {
	eachDB(t, cobrowse.Options{}, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		conv := w.conversation(w.visitorA, w.owner)
		if rec := owner.do(http.MethodPost, agentPath(conv), ""); rec.Code != http.StatusConflict || errorCode(rec) != "cobrowse_disabled" {
			t.Fatalf("request with co-browsing off: %d %s", rec.Code, rec.Body)
		}
		owner.enable(120)
		id := owner.request(conv)
		if ev := w.chatEvents(conv); len(ev) == 0 || ev[len(ev)-1] != cobrowse.EventRequested {
			t.Errorf("chat events %v, want cobrowse_requested last", ev)
		}
		if _, resp, err := owner.agentSocket(conv, id); err == nil || resp == nil || resp.StatusCode != http.StatusConflict {
			t.Fatalf("agent socket before the visitor's consent: %v %v", resp, err)
		}
		// Another visitor cannot start it.
		conn, _, err := n.dial("/api/v1/widget/sites/"+w.site.SiteKey+"/cobrowse/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		other := &sock{t: t, conn: conn}
		other.send(map[string]string{"t": "hello", "token": w.visitorB.Token, "conversation_id": conv, "session_id": id})
		if code := other.closed(); code != 4404 {
			t.Errorf("another visitor's hello: close %d, want 4404", code)
		}

		vis := n.visitorSocket(w.visitorA, conv, id)
		ag, _, err := owner.agentSocket(conv, id)
		if err != nil {
			t.Fatal(err)
		}
		if f := ag.next(); f["t"] != "state" || f["mode"] != "view" || f["control_allowed"] != true {
			t.Fatalf("agent's first frame %v", f)
		}
		if f := vis.next(); f["t"] != "resync" {
			t.Fatalf("visitor's frame after the agent attached: %v, want resync", f)
		}
		vis.send(page)
		snap := ag.nextRaw()
		if l := leaked(snap); len(l) > 0 {
			t.Errorf("the agent received %v: %s", l, snap)
		}
		if !bytes.Contains(snap, []byte(`"Checkout"`)) || !bytes.Contains(snap, []byte(`"k":"p"`)) || !bytes.Contains(snap, []byte("1111")) {
			t.Errorf("snapshot lost its content or placeholders: %s", snap)
		}
		// The page changes: the agent sees it.
		vis.send(`{"t":"mutations","m":[{"op":"text","id":4,"v":"Payment"},{"op":"value","id":17,"name":"email","v":"x@y.example"}]}`)
		mut := ag.nextRaw()
		if !bytes.Contains(mut, []byte("Payment")) || bytes.Contains(mut, []byte("x@y.example")) {
			t.Errorf("mutations relayed as %s", mut)
		}

		// View mode: a click goes nowhere. The control request is the next thing the visitor gets.
		ag.send(`{"t":"click","id":15}`)
		ag.send(`{"t":"control_request"}`)
		if f := vis.next(); f["t"] != "control_request" {
			t.Fatalf("visitor got %v, want control_request (and no click)", f)
		}
		if f := ag.next(); f["control_asked"] != true {
			t.Errorf("agent state after asking: %v", f)
		}
		vis.send(`{"t":"control_consent"}`)
		if f := vis.next(); f["t"] != "mode" || f["mode"] != "control" {
			t.Fatalf("visitor after consent: %v", f)
		}
		if f := ag.next(); f["mode"] != "control" {
			t.Fatalf("agent after consent: %v", f)
		}
		ag.send(`{"t":"click","id":15}`)
		if f := vis.next(); f["t"] != "click" || f["id"] != float64(15) {
			t.Fatalf("visitor after the click in control mode: %v", f)
		}
		ag.send(`{"t":"input","id":17,"v":"4111 1111 1111 1111"}`)
		ag.send(`{"t":"input","id":17,"v":"hello"}`)
		if f := vis.next(); f["t"] != "input" || f["v"] != "hello" {
			t.Fatalf("typed text: %v, want hello (a card number is never typed)", f)
		}
		vis.send(`{"t":"control_revoke"}`)
		if f := ag.next(); f["mode"] != "view" {
			t.Fatalf("agent after the visitor took control back: %v", f)
		}

		vis.send(`{"t":"stop"}`)
		for {
			f := ag.next()
			if f["t"] == "end" {
				if f["reason"] != cobrowse.ReasonVisitorStopped {
					t.Errorf("end reason %v", f["reason"])
				}
				break
			}
		}
		if st, reason := w.row(id); st != "ended" || reason != cobrowse.ReasonVisitorStopped {
			t.Errorf("row %s %s", st, reason)
		}
		for action, want := range map[audit.Action]int{audit.ActionCobrowseRequest: 2, audit.ActionCobrowseConsent: 2,
			audit.ActionCobrowseStart: 1, audit.ActionCobrowseMode: 2, audit.ActionCobrowseEnd: 1} {
			if got := len(n.events(action)); got != want {
				t.Errorf("%d %s events, want %d", got, action, want)
			}
		}
		if end := n.events(audit.ActionCobrowseEnd); len(end) == 1 && end[0].Details["reason"] != cobrowse.ReasonVisitorStopped {
			t.Errorf("cobrowse.end details %v", end[0].Details)
		}
		if l := leaked([]byte(w.logs.String())); len(l) > 0 {
			t.Errorf("the logs hold %v", l)
		}
		if n.Cobrowse.Holding() != 0 {
			t.Error("the node still holds the session")
		}
	})
}

// TestCobrowseAgentWithoutControl: an agent without cobrowse.control sees the page but cannot
// ask for control; a visitor's consent without a request changes nothing.
func TestCobrowseAgentWithoutControl(t *testing.T) {
	w, n := newWorld(t, "sqlite://"+t.TempDir()+"/db.sqlite", cobrowse.Options{})
	n.login(w.owner).enable(120)
	agent := n.login(w.agent)
	conv := w.conversation(w.visitorA, w.agent)
	id := agent.request(conv)
	vis := n.visitorSocket(w.visitorA, conv, id)
	ag, _, err := agent.agentSocket(conv, id)
	if err != nil {
		t.Fatal(err)
	}
	if f := ag.next(); f["control_allowed"] != false {
		t.Fatalf("agent state %v, want control_allowed false", f)
	}
	_ = vis.next() // resync
	ag.send(`{"t":"control_request"}`)
	vis.send(`{"t":"control_consent"}`)
	ag.send(`{"t":"click","id":15}`)
	vis.send(`{"t":"pointer","x":5,"y":6}`)
	if f := ag.next(); f["t"] != "pointer" {
		t.Fatalf("agent got %v, want the pointer (no mode change)", f)
	}
	if s, _ := n.Cobrowse.Held(id); s.Mode() != cobrowse.ModeView {
		t.Errorf("mode %s, want view", s.Mode())
	}
	if e := n.events(audit.ActionCobrowseMode); len(e) != 0 {
		t.Errorf("%d mode changes", len(e))
	}
}

// TestCobrowseEnds covers the other ends: the agent idle past the site's limit (injected
// clock), the chat ending, the visitor leaving the page, the visitor declining, an agent that
// cannot keep up, a page sending too much.
func TestCobrowseEnds(t *testing.T) {
	eachDB(t, cobrowse.Options{QueueFrames: 4}, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		owner.enable(30)
		start := func() (string, string, *sock) {
			conv := w.conversation(w.visitorA, w.owner)
			id := owner.request(conv)
			return conv, id, n.visitorSocket(w.visitorA, conv, id)
		}
		t.Run("agent idle", func(t *testing.T) {
			conv, id, _ := start()
			ag, _, err := owner.agentSocket(conv, id)
			if err != nil {
				t.Fatal(err)
			}
			_ = ag.next()
			w.clock.Advance(29 * time.Second)
			ag.send(`{"t":"activity"}`)
			ag.send(`{"t":"view_only"}`) // answered with a state frame: the activity was taken
			_ = ag.next()
			w.clock.Advance(29 * time.Second)
			n.Cobrowse.Sweep(context.Background())
			if _, ok := n.Cobrowse.Held(id); !ok {
				t.Fatal("ended although the agent was active 29 s ago")
			}
			w.clock.Advance(2 * time.Second)
			n.Cobrowse.Sweep(context.Background())
			if f := ag.next(); f["t"] != "end" || f["reason"] != cobrowse.ReasonAgentIdle {
				t.Fatalf("agent got %v, want end agent_idle", f)
			}
			if _, reason := w.row(id); reason != cobrowse.ReasonAgentIdle {
				t.Errorf("end reason %q", reason)
			}
		})
		t.Run("chat ended", func(t *testing.T) {
			conv, id, vis := start()
			n.Cobrowse.ConversationClosed(w.tenant.ID, conv)
			for {
				if f := vis.next(); f["t"] == "end" {
					if f["reason"] != cobrowse.ReasonChatEnded {
						t.Errorf("reason %v", f["reason"])
					}
					break
				}
			}
			if _, reason := w.row(id); reason != cobrowse.ReasonChatEnded {
				t.Errorf("end reason %q", reason)
			}
		})
		t.Run("visitor left the page", func(t *testing.T) {
			_, id, vis := start()
			_ = vis.conn.CloseNow()
			deadline := time.Now().Add(10 * time.Second)
			for {
				if st, reason := w.row(id); st == "ended" {
					if reason != cobrowse.ReasonVisitorLeft {
						t.Errorf("end reason %q", reason)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the session did not end when the visitor's socket closed")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		t.Run("declined", func(t *testing.T) {
			conv := w.conversation(w.visitorA, w.owner)
			id := owner.request(conv)
			rec := n.do(requestAs(w, conv, id, w.visitorA.Token))
			if rec.Code != http.StatusNoContent {
				t.Fatalf("decline: %d %s", rec.Code, rec.Body)
			}
			if _, reason := w.row(id); reason != cobrowse.ReasonDeclined {
				t.Errorf("end reason %q", reason)
			}
			conn, _, _ := n.dial("/api/v1/widget/sites/"+w.site.SiteKey+"/cobrowse/ws", nil)
			s := &sock{t: t, conn: conn}
			s.send(map[string]string{"t": "hello", "token": w.visitorA.Token, "conversation_id": conv, "session_id": id})
			if code := s.closed(); code != 4409 {
				t.Errorf("sharing a declined session: close %d, want 4409", code)
			}
		})
		t.Run("agent too slow", func(t *testing.T) {
			conv, id, vis := start()
			leg, err := n.Cobrowse.AttachAgent(w.tenant.ID, conv, id, w.owner.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			_ = vis.next() // resync
			for i := 0; i < 10; i++ {
				vis.send(`{"t":"pointer","x":1,"y":2}`)
			}
			s, _ := n.Cobrowse.Held(id)
			if s == nil {
				// Already ended in memory: its row records the end as soon as the write lands.
				deadline := time.Now().Add(10 * time.Second)
				for {
					st, reason := w.row(id)
					if st == "ended" {
						if reason != cobrowse.ReasonAgentSlow {
							t.Fatalf("end reason %q", reason)
						}
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the session's row is %q, not ended", st)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("an agent leg that is never read did not end the session")
			}
			if s.Reason() != cobrowse.ReasonAgentSlow {
				t.Errorf("reason %q", s.Reason())
			}
			_ = leg
		})
		t.Run("page sends too much", func(t *testing.T) {
			_, id, vis := start()
			big := `{"t":"mutations","m":[` + strings.Repeat(`{"op":"remove","id":1},`, 2500) + `{"op":"remove","id":1}]}`
			vis.send(big)
			if f := vis.next(); f["t"] != "end" || f["reason"] != cobrowse.ReasonLimit {
				t.Fatalf("visitor got %v", f)
			}
			if _, reason := w.row(id); reason != cobrowse.ReasonLimit {
				t.Errorf("end reason %q", reason)
			}
		})
	})
}

// unsafeFrame says what in a relayed frame could run or leak ("" when nothing): a private
// value, a tag or attribute that runs script, a URL that is not http(s), a fragment or an image,
// CSS that runs or loads from elsewhere.
func unsafeFrame(b []byte) string {
	for _, s := range []string{"NOSYNC-SECRET", "PRIVATE-SECRET", "PASSWORD-SECRET", "4111 1111 1111 1111", "4111111111111111", "ada@example.com"} {
		if bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	var f dom.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return "not a frame"
	}
	var msg string
	var walk func(n *dom.Node)
	walk = func(n *dom.Node) {
		if n == nil || msg != "" {
			return
		}
		switch n.Tag {
		case "script", "iframe", "object", "embed", "frame", "base", "meta", "template", "use", "foreignobject":
			msg = "tag " + n.Tag
		}
		for k, v := range n.Attrs {
			lv := strings.ToLower(v)
			switch {
			case strings.HasPrefix(k, "on"), k == "srcdoc", k == "formaction", k == "action", strings.HasPrefix(k, "xlink"):
				msg = "attribute " + k
			case k == "href" || k == "src":
				if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:image/") {
					msg = k + " " + v
				}
			case k == "style":
				for _, bad := range []string{"expression(", "javascript:", "@import", "-moz-binding", "behavior", "image-set("} {
					if strings.Contains(lv, bad) {
						msg = "style " + v
					}
				}
				for _, part := range strings.Split(lv, "url(")[1:] {
					if !strings.HasPrefix(part, `"`+siteOrigin) && !strings.HasPrefix(part, `"data:image/`) {
						msg = "style url " + v
					}
				}
			}
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(f.Root)
	for _, m := range f.M {
		walk(m.Node)
		if m.Op == dom.OpAttr && m.Value != nil && (strings.HasPrefix(m.Name, "on") || m.Name == "href" && strings.Contains(strings.ToLower(*m.Value), "script:")) {
			msg = "mutation of " + m.Name
		}
	}
	return msg
}

// TestCobrowseBuffers inspects what the server queues for the agent (the only buffer of page
// content): the XSS corpus and private content sent in snapshots and mutations never appear.
func TestCobrowseBuffers(t *testing.T) {
	w, n := newWorld(t, "sqlite://"+t.TempDir()+"/db.sqlite", cobrowse.Options{QueueFrames: 4096, VisitorBurst: 100000})
	owner := n.login(w.owner)
	owner.enable(120)
	conv := w.conversation(w.visitorA, w.owner)
	id := owner.request(conv)
	vis := n.visitorSocket(w.visitorA, conv, id)
	leg, err := n.Cobrowse.AttachAgent(w.tenant.ID, conv, id, w.owner.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	_ = vis.next()
	sent := 0
	vis.send(page)
	sent++
	for _, p := range xssPayloads(t) {
		pj, _ := json.Marshal(p)
		vis.send(`{"t":"mutations","m":[{"op":"add","parent":2,"node":{"id":90,"k":"e","tag":"div","a":{"title":` + string(pj) +
			`,"style":` + string(pj) + `,"onclick":` + string(pj) + `},"c":[{"id":91,"k":"t","v":` + string(pj) + `}]}},` +
			`{"op":"attr","id":15,"tag":"a","name":"href","v":` + string(pj) + `}]}`)
		sent++
	}
	vis.send(`{"t":"pointer","x":1,"y":1}`) // the last frame: everything before it has been queued
	sent++
	got := 0
	<-leg.Frames() // the state frame
	for got < sent {
		select {
		case b := <-leg.Frames():
			got++
			if msg := unsafeFrame(b); msg != "" {
				t.Errorf("queued for the agent: %s in %s", msg, b)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d frames arrived", got, sent)
		}
	}
}

// TestCobrowseSettingsForm: the settings page's form refuses an idle time that is not a number
// with the page again (422) and saves nothing; a valid form saves and redirects.
func TestCobrowseSettingsForm(t *testing.T) {
	eachDB(t, cobrowse.Options{}, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		form := "/sites/" + w.site.ID + "/cobrowse"
		post := func(values string) *httptest.ResponseRecorder {
			// As the page's form sends it: the token in the body, not in a header.
			return n.do(apptest.Request{Method: http.MethodPost, Path: form, Body: values + "&csrf_token=" + url.QueryEscape(owner.csrf),
				ContentType: "application/x-www-form-urlencoded", Header: http.Header{"Cookie": {owner.cookie}}})
		}
		settings := func() cobrowse.Settings {
			rec := owner.do(http.MethodGet, "/api/v1/chat/sites/"+w.site.ID+"/cobrowse", "")
			if rec.Code != http.StatusOK {
				t.Fatalf("read settings: %d %s", rec.Code, rec.Body)
			}
			return accounttest.Decode[cobrowse.Settings](t, rec)
		}
		if rec := post("idle_seconds=soon&input_allowlist=amount"); rec.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(rec.Body.String(), "A whole number of seconds.") {
			t.Fatalf("form with idle_seconds=soon: %d %s", rec.Code, rec.Body)
		}
		if s := settings(); s.Enabled || len(s.InputAllowlist) != 0 {
			t.Fatalf("a refused form saved %+v", s)
		}
		if rec := post("enabled=on&idle_seconds=120&input_allowlist=amount"); rec.Code != http.StatusSeeOther {
			t.Fatalf("valid form: %d %s", rec.Code, rec.Body)
		}
		if s := settings(); !s.Enabled || s.IdleSeconds != 120 || len(s.InputAllowlist) != 1 || s.InputAllowlist[0] != "amount" {
			t.Fatalf("saved %+v, want enabled, 120 s, [amount]", s)
		}
	})
}
