import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ArmorerError } from '../core/errors.js';
import type { ChainBackend } from './backend.js';
import { exportLog, exportRows, readExportMeta, type ExportFormat, type Output } from './export.js';
import { loadOrCreateSigner, loadTrustedKeys, PUBLIC_KEY, readPublicKeyFile, type TrustedKey } from './keys.js';
import { ChainStore } from './store.js';
import type { AuditStore, Checkpoint, VerifyReport } from './types.js';
import { verifyChain } from './verify.js';
import { PARALLEL_MIN_EVENTS } from './verify-parallel.js';


export interface StoreOptions {
  /** `sqlite` (`$ARMORER_HOME/audit.db`) or a postgres:// URL. Default: `audit.store` from config.yaml. */
  url?: string;
}

export interface OpenOptions extends StoreOptions {
  /** Recorded as `actor` when an append names none. Default `armorer`. */
  actor?: string;
  /** Sign a checkpoint every N events (and on close). Default: `audit.checkpointEvery` from config.yaml (1000). */
  checkpointEvery?: number;
  /** For readers (`armorer logs`): no key is made, nothing is written, a missing log is an error. */
  readOnly?: boolean;
}

/** `audit:` from config.yaml, for whatever the caller did not set. */
async function settings(home: string, opts: { url?: string; checkpointEvery?: number }): Promise<{ url: string; checkpointEvery: number }> {
  if (opts.url !== undefined && opts.checkpointEvery !== undefined) return { url: opts.url, checkpointEvery: opts.checkpointEvery };
  const { loadConfig } = await import('../core/config.js');
  const { audit } = await loadConfig(home);
  return { url: opts.url ?? audit.store, checkpointEvery: opts.checkpointEvery ?? audit.checkpointEvery };
}

async function openBackend(home: string, url: string, readOnly: boolean): Promise<ChainBackend> {
  if (url === 'sqlite') {
    const { openSqliteBackend } = await import('./sqlite.js');
    return openSqliteBackend(join(home, 'audit.db'), { readOnly });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresBackend } = await import('./postgres.js');
    return openPostgresBackend(url, { readOnly });
  }
  throw new ArmorerError('ARMORER_E_CONFIG', 'audit.store must be "sqlite" or a postgres:// URL',
    'set audit.store in config.yaml to sqlite or postgres://user@host/database');
}

/**
 * Opens the hash-chained audit log for appending (or reading). The first open makes the Ed25519
 * checkpoint key in `keys/` and the database (`audit.db`, 0600) or the PostgreSQL tables.
 */
export async function openAuditStore(home: string, opts: OpenOptions = {}): Promise<AuditStore> {
  const { url, checkpointEvery: every } = await settings(home, opts);
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new ArmorerError('ARMORER_E_CONFIG', `audit.checkpointEvery must be a whole number >= 1, not ${every}`, 'fix audit.checkpointEvery in config.yaml');
  }
  const signer = opts.readOnly ? null : loadOrCreateSigner(home);
  const backend = await openBackend(home, url, opts.readOnly ?? false);
  return new ChainStore(backend, signer, { actor: opts.actor ?? 'armorer', checkpointEvery: every });
}

/**
 * Signs a checkpoint over the head if it has none, and returns the newest one: for keeping
 * somewhere the log is not (`armorer logs checkpoint`). Null for an empty log.
 */
export async function headCheckpoint(home: string, opts: OpenOptions = {}): Promise<Checkpoint | null> {
  const store = (await openAuditStore(home, { ...opts, readOnly: false })) as ChainStore;
  try {
    return (await store.checkpoint()) ?? (await store.lastCheckpoint());
  } finally {
    await store.close();
  }
}

export interface VerifyOptions extends StoreOptions {
  /** Extra public keys to trust (files), besides `keys/audit-ed25519.pub` and `keys/audit-trusted/*.pub`. */
  publicKeys?: string[];
  /** Checkpoints kept apart from the log (they catch a tail cut off together with its checkpoints). */
  checkpoints?: unknown[];
  /** Worker threads for the SQLite fast path; 0 = the reference verifier only. Default: all CPUs for large logs. */
  workers?: number;
}

/** Recomputes every hash, link and checkpoint signature of the configured log. */
export async function verifyStore(home: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const keys = [...loadTrustedKeys(home), ...(opts.publicKeys ?? []).map(readPublicKeyFile)];
  const backend = await openBackend(home, (await settings(home, opts)).url, true);
  try {
    const checkpoints = [...(await backend.checkpoints()), ...(opts.checkpoints ?? [])];
    if (backend.fastVerify && opts.workers !== 0) {
      // Only large logs are worth starting threads for, unless the caller asked for them.
      const fast = await backend.fastVerify(checkpoints, keys, opts.workers ?? availableParallelism(), opts.workers === undefined ? PARALLEL_MIN_EVENTS : 1);
      if (fast) return fast;
    }
    return await verifyChain(backend.rows(), checkpoints, keys);
  } finally {
    await backend.close();
  }
}

export async function exportStore(home: string, format: ExportFormat, out: Output, opts: StoreOptions = {}) {
  const backend = await openBackend(home, (await settings(home, opts)).url, true);
  try {
    return await exportLog(backend, loadTrustedKeys(home), format, out);
  } finally {
    await backend.close();
  }
}

/**
 * Verifies an exported JSONL file. Keys: the `--public-key` files if given; else this home's
 * audit keys if it has any; else the keys in the file's own header - which only shows the file
 * is consistent with itself (whoever rewrote it could have replaced them), and says so.
 */
export async function verifyExportFile(file: string, opts: { home?: string; publicKeys?: string[]; checkpoints?: unknown[] } = {}): Promise<VerifyReport> {
  if (!existsSync(file)) throw new ArmorerError('ARMORER_E_USAGE', `${file} does not exist`, 'pass the path of an export (armorer logs export --format jsonl)');
  const meta = await readExportMeta(file);
  let keys: TrustedKey[];
  let fromHeader = false;
  if (opts.publicKeys?.length) keys = opts.publicKeys.map(readPublicKeyFile);
  else if (opts.home && existsSync(join(opts.home, 'keys', PUBLIC_KEY))) keys = loadTrustedKeys(opts.home);
  else {
    keys = (meta.header?.keys ?? []).map((k) => ({ ...k, source: 'the export header' }));
    fromHeader = true;
  }
  const report = await verifyChain({ batches: () => exportRows(file), find: findInExport(file) }, [...meta.checkpoints, ...(opts.checkpoints ?? [])], keys);
  if (fromHeader && report.ok && report.checkpoints > 0) {
    report.warnings.push('signatures were checked against the public key in the export itself, which whoever rewrote the file ' +
      'could have replaced: pass --public-key with a copy you trust');
  }
  return report;
}

function findInExport(file: string) {
  return async (w: { hash?: string; prevHash?: string; seq?: number }) => {
    const found = [];
    for await (const batch of exportRows(file)) {
      for (const r of batch) {
        if ('malformed' in r) continue;
        if (w.hash !== undefined ? r.hash === w.hash : w.prevHash !== undefined ? r.prev_hash === w.prevHash : r.seq === w.seq) found.push(r);
      }
    }
    return found;
  };
}
