/**
 * The audit suite runs every test against each store: SQLite always, PostgreSQL when
 * ARMORER_TEST_PG_URL names a server (scripts/pg-test.sh starts one). With
 * ARMORER_TEST_PG_REQUIRED=1 (CI) a missing URL fails the suite instead of skipping PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type BetterSqlite3 from 'better-sqlite3';
import type * as PgTypes from 'pg';
import { tempDirs } from '../lib/temp.js';

const load = createRequire(import.meta.url);
const PG_URL = process.env['ARMORER_TEST_PG_URL'] ?? '';
if (process.env['ARMORER_TEST_PG_REQUIRED'] === '1' && !PG_URL) {
  throw new Error('ARMORER_TEST_PG_REQUIRED=1 but ARMORER_TEST_PG_URL is not set: start one with scripts/pg-test.sh start DIR');
}

export interface StoreContext {
  home: string;
  /** What to pass as `url` (audit.store). */
  url: string;
  /** Raw SQL against the store, as an attacker holding the database would run it. */
  sql(statement: string): Promise<void>;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  fresh(): Promise<StoreContext>;
}

const temps = tempDirs('armorer-audit');
export const tempDir = (label: string) => temps.tempDir(label);
process.on('exit', () => temps.cleanup());

const sqlite: Backend = {
  name: 'sqlite',
  async fresh() {
    const home = temps.tempDir('home');
    return {
      home,
      url: 'sqlite',
      async sql(statement) {
        const Database = load('better-sqlite3') as typeof BetterSqlite3;
        const db = new Database(join(home, 'audit.db'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
      async cleanup() {},
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async fresh() {
    const home = temps.tempDir('home');
    // A database of its own per test: tests never see each other's rows.
    const name = `armorer_t_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    const url = u.toString();
    return {
      home,
      url,
      async sql(statement) {
        const pg = load('pg') as typeof PgTypes;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(statement);
        } finally {
          await c.end();
        }
      },
      async cleanup() {
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  },
};

async function adminQuery(statement: string): Promise<void> {
  const pg = load('pg') as typeof PgTypes;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** The stores this run tests. */
export function backends(): Backend[] {
  return PG_URL ? [sqlite, postgres] : [sqlite];
}

/** Runs `fn` with a fresh store context and always cleans up. */
export async function withStore<T>(b: Backend, fn: (ctx: StoreContext) => Promise<T>): Promise<T> {
  const ctx = await b.fresh();
  try {
    return await fn(ctx);
  } finally {
    await ctx.cleanup();
  }
}

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A fixture script run by Node with tsx, as its own process. */
export function spawnFixture(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], cwd: join(import.meta.dirname, '../..'),
  });
}

/** Resolves when the child prints `line` (or rejects if it exits first). */
export function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.split('\n').includes(line)) { child.stdout!.off('data', onData); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the fixture exited (${code}) before printing "${line}"`)));
  });
}

/** Resolves with the exit code (or signal) and everything printed. Bounded by `timeoutMs`. */
export function finished(child: ChildProcess, timeoutMs = 120_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`fixture did not finish in ${timeoutMs} ms: ${err}`)); }, timeoutMs);
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
  });
}

/** Lines of a child's stdout as they come. */
export function lines(child: ChildProcess): AsyncIterable<string> {
  return createInterface({ input: child.stdout!, crlfDelay: Infinity });
}
