import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { ZERO_HASH } from './hash.js';
import { checkSignature, type TrustedKey } from './keys.js';
import { EVENTS_TABLE } from './sqlite-schema.js';
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

// Plain JavaScript run by each worker (eval: no loader, no bundler involved). Any error (a BLOB
// where text belongs makes json_quote throw) is an answer of "not ok", never a crash.
const WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { hash } = require('node:crypto');
let result = { ok: false, n: 0, firstPrev: null, lastHash: null };
try {
  const Database = require(w.module);
  const db = new Database(w.file, { readonly: true, fileMustExist: true });
  const sql = "SELECT seq, prev_hash, hash, typeof(data) = 'text', '{\\"actor\\":' || json_quote(actor) || ',\\"agent\\":' || json_quote(agent) ||" +
    " ',\\"data\\":' || data || ',\\"decision\\":' || json_quote(decision) || ',\\"kind\\":' || json_quote(kind) ||" +
    " ',\\"prev_hash\\":' || json_quote(prev_hash) || ',\\"reason\\":' || json_quote(reason) || ',\\"rule\\":' || json_quote(rule) ||" +
    " ',\\"seq\\":' || seq || ',\\"time\\":' || json_quote(time) || '}' FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq";
  let n = 0, ok = true, first = null, prev = null, expected = w.from;
  for (const r of db.prepare(sql).raw(true).iterate(w.from, w.to)) {
    if (r[0] !== expected || r[3] !== 1 || typeof r[4] !== 'string' || hash('sha256', r[4], 'hex') !== r[2] || (prev !== null && r[1] !== prev)) { ok = false; break; }
    if (first === null) first = r[1];
    prev = r[2]; expected++; n++;
  }
  db.close();
  result = { ok: ok && n === w.to - w.from + 1, n, firstPrev: first, lastHash: prev };
} catch (e) {
  result.error = String(e && e.message);
}
parentPort.postMessage(result);
`;

interface RangeResult { ok: boolean; n: number; firstPrev: string | null; lastHash: string | null }

/** Below this many events one thread is about as fast as starting workers. */
export const PARALLEL_MIN_EVENTS = 20_000;

export async function verifySqliteParallel(
  db: BetterSqlite3.Database, file: string, rawCheckpoints: unknown[], keys: TrustedKey[], workers: number, minEvents: number,
): Promise<VerifyReport | null> {
  // The table as Armorer made it: seq is the rowid, so the rows are exactly one per integer
  // between min and max, and ranges can be read without counting the table first.
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").pluck().get();
  if (sql !== EVENTS_TABLE) return null;
  const [min, max] = db.prepare('SELECT min(seq), max(seq) FROM audit_events').raw(true).get() as [number | null, number | null];
  if (min !== 1 || max === null || max < minEvents) return null;
  const n = Math.max(1, Math.min(workers, availableParallelism(), 16));
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const ranges = Array.from({ length: n }, (_, i) => ({ from: Math.floor((i * max) / n) + 1, to: Math.floor(((i + 1) * max) / n) }))
    .filter((r) => r.to >= r.from);
  const running = Promise.all(ranges.map((r) => runWorker({ module, file, ...r })));
  // While the workers hash: every checkpoint signed by a trusted key, naming the hash at its seq.
  const trusted = new Map(keys.map((k) => [k.id, k]));
  const hashAt = db.prepare('SELECT hash FROM audit_events WHERE seq = ?').pluck();
  const report = emptyReport(keys);
  const sorted = [...rawCheckpoints].sort((a, b) => (a as Checkpoint).seq - (b as Checkpoint).seq) as Checkpoint[];
  let checkpointsOk = true;
  for (const c of sorted) {
    if (malformedCheckpoint(c) || c.seq > max || checkSignature(c, trusted) !== 'ok' || hashAt.get(c.seq) !== c.hash) {
      checkpointsOk = false;
      break;
    }
    report.checkpoints++;
    report.lastCheckpoint = { seq: c.seq, time: c.time, key_id: c.key_id };
  }
  const results = await running;
  if (!checkpointsOk) return null;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (!r.ok || r.firstPrev !== (i === 0 ? ZERO_HASH : results[i - 1]!.lastHash)) return null;
  }
  report.events = max;
  report.firstSeq = 1;
  report.lastSeq = max;
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
