import { rmSync } from 'node:fs';
import { ArmorerError } from '../core/errors.js';
import { runState } from './launch.js';
import { agentPaths } from './paths.js';
import { readRecord } from './record.js';
import type { HealthReport } from './recipes/index.js';

export interface AgentStatus {
  name: string; recipe: string; package: string | null; node: string | null; installedAt: string; intent: string;
  grants: number; running: boolean; pid: number | null; url: string | null; health: HealthReport | null;
}

export async function agentStatus(armorerHome: string, name: string): Promise<AgentStatus> {
  const rec = readRecord(armorerHome, name);
  const state = runState(armorerHome, name);
  const { recipeFor } = await import('./recipes/index.js');
  const { agentContext } = await import('./launch.js');
  const recipe = recipeFor(rec.recipe, rec.package?.name);
  let health: HealthReport | null = null;
  if (state && rec.ports && recipe.health) {
    try {
      health = await recipe.health(agentContext(armorerHome, rec, [], () => {}), rec.ports.host, null);
    } catch (e) {
      health = { ok: false, checks: [{ name: 'probe', ok: false, detail: (e as Error).message }] };
    }
  }
  const { loadPolicyFile } = await import('../policy/load.js');
  const { homedir } = await import('node:os');
  const policy = loadPolicyFile(agentPaths(armorerHome, name).policy, { home: homedir(), workspace: agentPaths(armorerHome, name).workspace });
  return {
    name, recipe: rec.recipe, package: rec.package ? `${rec.package.name}@${rec.package.version}` : null,
    node: rec.node ? `${rec.node.version} (${rec.node.source})` : null, installedAt: rec.installedAt, intent: rec.intent,
    grants: policy.grants.length, running: state !== null, pid: state?.pid ?? null,
    url: rec.ports ? `http://127.0.0.1:${rec.ports.host}/` : null, health,
  };
}

export async function uninstallAgent(armorerHome: string, name: string): Promise<void> {
  readRecord(armorerHome, name);
  const state = runState(armorerHome, name);
  if (state) {
    throw new ArmorerError('ARMORER_E_AGENT_RUNNING', `agent "${name}" is running (supervisor pid ${state.pid})`, `armorer stop ${name} first`);
  }
  rmSync(agentPaths(armorerHome, name).dir, { recursive: true, force: true });
}

/** Asks the supervisor to stop (it tears the whole sandbox down), then waits up to 15 s for it. */
export async function stopAgent(armorerHome: string, name: string, notice: (l: string) => void): Promise<void> {
  readRecord(armorerHome, name);
  const state = runState(armorerHome, name);
  if (!state) throw new ArmorerError('ARMORER_E_AGENT_RUNNING', `agent "${name}" is not running`, `armorer status ${name}`);
  process.kill(state.pid, 'SIGTERM');
  for (let i = 0; i < 150; i++) {
    if (runState(armorerHome, name) === null) { notice(`stopped ${name}`); return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ArmorerError('ARMORER_E_AGENT_RUNNING', `agent "${name}" did not stop within 15 s (supervisor pid ${state.pid})`,
    `kill it: kill -9 ${state.pid} (its sandbox dies with it)`);
}
