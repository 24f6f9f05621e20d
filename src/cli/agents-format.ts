import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { InstallPlan } from '../agents/install.js';
import { becauseText } from '../agents/policy.js';
import type { AgentStatus } from '../agents/status.js';
import { ArmorerError } from '../core/errors.js';
import { loadYaml } from '../core/yaml.js';

export function formatPlan(plan: InstallPlan, intent: string): string {
  const lines = [
    `Agent:   ${plan.name} (recipe ${plan.recipe}${plan.packageSpec ? `, ${plan.packageSpec}` : plan.command ? `, command ${plan.command.join(' ')}` : ''})`,
    `Intent:  "${intent}"`,
    '',
    'Policy (each grant with the words that caused it):',
  ];
  if (plan.grants.length === 0) lines.push('  (no grants: the agent gets its workspace and nothing else)');
  const width = Math.min(56, Math.max(...plan.grants.map((g) => g.scope.length), 10));
  for (const g of plan.grants) lines.push(`  ${g.scope.padEnd(width)}  ${becauseText(g)}`);
  lines.push('');
  lines.push(`Model provider: ${plan.model ?? 'none named: the agent\'s model requests will need an approval (use --model to choose one)'}`);
  lines.push(`Other hosts:    ${plan.networkMisses === 'ask' ? 'asked one by one (web research was asked for)' : 'denied'}`);
  if (plan.negated.length) lines.push(`Removed:        ${plan.negated.map((n) => `${n.capability} ("${n.phrase}")`).join(', ')}`);
  if (plan.features.length) lines.push(`Agent features: ${plan.features.join(', ')}`);
  if (plan.needs.length) lines.push(`Needs detail:   ${plan.needs.join('; ')}`);
  lines.push(`Not understood: ${plan.notUnderstood.length ? `${plan.notUnderstood.join(', ')} (granted nothing)` : '(nothing)'}`);
  return `${lines.join('\n')}\n\n`;
}

export async function planJson(plan: InstallPlan): Promise<Record<string, unknown>> {
  const { parse } = await loadYaml();
  return {
    agent: plan.name,
    grants: plan.grants.map((g) => ({ scope: g.scope, because: g.because })),
    not_understood: plan.notUnderstood,
    negated: plan.negated,
    model: plan.model,
    network_misses: plan.networkMisses,
    policy: parse(plan.policyYaml) as unknown,
  };
}

/** Asks on the terminal; without one, refuses (scripts pass --yes). */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new ArmorerError('ARMORER_E_USAGE', 'confirmation needed, and there is no terminal to ask on',
      'pass --yes to install without asking, or --dry-run to only see the policy');
  }
  const input = createReadStream('/dev/tty');
  const rl = createInterface({ input, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Steps as lines: `-> title` when it starts, `   done: result (time)` when it ends. */
export function stepPrinter(out: NodeJS.WritableStream) {
  return (title: string) => {
    out.write(`-> ${title}\n`);
    return (result: string) => { out.write(`   ${result}\n`); };
  };
}

export function formatStatus(s: AgentStatus): string {
  const lines = [
    `${s.name}: ${s.running ? `running (supervisor pid ${s.pid})` : 'stopped'}`,
    `  recipe:    ${s.recipe}${s.package ? ` (${s.package})` : ''}`,
    `  node:      ${s.node ?? '-'}`,
    `  installed: ${s.installedAt}`,
    `  intent:    "${s.intent}"`,
    `  policy:    ${s.grants} grant${s.grants === 1 ? '' : 's'} (armorer policy show ${s.name})`,
  ];
  if (s.url) lines.push(`  gateway:   ${s.url}`);
  if (s.health) for (const c of s.health.checks) lines.push(`  health:    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return `${lines.join('\n')}\n`;
}
