package transcripthttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

const password = "Tr1cky-Lantern-Harbour"

// The public test card typed into the seeded chat; every copy must mask it.
const (
	testCard       = "4111 1111 1111 1111"
	testCardDigits = "4111111111111111"
)

// harness is Parley over a test database with tenant Acme Health (departments Billing and
// Claims, site Main), a user of each default role — supervisor and agents in Billing only, the
// others tenant-wide — and seeded conversations:
//
//	c1  Billing, taken by agent (and joined by supervisor), ended, rated 5: visitor name, pre-chat,
//	    survey, messages (one with a card number typed in clear), a whisper, a file;
//	c2  Billing, taken by agent2, ended, rated 2: "refund request";
//	c3  Claims, taken by agent2: "claims question";
//	cx  another tenant's.
type harness struct {
	t                        *testing.T
	a                        *accounttest.App
	tenant, other            tenant.Tenant
	billing, claims          tenant.Department
	site                     tenant.Site
	users                    map[string]account.User
	c1, c2, c3, cx           string
	owner, admin, supervisor *accounttest.Client
	agent, agent2, auditor   *accounttest.Client
	reviewer                 *accounttest.Client
	deptReader, allReader    *accounttest.Client
	otherOwner               *accounttest.Client
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	ctx := context.Background()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, a: a, users: map[string]account.User{}}
	var owner account.User
	h.tenant, owner = a.CreateUser("Acme Health", "owner@acme.test", password, "owner", false)
	h.users["owner"] = owner
	var err error
	if h.billing, err = a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Billing"); err != nil {
		t.Fatal(err)
	}
	if h.claims, err = a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Claims"); err != nil {
		t.Fatal(err)
	}
	if h.site, err = a.Tenants.CreateSite(ctx, h.tenant.ID, "Main", []string{"https://www.acme.test"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ key, email, role, dept string }{
		{"admin", "admin@acme.test", "admin", ""},
		{"supervisor", "supervisor@acme.test", "supervisor", h.billing.ID},
		{"agent", "agent@acme.test", "agent", h.billing.ID},
		{"agent2", "agent2@acme.test", "agent", h.billing.ID},
		{"auditor", "auditor@acme.test", "auditor", ""},
	} {
		_, usr := a.CreateUser("Acme Health", u.email, password, u.role, false)
		if u.dept != "" {
			a.AssignInDepartment(h.tenant.ID, owner.ID, usr.ID, u.role, u.dept)
		}
		h.users[u.key] = usr
	}
	// reviewer holds a custom role, tenant-wide: its own chats (none) and export.
	by := authz.Actor{TenantID: h.tenant.ID, UserID: owner.ID, ClientIP: "192.0.2.1", RequestID: "test"}
	if _, err := a.Authz.CreateRole(ctx, by, authz.RoleInput{Name: "reviewer", Permissions: []string{"transcript.view.own", "transcript.export"}}); err != nil {
		t.Fatal(err)
	}
	a.CreateUser("Acme Health", "reviewer@acme.test", password, "reviewer", false)
	// deptreader holds only transcript.view.department, in Billing; allreader only
	// transcript.view.all: neither holds transcript.view.own.
	for _, r := range []struct{ role, perm, email, dept string }{
		{"deptreader", "transcript.view.department", "deptreader@acme.test", h.billing.ID},
		{"allreader", "transcript.view.all", "allreader@acme.test", ""},
	} {
		if _, err := a.Authz.CreateRole(ctx, by, authz.RoleInput{Name: r.role, Permissions: []string{r.perm}}); err != nil {
			t.Fatal(err)
		}
		_, usr := a.CreateUser("Acme Health", r.email, password, r.role, false)
		if r.dept != "" {
			a.AssignInDepartment(h.tenant.ID, owner.ID, usr.ID, r.role, r.dept)
		}
	}
	var otherOwner account.User
	h.other, otherOwner = a.CreateUser("Other Clinic", "owner@other.test", password, "owner", false)
	a.RefreshPolicy()
	login := func(slug, email string) *accounttest.Client {
		return a.Client("198.51.100.7:1000").SignIn(slug, email, password)
	}
	h.owner, h.admin, h.supervisor = login(h.tenant.Slug, "owner@acme.test"), login(h.tenant.Slug, "admin@acme.test"), login(h.tenant.Slug, "supervisor@acme.test")
	h.agent, h.agent2, h.auditor = login(h.tenant.Slug, "agent@acme.test"), login(h.tenant.Slug, "agent2@acme.test"), login(h.tenant.Slug, "auditor@acme.test")
	h.otherOwner = login(h.other.Slug, "owner@other.test")
	h.reviewer = login(h.tenant.Slug, "reviewer@acme.test")
	h.deptReader, h.allReader = login(h.tenant.Slug, "deptreader@acme.test"), login(h.tenant.Slug, "allreader@acme.test")

	start := a.Clock.Now().UTC().Add(-48 * time.Hour)
	five, two := 5, 2
	h.c1 = h.seed(h.tenant.ID, h.site.ID, h.billing.ID, h.users["agent"].ID, start, &five, seedChat{
		name: "Ada Lovelace", email: "ada@example.test", prechat: map[string]string{"Policy number": "PX-1234"},
		survey: `{"rating":5,"comment":"Very helpful"}`, supervisor: h.users["supervisor"].ID,
		messages: []seedMessage{
			{sender: "visitor", text: "Hello, I was charged twice"},
			{sender: "agent", text: "Let me check that for you"},
			{sender: "visitor", text: "My card is " + testCard},
			{sender: "supervisor", text: "Offer the goodwill credit", whisper: true},
			{sender: "agent", file: "statement.pdf"},
		},
	})
	h.c2 = h.seed(h.tenant.ID, h.site.ID, h.billing.ID, h.users["agent2"].ID, start.Add(time.Hour), &two, seedChat{
		messages: []seedMessage{{sender: "visitor", text: "I need a refund request form"}},
	})
	h.c3 = h.seed(h.tenant.ID, h.site.ID, h.claims.ID, h.users["agent2"].ID, start.Add(2*time.Hour), nil, seedChat{
		messages: []seedMessage{{sender: "visitor", text: "A claims question"}},
	})
	otherSite, err := a.Tenants.CreateSite(ctx, h.other.ID, "Other", []string{"https://www.other.test"})
	if err != nil {
		t.Fatal(err)
	}
	h.cx = h.seed(h.other.ID, otherSite.ID, "", otherOwner.ID, start, nil, seedChat{
		messages: []seedMessage{{sender: "visitor", text: "Other tenant's refund request"}},
	})
	return h
}

