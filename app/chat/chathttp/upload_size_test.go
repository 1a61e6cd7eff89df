package chathttp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// pdfOf returns a PDF-typed file of n bytes (the type is read from the magic bytes; PDFs are not
// re-encoded, so the stored file has the same bytes).
func pdfOf(n int) []byte {
	b := bytes.Repeat([]byte("0"), n)
	copy(b, "%PDF-1.7\n")
	return b
}

// countingReader counts how much of a body the server read.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestUploadSizeLimits: the upload routes accept bodies above the server-wide body limit (1 MiB)
// up to the site's file size limit, from the visitor and from the agent; a file above the site's
// limit is refused with file_too_large; a body above the hard cap of file transfer (25 MiB) is
// refused with 413 before it is read; every other route keeps the server-wide limit.
func TestUploadSizeLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		admin := e.agent("Admin", map[string][]string{"site.manage": nil})
		set := chat.DefaultSettings()
		set.FileTransfer, set.FileMaxBytes = true, 5<<20
		if code := do(t, http.MethodPut, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", set, nil, "X-Test-User", admin); code != http.StatusOK {
			t.Fatalf("enable files = %d", code)
		}
		visitorURL := n.widgetURL(e, "/chats/"+ch.conv+"/files?name=statement.pdf")
		agentURL := n.srv.URL + "/api/v1/chat/conversations/" + ch.conv + "/files?name=contract.pdf"

		// Between the server-wide limit and the site's limit: stored and delivered whole.
		big := pdfOf(3 << 20)
		if code, eb := upload(t, visitorURL, ch.id.VisitorToken, big); code != http.StatusCreated {
			t.Fatalf("visitor upload of 3 MiB = %d %s, want 201", code, eb.Error.Code)
		}
		ev := ch.agent.events(1)[0]
		if ev.File == nil || ev.File.Size != int64(len(big)) {
			t.Fatalf("agent got %+v, want the 3 MiB file", ev.File)
		}
		req, _ := http.NewRequest(http.MethodGet, n.srv.URL+"/api/v1/chat/conversations/"+ch.conv+"/files/"+ev.File.ID, nil)
		req.Header.Set("X-Test-User", ch.agentID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp); resp.StatusCode != http.StatusOK || !bytes.Equal(got, big) {
			t.Fatalf("agent download = %d, %d bytes; want 200 and the uploaded %d bytes", resp.StatusCode, len(got), len(big))
		}
		ch.visitor.events(1)

		fromAgent := pdfOf(4 << 20)
		code, eb := upload(t, agentURL, "", fromAgent, "X-Test-User", ch.agentID)
		if code != http.StatusCreated {
			t.Fatalf("agent upload of 4 MiB = %d %s, want 201", code, eb.Error.Code)
		}
		var got protocol.Event
		for _, f := range ch.visitor.events(1) {
			if f.File != nil {
				got.File = f.File
			}
		}
		if got.File == nil || got.File.Size != int64(len(fromAgent)) {
			t.Fatalf("visitor got %+v, want the 4 MiB file", got.File)
		}
		req, _ = http.NewRequest(http.MethodGet, n.widgetURL(e, "/chats/"+ch.conv+"/files/"+got.File.ID), nil)
		req.Header.Set("Authorization", "Bearer "+ch.id.VisitorToken)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !bytes.Equal(body, fromAgent) {
			t.Fatalf("visitor download = %d, %d bytes; want 200 and the uploaded %d bytes", resp.StatusCode, len(body), len(fromAgent))
		}

		// Above the site's limit, below the hard cap: the site's clear refusal.
		for _, up := range []struct{ who, url, token, user string }{
			{"visitor", visitorURL, ch.id.VisitorToken, ""},
			{"agent", agentURL, "", ch.agentID},
		} {
			hdr := []string{}
			if up.user != "" {
				hdr = []string{"X-Test-User", up.user}
			}
			if code, eb := upload(t, up.url, up.token, pdfOf(5<<20+1), hdr...); code != http.StatusRequestEntityTooLarge || eb.Error.Code != "file_too_large" {
				t.Errorf("%s upload above the site's limit = %d %s, want 413 file_too_large", up.who, code, eb.Error.Code)
			}
		}

		// Above the hard cap: refused on its Content-Length, before a byte of it is read.
		h := n.srv.Config.Handler
		for _, tt := range []struct {
			name, url string
			hdr       map[string]string
		}{
			{"visitor", visitorURL, map[string]string{"Authorization": "Bearer " + ch.id.VisitorToken}},
			{"agent", agentURL, map[string]string{"X-Test-User": ch.agentID}},
		} {
			body := &countingReader{r: bytes.NewReader(pdfOf(chat.MaxFileBytes + 1))}
			req := httptest.NewRequest(http.MethodPost, strings.TrimPrefix(tt.url, n.srv.URL), body)
			req.ContentLength = chat.MaxFileBytes + 1
			req.Header.Set("Content-Type", "application/octet-stream")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var eb errBody
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if rec.Code != http.StatusRequestEntityTooLarge || eb.Error.Code != "body_too_large" || body.n != 0 {
				t.Errorf("%s upload above the hard cap = %d %s after reading %d bytes, want 413 body_too_large after none",
					tt.name, rec.Code, eb.Error.Code, body.n)
			}
		}

		// Every other route keeps the server-wide limit.
		code = do(t, http.MethodPost, n.widgetURL(e, "/chats/"+ch.conv+"/messages"), ch.id.VisitorToken,
			map[string]any{"key": "v-big", "text": strings.Repeat("a", 2<<20)}, &eb)
		if code != http.StatusRequestEntityTooLarge || eb.Error.Code != "body_too_large" {
			t.Errorf("2 MiB message body = %d %s, want 413 body_too_large", code, eb.Error.Code)
		}
	})
}
