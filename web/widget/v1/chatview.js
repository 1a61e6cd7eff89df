// ChatView renders one conversation in the chat frame and is the VisitorChat's listener: the
// transcript (a polite live region), the composer, typing indicators, read receipts, the
// reconnecting banner and, once the chat has ended, whatever the frame puts after the transcript.

import { h, replace, timeLabel, uid } from './dom.js';

const TYPING_SHOWN_MS = 6000;
const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;

export class ChatView {
  /**
   * opts: t, lang, config, store, summary, and callbacks status(text), visible() → bool,
   * unread(count), ended('ended'|'missed'), fatal(reason), download(file) and
   * cardForm(requestId) → {status, data: {form_url}, error}.
   */
  constructor(opts) {
    this.opts = opts;
    this.t = opts.t;
    this.id = opts.summary.conversation_id;
    this.chat = null;
    this.bySeq = new Map(); // seq → rendered message
    this.byKey = new Map(); // idempotency key → our message not yet back from the server
    this.own = []; // our confirmed messages, in order
    this.maxSeq = 0;
    this.agentRead = 0;
    // The read position: readSent is the last receipt that went out, kept in the visitor's
    // storage (per cookie mode) so that after a reload the replayed messages up to it are
    // neither counted as unread nor acknowledged again; readSeen is how far the visitor has
    // seen, whose receipt may still be waiting for the connection.
    this.readSent = Number(opts.store.get(`read:${this.id}`)) || 0;
    this.readSeen = this.readSent;
    this.unreadCount = 0;
    this.agentName = '';
    this.done = false;
    this.typingOn = false;
    this.typingAt = 0;
    this.build();
    this.setStatus(opts.summary.status);
  }

