// Unit tests of the widget's texts (web/widget/v1/texts.js): the site's own texts in the chosen
// language first, then the built-in wording of that language, then English.
import test from 'node:test';
import assert from 'node:assert/strict';
import { texts, KEYS } from '../../widget/v1/texts.js';

test('the site\'s texts override the built-in wording of the chosen language', () => {
  const t = texts('de', { greeting: 'Willkommen bei Acme!', question_contract: 'Vertragsnummer' });
  assert.equal(t('greeting'), 'Willkommen bei Acme!');
  assert.equal(t('start'), 'Chat starten', 'built-in German for keys the site leaves unset');
  assert.equal(t.site('greeting'), 'Willkommen bei Acme!');
  assert.equal(t.site('question_contract'), 'Vertragsnummer');
  assert.equal(t.site('start'), '', 'no site text: empty');
});

test('regional tags use their language; unknown languages fall back to English', () => {
  assert.equal(texts('de-CH')('send'), 'Senden');
  assert.equal(texts('fr', { greeting: 'Bonjour !' })('greeting'), 'Bonjour !');
  assert.equal(texts('fr')('send'), 'Send');
  assert.equal(texts('')('send'), 'Send');
});

test('placeholders are filled; empty site texts do not blank a key; every key has German', () => {
  const t = texts('en', { typing: '', joined: '{name} is here' });
  assert.equal(t('typing', { name: 'Bob' }), 'Bob is typing…');
  assert.equal(t('joined', { name: 'Bob' }), 'Bob is here');
  assert.equal(t('no_such_key'), 'no_such_key');
  const de = texts('de');
  for (const k of KEYS) assert.notEqual(de(k), k, `German text for ${k}`);
});
