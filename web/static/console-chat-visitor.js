// Parley console chat workspace: the visitor panel beside the selected chat — name, e-mail
// (masked without visitor.view_pii), language, browser, referrer, pre-chat answers, the live page
// trail, the survey and earlier conversations — from GET /api/v1/chat/conversations/:id/visitor,
// refreshed while the chat is shown. Every value is set as text.
import { api, h, clock, fill } from './console-chat-dom.js';

const TEXT = {
  title: 'Visitor', none: 'Select a chat to see who you are talking to.', loading: 'Loading…', failed: 'The visitor details could not be loaded.',
  name: 'Name', email: 'E-mail', masked: '(masked)', language: 'Language', browser: 'Browser', referrer: 'Came from', page: 'Now on',
  visits: 'Visits', returning: 'returning visitor', answers: 'Pre-chat answers', no_answers: 'No answers.', trail: 'Pages visited',
  no_pages: 'No pages recorded.', survey: 'Rating', stars: '{n} of 5', earlier: 'Earlier conversations', no_earlier: 'None.',
  earlier_count: '{n} earlier conversations (you may not read their transcripts).', transcript: 'Transcript of {date}',
  unknown: '—', ban: 'Ban this visitor', banned: 'The visitor is banned.', ban_failed: 'The visitor could not be banned: {why}',
  status_ended: 'ended', status_missed: 'missed', status_queued: 'waiting', status_active: 'in progress', status_assigned: 'offered',
};

export class VisitorPanel {
  /** opts: canBan (ban.manage), onNotice(text). */
  constructor(opts = {}) {
    this.opts = opts;
    this.id = '';
    this.seq = 0;
    this.timer = 0;
    this.body = h('div', { class: 'cw-vp-body' }, h('p', { class: 'cw-muted', text: TEXT.none }));
    // The team panel (workspace-team.js) may add buttons here, such as Invite.
    this.actions = h('div', { class: 'cw-vp-actions', 'data-visitor-actions': true });
    this.el = h('aside', { class: 'cw-vp', 'aria-labelledby': 'cw-vp-h' }, h('h2', { id: 'cw-vp-h', text: TEXT.title }), this.body, this.actions);
  }

  /** show loads the panel of conversation id ('' clears it) and refreshes it every 15 s. */
  show(id) {
    clearInterval(this.timer);
    if (id !== this.id) {
      this.shown = null;
      this.body.replaceChildren(h('p', { class: 'cw-muted', text: id ? TEXT.loading : TEXT.none }));
    }
    this.id = id;
    this.actions.dataset.conversation = id;
    if (!id) return;
    this.load(false);
    this.timer = setInterval(() => { if (document.visibilityState === 'visible') this.load(true); }, 15000);
  }

  // load fetches the panel. A refresh asks for the e-mail masked (an unmasked view is audited
  // each time) and keeps the address the first view showed.
  async load(refresh) {
    const id = this.id;
    const mine = ++this.seq;
    const r = await api('GET', `/api/v1/chat/conversations/${encodeURIComponent(id)}/visitor${refresh ? '?mask=1' : ''}`);
    if (mine !== this.seq || id !== this.id) return;
    if (r.status !== 200 || !r.data) {
      if (!refresh) this.body.replaceChildren(h('p', { class: 'cw-muted', text: TEXT.failed }));
      return;
    }
    if (refresh && this.shown) Object.assign(r.data, { email: this.shown.email, pii: this.shown.pii });
    this.shown = { email: r.data.email, pii: r.data.pii };
    this.render(r.data);
  }

  render(v) {
    const c = v.client || {};
    const row = (label, value, extra) => [h('dt', { text: label }), h('dd', {}, value || TEXT.unknown, extra || null)];
    const facts = h('dl', { class: 'cw-facts' },
      row(TEXT.name, v.name),
      row(TEXT.email, v.email, v.email && !v.pii ? h('span', { class: 'cw-muted', text: ` ${TEXT.masked}` }) : null),
      row(TEXT.language, v.language),
      row(TEXT.browser, [c.browser, c.os, c.device].filter(Boolean).join(' · ')),
      row(TEXT.referrer, c.referrer),
      row(TEXT.page, c.current_title || c.current_url, c.current_title && c.current_url ? h('span', { class: 'cw-url', text: c.current_url }) : null),
      row(TEXT.visits, c.visits ? `${c.visits}${c.returning ? ` · ${TEXT.returning}` : ''}` : ''),
      v.survey ? row(TEXT.survey, fill(TEXT.stars, { n: v.survey.rating }), v.survey.comment ? h('span', { class: 'cw-quote', text: v.survey.comment }) : null) : null);
    const answers = v.answers && v.answers.length
      ? h('dl', { class: 'cw-facts' }, v.answers.map((a) => row(a.label || a.id, a.answer)))
      : h('p', { class: 'cw-muted', text: TEXT.no_answers });
    const pages = v.pages && v.pages.length
      ? h('ol', { class: 'cw-trail' }, v.pages.map((p) => h('li', {}, h('span', { class: 'cw-trail-title', text: p.title || p.url }),
        h('span', { class: 'cw-url', text: p.url }), h('time', { datetime: p.viewed_at, text: clock(p.viewed_at) }))))
      : h('p', { class: 'cw-muted', text: TEXT.no_pages });
    let earlier;
    if (v.earlier && v.earlier.length) {
      earlier = h('ul', { class: 'cw-earlier' }, v.earlier.map((e) => {
        const date = new Date(e.started_at).toLocaleDateString();
        const label = `${date} · ${TEXT[`status_${e.status}`] || e.status}${e.rating ? ` · ${fill(TEXT.stars, { n: e.rating })}` : ''}`;
        return h('li', {}, e.link ? h('a', { href: e.link, 'aria-label': fill(TEXT.transcript, { date }), text: label }) : label);
      }));
    } else if (v.earlier_count) {
      earlier = h('p', { class: 'cw-muted', text: fill(TEXT.earlier_count, { n: v.earlier_count }) });
    } else {
      earlier = h('p', { class: 'cw-muted', text: TEXT.no_earlier });
    }
    const ban = this.opts.canBan ? h('button', { type: 'button', class: 'cw-quiet cw-ban', text: TEXT.ban, on: { click: (e) => this.ban(v, e.currentTarget) } }) : null;
    this.body.replaceChildren(...[facts,
      h('h3', { text: TEXT.answers }), answers,
      h('h3', { text: TEXT.trail }), pages,
      h('h3', { text: TEXT.earlier }), earlier, ban].filter(Boolean));
  }

  async ban(v, button) {
    button.disabled = true;
    const r = await api('POST', '/api/v1/chat/bans', { kind: 'visitor', value: v.visitor_id, reason: 'Banned from the workspace' });
    if (r.status === 201 || r.status === 409) {
      button.textContent = TEXT.banned;
      if (this.opts.onBanned) this.opts.onBanned(v.conversation_id);
      return;
    }
    button.disabled = false;
    if (this.opts.onNotice) this.opts.onNotice(fill(TEXT.ban_failed, { why: (r.data && r.data.error && r.data.error.message) || r.status }));
  }
}
