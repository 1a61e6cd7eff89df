// The chat frame's forms: the pre-chat survey, the offline message and the post-chat survey. Each
// builder returns {el, focus}; it validates in the browser for quick feedback, submits through the
// given callback and shows the server's refusal at the field it names.

import { h, field, setError, validEmail } from './dom.js';

// firstFocus focuses the form's first control for keyboard users; on touch screens, where that
// would pop up the keyboard unasked, the heading instead.
function firstFocus(heading, control) {
  const touch = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  (touch || !control ? heading : control).focus();
}

/** errorText maps an API error code to a text key. */
function errorText(t, code) {
  switch (code) {
    case 'rate_limited': return t('error_rate_limited');
    case 'chat_unavailable': return t('unavailable');
    case 'message_too_long': return t('error_too_long');
    default: return t('error_generic');
  }
}

/**
 * runForm wires submit: check() returns the first invalid field (or null); submit(values) resolves
 * to null on success or to an error {code, field}. The button is disabled while a request runs.
 */
function runForm(form, button, fields, summary, t, check, collect, submit) {
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    summary.hidden = true;
    for (const f of Object.values(fields)) setError(f, '');
    const bad = check();
    if (bad) {
      bad.input.focus();
      return;
    }
    busy = true;
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    let err = null;
    try {
      err = await submit(collect());
    } catch {
      err = { code: 'network' };
    }
    busy = false;
    button.disabled = false;
    form.removeAttribute('aria-busy');
    if (!err) return;
    const target = err.field && fields[err.field];
    if (target) {
      setError(target, err.message || t('field_required'));
      target.input.focus();
      return;
    }
    summary.textContent = errorText(t, err.code);
    summary.hidden = false;
    summary.focus();
  });
}

function require(f, t, ok = (v) => v.trim() !== '') {
  if (!f || !f.input.required) return true;
  const v = f.input.type === 'checkbox' ? f.input.checked : f.input.value;
  if (f.input.type === 'checkbox' ? v : ok(v)) return true;
  setError(f, f.input.type === 'checkbox' ? t('consent_missing') : t('field_required'));
  return false;
}

function emailOK(f, t) {
  if (!f) return true;
  const v = f.input.value.trim();
  if (v === '' || validEmail(v)) return true;
  setError(f, t('email_invalid'));
  return false;
}

function departmentField(config, t) {
  const deps = config.departments || [];
  if (deps.length < 2) return null;
  return field({
    name: 'department_id', label: t('department_label'), type: 'select', required: false,
    options: [{ value: '', label: t('department_any') }, ...deps.map((d) => ({ value: d.id, label: d.name }))],
  }, t);
}

function singleDepartment(config) {
  const deps = config.departments || [];
  return deps.length === 1 ? deps[0].id : '';
}

// siteText is the site's own text for key in the widget's language ('' when it has none).
function siteText(t, key) {
  return typeof t.site === 'function' ? t.site(key) : '';
}

// consentText is the consent checkbox's label: the site's translation for the widget's language,
// else the consent text of its pre-chat settings.
function consentText(t, p) {
  return siteText(t, 'consent_text') || p.consent_text || t('consent_missing');
}

/** prechatForm builds the pre-chat survey. submit(PreChat) → null | error. */
export function prechatForm(config, t, submit) {
  const p = config.prechat || {};
  const limits = config.limits || {};
  const fields = {};
  const ask = p.enabled !== false;
  if (ask && p.ask_name) {
    fields.name = field({ name: 'name', label: t('name_label'), required: !!p.require_name, maxLength: limits.name_max_chars || 100, autocomplete: 'name' }, t);
  }
  if (ask && p.ask_email) {
    fields.email = field({ name: 'email', label: t('email_label'), type: 'email', required: !!p.require_email, maxLength: 254, autocomplete: 'email' }, t);
  }
  const dep = departmentField(config, t);
  if (dep) fields.department_id = dep;
  const questions = ask ? (p.questions || []) : [];
  for (const q of questions) {
    fields[`answers.${q.id}`] = field({ name: `q-${q.id}`, label: siteText(t, `question_${q.id}`) || q.label, required: !!q.required, maxLength: q.max_length || limits.answer_max_chars || 1000 }, t);
  }
  if (ask && (p.consent_required || p.consent_text)) {
    fields.consent = field({ name: 'consent', label: consentText(t, p), type: 'checkbox', required: !!p.consent_required }, t);
  }
  const summary = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', text: t('start') });
  const heading = h('h2', { class: 'view-title', tabindex: '-1', text: t('greeting') });
  const form = h('form', { class: 'form', novalidate: true }, Object.values(fields).map((f) => f.wrap), summary, button);
  runForm(form, button, fields, summary, t,
    () => {
      for (const f of Object.values(fields)) {
        if (!require(f, t)) return f;
      }
      return emailOK(fields.email, t) ? null : fields.email;
    },
    () => {
      const body = { language: config.language || '' };
      if (fields.name) body.name = fields.name.input.value.trim();
      if (fields.email) body.email = fields.email.input.value.trim();
      body.department_id = fields.department_id ? fields.department_id.input.value : singleDepartment(config);
      if (!body.department_id) delete body.department_id;
      if (questions.length) {
        body.answers = {};
        for (const q of questions) {
          const v = fields[`answers.${q.id}`].input.value.trim();
          if (v) body.answers[q.id] = v;
        }
      }
      if (fields.consent) body.consent = fields.consent.input.checked;
      return body;
    },
    submit);
  const first = Object.values(fields)[0];
  return {
    el: h('section', { class: 'view view-prechat' }, heading, form),
    focus: () => firstFocus(heading, first ? first.input : button),
  };
}

