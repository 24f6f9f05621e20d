/**
 * Replaces the store's identity. Two files must change together and no rename covers two files,
 * so the order is chosen so that every intermediate state on disk still opens with the
 * passphrase (a crash anywhere leaves a usable store, old or new):
 *   1. secrets.age  <- encrypted to BOTH the old and the new recipient   (old identity.age opens it)
 *   2. identity.age <- the new identity                                  (the new one opens it too)
 *   3. secrets.age  <- encrypted to the new recipient only               (the old key is out)
 *   4. recipient.txt <- the new recipient                                (derived; rewritten on any change)
 * Each step is a whole-file atomic replacement (temp + fsync + rename + directory fsync).
 */
import { DEFAULT_SCRYPT_WORK_FACTOR, newIdentity } from './age.js';
import { readDocument, readIdentity, requireStore, syncRecipient, writeDocument, writeIdentity } from './files.js';
import { storePaths } from './layout.js';
import { withStoreLock } from './lock.js';
import type { StoreOptions } from './store.js';

export interface RotateReport { previous: string; recipient: string; secrets: number }

/** `afterStep` lets a test stop the rotation between steps, as a crash would. */
export async function rotateKey(armorerHome: string, passphrase: string, o: StoreOptions & { afterStep?: (step: 1 | 2 | 3) => void } = {}): Promise<RotateReport> {
  const p = storePaths(armorerHome);
  requireStore(p);
  return withStoreLock(p, async () => {
    const old = await readIdentity(p, passphrase);
    const doc = await readDocument(p, old.identity);
    const next = await newIdentity();
    await writeDocument(p, doc, [old.recipient, next.recipient]);
    o.afterStep?.(1);
    await writeIdentity(p, next.identity, next.recipient, passphrase, o.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR);
    o.afterStep?.(2);
    await writeDocument(p, doc, [next.recipient]);
    o.afterStep?.(3);
    syncRecipient(p, next.recipient);
    return { previous: old.recipient, recipient: next.recipient, secrets: doc.size };
  });
}
