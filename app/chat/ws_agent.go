package chat

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/vault"
)

// agentSocket serves GET /api/v1/chat/agent/ws for a signed-in user holding chat.accept, or one
// of the supervision permissions (chat.monitor, chat.join, chat.whisper), tenant-wide or in a
// department. The Origin must be Parley's own: a page elsewhere cannot open a socket with the
// user's cookie.
func (m *Module) agentSocket(c echo.Context) error {
	s := m.Service
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	origin := strings.ToLower(c.Request().Header.Get(echo.HeaderOrigin))
	if origin == "" || (origin != strings.ToLower(s.origin) && origin != requestOrigin(c)) {
		return errOriginNotAllowed
	}
	if ok, err := s.acceptsSomewhere(c.Request().Context(), p); err != nil {
		return err
	} else if !ok {
		if ok, err := s.supervisesSomewhere(c.Request().Context(), p); err != nil {
			return err
		} else if !ok {
			return api.ErrForbidden
		}
	}
	if s.base.Err() != nil {
		return api.ErrUnavailable
	}
	conn, err := upgrade(c)
	if err != nil {
		return nil
	}
	o := Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
	s.detach(c.Request().Context(), conn, func(ctx context.Context, en *ender) error { return s.runAgent(ctx, en, p, o) })
	return nil
}

// agentSession is the state of one agent socket that its writer goroutine owns.
type agentSession struct {
	s      *Service
	p      *api.Principal
	name   string
	depts  map[string]bool
	any    bool
	f      *follower
	offers map[string]protocol.Offer
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
}

// runAgent is one agent socket from hello to close.
func (s *Service) runAgent(ctx context.Context, en *ender, p *api.Principal, o Origin) error {
	conn := en.conn
	defer context.AfterFunc(s.base, func() { en.end(closeWith(websocket.StatusGoingAway, protocol.ReasonShutdown)) })()
	hello, err := readHello(ctx, en, protocol.SideAgent, s.limits.HelloTimeout)
	if err != nil {
		return err
	}
	a := &agentSession{s: s, p: p, depts: map[string]bool{}, offers: map[string]protocol.Offer{},
		assigned: map[string]bool{}, watch: map[string]string{}, checked: map[string]int64{}, whispered: map[string]bool{}}
	a.name = "Agent"
	if s.names != nil {
		if n, err := s.names.DisplayName(ctx, p.TenantID, p.UserID); err == nil && n != "" {
			a.name = n
		}
	}
	var deptList []string
	if ok, err := s.authz.Allowed(ctx, p, permAccept, ""); err == nil && ok {
		a.any = true
		deptList = append(deptList, anyDepartment)
	}
	depts, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return err
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
	socketID := uuid.Must(uuid.NewV7()).String()
	if len(deptList) > 0 {
		if err := s.presenceUp(ctx, socketID, p.TenantID, p.UserID, deptList); err != nil {
			return err
		}
		defer s.presenceDown(context.WithoutCancel(ctx), socketID)
	} else if ok, err := s.supervisesSomewhere(ctx, p); err != nil {
		return err
	} else if !ok {
		return closeWith(protocol.CloseUnavailable, "forbidden")
	}
	// A user who only supervises is not online as an agent: no chat is routed to them.

	a.f = s.newFollower(viewer{kind: SenderAgent, id: p.UserID}, hub.QueueTopic(p.TenantID), hub.UserTopic(p.UserID))
	defer a.f.close()
	sk := newSocket(conn)
	convs, err := s.store.agentConversations(ctx, p.TenantID, p.UserID)
	if err != nil {
		return err
	}
	var replay []protocol.Event
	welcome := protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Version, Agent: &protocol.Agent{ID: p.UserID, Name: a.name},
		Departments: sortedKeys(a.depts), Conversations: []protocol.Conversation{}, ServerTime: s.now().UTC()}
	for _, c := range convs {
		a.assigned[c.ID] = true
		evs, err := a.follow(ctx, c, hello.Conversations[c.ID])
		if err != nil {
			return err
		}
		replay = append(replay, evs...)
		welcome.Conversations = append(welcome.Conversations, *a.summary(ctx, c))
	}
	supervised, err := a.resumeJoined(ctx, hello.Conversations)
	if err != nil {
		return err
	}
	queue, err := a.queue(ctx)
	if err != nil {
		return err
	}
	welcome.Queue = queue
	for _, of := range queue {
		a.offers[of.ConversationID] = of
	}
	if err := sk.write(ctx, welcome); err != nil {
		return err
	}
	for _, ev := range replay {
		if err := sk.write(ctx, ev); err != nil {
			return err
		}
	}
	for _, fr := range supervised {
		if err := sk.write(ctx, fr); err != nil {
			return err
		}
	}
	if len(deptList) > 0 {
		hctx, hcancel := context.WithCancel(ctx)
		defer hcancel()
		go a.heartbeat(hctx, socketID)
	}
	if s.sessions != nil {
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		go a.watchSession(sctx, en)
	}
	return s.serve(ctx, en, sk, a.f, a.onDrain, func(ctx context.Context) error { return a.reads(ctx, sk, o) })
}

