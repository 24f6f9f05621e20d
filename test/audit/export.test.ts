import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import {
  checkpointMessage, exportStore, hashEvent, keyIdOf, openAuditStore, verifyExportFile, type ProblemReason, type VerifyReport,
} from '../../src/audit/index.js';
import { backends, tempDir, withStore, type StoreContext } from './helpers.js';

type Line = Record<string, unknown> & { type: string; seq?: number };

async function makeExport(ctx: StoreContext, format: 'jsonl' | 'syslog' = 'jsonl'): Promise<string> {
  const store = await openAuditStore(ctx.home, { url: ctx.url, checkpointEvery: 10 });
  for (let i = 1; i <= 30; i++) {
    await store.append({
      agent: 'notes', kind: i % 4 ? 'egress.connection' : 'egress.denied', decision: i % 4 ? 'allow' : 'deny',
      rule: i % 4 ? 'net.outbound:api.example.com' : 'egress.unlisted', reason: `event ${i}`, data: { i, host: 'api.example.com' },
    });
  }
  await store.close();
  let text = '';
  const counts = await exportStore(ctx.home, format, { write: (s: string) => { text += s; return true; }, once: () => undefined }, { url: ctx.url });
  assert.deepEqual(counts, { events: 30, checkpoints: 3 });
  return text;
}

