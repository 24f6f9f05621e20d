import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { ArmorerError } from '../core/errors.js';
import type { Grant, Policy } from '../policy/types.js';
import type { Limits, SandboxSpec } from './spec.js';
import type { RunResult } from './bwrap/run.js';

export interface ExecRequest {
  command: string[];
  policyFile?: string;
  allow: string[];
  workspace?: string;
  limits: Limits;
  envNames: string[];
  armorerHome: string;
  notice: (line: string) => void;
  /** `--publish 127.0.0.1:HOST:SANDBOX` mappings (raw text). */
  publish?: string[];
  /** `--dangerously-allow-loopback-upstream` (tests and benchmarks only). */
  allowLoopbackUpstream?: boolean;
  /** Called with the compiled spec before the sandbox starts (for --verbose). */
  onSpec?: (spec: SandboxSpec) => void;
}

export interface ExecOutcome { spec: SandboxSpec; result: RunResult }

/** `armorer exec`: policy + flags -> SandboxSpec -> a supervised bubblewrap run. */
export async function execSandboxed(req: ExecRequest): Promise<ExecOutcome> {
  if (req.command.length === 0) {
    throw new ArmorerError('ARMORER_E_USAGE', 'no command given', 'put the command after --: armorer exec -- ls -la');
  }
  const workspace = canonicalWorkspace(req.workspace ?? process.cwd());
  const ctx = { home: homedir(), workspace };
  const policy = await loadPolicy(req.policyFile, ctx);
  const { parseScope } = await import('../policy/scope.js');
  const extraGrants: Grant[] = req.allow.map((text) => ({
    scope: parseScope(text, ctx), text, because: 'given with --allow on the command line', source: 'flag',
  }));
  const { compilePolicy } = await import('../policy/compile.js');
  const publish = await parsePublishAll(req.publish ?? []);
  const spec = compilePolicy(policy, {
    command: req.command, workspace, extraGrants, limitFlags: req.limits, envNames: req.envNames,
    armorerHome: req.armorerHome, egress: publish.length > 0,
  });
  req.onSpec?.(spec);
  const { launchSpec } = await import('./launch.js');
  const result = await launchSpec({
    spec, grants: [...policy.grants, ...extraGrants], armorerHome: req.armorerHome, agent: 'exec', notice: req.notice,
    stdout: process.stdout, stderr: process.stderr,
    egress: { publish, allowLoopbackUpstream: req.allowLoopbackUpstream === true },
  });
  return { spec, result };
}

async function parsePublishAll(texts: string[]) {
  if (texts.length === 0) return [];
  const { parsePublish } = await import('../egress/publish.js');
  return texts.map(parsePublish);
}

async function loadPolicy(file: string | undefined, ctx: { home: string; workspace: string }): Promise<Policy> {
  if (file) {
    const { loadPolicyFile } = await import('../policy/load.js');
    return loadPolicyFile(file, ctx);
  }
  const { defaultPolicy } = await import('../policy/types.js');
  return defaultPolicy();
}

function canonicalWorkspace(dir: string): string {
  try {
    const real = realpathSync(dir);
    if (!statSync(real).isDirectory()) throw new Error('not a directory');
    return real;
  } catch (e) {
    throw new ArmorerError('ARMORER_E_WORKSPACE', `the workspace ${dir} cannot be used: ${(e as Error).message}`,
      'pass --workspace with an existing directory');
  }
}