// acceptsSomewhere reports whether the user holds chat.accept tenant-wide or in a department.
func (s *Service) acceptsSomewhere(ctx context.Context, p *api.Principal) (bool, error) {
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

// watchSession closes the socket (4401 unauthenticated) once its session is no longer live: signed
// out, revoked, rotated by a role change, past its absolute lifetime, or its user disabled.
func (a *agentSession) watchSession(ctx context.Context, en *ender) {
	t := time.NewTicker(a.s.limits.SessionCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			live, err := a.s.sessions.SessionLive(ctx, a.p)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					a.s.log.WarnContext(ctx, "agent socket session check", "error", err.Error())
				}
			case !live:
				en.end(closeWith(protocol.CloseUnauthenticated, protocol.ReasonUnauthenticated))
				return
			}
		}
	}
}

func (a *agentSession) heartbeat(ctx context.Context, socketID string) {
	t := time.NewTicker(a.s.limits.PresenceTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.s.presenceBeat(ctx, socketID); err != nil && ctx.Err() == nil {
				a.s.log.WarnContext(ctx, "agent presence heartbeat", "error", err.Error())
			}
		}
	}
}

func (a *agentSession) follow(ctx context.Context, c Conversation, after int64) ([]protocol.Event, error) {
	a.mine.Store(c.ID, true)
	return a.f.follow(ctx, c, after)
}

func (a *agentSession) summary(ctx context.Context, c Conversation) *protocol.Conversation {
	sum := summary(c, c.LastSeq)
	if cur, ok := a.f.convs[c.ID]; ok {
		sum.LastSeq = cur.delivered
	}
	name, _ := a.s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	sum.Visitor = &protocol.Sender{Kind: SenderVisitor, ID: c.VisitorID, Name: name}
	return sum
}

// serves reports whether the agent sees the queue of a conversation's department.
func (a *agentSession) serves(dept string) bool {
	if dept == "" {
		return a.any
	}
	return a.depts[dept]
}

// queue returns the offers the agent sees now.
func (a *agentSession) queue(ctx context.Context) ([]protocol.Offer, error) {
	s := a.s
	waiting, err := s.store.queue(ctx, a.p.TenantID)
	if err != nil {
		return nil, err
	}
	refused, err := s.store.refusedBy(ctx, a.p.TenantID, a.p.UserID)
	if err != nil {
		return nil, err
	}
	out := []protocol.Offer{}
	for _, c := range waiting {
		toMe := c.Status == StatusAssigned && deref(c.OfferedTo) == a.p.UserID
		if refused[c.ID] || (c.Status == StatusAssigned && !toMe) || (!toMe && !a.serves(c.Department())) {
			continue
		}
		name, err := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
		if err != nil {
			return nil, err
		}
		out = append(out, protocol.Offer{ConversationID: c.ID, DepartmentID: c.Department(), Status: c.Status,
			Visitor: protocol.Sender{Kind: SenderVisitor, ID: c.VisitorID, Name: name}, QueuedAt: c.QueuedAt.UTC(), TransferredToMe: toMe})
	}
	return out, nil
}