  build() {
    const t = this.t;
    const limit = (this.opts.config.limits && this.opts.config.limits.message_max_chars) || 4000;
    this.confirmed = h('div', { class: 'confirmed' });
    this.pendingBox = h('div', { class: 'pending' });
    this.waiting = h('p', { class: 'sys waiting', role: 'status', text: t('queued') });
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('title'), tabindex: '0' },
      this.confirmed, this.pendingBox);
    this.afterSlot = h('div', { class: 'after-slot' });
    this.scroller = h('div', { class: 'scroll' }, this.waiting, this.log, this.afterSlot);
    this.typingEl = h('p', { class: 'typing', hidden: true });
    this.banner = h('p', { class: 'banner', role: 'status', hidden: true });
    this.problemEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const yes = h('button', { type: 'button', class: 'primary small', text: t('end_yes'), on: { click: () => { this.confirmBar.hidden = true; this.chat.end(); } } });
    const no = h('button', { type: 'button', class: 'secondary small', text: t('end_no'), on: { click: () => { this.confirmBar.hidden = true; this.input.focus(); } } });
    this.confirmBar = h('div', { class: 'confirm', role: 'group', 'aria-label': t('end_confirm'), hidden: true }, h('p', { text: t('end_confirm') }), yes, no);
    this.confirmYes = yes;
    const inputId = uid('composer');
    this.input = h('textarea', {
      id: inputId, rows: 1, maxlength: limit, placeholder: t('placeholder'), autocomplete: 'off',
      on: { input: () => this.onInput(), keydown: (e) => this.onKey(e) },
    });
    const sendButton = h('button', { type: 'submit', class: 'send', 'aria-label': t('send') }, h('span', { class: 'send-icon', 'aria-hidden': 'true' }));
    this.composer = h('form', { class: 'composer', on: { submit: (e) => { e.preventDefault(); this.submit(); } } },
      h('label', { for: inputId, class: 'sr-only', text: t('message_label') }), this.input, sendButton);
    this.el = h('section', { class: 'view view-chat' }, this.banner, this.scroller, this.typingEl, this.problemEl, this.confirmBar, this.composer);
  }

  focus() {
    if (!this.composer.hidden) this.input.focus();
  }

  // --- sending ------------------------------------------------------------------------------------

  submit() {
    const text = this.input.value.trim();
    if (!text || this.done) return;
    this.problem('');
    const key = this.chat.send(text);
    const m = this.bubble(true, '', text, new Date().toISOString());
    m.state = 'sending';
    m.key = key;
    this.byKey.set(key, m);
    this.pendingBox.append(m.el);
    this.input.value = '';
    this.grow();
    this.stopTyping();
    this.statuses();
    this.scroll(true);
  }

  onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  onInput() {
    this.grow();
    const now = Date.now();
    if (this.input.value.trim() === '') {
      this.stopTyping();
      return;
    }
    if (!this.typingOn || now - this.typingAt > TYPING_RESEND_MS) {
      this.chat.typing(true);
      this.typingOn = true;
      this.typingAt = now;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    if (this.typingOn) this.chat.typing(false);
    this.typingOn = false;
  }

  grow() {
    // CSSOM, not a style attribute: allowed under style-src 'self'.
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  confirmEnd() {
    this.confirmBar.hidden = false;
    this.confirmYes.focus();
  }

  // --- rendering ----------------------------------------------------------------------------------

  bubble(own, name, text, at) {
    const textEl = h('p', { class: 'text', text });
    const timeEl = h('time', { datetime: at, text: timeLabel(at, this.opts.lang) });
    const stEl = h('span', { class: 'st' });
    const who = own
      ? h('span', { class: 'sr-only', text: `${this.t('you')}: ` })
      : h('p', { class: 'who', text: name || this.t('agent') });
    const el = h('div', { class: own ? 'msg msg-own' : 'msg msg-agent' }, who, textEl, h('p', { class: 'meta' }, timeEl, stEl));
    return { el, text: textEl, time: timeEl, st: stEl, own, seq: 0, state: '' };
  }

  line(text) {
    this.confirmed.append(h('p', { class: 'sys', text }));
  }

  scroll(force) {
    const s = this.scroller;
    if (force || s.scrollHeight - s.scrollTop - s.clientHeight < 120) s.scrollTop = s.scrollHeight;
  }

  statuses() {
    const t = this.t;
    const lastOwn = this.own[this.own.length - 1];
    for (const m of this.own) {
      if (m.state !== 'failed') m.state = m.seq <= this.agentRead ? 'read' : 'sent';
      const shown = m === lastOwn || m.state === 'failed';
      m.st.textContent = shown ? t(m.state === 'read' ? 'read' : m.state === 'failed' ? 'not_sent' : 'sent') : '';
    }
    for (const m of this.byKey.values()) {
      if (m.state === 'sending') m.st.textContent = t('sending');
    }
  }

  setStatus(status) {
    const t = this.t;
    if (status === 'queued') {
      this.waiting.hidden = false; // a status region of its own: announced, and not repeated in the header
      this.opts.status('');
    } else if (status === 'assigned' || status === 'active') {
      this.waiting.hidden = true;
      this.waiting.textContent = t('queued'); // a later wait starts without the old place
      this.opts.status(this.agentName ? t('chatting_with', { name: this.agentName }) : '');
    } else if (status === 'ended' || status === 'missed') {
      this.waiting.hidden = true;
      this.opts.status(t(status === 'missed' ? 'missed' : 'ended'));
    }
  }

  // --- VisitorChat listener ---------------------------------------------------------------------

  event(ev) {
    this.maxSeq = Math.max(this.maxSeq, ev.seq);
    if (ev.kind === 'message') this.message(ev);
    else if (ev.kind === 'system') this.system(ev);
    else if (ev.kind === 'file') this.file(ev);
    else if (ev.kind === 'amend') {
      const m = this.bySeq.get(ev.target_seq);
      if (m) m.text.textContent = ev.text || '';
    }
    this.scroll(false);
  }

  message(ev) {
    const own = !!(ev.sender && ev.sender.kind === 'visitor');
    let m = ev.key ? this.byKey.get(ev.key) : null;
    if (m) {
      this.byKey.delete(ev.key);
      m.text.textContent = ev.text || ''; // the stored text: sanitized, card numbers masked
      m.time.textContent = timeLabel(ev.at, this.opts.lang);
      m.time.setAttribute('datetime', ev.at);
    } else {
      m = this.bubble(own, ev.sender && ev.sender.name, ev.text || '', ev.at);
    }
    m.seq = ev.seq;
    this.confirmed.append(m.el);
    this.bySeq.set(ev.seq, m);
    if (own) {
      m.state = 'sent';
      this.own.push(m);
      this.statuses();
      return;
    }
    if (ev.sender && ev.sender.name) this.agentName = ev.sender.name;
    this.typingEl.hidden = true;
    this.incoming(ev.seq);
  }

  system(ev) {
    const t = this.t;
    const name = (ev.sender && ev.sender.name) || t('agent');
    switch (ev.event) {
      case 'joined':
        this.agentName = name;
        this.line(t('joined', { name }));
        this.setStatus('active');
        break;
      case 'left':
        this.line(t('left', { name }));
        break;
      case 'transferred':
        this.line(t('transferred'));
        this.setStatus('queued');
        break;
      case 'card_form_requested':
        this.cardRequest(ev, name);
        break;
      case 'cobrowse_requested':
        this.cobrowseRequest(ev, name);
        break;
      case 'cobrowse_ended':
        this.cobrowseDone(ev.data && ev.data.session_id, ev.data && ev.data.reason === 'declined' ? 'cobrowse_declined' : 'cobrowse_ended');
        break;
      case 'card_form_submitted':
        this.cardDone(ev.data && ev.data.request_id, 'card_sent');
        break;
      case 'card_form_closed':
        this.cardDone(ev.data && ev.data.request_id, 'card_closed');
        break;
      case 'ended':
      case 'missed':
        this.line(t(ev.event));
        this.finish(ev.event);
        break;
      default:
        break; // 'started' and events of later versions
    }
  }

  file(ev) {
    const f = ev.file || {};
    const name = (ev.sender && ev.sender.name) || (ev.sender && ev.sender.kind === 'visitor' ? this.t('you') : this.t('agent'));
    const kb = Math.max(1, Math.round((f.size || 0) / 1024));
    const button = h('button', { type: 'button', class: 'link', text: `${f.name} (${kb} KB)`, on: { click: () => this.opts.download(f) } });
    this.confirmed.append(h('p', { class: 'sys file' }, this.t('file_shared', { name, file: '' }), button));
    if (!(ev.sender && ev.sender.kind === 'visitor')) this.incoming(ev.seq);
  }

  // --- the secure card form ----------------------------------------------------------------------
  // The form is a page of its own on Parley's origin (app/cardform), shown in an iframe here: the
  // card never passes through the chat, its transcript or this frame's script.

  cardRequest(ev, name) {
    const id = ev.data && ev.data.request_id;
    if (!id) return;
    this.cards = this.cards || new Map();
    const box = h('div', { class: 'card-request', role: 'group', 'aria-label': this.t('card_title') });
    const open = h('button', { type: 'button', class: 'primary small', text: this.t('card_open'), on: { click: () => this.cardOpen(id) } });
    replace(box, h('p', { text: this.t('card_requested', { name }) }), open);
    this.cards.set(id, { box, done: false });
    this.confirmed.append(box);
    this.incoming(ev.seq);
  }

  async cardOpen(id) {
    const card = this.cards && this.cards.get(id);
    if (!card || card.done) return;
    const r = await this.opts.cardForm(id);
    if (card.done) return;
    if (r.status === 200 && r.data && r.data.form_url) {
      const frame = h('iframe', { class: 'card-frame', title: this.t('card_title'), src: r.data.form_url, referrerpolicy: 'no-referrer' });
      replace(card.box, frame);
      frame.focus();
      this.scroll(true);
      return;
    }
    const code = r.error && r.error.code;
    if (code === 'card_form_used') this.cardDone(id, 'card_sent');
    else if (code === 'card_form_expired') this.cardDone(id, 'card_expired');
    else if (code === 'conversation_ended') this.cardDone(id, 'card_closed');
    else this.problem(this.t(code === 'rate_limited' ? 'error_rate_limited' : 'error_generic'));
  }

  /** cardDone replaces request id's form (or its button) with the note key. */
  cardDone(id, key) {
    const card = this.cards && this.cards.get(id);
    if (!card || card.done) return;
    card.done = true;
    replace(card.box, h('p', { class: 'card-note', text: this.t(key) }));
  }

  // --- co-browsing ---------------------------------------------------------------------------------
  // The agent's request shows here with Share and Decline; a request already answered (the
  // replayed history after a reload) shows as ended.

  cobrowseRequest(ev, name) {
    const id = ev.data && ev.data.session_id;
    if (!id) return;
    this.shares = this.shares || new Map();
    const box = h('div', { class: 'card-request cobrowse-request', role: 'group', 'aria-label': this.t('cobrowse_share') });
    const share = h('button', { type: 'button', class: 'primary small cobrowse-share', text: this.t('cobrowse_share'), on: { click: () => {
      share.disabled = true;
      decline.disabled = true;
      replace(box, h('p', { class: 'card-note', text: this.t('cobrowse_sharing') }));
      this.opts.cobrowse.share(id);
    } } });
    const decline = h('button', { type: 'button', class: 'secondary small cobrowse-decline', text: this.t('cobrowse_decline'), on: { click: () => {
      this.opts.cobrowse.decline(id);
      this.cobrowseDone(id, 'cobrowse_declined');
    } } });
    replace(box, h('p', { text: this.t('cobrowse_requested', { name }) }), h('div', { class: 'actions' }, share, decline));
    this.shares.set(id, { box, done: false });
    this.confirmed.append(box);
    this.incoming(ev.seq);
  }

  /** cobrowseDone replaces session id's request with the note key. */
  cobrowseDone(id, key) {
    const s = this.shares && this.shares.get(id);
    if (!s || s.done) return;
    s.done = true;
    replace(s.box, h('p', { class: 'card-note', text: this.t(key) }));
    if (this.opts.cobrowse) this.opts.cobrowse.ended(id);
  }

  /** cobrowseAsk shows the agent's request for control; answer(true|false) gives the reply. */
  cobrowseAsk(name, answer) {
    const box = h('div', { class: 'card-request cobrowse-control', role: 'group', 'aria-label': this.t('cobrowse_allow') });
    const reply = (yes) => { replace(box, h('p', { class: 'card-note', text: this.t(yes ? 'cobrowse_banner_control' : 'cobrowse_sharing') })); answer(yes); };
    replace(box, h('p', { text: this.t('cobrowse_control', { name }) }), h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary small cobrowse-allow', text: this.t('cobrowse_allow'), on: { click: () => reply(true) } }),
      h('button', { type: 'button', class: 'secondary small cobrowse-keep', text: this.t('cobrowse_keep_view'), on: { click: () => reply(false) } })));
    this.confirmed.append(box);
    this.scroll(true);
  }

  incoming(seq) {
    if (seq <= this.readSeen) return;
    if (this.opts.visible()) {
      this.seen();
      return;
    }
    this.unreadCount++;
    this.opts.unread(this.unreadCount);
  }

  /** seen marks everything shown as read once the visitor can see it. */
  seen() {
    if (!this.opts.visible()) return;
    if (this.unreadCount) {
      this.unreadCount = 0;
      this.opts.unread(0);
    }
    if (this.maxSeq > this.readSeen && this.chat && !this.done) {
      this.readSeen = this.maxSeq;
      clearTimeout(this.readTimer);
      this.readTimer = setTimeout(() => this.sendRead(), 250);
    }
  }

  /** sendRead sends the receipt for what the visitor has seen, unless it already went out. */
  sendRead() {
    if (this.readSeen <= this.readSent || !this.chat || this.done) return;
    if (!this.chat.read(this.readSeen)) return; // no connection: again on state('open')
    this.readSent = this.readSeen;
    this.opts.store.set(`read:${this.id}`, String(this.readSent));
  }

  ack(a) {
    const m = this.byKey.get(a.key);
    if (m) {
      m.state = 'sent';
      m.seq = a.seq;
      m.st.textContent = this.t('sent');
    }
  }

  signal(f) {
    if (f.type === 'typing' && f.sender_kind === 'agent') {
      clearTimeout(this.typingTimer);
      this.typingEl.textContent = this.t('typing', { name: this.agentName || this.t('agent') });
      this.typingEl.hidden = !f.typing || this.done;
      if (f.typing) this.typingTimer = setTimeout(() => { this.typingEl.hidden = true; }, TYPING_SHOWN_MS);
    } else if (f.type === 'read' && f.reader_kind === 'agent') {
      this.agentRead = Math.max(this.agentRead, f.seq || 0);
      this.statuses();
    } else if (f.type === 'queue' && typeof f.position === 'number' && f.position >= 1) {
      // While waiting: the place in the queue and the estimated wait (sent on change only).
      const t = this.t;
      const secs = Math.max(0, Number(f.estimated_wait_seconds) || 0);
      const place = f.position === 1 ? t('queue_next') : t('queue_position', { n: f.position });
      const wait = secs < 60 ? t('queue_wait_short') : t('queue_wait', { n: Math.round(secs / 60) });
      this.waiting.textContent = `${t('queued')} ${place} ${wait}`;
    }
  }

  state(s) {
    clearTimeout(this.bannerTimer);
    if (s === 'reconnecting') {
      this.bannerTimer = setTimeout(() => {
        this.banner.textContent = this.t('reconnecting');
        this.banner.hidden = this.done;
      }, 800);
    } else if (s === 'open' || s === 'closed') {
      this.banner.hidden = true;
    }
    if (s === 'open') this.sendRead(); // a receipt that could not go out while disconnected
  }

  welcome(conv) {
    if (!conv || !conv.status) return;
    if (conv.status === 'ended' || conv.status === 'missed') return; // the replayed system event finishes
    this.setStatus(conv.status);
  }

  failed(key, code) {
    const m = this.byKey.get(key);
    if (!m) return;
    this.byKey.delete(key);
    m.state = 'failed';
    const text = m.text.textContent;
    m.el.classList.add('msg-failed');
    m.st.textContent = `${this.t('not_sent')} · `;
    m.st.append(h('button', {
      type: 'button', class: 'link', text: this.t('retry'),
      on: { click: () => { m.el.remove(); this.input.value = text; this.submit(); } },
    }));
    const why = { message_too_long: 'error_too_long', conversation_ended: 'error_ended', rate_limited: 'error_rate_limited' }[code];
    this.problem(this.t(why || 'error_generic'));
  }

  fatal(reason) {
    this.opts.fatal(reason);
  }

  // --- the end ------------------------------------------------------------------------------------

  finish(how) {
    if (this.done) return;
    this.done = true;
    this.stopTyping();
    this.setStatus(how);
    this.typingEl.hidden = true;
    this.banner.hidden = true;
    this.confirmBar.hidden = true;
    this.composer.hidden = true;
    this.problem('');
    // The chat is over: a card form still open (and its errors) closes, as the server has closed
    // the request; what follows (the survey) is not left below a form that can no longer be sent.
    for (const id of (this.cards ? [...this.cards.keys()] : [])) this.cardDone(id, 'card_closed');
    if (this.chat) this.chat.stop();
    this.opts.ended(how);
  }

  /** after shows el after the transcript (the survey, a thank-you, a new-chat button). */
  after(el) {
    replace(this.afterSlot, el);
    this.scroll(true);
    const focusable = el.querySelector('button, input, textarea, [tabindex]');
    if (focusable && this.opts.visible()) focusable.focus();
  }

  problem(text) {
    this.problemEl.textContent = text;
    this.problemEl.hidden = !text;
  }
}
