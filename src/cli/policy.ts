import type { Command } from 'commander';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('check and explain policy files and agents\' policies');
  policy.command('check')
    .description('validate a policy file; errors give file:line:column, a code and a fix')
    .argument('<file>')
    .option('--workspace <dir>', 'what ${workspace} means (default: current directory)')
    .action(async (file: string, opts: { workspace?: string }) => {
      const p = await load(file, opts.workspace);
      process.stdout.write(`${file}: valid (version ${p.version}, ${p.grants.length} grant${p.grants.length === 1 ? '' : 's'})\n`);
    });
  policy.command('explain')
    .description('print, per grant, what it allows inside the sandbox and why (a file, or an installed agent)')
    .argument('<file-or-agent>')
    .option('--workspace <dir>', 'what ${workspace} means (default: current directory)')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { workspace?: string; json?: boolean }) => {
      const p = await loadFileOrAgent(file, opts.workspace);
      const { explainPolicy, formatExplanation } = await import('../policy/explain.js');
      process.stdout.write(opts.json ? `${JSON.stringify(explainPolicy(p), null, 2)}\n` : `${formatExplanation(p)}\n`);
    });
  policy.command('show')
    .description('print an installed agent\'s policy')
    .argument('<agent>')
    .action(async (name: string) => {
      const { agentPolicyText } = await import('../agents/policy-edit.js');
      const { armorerHome } = await import('../core/paths.js');
      process.stdout.write(agentPolicyText(armorerHome(), name));
    });
  policy.command('edit')
    .description('edit an installed agent\'s policy in $EDITOR; the result is validated before it replaces the old one, and audited')
    .argument('<agent>')
    .action(async (name: string) => {
      const { editAgentPolicy } = await import('../agents/policy-edit.js');
      const { armorerHome } = await import('../core/paths.js');
      const { withAudit } = await import('./audit-session.js');
      const home = armorerHome();
      const change = await withAudit(home, async (audit) => editAgentPolicy(home, name, process.env['EDITOR'] ?? 'vi',
        (data) => audit(name, 'agent.policy.edit', data)));
      process.stderr.write(change ? `armorer: ${change}\n` : 'armorer: no change\n');
    });
}

/** An existing file wins; otherwise the name of an installed agent. */
async function loadFileOrAgent(arg: string, workspace: string | undefined) {
  const { existsSync } = await import('node:fs');
  if (existsSync(arg) || arg.includes('/') || arg.endsWith('.yaml') || arg.endsWith('.yml')) return load(arg, workspace);
  const { agentPaths } = await import('../agents/paths.js');
  const { readRecord } = await import('../agents/record.js');
  const { armorerHome } = await import('../core/paths.js');
  readRecord(armorerHome(), arg);
  const paths = agentPaths(armorerHome(), arg);
  return load(paths.policy, workspace ?? paths.workspace);
}

async function load(file: string, workspace: string | undefined) {
  const { homedir } = await import('node:os');
  const { realpathSync } = await import('node:fs');
  const { loadPolicyFile } = await import('../policy/load.js');
  return loadPolicyFile(file, { home: homedir(), workspace: realpathSync(workspace ?? process.cwd()) });
}
