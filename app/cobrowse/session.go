package cobrowse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/cobrowse/dom"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Frame size limits: a visitor's frame (a snapshot is the largest) and an agent's.
const (
	MaxVisitorFrame = 4 << 20
	MaxAgentFrame   = 8 << 10
	maxTyped        = 1000
	visitorQueue    = 64
)

// Session is a co-browsing session held by this node: it relays the visitor's sanitised frames
// to the agent's leg and the agent's commands to the visitor, in bounded queues, and keeps
// nothing else of the page.
type Session struct {
	svc                                  *Service
	id, tenant, conv, site, agent, visit string
	san                                  *dom.Sanitizer
	idle                                 time.Duration
	allowlist                            []string

	toVisitor chan []byte
	done      chan struct{}
	endOnce   sync.Once

	mu           sync.Mutex
	mode         string
	controlAsked bool
	lastAgent    time.Time
	leg          *Leg
	tokens       float64
	refill       time.Time
	reason       string
}

// ID returns the session's id.
func (l *Session) ID() string { return l.id }

// Done is closed when the session has ended.
func (l *Session) Done() <-chan struct{} { return l.done }

// Reason says why the session ended ("" while it runs).
func (l *Session) Reason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// Mode returns the session's mode.
func (l *Session) Mode() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mode
}

// ToVisitor carries the frames for the visitor's page: resync requests, control requests and
// commands, mode changes.
func (l *Session) ToVisitor() <-chan []byte { return l.toVisitor }

