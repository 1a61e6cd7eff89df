package chat

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/vault"
)

// Step is work a session hands to its connection's writer, which owns the session's follower:
// the writer runs it in order with the frames queued before and after it and sends the frames
// it returns at once. An error ends the connection, as a follower's does.
type Step func(ctx context.Context) ([]any, error)

// Refusal, among the frames a session returns, is a refused request the transport answers with
// an error frame naming ConversationID; the connection stays open.
type Refusal struct {
	Err            error
	ConversationID string
}

// AgentSession is one live connection of an agent or a supervisor (the agent socket): the
// conversations it follows as their agent or supervises, the offers it was shown, and the rules
// that decide what it may see. The methods named after inbound frames run on the connection's
// reader; the Steps they return, Wake, Drain and Recheck run on its writer, which owns the
// follower and the state below it.
type AgentSession struct {
	s      *Service
	p      *identity.Principal
	o      Origin
	name   string
	depts  map[string]bool
	any    bool
	f      *follower
	offers map[string]protocol.Offer
	// socketID names the connection's presence row; "" for a user who only supervises (no chat
	// is routed to them).
	socketID string
	// assigned is the conversations the socket follows as their agent; watch those it follows as a
	// supervisor (id → protocol.ModeMonitor or ModeJoin). The writer goroutine owns both.
	assigned map[string]bool
	watch    map[string]string
	// checked is, for each watched conversation, the last seq its department was checked at:
	// a transfer to another department above it checks the permission again (writer goroutine).
	checked map[string]int64
	// mine mirrors, for the reader goroutine, the followed conversations the user takes part in
	// (as their agent, or a supervisor who joined): typing is relayed for those.
	mine sync.Map
	// joined mirrors, for the reader, the conversations the user joined as a supervisor.
	joined sync.Map
	// whispered is the conversations the socket has whispered into (reader goroutine only).
	whispered map[string]bool
	// lastActive is when the agent last sent a frame other than ping (unix nanoseconds of the
	// engine's clock); idle is set while the agent is away after inactivity, so that their next
	// frame brings them back online. Both are read by the idle sweep and the reader.
	lastActive atomic.Int64
	idle       atomic.Bool
	// sentStatus is the status (and reason) the socket last told the agent (writer goroutine).
	sentStatus string
}

// MayConnect reports whether p may open the agent socket: they hold chat.accept, or one of the
// supervision permissions (chat.monitor, chat.join, chat.whisper), tenant-wide or in a
// department.
func (s *Service) MayConnect(ctx context.Context, p *identity.Principal) (bool, error) {
	if ok, err := s.acceptsSomewhere(ctx, p); err != nil || ok {
		return ok, err
	}
	return s.supervisesSomewhere(ctx, p)
}

// OpenAgent opens the session of an agent socket after its hello (resume maps the conversations
// the client follows to the last seq it has). An agent who takes chats is recorded online for
// the departments they serve; a user who only supervises is not. It returns the frames that open
// the socket — the welcome (with the agent's conversations and offers), the replay of their
// conversations, then the supervised conversations the user joined and did not leave — or
// ErrForbidden when p may neither take chats nor supervise. Close the session when the
// connection ends.
func (s *Service) OpenAgent(ctx context.Context, p *identity.Principal, resume map[string]int64, o Origin) (*AgentSession, []any, error) {
	a := &AgentSession{s: s, p: p, o: o, name: s.AgentName(ctx, p), depts: map[string]bool{}, offers: map[string]protocol.Offer{},
		assigned: map[string]bool{}, watch: map[string]string{}, checked: map[string]int64{}, whispered: map[string]bool{}}
	var deptList []string
	if ok, err := s.authz.Allowed(ctx, p, permAccept, ""); err == nil && ok {
		a.any = true
		deptList = append(deptList, anyDepartment)
	}
	depts, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range depts {
		if a.any {
			a.depts[d.ID] = true
			deptList = append(deptList, d.ID)
			continue
		}
		if ok, err := s.authz.Allowed(ctx, p, permAccept, d.ID); err == nil && ok {
			a.depts[d.ID] = true
			deptList = append(deptList, d.ID)
		}
	}
	if len(deptList) > 0 {
		socketID := uuid.Must(uuid.NewV7()).String()
		if err := s.store.presenceUp(ctx, socketID, p.TenantID, p.UserID, s.node, deptList); err != nil {
			return nil, nil, err
		}
		a.socketID = socketID
	} else if ok, err := s.supervisesSomewhere(ctx, p); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, ErrForbidden
	}
	// A user who only supervises is not online as an agent: no chat is routed to them.
	a.f = s.newFollower(viewer{kind: SenderAgent, id: p.UserID}, hub.QueueTopic(p.TenantID), hub.UserTopic(p.UserID))
	a.lastActive.Store(s.now().UnixNano())
	s.agents.Store(a, struct{}{})
	frames, err := a.open(ctx, resume)
	if err != nil {
		a.Close(ctx)
		return nil, nil, err
	}
	if a.socketID != "" {
		s.routeLater(ctx, p.TenantID)
	}
	return a, frames, nil
}

