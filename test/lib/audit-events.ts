import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditStore } from '../../src/audit/index.js';
import type { EgressEvent } from '../../src/egress/types.js';

/** The egress events a run left in the audit store of `home`, in the shape the proxy wrote them. */
export async function egressEventsOf(home: string): Promise<EgressEvent[]> {
  if (!existsSync(join(home, 'audit.db'))) return [];
  const store = await openAuditStore(home, { readOnly: true });
  try {
    const rows = await store.query({});
    return rows.filter((r) => r.kind.startsWith('egress.')).map((r) => {
      const d = r.data as { host: string; port: number; address?: string; method: EgressEvent['method']; bytesUp: number; bytesDown: number; durationMs: number };
      return {
        kind: r.kind as EgressEvent['kind'], time: r.time, host: d.host, port: d.port, ...(d.address !== undefined && { address: d.address }),
        method: d.method, decision: { effect: r.decision, rule: r.rule, reason: r.reason } as EgressEvent['decision'],
        bytesUp: d.bytesUp, bytesDown: d.bytesDown, durationMs: d.durationMs,
      };
    });
  } finally {
    await store.close();
  }
}
