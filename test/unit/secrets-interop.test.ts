/**
 * The store is plain age: Debian's `age` (1.1) reads what Armorer writes and Armorer reads what
 * `age` writes. `age -p` asks for its passphrase on /dev/tty only, so it runs on a pseudo-terminal
 * made by `script` (secrets-pty.ts), answering each prompt after it appears.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SecretStore, storePaths } from '../../src/secrets/index.js';
import { tempDirs } from '../lib/temp.js';
import { HAVE_SCRIPT, onPty } from './secrets-pty.js';

const AGE = '/usr/bin/age';
const KEYGEN = '/usr/bin/age-keygen';
const PASS = 'interop passphrase 42';
const temp = tempDirs('armorer-age');
after(() => temp.cleanup());
const noPty = HAVE_SCRIPT ? false : 'util-linux "script" is needed to give age -p a terminal';

function age(args: string[], input?: string): string {
  const r = spawnSync(AGE, args, { encoding: 'utf8', timeout: 60_000, ...(input !== undefined && { input }) });
  assert.equal(r.status, 0, `age ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('interop with the age command-line tool', () => {
  test('age decrypts identity.age with the passphrase, and secrets.age with that identity', { skip: noPty }, async () => {
    const h = join(temp.tempDir('a2age'), 'home');
    const store = await SecretStore.init(h, PASS); // age's default work factor, as the CLI writes it
    await store.set('OPENAI_API_KEY', 'sk-interop-0123456789');
    const p = storePaths(h);
    assert.match(readFileSync(p.identity, 'latin1'), /^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/);
    const keyFile = join(temp.tempDir('out'), 'key.txt');
    const r = await onPty([AGE, '-d', '-o', keyFile, p.identity], [{ after: /Enter passphrase/, type: `${PASS}\n` }]);
    assert.equal(r.code, 0, r.screen);
    assert.doesNotMatch(r.screen, new RegExp(PASS), 'age does not echo the passphrase');
    const keyText = readFileSync(keyFile, 'utf8');
    assert.match(keyText, /^# public key: (age1\S+)$/m);
    assert.equal(/^# public key: (age1\S+)$/m.exec(keyText)![1], store.recipient);
    const doc = JSON.parse(age(['-d', '-i', keyFile, p.secrets])) as { version: number; secrets: Record<string, { value: string }> };
    assert.equal(doc.version, 1);
    assert.equal(doc.secrets['OPENAI_API_KEY']!.value, 'sk-interop-0123456789');
    // And age-keygen agrees on the recipient of the decrypted identity.
    assert.equal(spawnSync(KEYGEN, ['-y', keyFile], { encoding: 'utf8' }).stdout.trim(), readFileSync(p.recipient, 'utf8').trim());
  });

  test('Armorer opens a store made entirely by age-keygen, age -p and age -r', { skip: noPty }, async () => {
    const h = join(temp.tempDir('age2a'), 'home');
    const dir = join(h, 'secrets');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const work = temp.tempDir('work');
    const keyFile = join(work, 'key.txt');
    assert.equal(spawnSync(KEYGEN, ['-o', keyFile]).status, 0);
    const recipient = spawnSync(KEYGEN, ['-y', keyFile], { encoding: 'utf8' }).stdout.trim();
    const r = await onPty([AGE, '-p', '-o', join(dir, 'identity.age'), keyFile], [
      { after: /Enter passphrase/, type: `${PASS}\n` },
      { after: /Confirm passphrase/, type: `${PASS}\n` },
    ]);
    assert.equal(r.code, 0, r.screen);
    const now = new Date().toISOString();
    const json = JSON.stringify({ version: 1, secrets: { GITHUB_TOKEN: { value: 'ghp_fromage', created: now, updated: now, inject: 'env' } } });
    writeFileSync(join(work, 'doc.json'), json);
    age(['-r', recipient, '-o', join(dir, 'secrets.age'), join(work, 'doc.json')]);
    for (const f of ['identity.age', 'secrets.age']) chmodSync(join(dir, f), 0o600);

    const store = await SecretStore.unlock(h, PASS);
    assert.equal(store.recipient, recipient);
    assert.equal(await store.get('GITHUB_TOKEN'), 'ghp_fromage');
    assert.equal(store.injectMode('GITHUB_TOKEN'), 'env');
    // Armorer's next write goes back to the same key, still readable by age.
    await store.set('SECOND', 'second-value');
    assert.match(age(['-d', '-i', keyFile, join(dir, 'secrets.age')]), /"SECOND"/);
  });

  test('an armored secrets.age (age -a) is read too', async () => {
    const h = join(temp.tempDir('armor'), 'home');
    const store = await SecretStore.init(h, PASS, { scryptWorkFactor: 10 });
    const now = new Date().toISOString();
    const armored = age(['-a', '-r', store.recipient], JSON.stringify({ version: 1, secrets: { A: { value: 'armored-value', created: now, updated: now } } }));
    writeFileSync(storePaths(h).secrets, armored);
    assert.equal(await (await SecretStore.unlock(h, PASS)).get('A'), 'armored-value');
  });

  test('a document age encrypted correctly but with the wrong shape is refused without quoting it', async () => {
    const h = join(temp.tempDir('shape'), 'home');
    const store = await SecretStore.init(h, PASS, { scryptWorkFactor: 10 });
    const p = storePaths(h);
    writeFileSync(p.secrets, age(['-a', '-r', store.recipient], JSON.stringify({ version: 1, secrets: { A: { value: 'leaky-value' } } })));
    await assert.rejects(SecretStore.unlock(h, PASS), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ARMORER_E_SECRETS_STORE');
      assert.match(e.message, /does not match the schema at secrets\.A\.created/);
      assert.doesNotMatch(e.message, /leaky-value/);
      return true;
    });
  });
});
