package cardform_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/cardform"
)

// TestCardFormList: a conversation's card form requests answer as a list, [] when it has none
// (never null; the OpenAPI check holds the answer to the document too).
func TestCardFormList(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world, n *node) {
		owner := n.login(w.owner)
		empty := w.conversation(w.visitorA, w.owner)
		asked := w.conversation(w.visitorB, w.owner)
		req := owner.request(asked)
		tests := []struct {
			name string
			conv string
			want []string
		}{
			{name: "no requests", conv: empty, want: []string{}},
			{name: "one request", conv: asked, want: []string{req}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := owner.do(http.MethodGet, agentPath(tt.conv), "")
				if rec.Code != http.StatusOK {
					t.Fatalf("list = %d %s, want 200", rec.Code, rec.Body)
				}
				body := accounttest.Decode[map[string]*[]cardform.Request](t, rec)
				list, ok := body["requests"]
				if !ok || list == nil {
					t.Fatalf("requests = null or absent: %s", rec.Body)
				}
				var got []string
				for _, r := range *list {
					got = append(got, r.ID)
				}
				if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
					t.Errorf("requests = %v, want %v", got, tt.want)
				}
			})
		}
	})
}