// open builds the frames that open the socket.
func (a *AgentSession) open(ctx context.Context, resume map[string]int64) ([]any, error) {
	s, p := a.s, a.p
	convs, err := s.store.agentConversations(ctx, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	var replay []protocol.Event
	welcome := protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Version, Agent: &protocol.Agent{ID: p.UserID, Name: a.name},
		Departments: sortedKeys(a.depts), Conversations: []protocol.Conversation{}, ServerTime: s.now().UTC()}
	for _, c := range convs {
		a.assigned[c.ID] = true
		evs, err := a.follow(ctx, c, resume[c.ID])
		if err != nil {
			return nil, err
		}
		replay = append(replay, evs...)
		welcome.Conversations = append(welcome.Conversations, *a.summary(ctx, c))
	}
	supervised, err := a.resumeJoined(ctx, resume)
	if err != nil {
		return nil, err
	}
	queue, err := a.queue(ctx)
	if err != nil {
		return nil, err
	}
	welcome.Queue = queue
	for _, of := range queue {
		a.offers[of.ConversationID] = of
	}
	frames := make([]any, 0, 2+len(replay)+len(supervised))
	frames = append(frames, welcome)
	if a.socketID != "" {
		st, err := a.status(ctx)
		if err != nil {
			return nil, err
		}
		if st.Status == AgentAway && st.Reason == ReasonIdle {
			// Connecting is activity: an agent set away for inactivity is back.
			if err := s.SetStatus(ctx, p, AgentOnline, ReasonManual, a.o); err != nil {
				return nil, err
			}
			st = protocol.Status{Type: protocol.TypeStatus, Status: AgentOnline, Reason: ReasonManual}
		}
		a.sentStatus = st.Status + "/" + st.Reason
		frames = append(frames, st)
	}
	for _, ev := range replay {
		frames = append(frames, ev)
	}
	return append(frames, supervised...), nil
}

// Close lets go of the followed conversations and takes the agent offline (ctx may have ended:
// the presence row is removed regardless).
func (a *AgentSession) Close(ctx context.Context) {
	a.f.close()
	a.s.agents.Delete(a)
	if a.socketID != "" {
		ctx := context.WithoutCancel(ctx)
		// Their chats wait for them a presence TTL before returning to the queue (a reload).
		if err := a.s.store.markOffline(ctx, a.p.TenantID, a.p.UserID, a.socketID, a.s.onlineSince()); err != nil {
			a.s.log.WarnContext(ctx, "record agent offline", "error", err.Error())
		}
		if err := a.s.store.presenceDown(ctx, a.socketID); err != nil {
			a.s.log.WarnContext(ctx, "remove agent presence", "error", err.Error())
		}
	}
}

// status is the agent's status frame as stored.
func (a *AgentSession) status(ctx context.Context) (protocol.Status, error) {
	r, err := a.s.store.agentRouting(ctx, a.p.TenantID, a.p.UserID)
	if err != nil {
		return protocol.Status{}, err
	}
	a.idle.Store(r.Status == AgentAway && r.StatusReason == ReasonIdle)
	return protocol.Status{Type: protocol.TypeStatus, Status: r.Status, Reason: r.StatusReason}, nil
}

