/**
 * Policy types and defaults, without the schema: what a run needs when no policy file is given
 * (the schema and its validator load only for files).
 */
import type { Limits } from '../sandbox/spec.js';
import type { Scope } from './scope.js';

export interface Grant {
  scope: Scope;
  /** The scope as written. */
  text: string;
  /** Why the grant exists, in words a person wrote (or `listed in <file>`). */
  because: string;
  /** The policy file's path, or `flag`, or `default`. */
  source: string;
  line?: number;
}

/** A policy states the same limits a sandbox enforces (units: bytes, processes, cores, seconds). */
export type PolicyLimits = Limits;

export interface Policy {
  version: 1;
  name?: string;
  source: string;
  grants: Grant[];
  /** Only what the policy states; the compiler fills the rest from DEFAULT_LIMITS. */
  limits: PolicyLimits;
  /** writableGit: the agent may commit; .git stays writable except hooks and config (see threat model). */
  sandbox: { unixSockets: boolean; writableGit: boolean; protect: string[] };
}

/**
 * Limits applied when a policy says nothing. cpus is 2 rather than 1: enough that installs which
 * compile native modules are not starved, still a cap on a runaway loop. The compiler should not
 * ask for more cores than the machine has.
 */
export const DEFAULT_LIMITS: Required<Omit<PolicyLimits, 'timeoutSeconds'>> & { timeoutSeconds: number } = {
  memoryBytes: 2 * 1024 ** 3,
  pids: 512,
  cpus: 2,
  fileSizeBytes: 1024 ** 3,
  openFiles: 4096,
  timeoutSeconds: 0,
};

export function defaultPolicy(): Policy {
  return { version: 1, source: 'default', grants: [], limits: {}, sandbox: { unixSockets: true, writableGit: false, protect: [] } };
}
