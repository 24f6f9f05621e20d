/** The SQLite tables, as SQLite stores their text in sqlite_master (the fast verifier checks it). */
export const EVENT_COLUMNS = 'seq, time, actor, agent, kind, decision, rule, reason, data, prev_hash, hash';

/** `seq INTEGER PRIMARY KEY` is the rowid: one integer per row, never two rows with one seq. */
export const EVENTS_TABLE = `CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, agent TEXT NOT NULL, kind TEXT NOT NULL,
  decision TEXT, rule TEXT, reason TEXT, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`;

export const CHECKPOINTS_TABLE = `CREATE TABLE audit_checkpoints (
  seq INTEGER NOT NULL, hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL,
  PRIMARY KEY (seq, key_id))`;
