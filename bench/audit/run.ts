// The audit log's write and verify rates, each next to its peer measured in the same run:
//   appends through the store (canonical JSON, SHA-256 chain, group commit, durable acks) vs plain
//   better-sqlite3 inserts of the same rows in the same batches with the same pragmas, no hashing;
//   and verification (every hash, link and checkpoint signature recomputed) in events/s.
// With ARMORER_BENCH_PG_URL (e.g. from scripts/pg-test.sh), the same for PostgreSQL vs plain pg.
// Reports goals; never fails the build.
//   node --import tsx bench/audit/run.ts [--events N] [--window N] [--sequential N] [--rounds N] [--verify-events N]
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type * as PgTypes from 'pg';
import { exportStore, openAuditStore, verifyExportFile, verifyStore } from '../../src/audit/index.js';
import { isoNow } from '../../src/audit/hash.js';
import { goalLine, machineLine, parseFlags, stats, table } from '../lib/measure.js';

const load = createRequire(import.meta.url);
const Database = load('better-sqlite3') as typeof BetterSqlite3;
const GOAL_RATIO = 0.5;
const GOAL_VERIFY = 500_000;

const { events, window, sequential, rounds, 'verify-events': verifyEvents } = parseFlags(process.argv.slice(2), {
  events: { default: 50_000, min: 1000, max: 1_000_000 },
  window: { default: 1000, min: 1, max: 10_000 },
  sequential: { default: 500, min: 0, max: 10_000 },
  rounds: { default: 3, min: 1, max: 10 },
  'verify-events': { default: 500_000, min: 1000, max: 5_000_000 },
});
const PG_URL = process.env['ARMORER_BENCH_PG_URL'];
const dirs: string[] = [];
const tempHome = () => { const d = mkdtempSync(join(tmpdir(), 'armorer-bench-audit-')); dirs.push(d); return d; };

/** The rows both contenders write: what an egress event looks like in the log. */
function input(i: number) {
  return {
    actor: 'armorer', agent: `agent-${i % 4}`, kind: i % 10 ? 'egress.connection' : 'egress.denied', decision: i % 10 ? 'allow' as const : 'deny' as const,
    rule: i % 10 ? 'net.outbound:api.example.com' : 'egress.unlisted', reason: i % 10 ? 'granted: "post my summaries to Slack"' : 'evil.test is not in the policy',
    data: { host: 'api.example.com', port: 443, address: '93.184.216.34', method: 'CONNECT', bytesUp: 812 + i, bytesDown: 5123, durationMs: 120 },
  };
}

/** Appends N events in windows of W in flight, each window awaited: W appends per group commit. */
async function storeRun(url: string, n: number, w: number): Promise<number> {
  const store = await openAuditStore(tempHome(), { url });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += w) {
    await Promise.all(Array.from({ length: Math.min(w, n - i) }, (_, k) => store.append(input(i + k))));
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await store.close();
  return n / s;
}

const SCHEMA = `CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, agent TEXT NOT NULL,
  kind TEXT NOT NULL, decision TEXT, rule TEXT, reason TEXT, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`;
const FILLER = 'f'.repeat(64); // the hash columns, same size, not computed

/**
 * The peer: the same rows, the same table and pragmas (WAL, synchronous=FULL), one transaction per
 * W rows; the time from the same cached clock as the store; data by JSON.stringify; no hashing.
 */
function plainSqliteRun(n: number, w: number): number {
  const db = new Database(join(tempHome(), 'plain.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?,?,?)');
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const e = input(i);
      insert.run(i + 1, isoNow(), e.actor, e.agent, e.kind, e.decision, e.rule, e.reason, JSON.stringify(e.data), FILLER, FILLER);
    }
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += w) tx.immediate(i, Math.min(n, i + w));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  return n / s;
}

async function plainPgRun(url: string, n: number, w: number): Promise<number> {
  const pg = load('pg') as typeof PgTypes;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(SCHEMA.replace('seq INTEGER', 'seq BIGINT'));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += w) {
    const cols = Array.from({ length: 11 }, () => [] as unknown[]);
    for (let k = i; k < Math.min(n, i + w); k++) {
      const e = input(k);
      [k + 1, isoNow(), e.actor, e.agent, e.kind, e.decision, e.rule, e.reason, JSON.stringify(e.data), FILLER, FILLER]
        .forEach((v, j) => cols[j]!.push(v));
    }
    await c.query('BEGIN; SET LOCAL synchronous_commit TO on');
    await c.query(`INSERT INTO audit_events SELECT * FROM unnest($1::bigint[], ${Array.from({ length: 10 }, (_, j) => `$${j + 2}::text[]`).join(', ')})`, cols);
    await c.query('COMMIT');
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.end();
  return n / s;
}

