import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { ArmorerError } from '../core/errors.js';
import type { Batch, ChainBackend, Head, RowSource, SourceItem } from './backend.js';
import type { TrustedKey } from './keys.js';
import { verifySqliteParallel } from './verify-parallel.js';
import { ZERO_HASH } from './hash.js';
import { CHECKPOINTS_TABLE, EVENT_COLUMNS, EVENTS_TABLE } from './sqlite-schema.js';
import type { AuditQuery, StoredEvent, VerifyReport } from './types.js';

// better-sqlite3 is loaded by Node from node_modules, not bundled: its native addon is found
// relative to its own package. (A plain `require` here would be bundled by esbuild.)
const load = createRequire(import.meta.url);

/** How long a writer waits for another process's write transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;
const SCHEMA_VERSION = 1;
const SCHEMA = [EVENTS_TABLE, CHECKPOINTS_TABLE].map((t) => `${t.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};`).join('\n');

type Row = [number, string, string, string, string, string | null, string | null, string | null, string, string, string];
const toEvent = (r: Row): StoredEvent => ({
  seq: r[0], time: r[1], actor: r[2], agent: r[3], kind: r[4], decision: r[5], rule: r[6], reason: r[7], data: r[8], prev_hash: r[9], hash: r[10],
});

export function openSqliteBackend(file: string, opts: { readOnly: boolean }): ChainBackend {
  const Database = load('better-sqlite3') as typeof BetterSqlite3;
  if (opts.readOnly) {
    if (!existsSync(file)) throw new ArmorerError('ARMORER_E_AUDIT', `there is no audit log at ${file} yet`, 'events are recorded by "armorer exec" and "armorer run"');
  } else {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Made before SQLite opens it, so it is 0600 from the start (the -wal and -shm files copy its mode).
    closeSync(openSync(file, 'a', 0o600));
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
  let db: BetterSqlite3.Database;
  try {
    // Read-only opens still take part in WAL locking, so readers see committed transactions only.
    db = new Database(file, { readonly: opts.readOnly, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    if (!opts.readOnly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      db.pragma('synchronous = FULL');
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) throw new Error(`it was made by a newer Armorer (schema ${version})`);
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
  } catch (e) {
    throw sqliteError(file, 'open', e);
  }
  return new SqliteBackend(db, file);
}

class SqliteBackend implements ChainBackend {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  private readonly db: BetterSqlite3.Database;
  private readonly file: string;

  constructor(db: BetterSqlite3.Database, file: string) {
    this.db = db;
    this.file = file;
    this.location = `sqlite:${file}`;
  }

  async commit(build: (head: Head) => Batch): Promise<Batch> {
    try {
      return this.write(build);
    } catch (e) {
      if (e instanceof ArmorerError) throw e;
      throw sqliteError(this.file, 'write to', e);
    }
  }

  private writer?: (build: (head: Head) => Batch) => Batch;

  private write(build: (head: Head) => Batch): Batch {
    if (!this.writer) {
      const db = this.db;
      const head = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').raw(true);
      const checkpointSeq = db.prepare('SELECT max(seq) FROM audit_checkpoints').pluck();
      const insertEvent = db.prepare(`INSERT INTO audit_events (${EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
      const insertCheckpoint = db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?,?,?,?,?)');
      // The head is read inside the write transaction: BEGIN IMMEDIATE holds SQLite's write lock,
      // so another process's batch lands wholly before or after this one, never across it.
      const tx = db.transaction((b: (head: Head) => Batch) => {
        const last = head.get() as [number, string] | undefined;
        const batch = b({ seq: last?.[0] ?? 0, hash: last?.[1] ?? ZERO_HASH, checkpointSeq: (checkpointSeq.get() as number | null) ?? 0 });
        for (const e of batch.events) {
          insertEvent.run(e.seq, e.time, e.actor, e.agent, e.kind, e.decision, e.rule, e.reason, e.data, e.prev_hash, e.hash);
        }
        for (const c of batch.checkpoints) insertCheckpoint.run(c.seq, c.hash, c.time, c.key_id, c.signature);
        return batch;
      });
      this.writer = (b) => tx.immediate(b);
    }
    return this.writer(build);
  }

  async query(f: AuditQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.afterSeq !== undefined) { where.push('seq > ?'); params.push(f.afterSeq); }
    if (f.agent !== undefined) { where.push('agent = ?'); params.push(f.agent); }
    if (f.kind !== undefined) { where.push('kind = ?'); params.push(f.kind); }
    if (f.since !== undefined) { where.push('time >= ?'); params.push(f.since); }
    const sql = `SELECT ${EVENT_COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    try {
      return (this.db.prepare(sql).raw(true).all(...params, f.limit) as Row[]).map(toEvent);
    } catch (e) {
      throw sqliteError(this.file, 'read', e);
    }
  }

  async checkpoints(): Promise<unknown[]> {
    try {
      return this.db.prepare('SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq, key_id').all();
    } catch (e) {
      throw sqliteError(this.file, 'read', e);
    }
  }

  rows(): RowSource {
    const db = this.db;
    const file = this.file;
    return {
      async *batches() {
        // One statement, so one read snapshot; the iterator is finalised when the caller breaks.
        let batch: SourceItem[] = [];
        try {
          for (const r of db.prepare(`SELECT ${EVENT_COLUMNS} FROM audit_events ORDER BY seq`).raw(true).iterate() as IterableIterator<Row>) {
            batch.push(toEvent(r));
            if (batch.length === 4096) { yield batch; batch = []; }
          }
        } catch (e) {
          throw sqliteError(file, 'read', e);
        }
        if (batch.length) yield batch;
      },
      async find(w) {
        const [col, value] = w.hash !== undefined ? ['hash', w.hash] : w.prevHash !== undefined ? ['prev_hash', w.prevHash] : ['seq', w.seq];
        return (db.prepare(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE ${col} = ? LIMIT 64`).raw(true).all(value) as Row[]).map(toEvent);
      },
    };
  }

  fastVerify(rawCheckpoints: unknown[], keys: TrustedKey[], workers: number, minEvents: number): Promise<VerifyReport | null> {
    return verifySqliteParallel(this.db, this.file, rawCheckpoints, keys, workers, minEvents);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function sqliteError(file: string, what: string, e: unknown): ArmorerError {
  const code = (e as { code?: string }).code ?? '';
  const why = code === 'SQLITE_BUSY'
    ? `another process held the write lock for more than ${BUSY_TIMEOUT_MS / 1000} s`
    : (e as Error).message;
  return new ArmorerError('ARMORER_E_AUDIT', `cannot ${what} the audit log ${file}: ${why}${code && code !== 'SQLITE_BUSY' ? ` (${code})` : ''}`,
    code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      ? 'the file is damaged: keep it for inspection, move it away and run again (a new log is started)'
      : 'check that the file and its directory are writable by you and the disk is not full');
}