// onDrain returns the drained frames, with queue and user signals turned into offer, withdrawal,
// assignment and unassignment frames (newly assigned conversations followed from their first
// event), less what supervision may no longer see.
func (a *agentSession) onDrain(ctx context.Context, p pending) ([]any, error) {
	frames, err := a.drained(ctx, p)
	all := a.guard(ctx, append(slices.Clip(p.frames), frames...))
	return append(all, a.closedWatches(all)...), err
}

// drained turns queue and user signals into frames.
func (a *agentSession) drained(ctx context.Context, p pending) ([]any, error) {
	var frames []any
	s := a.s
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
				frames = append(frames, protocol.Withdrawn{Type: protocol.TypeOfferWithdrawn, ConversationID: id, Reason: a.withdrawReason(ctx, id)})
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
			c, err := s.store.conversation(ctx, s.db, a.p.TenantID, id)
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

func (a *agentSession) withdrawReason(ctx context.Context, id string) string {
	c, err := a.s.store.conversation(ctx, a.s.db, a.p.TenantID, id)
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

// reads handles the frames of an agent until the socket ends.
func (a *agentSession) reads(ctx context.Context, sk *socket, o Origin) error {
	s := a.s
	me := Actor{Kind: SenderAgent, ID: a.p.UserID, Name: a.name}
	strikes := 0
	for {
		typ, data, err := sk.conn.Read(ctx)
		if err != nil {
			return err
		}
		in, err := decodeFrame(protocol.SideAgent, typ, data)
		if err != nil {
			return err
		}
		var ferr error
		switch in.Type {
		case protocol.TypeHello:
			return closeWith(protocol.CloseHelloRequired, protocol.ReasonHelloRequired)
		case protocol.TypePing:
			sk.reply(ctx, protocol.Pong{Type: protocol.TypePong})
		case protocol.TypeAccept:
			_, ferr = s.Accept(ctx, a.p, a.name, in.ConversationID, o)
		case protocol.TypeRefuse:
			ferr = s.Refuse(ctx, a.p, in.ConversationID)
		case protocol.TypeMessage:
			res, err := s.Post(ctx, a.p.TenantID, in.ConversationID, a.author(ctx, me, in.ConversationID, o), in.Key, in.Text, "")
			if err != nil {
				ferr = err
				break
			}
			sk.reply(ctx, protocol.Ack{Type: protocol.TypeAck, ConversationID: in.ConversationID, Key: in.Key, Seq: res.Seq, Duplicate: res.Duplicate})
		case protocol.TypeTyping:
			if _, ok := a.mine.Load(in.ConversationID); ok {
				s.Typing(ctx, in.ConversationID, SenderAgent, in.Typing)
			}
		case protocol.TypeRead:
			ferr = s.Read(ctx, a.p.TenantID, in.ConversationID, me, in.Seq)
		case protocol.TypeTransfer:
			ferr = s.Transfer(ctx, a.p, in.ConversationID, in.DepartmentID, in.AgentID, o)
		case protocol.TypeEnd:
			ferr = s.End(ctx, a.p.TenantID, in.ConversationID, me, a.p, o)
		case protocol.TypeMonitor:
			ferr = a.monitor(ctx, sk, in, o)
		case protocol.TypeUnmonitor:
			a.unmonitor(ctx, sk, in.ConversationID)
		case protocol.TypeWhisper:
			ferr = a.whisper(ctx, sk, in, o)
		case protocol.TypeJoin:
			a.join(ctx, sk, in, o)
		case protocol.TypeLeave:
			ferr = a.leave(ctx, sk, in.ConversationID)
		}
		if ferr == nil {
			continue
		}
		f, ok := frameError(ferr, in.Key, in.ConversationID)
		if !ok {
			s.log.ErrorContext(ctx, "chat frame failed", "type", in.Type, "error", ferr.Error())
		}
		if f.Code == "rate_limited" {
			strikes++
			if strikes > s.limits.ThrottleStrikes {
				return closeWith(protocol.CloseRateLimited, protocol.ReasonRateLimited)
			}
		}
		sk.reply(ctx, f)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