/** A fresh PostgreSQL database per measurement, dropped afterwards. */
async function withPgDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const pg = load('pg') as typeof PgTypes;
  const name = `armorer_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(PG_URL!);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

interface Pair { name: string; store: number[]; plain: number[]; n: number; w: number }

async function appendRates(): Promise<Pair[]> {
  const pairs: Pair[] = [{ name: `sqlite, ${window} in flight`, store: [], plain: [], n: events, w: window }];
  if (sequential > 0) pairs.push({ name: 'sqlite, 1 at a time', store: [], plain: [], n: sequential, w: 1 });
  if (PG_URL) {
    pairs.push({ name: `postgres, ${window} in flight`, store: [], plain: [], n: Math.min(events, 20_000), w: window });
    if (sequential > 0) pairs.push({ name: 'postgres, 1 at a time', store: [], plain: [], n: sequential, w: 1 });
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      // Alternate which goes first, so neither always runs on a warmer disk cache.
      const runs = [
        async () => p.store.push(p.name.startsWith('postgres') ? await withPgDatabase((u) => storeRun(u, p.n, p.w)) : await storeRun('sqlite', p.n, p.w)),
        async () => p.plain.push(p.name.startsWith('postgres') ? await withPgDatabase((u) => plainPgRun(u, p.n, p.w)) : plainSqliteRun(p.n, p.w)),
      ];
      if (r % 2) runs.reverse();
      for (const run of runs) await run();
    }
  }
  return pairs;
}

async function verifyRates(): Promise<Array<{ name: string; rates: number[] }>> {
  const home = tempHome();
  const store = await openAuditStore(home, { url: 'sqlite' });
  for (let i = 0; i < verifyEvents; i += 10_000) {
    await Promise.all(Array.from({ length: Math.min(10_000, verifyEvents - i) }, (_, k) => store.append(input(i + k))));
  }
  await store.close();
  const file = join(home, 'export.jsonl');
  const out = createWriteStream(file);
  await exportStore(home, 'jsonl', out, { url: 'sqlite' });
  await new Promise((resolve) => out.end(resolve));
  const rows = [
    { name: 'logs verify (SQLite, parallel)', run: () => verifyStore(home, { url: 'sqlite' }) },
    { name: 'reference verifier, 1 thread', run: () => verifyStore(home, { url: 'sqlite', workers: 0 }) },
    { name: 'logs verify --file (JSONL)', run: () => verifyExportFile(file, { home }) },
  ].map((r) => ({ ...r, rates: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (const r of rows) {
      const t0 = process.hrtime.bigint();
      const report = await r.run();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (!report.ok || report.events !== verifyEvents) throw new Error(`${r.name}: verification failed: ${report.problem?.detail}`);
      r.rates.push(verifyEvents / s);
    }
  }
  return rows;
}

const k = (x: number) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')}` : 'n/a');
try {
  const pairs = await appendRates();
  const verify = await verifyRates();
  console.log('armorer audit benchmark: appends/s (median of rounds; each append acknowledged = committed durably)');
  console.log(machineLine());
  console.log(`rounds: ${rounds}; ${events} events per sqlite run (${window} appends in flight = rows per transaction), ` +
    `${sequential} one at a time${PG_URL ? '; postgres: a fresh database per run on the URL given' : '; postgres: not measured (set ARMORER_BENCH_PG_URL)'}`);
  console.log('peer: the same rows, table and pragmas (WAL, synchronous=FULL), one transaction per window, no canonical JSON, no hashing, no signatures');
  console.log('');
  console.log(table(['', 'store', 'plain', 'store / plain', 'store min', 'plain min'], pairs.map((p) => {
    const s = stats(p.store);
    const b = stats(p.plain);
    return [p.name, k(s.median), k(b.median), `${(s.median / b.median).toFixed(2)}x`, k(s.min), k(b.min)];
  })));
  console.log('');
  console.log(`verification of a ${verifyEvents.toLocaleString('en-US')}-event log (events/s, median of ${rounds})`);
  console.log(table(['', 'events/s', 'min', 'max'], verify.map((v) => {
    const s = stats(v.rates);
    return [v.name, k(s.median), k(s.min), k(s.max)];
  })));
  console.log('');
  const main = pairs[0]!;
  const ratio = stats(main.store).median / stats(main.plain).median;
  console.log(goalLine(ratio >= GOAL_RATIO, `appends with chaining and group commit >= ${GOAL_RATIO}x plain inserts (${main.name}: ${ratio.toFixed(2)}x)`));
  const v = stats(verify[0]!.rates).median;
  console.log(goalLine(v >= GOAL_VERIFY, `logs verify >= ${k(GOAL_VERIFY)} events/s (${k(v)})`));
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
