import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArmorerError } from '../../core/errors.js';
import { processAlive } from '../../core/process.js';
import { stderrOf } from './identity.js';
import { findTool, SYSTEM_PATH } from './locate.js';

/**
 * Gives the dedicated sandbox uid access to the directories a run mounts, with POSIX ACLs
 * (never chmod), and puts every ACL back exactly as it was when the last run using it ends.
 *
 * Several runs may share a directory, so each run leaves a hold file named by its pid; the first
 * holder saves the tree's ACLs (`getfacl -R`), the last one restores them (`setfacl --restore`).
 */
export interface AclRequest { path: string; mode: 'rw' | 'ro' }

const NEVER_TOUCH = ['/usr', '/etc', '/lib', '/lib64', '/bin', '/sbin', '/proc', '/sys', '/dev'];

export class AclGrants {
  private constructor(
    private readonly uid: number,
    private readonly stateDir: string,
    private readonly held: { path: string; key: string; mode: 'rw' | 'ro' }[],
  ) {}

  static grant(requests: AclRequest[], uid: number, stateDir: string): AclGrants {
    const grants = new AclGrants(uid, stateDir, []);
    try {
      for (const r of requests) {
        if (!existsSync(r.path) || NEVER_TOUCH.some((s) => r.path === s || r.path.startsWith(s + '/'))) continue;
        grants.hold(r);
      }
      return grants;
    } catch (e) {
      grants.release();
      if (e instanceof ArmorerError) throw e;
      throw new ArmorerError('ARMORER_E_ACL', `cannot give the sandbox user access: ${stderrOf(e)}`,
        'install the acl package (apt-get install acl) and use a filesystem with POSIX ACLs');
    }
  }

  private hold(r: AclRequest): void {
    const key = createHash('sha256').update(r.path).digest('hex').slice(0, 32);
    const dir = join(this.stateDir, key);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const first = liveHolders(dir).length === 0;
    if (first) {
      // Ancestors only need search (x) permission, and only where "other" lacks it.
      const ancestors = ancestorsNeedingSearch(r.path);
      // A backup left by a run that was killed before it could restore describes the tree as it
      // was before that run: keep it, a new one would record that run's grants as "original".
      const backupFile = join(dir, 'backup.acl');
      if (!existsSync(backupFile)) {
        let backup = getfacl(['-R'], [r.path]);
        if (ancestors.length > 0) backup += getfacl([], ancestors);
        writeFileSync(backupFile, backup, { mode: 0o600 });
      }
      const perm = r.mode === 'rw' ? 'rwX' : 'rX';
      setfacl(['-R', '-m', `u:${this.uid}:${perm},d:u:${this.uid}:${perm}`, '--', r.path]);
      for (const a of ancestors) setfacl(['-m', `u:${this.uid}:x`, '--', a]);
    }
    writeFileSync(join(dir, String(process.pid)), '', { mode: 0o600 });
    this.held.push({ path: r.path, key: dir, mode: r.mode });
  }

  /** Gives files the run created back to the directory's owner, then restores the ACLs. */
  release(): void {
    for (const h of this.held.splice(0).reverse()) {
      rmSync(join(h.key, String(process.pid)), { force: true });
      if (h.mode === 'rw') chownBack(h.path, this.uid);
      if (liveHolders(h.key).length > 0) continue;
      try {
        // Strip every extended ACL (files made during the run inherited some), then put back
        // exactly what was there before.
        // Files the run removed are gone from the tree: their entries are dropped, not errors.
        const backup = join(h.key, 'backup.acl');
        writeFileSync(`${backup}.now`, stillPresent(readFileSync(backup, 'utf8')), { mode: 0o600 });
        execFileSync('/bin/sh', ['-c', 'setfacl -R -b -- "$1" && setfacl --restore="$2"', 'armorer-acl',
          h.path, `${backup}.now`], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: SYSTEM_PATH } });
      } catch (e) {
        process.stderr.write(`armorer: warning: could not restore the ACLs of ${h.path}: ${stderrOf(e)}\n`);
      }
      rmSync(h.key, { recursive: true, force: true });
    }
  }
}

function tool(name: 'getfacl' | 'setfacl'): string {
  const path = findTool(name);
  if (!path) throw new ArmorerError('ARMORER_E_ACL', `${name} is not installed`, 'apt-get install acl');
  return path;
}

function getfacl(flags: string[], paths: string[]): string {
  return execFileSync(tool('getfacl'), ['-p', '-n', ...flags, '--', ...paths], { maxBuffer: 1 << 30 }).toString();
}

function setfacl(args: string[]): void {
  execFileSync(tool('setfacl'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function liveHolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => /^\d+$/.test(name)).filter((pid) => {
    if (processAlive(Number(pid))) return true;
    rmSync(join(dir, pid), { force: true });
    return false;
  });
}

function ancestorsNeedingSearch(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/'; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) out.unshift(d);
  }
  return out;
}

/**
 * Files the sandbox user created belong to whoever owns the granted directory. One `find` in C,
 * not a walk in JavaScript: a workspace with node_modules has tens of thousands of files.
 */
function chownBack(root: string, sandboxUid: number): void {
  const owner = statSync(root);
  const find = findTool('find');
  if (!find) return;
  try {
    execFileSync(find, [root, '-xdev', '-uid', String(sandboxUid), '-exec', 'chown', '-h', `${owner.uid}:${owner.gid}`, '{}', '+'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: SYSTEM_PATH } });
  } catch (e) {
    process.stderr.write(`armorer: warning: could not give files in ${root} back to uid ${owner.uid}: ${stderrOf(e)}\n`);
  }
}

/** getfacl output without the blocks of files that no longer exist (names are octal-escaped). */
function stillPresent(backup: string): string {
  return backup.split(/\n\n+/).filter((block) => {
    const m = /^# file: (.*)$/m.exec(block);
    if (!m) return false;
    const bytes = Buffer.from(m[1]!.replace(/\\([0-7]{3})/g, (_s, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1');
    const name = bytes.toString('utf8');
    return existsSync(name.startsWith('/') ? name : `/${name}`);
  }).join('\n\n') + '\n\n';
}