// Activity records that the agent sent a frame other than ping: the idle clock restarts, and an
// agent away after inactivity is back online.
func (a *AgentSession) Activity(ctx context.Context) {
	a.lastActive.Store(a.s.now().UnixNano())
	if a.socketID != "" && a.idle.CompareAndSwap(true, false) {
		if err := a.s.SetStatus(ctx, a.p, AgentOnline, ReasonManual, a.o); err != nil {
			a.s.log.WarnContext(ctx, "agent back from idle", "error", err.Error())
		}
	}
}

// SetStatus sets the agent online or away by choice (Service.SetStatus).
func (a *AgentSession) SetStatus(ctx context.Context, status string) error {
	if a.socketID == "" {
		return ErrForbidden
	}
	return a.s.SetStatus(ctx, a.p, status, ReasonManual, a.o)
}

// acceptsSomewhere reports whether the user holds chat.accept tenant-wide or in a department.
func (s *Service) acceptsSomewhere(ctx context.Context, p *identity.Principal) (bool, error) {
	if ok, err := s.authz.Allowed(ctx, p, permAccept, ""); err == nil && ok {
		return true, nil
	}
	depts, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return false, err
	}
	for _, d := range depts {
		if ok, err := s.authz.Allowed(ctx, p, permAccept, d.ID); err == nil && ok {
			return true, nil
		}
	}
	return false, nil
}

// Keep runs the session's upkeep until ctx ends: it keeps an agent who takes chats online (the
// presence heartbeat) and, when the engine checks sessions (Config.Sessions), calls expired and
// returns once the console session is no longer live — signed out, revoked, rotated by a role
// change, past its absolute lifetime, or its user disabled. A check that fails keeps the session
// until the next one.
func (a *AgentSession) Keep(ctx context.Context, expired func()) {
	var beat, check <-chan time.Time
	if a.socketID != "" {
		t := time.NewTicker(a.s.limits.PresenceTTL / 3)
		defer t.Stop()
		beat = t.C
	}
	if a.s.sessions != nil {
		t := time.NewTicker(a.s.limits.SessionCheck)
		defer t.Stop()
		check = t.C
	}
	if beat == nil && check == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat:
			if err := a.s.store.presenceBeat(ctx, a.socketID); err != nil && ctx.Err() == nil {
				a.s.log.WarnContext(ctx, "agent presence heartbeat", "error", err.Error())
			}
		case <-check:
			live, err := a.s.sessions.SessionLive(ctx, a.p)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					a.s.log.WarnContext(ctx, "agent socket session check", "error", err.Error())
				}
			case !live:
				// Signed out, revoked or disabled: their chats go back to the queue at once.
				if a.socketID != "" {
					if err := a.s.RequeueAgent(ctx, a.p.TenantID, a.p.UserID, "signed_out"); err != nil {
						a.s.log.WarnContext(ctx, "requeue chats of a signed-out agent", "error", err.Error())
					}
				}
				expired()
				return
			}
		}
	}
}

func (a *AgentSession) follow(ctx context.Context, c Conversation, after int64) ([]protocol.Event, error) {
	a.mine.Store(c.ID, true)
	return a.f.follow(ctx, c, after)
}

func (a *AgentSession) summary(ctx context.Context, c Conversation) *protocol.Conversation {
	sum := c.Summary(c.LastSeq)
	if cur, ok := a.f.convs[c.ID]; ok {
		sum.LastSeq = cur.delivered
	}
	name, _ := a.s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	sum.Visitor = &protocol.Sender{Kind: SenderVisitor, ID: c.VisitorID, Name: name}
	return sum
}

// serves reports whether the agent sees the queue of a conversation's department.
func (a *AgentSession) serves(dept string) bool {
	if dept == "" {
		return a.any
	}
	return a.depts[dept]
}

