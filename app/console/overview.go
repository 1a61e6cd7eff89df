package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

// PermOverview guards the administrator's overview: it shows who is online and what waits, which
// is the work of those who administer the people answering.
const PermOverview = "user.manage"

// Overview is what the overview page reads, each part of it from its own domain.
type Overview struct {
	Chat     func(ctx context.Context, tenantID string) (chat.Overview, error)
	Settings func(ctx context.Context, tenantID string) (account.Settings, error)
	Review   func(ctx context.Context, tenantID string) (rbac.ReviewStatus, error)
	// TLS reports that Parley is reached over TLS: it terminates TLS itself, or its public URL is
	// https behind a declared proxy.
	TLS bool
	// Drift is the organisation's compliance drift as last computed (mode.Monitor.For).
	Drift func(ctx context.Context, tenantID string) (mode.Drift, error)
}

// warning is one compliance warning of the overview, with the page that fixes it.
type warning struct {
	Title, Detail, Link, LinkText string
}

// overviewData is what overview.html renders.
type overviewData struct {
	Chat        chat.Overview
	LongestWait string
	Alerts      []string
	Warnings    []warning
	CSRF        string
	DemoSite    bool
	Drift       *mode.Drift
}

func (m *Module) overview(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	o := m.Overview
	var d overviewData
	var err error
	if o.Chat != nil {
		if d.Chat, err = o.Chat(ctx, p.TenantID); err != nil {
			return err
		}
		d.LongestWait = waitText(d.Chat.LongestWait)
	}
	if m.Shell != nil && m.Shell.DevKeys {
		d.Warnings = append(d.Warnings, warning{Title: "Development key provider",
			Detail: "Transcripts and secrets are encrypted with the local development key provider, which is not for production (PCI DSS 3.6, 3.7). Set VAULT_ADDR with VAULT_TOKEN or an AppRole.",
			Link:   "/keys", LinkText: "Key status"})
	}
	if !o.TLS {
		d.Warnings = append(d.Warnings, warning{Title: "No TLS",
			Detail: "Parley is served over plain HTTP and no HTTPS public URL behind a trusted proxy is declared (PCI DSS 4.2.1). Set PARLEY_TLS_CERT and PARLEY_TLS_KEY, or PARLEY_PUBLIC_URL=https://… with PARLEY_TRUSTED_PROXIES."})
	}
	if o.Settings != nil {
		s, err := o.Settings(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if !s.MFA.Required {
			d.Warnings = append(d.Warnings, warning{Title: "MFA not enforced",
				Detail: "Two-step verification is not required of every console user (PCI DSS 8.4.2).",
				Link:   "/security", LinkText: "Security policy"})
		}
	}
	if o.Drift != nil {
		dr, err := o.Drift(ctx, p.TenantID)
		if err != nil {
			return err
		}
		var reaches func(string) bool
		if m.Shell != nil {
			reaches = func(path string) bool { return m.Shell.Reaches(c, path) }
		}
		dr = dr.WithLinks(reaches)
		d.Drift = &dr
	}
	if o.Review != nil {
		st, err := o.Review(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if st.Overdue {
			detail := "No access review has been signed off yet (PCI DSS 7.2.4)."
			if st.LastSignedOff != nil {
				detail = fmt.Sprintf("The last access review was signed off on %s; one is due every %d months (PCI DSS 7.2.4).",
					st.LastSignedOff.Format("2006-01-02"), rbac.ReviewMonths)
			}
			d.Warnings = append(d.Warnings, warning{Title: "Access review overdue", Detail: detail,
				Link: "/access-review", LinkText: "Access review"})
		}
	}
	if m.Shell != nil && m.Shell.Alerts != nil {
		for _, a := range m.Shell.Alerts() {
			if !a.Cleared && (a.Tenant == "" || a.Tenant == p.TenantID || a.Tenant == audit.SystemTenant) {
				d.Alerts = append(d.Alerts, a.Message)
			}
		}
	}
	if m.Shell != nil {
		d.DemoSite = m.Shell.serves(http.MethodPost, demoSitePath)
		if m.Shell.CSRF != nil {
			d.CSRF = m.Shell.CSRF(c)
		}
	}
	return m.Pages.Render(c, http.StatusOK, "overview.html", d)
}

// demoSitePath is the setup's one-click demo site, offered on the overview when it is served.
const demoSitePath = "/setup/demo-site"

// waitText writes a wait in minutes and seconds ("" when nobody waits).
func waitText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// start sends a signed-in user to their landing page.
func (m *Module) start(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	to := "/account"
	if m.Shell != nil {
		g, err := m.Shell.grants(migrations.WithTenant(c.Request().Context(), p.TenantID), p)
		if err != nil {
			return err
		}
		to = m.Shell.Landing(g)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
