package retention

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Period is the retention of one kind of an organisation's data.
type Period struct {
	KindInfo
	// Days is the period in force for sites without their own; IsDefault when the organisation
	// set none.
	Days      int
	IsDefault bool
	// Min is the floor no period may go below; MinDefault when the organisation set none.
	Min        int
	MinDefault bool
	// Sites are the sites with their own period for this kind, by site id.
	Sites map[string]int
}

// Periods returns the organisation's period of every kind, in Kinds order.
func (s *Service) Periods(ctx context.Context, tenantID string) ([]Period, error) {
	rows, err := s.store.periods(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sites, err := s.store.sitePeriods(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]Period, 0, len(kinds))
	for _, k := range kinds {
		p := Period{KindInfo: k, Days: k.DefaultDays, IsDefault: true, Min: k.DefaultMin, MinDefault: true, Sites: map[string]int{}}
		for _, r := range rows {
			if r.Kind != string(k.Kind) {
				continue
			}
			if r.Days > 0 {
				p.Days, p.IsDefault = r.Days, false
			}
			if r.MinDays > 0 {
				p.Min, p.MinDefault = r.MinDays, false
			}
		}
		for _, sp := range sites {
			if sp.Kind == string(k.Kind) {
				p.Sites[sp.SiteID] = sp.Days
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Period returns the organisation's period of one kind.
func (s *Service) Period(ctx context.Context, tenantID string, k Kind) (Period, error) {
	all, err := s.Periods(ctx, tenantID)
	if err != nil {
		return Period{}, err
	}
	for _, p := range all {
		if p.Kind == k {
			return p, nil
		}
	}
	return Period{}, ErrKind
}

func checkDays(days int) error {
	if days < MinDays || days > MaxDays {
		return ErrDays
	}
	return nil
}

// SetPeriod sets the organisation's period for kind, audited as retention.change. A period
// below the organisation's floor is refused with a *FloorError. Setting the period in force
// changes and records nothing (changed false).
func (s *Service) SetPeriod(ctx context.Context, a Actor, k Kind, days int) (changed bool, err error) {
	p, err := s.Period(ctx, a.TenantID, k)
	if err != nil {
		return false, err
	}
	if err := checkDays(days); err != nil {
		return false, err
	}
	if days < p.Min {
		return false, &FloorError{Kind: k, Min: p.Min}
	}
	if days == p.Days {
		return false, nil
	}
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		if err := s.store.in(tx).setPeriod(ctx, periodRow{TenantID: a.TenantID, Kind: string(k), Days: days, UpdatedBy: a.UserID, UpdatedAt: s.now()}, "days"); err != nil {
			return err
		}
		return s.cfg.Audit.Append(ctx, tx, s.event(a, audit.ActionRetentionChange, target(k), a.TenantID,
			map[string]string{"kind": string(k), "days": strconv.Itoa(days), "previous_days": strconv.Itoa(p.Days)}))
	})
	return err == nil, err
}

// target is the audit target kind of a kind's setting: the visitor kind keeps the name its
// records had before the other kinds joined it.
func target(k Kind) string {
	if k == Visitors {
		return "visitor_retention"
	}
	return "retention." + string(k)
}

// SetMinimum sets the organisation's floor for kind. A floor above a period in force (the
// organisation's or a site's) is refused with ErrFloorAbove: lengthen that period first. Lowering
// the floor permits earlier destruction, so the console guards it with transcript.delete.
func (s *Service) SetMinimum(ctx context.Context, a Actor, k Kind, days int) (changed bool, err error) {
	p, err := s.Period(ctx, a.TenantID, k)
	if err != nil {
		return false, err
	}
	if err := checkDays(days); err != nil {
		return false, err
	}
	if days == p.Min {
		return false, nil
	}
	if days > p.Days {
		return false, fmt.Errorf("%w: %s are kept %d days", ErrFloorAbove, k, p.Days)
	}
	for _, d := range p.Sites {
		if days > d {
			return false, fmt.Errorf("%w: a site keeps %s %d days", ErrFloorAbove, k, d)
		}
	}
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		if err := s.store.in(tx).setPeriod(ctx, periodRow{TenantID: a.TenantID, Kind: string(k), MinDays: days, UpdatedBy: a.UserID, UpdatedAt: s.now()}, "min_days"); err != nil {
			return err
		}
		return s.cfg.Audit.Append(ctx, tx, s.event(a, audit.ActionRetentionChange, target(k), a.TenantID,
			map[string]string{"kind": string(k), "min_days": strconv.Itoa(days), "previous_min_days": strconv.Itoa(p.Min)}))
	})
	return err == nil, err
}

// SetSitePeriod gives a site its own period for kind, or with days 0 removes it (the
// organisation's applies again). The site must be the organisation's (ErrNotFound).
func (s *Service) SetSitePeriod(ctx context.Context, a Actor, siteID string, k Kind, days int) (changed bool, err error) {
	p, err := s.Period(ctx, a.TenantID, k)
	if err != nil {
		return false, err
	}
	if ok, err := s.store.siteOf(ctx, a.TenantID, siteID); err != nil {
		return false, err
	} else if !ok {
		return false, ErrNotFound
	}
	if days != 0 {
		if err := checkDays(days); err != nil {
			return false, err
		}
		if days < p.Min {
			return false, &FloorError{Kind: k, Min: p.Min}
		}
	}
	current, had := p.Sites[siteID]
	if (days == 0 && !had) || (had && days == current) {
		return false, nil
	}
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		if err := s.store.in(tx).setSitePeriod(ctx, sitePeriodRow{SiteID: siteID, TenantID: a.TenantID, Kind: string(k), Days: days, UpdatedBy: a.UserID, UpdatedAt: s.now()}); err != nil {
			return err
		}
		d := map[string]string{"kind": string(k), "site_id": siteID, "days": strconv.Itoa(days)}
		if days == 0 {
			d["days"] = "organisation"
		}
		return s.cfg.Audit.Append(ctx, tx, s.event(a, audit.ActionRetentionChange, "site", siteID, d))
	})
	return err == nil, err
}

// tx runs fn in a transaction scoped to the tenant.
func (s *Service) tx(ctx context.Context, tenantID string, fn func(tx *gorm.DB) error) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return migrations.Transaction(s.cfg.DB.WithContext(ctx), fn)
}
