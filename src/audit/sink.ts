import { ArmorerError } from '../core/errors.js';
import type { EgressEvent, EventSink } from '../egress/types.js';
import type { AuditStore } from './types.js';

/**
 * The egress proxy's event sink, writing to the audit store. `write` is synchronous (the proxy
 * does not wait for the disk), so each event is queued as an append; `close()` waits for every
 * one and throws if any failed, so a lost audit event is an error at the end of the run, never
 * silence. It does not close the store: whoever opened it does.
 */
export class AuditSink implements EventSink {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly failures: unknown[] = [];
  private closed = false;

  constructor(private readonly store: AuditStore, private readonly agent: string, private readonly actor = 'armorer') {}

  write(event: EgressEvent): void {
    if (this.closed) {
      // A connection that outlived its run: say so rather than drop it silently.
      process.stderr.write(`armorer: an audit event arrived after the run's log was closed and was not recorded: ${event.kind} ${event.host}:${event.port}\n`);
      return;
    }
    const data: Record<string, unknown> = {
      host: event.host, port: event.port, method: event.method,
      bytesUp: event.bytesUp, bytesDown: event.bytesDown, durationMs: event.durationMs,
    };
    if (event.address !== undefined) data['address'] = event.address;
    const p = this.store.append({
      actor: this.actor, agent: this.agent, kind: event.kind,
      decision: event.decision.effect, rule: event.decision.rule, reason: event.decision.reason, data,
    }).catch((e: unknown) => { this.failures.push(e); });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when every event written so far is durable; throws if any could not be recorded. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pending]);
    if (this.failures.length > 0) {
      const first = this.failures[0];
      throw new ArmorerError('ARMORER_E_AUDIT', `${this.failures.length} audit event(s) of this run could not be recorded: ` +
        `${first instanceof Error ? first.message : String(first)}`,
      first instanceof ArmorerError ? first.fix : 'check the audit store (armorer logs verify) and the disk');
    }
  }
}
