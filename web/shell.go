package web

// Shell is what the console's layout shows around every page of a signed-in user: who they are
// and in which organisation, the navigation their permissions allow, and the standing banners.
// Package console builds it; the layout only renders it.
type Shell struct {
	Organisation string
	UserID       string
	UserName     string
	UserEmail    string
	// CSRF is the session's token for the sign-out form.
	CSRF string
	Nav  []NavSection
	// DevKeys reports that the key provider is the local development one, not for production.
	DevKeys bool
	// AuditAlerts are the audit log's standing alerts, as safe one-line texts.
	AuditAlerts []string
	// AuditLink is where the alert banner points, when the user may read the audit log.
	AuditLink string
}

// NavSection is one heading of the navigation with its links.
type NavSection struct {
	Title string
	Items []NavLink
}

// NavLink is one navigation entry; Current marks the page being shown.
type NavLink struct {
	Label   string
	Path    string
	Current bool
}
