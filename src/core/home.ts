import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_TEMPLATE } from './config.js';
import { ArmorerError } from './errors.js';

export const HOME_DIRS = ['agents', 'secrets', 'keys', 'run'] as const;

export interface InitReport { home: string; created: string[]; tightened: string[]; kept: string[] }

/** Creates `$ARMORER_HOME` and its layout. Idempotent; never rewrites an existing file. */
export function initHome(home: string): InitReport {
  const report: InitReport = { home, created: [], tightened: [], kept: [] };
  try {
    for (const dir of [home, ...HOME_DIRS.map((d) => join(home, d))]) ensure(dir, 'dir', report);
    ensure(join(home, 'config.yaml'), 'file', report);
  } catch (e) {
    throw new ArmorerError('ARMORER_E_HOME', `cannot set up ${home}: ${(e as Error).message}`,
      'check the permissions of its parent directory, or set ARMORER_HOME to a directory you own');
  }
  return report;
}

function ensure(path: string, kind: 'dir' | 'file', report: InitReport): void {
  const mode = kind === 'dir' ? 0o700 : 0o600;
  if (!existsSync(path)) {
    if (kind === 'dir') mkdirSync(path, { mode });
    else writeFileSync(path, CONFIG_TEMPLATE, { mode, flag: 'wx' });
    chmodSync(path, mode);
    report.created.push(path);
    return;
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    chmodSync(path, mode);
    report.tightened.push(path);
  } else {
    report.kept.push(path);
  }
}