// queue returns the offers the agent sees now.
func (a *AgentSession) queue(ctx context.Context) ([]protocol.Offer, error) {
	s := a.s
	waiting, err := s.store.queue(ctx, a.p.TenantID)
	if err != nil {
		return nil, err
	}
	refused, err := s.store.refusedBy(ctx, a.p.TenantID, a.p.UserID)
	if err != nil {
		return nil, err
	}
	auto, err := s.automatic(ctx, a.p.TenantID)
	if err != nil {
		return nil, err
	}
	out := []protocol.Offer{}
	for _, c := range waiting {
		toMe := c.Status == StatusAssigned && deref(c.OfferedTo) == a.p.UserID
		if refused[c.ID] || (c.Status == StatusAssigned && !toMe) || (!toMe && !a.serves(c.Department())) {
			continue
		}
		// Automatic routing offers a department's chats to one agent at a time.
		if !toMe && auto[c.Department()] {
			continue
		}
		name, err := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
		if err != nil {
			return nil, err
		}
		of := protocol.Offer{ConversationID: c.ID, DepartmentID: c.Department(), Status: c.Status,
			Visitor: protocol.Sender{Kind: SenderVisitor, ID: c.VisitorID, Name: name}, QueuedAt: c.QueuedAt.UTC(),
			TransferredToMe: toMe && c.OfferExpiresAt == nil, Priority: c.Priority}
		if toMe && c.OfferExpiresAt != nil {
			t := c.OfferExpiresAt.UTC()
			of.ExpiresAt = &t
		}
		out = append(out, of)
	}
	return out, nil
}

// Wake is signalled when a followed conversation, the tenant's queue or the user has news for
// Drain.
func (a *AgentSession) Wake() <-chan struct{} { return a.f.sub.C() }

// Drain returns the frames due to the agent: the followed conversations' new events in order,
// typing and read signals, and queue and user changes turned into offer, withdrawal, assignment
// and unassignment frames, less what supervision may no longer see.
func (a *AgentSession) Drain(ctx context.Context) ([]any, error) {
	p, err := a.f.drain(ctx)
	if err != nil {
		return p.frames, err
	}
	return a.onDrain(ctx, p)
}

// Recheck compares the followed conversations' cursors with the database (what a lost signal
// skipped) and re-reads the offers and the agent's conversations.
func (a *AgentSession) Recheck(ctx context.Context) ([]any, error) {
	p, err := a.f.recheck(ctx)
	if err != nil {
		return p.frames, err
	}
	return a.onDrain(ctx, p)
}

// onDrain returns the drained frames, with queue and user signals turned into offer, withdrawal,
// assignment and unassignment frames (newly assigned conversations followed from their first
// event), less what supervision may no longer see.
func (a *AgentSession) onDrain(ctx context.Context, p pending) ([]any, error) {
	frames, err := a.drained(ctx, p)
	all := a.guard(ctx, append(slices.Clip(p.frames), frames...))
	return append(all, a.closedWatches(all)...), err
}

// drained turns queue and user signals into frames.
func (a *AgentSession) drained(ctx context.Context, p pending) ([]any, error) {
	var frames []any
	s := a.s
	if p.user && a.socketID != "" {
		st, err := a.status(ctx)
		if err != nil {
			return nil, err
		}
		if k := st.Status + "/" + st.Reason; k != a.sentStatus {
			a.sentStatus = k
			frames = append(frames, st)
		}
	}
	if p.queue || p.user {
		offers, err := a.queue(ctx)
		if err != nil {
			return nil, err
		}
		now := map[string]protocol.Offer{}
		for _, of := range offers {
			now[of.ConversationID] = of
			if old, ok := a.offers[of.ConversationID]; !ok || old.Status != of.Status || old.DepartmentID != of.DepartmentID {
				frames = append(frames, protocol.OfferFrame{Type: protocol.TypeOffer, Offer: of})
			}
		}
		for id := range a.offers {
			if _, ok := now[id]; !ok {
				reason := a.withdrawReason(ctx, id)
				if old := a.offers[id]; old.ExpiresAt != nil && (reason == "refused" || reason == "transferred") && !s.now().Before(*old.ExpiresAt) {
					// The automatic offer timed out (and may be with the next agent already).
					reason = "expired"
				}
				frames = append(frames, protocol.Withdrawn{Type: protocol.TypeOfferWithdrawn, ConversationID: id, Reason: reason})
			}
		}
		a.offers = now
	}
	if p.user || p.resync {
		convs, err := s.store.agentConversations(ctx, a.p.TenantID, a.p.UserID)
		if err != nil {
			return frames, err
		}
		active := map[string]bool{}
		for _, c := range convs {
			active[c.ID] = true
			if a.assigned[c.ID] {
				continue
			}
			a.assigned[c.ID] = true
			evs, err := a.follow(ctx, c, 0)
			frames = append(frames, protocol.Assigned{Type: protocol.TypeAssigned, Conversation: *a.summary(ctx, c)})
			for _, ev := range evs {
				frames = append(frames, ev)
			}
			if err != nil {
				return frames, err
			}
		}
		for id := range a.assigned {
			if active[id] {
				continue
			}
			cur, ok := a.f.convs[id]
			if !ok {
				delete(a.assigned, id)
				continue
			}
			// Deliver what is left of it (the transfer or end event) before letting go.
			evs, err := a.f.catchUp(ctx, id, cur)
			for _, ev := range evs {
				frames = append(frames, ev)
			}
			if err != nil {
				return frames, err
			}
			c, err := s.store.conversation(ctx, a.p.TenantID, id)
			if err != nil {
				return frames, err
			}
			if c.Open() {
				frames = append(frames, protocol.Withdrawn{Type: protocol.TypeUnassigned, ConversationID: id, Reason: "transferred"})
			}
			delete(a.assigned, id)
			switch a.watch[id] {
			case "":
				a.f.unfollow(id)
				a.mine.Delete(id)
			case protocol.ModeMonitor:
				a.mine.Delete(id)
			}
		}
	}
	return frames, nil
}

