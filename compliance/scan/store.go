package scan

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/compliance/pan"
)

// ErrNoScan means no scan result is stored yet.
var ErrNoScan = errors.New("scan: no PAN discovery scan on record")

// ErrUnmasked means a report about to be stored holds something that reads as a card number; it
// is refused rather than stored.
var ErrUnmasked = errors.New("scan: report holds an unmasked card number")

type runRow struct {
	ID         string `gorm:"primaryKey"`
	StartedAt  time.Time
	FinishedAt time.Time
	Node       string
	Actor      string
	Outcome    string
	Locations  int
	Findings   int64
	Report     string
}

func (runRow) TableName() string { return "pan_scan_runs" }

// Store keeps scan reports as evidence (PCI DSS 3.5.1, 12.5.2).
type Store struct {
	DB *gorm.DB
}

// Save stores a report, its free text masked (Report.Masked). It checks once more that nothing
// in it reads as a card number.
func (s *Store) Save(ctx context.Context, r Report) error {
	r = r.Masked()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if pan.Contains(string(b)) {
		return ErrUnmasked
	}
	return s.DB.WithContext(ctx).Create(&runRow{ID: r.ID, StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt.UTC(),
		Node: r.Node, Actor: r.Actor, Outcome: r.Outcome(), Locations: len(r.Locations), Findings: r.Matches(), Report: string(b)}).Error
}

// Last returns the most recent report.
func (s *Store) Last(ctx context.Context) (Report, error) {
	var row runRow
	err := s.DB.WithContext(ctx).Order("finished_at DESC, id DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Report{}, ErrNoScan
	}
	if err != nil {
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal([]byte(row.Report), &r); err != nil {
		return Report{}, err
	}
	return r, nil
}
