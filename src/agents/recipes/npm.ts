import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmorerError } from '../../core/errors.js';
import type { AgentRecord } from '../record.js';
import type { Recipe } from './types.js';

/** The executable an installed package declares: its own-named bin, else its only one. */
export function packageBin(prefix: string, pkg: string): string {
  const dir = join(prefix, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const base = pkg.split('/').pop()!;
  const bin = typeof manifest.bin === 'string' ? manifest.bin
    : manifest.bin ? manifest.bin[base] ?? (Object.keys(manifest.bin).length === 1 ? Object.values(manifest.bin)[0] : undefined)
      : undefined;
  if (!bin) {
    throw new ArmorerError('ARMORER_E_INSTALL', `${pkg} declares no single executable (package.json "bin")`,
      'install it with --command naming what to run instead');
  }
  return join(dir, bin);
}

export function nodeOf(rec: AgentRecord): string {
  if (!rec.node) throw new ArmorerError('ARMORER_E_INSTALL', `agent "${rec.name}" has no Node runtime recorded`, 'reinstall the agent');
  return rec.node.path;
}

/** `npm:<package>[@version]`: any Node agent, run by its bin with the Node its engines need. */
export function npmRecipe(packageName: string): Recipe {
  return {
    id: 'npm', packageName, pinnedVersion: null, allowScripts: [], sandboxPort: null,
    configure: async () => {},
    launch: (ctx, args) => ({
      command: [nodeOf(ctx.record), packageBin(ctx.paths.prefix, packageName), ...args],
      env: {},
    }),
  };
}
