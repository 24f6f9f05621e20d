/**
 * `armorer secrets ...` as a user runs it: a real process (through tsx, from the sources), a
 * private ARMORER_HOME, the real age work factor. Every run is in its own session (detached), so
 * it has no controlling terminal unless a test gives it one on a pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SecretStore, storePaths } from '../../src/secrets/index.js';
import { tempDirs } from '../lib/temp.js';
import { HAVE_SCRIPT, onPty } from './secrets-pty.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const PASS = 'cli passphrase 1234';
const VALUE = 'sk-cli-value-0123456789abcdef';
const temp = tempDirs('armorer-scli');
after(() => temp.cleanup());

interface Run { code: number | null; out: string; err: string }

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of ['ARMORER_PASSPHRASE', 'ARMORER_PASSPHRASE_FILE']) if (!(k in extra)) delete env[k];
  return env;
}

function armorer(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  const child = spawn(process.execPath, [...MAIN, ...args], { cwd: ROOT, env: cleanEnv(env), detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function newHome(): { home: string; env: Record<string, string> } {
  const home = join(temp.tempDir('h'), 'home');
  return { home, env: { ARMORER_HOME: home, ARMORER_PASSPHRASE: PASS } };
}

function noStackTrace(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
}

describe('armorer secrets', () => {
  test('init, set --from-stdin, list, get --reveal, rm: the value is printed only by --reveal', async () => {
    const { home, env } = newHome();
    const init = await armorer(['secrets', 'init'], env);
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /recipient: age1/);

    const set = await armorer(['secrets', 'set', 'OPENAI_API_KEY', '--from-stdin'], env, `${VALUE}\n`);
    assert.equal(set.code, 0, set.err);
    assert.equal(set.out, 'set OPENAI_API_KEY\n');

    const list = await armorer(['secrets', 'list'], env);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^OPENAI_API_KEY\s+\d{4}-\d\d-\d\dT\S+\s+-$/m);
    const json = await armorer(['secrets', 'list', '--json'], env);
    assert.deepEqual((JSON.parse(json.out) as { name: string }[]).map((e) => e.name), ['OPENAI_API_KEY']);
    for (const r of [init, set, list, json]) assert.doesNotMatch(r.out + r.err, new RegExp(VALUE));

    const hidden = await armorer(['secrets', 'get', 'OPENAI_API_KEY'], env);
    assert.equal(hidden.code, 2);
    assert.match(hidden.err, /only with --reveal \[ARMORER_E_USAGE\]/);
    assert.doesNotMatch(hidden.out + hidden.err, new RegExp(VALUE));

    const reveal = await armorer(['secrets', 'get', 'OPENAI_API_KEY', '--reveal'], env);
    assert.equal(reveal.out, `${VALUE}\n`, 'exactly the value: one trailing newline of stdin was dropped, one added');

    const rm = await armorer(['secrets', 'rm', 'OPENAI_API_KEY'], env);
    assert.equal(rm.code, 0, rm.err);
    assert.deepEqual(await (await SecretStore.unlock(home, PASS)).names(), []);
    const again = await armorer(['secrets', 'rm', 'OPENAI_API_KEY'], env);
    assert.equal(again.code, 125);
    assert.match(again.err, /not set \[ARMORER_E_SECRET\]/);
  });

  test('--inject env is stored and warned about loudly; export-recipient and rotate-key agree', async () => {
    const { home, env } = newHome();
    await armorer(['secrets', 'init'], env);
    const set = await armorer(['secrets', 'set', 'SLACK_TOKEN', '--from-stdin', '--inject', 'env'], env, 'xoxb-1234567890');
    assert.equal(set.code, 0, set.err);
    assert.match(set.err, /^WARNING: SLACK_TOKEN is marked "inject: env".*REAL value/m);
    assert.match((await armorer(['secrets', 'list'], env)).out, /^SLACK_TOKEN\s+\S+\s+env$/m);
    const before = (await armorer(['secrets', 'export-recipient'], env)).out.trim();
    assert.equal(before, (await SecretStore.unlock(home, PASS)).recipient);
    const rotate = await armorer(['secrets', 'rotate-key'], env);
    assert.equal(rotate.code, 0, rotate.err);
    const afterRotate = (await armorer(['secrets', 'export-recipient'], env)).out.trim();
    assert.match(afterRotate, /^age1/);
    assert.notEqual(afterRotate, before);
    assert.match(rotate.out, new RegExp(`new recipient: ${afterRotate}`));
    const bad = await armorer(['secrets', 'set', 'X', '--from-stdin', '--inject', 'file'], env, 'v');
    assert.equal(bad.code, 2);
  });

  test('a wrong passphrase, a second init, and a damaged store are coded errors that change nothing', async () => {
    const { home, env } = newHome();
    await armorer(['secrets', 'init'], env);
    await armorer(['secrets', 'set', 'KEEP', '--from-stdin'], env, 'keep-me-please');
    const p = storePaths(home);
    const wrong = await armorer(['secrets', 'list'], { ...env, ARMORER_PASSPHRASE: 'not the passphrase' });
    assert.equal(wrong.code, 125);
    assert.match(wrong.err, /\[ARMORER_E_PASSPHRASE\]/);
    assert.doesNotMatch(wrong.err, /not the passphrase/);
    const init = await armorer(['secrets', 'init'], env);
    assert.equal(init.code, 125);
    assert.match(init.err, /already exists .*\[ARMORER_E_SECRETS_STORE\]/);

    const bytes = readFileSync(p.secrets);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x40;
    writeFileSync(p.secrets, bytes);
    const set = await armorer(['secrets', 'set', 'NEW', '--from-stdin'], env, 'new-value');
    assert.equal(set.code, 125);
    assert.match(set.err, /secrets\.age cannot be decrypted .*\[ARMORER_E_SECRETS_STORE\]\n {2}fix: restore it from a backup; Armorer has not changed it/);
    noStackTrace(set.err);
    assert.deepEqual(readFileSync(p.secrets), bytes, 'the damaged file is left exactly as it was');
    assert.deepEqual(readdirSync(p.dir).sort(), ['identity.age', 'recipient.txt', 'secrets.age']);
  });

  test('ARMORER_PASSPHRASE_FILE must be private: 0644 is refused, 0600 works', async () => {
    const { home } = newHome();
    const file = join(temp.tempDir('pf'), 'pass');
    writeFileSync(file, `${PASS}\n`);
    chmodSync(file, 0o644);
    const env = { ARMORER_HOME: home, ARMORER_PASSPHRASE_FILE: file };
    const refused = await armorer(['secrets', 'init'], env);
    assert.equal(refused.code, 125);
    assert.match(refused.err, /accessible to other users \(mode 644\) \[ARMORER_E_PASSPHRASE\]\n {2}fix: chmod 600 /);
    chmodSync(file, 0o600);
    const ok = await armorer(['secrets', 'init'], env);
    assert.equal(ok.code, 0, ok.err);
    await SecretStore.unlock(home, PASS);
  });

  test('without a terminal: no passphrase source is an error naming both variables; a value must be piped', async () => {
    const { home, env } = newHome();
    // No store yet: said before any passphrase is asked for.
    const noStore = await armorer(['secrets', 'list'], { ARMORER_HOME: home });
    assert.equal(noStore.code, 125);
    assert.match(noStore.err, /no secrets store in .*\[ARMORER_E_SECRETS_STORE\]\n {2}fix: create one with "armorer secrets init"/);
    const none = await armorer(['secrets', 'init'], { ARMORER_HOME: home });
    assert.equal(none.code, 125);
    assert.match(none.err, /\[ARMORER_E_PASSPHRASE\]\n {2}fix: .*ARMORER_PASSPHRASE_FILE.*ARMORER_PASSPHRASE\b/);
    await armorer(['secrets', 'init'], env);
    const set = await armorer(['secrets', 'set', 'X'], env);
    assert.equal(set.code, 2);
    assert.match(set.err, /no terminal .*\[ARMORER_E_USAGE\]\n {2}fix: pipe the value in: .*--from-stdin/);
  });

  test('on a terminal, the passphrase and the value are typed without echo and never shown', { skip: HAVE_SCRIPT ? false : 'needs util-linux script' }, async () => {
    const { home } = newHome();
    const env = cleanEnv({ ARMORER_HOME: home });
    const init = await onPty([process.execPath, ...MAIN, 'secrets', 'init'], [
      { after: /New passphrase for the secrets store: /, type: `${PASS}\r` },
      { after: /Same passphrase again: /, type: `${PASS}\r` },
    ], { env, cwd: ROOT });
    assert.equal(init.code, 0, init.screen);
    const set = await onPty([process.execPath, ...MAIN, 'secrets', 'set', 'TYPED'], [
      { after: /Passphrase for the secrets store: /, type: `${PASS}\r` },
      // A typo corrected with backspace, as a person would.
      { after: /Value of TYPED \(typing is hidden\): /, type: `${VALUE}x\u007f\r` },
    ], { env, cwd: ROOT });
    assert.equal(set.code, 0, set.screen);
    assert.match(set.screen, /set TYPED/);
    for (const screen of [init.screen, set.screen]) {
      assert.doesNotMatch(screen, new RegExp(PASS));
      assert.doesNotMatch(screen, new RegExp(VALUE));
    }
    assert.equal(await (await SecretStore.unlock(home, PASS)).get('TYPED'), VALUE);
  });
});
