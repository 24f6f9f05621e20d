import { Command, CommanderError } from 'commander';
import { isArmorerError } from '../core/errors.js';
import { registerAgents } from './agents.js';
import { registerDoctor } from './doctor.js';
import { registerExec } from './exec.js';
import { registerInit } from './init.js';
import { registerLogs } from './logs.js';
import { registerPolicy } from './policy.js';
import { registerSecrets } from './secrets.js';

/** Exit status for an Armorer error (not the sandboxed command's own status). */
export const EXIT_ARMORER_ERROR = 125;

export async function runCli(argv: string[], version: string): Promise<number> {
  const program = new Command('armorer')
    .description('Run AI agents and commands inside a least-privilege sandbox.')
    .version(version, '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(run "armorer help" for the commands)');
  registerInit(program);
  registerDoctor(program);
  registerExec(program);
  registerPolicy(program);
  registerLogs(program);
  registerSecrets(program);
  registerAgents(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    return e.exitCode === 0 ? 0 : 2;
  }
  if (isArmorerError(e)) {
    process.stderr.write(`${e.format()}\n`);
    return e.code === 'ARMORER_E_USAGE' ? 2 : EXIT_ARMORER_ERROR;
  }
  // Not ours: still no stack trace for the user, but enough to report it.
  process.stderr.write(`armorer: internal error: ${(e as Error)?.message ?? String(e)}\n` +
    '  fix: this is a bug in Armorer; rerun with ARMORER_DEBUG=1 for details and report it\n');
  if (process.env['ARMORER_DEBUG']) process.stderr.write(`${(e as Error)?.stack}\n`);
  return EXIT_ARMORER_ERROR;
}
