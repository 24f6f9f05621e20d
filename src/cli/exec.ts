import type { Command } from 'commander';
import { collect, intFlag, positiveNumberFlag, sizeFlag } from './options.js';

interface ExecFlags {
  policy?: string; allow?: string[]; workspace?: string; timeout?: number; memory?: number; pids?: number;
  cpus?: number; env?: string[]; verbose?: boolean; publish?: string[]; dangerouslyAllowLoopbackUpstream?: boolean;
}

export function registerExec(program: Command): void {
  program.command('exec')
    .description('run a command in the sandbox (workspace = current directory unless --workspace)')
    .usage('[options] -- CMD [ARG...]')
    .option('--policy <file>', 'policy YAML (default: no grants beyond the workspace)')
    .option('--allow <scope>', 'grant a scope, e.g. files.read:~/notes (repeatable)', collect)
    .option('--workspace <dir>', 'directory mounted read-write (default: current directory)')
    .option('--timeout <sec>', 'wall-clock limit in seconds', intFlag('--timeout', 1))
    .option('--memory <size>', 'memory limit, e.g. 512M', sizeFlag('--memory'))
    .option('--pids <n>', 'process limit', intFlag('--pids', 1))
    .option('--cpus <n>', 'CPU quota in cores, e.g. 0.5', positiveNumberFlag('--cpus'))
    .option('--env <name>', 'pass this environment variable in (repeatable)', collect)
    .option('--publish <map>', 'forward a host loopback port into the sandbox: 127.0.0.1:HOSTPORT:SANDBOXPORT (repeatable)', collect)
    .option('--dangerously-allow-loopback-upstream', 'let the egress proxy reach services on this machine\'s loopback (tests, benchmarks)')
    .option('-v, --verbose', 'print what the sandbox sees before running')
    .argument('<command...>')
    .passThroughOptions()
    .action(async (command: string[], flags: ExecFlags) => {
      const { armorerHome } = await import('../core/paths.js');
      const { execSandboxed } = await import('../sandbox/exec.js');
      const { describeSpec, describeEnd } = await import('./describe.js');
      const notice = (line: string) => process.stderr.write(`armorer: ${line}\n`);
      const limits = {
        ...(flags.timeout !== undefined && { timeoutSeconds: flags.timeout }),
        ...(flags.memory !== undefined && { memoryBytes: flags.memory }),
        ...(flags.pids !== undefined && { pids: flags.pids }),
        ...(flags.cpus !== undefined && { cpus: flags.cpus }),
      };
      const { spec, result } = await execSandboxed({
        command, limits, allow: flags.allow ?? [], envNames: flags.env ?? [], armorerHome: armorerHome(), notice,
        ...(flags.policy !== undefined && { policyFile: flags.policy }),
        ...(flags.workspace !== undefined && { workspace: flags.workspace }),
        publish: flags.publish ?? [], allowLoopbackUpstream: flags.dangerouslyAllowLoopbackUpstream === true,
        ...(flags.verbose && { onSpec: (s: Parameters<typeof describeSpec>[0]) => notice(describeSpec(s)) }),
      });
      for (const line of describeEnd(spec, result)) notice(line);
      process.exitCode = result.exitCode;
    });
}
