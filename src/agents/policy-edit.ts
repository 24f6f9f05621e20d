import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ArmorerError, isArmorerError } from '../core/errors.js';
import { agentPaths } from './paths.js';
import { readRecord } from './record.js';

export function agentPolicyText(armorerHome: string, name: string): string {
  readRecord(armorerHome, name);
  return readFileSync(agentPaths(armorerHome, name).policy, 'utf8');
}

/**
 * Opens a private copy in the editor; the copy replaces the policy only if the real loader accepts
 * it. The change (grants added and removed) is audited. Returns a one-line summary, or null if unchanged.
 */
export async function editAgentPolicy(armorerHome: string, name: string, editor: string,
  audit: (data: Record<string, unknown>) => Promise<void>): Promise<string | null> {
  const paths = agentPaths(armorerHome, name);
  const before = agentPolicyText(armorerHome, name);
  const dir = mkdtempSync(join(tmpdir(), 'armorer-policy-'));
  const copy = join(dir, 'policy.yaml');
  try {
    writeFileSync(copy, before, { mode: 0o600 });
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', copy], { stdio: 'inherit' });
    if (r.status !== 0) {
      throw new ArmorerError('ARMORER_E_USAGE', `the editor (${editor}) exited with ${r.status ?? r.signal}; the policy is unchanged`,
        'set EDITOR to an editor that exits 0 when you save');
    }
    const after = readFileSync(copy, 'utf8');
    if (after === before) return null;
    const { parsePolicy } = await import('../policy/load.js');
    const ctx = { home: homedir(), workspace: paths.workspace };
    let oldScopes: string[];
    let newScopes: string[];
    try {
      oldScopes = parsePolicy(before, paths.policy, ctx).grants.map((g) => g.text);
      newScopes = parsePolicy(after, paths.policy, ctx).grants.map((g) => g.text);
    } catch (e) {
      if (isArmorerError(e)) {
        throw new ArmorerError(e.code, `${e.message} (the policy is unchanged)`, e.fix, e.location);
      }
      throw e;
    }
    const added = newScopes.filter((s) => !oldScopes.includes(s));
    const removed = oldScopes.filter((s) => !newScopes.includes(s));
    writeFileAtomic(paths.policy, after);
    await audit({ added, removed });
    return `policy of ${name} updated: ${added.length} grant(s) added${added.length ? ` (${added.join(', ')})` : ''}, ${removed.length} removed${removed.length ? ` (${removed.join(', ')})` : ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
