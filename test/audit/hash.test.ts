import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { openAuditStore, preimage, verifyStore, type StoredEvent } from '../../src/audit/index.js';
import { PARALLEL_MIN_EVENTS } from '../../src/audit/verify-parallel.js';
import { tempDir } from './helpers.js';

const awkward = ['', 'plain', 'quote " backslash \\ slash /', 'controls \u0000\u0001\u001f\u007f\b\f\n\r\t', 'é€😀\u2028\u2029\ufeff', '\ud83d\ude00 pair'];

test('the fast preimage is byte for byte the RFC 8785 form of the event', () => {
  for (const s of awkward) {
    for (const nulls of [false, true]) {
      const e: StoredEvent = {
        seq: 123456789, time: '2025-01-02T03:04:05.678Z', actor: s || 'a', agent: `agent ${s}`, kind: `k${s}`,
        decision: nulls ? null : 'deny', rule: nulls ? null : s, reason: nulls ? null : `${s}!`,
        data: canonicalJson({ z: s, a: [1, 2.5, -0, 1e21], n: { y: null, x: true } }), prev_hash: 'a'.repeat(64), hash: '',
      };
      const { hash: _hash, ...fields } = e;
      assert.equal(preimage(e), canonicalJson({ ...fields, data: JSON.parse(e.data) }), JSON.stringify(s));
    }
  }
});

test("SQLite's json_quote escapes every code point exactly as JSON.stringify (the parallel verifier relies on it)", () => {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(':memory:');
  const quote = db.prepare('SELECT json_quote(?)').pluck();
  const differ: string[] = [];
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue; // lone surrogates are refused before they are stored
    const s = `a${String.fromCodePoint(c)}b`;
    if (quote.get(s) !== JSON.stringify(s)) differ.push(c.toString(16));
  }
  for (const s of awkward) if (quote.get(s) !== JSON.stringify(s)) differ.push(JSON.stringify(s));
  db.close();
  assert.deepEqual(differ, []);
});

test(`a log of ${PARALLEL_MIN_EVENTS} events or more is verified in parallel by default, with the same result`, async () => {
  const home = tempDir('parallel');
  const store = await openAuditStore(home, { url: 'sqlite', checkpointEvery: 1000 });
  const n = PARALLEL_MIN_EVENTS + 123;
  for (let i = 0; i < n; i += 5000) {
    await Promise.all(Array.from({ length: Math.min(5000, n - i) }, (_, k) => store.append({ agent: 'a', kind: 'k', reason: awkward[k % awkward.length]!, data: { i: i + k } })));
  }
  await store.close();
  const fast = await verifyStore(home, { url: 'sqlite' });
  const reference = await verifyStore(home, { url: 'sqlite', workers: 0 });
  assert.equal(fast.method, 'parallel');
  assert.equal(reference.method, 'sequential');
  assert.deepEqual({ ...fast, method: '' }, { ...reference, method: '' });
  assert.deepEqual([fast.ok, fast.events, fast.checkpoints, fast.unsigned], [true, n, Math.floor(n / 1000) + 1, 0]);
});
