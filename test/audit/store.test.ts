import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { hashEvent, openAuditStore, verifyStore, ZERO_HASH } from '../../src/audit/index.js';
import { backends, tempDir, withStore } from './helpers.js';

for (const backend of backends()) {
  describe(`audit store (${backend.name})`, () => {
    test('round trip: appended events come back whole, chained from 64 zeros, each hash over its canonical JSON', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        const a = await store.append({ actor: 'user', agent: 'notes', kind: 'agent.install', data: { intent: 'read my notes', n: 1.5 } });
        const b = await store.append({ agent: 'notes', kind: 'egress.denied', decision: 'deny', rule: 'egress.unlisted', reason: 'evil.test is not in the policy', data: {} });
        await store.close();
        assert.equal(a.seq, 1);
        assert.equal(a.prev_hash, ZERO_HASH);
        assert.equal(b.prev_hash, a.hash);
        assert.equal(b.actor, 'armorer', 'the default actor');
        const { hash, ...rest } = b;
        assert.equal(hash, hashEvent({ ...b, data: canonicalJson(b.data) }));
        // The spec, spelled out: sha256 over the RFC 8785 form of every field but the hash.
        const { createHash } = await import('node:crypto');
        assert.equal(hash, createHash('sha256').update(canonicalJson(rest)).digest('hex'));

        const reader = await openAuditStore(home, { url, readOnly: true });
        const all = await reader.query({});
        await reader.close();
        assert.deepEqual(all, [a, b]);
      }));

    test('query filters by agent, kind, time and seq, in seq order, with a limit', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        for (let i = 0; i < 6; i++) await store.append({ agent: i % 2 ? 'odd' : 'even', kind: i < 3 ? 'k.low' : 'k.high', data: { i } });
        assert.deepEqual((await store.query({ agent: 'odd' })).map((e) => e.data['i']), [1, 3, 5]);
        assert.deepEqual((await store.query({ kind: 'k.high', agent: 'even' })).map((e) => e.seq), [5]);
        assert.deepEqual((await store.query({ afterSeq: 4 })).map((e) => e.seq), [5, 6]);
        assert.deepEqual((await store.query({ limit: 2 })).map((e) => e.seq), [1, 2]);
        assert.equal((await store.query({ since: new Date(Date.now() + 60_000).toISOString() })).length, 0);
        assert.equal((await store.query({ since: new Date(Date.now() - 60_000).toISOString() })).length, 6);
        await store.close();
      }));

    test('appends made together share one transaction and resolve in order', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        const events = await Promise.all(Array.from({ length: 500 }, (_, i) => store.append({ agent: 'a', kind: 'k', data: { i } })));
        await store.close();
        assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 500 }, (_, i) => i + 1));
        assert.deepEqual(events.map((e) => e.data['i']), Array.from({ length: 500 }, (_, i) => i));
        const r = await verifyStore(home, { url });
        assert.equal(r.ok, true, r.problem?.detail);
        assert.equal(r.events, 500);
      }));

    test('signs a checkpoint every N events and one at close, all verifiable with the public key', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url, checkpointEvery: 10 });
        await Promise.all(Array.from({ length: 25 }, (_, i) => store.append({ agent: 'a', kind: 'k', data: { i } })));
        const explicit = await store.checkpoint();
        assert.equal(explicit?.seq, 25);
        assert.equal(await store.checkpoint(), null, 'nothing new since the last checkpoint');
        await store.append({ agent: 'a', kind: 'k' });
        await store.close();
        const r = await verifyStore(home, { url });
        assert.equal(r.ok, true, r.problem?.detail);
        assert.equal(r.checkpoints, 4, 'seq 10, 20, 25 and the end-of-run one at 26');
        assert.equal(r.lastCheckpoint?.seq, 26);
        assert.equal(r.unsigned, 0);
      }));

    test('keeps its files private and reuses the key it made', () =>
      withStore(backend, async ({ home, url }) => {
        const first = await openAuditStore(home, { url });
        await first.append({ agent: 'a', kind: 'k' });
        await first.close();
        const key = readFileSync(join(home, 'keys/audit-ed25519.key'), 'utf8');
        assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
        assert.equal(statSync(join(home, 'keys/audit-ed25519.key')).mode & 0o777, 0o600);
        assert.equal(statSync(join(home, 'keys')).mode & 0o777, 0o700);
        if (backend.name === 'sqlite') assert.equal(statSync(join(home, 'audit.db')).mode & 0o777, 0o600);
        const second = await openAuditStore(home, { url });
        await second.append({ agent: 'a', kind: 'k' });
        await second.close();
        assert.equal(readFileSync(join(home, 'keys/audit-ed25519.key'), 'utf8'), key, 'never replaced');
        assert.equal((await verifyStore(home, { url })).ok, true);
      }));

    test('refuses a signing key that other users can read, and one that is not Ed25519', () =>
      withStore(backend, async ({ home, url }) => {
        await (await openAuditStore(home, { url })).close();
        const file = join(home, 'keys/audit-ed25519.key');
        chmodSync(file, 0o644);
        await assert.rejects(openAuditStore(home, { url }), { code: 'ARMORER_E_AUDIT_KEY', message: /readable or writable by other users/ });
        const { generateKeyPairSync } = await import('node:crypto');
        writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
        chmodSync(file, 0o600);
        await assert.rejects(openAuditStore(home, { url }), { code: 'ARMORER_E_AUDIT_KEY', message: /not Ed25519/ });
      }));

    test('refuses malformed events with a coded error and writes nothing', () =>
      withStore(backend, async ({ home, url }) => {
        const store = await openAuditStore(home, { url });
        const bad: unknown[] = [
          { agent: '', kind: 'k' },
          { agent: 'a', kind: 'k', decision: 'maybe' },
          { agent: 'a', kind: 'k', data: { when: new Date() } },
          { agent: 'a', kind: 'k', data: { n: Number.NaN } },
          { agent: 'a', kind: 'k', data: [1] },
          { agent: 'a', kind: 'k', reason: 'lone \ud800' },
          { agent: 'a', kind: 'k', data: { big: 'x'.repeat(70_000) } },
        ];
        for (const input of bad) {
          await assert.rejects(store.append(input as never), { code: 'ARMORER_E_AUDIT', message: /refused/ }, JSON.stringify(input)?.slice(0, 60));
        }
        assert.equal((await store.query({})).length, 0);
        await store.close();
        await assert.rejects(store.append({ agent: 'a', kind: 'k' }), /already closed/);
      }));

    test('a reader does not create a log, a key or a checkpoint', () =>
      withStore(backend, async ({ home, url }) => {
        await assert.rejects(openAuditStore(home, { url, readOnly: true }), { code: 'ARMORER_E_AUDIT', message: /no audit log/ });
        await assert.rejects(verifyStore(home, { url }), { code: 'ARMORER_E_AUDIT', message: /no audit log/ });
        assert.throws(() => statSync(join(home, 'keys/audit-ed25519.key')), /ENOENT/);
        const store = await openAuditStore(home, { url });
        await store.append({ agent: 'a', kind: 'k' });
        await store.close();
        const reader = await openAuditStore(home, { url, readOnly: true });
        await assert.rejects(reader.append({ agent: 'a', kind: 'k' }), /read-only/);
        await reader.close();
        assert.equal((await verifyStore(home, { url })).checkpoints, 1, 'only the writer\'s end-of-run checkpoint');
      }));
  });
}