type seedMessage struct {
	sender, text, file string
	whisper            bool
}

type seedChat struct {
	name, email, survey string
	prechat             map[string]string
	supervisor          string
	messages            []seedMessage
}

// seed writes an ended conversation as the chat engine stores one: sealed fields and bodies bound
// to their seq, participants, events.
func (h *harness) seed(tenantID, siteID, deptID, agentID string, at time.Time, rating *int, sc seedChat) string {
	h.t.Helper()
	ctx := migrations.WithTenant(context.Background(), tenantID)
	db := migratetest.Beneath(h.t, h.a.DB).Gorm
	id := uuid.Must(uuid.NewV7()).String()
	visitorID := "v-" + id[len(id)-12:]
	seal := func(field string, seq int64, text string) string {
		if text == "" {
			return ""
		}
		ct, err := h.a.Envelope.SealString(ctx, vault.Binding{Tenant: tenantID, Scope: id, Field: field, Seq: seq}, text)
		if err != nil {
			h.t.Fatal(err)
		}
		return ct
	}
	sealBytes := func(field string, seq int64, data []byte) []byte {
		ct, err := h.a.Envelope.Seal(ctx, vault.Binding{Tenant: tenantID, Scope: id, Field: field, Seq: seq}, data)
		if err != nil {
			h.t.Fatal(err)
		}
		return ct
	}
	var pre string
	if sc.prechat != nil {
		b, _ := json.Marshal(sc.prechat)
		pre = string(b)
	}
	var dept any
	if deptID != "" {
		dept = deptID
	}
	ended := at.Add(20 * time.Minute)
	if err := db.Exec(`INSERT INTO conversations (id, tenant_id, site_id, department_id, visitor_id, status, agent_id, visitor_name, visitor_email,
		prechat, survey, rating, queued_at, accepted_at, ended_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, tenantID, siteID, dept, visitorID, agentID, seal(vault.FieldVisitorName, 0, sc.name), seal(vault.FieldVisitorEmail, 0, sc.email),
		seal(vault.FieldPreChatAnswers, 0, pre), seal(vault.FieldSurveyAnswers, 0, sc.survey), rating, at, at, ended, at, ended).Error; err != nil {
		h.t.Fatal(err)
	}
	join := func(kind, who string) {
		if err := db.Exec(`INSERT INTO conversation_participants (conversation_id, tenant_id, kind, participant_id, joined_at) VALUES (?, ?, ?, ?, ?)`,
			id, tenantID, kind, who, at).Error; err != nil {
			h.t.Fatal(err)
		}
	}
	join("visitor", visitorID)
	join("agent", agentID)
	if sc.supervisor != "" {
		join("supervisor", sc.supervisor)
	}
	seq, vseq := int64(0), int64(0)
	event := func(kind, senderKind, senderID, body, ev, audience string, fileID any) {
		seq++
		var vs any
		if audience == "all" {
			vseq++
			vs = vseq
		}
		if err := db.Exec(`INSERT INTO conversation_events (id, tenant_id, conversation_id, seq, kind, sender_kind, sender_id, body, event, file_id, audience, visitor_seq, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), tenantID, id, seq, kind, senderKind, senderID,
			seal(vault.FieldMessageBody, seq, body), ev, fileID, audience, vs, at.Add(time.Duration(seq)*time.Minute)).Error; err != nil {
			h.t.Fatal(err)
		}
	}
	event("system", "system", "", "", "started", "all", nil)
	for _, m := range sc.messages {
		senderKind, senderID := "visitor", visitorID
		switch m.sender {
		case "agent":
			senderKind, senderID = "agent", agentID
		case "supervisor":
			senderKind, senderID = "agent", sc.supervisor
		}
		audience := "all"
		if m.whisper {
			audience = "agents"
		}
		if m.file != "" {
			fileID := uuid.Must(uuid.NewV7()).String()
			if err := db.Exec(`INSERT INTO chat_files (id, tenant_id, conversation_id, uploader_kind, uploader_id, name, content_type, size, content, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, fileID, tenantID, id, senderKind, senderID, seal("file.name", seq+1, m.file),
				"application/pdf", 1234, sealBytes("file.content", seq+1, []byte("%PDF-1.4 statement")), at).Error; err != nil {
				h.t.Fatal(err)
			}
			event("file", senderKind, senderID, "", "", audience, fileID)
			continue
		}
		event("message", senderKind, senderID, m.text, "", audience, nil)
	}
	event("system", "system", "", "", "ended", "all", nil)
	if err := db.Exec(`UPDATE conversations SET last_seq = ?, visitor_last_seq = ? WHERE id = ?`, seq, vseq, id).Error; err != nil {
		h.t.Fatal(err)
	}
	return id
}

// events returns the tenant's audit entries of action.
func (h *harness) events(action audit.Action) []audit.Entry {
	h.t.Helper()
	return h.a.AuditEvents(h.tenant.ID, action)
}

func (h *harness) String() string { return fmt.Sprintf("harness(%s)", h.tenant.Slug) }
