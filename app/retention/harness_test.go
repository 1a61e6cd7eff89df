package retention_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// world is Parley assembled over a test database with two organisations, the first with two
// sites, and a helper that writes conversations as the chat engine stores them: message bodies,
// file names and contents and visitor names sealed under the conversation's data key.
type world struct {
	t      testing.TB
	db     *migrations.DB
	a      *accounttest.App
	raw    *gorm.DB
	ten    tenant.Tenant
	other  tenant.Tenant
	owner  account.User
	siteA  tenant.Site
	siteB  tenant.Site
	siteO  tenant.Site
	svc    *retention.Service
	actor  retention.Actor
	nextID int
}

func newWorld(t testing.TB, db *migrations.DB) *world {
	t.Helper()
	a := accounttest.New(t, db, nil)
	w := &world{t: t, db: db, a: a, raw: migratetest.Beneath(t, db).Gorm, svc: a.Retention}
	w.ten, w.owner = a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
	w.other, _ = a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
	ctx := context.Background()
	var err error
	if w.siteA, err = a.Tenants.CreateSite(ctx, w.ten.ID, "Acme main", []string{"https://www.acme.test"}); err != nil {
		t.Fatal(err)
	}
	if w.siteB, err = a.Tenants.CreateSite(ctx, w.ten.ID, "Acme loans", []string{"https://loans.acme.test"}); err != nil {
		t.Fatal(err)
	}
	if w.siteO, err = a.Tenants.CreateSite(ctx, w.other.ID, "Other", []string{"https://www.other.test"}); err != nil {
		t.Fatal(err)
	}
	w.actor = retention.Actor{TenantID: w.ten.ID, UserID: w.owner.ID, IP: "198.51.100.7", RequestID: "req-1"}
	return w
}

// chat is a stored conversation and the ciphertext of its first message.
type chat struct {
	ID, Visitor, Body string
	binding           vault.Binding
}

// conversation stores a conversation of site with a sealed message and a sealed file, ended
// endedAgo before the clock (status "active" leaves it open).
func (w *world) conversation(site tenant.Site, visitorID, status string, endedAgo time.Duration) chat {
	w.t.Helper()
	ctx := migrations.WithTenant(context.Background(), site.TenantID)
	id := uuid.Must(uuid.NewV7()).String()
	now := w.a.Clock.Now().UTC()
	at := now.Add(-endedAgo)
	var ended *time.Time
	if status == "ended" || status == "missed" {
		ended = &at
	}
	b := vault.Binding{Tenant: site.TenantID, Scope: id, Field: vault.FieldMessageBody, Seq: 1}
	body, err := w.a.Envelope.SealString(ctx, b, "Hello, I would like to discuss my mortgage.")
	if err != nil {
		w.t.Fatal(err)
	}
	name, err := w.a.Envelope.SealString(ctx, vault.Binding{Tenant: site.TenantID, Scope: id, Field: vault.FieldVisitorName}, "Jane Doe")
	if err != nil {
		w.t.Fatal(err)
	}
	content, err := w.a.Envelope.Seal(ctx, vault.Binding{Tenant: site.TenantID, Scope: id, Field: "file.content", Seq: 2}, []byte("statement"))
	if err != nil {
		w.t.Fatal(err)
	}
	g := w.raw.WithContext(ctx)
	must := func(err error) {
		w.t.Helper()
		if err != nil {
			w.t.Fatal(err)
		}
	}
	must(g.Exec(`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, visitor_name, queued_at, ended_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, site.TenantID, site.ID, visitorID, status, name, at, ended, at, at).Error)
	must(g.Exec(`INSERT INTO conversation_participants (conversation_id, tenant_id, kind, participant_id, joined_at) VALUES (?, ?, 'visitor', ?, ?)`,
		id, site.TenantID, visitorID, at).Error)
	must(g.Exec(`INSERT INTO conversation_events (id, tenant_id, conversation_id, seq, kind, sender_kind, sender_id, body, created_at)
		VALUES (?, ?, ?, 1, 'message', 'visitor', ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), site.TenantID, id, visitorID, body, at).Error)
	must(g.Exec(`INSERT INTO chat_files (id, tenant_id, conversation_id, uploader_kind, uploader_id, name, content_type, size, content, created_at)
		VALUES (?, ?, ?, 'visitor', ?, ?, 'text/plain', 9, ?, ?)`, uuid.Must(uuid.NewV7()).String(), site.TenantID, id, visitorID, name, content, at).Error)
	return chat{ID: id, Visitor: visitorID, Body: body, binding: b}
}

// offline stores an offline message of site, sealed under its own data key, left ago before now.
func (w *world) offline(site tenant.Site, visitorID string, ago time.Duration) string {
	w.t.Helper()
	ctx := migrations.WithTenant(context.Background(), site.TenantID)
	id := uuid.Must(uuid.NewV7()).String()
	body, err := w.a.Envelope.SealString(ctx, vault.Binding{Tenant: site.TenantID, Scope: id, Field: vault.FieldOfflineMessage}, "Please call me back.")
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.raw.WithContext(ctx).Exec(`INSERT INTO offline_messages (id, tenant_id, site_id, visitor_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, site.TenantID, site.ID, visitorID, body, w.a.Clock.Now().UTC().Add(-ago)).Error; err != nil {
		w.t.Fatal(err)
	}
	return id
}

// visitorID returns a fresh visitor id.
func (w *world) visitorID() string {
	w.nextID++
	return fmt.Sprintf("00000000-0000-7000-8000-%012d", w.nextID)
}

// count counts a table's rows matching where, beneath row-level security.
func (w *world) count(table, where string, args ...any) int64 {
	w.t.Helper()
	var n int64
	if err := w.raw.WithContext(migrations.AcrossTenants(context.Background())).Table(table).Where(where, args...).Count(&n).Error; err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) events(tenantID string, action audit.Action) []audit.Entry {
	w.t.Helper()
	return w.a.AuditEvents(tenantID, action)
}

const day = 24 * time.Hour
