import { join } from 'node:path';
import { ArmorerError } from '../core/errors.js';

/** Agent names become directory names and parts of secret names: keep them plain. */
const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;

export function checkAgentName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new ArmorerError('ARMORER_E_AGENT', `"${name}" is not a valid agent name`,
      'use 1-32 lowercase letters, digits or -, starting with a letter (e.g. openclaw, notes-bot)');
  }
  return name;
}

/** Where one installed agent lives: `$ARMORER_HOME/agents/<name>/`. */
export interface AgentPaths {
  dir: string;
  /** What the installer wrote (read-only to the agent at run time). */
  prefix: string;
  /** The agent's private HOME, kept between runs (its config and state). */
  home: string;
  /** The agent's workspace (the only place its file tools may write besides its home). */
  workspace: string;
  record: string;
  policy: string;
  integrity: string;
  /** Present while `armorer run` supervises the agent. */
  runFile: string;
}

export function agentPaths(armorerHome: string, name: string): AgentPaths {
  const dir = join(armorerHome, 'agents', checkAgentName(name));
  return {
    dir,
    prefix: join(dir, 'prefix'),
    home: join(dir, 'home'),
    workspace: join(dir, 'workspace'),
    record: join(dir, 'agent.json'),
    policy: join(dir, 'policy.yaml'),
    integrity: join(dir, 'integrity.json'),
    runFile: join(dir, 'run.json'),
  };
}

/** Downloads shared by installs (npm's cache): visible read-write to install sandboxes only. */
export function downloadCache(armorerHome: string): string {
  return process.env['ARMORER_CACHE_DIR'] ?? join(armorerHome, 'cache', 'npm');
}
