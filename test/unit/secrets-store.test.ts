import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import {
  EmptySecretSource, EnvSecretSource, injectedEnv, openSecretSource, readRecipient, rotateKey, SecretStore, storePaths,
} from '../../src/secrets/index.js';
import { tempDirs } from '../lib/temp.js';

// scrypt at age's default (2^18) costs about a second per unlock in typage; these tests use 2^10
// so the suite stays fast. The default is exercised by secrets-cli and secrets-interop.
const FAST = { scryptWorkFactor: 10 };
const PASS = 'correct horse battery staple';
const temp = tempDirs('armorer-secrets');
after(() => temp.cleanup());

function home(): string {
  return join(temp.tempDir('store'), 'home');
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isArmorerError(e), `expected an ArmorerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    assert.ok(e.fix.length > 0);
    return true;
  });
}

describe('secret store', () => {
  test('set, list, get and rm survive closing and unlocking again', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    await store.set('OPENAI_API_KEY', 'sk-one-1234567890');
    await store.set('SLACK_TOKEN', 'xoxb-2222', { inject: 'env' });
    store.close();

    const again = await SecretStore.unlock(h, PASS);
    assert.deepEqual(await again.names(), ['OPENAI_API_KEY', 'SLACK_TOKEN']);
    assert.equal(await again.get('OPENAI_API_KEY'), 'sk-one-1234567890');
    assert.equal(await again.get('MISSING'), undefined);
    assert.deepEqual(again.list().map((e) => [e.name, e.inject]), [['OPENAI_API_KEY', 'none'], ['SLACK_TOKEN', 'env']]);
    const replaced = await again.set('OPENAI_API_KEY', 'sk-two-1234567890');
    assert.equal(replaced.replaced, true);
    await again.remove('SLACK_TOKEN');

    const third = await SecretStore.unlock(h, PASS);
    assert.deepEqual(await third.names(), ['OPENAI_API_KEY']);
    assert.equal(await third.get('OPENAI_API_KEY'), 'sk-two-1234567890');
    const [e] = third.list();
    assert.ok(e && e.created < e.updated, 'replacing keeps created and moves updated');
  });

  test('list never carries values', async () => {
    const store = await SecretStore.init(home(), PASS, FAST);
    await store.set('API_KEY', 'value-that-must-not-show');
    assert.doesNotMatch(JSON.stringify(store.list()), /value-that-must-not-show/);
  });

  test('replacing a value keeps its inject mode unless told otherwise', async () => {
    const store = await SecretStore.init(home(), PASS, FAST);
    await store.set('TOKEN', 'first-value', { inject: 'env' });
    assert.equal((await store.set('TOKEN', 'second-value')).inject, 'env');
    assert.equal((await store.set('TOKEN', 'third-value', { inject: 'none' })).inject, 'none');
  });

  test('a name that is not a variable name, an empty value and a missing secret are refused', async () => {
    const store = await SecretStore.init(home(), PASS, FAST);
    await rejectsWith(store.set('1BAD', 'x'), 'ARMORER_E_SECRET');
    await rejectsWith(store.set('A-B', 'x'), 'ARMORER_E_SECRET');
    await rejectsWith(store.set('__proto__', 'x'), 'ARMORER_E_SECRET');
    await rejectsWith(store.set('EMPTY', ''), 'ARMORER_E_SECRET', /empty/);
    await rejectsWith(store.set('HUGE', 'x'.repeat(64 * 1024 + 1)), 'ARMORER_E_SECRET', /larger/);
    await rejectsWith(store.remove('NOPE'), 'ARMORER_E_SECRET', /not set/);
    assert.equal(await store.get('constructor'), undefined, 'names are looked up in a Map, not an object');
  });

  test('a wrong passphrase is its own error and changes nothing', async () => {
    const h = home();
    await SecretStore.init(h, PASS, FAST);
    const before = readFileSync(storePaths(h).identity);
    await rejectsWith(SecretStore.unlock(h, 'not the passphrase'), 'ARMORER_E_PASSPHRASE', /does not open/);
    assert.deepEqual(readFileSync(storePaths(h).identity), before);
  });

  test('init refuses a passphrase shorter than 8 characters, and a store that exists', async () => {
    const h = home();
    await rejectsWith(SecretStore.init(h, 'short', FAST), 'ARMORER_E_PASSPHRASE');
    await SecretStore.init(h, PASS, FAST);
    const before = readFileSync(storePaths(h).secrets);
    await rejectsWith(SecretStore.init(h, PASS, FAST), 'ARMORER_E_SECRETS_STORE', /already exists/);
    assert.deepEqual(readFileSync(storePaths(h).secrets), before);
  });

  test('a damaged secrets.age is a clear error, and a set afterwards refuses and leaves the bytes alone', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    await store.set('KEEP', 'keep-this-value');
    const p = storePaths(h);
    const bytes = readFileSync(p.secrets);
    // One flipped byte in the payload (after the header), one in the header's stanza body.
    for (const at of [bytes.length - 5, bytes.indexOf('\n', bytes.indexOf('X25519')) + 3]) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 0x01;
      writeFileSync(p.secrets, bad);
      await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /secrets\.age/);
      // The already-unlocked store re-reads under the lock before writing: it must refuse too.
      await rejectsWith(store.set('NEW', 'new-value'), 'ARMORER_E_SECRETS_STORE');
      assert.deepEqual(readFileSync(p.secrets), bad, 'nothing overwritten');
      assert.deepEqual(readdirSync(p.dir).sort(), ['identity.age', 'recipient.txt', 'secrets.age']);
    }
  });

  test('a truncated or foreign secrets.age, and a damaged identity.age, are store errors', async () => {
    const h = home();
    await SecretStore.init(h, PASS, FAST);
    const p = storePaths(h);
    const good = readFileSync(p.secrets);
    writeFileSync(p.secrets, good.subarray(0, good.length - 20));
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE');
    // A valid age file for someone else's key: "not encrypted to this store's identity".
    const other = home();
    await SecretStore.init(other, PASS, FAST);
    writeFileSync(p.secrets, readFileSync(storePaths(other).secrets));
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /not encrypted to this store's identity/);
    writeFileSync(p.secrets, good);
    writeFileSync(p.identity, 'age-encryption.org/v1\ngarbage\n');
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /identity\.age cannot be decrypted/);
  });

  test('an incomplete store (one file missing) is refused, never treated as empty', async () => {
    const h = home();
    await SecretStore.init(h, PASS, FAST);
    rmSync(storePaths(h).identity);
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /incomplete: identity\.age is missing/);
    await rejectsWith(openSecretSource(h, { env: { ARMORER_PASSPHRASE: PASS } }), 'ARMORER_E_SECRETS_STORE');
    await rejectsWith(SecretStore.init(h, PASS, FAST), 'ARMORER_E_SECRETS_STORE', /already exists/);
  });

  test('files are 0600 in a 0700 directory, and no temp file is left behind', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    for (let i = 0; i < 5; i++) await store.set(`K${i}`, `value-${i}`);
    await store.remove('K0');
    await rotateKey(h, PASS, FAST);
    const p = storePaths(h);
    assert.equal(statSync(p.dir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(p.dir).sort(), ['identity.age', 'recipient.txt', 'secrets.age']);
    for (const f of readdirSync(p.dir)) assert.equal(statSync(join(p.dir, f)).mode & 0o777, 0o600, f);
  });

  test('a store file readable by others is refused until it is private again', async () => {
    const h = home();
    await SecretStore.init(h, PASS, FAST);
    const p = storePaths(h);
    chmodSync(p.identity, 0o644);
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /accessible to other users/);
    chmodSync(p.identity, 0o600);
    chmodSync(p.dir, 0o755);
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /accessible to other users/);
    chmodSync(p.dir, 0o700);
    await SecretStore.unlock(h, PASS);
  });

  test('a change while another live process holds the lock is refused; a dead owner\'s lock is taken over', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    const p = storePaths(h);
    writeFileSync(p.lock, `${process.ppid}\n`);
    await rejectsWith(store.set('A', 'aaaa'), 'ARMORER_E_SECRETS_STORE', /another Armorer process/);
    writeFileSync(p.lock, '2147483646\n');
    await store.set('A', 'aaaa');
    assert.equal(existsSync(p.lock), false);
  });

  test('two store handles do not lose each other\'s changes', async () => {
    const h = home();
    const a = await SecretStore.init(h, PASS, FAST);
    const b = await SecretStore.unlock(h, PASS);
    await a.set('FROM_A', 'aaaa');
    await b.set('FROM_B', 'bbbb');
    assert.deepEqual(await (await SecretStore.unlock(h, PASS)).names(), ['FROM_A', 'FROM_B']);
  });
});

describe('rotate-key', () => {
  test('gives a new recipient, keeps every secret, and the old key no longer opens the store', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    await store.set('A', 'value-a');
    const oldIdentity = readFileSync(storePaths(h).identity);
    const r = await rotateKey(h, PASS, FAST);
    assert.equal(r.previous, store.recipient);
    assert.notEqual(r.recipient, store.recipient);
    assert.equal(readRecipient(storePaths(h)), r.recipient);
    const reopened = await SecretStore.unlock(h, PASS);
    assert.equal(reopened.recipient, r.recipient);
    assert.equal(await reopened.get('A'), 'value-a');
    // The old identity file (as a backup would hold it) opens, but its key cannot read secrets.age.
    writeFileSync(storePaths(h).identity, oldIdentity);
    await rejectsWith(SecretStore.unlock(h, PASS), 'ARMORER_E_SECRETS_STORE', /not encrypted to this store's identity/);
  });

  test('a crash after any step leaves a store that opens with the passphrase', async () => {
    for (const step of [1, 2, 3] as const) {
      const h = home();
      const store = await SecretStore.init(h, PASS, FAST);
      await store.set('A', 'value-a');
      await assert.rejects(rotateKey(h, PASS, { ...FAST, afterStep: (s) => { if (s === step) throw new Error(`crash after ${s}`); } }), /crash/);
      const reopened = await SecretStore.unlock(h, PASS);
      assert.equal(await reopened.get('A'), 'value-a', `after step ${step}`);
      assert.equal(reopened.recipient === store.recipient, step === 1, `identity is ${step === 1 ? 'old' : 'new'} after step ${step}`);
      // A later change repairs recipient.txt, which the crash left behind.
      await reopened.set('B', 'value-b');
      assert.equal(readRecipient(storePaths(h)), reopened.recipient);
    }
  });
});

describe('openSecretSource and injectedEnv', () => {
  test('without a store, the source is empty (a bound secret then fails as "not set")', async () => {
    const source = await openSecretSource(home(), { env: {} });
    assert.ok(source instanceof EmptySecretSource);
    assert.deepEqual(await source.names(), []);
    await rejectsWith(injectedEnv(source, ['OPENAI_API_KEY']), 'ARMORER_E_SECRET', /not set/);
  });

  test('with a store, it unlocks once per process and answers from the store', async () => {
    const h = home();
    await (await SecretStore.init(h, PASS, FAST)).set('KEY', 'the-value');
    const first = await openSecretSource(h, { env: { ARMORER_PASSPHRASE: PASS } });
    assert.equal(await first.get('KEY'), 'the-value');
    // No passphrase source at all the second time: the unlocked store is reused, not reopened.
    const second = await openSecretSource(h, { env: {}, prompt: () => undefined });
    assert.equal(second, first);
  });

  test('a wrong passphrase is an error, not an empty source, and is not remembered', async () => {
    const h = home();
    await SecretStore.init(h, PASS, FAST);
    await rejectsWith(openSecretSource(h, { env: { ARMORER_PASSPHRASE: 'wrong-passphrase' } }), 'ARMORER_E_PASSPHRASE');
    assert.ok(await openSecretSource(h, { env: { ARMORER_PASSPHRASE: PASS } }));
  });

  test('only secrets marked inject: env come out as environment', async () => {
    const h = home();
    const store = await SecretStore.init(h, PASS, FAST);
    await store.set('BROKERED', 'stays-on-host');
    await store.set('IN_ENV', 'goes-inside', { inject: 'env' });
    assert.deepEqual(await injectedEnv(store, ['BROKERED', 'IN_ENV']), { IN_ENV: 'goes-inside' });
    await rejectsWith(injectedEnv(store, ['IN_ENV', 'UNSET']), 'ARMORER_E_SECRET', /UNSET is not set/);
    assert.deepEqual(await injectedEnv(new EnvSecretSource({ ARMORER_SECRET_X: 'x' }), ['X']), {}, 'no metadata, no injection');
  });
});
