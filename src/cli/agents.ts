import type { Command } from 'commander';
import { collect } from './options.js';

interface InstallFlags {
  intent?: string; yes?: boolean; dryRun?: boolean; json?: boolean; scope?: string[]; version?: string;
  command?: string; name?: string; model?: string; assist?: boolean;
}

const notice = (line: string) => process.stderr.write(`armorer: ${line}\n`);

export function registerAgents(program: Command): void {
  program.command('install')
    .description('install an agent in a sandbox, with a policy derived from what it is for')
    .argument('<agent>', 'openclaw, npm:<package>[@version], or a name for --command')
    .requiredOption('--intent <text>', 'what the agent is for, in your words')
    .option('--yes', 'do not ask for confirmation (scripts)')
    .option('--dry-run', 'print the derived policy and stop')
    .option('--json', 'print the plan as JSON (with --dry-run, or before installing)')
    .option('--scope <scope>', 'grant one more scope, e.g. files.read:~/notes (repeatable)', collect)
    .option('--version <version>', 'install this exact version instead of the pinned one')
    .option('--command <cmdline>', 'install an existing program (no download): the command line to run')
    .option('--name <name>', 'the agent\'s name (default: from the recipe)')
    .option('--model <provider>', 'the model provider when the intent names none (e.g. openai, anthropic)')
    .option('--assist', 'let the LLM configured in config.yaml (intent.assist) map words the catalog did not understand to catalog entries')
    .action(async (agent: string, f: InstallFlags) => {
      const { armorerHome } = await import('../core/paths.js');
      const { planInstall, performInstall } = await import('../agents/install.js');
      const { formatPlan, planJson, confirm, stepPrinter } = await import('./agents-format.js');
      const home = armorerHome();
      const req = {
        armorerHome: home, agent, intent: f.intent!, scopes: f.scope ?? [],
        ...(f.version !== undefined && { version: f.version }), ...(f.command !== undefined && { command: f.command }),
        ...(f.name !== undefined && { name: f.name }), ...(f.model !== undefined && { model: f.model }),
        ...(f.assist === true && { assist: true }),
      };
      const plan = await planInstall(req);
      if (f.json) process.stdout.write(`${JSON.stringify(await planJson(plan), null, 2)}\n`);
      else process.stdout.write(formatPlan(plan, req.intent));
      if (f.dryRun) return;
      if (!f.yes && !(await confirm(`Install ${plan.name} with this policy?`))) {
        notice('nothing installed');
        process.exitCode = 1;
        return;
      }
      const { withAudit } = await import('./audit-session.js');
      const rec = await withAudit(home, async (audit) => performInstall(req, plan, {
        notice, step: stepPrinter(process.stderr), stdout: process.stderr, stderr: process.stderr,
        audit: (kind, data) => audit(plan.name, kind, data),
      }));
      process.stderr.write(`\nInstalled ${rec.name}. Start it with: armorer run ${rec.name}\n`);
    });

  program.command('list')
    .description('list installed agents')
    .option('--json', 'print as JSON')
    .action(async (f: { json?: boolean }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { listAgents } = await import('../agents/record.js');
      const { runState } = await import('../agents/launch.js');
      const home = armorerHome();
      const rows = listAgents(home).map((r) => ({ name: r.name, recipe: r.recipe, package: r.package ? `${r.package.name}@${r.package.version}` : (r.command ?? []).join(' '), running: runState(home, r.name) !== null }));
      if (f.json) { process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`); return; }
      if (rows.length === 0) { process.stdout.write('no agents installed (armorer install openclaw --intent "...")\n'); return; }
      for (const r of rows) process.stdout.write(`${r.name.padEnd(16)} ${r.recipe.padEnd(9)} ${r.running ? 'running' : 'stopped'}  ${r.package}\n`);
    });

  program.command('status')
    .description('show an agent\'s install, policy and health (all agents without a name)')
    .argument('[agent]')
    .option('--json', 'print as JSON')
    .action(async (name: string | undefined, f: { json?: boolean }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { agentStatus } = await import('../agents/status.js');
      const { listAgents } = await import('../agents/record.js');
      const home = armorerHome();
      const names = name ? [name] : listAgents(home).map((r) => r.name);
      const all = [];
      for (const n of names) all.push(await agentStatus(home, n));
      if (f.json) { process.stdout.write(`${JSON.stringify(name ? all[0] : all, null, 2)}\n`); return; }
      const { formatStatus } = await import('./agents-format.js');
      for (const s of all) process.stdout.write(formatStatus(s));
      if (all.some((s) => s.running && s.health && !s.health.ok)) process.exitCode = 1;
    });

  program.command('uninstall')
    .description('remove an agent (its prefix, home and workspace); the audit log keeps its history')
    .argument('<agent>')
    .action(async (name: string) => {
      const { armorerHome } = await import('../core/paths.js');
      const { uninstallAgent } = await import('../agents/status.js');
      const { withAudit } = await import('./audit-session.js');
      const home = armorerHome();
      await withAudit(home, async (audit) => {
        await uninstallAgent(home, name);
        await audit(name, 'agent.uninstall', {});
      });
      process.stderr.write(`removed ${name}; its history stays in the audit log (armorer logs --agent ${name})\n`);
    });

  program.command('run')
    .description('run an installed agent in its sandbox (OpenClaw: its gateway, published on 127.0.0.1)')
    .argument('<agent>')
    .argument('[args...]', 'arguments for the agent, after --')
    .option('--dangerously-redirect <host=ip:port>', 'send a granted host\'s traffic to a loopback server instead (fake model servers for demos and tests)', collect)
    .option('--dangerously-trust-ca <file>', 'trust this CA for upstream TLS too (with --dangerously-redirect)')
    .action(async (name: string, args: string[], f: { dangerouslyRedirect?: string[]; dangerouslyTrustCa?: string }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { runAgentCli } = await import('./agents-run.js');
      // With passThroughOptions commander keeps the `--` that ends Armorer's options: it is not the agent's.
      const agentArgs = args[0] === '--' ? args.slice(1) : args;
      process.exitCode = await runAgentCli(armorerHome(), name, agentArgs, f.dangerouslyRedirect ?? [], f.dangerouslyTrustCa);
    });

  program.command('stop')
    .description('stop a running agent (its whole sandbox)')
    .argument('<agent>')
    .action(async (name: string) => {
      const { armorerHome } = await import('../core/paths.js');
      const { stopAgent } = await import('../agents/status.js');
      await stopAgent(armorerHome(), name, notice);
    });
}
