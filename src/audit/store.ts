import { ArmorerError } from '../core/errors.js';
import type { Batch, ChainBackend, Head } from './backend.js';
import { chainEvent, prepareEvent, toAuditEvent, type PreparedEvent } from './hash.js';
import type { CheckpointSigner } from './keys.js';
import type { AuditEvent, AuditInput, AuditQuery, AuditStore, Checkpoint } from './types.js';

/** At most this many events per transaction; more wait for the next one. */
export const MAX_BATCH = 10_000;
export const MAX_QUERY = 10_000;

interface Pending {
  event: PreparedEvent;
  /** The caller's data object: what `append` resolves with (its canonical text is what was stored). */
  data: Record<string, unknown>;
  resolve(e: AuditEvent): void;
  reject(e: unknown): void;
}

/**
 * The chain on top of a backend, with group commit: `append` queues; on the next turn of the
 * event loop everything queued goes into one write transaction (head read inside it, events
 * chained, checkpoints signed every `checkpointEvery` events, commit), and only then do the
 * appends' promises resolve. One fsync covers the whole batch. A failed transaction rejects
 * every append in it and writes none of them.
 */
export class ChainStore implements AuditStore {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly backend: ChainBackend,
    private readonly signer: CheckpointSigner | null,
    private readonly opts: { actor: string; checkpointEvery: number },
  ) {}

  get location(): string {
    return this.backend.location;
  }

  append(input: AuditInput): Promise<AuditEvent> {
    if (this.closed) return Promise.reject(closedError(this.location));
    if (!this.signer) return Promise.reject(readOnlyError(this.location));
    let event: PreparedEvent;
    try {
      event = prepareEvent(input, this.opts.actor);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AuditEvent>((resolve, reject) => {
      this.queue.push({ event, data: input.data ?? {}, resolve, reject });
      this.schedule();
    });
  }

  async query(f: AuditQuery): Promise<AuditEvent[]> {
    if (this.closed) throw closedError(this.location);
    const limit = Math.min(f.limit ?? MAX_QUERY, MAX_QUERY);
    return (await this.backend.query({ ...f, limit })).map(toAuditEvent);
  }

  async checkpoint(): Promise<Checkpoint | null> {
    if (this.closed) throw closedError(this.location);
    return this.signHead();
  }

  /** The newest checkpoint, preferring one signed by this store's own key. */
  async lastCheckpoint(): Promise<Checkpoint | null> {
    const all = (await this.backend.checkpoints()) as Checkpoint[];
    const mine = all.filter((c) => c.key_id === this.signer?.keyId);
    return (mine.length ? mine : all).at(-1) ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.drain();
      await this.signHead();
    } finally {
      await this.backend.close();
    }
  }

  private async signHead(): Promise<Checkpoint | null> {
    const signer = this.signer;
    if (!signer) return null;
    await this.drain();
    const batch = await this.backend.commit((head) => ({
      events: [],
      checkpoints: head.seq > head.checkpointSeq ? [signer.sign(head.seq, head.hash)] : [],
    }));
    return batch.checkpoints[0] ?? null;
  }

  /** Waits until every append made so far has been committed or rejected. */
  private async drain(): Promise<void> {
    // Each round commits at least one batch or finds the queue empty: bounded by the queue length.
    while (this.flushing || this.queue.length > 0) await (this.flushing ?? this.flush());
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every append made in this turn of the event loop (and any
    // I/O callbacks due) joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.commitBatch(batch).finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const signer = this.signer!;
    const every = this.opts.checkpointEvery;
    try {
      await this.backend.commit((head: Head): Batch => {
        const events = [];
        const checkpoints = [];
        let prev = head.hash;
        let cp = head.checkpointSeq;
        for (let i = 0; i < batch.length; i++) {
          // Chained in place: if this transaction fails, the next attempt sets seq and hashes again.
          const e = chainEvent(batch[i]!.event, head.seq + i + 1, prev);
          events.push(e);
          prev = e.hash;
          if (e.seq - cp >= every) {
            checkpoints.push(signer.sign(e.seq, e.hash));
            cp = e.seq;
          }
        }
        return { events, checkpoints };
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      // The stored row becomes the caller's event: its data text swapped for the caller's object
      // (the same value; not copied, appends are hot).
      const e = p.event as unknown as AuditEvent;
      e.data = p.data;
      p.resolve(e);
    }
  }
}

function closedError(location: string): ArmorerError {
  return new ArmorerError('ARMORER_E_AUDIT', `the audit log ${location} is already closed`, 'this is a bug in Armorer: report it');
}

function readOnlyError(location: string): ArmorerError {
  return new ArmorerError('ARMORER_E_AUDIT', `the audit log ${location} was opened read-only`, 'this is a bug in Armorer: report it');
}
