import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** `$ARMORER_HOME`, else `~/.armorer`. Always absolute. */
export function armorerHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['ARMORER_HOME'];
  // Normalised (no trailing /, no . or ..): containment checks on agent and state paths compare text.
  if (fromEnv && fromEnv.length > 0) return resolve(fromEnv);
  return resolve(homedir(), '.armorer');
}

/** Replaces a leading `~` (alone or followed by `/`) with the given home. */
export function expandHome(p: string, home: string = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return home + p.slice(1);
  return p;
}
