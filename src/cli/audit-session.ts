import type { AuditStore } from '../audit/index.js';

export type AuditFn = (agent: string, kind: string, data: Record<string, unknown>) => Promise<void>;

/**
 * Opens the audit store for one command, hands out an append function, and closes the store at the
 * end (which flushes and signs the end-of-run checkpoint) whether the command succeeded or not.
 */
export async function withAudit<T>(armorerHome: string, fn: (audit: AuditFn, store: AuditStore) => Promise<T>): Promise<T> {
  const { openAuditStore } = await import('../audit/index.js');
  const store = await openAuditStore(armorerHome, { actor: 'user' });
  try {
    return await fn(async (agent, kind, data) => { await store.append({ actor: 'user', agent, kind, data }); }, store);
  } finally {
    await store.close();
  }
}
