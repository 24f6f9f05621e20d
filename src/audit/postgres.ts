import { createRequire } from 'node:module';
import type * as PgTypes from 'pg';
import { ArmorerError } from '../core/errors.js';
import type { Batch, ChainBackend, Head, RowSource, SourceItem } from './backend.js';
import { ZERO_HASH } from './hash.js';
import { EVENT_COLUMNS } from './sqlite-schema.js';
import type { AuditQuery, StoredEvent } from './types.js';

// Loaded by Node from node_modules, not bundled (pg refers to the optional pg-native).
const load = createRequire(import.meta.url);

/** The SQLite schema (sqlite-schema.ts) with PostgreSQL types. `data` is TEXT, not jsonb: the hashed bytes must stay as written. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq BIGINT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, agent TEXT NOT NULL, kind TEXT NOT NULL,
  decision TEXT, rule TEXT, reason TEXT, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  seq BIGINT NOT NULL, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL,
  PRIMARY KEY (seq, key_id));`;
/** Serialises schema creation between machines that start at once ("audi" in ASCII). */
const SCHEMA_LOCK = 0x61756469;
const LOCK_TIMEOUT = '10s';

type Row = [string, string, string, string, string, string | null, string | null, string | null, string, string, string];
const toEvent = (r: Row): StoredEvent => ({
  seq: toSeq(r[0]), time: r[1], actor: r[2], agent: r[3], kind: r[4], decision: r[5], rule: r[6], reason: r[7], data: r[8], prev_hash: r[9], hash: r[10],
});
/** BIGINT arrives as text; anything that is not a safe integer becomes NaN for the verifier to refuse. */
const toSeq = (v: unknown): number => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : Number.NaN;
};

