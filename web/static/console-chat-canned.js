// Parley console chat workspace: canned messages in the composer. Typing "/" at the start of the
// message (or the "Canned" button) opens a list fed by GET /api/v1/canned?q=&conversation=, with
// the placeholders already filled in by the server; arrow keys move, Enter or Tab takes one,
// Escape closes. Without the canned messages API the list opens empty.
import { api, h } from './console-chat-dom.js';

const TEXT = {
  button: 'Canned', button_label: 'Insert a canned message', search: 'Find a canned reply', none: 'No canned messages match.',
  loading: 'Searching…', list: 'Canned messages', scope_personal: 'mine', scope_department: 'department', scope_shared: 'shared',
};

export class CannedPicker {
  /**
   * opts: input (the composer's textarea), available (the API exists), conversation() (the
   * selected chat's id), insert(text) (puts the body into the composer).
   */
  constructor(opts) {
    this.opts = opts;
    this.items = [];
    this.active = -1;
    this.open = false;
    this.via = ''; // 'slash' (typed in the composer) or 'button'
    this.seq = 0;
    this.timer = 0;
    this.list = h('ul', { class: 'cw-canned-list', role: 'listbox', id: 'cw-canned-list', 'aria-label': TEXT.list });
    this.search = h('input', { type: 'search', id: 'cw-canned-q', class: 'cw-canned-q', autocomplete: 'off', maxlength: 100,
      'aria-controls': 'cw-canned-list', on: { input: () => this.query(this.search.value), keydown: (e) => this.key(e) } });
    this.searchRow = h('p', { class: 'cw-canned-search' }, h('label', { for: 'cw-canned-q', text: TEXT.search }), this.search);
    this.status = h('p', { class: 'cw-canned-status', role: 'status' });
    this.box = h('div', { class: 'cw-canned', hidden: true }, this.searchRow, this.list, this.status);
    this.button = h('button', { type: 'button', class: 'cw-quiet cw-canned-button', text: TEXT.button, 'aria-label': TEXT.button_label,
      'aria-controls': 'cw-canned-list', on: { click: () => (this.open ? this.close() : this.show('button', '')) } });
    const input = opts.input;
    input.addEventListener('input', () => this.onInput());
    input.addEventListener('keydown', (e) => { if (this.open && this.via === 'slash') this.key(e); }, true);
  }

  onInput() {
    const v = this.opts.input.value;
    const m = /^\/(\S*)$/.exec(v);
    if (m) this.show('slash', m[1]);
    else if (this.open && this.via === 'slash') this.close();
  }

  show(via, q) {
    this.via = via;
    this.open = true;
    this.box.hidden = false;
    this.opts.input.setAttribute('aria-controls', 'cw-canned-list');
    this.searchRow.hidden = via !== 'button';
    if (via === 'button') {
      this.search.value = q;
      this.search.focus();
    }
    this.query(q);
  }

  close() {
    this.open = false;
    this.box.hidden = true;
    this.active = -1;
    this.opts.input.removeAttribute('aria-activedescendant');
    this.opts.input.removeAttribute('aria-controls');
    this.search.removeAttribute('aria-activedescendant');
  }

  query(q) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(q), 120);
  }

  async load(q) {
    const mine = ++this.seq;
    if (!this.opts.available) {
      this.render([]);
      return;
    }
    this.status.textContent = TEXT.loading;
    const conv = this.opts.conversation();
    const r = await api('GET', `/api/v1/canned?q=${encodeURIComponent(q.slice(0, 100))}${conv ? `&conversation=${encodeURIComponent(conv)}` : ''}`);
    if (mine !== this.seq || !this.open) return;
    this.render(r.status === 200 && r.data && Array.isArray(r.data.items) ? r.data.items.slice(0, 20) : []);
  }

  render(items) {
    this.items = items;
    this.active = items.length ? 0 : -1;
    this.list.replaceChildren(...items.map((it, i) => h('li', {
      role: 'option', id: `cw-canned-${i}`, class: 'cw-canned-item', 'aria-selected': i === this.active ? 'true' : 'false',
      on: { mousedown: (e) => e.preventDefault(), click: () => this.pick(i) },
    }, h('span', { class: 'cw-canned-title' }, it.shortcut ? h('kbd', { text: `/${it.shortcut}` }) : null, ' ', it.title || ''),
    h('span', { class: 'cw-canned-scope', text: TEXT[`scope_${it.scope}`] || '' }),
    h('span', { class: 'cw-canned-body', text: it.body || '' }))));
    this.status.textContent = items.length ? `${items.length}` : TEXT.none;
    this.highlight();
  }

  highlight() {
    [...this.list.children].forEach((li, i) => li.setAttribute('aria-selected', i === this.active ? 'true' : 'false'));
    const target = this.via === 'button' ? this.search : this.opts.input;
    if (this.active >= 0) target.setAttribute('aria-activedescendant', `cw-canned-${this.active}`);
    else target.removeAttribute('aria-activedescendant');
    const el = this.list.children[this.active];
    if (el && el.scrollIntoView) el.scrollIntoView({ block: 'nearest' });
  }

  key(e) {
    if (!this.open) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopImmediatePropagation();
      if (!this.items.length) return;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : this.items.length - 1)) % this.items.length;
      this.highlight();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && this.active >= 0) {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.pick(this.active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.close();
      this.opts.input.focus();
    }
  }

  pick(i) {
    const it = this.items[i];
    if (!it) return;
    this.close();
    this.opts.insert(it.body || '');
  }
}
