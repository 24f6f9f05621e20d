import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { build } from 'esbuild';
import { ArmorerError } from '../../src/core/index.js';
import { catalogTable, deriveIntent, loadCatalog, shippedCatalogPath } from '../../src/intent/index.js';
import { parseScope } from '../../src/policy/index.js';
import { tempDirs } from '../lib/temp.js';

const temp = tempDirs('armorer-intent');
after(() => temp.cleanup());
const root = join(import.meta.dirname, '../..');

/** A fresh $ARMORER_HOME holding this intents.yaml. */
function homeWith(lines: string[]): string {
  const home = temp.tempDir('home');
  writeFileSync(join(home, 'intents.yaml'), `${lines.join('\n')}\n`);
  return home;
}

async function refusedAt(lines: string[], line: number, message: RegExp): Promise<ArmorerError> {
  const home = homeWith(lines);
  let caught: unknown;
  try {
    await loadCatalog(home);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ArmorerError, 'expected the catalog to be refused');
  assert.equal(caught.code, 'ARMORER_E_INTENT_CATALOG', caught.message);
  assert.equal(caught.location?.file, join(home, 'intents.yaml'));
  assert.equal(caught.location?.line, line, caught.message);
  assert.match(caught.message, message);
  assert.ok(caught.fix.length > 0);
  return caught;
}

describe('the shipped catalog', () => {
  test('loads, with at least 40 capabilities covering every group the issue names', async () => {
    const c = await loadCatalog(temp.tempDir('empty-home'));
    assert.ok(c.entries.length >= 40, `${c.entries.length} entries`);
    assert.deepEqual(c.files, [shippedCatalogPath()]);
    const required = ['openai', 'anthropic', 'google-gemini', 'openrouter', 'groq', 'mistral', 'ollama', 'lm-studio',
      'slack', 'telegram', 'discord', 'whatsapp', 'signal', 'matrix', 'teams', 'gmail', 'imap', 'smtp', 'outlook',
      'github', 'gitlab', 'npm', 'notion', 'google-drive', 'dropbox', 'web-research', 'files', 'documents', 'shell',
      'code', 'schedule'];
    assert.deepEqual(required.filter((id) => !c.byId.has(id)), []);
  });

  test('every grant is a scope the policy parser accepts', async () => {
    const c = await loadCatalog(temp.tempDir('empty-home'));
    const ctx = { home: temp.tempDir('user-home'), workspace: temp.tempDir('ws') };
    let checked = 0;
    for (const e of c.entries) {
      for (const g of e.grants) {
        assert.doesNotThrow(() => parseScope(g.replaceAll('{host}', 'mail.example.com'), ctx), `${e.id}: ${g}`);
        checked++;
      }
      if (e.folder !== undefined) assert.doesNotThrow(() => parseScope(`files.read:${e.folder}`, ctx), e.id);
    }
    assert.ok(checked > 80, `${checked} grants`);
  });

  test('every secret is bound to a host, and model providers name an outbound host', async () => {
    const c = await loadCatalog(temp.tempDir('empty-home'));
    for (const e of c.entries) {
      for (const g of e.grants.filter((s) => s.startsWith('secrets.access:'))) assert.match(g, /@/, `${e.id}: ${g}`);
    }
    const providers = c.entries.filter((e) => e.group === 'model' && e.grants.length > 0);
    assert.ok(providers.length >= 8);
    for (const p of providers) assert.ok(p.grants.some((g) => g.startsWith('net.outbound:')), p.id);
  });

  test('no listed non-typo is read as a typo, and the list is sorted and unique', async () => {
    const c = await loadCatalog(temp.tempDir('empty-home'));
    for (const w of ['discard', 'black', 'summer', 'nation', 'lotion']) {
      assert.ok(c.notTypos.has(w), `${w} should be listed`);
      const r = deriveIntent(w, c);
      assert.deepEqual([r.grants, r.corrections, r.notUnderstood], [[], [], [w]], w);
    }
  });

  test('is found beside the code in a bundle laid out like dist/ (entry and chunks)', async () => {
    const dir = temp.tempDir('bundle');
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, `const { loadCatalog } = await import(${JSON.stringify(join(root, 'src/intent/index.ts'))});\n`
      + `const c = await loadCatalog(${JSON.stringify(temp.tempDir('empty-home'))});\nconsole.log(c.files[0], c.entries.length);\n`);
    await build({
      entryPoints: { 'cli/main': entry }, outdir: join(dir, 'dist'), bundle: true, splitting: true, format: 'esm',
      platform: 'node', target: 'node20.19', packages: 'bundle', chunkNames: 'chunks/[name]-[hash]', logLevel: 'silent',
      nodePaths: [join(root, 'node_modules')],
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    });
    // What scripts/build.mjs does after bundling.
    mkdirSync(join(dir, 'dist/intent'));
    copyFileSync(join(root, 'src/intent/catalog.yaml'), join(dir, 'dist/intent/catalog.yaml'));
    const out = execFileSync(process.execPath, [join(dir, 'dist/cli/main.js')], { encoding: 'utf8' }).trim();
    const c = await loadCatalog(temp.tempDir('empty-home'));
    assert.equal(out, `${join(dir, 'dist/intent/catalog.yaml')} ${c.entries.length}`);
    assert.match(readFileSync(join(root, 'scripts/build.mjs'), 'utf8'), /copyFileSync\('src\/intent\/catalog\.yaml', 'dist\/intent\/catalog\.yaml'\)/);
  });

  test('docs/intents.md lists exactly the shipped capabilities', async () => {
    const c = await loadCatalog(temp.tempDir('empty-home'));
    const doc = readFileSync(join(root, 'docs/intents.md'), 'utf8');
    const between = /<!-- catalog:start -->\n([\s\S]*?)<!-- catalog:end -->/.exec(doc);
    assert.ok(between, 'docs/intents.md has the catalog markers');
    assert.equal(between[1], catalogTable(c), 'regenerate the table: see docs/intents.md');
  });
});