/** The URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openPostgresBackend(url: string, opts: { readOnly: boolean }): Promise<ChainBackend> {
  const pg = load('pg') as typeof PgTypes;
  const location = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000 });
  // An idle connection that dies must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    if (opts.readOnly) {
      const r = await pool.query<{ t: string | null }>("SELECT to_regclass('audit_events')::text AS t");
      if (!r.rows[0]?.t) {
        throw new ArmorerError('ARMORER_E_AUDIT', `there is no audit log in ${location} yet`, 'events are recorded by "armorer exec" and "armorer run"');
      }
    } else {
      await pool.query(`BEGIN; SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}); ${SCHEMA} COMMIT;`);
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw pgError(location, 'open', e);
  }
  return new PostgresBackend(pool, location);
}

class PostgresBackend implements ChainBackend {
  readonly kind = 'postgres' as const;

  constructor(private readonly pool: PgTypes.Pool, readonly location: string) {}

  async commit(build: (head: Head) => Batch): Promise<Batch> {
    let client: PgTypes.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw pgError(this.location, 'connect to', e);
    }
    let broken: Error | undefined;
    try {
      // EXCLUSIVE blocks every other writer (and their head reads) but not plain readers. The
      // head is read under the lock, so machines sharing the log extend one chain.
      // synchronous_commit=on: COMMIT returns only once the WAL is flushed (whatever the server default).
      // One round trip: begin, take the lock, read the head.
      const results = await client.query(`BEGIN; SET LOCAL synchronous_commit TO on; SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'; ` +
        'LOCK TABLE audit_events IN EXCLUSIVE MODE; ' +
        'SELECT (SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1) AS seq, (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS hash, ' +
        '(SELECT max(seq) FROM audit_checkpoints) AS cp') as unknown as PgTypes.QueryResult[];
      const { seq, hash, cp } = results[results.length - 1]!.rows[0] as { seq: string | null; hash: string | null; cp: string | null };
      const batch = build({ seq: seq === null ? 0 : toSeq(seq), hash: hash ?? ZERO_HASH, checkpointSeq: cp === null ? 0 : toSeq(cp) });
      if (batch.events.length) {
        const cols = Array.from({ length: 11 }, () => [] as unknown[]);
        for (const e of batch.events) {
          [e.seq, e.time, e.actor, e.agent, e.kind, e.decision, e.rule, e.reason, e.data, e.prev_hash, e.hash].forEach((v, i) => cols[i]!.push(v));
        }
        await client.query(`INSERT INTO audit_events (${EVENT_COLUMNS}) SELECT * FROM unnest($1::bigint[], ` +
          `${Array.from({ length: 10 }, (_, i) => `$${i + 2}::text[]`).join(', ')})`, cols);
      }
      for (const c of batch.checkpoints) {
        await client.query('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
          [c.seq, c.hash, c.time, c.key_id, c.signature]);
      }
      await client.query('COMMIT');
      return batch;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (r) {
        broken = r as Error;
      }
      if (e instanceof ArmorerError) throw e;
      throw pgError(this.location, 'write to', e);
    } finally {
      client.release(broken);
    }
  }

  async query(f: AuditQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => { params.push(v); where.push(sql.replace('?', `$${params.length}`)); };
    if (f.afterSeq !== undefined) add('seq > ?', f.afterSeq);
    if (f.agent !== undefined) add('agent = ?', f.agent);
    if (f.kind !== undefined) add('kind = ?', f.kind);
    if (f.since !== undefined) add('time >= ?', f.since);
    params.push(f.limit);
    const text = `SELECT ${EVENT_COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
    try {
      return (await this.pool.query({ text, values: params, rowMode: 'array' })).rows.map((r) => toEvent(r as Row));
    } catch (e) {
      throw pgError(this.location, 'read', e);
    }
  }

  async checkpoints(): Promise<unknown[]> {
    try {
      const r = await this.pool.query('SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq, key_id');
      return r.rows.map((c: Record<string, unknown>) => ({ ...c, seq: toSeq(c['seq']) }));
    } catch (e) {
      throw pgError(this.location, 'read', e);
    }
  }

  rows(): RowSource {
    const pool = this.pool;
    const location = this.location;
    return {
      async *batches() {
        // A cursor inside one REPEATABLE READ transaction: one snapshot, bounded memory.
        const client = await pool.connect().catch((e: unknown) => { throw pgError(location, 'connect to', e); });
        let broken: Error | undefined;
        try {
          await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; DECLARE armorer_verify NO SCROLL CURSOR FOR SELECT ${EVENT_COLUMNS} FROM audit_events ORDER BY seq`);
          for (;;) {
            const r = await client.query({ text: 'FETCH 4096 FROM armorer_verify', rowMode: 'array' });
            if (r.rows.length === 0) break;
            yield r.rows.map((row) => toEvent(row as Row)) as SourceItem[];
          }
        } catch (e) {
          broken = e as Error;
          throw pgError(location, 'read', e);
        } finally {
          await client.query('ROLLBACK').catch((e: Error) => { broken ??= e; });
          client.release(broken);
        }
      },
      async find(w) {
        const [col, value] = w.hash !== undefined ? ['hash', w.hash] : w.prevHash !== undefined ? ['prev_hash', w.prevHash] : ['seq', w.seq];
        const r = await pool.query({ text: `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE ${col} = $1 LIMIT 64`, values: [value], rowMode: 'array' });
        return r.rows.map((row) => toEvent(row as Row));
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function pgError(location: string, what: string, e: unknown): ArmorerError {
  if (e instanceof ArmorerError) return e;
  const err = e as { code?: string; message?: string };
  const why = err.code === '55P03' ? `another writer held the lock for more than ${LOCK_TIMEOUT}` : (err.message ?? String(e));
  return new ArmorerError('ARMORER_E_AUDIT', `cannot ${what} the audit log at ${location}: ${why}${err.code ? ` (${err.code})` : ''}`,
    'check audit.store in config.yaml, that the server is up and reachable, and that the user may create and write the audit tables');
}
