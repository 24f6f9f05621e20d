import { ArmorerError } from '../core/errors.js';
import { formatSize } from '../core/units.js';
import type { CgroupLimits, CgroupSupport } from './cgroups.js';
import type { LimitName, SandboxSpec } from './spec.js';

/** How each limit of a spec is enforced here: a cgroup, rlimits, or (for defaults only) a notice. */
export interface LimitPlan {
  cgroup: CgroupLimits | null;
  /** `prlimit` options, e.g. `--fsize=1048576:1048576`. */
  rlimits: string[];
  /** One line each for limits enforced more weakly than asked, or not at all (defaults only). */
  notices: string[];
}

const CGROUP_LIMITS = ['memoryBytes', 'pids', 'cpus'] as const;

export function planLimits(spec: SandboxSpec, support: CgroupSupport): LimitPlan {
  const l = spec.limits;
  const rlimits = ['--core=0:0'];
  if (l.fileSizeBytes !== undefined) rlimits.push(`--fsize=${l.fileSizeBytes}:${l.fileSizeBytes}`);
  if (l.openFiles !== undefined) rlimits.push(`--nofile=${l.openFiles}:${l.openFiles}`);

  const wanted = CGROUP_LIMITS.filter((n) => l[n] !== undefined);
  const canCgroup = support.version !== null && wanted.every((n) => support.parents[controllerOf(n)]);
  if (wanted.length === 0) return { cgroup: null, rlimits, notices: [] };
  if (canCgroup) {
    const cgroup: CgroupLimits = {};
    for (const n of wanted) cgroup[n] = l[n];
    return { cgroup, rlimits, notices: [] };
  }

  // No usable cgroup: rlimits where they mean something close, never a silent drop.
  const notices: string[] = [];
  for (const n of wanted) {
    const explicit = spec.limitOrigins[n] !== 'default';
    if (n === 'cpus') {
      if (explicit) throw unenforceable(n, 'a CPU quota needs a cgroup; no rlimit can express it');
      notices.push(`cpu quota (${l.cpus} cores, a default) is NOT enforced: no writable cgroup here`);
    } else if (n === 'memoryBytes') {
      rlimits.push(`--data=${l.memoryBytes}:${l.memoryBytes}`);
      notices.push(`memory limit ${formatSize(l.memoryBytes!)} enforced per process (RLIMIT_DATA), not for the whole sandbox: no writable cgroup here`);
    } else {
      rlimits.push(`--nproc=${l.pids}:${l.pids}`);
      notices.push(`process limit ${l.pids} enforced per user (RLIMIT_NPROC), not per sandbox: no writable cgroup here`);
    }
  }
  return { cgroup: null, rlimits, notices };
}

function controllerOf(n: (typeof CGROUP_LIMITS)[number]): 'memory' | 'pids' | 'cpu' {
  return n === 'memoryBytes' ? 'memory' : n === 'pids' ? 'pids' : 'cpu';
}

function unenforceable(n: LimitName, why: string): ArmorerError {
  return new ArmorerError('ARMORER_E_LIMIT_UNENFORCEABLE', `the requested ${n} limit cannot be enforced: ${why}`,
    'run as root or with a delegated cgroup v2 subtree, or remove the limit from the flags/policy');
}
