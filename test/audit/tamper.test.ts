import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import {
  checkpointMessage, hashEvent, headCheckpoint, keyIdOf, openAuditStore, verifyStore, type AuditEvent, type Checkpoint, type ProblemReason,
  type VerifyReport,
} from '../../src/audit/index.js';
import { backends, withStore, type StoreContext } from './helpers.js';

/** 30 events, a checkpoint every 10 (at 10, 20, 30). */
async function makeLog(ctx: StoreContext): Promise<{ events: AuditEvent[]; held: Checkpoint }> {
  const store = await openAuditStore(ctx.home, { url: ctx.url, checkpointEvery: 10 });
  const events = [];
  for (let i = 1; i <= 30; i++) {
    events.push(await store.append({
      agent: i % 3 ? 'notes' : 'mail', kind: i % 4 ? 'egress.connection' : 'egress.denied', decision: i % 4 ? 'allow' : 'deny',
      rule: i % 4 ? 'net.outbound:api.example.com' : 'egress.unlisted', reason: `event ${i}`, data: { i, host: 'api.example.com', bytes: i * 100 },
    }));
  }
  await store.close();
  // What a careful operator keeps elsewhere (armorer logs checkpoint): the signed head.
  const held = await headCheckpoint(ctx.home, { url: ctx.url });
  assert.equal(held?.seq, 30);
  return { events, held: held! };
}

const sqlText = (s: string | null) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);

/** Rewrites events from `from` on with recomputed hashes, as someone without the signing key can. */
async function recomputeFrom(ctx: StoreContext, events: AuditEvent[], from: number, edit: (e: AuditEvent) => AuditEvent): Promise<void> {
  let prev = events[from - 2]?.hash ?? '0'.repeat(64);
  const statements: string[] = [];
  for (const original of events.slice(from - 1)) {
    const e = original.seq === from ? edit(original) : original;
    const stored = { ...e, data: canonicalJson(e.data), prev_hash: prev, hash: '' };
    stored.hash = hashEvent(stored);
    prev = stored.hash;
    statements.push(`UPDATE audit_events SET reason = ${sqlText(stored.reason)}, data = ${sqlText(stored.data)}, ` +
      `prev_hash = '${stored.prev_hash}', hash = '${stored.hash}' WHERE seq = ${e.seq};`);
  }
  await ctx.sql(statements.join('\n'));
}

/** Both verifiers must reach the same verdict: the reference, and the parallel fast path (SQLite). */
async function verifyBoth(ctx: StoreContext, opts: { checkpoints?: unknown[] } = {}): Promise<VerifyReport> {
  const reference = await verifyStore(ctx.home, { url: ctx.url, workers: 0, ...opts });
  const fast = await verifyStore(ctx.home, { url: ctx.url, workers: 2, ...opts });
  assert.deepEqual({ ...fast, method: 'x' }, { ...reference, method: 'x' }, 'the fast path and the reference agree');
  return reference;
}

function assertProblem(r: VerifyReport, seq: number, reason: ProblemReason, detail?: RegExp): void {
  assert.equal(r.ok, false, 'verification must fail');
  assert.deepEqual({ seq: r.problem?.seq, reason: r.problem?.reason }, { seq, reason }, r.problem?.detail);
  if (detail) assert.match(r.problem!.detail, detail);
}

