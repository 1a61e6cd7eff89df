package cobrowse_test

import (
	"bufio"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
)

func requestAs(w *world, conv, id, token string) apptest.Request {
	return apptest.Request{Method: http.MethodPost, Path: "/api/v1/widget/sites/" + w.site.SiteKey + "/chats/" + conv + "/cobrowse/" + id + "/decline",
		Header: http.Header{"Authorization": {"Bearer " + token}}}
}

// xssPayloads reads the sanitiser's corpus (dom/testdata/xss.txt).
func xssPayloads(t *testing.T) []string {
	fh, err := os.Open("dom/testdata/xss.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fh.Close() }()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "# ") {
			out = append(out, l)
		}
	}
	return out
}
