/** The audit log's contracts, shared by both stores, the verifier, the exporter and the CLI. */

export type AuditDecision = 'allow' | 'deny' | 'ask';

/** What a caller records; the store adds seq, time and the hashes. */
export interface AuditInput {
  /** Who acted: `armorer` for the supervisor's own decisions, `user` for a person's answer... Default: the store's actor. */
  actor?: string;
  agent: string;
  /** Dotted event kind, e.g. `egress.connection`. */
  kind: string;
  decision?: AuditDecision | null;
  rule?: string | null;
  reason?: string | null;
  /** Plain JSON (RFC 8785-serialisable: no undefined, NaN, Dates...). */
  data?: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  /** ISO 8601 UTC, when `append` was called. */
  time: string;
  actor: string;
  agent: string;
  kind: string;
  decision: string | null;
  rule: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  /** The previous event's hash; 64 zeros for seq 1. */
  prev_hash: string;
  /** sha256 hex of the canonical JSON of every field above. */
  hash: string;
}

/** An event as stored: `data` is its canonical JSON text, exactly the bytes that were hashed. */
export interface StoredEvent extends Omit<AuditEvent, 'data'> {
  data: string;
}

/** An Ed25519 signature over (seq, hash, time, key_id) of one event: the chain up to seq is fixed. */
export interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  /** First 16 hex digits of sha256 of the raw public key. */
  key_id: string;
  /** base64 Ed25519 signature over `checkpointMessage(...)`. */
  signature: string;
}

export interface AuditQuery {
  agent?: string;
  kind?: string;
  /** ISO time: events at or after it. */
  since?: string;
  /** Only events with a larger seq (for following the log). */
  afterSeq?: number;
  /** At most this many events (default and maximum 10,000 per call). */
  limit?: number;
}

export interface AuditStore {
  /** `sqlite:<path>` or the PostgreSQL URL without its password. */
  readonly location: string;
  /**
   * Resolves once the event is durable: its transaction has committed (SQLite: WAL with
   * synchronous=FULL, so the WAL was fsynced; PostgreSQL: synchronous_commit=on). That is what
   * "acknowledged" means. Appends made together share one transaction (group commit). The
   * event it resolves with carries the caller's own `data` object (stored as its canonical JSON).
   * Rejects with ARMORER_E_AUDIT if the event is malformed or its transaction failed.
   */
  append(e: AuditInput): Promise<AuditEvent>;
  query(f: AuditQuery): Promise<AuditEvent[]>;
  /** Signs a checkpoint over the current head; null if the head already has one (or the log is empty). */
  checkpoint(): Promise<Checkpoint | null>;
  /** Flushes pending appends, writes the end-of-run checkpoint, closes. Idempotent. */
  close(): Promise<void>;
}

export type ProblemReason =
  | 'malformed' // a row or line is not a well-formed event or checkpoint
  | 'edited' // the stored hash is not the hash of the stored content
  | 'broken-link' // prev_hash is not the previous event's hash
  | 'gap' // a seq is missing (deleted)
  | 'duplicate' // a seq appears twice, or an event is a copy of another
  | 'reordered' // an event sits at another seq than the one it was written at
  | 'truncated' // a valid checkpoint covers a seq past the end of the log
  | 'checkpoint-mismatch' // the event at a checkpoint's seq has another hash: the chain was recomputed
  | 'bad-signature' // a checkpoint's signature does not verify
  | 'untrusted-key'; // a checkpoint is signed by a key that is not trusted

export interface VerifyProblem {
  /** The first bad seq (for a checkpoint problem: the checkpoint's seq). */
  seq: number;
  reason: ProblemReason;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events examined (up to the first problem, or all). */
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  headHash: string | null;
  /** Checkpoints whose signature and hash were checked and found right. */
  checkpoints: number;
  lastCheckpoint: { seq: number; time: string; key_id: string } | null;
  /** Events after the last valid checkpoint: a truncation of these would not be detectable here. */
  unsigned: number;
  problem: VerifyProblem | null;
  /** Where the public keys came from, e.g. `keys/audit-ed25519.pub`. */
  keys: string[];
  warnings: string[];
  /** How hashes were recomputed: in parallel worker threads reading SQLite, or one by one. */
  method: 'parallel' | 'sequential';
}
