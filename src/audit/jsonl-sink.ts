import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EgressEvent, EventSink } from '../egress/types.js';

/**
 * Appends each event as one JSON line (0600), written through before `write` returns. The
 * hash-chained audit store replaces this in the next issue; the events are the same.
 */
export class JsonlSink implements EventSink {
  private fd: number | null;

  constructor(path: string) {
    // The state directory may not exist yet (no `armorer init`): make it private, like init would.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
  }

  /** After close, an event can only come from a connection that outlived its run: it is dropped, never written to a reused fd. */
  write(event: EgressEvent): void {
    if (this.fd !== null) writeSync(this.fd, `${JSON.stringify(event)}\n`);
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Several sinks as one (the log file and the terminal notices). */
export function fanOut(...sinks: EventSink[]): EventSink {
  return { write: (e) => sinks.forEach((s) => s.write(e)) };
}