/** offlineForm builds the offline message form. submit(OfflineMessage) → null | error. */
export function offlineForm(config, t, submit) {
  const p = config.prechat || {};
  const limits = config.limits || {};
  const fields = {
    name: field({ name: 'name', label: t('name_label'), required: false, maxLength: limits.name_max_chars || 100, autocomplete: 'name' }, t),
    email: field({ name: 'email', label: t('email_label'), type: 'email', required: true, maxLength: 254, autocomplete: 'email' }, t),
  };
  const dep = departmentField(config, t);
  if (dep) fields.department_id = dep;
  fields.message = field({ name: 'message', label: t('offline_message_label'), type: 'textarea', required: true, maxLength: limits.message_max_chars || 4000 }, t);
  if (p.consent_required || p.consent_text) {
    fields.consent = field({ name: 'consent', label: consentText(t, p), type: 'checkbox', required: !!p.consent_required }, t);
  }
  const intro = t('offline_intro');
  const summary = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', text: t('offline_send') });
  const form = h('form', { class: 'form', novalidate: true }, Object.values(fields).map((f) => f.wrap), summary, button);
  runForm(form, button, fields, summary, t,
    () => {
      for (const f of Object.values(fields)) {
        if (!require(f, t)) return f;
      }
      return emailOK(fields.email, t) ? null : fields.email;
    },
    () => {
      const body = {
        name: fields.name.input.value.trim(), email: fields.email.input.value.trim(), message: fields.message.input.value.trim(), language: config.language || '',
      };
      const d = fields.department_id ? fields.department_id.input.value : singleDepartment(config);
      if (d) body.department_id = d;
      if (fields.consent) body.consent = fields.consent.input.checked;
      return body;
    },
    submit);
  const heading = h('h2', { class: 'view-title', tabindex: '-1', text: t('offline_title') });
  return {
    el: h('section', { class: 'view view-offline' }, heading, h('p', { class: 'intro', text: intro }), form),
    focus: () => firstFocus(heading, fields.name.input),
  };
}

/** surveyForm builds the post-chat survey. submit({rating, comment}) → null | error; skip(). */
export function surveyForm(config, t, submit, skip) {
  const limits = config.limits || {};
  const legendId = 'rating-legend';
  const stars = [];
  for (let n = 1; n <= 5; n++) {
    const id = `rating-${n}`;
    const input = h('input', { type: 'radio', name: 'rating', id, value: String(n), class: 'star-input' });
    stars.push(h('span', { class: 'star' }, input,
      h('label', { for: id, class: 'star-label' }, h('span', { 'aria-hidden': 'true', text: '★' }), h('span', { class: 'sr-only', text: t('rating_value', { n }) }))));
  }
  const ratingError = h('p', { class: 'field-error', id: 'rating-err', hidden: true });
  const rating = h('fieldset', { class: 'rating', 'aria-describedby': 'rating-err' },
    h('legend', { id: legendId, text: t('rating_label') }), h('div', { class: 'stars' }, stars), ratingError);
  const comment = field({ name: 'comment', label: t('comment_label'), type: 'textarea', required: false, rows: 3, maxLength: limits.answer_max_chars || 1000 }, t);
  const summary = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', text: t('survey_send') });
  const skipButton = h('button', { type: 'button', class: 'secondary', text: t('survey_skip'), on: { click: skip } });
  const form = h('form', { class: 'form', novalidate: true }, rating, comment.wrap, summary, h('div', { class: 'actions' }, button, skipButton));
  const fields = { comment };
  runForm(form, button, fields, summary, t,
    () => {
      ratingError.hidden = true;
      if (form.querySelector('input[name=rating]:checked')) return null;
      ratingError.textContent = t('field_required');
      ratingError.hidden = false;
      return { input: form.querySelector('input[name=rating]') };
    },
    () => {
      const r = form.querySelector('input[name=rating]:checked');
      return { rating: Number(r.value), comment: comment.input.value.trim() };
    },
    submit);
  const heading = h('h2', { class: 'view-title', tabindex: '-1', text: t('survey_title') });
  return {
    el: h('section', { class: 'view view-survey' }, h('p', { class: 'notice', text: t('ended') }), heading, form),
    focus: () => heading.focus(),
  };
}