func (l *Session) idleSince(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Sub(l.lastAgent) >= l.idle
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// sendVisitor queues a frame for the visitor; a visitor that does not read its few control
// frames loses them (the page still works; the agent asks again).
func (l *Session) sendVisitor(b []byte) {
	select {
	case l.toVisitor <- b:
	default:
	}
}

// sendAgent queues a frame for the agent; an agent that cannot keep up ends the session
// (back-pressure: nothing piles up in memory). Without an agent the frame is dropped: the page
// is sent again in full when one attaches.
func (l *Session) sendAgent(ctx context.Context, b []byte) {
	l.mu.Lock()
	leg := l.leg
	l.mu.Unlock()
	if leg == nil {
		return
	}
	select {
	case leg.out <- b:
	case <-leg.gone:
	default:
		go l.End(context.WithoutCancel(ctx), ReasonAgentSlow)
	}
}

type stateFrame struct {
	T            string `json:"t"`
	Mode         string `json:"mode"`
	ControlAsked bool   `json:"control_asked"`
	Control      bool   `json:"control_allowed"`
}

func (l *Session) stateLocked(leg *Leg) []byte {
	return marshal(stateFrame{T: "state", Mode: l.mode, ControlAsked: l.controlAsked, Control: leg != nil && leg.control})
}

// allow takes a token of the visitor's rate.
func (l *Session) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.svc.opts
	l.tokens += now.Sub(l.refill).Seconds() * float64(o.VisitorRate)
	l.tokens = min(l.tokens, float64(o.VisitorBurst))
	l.refill = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// visitorIn is a visitor's frame that is not part of the page: an answer or a stop.
type visitorIn struct {
	T string `json:"t"`
}

// FromVisitor takes a frame of the visitor's page: a page frame is sanitised and relayed to
// the agent; control answers change the mode; stop ends the session. A malformed or oversized
// frame, or a page sending faster than allowed, ends the session (fail closed).
func (l *Session) FromVisitor(ctx context.Context, data []byte) {
	if len(data) > MaxVisitorFrame || !l.allow(l.svc.now()) {
		l.End(ctx, ReasonLimit)
		return
	}
	var in visitorIn
	if err := json.Unmarshal(data, &in); err != nil {
		l.End(ctx, ReasonLimit)
		return
	}
	switch in.T {
	case "control_consent":
		l.consentControl(ctx)
		return
	case "control_decline":
		l.mu.Lock()
		asked := l.controlAsked
		l.controlAsked = false
		l.mu.Unlock()
		if asked {
			ev := l.svc.event(l.tenant, visitorActor(l.visit), audit.ActionCobrowseConsent, l.conv, Origin{},
				map[string]string{"session_id": l.id, "scope": ModeControl, "decision": "declined"})
			ev.Outcome = audit.Failure
			_ = l.svc.audit.Record(ctx, ev)
			l.notifyState()
		}
		return
	case "control_revoke":
		l.setMode(ctx, ModeView, "visitor")
		return
	case "stop":
		l.End(ctx, ReasonVisitorStopped)
		return
	}
	out, err := l.san.Frame(data)
	switch {
	case errors.Is(err, dom.ErrEmpty):
		return
	case err != nil:
		l.svc.log.WarnContext(ctx, "co-browsing frame refused", "session_id", l.id, "cause", err.Error())
		l.End(ctx, ReasonLimit)
		return
	}
	l.sendAgent(ctx, out)
}

// consentControl switches to control mode after the agent asked and the visitor agreed (both
// audited first: no audit, no control).
func (l *Session) consentControl(ctx context.Context) {
	l.mu.Lock()
	asked, leg := l.controlAsked, l.leg
	l.mu.Unlock()
	if !asked || leg == nil || !leg.control {
		return
	}
	if err := l.svc.audit.Record(ctx, l.svc.event(l.tenant, visitorActor(l.visit), audit.ActionCobrowseConsent, l.conv, Origin{},
		map[string]string{"session_id": l.id, "scope": ModeControl, "decision": "granted"})); err != nil {
		return
	}
	l.setMode(ctx, ModeControl, "visitor")
}

// setMode changes the mode (audited cobrowse.mode) and tells both sides.
func (l *Session) setMode(ctx context.Context, mode, by string) {
	l.mu.Lock()
	if l.mode == mode {
		l.controlAsked = false
		l.mu.Unlock()
		l.notifyState()
		return
	}
	l.mu.Unlock()
	actor := visitorActor(l.visit)
	if by == "agent" {
		actor = userActor(l.agent)
	}
	if err := l.svc.audit.Record(ctx, l.svc.event(l.tenant, actor, audit.ActionCobrowseMode, l.conv, Origin{},
		map[string]string{"session_id": l.id, "mode": mode, "by": by})); err != nil && mode == ModeControl {
		return
	}
	l.mu.Lock()
	l.mode, l.controlAsked = mode, false
	l.mu.Unlock()
	l.sendVisitor(marshal(map[string]string{"t": "mode", "mode": mode}))
	l.notifyState()
}

func (l *Session) notifyState() {
	l.mu.Lock()
	leg := l.leg
	var b []byte
	if leg != nil {
		b = l.stateLocked(leg)
	}
	l.mu.Unlock()
	if leg != nil {
		select {
		case leg.out <- b:
		default:
		}
	}
}

// agentIn is an agent's frame.
type agentIn struct {
	T  string `json:"t"`
	ID int64  `json:"id,omitempty"`
	X  int    `json:"x,omitempty"`
	Y  int    `json:"y,omitempty"`
	V  string `json:"v,omitempty"`
}

// fromAgent takes a frame of the agent's viewer on leg.
func (l *Session) fromAgent(ctx context.Context, leg *Leg, data []byte) {
	if len(data) > MaxAgentFrame {
		return
	}
	var in agentIn
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if dec.Decode(&in) != nil {
		return
	}
	l.mu.Lock()
	current := l.leg == leg
	if current && in.T != "ping" {
		l.lastAgent = l.svc.now()
	}
	mode := l.mode
	l.mu.Unlock()
	if !current {
		return
	}
	switch in.T {
	case "activity", "ping":
	case "end":
		l.End(ctx, ReasonAgentEnded)
	case "control_request":
		if !leg.control || mode == ModeControl {
			return
		}
		if err := l.svc.audit.Record(ctx, l.svc.event(l.tenant, userActor(l.agent), audit.ActionCobrowseRequest, l.conv, Origin{},
			map[string]string{"session_id": l.id, "scope": ModeControl})); err != nil {
			return
		}
		l.mu.Lock()
		l.controlAsked = true
		l.mu.Unlock()
		l.sendVisitor(marshal(map[string]string{"t": "control_request"}))
		l.notifyState()
	case "view_only":
		l.setMode(ctx, ModeView, "agent")
	case "click", "scroll", "input":
		if mode != ModeControl || !leg.control || in.ID < 0 || in.ID > dom.MaxID {
			return
		}
		out := agentIn{T: in.T, ID: in.ID}
		switch in.T {
		case "scroll":
			out.X, out.Y = min(max(in.X, 0), dom.MaxCoord), min(max(in.Y, 0), dom.MaxCoord)
		case "input":
			if len(in.V) > maxTyped || pan.Contains(in.V) {
				return
			}
			out.V = in.V
		}
		l.sendVisitor(marshal(out))
	}
}

// End ends the session once: it leaves this node's table, its row is closed, cobrowse.end is
// audited with the reason and announced in the chat, and both sides are told.
func (l *Session) End(ctx context.Context, reason string) {
	l.endOnce.Do(func() {
		l.svc.mu.Lock()
		delete(l.svc.live, l.id)
		l.svc.mu.Unlock()
		l.mu.Lock()
		l.reason = reason
		leg := l.leg
		l.mu.Unlock()
		actor := l.svc.systemActor()
		switch reason {
		case ReasonVisitorStopped, ReasonVisitorLeft:
			actor = visitorActor(l.visit)
		case ReasonAgentEnded:
			actor = userActor(l.agent)
		}
		// The row and the audit record first: by the time either side hears of the end, it is
		// recorded.
		r := sessionRow{ID: l.id, TenantID: l.tenant, ConversationID: l.conv}
		if err := l.svc.finish(context.WithoutCancel(ctx), r, reason, actor, Origin{}); err != nil {
			l.svc.log.ErrorContext(ctx, "co-browsing session end not recorded", "session_id", l.id, "cause", err.Error())
		}
		if leg != nil {
			select {
			case leg.out <- marshal(map[string]string{"t": "end", "reason": reason}):
			default:
			}
		}
		close(l.done)
	})
}

// Leg is an agent's attachment to a session: the frames for the agent's viewer, and the way
// back for the agent's commands. A new attachment replaces the previous one.
type Leg struct {
	s       *Session
	out     chan []byte
	gone    chan struct{}
	once    sync.Once
	control bool
}

// Frames carries the sanitised page frames and state frames for the agent.
func (g *Leg) Frames() <-chan []byte { return g.out }

// Gone is closed when the leg was replaced or detached.
func (g *Leg) Gone() <-chan struct{} { return g.gone }

// Session returns the leg's session.
func (g *Leg) Session() *Session { return g.s }

// Send hands a frame of the agent's viewer to the session.
func (g *Leg) Send(ctx context.Context, data []byte) { g.s.fromAgent(ctx, g, data) }

// Detach ends the leg (the agent's viewer closed); the session runs on until the agent comes
// back, is idle too long, or it ends otherwise.
func (g *Leg) Detach() {
	g.once.Do(func() { close(g.gone) })
	g.s.mu.Lock()
	if g.s.leg == g {
		g.s.leg = nil
	}
	g.s.mu.Unlock()
}

// StartVisitor starts a requested session on the visitor's consent: the visitor (site key,
// visitor token) must be the conversation's, the request unanswered and recent, the chat open
// and the site's co-browsing on. This node holds the session from now on. Consent and start
// are audited with the row's change in one transaction, then announced (cobrowse_started).
func (s *Service) StartVisitor(ctx context.Context, siteKey, token, convID, id string, o Origin) (*Session, error) {
	site, c, err := s.chat.VisitorConversation(ctx, siteKey, token, convID)
	if errors.Is(err, chat.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ctx = migrations.WithTenant(ctx, c.TenantID)
	r, err := s.row(ctx, c.TenantID, c.ID, id)
	if err != nil {
		return nil, err
	}
	if r.Status != statusRequested {
		return nil, ErrClosed
	}
	now := s.now().UTC()
	if now.Sub(r.CreatedAt) > s.opts.RequestTTL {
		_ = s.finish(ctx, r, ReasonExpired, s.systemActor(), o)
		return nil, ErrClosed
	}
	if !c.Open() {
		return nil, ErrEnded
	}
	set, err := s.SiteSettings(ctx, c.TenantID, c.SiteID)
	if err != nil {
		return nil, err
	}
	if !set.Enabled {
		return nil, ErrDisabled
	}
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		res := tx.Model(&sessionRow{}).Where("tenant_id = ? AND id = ? AND status = ?", c.TenantID, id, statusRequested).
			Updates(map[string]any{"status": statusActive, "holder_node": s.instance, "holder_url": s.nodeURL, "started_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrClosed
		}
		if err := s.audit.Append(ctx, tx, s.event(c.TenantID, visitorActor(c.VisitorID), audit.ActionCobrowseConsent, c.ID, o,
			map[string]string{"session_id": id, "scope": ModeView, "decision": "granted"})); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(c.TenantID, visitorActor(c.VisitorID), audit.ActionCobrowseStart, c.ID, o,
			map[string]string{"session_id": id, "agent_id": r.AgentID}))
	})
	if err != nil {
		return nil, err
	}
	l := &Session{svc: s, id: id, tenant: c.TenantID, conv: c.ID, site: site.ID, agent: r.AgentID, visit: c.VisitorID,
		san:  dom.New(dom.Policy{Origins: site.Origins(), InputAllowlist: set.InputAllowlist}),
		idle: time.Duration(set.IdleSeconds) * time.Second, toVisitor: make(chan []byte, visitorQueue), done: make(chan struct{}),
		mode: ModeView, lastAgent: s.now(), tokens: float64(s.opts.VisitorBurst), refill: s.now()}
	s.mu.Lock()
	s.live[id] = l
	s.mu.Unlock()
	_ = s.chat.Announce(ctx, c.TenantID, c.ID, chat.Actor{Kind: chat.SenderVisitor, ID: c.VisitorID}, EventStarted,
		map[string]string{"session_id": id})
	return l, nil
}

// AttachAgent attaches the agent's viewer to a session this node holds. control says whether
// the agent holds cobrowse.control. The agent is sent the session's state, and the visitor's
// page is asked for a fresh snapshot.
func (s *Service) AttachAgent(tenantID, convID, id, agentID string, control bool) (*Leg, error) {
	l, ok := s.Held(id)
	if !ok || l.tenant != tenantID || l.conv != convID {
		return nil, ErrNotFound
	}
	if l.agent != agentID {
		return nil, ErrForbidden
	}
	g := &Leg{s: l, out: make(chan []byte, s.opts.QueueFrames), gone: make(chan struct{}), control: control}
	l.mu.Lock()
	old := l.leg
	l.leg = g
	l.lastAgent = s.now()
	g.out <- l.stateLocked(g)
	l.mu.Unlock()
	if old != nil {
		old.once.Do(func() { close(old.gone) })
	}
	select {
	case <-l.done:
		return nil, ErrClosed
	default:
	}
	l.sendVisitor(marshal(map[string]string{"t": "resync"}))
	return g, nil
}
