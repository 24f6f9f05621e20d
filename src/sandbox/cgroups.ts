import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ArmorerError } from '../core/errors.js';
import { processAlive } from '../core/process.js';

/** The cgroup controllers Armorer uses for limits. */
export type Controller = 'memory' | 'pids' | 'cpu';
const CONTROLLERS: Controller[] = ['memory', 'pids', 'cpu'];

export interface CgroupSupport {
  version: 1 | 2 | null;
  /** Per controller: the directory under which this process may make a child cgroup. */
  parents: Partial<Record<Controller, string>>;
  /** Why a controller is missing, for `doctor`. */
  missing: Partial<Record<Controller, string>>;
}

interface MountRow { mountPoint: string; fsType: string; superOptions: string[] }

function mountRows(): MountRow[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const [left, right = ''] = line.split(' - ');
    const fields = left!.split(' ');
    const [fsType = '', , superOpts = ''] = right.split(' ');
    return { mountPoint: fields[4] ?? '', fsType, superOptions: superOpts.split(',') };
  });
}

/** Lines of /proc/self/cgroup: `hierarchy:controllers:path`. */
function ownCgroups(): { controllers: string[]; path: string }[] {
  return readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean).map((line) => {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    return { controllers: line.slice(first + 1, second).split(',').filter(Boolean), path: line.slice(second + 1) };
  });
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks at what this process can really use: mounts, its own cgroup, write access. */
export function probeCgroups(): CgroupSupport {
  const rows = mountRows();
  const own = ownCgroups();
  const v2 = rows.find((r) => r.fsType === 'cgroup2');
  const v2Own = own.find((c) => c.controllers.length === 0);
  if (v2 && v2Own) {
    const dir = join(v2.mountPoint, v2Own.path);
    const enabled = readOr(join(dir, 'cgroup.subtree_control'), '').split(/\s+/);
    const parents: CgroupSupport['parents'] = {};
    for (const c of CONTROLLERS) if (enabled.includes(c) && writable(dir)) parents[c] = dir;
    if (Object.keys(parents).length === CONTROLLERS.length) return { version: 2, parents, missing: {} };
  }
  const parents: CgroupSupport['parents'] = {};
  const missing: CgroupSupport['missing'] = {};
  for (const c of CONTROLLERS) {
    const mount = rows.find((r) => r.fsType === 'cgroup' && r.superOptions.includes(c));
    const mine = own.find((o) => o.controllers.includes(c));
    if (!mount || !mine) {
      missing[c] = `no cgroup v1 hierarchy with the ${c} controller, and no delegated cgroup v2 subtree`;
      continue;
    }
    const dir = join(mount.mountPoint, mine.path);
    if (writable(dir)) parents[c] = dir;
    else missing[c] = `${dir} is not writable by uid ${process.getuid?.()} (run as root, or delegate a cgroup)`;
  }
  const anyV1 = Object.keys(parents).length > 0;
  return { version: anyV1 ? 1 : null, parents, missing };
}

export interface CgroupLimits { memoryBytes?: number; pids?: number; cpus?: number }

/** One run's cgroup (one directory per controller on v1, one directory on v2). */
export class RunCgroup {
  private constructor(readonly version: 1 | 2, readonly dirs: string[]) {}

  /** `cgroup.procs` files a process writes its own pid into to join. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  static create(support: CgroupSupport, runId: string, limits: CgroupLimits): RunCgroup {
    const wanted = CONTROLLERS.filter((c) => limitFor(c, limits) !== undefined);
    if (support.version === null || wanted.some((c) => !support.parents[c])) {
      const c = wanted.find((w) => !support.parents[w]) ?? 'memory';
      throw new ArmorerError('ARMORER_E_CGROUP', `cannot make a cgroup for the ${c} limit: ${support.missing[c] ?? 'no cgroup support'}`,
        'run as root, use a machine with cgroup v2 delegation, or drop the limit from the flags/policy');
    }
    const dirs = new Map<string, Controller[]>();
    for (const c of wanted) {
      const dir = join(support.parents[c]!, 'armorer', runId);
      dirs.set(dir, [...(dirs.get(dir) ?? []), c]);
    }
    for (const parent of new Set(Object.values(support.parents))) sweepDeadRuns(join(parent, 'armorer'));
    const made: string[] = [];
    const cg = new RunCgroup(support.version, made);
    try {
      for (const [dir, controllers] of dirs) {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        made.push(dir);
        for (const c of controllers) cg.apply(dir, c, limits);
      }
    } catch (e) {
      cg.destroy();
      if (e instanceof ArmorerError) throw e;
      throw new ArmorerError('ARMORER_E_CGROUP', `cannot set cgroup limits: ${(e as Error).message}`,
        'check that the cgroup controllers are enabled (armorer doctor)');
    }
    return cg;
  }

  private apply(dir: string, c: Controller, limits: CgroupLimits): void {
    const v2 = this.version === 2;
    if (c === 'memory' && limits.memoryBytes !== undefined) {
      const bytes = String(limits.memoryBytes);
      writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), bytes);
      // Swap is memory too: without this, a memory bomb pages out instead of being stopped.
      const swap = join(dir, v2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes');
      if (existsSync(swap)) writeFileSync(swap, v2 ? '0' : bytes);
    } else if (c === 'pids' && limits.pids !== undefined) {
      writeFileSync(join(dir, 'pids.max'), String(limits.pids));
    } else if (c === 'cpu' && limits.cpus !== undefined) {
      const period = 100_000;
      const quota = Math.max(1000, Math.round(limits.cpus * period));
      if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
      else {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      }
    }
  }

  pids(): number[] {
    const all = new Set<number>();
    for (const f of this.procsFiles) {
      for (const line of readOr(f, '').split('\n')) if (line) all.add(Number(line));
    }
    return [...all];
  }

  /** How many processes the kernel killed for running out of memory in this cgroup. */
  oomKills(): number {
    for (const dir of this.dirs) {
      const text = readOr(join(dir, this.version === 2 ? 'memory.events' : 'memory.oom_control'), '');
      const m = /oom_kill (\d+)/.exec(text);
      if (m) return Number(m[1]);
    }
    return 0;
  }

  /** Kills every process left in the cgroup, then removes it. Bounded; reports leftovers. */
  destroy(): { leftover: number } {
    for (let round = 0; round < 100; round++) {
      const pids = this.pids();
      if (pids.length === 0) break;
      const kill = this.dirs.map((d) => join(d, 'cgroup.kill')).find(existsSync);
      if (kill) writeOr(kill, '1');
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch { /* already gone */ }
      }
      sleepSync(round < 10 ? 2 : 20);
    }
    const leftover = this.pids().length;
    for (const dir of this.dirs) {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch {
          sleepSync(10);
        }
      }
    }
    return { leftover };
  }
}

/** Removes cgroups left by runs whose supervisor was killed (run ids start with its pid). */
function sweepDeadRuns(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    const procs = readOr(join(dir, name, 'cgroup.procs'), '').split('\n').filter(Boolean);
    for (const p of procs) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch { /* gone */ }
    }
    try {
      rmdirSync(join(dir, name));
    } catch { /* still busy: the next sweep gets it */ }
  }
}

function limitFor(c: Controller, l: CgroupLimits): number | undefined {
  return c === 'memory' ? l.memoryBytes : c === 'pids' ? l.pids : l.cpus;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function writeOr(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch { /* best effort; the kill loop follows */ }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
