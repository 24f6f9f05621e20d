import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { Writable } from 'node:stream';
import { writeFileAtomic } from '../core/atomic.js';
import { ArmorerError } from '../core/errors.js';
import { processAlive } from '../core/process.js';
import type { EgressSessionOptions } from '../egress/session.js';
import { PROXY_PORT } from '../policy/compile.js';
import type { Policy } from '../policy/types.js';
import type { RunResult } from '../sandbox/bwrap/run.js';
import type { SandboxSpec } from '../sandbox/spec.js';
import type { InstallIo } from './install.js';
import { agentPaths } from './paths.js';
import type { PlannedGrant } from './policy.js';
import type { AgentRecord } from './record.js';
import { recipeFor, type LaunchPlan, type RecipeContext } from './recipes/index.js';

export function agentContext(armorerHome: string, record: AgentRecord, grants: PlannedGrant[], notice: (l: string) => void): RecipeContext {
  return { armorerHome, paths: agentPaths(armorerHome, record.name), record, grants, proxyPort: PROXY_PORT, notice };
}

/** What `armorer run` writes while it supervises an agent. */
export interface RunState { pid: number; startedAt: string; hostPort: number | null }

export function runState(armorerHome: string, name: string): RunState | null {
  const file = agentPaths(armorerHome, name).runFile;
  if (!existsSync(file)) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as RunState;
    return processAlive(s.pid) ? s : null;
  } catch {
    return null;
  }
}

/** The agent's sandbox: its policy, its prefix read-only, its home and workspace writable, nothing else of Armorer. */
export async function agentSpec(ctx: RecipeContext, policy: Policy, plan: LaunchPlan, egress: boolean): Promise<SandboxSpec> {
  const { compilePolicy } = await import('../policy/compile.js');
  const spec = compilePolicy(policy, {
    command: plan.command, workspace: ctx.paths.workspace, armorerHome: ctx.armorerHome, egress,
    agent: { dir: ctx.paths.dir, home: ctx.paths.home, mounts: [{ source: ctx.paths.prefix, kind: 'ro', why: 'the installed agent (read-only)' }] },
  });
  spec.env = { ...spec.env, ...plan.env };
  return spec;
}

async function loadAgentPolicy(ctx: RecipeContext, yamlText?: string): Promise<Policy> {
  const { parsePolicy, loadPolicyFile } = await import('../policy/load.js');
  const scopeCtx = { home: homedir(), workspace: ctx.paths.workspace };
  return yamlText !== undefined ? parsePolicy(yamlText, ctx.paths.policy, scopeCtx) : loadPolicyFile(ctx.paths.policy, scopeCtx);
}

/** Runs the recipe's validator in the agent's own sandbox (same policy, no published ports). */
export async function validateInSandbox(ctx: RecipeContext, policyYaml: string, plan: LaunchPlan, io: InstallIo): Promise<void> {
  // The validator needs no network: the agent's policy without its network and secret grants
  // compiles to a sandbox with none (no proxy, no proxy variables).
  const full = await loadAgentPolicy(ctx, policyYaml);
  const policy = { ...full, grants: full.grants.filter((g) => g.scope.kind !== 'net.outbound' && g.scope.kind !== 'secrets.access') };
  const spec = await agentSpec(ctx, policy, plan, false);
  const { launchSpec } = await import('../sandbox/launch.js');
  const out: Buffer[] = [];
  const collect = new Writable({ write(chunk: Buffer, _enc, done) { out.push(chunk); done(); } });
  const result = await launchSpec({
    spec, grants: policy.grants, armorerHome: ctx.armorerHome, agent: ctx.record.name, notice: io.notice,
    stdout: collect, stderr: collect, stdin: 'ignore',
  });
  if (result.exitCode !== 0) {
    throw new ArmorerError('ARMORER_E_INSTALL',
      `the agent's own validator rejected the generated configuration (exit ${result.exitCode}): ${Buffer.concat(out).toString().trim().slice(-800)}`,
      'this is a bug in the recipe: report it with the output above');
  }
}

export interface RunRequest {
  armorerHome: string;
  name: string;
  args: string[];
  notice: (line: string) => void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Egress settings beyond the policy (dangerous flags, test injections). */
  egress?: Partial<Omit<EgressSessionOptions, 'agent' | 'grants' | 'armorerHome' | 'proxyPort' | 'notice' | 'publish'>>;
  /** Called once the agent answers its health probe (or with the failure after the probe's deadline). */
  onHealth?: (report: import('./recipes/index.js').HealthReport) => void;
}

/**
 * `armorer run`: checks the installed files against the install record, then runs the agent in its
 * sandbox with its policy, egress, broker and published port, until it exits or is stopped.
 */
export async function runAgent(req: RunRequest): Promise<RunResult> {
  const { readRecord } = await import('./record.js');
  const rec = readRecord(req.armorerHome, req.name);
  const paths = agentPaths(req.armorerHome, req.name);
  const running = runState(req.armorerHome, req.name);
  if (running) {
    throw new ArmorerError('ARMORER_E_AGENT_RUNNING', `agent "${req.name}" is already running (supervisor pid ${running.pid})`,
      `armorer stop ${req.name}`);
  }
  const { checkManifest } = await import('./integrity.js');
  const t0 = Date.now();
  const integrity = checkManifest(paths.integrity, paths.prefix);
  if (!integrity.ok) {
    throw new ArmorerError('ARMORER_E_INTEGRITY',
      `the installed files of "${req.name}" differ from the install record: ${integrity.differences.join('; ')}`,
      `reinstall: armorer uninstall ${req.name}; armorer install ...`);
  }
  req.notice(`integrity: ${integrity.manifest.files} files match the install record (${Date.now() - t0} ms)`);
  const recipe = recipeFor(rec.recipe, rec.package?.name);
  const ctx = agentContext(req.armorerHome, rec, [], req.notice);
  const policy = await loadAgentPolicy(ctx);
  const plan = recipe.launch(ctx, req.args);
  const spec = await agentSpec(ctx, policy, plan, rec.ports !== undefined);
  const publish = rec.ports
    ? [{ hostAddress: '127.0.0.1' as const, hostPort: rec.ports.host, sandboxPort: rec.ports.sandbox, text: `127.0.0.1:${rec.ports.host}:${rec.ports.sandbox}` }]
    : [];
  writeFileAtomic(paths.runFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), hostPort: rec.ports?.host ?? null }));
  let probing = true;
  try {
    if (recipe.health && rec.ports) {
      void probeUntilHealthy(() => recipe.health!(ctx, rec.ports!.host, null), () => probing).then((r) => r && req.onHealth?.(r));
    }
    const { launchSpec } = await import('../sandbox/launch.js');
    return await launchSpec({
      spec, grants: policy.grants, armorerHome: req.armorerHome, agent: req.name, notice: req.notice,
      stdout: req.stdout as never, stderr: req.stderr as never, stdin: 'ignore',
      egress: { ...req.egress, publish },
    });
  } finally {
    probing = false;
    rmSync(paths.runFile, { force: true });
  }
}

/** Polls the health probe (bounded: 120 tries, 1 s apart) until it passes or the run ends. */
async function probeUntilHealthy(probe: () => Promise<import('./recipes/index.js').HealthReport>, active: () => boolean) {
  let last: import('./recipes/index.js').HealthReport | null = null;
  for (let i = 0; i < 120 && active(); i++) {
    await new Promise((r) => setTimeout(r, 1000).unref());
    try {
      last = await probe();
      if (last.ok) return last;
    } catch { /* not up yet */ }
  }
  return active() ? last : null;
}
