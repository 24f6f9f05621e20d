import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ArmorerError } from '../../core/errors.js';
import { findTool } from './locate.js';

/** The host uid/gid the sandbox's processes really run as. */
export interface HostIdentity {
  uid: number;
  gid: number;
  name: string;
  /** True when Armorer was started as root and drops to a dedicated user before bwrap. */
  dropped: boolean;
}

export const DEFAULT_SANDBOX_USER = 'armorer-sandbox';

/**
 * As root, bwrap would keep capabilities over files root owns and RLIMIT_NPROC would not apply,
 * so a root caller's sandboxes run as a dedicated system user, created on first use.
 */
export function hostIdentity(userName = DEFAULT_SANDBOX_USER, create = true): HostIdentity {
  const uid = process.getuid!();
  if (uid !== 0) return { uid, gid: process.getgid!(), name: 'self', dropped: false };
  let entry = lookupUser(userName);
  if (!entry && create) {
    try {
      execFileSync(findTool('useradd') ?? '/usr/sbin/useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent',
        '--shell', '/usr/sbin/nologin', '--user-group', '--comment', 'Armorer sandboxed processes', userName],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new ArmorerError('ARMORER_E_SANDBOX_USER', `cannot create the system user ${userName}: ${stderrOf(e)}`,
        `create it yourself (useradd --system --user-group ${userName}) or set sandbox.user in config.yaml`);
    }
    entry = lookupUser(userName);
  }
  if (!entry) {
    throw new ArmorerError('ARMORER_E_SANDBOX_USER', `the sandbox user ${userName} does not exist`,
      `run "armorer init" as root, or useradd --system --user-group ${userName}`);
  }
  if (entry.uid === 0 || entry.gid === 0) {
    throw new ArmorerError('ARMORER_E_SANDBOX_USER', `the sandbox user ${userName} has uid or gid 0`,
      'point sandbox.user at an unprivileged system user');
  }
  return { uid: entry.uid, gid: entry.gid, name: userName, dropped: true };
}

function lookupUser(name: string): { uid: number; gid: number } | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

export function stderrOf(e: unknown): string {
  const err = e as { stderr?: Buffer | string; message?: string };
  const text = err.stderr ? String(err.stderr).trim() : '';
  return text || err.message || String(e);
}
