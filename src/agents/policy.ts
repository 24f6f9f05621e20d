import { loadYaml } from '../core/yaml.js';
import type { AgentRecord } from './record.js';

/** One line of an agent's policy as `install` shows it: the scope and the words that caused it. */
export interface PlannedGrant {
  scope: string;
  /** The exact phrase of the intent, or `--scope`, or the recipe's base. */
  because: string;
  /** Where it came from: an intent phrase, a --scope flag, or the recipe's minimal base. */
  origin: 'intent' | 'flag' | 'recipe';
  /** The catalog's one-line reason (intent grants), or why the recipe needs it. */
  reason: string;
}

/** The policy YAML written to `agents/<name>/policy.yaml`: readable, and loadable by the policy loader. */
export async function agentPolicyYaml(rec: Pick<AgentRecord, 'name' | 'intent'>, grants: PlannedGrant[],
  limits: { memory?: string; pids?: number; cpus?: number }): Promise<string> {
  const { stringify } = await loadYaml();
  const doc = {
    version: 1,
    name: rec.name,
    grants: grants.map((g) => ({ scope: g.scope, because: becauseText(g) })),
    limits,
  };
  const header = [
    `# Policy of agent "${rec.name}", derived by armorer install from the intent:`,
    ...wrap(rec.intent).map((l) => `#   ${l}`),
    '# Each grant says which words caused it. Change it with: armorer policy edit ' + rec.name,
    '',
  ].join('\n');
  return header + stringify(doc, { lineWidth: 0 });
}

export function becauseText(g: PlannedGrant): string {
  if (g.origin === 'intent') return `intent "${g.because}": ${g.reason}`;
  if (g.origin === 'flag') return `given with --scope at install`;
  return `recipe base: ${g.reason}`;
}

function wrap(text: string, width = 90): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + w.length + 1 > width) { lines.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : ['(empty)'];
}
