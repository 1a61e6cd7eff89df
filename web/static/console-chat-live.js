// Parley console chat workspace: the supervisor view — every open chat in the departments the user
// supervises, with its agent and wait (GET /api/v1/chat/live, polled every 5 s while the page is
// shown), and the buttons to monitor or join it. Whispers are written in the monitored chat's tab.
import { api, h, duration, fill } from './console-chat-dom.js';

const TEXT = {
  title: 'Live chats', none: 'No chats are waiting or in progress.', failed: 'The live chats could not be loaded.',
  nobody: 'nobody yet', waiting: 'waiting {wait}', waited: 'waited {wait}', monitor: 'Monitor', join: 'Join', open: 'Open',
  status_queued: 'waiting', status_assigned: 'offered', status_active: 'in progress', site_dept: '{site} · {dept}',
  monitor_label: 'Monitor the chat with {agent}', join_label: 'Join the chat with {agent}',
};

export class LiveList {
  /** opts: canJoin, following(id) → mode or '', monitor(id), join(id), open(id). */
  constructor(opts) {
    this.opts = opts;
    this.rows = [];
    this.fetchedAt = 0;
    this.list = h('ul', { class: 'cw-list cw-live', 'aria-labelledby': 'cw-live-h' });
    this.el = h('section', { class: 'cw-live-box', 'aria-labelledby': 'cw-live-h' }, h('h2', { id: 'cw-live-h', text: TEXT.title }), this.list);
    this.timer = 0;
  }

  start() {
    this.load();
    this.timer = setInterval(() => { if (document.visibilityState === 'visible') this.load(); }, 5000);
  }

  async load() {
    const r = await api('GET', '/api/v1/chat/live');
    if (r.status !== 200 || !r.data) {
      this.list.replaceChildren(h('li', { class: 'cw-none', text: TEXT.failed }));
      return;
    }
    this.rows = r.data.chats || [];
    this.fetchedAt = Date.now();
    this.render();
  }

  /** tick moves the waits of the chats still waiting on (called every second). */
  tick() {
    const since = (Date.now() - this.fetchedAt) / 1000;
    for (const el of this.list.querySelectorAll('[data-wait]')) {
      el.textContent = `${el.dataset.state} · ${fill(TEXT.waiting, { wait: duration(Number(el.dataset.wait) + since) })}`;
    }
  }

  /** render draws the list after each load. */
  render() {
    const items = this.rows.map((c) => {
      const agent = c.agent ? c.agent.name : TEXT.nobody;
      const state = TEXT[`status_${c.status}`] || c.status;
      const wait = c.accepted_at ? fill(TEXT.waited, { wait: duration(c.wait_seconds) }) : fill(TEXT.waiting, { wait: duration(c.wait_seconds) });
      const mode = this.opts.following(c.id);
      const buttons = [];
      if (mode) {
        buttons.push(h('button', { type: 'button', class: 'cw-quiet', text: TEXT.open, on: { click: () => this.opts.open(c.id) } }));
      } else if (c.agent) {
        buttons.push(h('button', { type: 'button', class: 'cw-monitor', text: TEXT.monitor, 'aria-label': fill(TEXT.monitor_label, { agent }), on: { click: () => this.opts.monitor(c.id) } }));
      }
      if (c.agent && c.status === 'active' && this.opts.canJoin && mode !== 'join' && c.agent.id !== this.opts.self) {
        buttons.push(h('button', { type: 'button', class: 'cw-quiet cw-join', text: TEXT.join, 'aria-label': fill(TEXT.join_label, { agent }), on: { click: () => this.opts.join(c.id) } }));
      }
      return h('li', { class: `cw-live-item${c.accepted_at ? '' : ' cw-live-waiting'}`, 'data-conversation': c.id },
        h('span', { class: 'cw-who', text: agent }),
        h('span', { class: 'cw-meta', text: `${state} · ${wait}`, 'data-wait': c.accepted_at ? null : c.wait_seconds, 'data-state': state }),
        h('span', { class: 'cw-meta', text: fill(TEXT.site_dept, { site: c.site || c.site_id, dept: c.department || '—' }) }),
        buttons.length ? h('span', { class: 'cw-actions' }, buttons) : null);
    });
    // Keep the keyboard focus on the same button of the same chat across a refresh.
    const a = document.activeElement;
    const keep = a && this.list.contains(a) ? [a.closest('li') && a.closest('li').dataset.conversation, a.textContent] : null;
    this.list.replaceChildren(...(items.length ? items : [h('li', { class: 'cw-none', text: TEXT.none })]));
    if (keep) {
      const li = [...this.list.children].find((el) => el.dataset.conversation === keep[0]);
      const b = li && [...li.querySelectorAll('button')].find((el) => el.textContent === keep[1]);
      if (b) b.focus();
    }
  }
}
