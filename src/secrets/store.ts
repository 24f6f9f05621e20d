/**
 * The age-encrypted secret store. Unlocking costs one scrypt (about a second, on purpose: that
 * is what makes guessing the passphrase of a copied identity.age slow), so a process unlocks once
 * and keeps the identity and the decrypted document in memory until close(). Every change takes
 * the store lock, re-reads the file under it, and replaces the file whole.
 */
import { ArmorerError } from '../core/errors.js';
import { DEFAULT_SCRYPT_WORK_FACTOR, newIdentity } from './age.js';
import type { InjectMode, SecretRecord, SecretsDocument } from './document.js';
import { readDocument, readIdentity, requireNoStore, requireStore, syncRecipient, writeDocument, writeIdentity } from './files.js';
import { ensureStoreDir, storePaths, type StorePaths } from './layout.js';
import { withStoreLock } from './lock.js';
import { MIN_PASSPHRASE_LENGTH } from './passphrase.js';
import { assertSecretName, type SecretSource } from './source.js';

export interface SecretEntry { name: string; created: string; updated: string; inject: InjectMode }

export interface StoreOptions {
  /** log2 of scrypt's N for identity.age; default 18 (age's own). Lower only in tests. */
  scryptWorkFactor?: number;
}

/** Large enough for a PEM bundle, small enough that a mistaken file is noticed. */
export const MAX_SECRET_BYTES = 64 * 1024;

export class SecretStore implements SecretSource {
  private state: { identity: string; doc: SecretsDocument } | null;

  private constructor(private readonly paths: StorePaths, readonly recipient: string, identity: string, doc: SecretsDocument) {
    this.state = { identity, doc };
  }

  /** Creates an empty store. Refuses if one (or part of one) exists: it never replaces secrets. */
  static async init(armorerHome: string, passphrase: string, o: StoreOptions = {}): Promise<SecretStore> {
    if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
      throw new ArmorerError('ARMORER_E_PASSPHRASE', `the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters`, 'choose a longer passphrase');
    }
    const p = storePaths(armorerHome);
    ensureStoreDir(p);
    return withStoreLock(p, async () => {
      requireNoStore(p);
      const { identity, recipient } = await newIdentity();
      const doc: SecretsDocument = new Map();
      // identity.age last: a crash before it leaves a store that is visibly incomplete, never a
      // key that nothing was encrypted to.
      await writeDocument(p, doc, [recipient]);
      syncRecipient(p, recipient);
      await writeIdentity(p, identity, recipient, passphrase, o.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR);
      return new SecretStore(p, recipient, identity, doc);
    });
  }

  static async unlock(armorerHome: string, passphrase: string): Promise<SecretStore> {
    const p = storePaths(armorerHome);
    requireStore(p);
    const { identity, recipient } = await readIdentity(p, passphrase);
    return new SecretStore(p, recipient, identity, await readDocument(p, identity));
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    return this.open().doc.get(name)?.value;
  }

  async names(): Promise<string[]> {
    return [...this.open().doc.keys()].sort();
  }

  /** Names and dates, never values. */
  list(): SecretEntry[] {
    return [...this.open().doc].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, r]) => entry(name, r));
  }

  /** `env` only for a secret explicitly opted in with `inject: env`; undefined when not set. */
  injectMode(name: string): InjectMode | undefined {
    const r = this.open().doc.get(name);
    return r && (r.inject ?? 'none');
  }

  /**
   * Adds or replaces a secret. `inject` omitted keeps the secret's current mode (none for a new
   * one): replacing a value does not silently change where it may go.
   */
  async set(name: string, value: string, o: { inject?: InjectMode } = {}): Promise<SecretEntry & { replaced: boolean }> {
    assertSecretName(name);
    if (name === '__proto__') throw new ArmorerError('ARMORER_E_SECRET', '"__proto__" is not a secret name', 'pick another name');
    if (value === '') throw new ArmorerError('ARMORER_E_SECRET', `the value for ${name} is empty`, 'give a value; "armorer secrets rm NAME" removes a secret');
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
      throw new ArmorerError('ARMORER_E_SECRET', `the value for ${name} is larger than ${MAX_SECRET_BYTES} bytes`, 'store a smaller value (a key, a token), not a file');
    }
    return this.change((doc) => {
      const now = new Date().toISOString();
      const old = doc.get(name);
      const inject = o.inject ?? old?.inject ?? 'none';
      const record: SecretRecord = { value, created: old?.created ?? now, updated: now, ...(inject === 'env' && { inject: 'env' as const }) };
      doc.set(name, record);
      return { ...entry(name, record), replaced: old !== undefined };
    });
  }

  async remove(name: string): Promise<void> {
    assertSecretName(name);
    await this.change((doc) => {
      if (!doc.delete(name)) throw notSet(name);
    });
  }

  /** Forgets the identity and the values (as far as a garbage-collected runtime allows). */
  close(): void {
    this.state?.doc.clear();
    this.state = null;
  }

  private open(): { identity: string; doc: SecretsDocument } {
    if (!this.state) throw new ArmorerError('ARMORER_E_SECRETS_STORE', 'the secrets store was closed', 'a bug: report it');
    return this.state;
  }

  /** Read-modify-write under the lock, against the file as it is now (another process may have changed it). */
  private async change<T>(apply: (doc: SecretsDocument) => T): Promise<T> {
    const { identity } = this.open();
    return withStoreLock(this.paths, async () => {
      requireStore(this.paths);
      const doc = await readDocument(this.paths, identity);
      const result = apply(doc);
      await writeDocument(this.paths, doc, [this.recipient]);
      syncRecipient(this.paths, this.recipient);
      this.open().doc = doc;
      return result;
    });
  }
}

export function notSet(name: string): ArmorerError {
  return new ArmorerError('ARMORER_E_SECRET', `the secret ${name} is not set`, `set it with "armorer secrets set ${name}"; "armorer secrets list" shows the names`);
}

function entry(name: string, r: SecretRecord): SecretEntry {
  return { name, created: r.created, updated: r.updated, inject: r.inject ?? 'none' };
}
