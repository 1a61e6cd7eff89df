package console

// NavItem is one page of the console's navigation.
type NavItem struct {
	Label string
	// Path is the page's GET route; the link shows exactly when that route's guard would let
	// the user through (Shell.reachable).
	Path string
}

// NavSection is a heading of the navigation and its pages.
type NavSection struct {
	Title string
	Items []NavItem
}

// Navigation is the console's whole menu, by the people of DESIGN.md §1: agents and supervisors
// work in Chats (where supervisors and administrators also find the reports), administrators in
// Administration, auditors in Compliance. An auditor sees exactly five pages there (the audit
// log, integrity, access review, evidence and key status); administrators also find the key
// status (with rotation), roles and the redaction policy there. Each user sees the part their
// permissions reach.
var Navigation = []NavSection{
	{Title: "Chats", Items: []NavItem{
		{Label: "Workspace", Path: "/workspace"},
		{Label: "Live chats", Path: "/live"},
		{Label: "Transcripts", Path: "/transcripts"},
		{Label: "Canned messages", Path: "/canned"},
		{Label: "Offline messages", Path: "/offline"},
		{Label: "Reports", Path: "/reports"},
	}},
	{Title: "Administration", Items: []NavItem{
		{Label: "Overview", Path: "/overview"},
		{Label: "Sites", Path: "/sites"},
		{Label: "Departments", Path: "/departments"},
		{Label: "Routing", Path: "/routing"},
		{Label: "Users", Path: "/users"},
		{Label: "Security policy", Path: "/security"},
		{Label: "Compliance mode", Path: "/compliance-mode"},
		{Label: "Bans", Path: "/bans"},
		{Label: "Retention", Path: "/retention"},
		{Label: "Transcript policy", Path: "/transcript-settings"},
	}},
	{Title: "Compliance", Items: []NavItem{
		{Label: "Audit log", Path: "/audit"},
		{Label: "Integrity", Path: "/integrity"},
		{Label: "Access review", Path: "/access-review"},
		{Label: "Evidence", Path: "/evidence"},
		{Label: "Key status", Path: "/keys"},
		{Label: "Roles", Path: "/roles"},
		{Label: "Redaction", Path: "/redaction"},
	}},
}

// landingOrder is where each kind of user starts: an administrator on the overview, a
// supervisor on the live chats, an agent in the workspace, an auditor in the audit log.
var landingOrder = []string{"/overview", "/live", "/workspace", "/audit"}
