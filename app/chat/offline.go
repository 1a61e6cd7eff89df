package chat

import (
	"context"
	"net/mail"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/vault"
)

// OfflineInput is a message left while no agent is available.
type OfflineInput struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	DepartmentID string `json:"department_id"`
	Message      string `json:"message"`
	Consent      bool   `json:"consent"`
	// Language is as StartInput.Language: dropped for the site's default when it does not parse
	// or holds a card number.
	Language string `json:"language"`
}

// OfflineMessage is an offline message as the console shows it.
type OfflineMessage struct {
	ID           string    `json:"id"`
	SiteID       string    `json:"site_id"`
	DepartmentID string    `json:"department_id,omitempty"`
	VisitorID    string    `json:"visitor_id,omitempty"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Message      string    `json:"message"`
	Consent      bool      `json:"consent"`
	Language     string    `json:"language,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// LeaveOffline stores an offline message, sealed under its own data key, with card numbers masked.
func (s *Service) LeaveOffline(ctx context.Context, site tenant.Site, visitorID, ip string, in OfflineInput) (string, error) {
	if err := s.allowSite(ctx, site.TenantID, site.ID, visitorID, true); err != nil {
		return "", err
	}
	if err := allow(s.visitorStarts, s.ipStarts, visitorID, ip); err != nil {
		return "", err
	}
	if banned, err := s.Banned(ctx, site.TenantID, visitorID, ip); err != nil {
		return "", err
	} else if banned {
		return "", ErrBanned
	}
	name, err := sanitize.Optional(in.Name, sanitize.Name)
	if err != nil {
		return "", invalid("name", "The name is at most 100 characters.")
	}
	email, err := sanitize.Optional(in.Email, sanitize.Limits{MaxRunes: 254})
	if err != nil || email == "" {
		return "", invalid("email", "Enter your e-mail address so we can answer.")
	}
	if a, perr := mail.ParseAddress(email); perr != nil || a.Address != email {
		return "", invalid("email", "Enter a valid e-mail address.")
	}
	body, err := sanitize.Text(in.Message, sanitize.Message)
	if err != nil {
		return "", invalid("message", "Write a message of at most 4000 characters.")
	}
	set, err := s.store.settings(ctx, site.ID)
	if err != nil {
		return "", err
	}
	if set.Prechat.ConsentRequired && !in.Consent {
		return "", invalid("consent", "Please accept the privacy notice.")
	}
	if in.DepartmentID != "" {
		if _, err := s.tenants.Department(ctx, site.TenantID, in.DepartmentID); err != nil {
			return "", invalid("department_id", "Choose one of the site's departments.")
		}
	}
	row := offlineRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: site.TenantID, SiteID: site.ID, DepartmentID: ptr(in.DepartmentID),
		VisitorID: visitorID, Consent: in.Consent, Language: visitor.LanguageOr(in.Language, set.DefaultLanguage), CreatedAt: s.now().UTC()}
	pol, err := s.policy(ctx, row.TenantID)
	if err != nil {
		return "", err
	}
	if row.Name, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldVisitorName, 0, pol.Apply(name)); err != nil {
		return "", err
	}
	if row.Email, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldVisitorEmail, 0, pol.Apply(email)); err != nil {
		return "", err
	}
	if row.Body, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldOfflineMessage, 0, pol.Apply(body)); err != nil {
		return "", err
	}
	if err := s.store.addOffline(ctx, row); err != nil {
		return "", err
	}
	return row.ID, nil
}

// OfflineMessages lists the tenant's offline messages the user may read: all of them with
// offline.view.all, else those of departments where they hold offline.view.department.
func (s *Service) OfflineMessages(ctx context.Context, p *identity.Principal, limit int) ([]OfflineMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	all, err := s.authz.Allowed(ctx, p, permOfflineAll, "")
	if err != nil {
		all = false
	}
	var mine []string // nil: every department's
	if !all {
		depts, err := s.tenants.Departments(ctx, p.TenantID)
		if err != nil {
			return nil, err
		}
		for _, d := range depts {
			if ok, err := s.authz.Allowed(ctx, p, permOfflineDepartment, d.ID); err == nil && ok {
				mine = append(mine, d.ID)
			}
		}
		if len(mine) == 0 {
			return nil, ErrForbidden
		}
	}
	rows, err := s.store.offline(ctx, p.TenantID, mine, limit)
	if err != nil {
		return nil, err
	}
	out := make([]OfflineMessage, 0, len(rows))
	for _, r := range rows {
		m := OfflineMessage{ID: r.ID, SiteID: r.SiteID, DepartmentID: deref(r.DepartmentID), VisitorID: r.VisitorID,
			Consent: r.Consent, Language: r.Language, CreatedAt: r.CreatedAt}
		var err error
		if m.Name, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorName, 0, r.Name); err != nil {
			return nil, err
		}
		if m.Email, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorEmail, 0, r.Email); err != nil {
			return nil, err
		}
		if m.Message, err = s.open(ctx, r.TenantID, r.ID, vault.FieldOfflineMessage, 0, r.Body); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
