// Package reporttest generates conversations whose report figures are known, for the report
// tests and benchmarks: a seeded random data set (the same seed gives the same data), the true
// durations of each conversation, and batch inserts of its conversations and events into a
// Parley database, on SQLite or PostgreSQL.
package reporttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Params say what a data set is made of.
type Params struct {
	Seed uint64
	N    int
	// Start is the first instant conversations are queued at; they spread over Days days.
	Start time.Time
	Days  int
	// Sites, Departments ("" for chats in no department) and Agents are drawn from evenly.
	Sites       []string
	Departments []string
	Agents      []string
}

// Conversation is one generated conversation with its true figures (zero when not applicable).
type Conversation struct {
	ID           string
	SiteID       string
	DepartmentID string
	AgentID      string
	Status       string
	Rating       int
	QueuedAt     time.Time
	// Accepted reports whether an agent took the chat; Ended whether it ended after that.
	Accepted, Ended, Replied bool
	Wait, FirstResponse      time.Duration
	Handle                   time.Duration
	// Events are the conversation's events: who sent what kind, and when.
	Events []Event
}

// Event is a generated conversation event (no body: reports never read one).
type Event struct {
	Kind, SenderKind, SenderID string
	At                         time.Time
}

// Generate makes a data set: about 12 % missed chats, the rest accepted after 5 s to 15 min;
// of those about 90 % ended after 1 to 60 min, about 90 % with an agent reply 2 s to 5 min after
// the accept (preceded by an agent's file, which is not a reply), 40 % of the ended rated 1..5.
// Chats arrive mostly in working hours. Times are whole seconds, so both databases keep them
// exactly.
func Generate(p Params) []Conversation {
	r := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)) // #nosec G404 -- a seeded, repeatable test data set, not a secret
	out := make([]Conversation, 0, p.N)
	sec := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Second }
	for i := range p.N {
		c := Conversation{ID: fmt.Sprintf("rpt-%d-%06d", p.Seed, i), SiteID: p.Sites[r.IntN(len(p.Sites))],
			DepartmentID: p.Departments[r.IntN(len(p.Departments))]}
		day := r.IntN(p.Days)
		hour := r.IntN(24)
		if r.IntN(10) < 7 { // mostly working hours
			hour = 8 + r.IntN(10)
		}
		c.QueuedAt = p.Start.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour + sec(0, 3599))
		c.Events = append(c.Events, Event{Kind: "message", SenderKind: "visitor", SenderID: "v-" + c.ID, At: c.QueuedAt.Add(time.Second)})
		if r.IntN(100) < 12 {
			c.Status = "missed"
			out = append(out, c)
			continue
		}
		c.Accepted, c.AgentID, c.Wait = true, p.Agents[r.IntN(len(p.Agents))], sec(5, 900)
		accepted := c.QueuedAt.Add(c.Wait)
		c.Status = "active"
		c.Events = append(c.Events, Event{Kind: "system", SenderKind: "system", At: accepted})
		if r.IntN(10) < 9 {
			c.Replied, c.FirstResponse = true, sec(2, 300)
			first := accepted.Add(c.FirstResponse)
			// An agent's file before the first message is not a reply.
			c.Events = append(c.Events, Event{Kind: "file", SenderKind: "agent", SenderID: c.AgentID, At: first.Add(-time.Second)},
				Event{Kind: "message", SenderKind: "agent", SenderID: c.AgentID, At: first})
			for k := range r.IntN(4) {
				c.Events = append(c.Events, Event{Kind: "message", SenderKind: "agent", SenderID: c.AgentID, At: first.Add(time.Duration(k+1) * 30 * time.Second)})
			}
		}
		if r.IntN(10) < 9 {
			c.Ended, c.Status, c.Handle = true, "ended", sec(60, 3600)
			if c.Replied && c.Handle < c.FirstResponse+3*time.Minute {
				c.Handle = c.FirstResponse + 3*time.Minute
			}
			if r.IntN(10) < 4 {
				c.Rating = 1 + r.IntN(5)
			}
		}
		out = append(out, c)
	}
	return out
}

// conversationRow and eventRow are the rows Insert writes.
type conversationRow struct {
	ID           string
	TenantID     string
	SiteID       string
	DepartmentID *string
	VisitorID    string
	Status       string
	AgentID      *string
	Rating       *int
	QueuedAt     time.Time
	AcceptedAt   *time.Time
	EndedAt      *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (conversationRow) TableName() string { return "conversations" }

type eventRow struct {
	ID             string
	TenantID       string
	ConversationID string
	Seq            int64
	Kind           string
	SenderKind     string
	SenderID       string
	CreatedAt      time.Time
}

func (eventRow) TableName() string { return "conversation_events" }

// Insert writes convs as tenantID's conversations with their events, in batches.
func Insert(ctx context.Context, db *gorm.DB, tenantID string, convs []Conversation) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	rows := make([]conversationRow, 0, len(convs))
	var events []eventRow
	for _, c := range convs {
		row := conversationRow{ID: c.ID, TenantID: tenantID, SiteID: c.SiteID, VisitorID: "v-" + c.ID, Status: c.Status,
			QueuedAt: c.QueuedAt.UTC(), CreatedAt: c.QueuedAt.UTC(), UpdatedAt: c.QueuedAt.UTC()}
		if c.DepartmentID != "" {
			row.DepartmentID = &c.DepartmentID
		}
		if c.AgentID != "" {
			row.AgentID = &c.AgentID
		}
		if c.Rating > 0 {
			row.Rating = &c.Rating
		}
		if c.Accepted {
			at := c.QueuedAt.Add(c.Wait).UTC()
			row.AcceptedAt = &at
			if c.Ended {
				end := at.Add(c.Handle)
				row.EndedAt = &end
			}
		}
		rows = append(rows, row)
		for i, e := range c.Events {
			events = append(events, eventRow{ID: fmt.Sprintf("%s-e%d", c.ID, i+1), TenantID: tenantID, ConversationID: c.ID,
				Seq: int64(i + 1), Kind: e.Kind, SenderKind: e.SenderKind, SenderID: e.SenderID, CreatedAt: e.At.UTC()})
		}
	}
	return migrations.Transaction(db.WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return fmt.Errorf("insert conversations: %w", err)
		}
		if err := tx.CreateInBatches(events, 1000).Error; err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	})
}