for (const backend of backends()) {
  describe(`tampering with the ${backend.name} store is detected`, () => {
    test('an untouched log verifies, with the fast path on SQLite', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        const r = await verifyBoth(ctx);
        assert.equal(r.ok, true, r.problem?.detail);
        assert.deepEqual([r.events, r.checkpoints, r.unsigned], [30, 3, 0]);
        if (backend.name === 'sqlite') assert.equal((await verifyStore(ctx.home, { url: ctx.url, workers: 2 })).method, 'parallel');
      }));

    test('a field edited with raw SQL', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 7");
        assertProblem(await verifyBoth(ctx), 7, 'edited', /seq 7 does not match its hash/);
      }));

    test('data edited with raw SQL', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql(`UPDATE audit_events SET data = '{"bytes":0,"host":"api.example.com","i":12}' WHERE seq = 12`);
        assertProblem(await verifyBoth(ctx), 12, 'edited');
      }));

    test('a deleted row', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql('DELETE FROM audit_events WHERE seq = 15');
        assertProblem(await verifyBoth(ctx), 15, 'gap', /seq 15 is missing/);
      }));

    test('a duplicated row', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql('INSERT INTO audit_events (seq, time, actor, agent, kind, decision, rule, reason, data, prev_hash, hash) ' +
          'SELECT 31, time, actor, agent, kind, decision, rule, reason, data, prev_hash, hash FROM audit_events WHERE seq = 5');
        assertProblem(await verifyBoth(ctx), 31, 'duplicate', /seq 31 is a copy of seq 5/);
      }));

    test('two rows swapped (reordered seqs)', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql('UPDATE audit_events SET seq = -8 WHERE seq = 8; UPDATE audit_events SET seq = 8 WHERE seq = 9; ' +
          'UPDATE audit_events SET seq = 9 WHERE seq = -8;');
        assertProblem(await verifyBoth(ctx), 8, 'reordered', /stored as seq 8 was written as seq 9/);
      }));

    test('the tail cut below a checkpoint', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql('DELETE FROM audit_events WHERE seq > 25');
        assertProblem(await verifyBoth(ctx), 26, 'truncated', /ends at seq 25, but a checkpoint .* covers seq 30: events 26\.\.30/);
      }));

    test('the tail cut together with its checkpoints: invisible in the log, caught by a checkpoint kept elsewhere', () =>
      withStore(backend, async (ctx) => {
        const { held } = await makeLog(ctx);
        await ctx.sql('DELETE FROM audit_events WHERE seq > 25; DELETE FROM audit_checkpoints WHERE seq > 20');
        const alone = await verifyBoth(ctx);
        assert.equal(alone.ok, true, 'the documented limit: nothing in the log shows the cut');
        assert.equal(alone.unsigned, 5);
        assert.match(alone.warnings.join('\n'), /5 event\(s\) after the last checkpoint \(seq 20\)/);
        assertProblem(await verifyBoth(ctx, { checkpoints: [held] }), 26, 'truncated');
      }));

    test('an event edited and its own hash recomputed', () =>
      withStore(backend, async (ctx) => {
        const { events } = await makeLog(ctx);
        const e = { ...events[13]!, reason: 'rewritten' };
        const hash = hashEvent({ ...e, data: canonicalJson(e.data) });
        await ctx.sql(`UPDATE audit_events SET reason = 'rewritten', hash = '${hash}' WHERE seq = 14`);
        assertProblem(await verifyBoth(ctx), 14, 'edited', /seq 15 still links to its original hash/);
      }));

    test('the whole chain recomputed after an edit, without the key: the checkpoint no longer matches', () =>
      withStore(backend, async (ctx) => {
        const { events } = await makeLog(ctx);
        await recomputeFrom(ctx, events, 12, (e) => ({ ...e, reason: 'rewritten', data: { ...e.data, bytes: 0 } }));
        assertProblem(await verifyBoth(ctx), 20, 'checkpoint-mismatch', /an event in seq 11\.\.20 was changed and the chain recomputed/);
      }));

    test('the chain recomputed and the checkpoints re-signed with another key', () =>
      withStore(backend, async (ctx) => {
        const { events } = await makeLog(ctx);
        await recomputeFrom(ctx, events, 12, (e) => ({ ...e, reason: 'rewritten' }));
        const forged = generateKeyPairSync('ed25519');
        const keyId = keyIdOf(forged.publicKey);
        const rows = await (async () => {
          const r = await openAuditStore(ctx.home, { url: ctx.url, readOnly: true });
          try { return await r.query({}); } finally { await r.close(); }
        })();
        const statements = ['DELETE FROM audit_checkpoints;'];
        for (const seq of [10, 20, 30]) {
          const c = { seq, hash: rows[seq - 1]!.hash, time: new Date().toISOString(), key_id: keyId };
          const sig = sign(null, checkpointMessage(c), forged.privateKey).toString('base64');
          statements.push(`INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (${seq}, '${c.hash}', '${c.time}', '${keyId}', '${sig}');`);
        }
        await ctx.sql(statements.join('\n'));
        assertProblem(await verifyBoth(ctx), 10, 'untrusted-key', new RegExp(`signed by key ${keyId}, which is not trusted`));
      }));

    test('a checkpoint altered after signing', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql("UPDATE audit_checkpoints SET time = '2001-01-01T00:00:00.000Z' WHERE seq = 20");
        assertProblem(await verifyBoth(ctx), 20, 'bad-signature');
      }));

    test('a hash that is not a hash', () =>
      withStore(backend, async (ctx) => {
        await makeLog(ctx);
        await ctx.sql("UPDATE audit_events SET hash = 'not-a-hash' WHERE seq = 3");
        assertProblem(await verifyBoth(ctx), 3, 'malformed', /hash is not 64 hex digits/);
      }));
  });
}

describe('tampering only SQLite allows', () => {
  const sqlite = backends()[0]!;

  test('bytes where text belongs', () =>
    withStore(sqlite, async (ctx) => {
      await makeLog(ctx);
      await ctx.sql("UPDATE audit_events SET actor = X'61726d6f726572' WHERE seq = 4");
      assertProblem(await verifyBoth(ctx), 4, 'malformed', /actor is not text/);
    }));

  test('a row before seq 1', () =>
    withStore(sqlite, async (ctx) => {
      await makeLog(ctx);
      await ctx.sql('INSERT INTO audit_events SELECT 0, time, actor, agent, kind, decision, rule, reason, data, prev_hash, hash FROM audit_events WHERE seq = 1');
      assertProblem(await verifyBoth(ctx), 0, 'malformed', /seq 0 is not a positive integer/);
    }));

  test('the table rebuilt without its primary key, holding one seq twice', () =>
    withStore(sqlite, async (ctx) => {
      await makeLog(ctx);
      await ctx.sql('CREATE TABLE t2 AS SELECT * FROM audit_events; DROP TABLE audit_events; ALTER TABLE t2 RENAME TO audit_events; ' +
        'INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = 5;');
      assertProblem(await verifyBoth(ctx), 5, 'duplicate', /seq 5 appears twice/);
    }));
});
