package chat

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Limits of the workspace's visitor panel.
const (
	// panelPages is how many of the visitor's latest page views the panel shows.
	panelPages = 20
	// panelEarlier is how many of the visitor's earlier conversations the panel lists.
	panelEarlier = 10
)

// Permissions the visitor panel checks besides its route's chat.accept.
const (
	permViewPII            = "visitor.view_pii"
	permTranscriptAll      = "transcript.view.all"
	permTranscriptDept     = "transcript.view.department"
	permTranscriptOwn      = "transcript.view.own"
	transcriptLinkTemplate = "/transcripts/"
)

// VisitorPanel is what the workspace shows beside a conversation: who the visitor is, what they
// answered before the chat, where they are on the site and how earlier chats went. Personal data
// (the e-mail address) is masked unless the agent holds visitor.view_pii in the conversation's
// department; then the view is audited.
type VisitorPanel struct {
	ConversationID string `json:"conversation_id"`
	VisitorID      string `json:"visitor_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	// PII says whether Email is shown unmasked.
	PII      bool          `json:"pii"`
	Language string        `json:"language"`
	Answers  []PanelAnswer `json:"answers"`
	// Survey is the post-chat rating of this conversation, once given.
	Survey *PanelSurvey `json:"survey"`
	// Client is the visitor's browser as the page views recorded it (absent once purged).
	Client  *PanelClient   `json:"client"`
	Pages   []PanelPage    `json:"pages"`
	Earlier []PanelEarlier `json:"earlier"`
	// EarlierCount is how many earlier conversations the visitor has (shown even when Earlier is
	// empty because the agent holds no transcript permission).
	EarlierCount int `json:"earlier_count"`
}

// PanelAnswer is one pre-chat answer with its question's label.
type PanelAnswer struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Answer string `json:"answer"`
}

// PanelSurvey is a post-chat survey.
type PanelSurvey struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// PanelClient is where the visitor is and what they browse with.
type PanelClient struct {
	Browser      string    `json:"browser"`
	OS           string    `json:"os"`
	Device       string    `json:"device"`
	Referrer     string    `json:"referrer"`
	CurrentURL   string    `json:"current_url"`
	CurrentTitle string    `json:"current_title"`
	Returning    bool      `json:"returning"`
	Visits       int       `json:"visits"`
	LastSeenAt   time.Time `json:"last_seen_at"`
}

// PanelPage is one page view of the trail, newest first.
type PanelPage struct {
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	ViewedAt time.Time `json:"viewed_at"`
}

// PanelEarlier is one earlier conversation of the visitor. Link is the transcript page when the
// agent may read it, else "".
type PanelEarlier struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	Rating    *int      `json:"rating"`
	Link      string    `json:"link"`
}

// Visitor returns the visitor panel of conversation convID for p (the route checked chat.accept
// in its department). Content is opened only here, for the agent who looks at it; the pre-chat
// answers, the survey and the name are the visitor's own words, masked when they were stored.
//
// masked asks for the e-mail masked even where p may see it (the workspace's periodic refresh,
// which keeps what the first view showed): such a view reads no personal data and is not audited.
func (s *Service) Visitor(ctx context.Context, p *identity.Principal, convID string, masked bool, o Origin) (VisitorPanel, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	c, err := s.store.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return VisitorPanel{}, err
	}
	dept := c.Department()
	out := VisitorPanel{ConversationID: c.ID, VisitorID: c.VisitorID, Language: c.Language,
		Answers: []PanelAnswer{}, Pages: []PanelPage{}, Earlier: []PanelEarlier{}}
	if out.Name, err = s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName); err != nil {
		return VisitorPanel{}, err
	}
	email, err := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorEmail, 0, c.VisitorEmail)
	if err != nil {
		return VisitorPanel{}, err
	}
	if out.PII = !masked && s.allowed(ctx, p, permViewPII, dept); out.PII && email != "" {
		rec := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionVisitorPIIView, c.ID, o, map[string]string{"visitor": c.VisitorID, "fields": "email"})
		rec.Target = audit.Target{Kind: "visitor", ID: c.VisitorID}
		if err := s.store.record(ctx, rec); err != nil {
			return VisitorPanel{}, err
		}
	}
	out.Email = email
	if !out.PII {
		out.Email = MaskEmail(email)
	}
	if err := s.panelAnswers(ctx, c, &out); err != nil {
		return VisitorPanel{}, err
	}
	if c.Survey != "" {
		body, err := s.open(ctx, c.TenantID, c.ID, vault.FieldSurveyAnswers, 0, c.Survey)
		if err != nil {
			return VisitorPanel{}, err
		}
		var sv PanelSurvey
		if json.Unmarshal([]byte(body), &sv) == nil {
			out.Survey = &sv
		}
	}
	if v, err := s.visitors.Get(ctx, c.TenantID, c.VisitorID); err == nil {
		out.Client = &PanelClient{Browser: v.Browser, OS: v.OS, Device: v.Device, Referrer: v.Referrer,
			CurrentURL: v.CurrentURL, CurrentTitle: v.CurrentTitle, Returning: v.IsReturning, Visits: v.Visits, LastSeenAt: v.LastSeenAt}
		pages, err := s.visitors.Pages(ctx, c.TenantID, c.VisitorID, panelPages)
		if err != nil {
			return VisitorPanel{}, err
		}
		for _, pv := range pages {
			out.Pages = append(out.Pages, PanelPage{URL: pv.URL, Title: pv.Title, ViewedAt: pv.ViewedAt})
		}
	} else if !errors.Is(err, visitor.ErrNotFound) {
		return VisitorPanel{}, err
	}
	return out, s.panelEarlier(ctx, p, c, &out)
}

// panelAnswers opens the pre-chat answers and labels them with the site's questions (in the
// form's order; an answer to a question removed since keeps its id as label).
func (s *Service) panelAnswers(ctx context.Context, c Conversation, out *VisitorPanel) error {
	if c.Prechat == "" {
		return nil
	}
	body, err := s.open(ctx, c.TenantID, c.ID, vault.FieldPreChatAnswers, 0, c.Prechat)
	if err != nil {
		return err
	}
	answers := map[string]string{}
	if json.Unmarshal([]byte(body), &answers) != nil || len(answers) == 0 {
		return nil
	}
	set, err := s.store.settings(ctx, c.SiteID)
	if err != nil {
		return err
	}
	for _, q := range set.Prechat.Questions {
		if a, ok := answers[q.ID]; ok {
			out.Answers = append(out.Answers, PanelAnswer{ID: q.ID, Label: q.Label, Answer: a})
			delete(answers, q.ID)
		}
	}
	for id, a := range answers {
		out.Answers = append(out.Answers, PanelAnswer{ID: id, Label: id, Answer: a})
	}
	return nil
}

// panelEarlier lists the visitor's earlier conversations (newest first): all of them counted,
// listed only for an agent with a transcript permission somewhere, each linked when that
// permission covers it.
func (s *Service) panelEarlier(ctx context.Context, p *identity.Principal, c Conversation, out *VisitorPanel) error {
	rows, count, err := s.store.earlier(ctx, c.TenantID, c.VisitorID, c.ID, panelEarlier)
	if err != nil {
		return err
	}
	out.EarlierCount = int(count)
	all := s.allowed(ctx, p, permTranscriptAll, "")
	listed := all
	for _, perm := range []string{permTranscriptDept, permTranscriptOwn} {
		if anywhere, depts, err := s.DepartmentsWith(ctx, p, perm); err == nil && (anywhere || len(depts) > 0) {
			listed = true
		}
	}
	if !listed {
		return nil
	}
	for _, e := range rows {
		row := PanelEarlier{ID: e.ID, Status: e.Status, StartedAt: e.QueuedAt, Rating: e.Rating}
		if all || s.allowed(ctx, p, permTranscriptDept, e.Department()) ||
			(deref(e.AgentID) == p.UserID && s.allowed(ctx, p, permTranscriptOwn, e.Department())) {
			row.Link = transcriptLinkTemplate + e.ID
		}
		out.Earlier = append(out.Earlier, row)
	}
	return nil
}

// allowed asks the policy; an error is a refusal (fail closed).
func (s *Service) allowed(ctx context.Context, p *identity.Principal, permission, dept string) bool {
	ok, err := s.authz.Allowed(ctx, p, permission, dept)
	return err == nil && ok
}

// MaskEmail hides an e-mail address but its first letter and its domain: "ada@example.com" →
// "a•••@example.com". Without an @ everything but the first letter is hidden.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	at := strings.LastIndexByte(email, '@')
	r := []rune(email)
	if at <= 0 {
		return string(r[0]) + "•••"
	}
	return string([]rune(email[:at])[0]) + "•••" + email[at:]
}
