import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { ZERO_HASH } from './hash.js';
import { checkSignature, type TrustedKey } from './keys.js';
import { emptyReport, finish, malformedCheckpoint } from './verify.js';
import type { Checkpoint, VerifyReport } from './types.js';

/**
 * The fast path of `verifyStore` on SQLite: worker threads each recompute the hashes of one seq
 * range, with SQLite building each event's canonical JSON (json_quote escapes every code point
 * exactly as JSON.stringify does; a test holds it to that). It only answers "all good"; anything
 * else - a bad hash, link, gap, type, count or checkpoint - returns null and the caller runs the
 * reference verifier, which finds and explains the first problem. So this path can speed up a
 * clean verification but never decide that a log is bad, nor miss what the reference would find.
 */

// Plain JavaScript run by each worker (eval: no loader, no bundler involved).
const WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { hash } = require('node:crypto');
const Database = require(w.module);
const db = new Database(w.file, { readonly: true, fileMustExist: true });
const sql = "SELECT seq, prev_hash, hash, typeof(seq) = 'integer' AND typeof(time) = 'text' AND typeof(actor) = 'text' AND typeof(agent) = 'text'" +
  " AND typeof(kind) = 'text' AND typeof(data) = 'text' AND typeof(prev_hash) = 'text' AND typeof(hash) = 'text'" +
  " AND typeof(decision) IN ('text', 'null') AND typeof(rule) IN ('text', 'null') AND typeof(reason) IN ('text', 'null')," +
  " '{\\"actor\\":' || json_quote(actor) || ',\\"agent\\":' || json_quote(agent) || ',\\"data\\":' || data ||" +
  " ',\\"decision\\":' || json_quote(decision) || ',\\"kind\\":' || json_quote(kind) || ',\\"prev_hash\\":' || json_quote(prev_hash) ||" +
  " ',\\"reason\\":' || json_quote(reason) || ',\\"rule\\":' || json_quote(rule) || ',\\"seq\\":' || seq || ',\\"time\\":' || json_quote(time) || '}'" +
  " FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq";
let n = 0, ok = true, first = null, prev = null, expected = w.from;
for (const r of db.prepare(sql).raw(true).iterate(w.from, w.to)) {
  if (r[0] !== expected || r[3] !== 1 || typeof r[4] !== 'string' || hash('sha256', r[4], 'hex') !== r[2] || (prev !== null && r[1] !== prev)) { ok = false; break; }
  if (first === null) first = r[1];
  prev = r[2]; expected++; n++;
}
db.close();
parentPort.postMessage({ ok: ok && n === w.to - w.from + 1, n, firstPrev: first, lastHash: prev });
`;

interface RangeResult { ok: boolean; n: number; firstPrev: string | null; lastHash: string | null }

/** Below this many events one thread is about as fast as starting workers. */
export const PARALLEL_MIN_EVENTS = 20_000;

export async function verifySqliteParallel(
  db: BetterSqlite3.Database, file: string, rawCheckpoints: unknown[], keys: TrustedKey[], workers: number, minEvents: number,
): Promise<VerifyReport | null> {
  const [count, max] = db.prepare('SELECT count(*), max(seq) FROM audit_events').raw(true).get() as [number, number | null];
  if (count === 0 || count < minEvents || max !== count) return null;
  const n = Math.max(1, Math.min(workers, availableParallelism(), 16));
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const ranges = Array.from({ length: n }, (_, i) => ({ from: Math.floor((i * count) / n) + 1, to: Math.floor(((i + 1) * count) / n) }))
    .filter((r) => r.to >= r.from);
  const results = await Promise.all(ranges.map((r) => runWorker({ module, file, ...r })));
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (!r.ok) return null;
    const prevHash = i === 0 ? ZERO_HASH : results[i - 1]!.lastHash;
    if (r.firstPrev !== prevHash) return null;
  }
  // Checkpoints: every one signed by a trusted key, and naming the hash its seq has.
  const trusted = new Map(keys.map((k) => [k.id, k]));
  const hashAt = db.prepare('SELECT hash FROM audit_events WHERE seq = ?').pluck();
  const report = emptyReport(keys);
  const sorted = [...rawCheckpoints].sort((a, b) => (a as Checkpoint).seq - (b as Checkpoint).seq) as Checkpoint[];
  for (const c of sorted) {
    if (malformedCheckpoint(c) || c.seq > count) return null;
    if (checkSignature(c, trusted) !== 'ok' || hashAt.get(c.seq) !== c.hash) return null;
    report.checkpoints++;
    report.lastCheckpoint = { seq: c.seq, time: c.time, key_id: c.key_id };
  }
  report.events = count;
  report.firstSeq = 1;
  report.lastSeq = count;
  report.headHash = results[results.length - 1]!.lastHash;
  report.method = 'parallel';
  return finish(report, sorted.length);
}

function runWorker(data: { module: string; file: string; from: number; to: number }): Promise<RangeResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: data });
    w.once('message', (m: RangeResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`verify worker exited with ${code}`)); });
  });
}