func (a *AgentSession) withdrawReason(ctx context.Context, id string) string {
	c, err := a.s.store.conversation(ctx, a.p.TenantID, id)
	switch {
	case err != nil:
		return "ended"
	case c.Status == StatusActive:
		return "taken"
	case c.Status == StatusMissed:
		return "missed"
	case c.Status == StatusEnded:
		return "ended"
	case c.Status == StatusQueued:
		return "refused"
	}
	return "transferred"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Agent returns the actor the session writes as: the user under their display name.
func (a *AgentSession) Agent() Actor { return Actor{Kind: SenderAgent, ID: a.p.UserID, Name: a.name} }

// Accept takes a queued conversation, or one offered to the agent (Service.Accept).
func (a *AgentSession) Accept(ctx context.Context, convID string) error {
	_, err := a.s.Accept(ctx, a.p, a.name, convID, a.o)
	return err
}

// Refuse hides a queued conversation from the agent or hands an offered one back (Service.Refuse).
func (a *AgentSession) Refuse(ctx context.Context, convID string) error {
	return a.s.Refuse(ctx, a.p, convID, a.o)
}

// Post stores the user's message in a conversation they handle or joined as a supervisor
// (Service.Post); the ack carries the result's Seq.
func (a *AgentSession) Post(ctx context.Context, convID, key, text string) (PostResult, error) {
	return a.s.Post(ctx, a.p.TenantID, convID, a.author(ctx, a.Agent(), convID), key, text, "")
}

// Submit hands the user's message to the group commit without waiting (Post, Service.Submit).
func (a *AgentSession) Submit(ctx context.Context, convID, key, text string) (*Pending, error) {
	return a.s.Submit(ctx, a.p.TenantID, convID, a.author(ctx, a.Agent(), convID), key, text, "")
}

// Typing relays the user's typing signal into a conversation they take part in.
func (a *AgentSession) Typing(ctx context.Context, convID string, typing bool) {
	if _, ok := a.mine.Load(convID); ok {
		a.s.Typing(ctx, convID, SenderAgent, typing)
	}
}

// Read records how far the user has read a conversation.
func (a *AgentSession) Read(ctx context.Context, convID string, seq int64) error {
	return a.s.Read(ctx, a.p.TenantID, convID, a.Agent(), seq)
}

// Transfer moves the agent's conversation to a department or offers it to an agent, with a note
// for agents only (Service.Transfer).
func (a *AgentSession) Transfer(ctx context.Context, convID, toDept, toAgent, note string) error {
	return a.s.Transfer(ctx, a.p, convID, toDept, toAgent, note, a.o)
}

// End ends the agent's conversation.
func (a *AgentSession) End(ctx context.Context, convID string) error {
	return a.s.End(ctx, a.p.TenantID, convID, a.Agent(), a.p, a.o)
}
