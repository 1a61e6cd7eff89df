// Package retention decides how long each kind of an organisation's data is kept and removes
// what is past it: retention periods per organisation and data kind (transcripts, files, offline
// messages, visitor data) with a per-site override and an organisation floor, legal holds that
// suspend every deletion of what they cover, deletion of a conversation by crypto-shredding
// (its data key is destroyed and its rows removed), and the scheduled job that applies the
// periods, one node at a time under a lease. It knows nothing of HTTP (retentionhttp serves it).
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
)

// Kind is a kind of data with its own retention period.
type Kind string

// The kinds of data retention covers.
const (
	// Transcripts are conversations: their messages, participants, survey and pre-chat answers.
	// Expired conversations are crypto-shredded.
	Transcripts Kind = "transcripts"
	// Files are the files shared in conversations; they may go before their transcript.
	Files Kind = "files"
	// Offline are the messages visitors leave when nobody is available; crypto-shredded too.
	Offline Kind = "offline"
	// Visitors is visitor tracking data: page views and visitors (visitor.Store).
	Visitors Kind = visitor.RetentionKind
)

// Absolute bounds of every period and floor, in days.
const (
	MinDays = 1
	MaxDays = 3650
)

// KindInfo describes a kind: its label, default period and default floor.
type KindInfo struct {
	Kind  Kind
	Label string
	// DefaultDays is the period when the organisation set none. Transcripts are kept seven years
	// by default (a common term for financial records), so an upgrade deletes nothing recent.
	DefaultDays int
	// DefaultMin is the floor when the organisation set none: no period may be shorter.
	DefaultMin int
}

var kinds = []KindInfo{
	{Kind: Transcripts, Label: "Chat transcripts", DefaultDays: 2555, DefaultMin: 30},
	{Kind: Files, Label: "Files shared in chats", DefaultDays: 365, DefaultMin: 1},
	{Kind: Offline, Label: "Offline messages", DefaultDays: 365, DefaultMin: 30},
	{Kind: Visitors, Label: "Visitor data", DefaultDays: visitor.DefaultRetentionDays, DefaultMin: 1},
}

// Kinds returns every kind, in the order the console shows them.
func Kinds() []KindInfo { return append([]KindInfo(nil), kinds...) }

// Info returns the kind's description; false for an unknown kind.
func Info(k Kind) (KindInfo, bool) {
	for _, i := range kinds {
		if i.Kind == k {
			return i, true
		}
	}
	return KindInfo{}, false
}

// Errors of the retention package.
var (
	ErrKind        = errors.New("retention: unknown data kind")
	ErrDays        = errors.New("retention: period must be 1 to 3650 days")
	ErrBelowFloor  = errors.New("retention: period shorter than the organisation's minimum")
	ErrFloorAbove  = errors.New("retention: a period in force is shorter than that minimum")
	ErrNotFound    = errors.New("retention: not found")
	ErrHeld        = errors.New("retention: under legal hold")
	ErrLive        = errors.New("retention: the conversation has not ended")
	ErrReason      = errors.New("retention: a reason of 1 to 500 characters is required")
	ErrCardNumber  = errors.New("retention: a card number is not allowed in a reason")
	ErrHoldExists  = errors.New("retention: already under legal hold")
	ErrHoldKind    = errors.New("retention: unknown legal hold kind")
	ErrLeaseHeld   = errors.New("retention: another node is running the retention job")
	ErrAuditFailed = errors.New("retention: audit record failed")
)

// FloorError is ErrBelowFloor with the floor that applies.
type FloorError struct {
	Kind Kind
	Min  int
}

func (e *FloorError) Error() string {
	return fmt.Sprintf("retention: %s must be kept at least %d days (the organisation's minimum)", e.Kind, e.Min)
}

// Is makes errors.Is(err, ErrBelowFloor) true.
func (e *FloorError) Is(target error) bool { return target == ErrBelowFloor }

// Auditor appends audit events inside the caller's transaction (the audit log satisfies it).
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Shredder destroys a scope's data key inside a transaction (*vault.Envelope satisfies it).
type Shredder interface {
	ShredIn(ctx context.Context, tx *gorm.DB, tenantID, scopeID string) error
	Forget(tenantID, scopeID string)
}

// CardChecker reports whether text holds a card number (compliance/pan.Contains).
type CardChecker func(s string) bool

// Actor is who changes a setting, places a hold or deletes, for the audit record.
type Actor struct {
	TenantID  string
	UserID    string
	IP        string
	UserAgent string
	RequestID string
}

// Config assembles a Service.
type Config struct {
	DB       *gorm.DB
	Visitors *visitor.Store
	Shredder Shredder
	Audit    Auditor
	HasCard  CardChecker
	Now      func() time.Time
	Log      *slog.Logger
	// Node names this node as the job's lease holder and in audit records.
	Node string
	// Interval between scheduled runs (default one hour); LeaseTTL how long a node keeps the job
	// after it last renewed the lease (default ten minutes); Batch the most conversations and
	// offline messages one run removes per organisation (default 1000).
	Interval time.Duration
	LeaseTTL time.Duration
	Batch    int
}

// Service is retention: periods, holds, deletion and the job.
type Service struct {
	cfg   Config
	store store
	log   *slog.Logger
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Visitors == nil || cfg.Shredder == nil || cfg.Audit == nil || cfg.HasCard == nil {
		return nil, errors.New("retention: database, visitors, shredder, audit and card checker are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Node == "" {
		cfg.Node = "parley"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	return &Service{cfg: cfg, store: store{db: cfg.DB}, log: cfg.Log}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) event(a Actor, action audit.Action, kind, id string, details map[string]string) audit.Event {
	return audit.Event{
		Tenant: a.TenantID, Actor: audit.Actor{ID: a.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: a.IP, UserAgent: a.UserAgent, Node: s.cfg.Node},
		Action: action, Target: audit.Target{Kind: kind, ID: id}, Outcome: audit.Success,
		RequestID: a.RequestID, Details: details,
	}
}
