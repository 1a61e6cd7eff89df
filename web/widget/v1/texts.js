// Parley widget texts: the built-in wording in English and German. The server chooses the
// language (the lang parameter, then the browser's Accept-Language, else the site's default) and
// sends the site's own texts in it (SiteConfig.texts), which override any of these keys; keys the
// site leaves unset come from here in that language (English for languages without built-in
// wording). Sites may also translate their pre-chat form: consent_text, and question_ID for the
// label of the pre-chat question ID. Placeholders are {name}, {n} and {file}.
// Every text is put on the page with textContent, never as markup.

const EN = {
  title: 'Chat with us',
  greeting: 'Hello! How can we help you today?',
  launcher_label: 'Chat',
  launcher_unread_one: '1 unread message',
  launcher_unread_many: '{n} unread messages',
  minimise: 'Minimise chat',
  loading: 'Loading…',
  name_label: 'Your name',
  email_label: 'E-mail address',
  department_label: 'Department',
  department_any: 'Any department',
  optional: '(optional)',
  start: 'Start chat',
  field_required: 'Please fill in this field.',
  field_too_long: 'This is too long.',
  email_invalid: 'Please enter a valid e-mail address.',
  consent_missing: 'Please agree to continue.',
  queued: 'Waiting for an agent…',
  queue_position: 'You are number {n} in the queue.',
  queue_next: 'You are next in the queue.',
  queue_wait: 'Estimated wait: about {n} min.',
  queue_wait_short: 'Estimated wait: under a minute.',
  chatting_with: 'You are chatting with {name}.',
  agent: 'Agent',
  you: 'You',
  message_label: 'Message',
  placeholder: 'Type your message…',
  send: 'Send',
  end_chat: 'End chat',
  end_confirm: 'End this chat?',
  end_yes: 'Yes, end it',
  end_no: 'Continue',
  typing: '{name} is typing…',
  sending: 'Sending…',
  sent: 'Sent',
  read: 'Read',
  not_sent: 'Not sent',
  retry: 'Retry',
  reconnecting: 'Connection lost. Reconnecting…',
  joined: '{name} joined the chat.',
  left: '{name} left the chat.',
  transferred: 'Your chat is being transferred.',
  ended: 'The chat has ended.',
  missed: 'Sorry, no agent could take your chat.',
  file_shared: '{name} shared a file: {file}',
  card_requested: '{name} asks for your card details. Enter them in the secure form: they never appear in the chat.',
  card_open: 'Open the secure card form',
  card_title: 'Secure card form',
  card_sent: 'Your card details were sent securely.',
  card_closed: 'The card form is closed.',
  card_expired: 'This card form has expired. Ask for a new one if you still need it.',
  survey_title: 'How was your chat?',
  rating_label: 'Your rating',
  rating_value: '{n} of 5',
  comment_label: 'Comment',
  survey_send: 'Send feedback',
  survey_skip: 'Skip',
  survey_thanks: 'Thank you for your feedback.',
  new_chat: 'Start a new chat',
  offline_title: 'Leave us a message',
  offline_intro: 'We are not available right now. Leave a message and we will get back to you.',
  offline_message_label: 'Your message',
  offline_send: 'Send message',
  offline_sent: 'Thank you. Your message has been sent.',
  unavailable: 'Chat is not available right now.',
  error_generic: 'Something went wrong. Please try again.',
  error_rate_limited: 'Please wait a moment and try again.',
  error_too_long: 'The message is too long.',
  error_ended: 'This conversation has ended.',
  invite_title: '{name} invites you to chat',
  invite_accept: 'Start chat',
  invite_decline: 'No, thanks',
  invite_closed: 'This invitation is no longer open.',
};

