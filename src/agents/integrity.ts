import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ArmorerError } from '../core/errors.js';

/**
 * What was installed, file by file: recorded right after the sandboxed install and checked again
 * before every run, so a prefix changed on the host (by anything: the agent cannot, its prefix is
 * read-only inside) is refused rather than run.
 */
export interface IntegrityManifest {
  version: 1;
  algorithm: 'sha256';
  /** Digest of the whole listing: one value to show and compare. */
  digest: string;
  /** The lockfile's own digest, for a quick look at what npm resolved. */
  lockfile: string | null;
  files: number;
  bytes: number;
  /** relative path -> `sha256:<hex>` for files, `link:<target>` for symlinks, `dir` for directories. */
  entries: Record<string, string>;
}

export function computeManifest(prefix: string): IntegrityManifest {
  const entries: Record<string, string> = {};
  let files = 0;
  let bytes = 0;
  const walk = (rel: string) => {
    const abs = rel === '' ? prefix : join(prefix, rel);
    for (const name of readdirSync(abs).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = join(prefix, r);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) entries[r] = `link:${readlinkSync(p)}`;
      else if (st.isDirectory()) { entries[r] = 'dir'; walk(r); }
      else if (st.isFile()) {
        const data = readFileSync(p);
        entries[r] = `sha256:${createHash('sha256').update(data).digest('hex')}${st.mode & 0o111 ? ':x' : ''}`;
        files++;
        bytes += data.length;
      } else entries[r] = 'special';
    }
  };
  walk('');
  const listing = createHash('sha256');
  for (const [k, v] of Object.entries(entries)) listing.update(`${k}\0${v}\n`);
  const lock = join(prefix, 'package-lock.json');
  return {
    version: 1, algorithm: 'sha256', digest: listing.digest('hex'),
    lockfile: existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : null,
    files, bytes, entries,
  };
}

export function writeManifest(path: string, m: IntegrityManifest): void {
  writeFileAtomic(path, JSON.stringify(m));
}

/** Names up to `max` differences between the recorded manifest and the prefix now. */
export function checkManifest(path: string, prefix: string, max = 5): { ok: true; manifest: IntegrityManifest } | { ok: false; differences: string[] } {
  let recorded: IntegrityManifest;
  try {
    recorded = JSON.parse(readFileSync(path, 'utf8')) as IntegrityManifest;
  } catch (e) {
    throw new ArmorerError('ARMORER_E_INTEGRITY', `the install record ${path} is missing or unreadable: ${(e as Error).message}`,
      'reinstall the agent (armorer uninstall NAME; armorer install ...)');
  }
  const now = computeManifest(prefix);
  if (now.digest === recorded.digest) return { ok: true, manifest: now };
  const differences: string[] = [];
  for (const [k, v] of Object.entries(recorded.entries)) {
    if (differences.length >= max) break;
    if (!(k in now.entries)) differences.push(`removed: ${k}`);
    else if (now.entries[k] !== v) differences.push(`changed: ${k}`);
  }
  for (const k of Object.keys(now.entries)) {
    if (differences.length >= max) break;
    if (!(k in recorded.entries)) differences.push(`added: ${k}`);
  }
  return { ok: false, differences };
}