function writeLines(lines: Array<Line | string>): string {
  const file = join(tempDir('export'), 'audit.jsonl');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

const parse = (text: string): Line[] => text.trim().split('\n').map((l) => JSON.parse(l) as Line);
const eventIndex = (lines: Line[], seq: number) => lines.findIndex((l) => l.type === 'event' && l.seq === seq);

function assertProblem(r: VerifyReport, seq: number, reason: ProblemReason, detail?: RegExp): void {
  assert.equal(r.ok, false, 'verification must fail');
  assert.deepEqual({ seq: r.problem?.seq, reason: r.problem?.reason }, { seq, reason }, r.problem?.detail);
  if (detail) assert.match(r.problem!.detail, detail);
}

for (const backend of backends()) {
  test(`a JSONL export of the ${backend.name} store verifies on its own and against the home's key`, () =>
    withStore(backend, async (ctx) => {
      const lines = parse(await makeExport(ctx));
      assert.equal(lines[0]!.type, 'armorer.audit.export');
      assert.match(JSON.stringify(lines[0]), /BEGIN PUBLIC KEY/);
      assert.deepEqual(lines.filter((l) => l.type === 'checkpoint').map((l) => l.seq), [10, 20, 30]);
      assert.equal(lines[eventIndex(lines, 10) + 1]!.type, 'checkpoint', 'each checkpoint follows the event it covers');
      const file = writeLines(lines);
      const own = await verifyExportFile(file, { home: ctx.home });
      assert.equal(own.ok, true, own.problem?.detail);
      assert.deepEqual([own.events, own.checkpoints, own.warnings], [30, 3, []]);
      const alone = await verifyExportFile(file);
      assert.equal(alone.ok, true);
      assert.match(alone.warnings.join(), /public key in the export itself/);
      const pinned = await verifyExportFile(file, { publicKeys: [join(ctx.home, 'keys/audit-ed25519.pub')] });
      assert.deepEqual([pinned.ok, pinned.warnings], [true, []]);
    }));
}

describe('tampering with a JSONL export is detected', () => {
  const sqlite = backends()[0]!;
  const withExport = (fn: (lines: Line[], ctx: StoreContext) => Promise<void>) =>
    withStore(sqlite, async (ctx) => fn(parse(await makeExport(ctx)), ctx));
  const verify = (lines: Array<Line | string>, ctx: StoreContext, checkpoints?: unknown[]) =>
    verifyExportFile(writeLines(lines), { home: ctx.home, ...(checkpoints && { checkpoints }) });

  test('an edited field', () => withExport(async (lines, ctx) => {
    lines[eventIndex(lines, 7)]!['reason'] = 'nothing to see';
    assertProblem(await verify(lines, ctx), 7, 'edited');
  }));

  test('a deleted line', () => withExport(async (lines, ctx) => {
    lines.splice(eventIndex(lines, 15), 1);
    assertProblem(await verify(lines, ctx), 15, 'gap', /seq 15 is missing/);
  }));

  test('a duplicated line', () => withExport(async (lines, ctx) => {
    const i = eventIndex(lines, 5);
    lines.splice(i + 1, 0, lines[i]!);
    assertProblem(await verify(lines, ctx), 5, 'duplicate', /seq 5 appears twice/);
  }));

  test('two lines swapped', () => withExport(async (lines, ctx) => {
    const i = eventIndex(lines, 8);
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    assertProblem(await verify(lines, ctx), 8, 'reordered', /seq 8 is out of order/);
  }));

  test('the tail cut below a checkpoint', () => withExport(async (lines, ctx) => {
    const kept = lines.filter((l) => l.type !== 'event' || l.seq! <= 25);
    assertProblem(await verify(kept, ctx), 26, 'truncated', /events 26\.\.30/);
  }));

  test('the tail cut with its checkpoint: caught only with a checkpoint kept elsewhere', () => withExport(async (lines, ctx) => {
    const held = lines.filter((l) => l.type === 'checkpoint').pop()!;
    const kept = lines.filter((l) => (l.seq ?? 0) <= 25);
    const alone = await verify(kept, ctx);
    assert.equal(alone.ok, true);
    assert.equal(alone.unsigned, 5);
    assertProblem(await verify(kept, ctx, [held]), 26, 'truncated');
  }));

  test('a corrupt line', () => withExport(async (lines, ctx) => {
    const text: Array<Line | string> = [...lines];
    text[eventIndex(lines, 12)] = JSON.stringify(lines[eventIndex(lines, 12)]).slice(0, 40);
    assertProblem(await verify(text, ctx), 12, 'malformed', /is not valid JSON \(after seq 11\)/);
  }));

  test('a missing header', () => withExport(async (lines, ctx) => {
    assertProblem(await verify(lines.slice(1), ctx), 1, 'malformed', /not an Armorer audit export header/);
  }));

  test('the chain recomputed after an edit, without the key', () => withExport(async (lines, ctx) => {
    recompute(lines, 12);
    assertProblem(await verify(lines, ctx), 20, 'checkpoint-mismatch');
  }));

  test('the chain recomputed, re-signed and the header key replaced: only a trusted key catches it', () => withExport(async (lines, ctx) => {
    recompute(lines, 12);
    const forged = generateKeyPairSync('ed25519');
    const keyId = keyIdOf(forged.publicKey);
    lines[0]!['keys'] = [{ key_id: keyId, public_key: forged.publicKey.export({ format: 'pem', type: 'spki' }) }];
    for (const l of lines.filter((x) => x.type === 'checkpoint')) {
      const c = { seq: l.seq!, hash: (lines[eventIndex(lines, l.seq!)]!['hash'] as string), time: l['time'] as string, key_id: keyId };
      Object.assign(l, c, { signature: sign(null, checkpointMessage(c), forged.privateKey).toString('base64') });
    }
    const file = writeLines(lines);
    const selfAsserted = await verifyExportFile(file);
    assert.equal(selfAsserted.ok, true, 'consistent with itself: the documented limit of a key taken from the file');
    assert.match(selfAsserted.warnings.join(), /pass --public-key/);
    assertProblem(await verifyExportFile(file, { publicKeys: [join(ctx.home, 'keys/audit-ed25519.pub')] }), 10, 'untrusted-key');
    assertProblem(await verifyExportFile(file, { home: ctx.home }), 10, 'untrusted-key');
  }));

  test('data keys in another order are the same event (the hash is over the canonical form)', () => withExport(async (lines, ctx) => {
    const l = lines[eventIndex(lines, 3)]!;
    l['data'] = Object.fromEntries(Object.entries(l['data'] as object).reverse());
    const r = await verify(lines, ctx);
    assert.equal(r.ok, true, r.problem?.detail);
  }));
});

/** Rewrites events from `from` on with recomputed hashes (the edit: a new reason). */
function recompute(lines: Line[], from: number): void {
  let prev = lines[eventIndex(lines, from - 1)]!['hash'] as string;
  for (const l of lines.filter((x) => x.type === 'event' && x.seq! >= from)) {
    if (l.seq === from) l['reason'] = 'rewritten';
    const stored = { ...(l as never as Parameters<typeof hashEvent>[0]), data: canonicalJson(l['data']), prev_hash: prev };
    l['prev_hash'] = prev;
    l['hash'] = prev = hashEvent(stored);
  }
}

test('a syslog export is RFC 5424: facility log audit, severity by decision, escaped structured data', () =>
  withStore(backends()[0]!, async (ctx) => {
    const store = await openAuditStore(ctx.home, { url: ctx.url });
    await store.append({ agent: 'notes', kind: 'egress.denied', decision: 'deny', rule: 'a "quoted" ]rule\\', reason: 'why', data: { host: 'x' } });
    await store.append({ agent: 'notes', kind: 'agent.run.start' });
    await store.close();
    let text = '';
    await exportStore(ctx.home, 'syslog', { write: (s: string) => { text += s; return true; }, once: () => undefined }, { url: ctx.url });
    const [deny, plain, checkpoint] = text.trim().split('\n');
    assert.match(deny!, /^<108>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ armorer - egress\.denied \[armorer@32473 seq="1" agent="notes" actor="armorer" decision="deny" rule="a \\"quoted\\" \\]rule\\\\" hash="[0-9a-f]{64}"\] \{"reason":"why","data":\{"host":"x"\}\}$/);
    assert.match(plain!, /^<110>1 .* agent\.run\.start \[armorer@32473 seq="2" agent="notes" actor="armorer" hash="[0-9a-f]{64}"\] /);
    assert.match(checkpoint!, /^<110>1 .* audit\.checkpoint \[armorer@32473 seq="2" hash="[0-9a-f]{64}" key_id="[0-9a-f]{16}" signature="[A-Za-z0-9+/=]+"\] -$/);
    assert.equal(readFileSync(join(ctx.home, 'keys/audit-ed25519.pub'), 'utf8').startsWith('-----BEGIN PUBLIC KEY-----'), true);
  }));