test('audit.store in config.yaml picks the store when the caller passes none', async () => {
  const home = tempDir('config');
  writeFileSync(join(home, 'config.yaml'), 'version: 1\naudit:\n  store: sqlite\n  checkpointEvery: 2\n');
  const store = await openAuditStore(home);
  for (let i = 0; i < 5; i++) await store.append({ agent: 'a', kind: 'k' });
  await store.close();
  const r = await verifyStore(home);
  assert.equal(r.checkpoints, 3, 'seq 2 and 4 from checkpointEvery: 2, and 5 at close');
  writeFileSync(join(home, 'config.yaml'), 'version: 1\naudit:\n  store: mysql://x\n');
  await assert.rejects(openAuditStore(home), { code: 'ARMORER_E_CONFIG', message: /audit.store must be sqlite or a postgres/ });
  writeFileSync(join(home, 'config.yaml'), 'version: 1\naudit:\n  checkpointEvery: 0\n');
  await assert.rejects(openAuditStore(home), { code: 'ARMORER_E_CONFIG', message: /checkpointEvery/ });
  writeFileSync(join(home, 'config.yaml'), 'version: 1\naudit:\n  stor: sqlite\n');
  await assert.rejects(openAuditStore(home), { code: 'ARMORER_E_CONFIG', message: /audit.stor is not a setting/ });
});