const DE = {
  title: 'Chatten Sie mit uns',
  greeting: 'Hallo! Wie können wir Ihnen helfen?',
  launcher_label: 'Chat',
  launcher_unread_one: '1 ungelesene Nachricht',
  launcher_unread_many: '{n} ungelesene Nachrichten',
  minimise: 'Chat minimieren',
  loading: 'Wird geladen…',
  name_label: 'Ihr Name',
  email_label: 'E-Mail-Adresse',
  department_label: 'Abteilung',
  department_any: 'Beliebige Abteilung',
  optional: '(optional)',
  start: 'Chat starten',
  field_required: 'Bitte füllen Sie dieses Feld aus.',
  field_too_long: 'Der Text ist zu lang.',
  email_invalid: 'Bitte geben Sie eine gültige E-Mail-Adresse ein.',
  consent_missing: 'Bitte stimmen Sie zu, um fortzufahren.',
  queued: 'Warten auf eine Mitarbeiterin oder einen Mitarbeiter…',
  queue_position: 'Sie sind Nummer {n} in der Warteschlange.',
  queue_next: 'Sie sind als Nächstes an der Reihe.',
  queue_wait: 'Geschätzte Wartezeit: etwa {n} Min.',
  queue_wait_short: 'Geschätzte Wartezeit: unter einer Minute.',
  chatting_with: 'Sie chatten mit {name}.',
  agent: 'Mitarbeiter',
  you: 'Sie',
  message_label: 'Nachricht',
  placeholder: 'Nachricht eingeben…',
  send: 'Senden',
  end_chat: 'Chat beenden',
  end_confirm: 'Diesen Chat beenden?',
  end_yes: 'Ja, beenden',
  end_no: 'Weiter chatten',
  typing: '{name} schreibt…',
  sending: 'Wird gesendet…',
  sent: 'Gesendet',
  read: 'Gelesen',
  not_sent: 'Nicht gesendet',
  retry: 'Erneut senden',
  reconnecting: 'Verbindung unterbrochen. Neuer Versuch…',
  joined: '{name} ist dem Chat beigetreten.',
  left: '{name} hat den Chat verlassen.',
  transferred: 'Ihr Chat wird weitergeleitet.',
  ended: 'Der Chat wurde beendet.',
  missed: 'Leider konnte niemand Ihren Chat annehmen.',
  file_shared: '{name} hat eine Datei geteilt: {file}',
  card_requested: '{name} bittet um Ihre Kartendaten. Geben Sie sie im sicheren Formular ein: Sie erscheinen nie im Chat.',
  card_open: 'Sicheres Kartenformular öffnen',
  card_title: 'Sicheres Kartenformular',
  card_sent: 'Ihre Kartendaten wurden sicher übermittelt.',
  card_closed: 'Das Kartenformular ist geschlossen.',
  card_expired: 'Dieses Kartenformular ist abgelaufen. Bitten Sie bei Bedarf um ein neues.',
  survey_title: 'Wie war Ihr Chat?',
  rating_label: 'Ihre Bewertung',
  rating_value: '{n} von 5',
  comment_label: 'Kommentar',
  survey_send: 'Bewertung senden',
  survey_skip: 'Überspringen',
  survey_thanks: 'Vielen Dank für Ihre Rückmeldung.',
  new_chat: 'Neuen Chat starten',
  offline_title: 'Hinterlassen Sie eine Nachricht',
  offline_intro: 'Wir sind gerade nicht erreichbar. Hinterlassen Sie eine Nachricht, wir melden uns.',
  offline_message_label: 'Ihre Nachricht',
  offline_send: 'Nachricht senden',
  offline_sent: 'Vielen Dank. Ihre Nachricht wurde gesendet.',
  unavailable: 'Der Chat ist gerade nicht verfügbar.',
  error_generic: 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
  error_rate_limited: 'Bitte warten Sie einen Moment und versuchen Sie es erneut.',
  error_too_long: 'Die Nachricht ist zu lang.',
  error_ended: 'Dieses Gespräch wurde beendet.',
  invite_title: '{name} lädt Sie zum Chat ein',
  invite_accept: 'Chat starten',
  invite_decline: 'Nein, danke',
  invite_closed: 'Diese Einladung ist nicht mehr offen.',
};

const BUILT_IN = { en: EN, de: DE };

/**
 * texts returns a lookup function for language lang: the site's own texts first, then the
 * built-in texts of that language, then English. Placeholders {x} are filled from vars; keys
 * without any text come back as the key itself, so a missing text is visible, never blank.
 */
export function texts(lang, site = {}) {
  const primary = String(lang || 'en').toLowerCase().split('-')[0];
  const own = BUILT_IN[primary] || EN;
  const siteText = (key) => (typeof site[key] === 'string' && site[key] !== '' ? site[key] : '');
  function t(key, vars) {
    let s = siteText(key) || (own[key] ?? EN[key] ?? key);
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    }
    return s;
  }
  /** t.site returns the site's own text for key in this language, or '' when it has none. */
  t.site = siteText;
  return t;
}

/** KEYS lists every text key the widget uses, for site administrators and translators. */
export const KEYS = Object.freeze(Object.keys(EN));
