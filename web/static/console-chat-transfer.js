// Parley console chat workspace: the transfer dialog. It lists the departments and the online
// agents from GET /api/v1/chat/agents (with their load), takes an optional note only agents see,
// and sends the transfer frame. The server answers a refused transfer (agent offline, department or
// agent at capacity) with an error frame; the chat then stays with the agent.
import { api, h, fill } from './console-chat-dom.js';

const TEXT = {
  title: 'Transfer the chat', to: 'Transfer to', departments: 'Departments', agents: 'Agents online',
  dept_option: '{name} ({online} online)', agent_option: '{name} ({active} of {capacity} chats)', agent_option_nocap: '{name} ({active} chats)',
  at_capacity: ' — at capacity', note: 'Note for the agents', note_hint: 'The visitor never sees this note. At most 1,000 characters.',
  submit: 'Transfer', cancel: 'Cancel', loading: 'Loading agents and departments…', none: 'Nobody to transfer to right now.',
  unavailable: 'The list of agents and departments is not available on this server.', choose: 'Choose a department or an agent.',
};

export class TransferDialog {
  /** opts: available (the roster API exists), note (the socket takes a note), self (the user's id), send(conversationId, target). */
  constructor(opts) {
    this.opts = opts;
    this.conversation = '';
    this.select = h('select', { id: 'cw-transfer-to', required: true });
    this.noteField = h('textarea', { id: 'cw-transfer-note', rows: 3, maxlength: 1000, 'aria-describedby': 'cw-transfer-note-hint' });
    this.message = h('p', { class: 'cw-transfer-msg', role: 'status' });
    this.submit = h('button', { type: 'submit', text: TEXT.submit });
    const noteRow = opts.note ? h('p', { class: 'cw-field' }, h('label', { for: 'cw-transfer-note', text: TEXT.note }), this.noteField,
      h('span', { id: 'cw-transfer-note-hint', class: 'cw-hint', text: TEXT.note_hint })) : null;
    this.form = h('form', { method: 'dialog', on: { submit: (e) => this.onSubmit(e) } },
      h('h2', { id: 'cw-transfer-title', text: TEXT.title }),
      h('p', { class: 'cw-field' }, h('label', { for: 'cw-transfer-to', text: TEXT.to }), this.select),
      noteRow, this.message,
      h('p', { class: 'cw-dialog-actions' }, this.submit,
        h('button', { type: 'button', class: 'cw-quiet', text: TEXT.cancel, on: { click: () => this.dialog.close() } })));
    this.dialog = h('dialog', { class: 'cw-dialog', 'aria-labelledby': 'cw-transfer-title' }, this.form);
  }

  async show(conversationId) {
    this.conversation = conversationId;
    this.noteField.value = '';
    this.select.replaceChildren();
    this.submit.disabled = true;
    this.message.textContent = this.opts.available ? TEXT.loading : TEXT.unavailable;
    this.dialog.showModal();
    if (!this.opts.available) return;
    const r = await api('GET', '/api/v1/chat/agents');
    if (r.status !== 200 || !r.data) {
      this.message.textContent = TEXT.unavailable;
      return;
    }
    const depts = (r.data.departments || []).map((d) => h('option', { value: `d:${d.id}`, text: fill(TEXT.dept_option, { name: d.name, online: d.online_agents || 0 }) }));
    const agents = (r.data.agents || []).filter((a) => a.id !== this.opts.self && a.status === 'online').map((a) => {
      const full = a.capacity > 0 && a.active_chats >= a.capacity;
      const label = fill(a.capacity > 0 ? TEXT.agent_option : TEXT.agent_option_nocap, { name: a.name, active: a.active_chats || 0, capacity: a.capacity });
      return h('option', { value: `a:${a.id}`, text: label + (full ? TEXT.at_capacity : '') });
    });
    const groups = [];
    if (depts.length) groups.push(h('optgroup', { label: TEXT.departments }, depts));
    if (agents.length) groups.push(h('optgroup', { label: TEXT.agents }, agents));
    this.select.replaceChildren(h('option', { value: '', text: TEXT.choose }), ...groups);
    this.message.textContent = groups.length ? '' : TEXT.none;
    this.submit.disabled = !groups.length;
    this.select.focus();
  }

  onSubmit(e) {
    const v = this.select.value;
    if (!v) {
      e.preventDefault();
      this.message.textContent = TEXT.choose;
      return;
    }
    const target = v.startsWith('a:') ? { agent_id: v.slice(2) } : { department_id: v.slice(2) };
    const note = this.noteField.value.trim();
    if (this.opts.note && note) target.note = note;
    this.opts.send(this.conversation, target);
  }
}
