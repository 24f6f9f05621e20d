import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ArmorerError } from '../core/errors.js';
import { agentPaths, checkAgentName } from './paths.js';

export type RecipeId = 'openclaw' | 'npm' | 'command';

/** `agents/<name>/agent.json`: what was installed, from what intent, and how to reach it. */
export interface AgentRecord {
  version: 1;
  name: string;
  recipe: RecipeId;
  /** npm recipes: the package and the exact version installed. */
  package?: { name: string; version: string };
  /** command recipe: the command line to run (argv). */
  command?: string[];
  intent: string;
  /** Model provider id from the catalog, or null when the run must ask. */
  model: string | null;
  installedAt: string;
  /** Node for the agent: the host's, or one installed from the registry into the prefix. */
  node?: { source: 'host' | 'registry'; version: string; path: string };
  /** The agent's UI/gateway: its port inside the sandbox and where it is published on host loopback. */
  ports?: { sandbox: number; host: number };
  /** Name of the secret (in the store) holding the gateway token, if the agent has one. */
  tokenSecret?: string;
  /** Features from the intent that the recipe turned into agent settings (cron, web research...). */
  features: string[];
  /** Catalog ids of the intent's grants (openai, telegram, ...): recipes map some to agent settings. */
  capabilities?: string[];
}

export function readRecord(armorerHome: string, name: string): AgentRecord {
  const p = agentPaths(armorerHome, name);
  if (!existsSync(p.record)) {
    throw new ArmorerError('ARMORER_E_AGENT', `no agent named "${name}" is installed`,
      'armorer list shows the installed agents; install one with armorer install');
  }
  let rec: AgentRecord;
  try {
    rec = JSON.parse(readFileSync(p.record, 'utf8')) as AgentRecord;
  } catch (e) {
    throw new ArmorerError('ARMORER_E_AGENT', `${p.record} is not readable JSON: ${(e as Error).message}`,
      `reinstall the agent (armorer uninstall ${name}; armorer install ...)`);
  }
  if (rec.version !== 1 || rec.name !== name) {
    throw new ArmorerError('ARMORER_E_AGENT', `${p.record} does not describe agent "${name}"`,
      `reinstall the agent (armorer uninstall ${name}; armorer install ...)`);
  }
  return rec;
}

export function writeRecord(armorerHome: string, rec: AgentRecord): void {
  writeFileAtomic(agentPaths(armorerHome, rec.name).record, `${JSON.stringify(rec, null, 2)}\n`);
}

/** Installed agents, sorted by name (directories without a record are half-made installs: skipped). */
export function listAgents(armorerHome: string): AgentRecord[] {
  const root = join(armorerHome, 'agents');
  if (!existsSync(root)) return [];
  return readdirSync(root).sort()
    .filter((n) => { try { checkAgentName(n); return existsSync(agentPaths(armorerHome, n).record); } catch { return false; } })
    .map((n) => readRecord(armorerHome, n));
}