describe('a user catalog ($ARMORER_HOME/intents.yaml)', () => {
  test('overrides an entry by id, adds new ones, removes shipped ones and adds actions', async () => {
    const home = homeWith([
      'version: 1',
      'actions: [toot]',
      'remove: [whatsapp]',
      'capabilities:',
      '  - id: slack',
      '    group: chat',
      '    title: Slack (webhook only)',
      '    triggers: [slack]',
      '    grants: [net.outbound:hooks.slack.com:443]',
      '    reason: post to one incoming webhook',
      '  - id: mastodon',
      '    group: chat',
      '    title: Mastodon',
      '    triggers: [mastodon, fediverse]',
      '    grants: [net.outbound:mastodon.social:443, secrets.access:MASTODON_TOKEN@mastodon.social]',
      '    reason: toot on mastodon.social',
    ]);
    const c = await loadCatalog(home);
    assert.deepEqual(c.files, [shippedCatalogPath(), join(home, 'intents.yaml')]);
    const r = deriveIntent('toot to mastodon, post to slack and whatsapp', c);
    assert.deepEqual(r.grants.map((g) => [g.scope, g.because, g.capability]), [
      ['net.outbound:mastodon.social:443', 'mastodon', 'mastodon'],
      ['secrets.access:MASTODON_TOKEN@mastodon.social', 'mastodon', 'mastodon'],
      ['net.outbound:hooks.slack.com:443', 'slack', 'slack'],
    ]);
    assert.deepEqual(r.notUnderstood, ['whatsapp']);
    // The override keeps the shipped entry's place; the new entry comes last.
    assert.equal(c.entries.findIndex((e) => e.id === 'slack'), (await loadCatalog(temp.tempDir('h'))).entries.findIndex((e) => e.id === 'slack'));
    assert.equal(c.entries.at(-1)!.id, 'mastodon');
  });

  test('malformed YAML is refused with its line', async () => {
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    triggers: [a, b', '    grants: []'], 5, /not valid YAML/);
  });

  test('an unknown key is refused at its line, with the allowed keys', async () => {
    const e = await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: chat', '    title: X',
      '    triggers: [xchat]', '    reason: r', '    grant: [shell.exec]'], 3, /unknown key "grant"/);
    assert.match(e.fix, /grants/);
  });

  test('a scope the policy grammar refuses is reported at that grant', async () => {
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: chat', '    title: X', '    triggers: [xchat]',
      '    reason: r', '    grants:', '      - net.outbound:xchat.example.com:443', '      - net.outbound:https://xchat.example.com'],
    10, /URL scheme/);
  });

  test('a trigger that clashes with a shipped one is refused, naming both', async () => {
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: chat', '    title: X', '    triggers: [slacks]',
      '    reason: r'], 3, /"slacks" is the same as "slack" of "slack"/);
  });

  test('{host} without host:, absorbedBy of an unknown id, a wrong version and removing an unknown id are refused', async () => {
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: mail', '    title: X', '    triggers: [xmail]',
      '    reason: r', '    grants: ["net.outbound:{host}:993"]'], 8, /uses \{host\} but has no "host:"/);
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: mail', '    title: X', '    triggers: [xmail]',
      '    reason: r', '    needs: say more', '    absorbedBy: [nope]'], 3, /absorbedBy names "nope"/);
    await refusedAt(['version: 2'], 1, /version/);
    await refusedAt(['version: 1', 'remove: [nope]'], 2, /remove names "nope"/);
  });

  test('a second paths entry and a folder outside what may be granted are refused', async () => {
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: files', '    title: X', '    triggers: [xfiles]',
      '    reason: r', '    paths: true'], 3, /both "files" and "x" have "paths: true"/);
    await refusedAt(['version: 1', 'capabilities:', '  - id: x', '    group: files', '    title: X', '    triggers: [xfiles]',
      '    reason: r', '    folder: /proc/self'], 8, /under \/proc/);
  });
});
