import type { Command } from 'commander';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('check and explain policy files');
  policy.command('check')
    .description('validate a policy file; errors give file:line:column, a code and a fix')
    .argument('<file>')
    .option('--workspace <dir>', 'what ${workspace} means (default: current directory)')
    .action(async (file: string, opts: { workspace?: string }) => {
      const p = await load(file, opts.workspace);
      process.stdout.write(`${file}: valid (version ${p.version}, ${p.grants.length} grant${p.grants.length === 1 ? '' : 's'})\n`);
    });
  policy.command('explain')
    .description('print, per grant, what it allows inside the sandbox and why')
    .argument('<file>')
    .option('--workspace <dir>', 'what ${workspace} means (default: current directory)')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { workspace?: string; json?: boolean }) => {
      const p = await load(file, opts.workspace);
      const { explainPolicy, formatExplanation } = await import('../policy/explain.js');
      process.stdout.write(opts.json ? `${JSON.stringify(explainPolicy(p), null, 2)}\n` : `${formatExplanation(p)}\n`);
    });
}

async function load(file: string, workspace: string | undefined) {
  const { homedir } = await import('node:os');
  const { realpathSync } = await import('node:fs');
  const { loadPolicyFile } = await import('../policy/load.js');
  return loadPolicyFile(file, { home: homedir(), workspace: realpathSync(workspace ?? process.cwd()) });
}
