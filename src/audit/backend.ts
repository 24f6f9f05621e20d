/** What the chain logic needs from a database; SQLite and PostgreSQL each implement it once. */
import type { TrustedKey } from './keys.js';
import type { AuditQuery, Checkpoint, StoredEvent, VerifyReport } from './types.js';

export interface Head {
  /** 0 when the log is empty. */
  seq: number;
  hash: string;
  /** The largest seq any checkpoint covers, 0 if none. */
  checkpointSeq: number;
}

export interface Batch {
  events: StoredEvent[];
  checkpoints: Checkpoint[];
}

/** Rows or a note that one could not be read as a row (a corrupt line in an export). */
export type SourceItem = StoredEvent | { malformed: string; seq: number | null };

/** Where the verifier reads rows from, in seq order, and looks things up when it finds a problem. */
export interface RowSource {
  /** Batches in stored order. Breaking out of the loop releases the reader. */
  batches(): AsyncIterable<SourceItem[]>;
  /** For the diagnosis of the first problem only: rows with this hash, prev_hash or seq. */
  find(where: { hash?: string; prevHash?: string; seq?: number }): Promise<StoredEvent[]>;
}

export interface ChainBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** For messages; never contains a password. */
  readonly location: string;
  /**
   * One write transaction that excludes every other writer (SQLite: BEGIN IMMEDIATE; PostgreSQL:
   * LOCK TABLE ... IN EXCLUSIVE MODE): read the head, let `build` chain the batch onto it, write
   * its events and checkpoints, commit durably. Returns when committed; throws (rolled back) if not.
   */
  commit(build: (head: Head) => Batch): Promise<Batch>;
  query(f: AuditQuery): Promise<StoredEvent[]>;
  checkpoints(): Promise<unknown[]>;
  rows(): RowSource;
  /** A faster check that can only answer "all good" (a report) or "look closer" (null). */
  fastVerify?(rawCheckpoints: unknown[], keys: TrustedKey[], workers: number, minEvents: number): Promise<VerifyReport | null>;
  close(): Promise<void>;
}
