import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ArmorerError } from '../../src/core/index.js';
import { deriveIntent, loadCatalog, type Catalog } from '../../src/intent/index.js';
import { stem, tokenise, withinOneEdit, wordForms } from '../../src/intent/words.js';

let catalog: Catalog;
before(async () => {
  catalog = await loadCatalog('/nonexistent-armorer-home');
});

function refuses(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ArmorerError, 'expected a coded error');
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  assert.ok(caught.fix.length > 0);
}

describe('the stemmer', () => {
  test('makes summarise, summarize, summary, summaries and summarising one word', () => {
    const forms = ['summarise', 'summarize', 'summary', 'summaries', 'summarising', 'summarized', 'Summarises'];
    assert.deepEqual(new Set(forms.map(stem)), new Set(['summar']));
  });

  test('folds plurals, -ing, -ed and -our/-or, and keeps unrelated words apart', () => {
    assert.equal(stem('feeds'), stem('feed'));
    assert.equal(stem('directories'), stem('directory'));
    assert.equal(stem('saving'), stem('save'));
    assert.equal(stem('running'), stem('run'));
    assert.equal(stem('colour'), stem('color'));
    assert.equal(stem('e-mails'), stem('e-mail'));
    assert.equal(stem('news'), 'news');
    assert.notEqual(stem('notes'), stem('not'));
    assert.notEqual(stem('status'), stem('statu'));
  });

  test('verb forms are exact inflections, so "stories" is not a form of "store"', () => {
    assert.ok(wordForms('store').includes('stored'));
    assert.ok(wordForms('tidy').includes('tidied'));
    assert.ok(!wordForms('store').includes('stories'));
  });
});

describe('the typo distance', () => {
  test('accepts one insertion, deletion, substitution or swap of neighbours, and nothing more', () => {
    assert.ok(withinOneEdit('telegarm', 'telegram'));
    assert.ok(withinOneEdit('slak', 'slack'));
    assert.ok(withinOneEdit('slacks', 'slack'));
    assert.ok(withinOneEdit('slick', 'slack'));
    assert.ok(!withinOneEdit('sclak', 'slack'));
    assert.ok(withinOneEdit('discrd', 'discord'));
    assert.ok(!withinOneEdit('dsicrod', 'discord'));
  });
});

describe('the tokeniser', () => {
  test('keeps paths, quoted paths, hosts and URLs whole, and strips trailing punctuation', () => {
    const t = tokenise('read ~/notes, "/srv/my data" and https://feeds.example.com/rss.xml; mail imap.example.com.');
    assert.deepEqual(t.filter((x) => x.kind !== 'word' && x.kind !== 'punct').map((x) => [x.kind, x.text, x.lower]), [
      ['path', '~/notes', '~/notes'],
      ['path', '/srv/my data', '/srv/my data'],
      ['host', 'https://feeds.example.com/rss.xml', 'feeds.example.com'],
      ['host', 'imap.example.com', 'imap.example.com'],
    ]);
    assert.deepEqual(t.filter((x) => x.kind === 'punct').map((x) => x.text), [',', ';', '.']);
  });

  test('does not take "and/or", "gpt-4.1" or "~5" for paths or hosts', () => {
    assert.deepEqual(tokenise('and/or gpt-4.1 ~5').map((x) => [x.kind, x.text]), [
      ['word', 'and'], ['word', 'or'], ['word', 'gpt-4.1'], ['word', '5'],
    ]);
  });
});

describe('deriving an intent', () => {
  test('is deterministic: the same text gives byte-identical results, with a freshly loaded catalog too', async () => {
    const text = 'Sumarize my gmail every morning, save it to ~/notes/mail, post to Slack and never run shell commands';
    const a = JSON.stringify(deriveIntent(text, catalog));
    const b = JSON.stringify(deriveIntent(text, catalog));
    const c = JSON.stringify(deriveIntent(text, await loadCatalog('/nonexistent-armorer-home')));
    assert.equal(a, b);
    assert.equal(a, c);
    assert.ok(a.includes('files.write:~/notes/mail'));
  });

  test('prefers the longest phrase: "google drive" grants Drive only, not the Gemini provider', () => {
    const r = deriveIntent('google drive', catalog);
    assert.deepEqual([...new Set(r.grants.map((g) => g.capability))], ['google-drive']);
    assert.deepEqual(r.needs, []);
    assert.equal(r.model.provider, null);
  });

  test('a trigger word that is also a verb form does not make a folder writable', () => {
    assert.deepEqual(deriveIntent('read my downloads folder', catalog).grants.map((g) => g.scope), ['files.read:~/Downloads']);
    assert.deepEqual(deriveIntent('read stories in ~/books', catalog).grants.map((g) => g.scope), ['files.read:~/books']);
  });

  test('a write word in another clause leaves a folder read-only', () => {
    assert.deepEqual(deriveIntent('read ~/notes and save summaries to slack', catalog).grants[0]!.scope, 'files.read:~/notes');
  });

  test('every grant names a phrase that occurs in the text as typed', () => {
    const text = 'Post DAILY digests from ~/Notes to Slack and Discord via GPT-5; never touch GitHub';
    for (const g of deriveIntent(text, catalog).grants) assert.ok(text.includes(g.because), g.because);
  });

  test('refuses paths that cannot be granted, naming the path', () => {
    refuses(() => deriveIntent('read /etc/../root', catalog), 'ARMORER_E_PATH', /"\/etc\/\.\.\/root".*"\.\."/);
    refuses(() => deriveIntent('read everything in ~', catalog), 'ARMORER_E_PATH', /whole home/);
    refuses(() => deriveIntent('read ~/', catalog), 'ARMORER_E_PATH', /whole home/);
    refuses(() => deriveIntent('watch /proc/1', catalog), 'ARMORER_E_PATH', /under \/proc/);
    refuses(() => deriveIntent('clean up /', catalog), 'ARMORER_E_PATH', /whole filesystem/);
  });

  test('refuses an intent longer than 2000 characters rather than reading part of it', () => {
    refuses(() => deriveIntent('slack '.repeat(400), catalog), 'ARMORER_E_INTENT_TEXT', /2400 characters/);
  });

  test('--model must be a provider, must not contradict the text, and must not be negated', () => {
    refuses(() => deriveIntent('post to slack', catalog, { model: 'slack' }), 'ARMORER_E_INTENT_MODEL', /not a model provider/);
    refuses(() => deriveIntent('post to slack', catalog, { model: 'gpt4' }), 'ARMORER_E_INTENT_MODEL', /not a model provider/);
    refuses(() => deriveIntent('use claude', catalog, { model: 'openai' }), 'ARMORER_E_INTENT_MODEL', /names "claude" \(anthropic\)/);
    refuses(() => deriveIntent('never use openai', catalog, { model: 'openai' }), 'ARMORER_E_INTENT_MODEL', /"never use openai"/);
    const same = deriveIntent('use gpt-4o', catalog, { model: 'openai' });
    assert.deepEqual([same.model, same.grants.map((g) => g.because)], [{ provider: 'openai', phrase: 'gpt-4o' }, ['gpt-4o', 'gpt-4o']]);
  });

  test('a negation ends at its clause: "and" starts a new one', () => {
    const r = deriveIntent('without slack and with discord', catalog);
    assert.deepEqual([...new Set(r.grants.map((g) => g.capability))], ['discord']);
    assert.deepEqual(r.negated, [{ capability: 'slack', phrase: 'without slack' }]);
  });
});
