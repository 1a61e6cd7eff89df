package chathttp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// permAgentChat guards agent-to-agent chat.
const permAgentChat = "chat.agent_chat"

// maxColleagues bounds the colleague list of the team panel.
const maxColleagues = 500

// Colleagues lists a tenant's active console users; *account.Store satisfies it. Without it
// (People does not provide it) the colleague list is empty.
type Colleagues interface {
	Colleagues(ctx context.Context, tenantID string, limit int) ([]account.Person, error)
}

// TeamThread is a thread in the thread list.
type TeamThread struct {
	ID        string          `json:"id"`
	Peer      protocol.Sender `json:"peer"`
	LastSeq   int64           `json:"last_seq"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Colleague is a console user one may chat with.
type Colleague struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// teamThreads serves GET /api/v1/team/threads: the user's threads, most recent first.
func (m *Module) teamThreads(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ts, err := m.chat.TeamThreads(c.Request().Context(), p)
	if err != nil {
		return httpError(c, err)
	}
	out := make([]TeamThread, 0, len(ts))
	for _, t := range ts {
		out = append(out, TeamThread{ID: t.ID, Peer: t.Peer, LastSeq: t.LastSeq, UpdatedAt: t.UpdatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"threads": out})
}

// teamMessages serves GET /api/v1/team/threads/:thread/messages?after=N&limit=N: a page of a
// thread the user is in (another thread, or another tenant's, is 404). Every read is audited.
func (m *Module) teamMessages(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("thread")
	if !protocol.ValidID(id) {
		return api.ErrNotFound
	}
	after, err := queryInt(c, "after", 0, 1<<53)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 1, chat.MaxTeamPage)
	if err != nil {
		return err
	}
	evs, err := m.chat.TeamHistory(c.Request().Context(), p, id, after, int(limit), originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": evs})
}

// queryInt reads an optional integer query parameter within [lo, hi]; absent is 0.
func queryInt(c echo.Context, name string, lo, hi int64) (int64, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, api.ErrInvalidRequest.WithField(name).WithMessage(name + " must be a whole number from " + strconv.FormatInt(lo, 10) + " to " + strconv.FormatInt(hi, 10) + ".")
	}
	return n, nil
}

// teamColleagues serves GET /api/v1/team/colleagues: the tenant's other console users who may
// chat with the team, with their online status.
func (m *Module) teamColleagues(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var people []account.Person
	if cl, ok := m.people.(Colleagues); ok {
		if people, err = cl.Colleagues(ctx, p.TenantID, maxColleagues); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(people))
	for _, pp := range people {
		if pp.ID != p.UserID {
			ids = append(ids, pp.ID)
		}
	}
	status, err := m.chat.TeamStatus(ctx, p, ids)
	if err != nil {
		return httpError(c, err)
	}
	out := []Colleague{}
	for _, pp := range people {
		if st, ok := status[pp.ID]; ok {
			name := pp.DisplayName
			if name == "" {
				name = pp.Email
			}
			out = append(out, Colleague{ID: pp.ID, Name: name, Status: st})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"colleagues": out})
}

// teamFeed delivers a user's team messages and invitation outcomes to one agent socket: it
// follows the user's team topic and sends each thread's messages in seq order, exactly once,
// reading from the database whatever the signal does not carry (another node's message, a gap).
// A thread's cursor starts at the first message the socket sees: earlier ones are the history
// the client loads over HTTP.
type teamFeed struct {
	m   *Module
	p   *api.Principal
	sk  *socket
	sub *hub.Sub
	// mu orders the sends of the reader (the sender's own messages) and the feed's goroutine.
	mu        sync.Mutex
	delivered map[string]int64
	peers     map[string]protocol.Sender
}

// startTeam follows the user's team topic until ctx ends or the socket's writer stops.
func (m *Module) startTeam(ctx context.Context, sk *socket, p *api.Principal) *teamFeed {
	t := &teamFeed{m: m, p: p, sk: sk, sub: m.chat.Hub().Subscribe(hub.TeamTopic(p.UserID)),
		delivered: map[string]int64{}, peers: map[string]protocol.Sender{}}
	go func() {
		defer t.sub.Close()
		// With other nodes a signal can be lost: the cursors are compared with the database now
		// and then, as the conversations' are.
		var recheck <-chan time.Time
		if m.chat.Hub().HasRemote() {
			tk := time.NewTicker(m.chat.Limits().Recheck)
			defer tk.Stop()
			recheck = tk.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-sk.gone:
				return
			case <-recheck:
				t.recheck(ctx)
			case <-t.sub.C():
				sigs, overflow := t.sub.Drain()
				for _, sig := range sigs {
					t.signal(ctx, sig)
				}
				if overflow {
					t.recheck(ctx)
				}
			}
		}
	}()
	return t
}

// recheck delivers what lost signals skipped in the threads the socket follows.
func (t *teamFeed) recheck(ctx context.Context) {
	last, err := t.m.chat.TeamLastSeqs(ctx, t.p)
	if err != nil {
		if ctx.Err() == nil {
			t.m.log.WarnContext(ctx, "team message recheck", "error", err.Error())
		}
		return
	}
	t.mu.Lock()
	behind := map[string]int64{}
	for id, cur := range t.delivered {
		if last[id] > cur {
			behind[id] = last[id]
		}
	}
	t.mu.Unlock()
	for id, upto := range behind {
		if err := t.deliver(ctx, id, upto, nil); err != nil && ctx.Err() == nil {
			t.m.log.WarnContext(ctx, "team message recheck", "error", err.Error())
		}
	}
}

func (t *teamFeed) signal(ctx context.Context, sig hub.Signal) {
	switch sig.Kind {
	case hub.KindTeam:
		var have *protocol.TeamEvent
		if ev, ok := sig.Local.(protocol.TeamEvent); ok {
			have = &ev
		}
		if err := t.deliver(ctx, sig.Conversation, sig.Seq, have); err != nil && ctx.Err() == nil {
			t.m.log.WarnContext(ctx, "team message delivery", "error", err.Error())
		}
	case hub.KindInvite:
		res, err := t.m.chat.InvitationResult(ctx, t.p, sig.Conversation)
		if err == nil {
			t.sk.reply(ctx, res)
		}
	}
}

// deliver sends a thread's messages up to seq upto that the socket has not had, in order; have
// is message upto when the signal carried it.
func (t *teamFeed) deliver(ctx context.Context, threadID string, upto int64, have *protocol.TeamEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	last, known := t.delivered[threadID]
	if !known {
		last = upto - 1
	}
	if upto <= last {
		return nil
	}
	if have != nil && have.Seq == last+1 {
		peer, err := t.peer(ctx, threadID)
		if err != nil {
			return err
		}
		t.sk.reply(ctx, chat.ForTeamMember(*have, t.p.UserID, peer.ID, peer.Name))
		t.delivered[threadID] = have.Seq
		return nil
	}
	evs, err := t.m.chat.TeamDelivery(ctx, t.p, threadID, last)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		t.sk.reply(ctx, ev)
		t.delivered[threadID] = ev.Seq
	}
	return nil
}

func (t *teamFeed) peer(ctx context.Context, threadID string) (protocol.Sender, error) {
	if p, ok := t.peers[threadID]; ok {
		return p, nil
	}
	p, err := t.m.chat.TeamPeer(ctx, t.p, threadID)
	if err == nil {
		t.peers[threadID] = p
	}
	return p, err
}

// teamFrame handles the agent socket's team_message and invite frames; handled is false for
// every other frame.
func (m *Module) teamFrame(ctx context.Context, t *teamFeed, in protocol.Inbound, o chat.Origin) (handled bool, err error) {
	switch in.Type {
	case protocol.TypeTeamMessage:
		res, err := m.chat.TeamPost(ctx, t.p, in.ThreadID, in.UserID, in.Key, in.Text)
		if err != nil {
			return true, err
		}
		if res.Duplicate {
			// The answer to a retry: the stored original, sent again whatever the cursor.
			t.sk.reply(ctx, res.Event)
			return true, nil
		}
		// The sender's answer goes through the cursor, after any message it skipped.
		return true, t.deliver(ctx, res.Event.ThreadID, res.Event.Seq, &res.Event)
	case protocol.TypeInvite:
		res, err := m.chat.Invite(ctx, t.p, in.VisitorID, in.Text, o)
		if err != nil {
			return true, err
		}
		t.sk.reply(ctx, res)
		return true, nil
	}
	return false, nil
}

// errInvitationClosed answers an invitation that was answered already or has expired.
var errInvitationClosed = api.New(http.StatusConflict, "invitation_closed", "This invitation is no longer open.")

// Invitation is the widget's view of a pending invitation.
type Invitation struct {
	Invitation *chat.Invitation `json:"invitation"`
}

// pendingInvitation serves GET …/invitation: the visitor's open invitation, or null.
func (m *Module) pendingInvitation(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	v, err := m.visitorOf(c, site)
	if err != nil {
		return err
	}
	inv, err := m.chat.PendingInvitation(c.Request().Context(), site, v, c.RealIP())
	if errors.Is(err, chat.ErrNotFound) {
		return c.JSON(http.StatusOK, Invitation{})
	}
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, Invitation{Invitation: &inv})
}

// answerInvitation serves POST …/invitations/:invitation/accept and …/decline.
func (m *Module) answerInvitation(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		site, err := m.site(c)
		if err != nil {
			return err
		}
		v, err := m.visitorOf(c, site)
		if err != nil {
			return err
		}
		id := c.Param("invitation")
		if !protocol.ValidID(id) {
			return api.ErrNotFound
		}
		ctx := c.Request().Context()
		if !accept {
			if err := m.chat.DeclineInvitation(ctx, site, v, id, originOf(c)); err != nil {
				return httpError(c, err)
			}
			return c.NoContent(http.StatusNoContent)
		}
		conv, err := m.chat.AcceptInvitation(ctx, site, v, id, c.RealIP(), originOf(c))
		if err != nil {
			return httpError(c, err)
		}
		return c.JSON(http.StatusCreated, conv.Summary(conv.VisitorLastSeq))
	}
}
