import { canonicalJson } from '../core/canonical-json.js';
import type { TrustedKey } from './keys.js';
import type { AuditEvent, StoredEvent, VerifyReport } from './types.js';
import { arraySource, verifyChain } from './verify.js';

/** Verifies events held in memory (e.g. from `query`), with their checkpoints and the keys to trust. */
export function verifyEvents(events: Array<AuditEvent | StoredEvent>, checkpoints: unknown[], keys: TrustedKey[]): Promise<VerifyReport> {
  const rows = events.map((e): StoredEvent => (typeof e.data === 'string' ? e as StoredEvent : { ...e, data: canonicalJson(e.data) }));
  return verifyChain(arraySource(rows), checkpoints, keys);
}
